"""``python -m bench.report``: how fast the report's pages answer on a large archive.

Builds an archive of ``--versions`` versions (default 100,000: articles of 5 versions each over
20 sites, every version with its change and its compressed capture; rows bulk-inserted, not
crawled), serves ``tgwatch serve``'s application over it read-only on a free port, and asks each
kind of page ``--requests`` times over HTTP after one warm-up request. Prints median and 95th
percentile milliseconds per page, and each page's median as a ratio of the same server's answer
for a static file (the baseline, measured in the same run). The target is < 200 ms per page.

Example:
  python -m bench.report
  python -m bench.report --versions 20000 --keep /tmp/report-bench.db
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy import text as sql

from monitor.serve import open_report, running
from monitor.web.app import create_app
from storage.archive import Archive
from storage.content import VN_TZ
from storage.models import ArticleRow, CaptureRow, ChangeRow, VersionRow
from storage.search import fold

SITES = 20
PER_ARTICLE = 5
FIELDS = ["text", "title,text", "author", "text", "published_at,text"]
WORDS = ("Đảng bộ tỉnh tổ chức hội nghị quán triệt nghị quyết Ban Tuyên giáo Tỉnh ủy báo cáo viên "
         "tuyên truyền cơ sở đại biểu phát biểu chỉ đạo nhiệm vụ năm").split()  # fmt: skip
T0 = datetime(2024, 1, 1, 7, 0, tzinfo=VN_TZ)


def paragraph(seed: int, length: int = 40) -> str:
    return " ".join(WORDS[(seed * 7 + k * 3) % len(WORDS)] for k in range(length)) + f" {seed % 997}."


def build(url: str, versions: int) -> None:
    """Bulk-insert ``versions`` versions (with changes and captures) into a fresh archive."""
    articles = versions // PER_ARTICLE
    archive = Archive.open(url)
    sqlite = archive.backend == "sqlite"
    try:
        for start in range(0, articles, 2000):
            rows = range(start + 1, min(articles, start + 2000) + 1)
            a_rows, v_rows, c_rows, ch_rows, fts_rows = [], [], [], [], []
            for a in rows:
                site = f"site{a % SITES:02d}"
                first = T0 + timedelta(minutes=a)
                text = "\n".join(paragraph(a + p) for p in range(6))
                title = f"Hội nghị báo cáo viên số {a} của {site}"
                folded = fold(f"{title}\n{text}")
                a_rows.append({"id": a, "site": site, "url": f"https://{site}.vn/tin/bai-{a}", "title": title,
                               "lead": None, "published_at": first, "author": "Trường Giang", "category": "Tin",
                               "first_seen_at": first, "last_checked_at": first + timedelta(days=PER_ARTICLE),
                               "last_changed_at": first + timedelta(days=PER_ARTICLE - 1), "removed_at": None,
                               "current_version": PER_ARTICLE, "content_hash": f"{a:064x}", "gone_signals": 0,
                               "failed_checks": 0, "search_text": "" if sqlite else folded})  # fmt: skip
                fts_rows.append({"id": a, "text": folded})
                for n in range(1, PER_ARTICLE + 1):
                    vid = (a - 1) * PER_ARTICLE + n
                    at = first + timedelta(days=n - 1)
                    body = f"<html><body><h1>{title}</h1><p>{text} {n}</p></body></html>".encode()
                    v_rows.append({"id": vid, "article_id": a, "version": n, "fetched_at": at, "title": title,
                                   "lead": None, "published_at": first, "author": "Trường Giang",
                                   "category": "Tin", "text": f"{text}\nPhiên bản {n * 100}.",
                                   "content_hash": f"{vid:064x}"})  # fmt: skip
                    c_rows.append({"version_id": vid, "url": f"https://{site}.vn/tin/bai-{a}", "status": 200,
                                   "headers": {"content-type": "text/html; charset=utf-8"}, "compression": "zlib",
                                   "size": len(body), "body": zlib.compress(body, 6)})  # fmt: skip
                    ch_rows.append({"article_id": a, "kind": "new" if n == 1 else "edited", "detected_at": at,
                                    "from_version": None if n == 1 else n - 1, "to_version": n,
                                    "fields": None if n == 1 else FIELDS[n % len(FIELDS)]})  # fmt: skip
            with archive.writing() as session:
                for model, batch in ((ArticleRow, a_rows), (VersionRow, v_rows), (CaptureRow, c_rows),
                                     (ChangeRow, ch_rows)):  # fmt: skip
                    session.execute(insert(model), batch)
                if sqlite:  # the contentless full-text index is filled by recording, not by a trigger
                    session.execute(sql("INSERT INTO articles_fts(rowid, search_text) VALUES (:id, :text)"), fts_rows)
    finally:
        archive.close()


def pages(versions: int) -> dict[str, str]:
    middle = versions // PER_ARTICLE // 2
    last_page = versions // 50
    return {
        "static file (baseline)": "/static/style.css",
        "changes, newest": "/changes",
        "changes, site + kind": "/changes?site=site07&kind=edited",
        "changes, field + dates": "/changes?field=title&since=2024-03-01&until=2024-04-01",
        "changes, page 100": "/changes?page=100",
        f"changes, middle page ({last_page // 2})": f"/changes?page={last_page // 2}",
        f"changes, last page ({last_page})": f"/changes?page={last_page}",
        "article, side by side": f"/article/{middle}",
        "article, inline 1→5": f"/article/{middle}?from=1&to=5&view=inline",
        "capture": f"/capture/{middle * PER_ARTICLE}",
        "search": "/search?q=hoi+nghi+bao+cao+vien",
        "sites": "/sites",
    }


def measure(base: str, path: str, requests: int) -> list[float]:
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.get(path).status_code == 200, path  # warm-up
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, path
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="SQLite file to build (or reuse if it exists)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.keep or Path(folder.name) / "archive.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        build(url, args.versions)
        print(f"built {args.versions} versions in {time.perf_counter() - started:.1f} s ({path})")
    report = open_report(url, [])
    try:
        with running(create_app(report)) as base:
            results = {name: measure(base, p, args.requests) for name, p in pages(args.versions).items()}
    finally:
        report.archive.close()
    baseline = statistics.median(next(iter(results.values())))
    print(f"\n{'page':<32} {'median ms':>10} {'p95 ms':>8} {'x static':>9}  < 200 ms")
    for name, times in results.items():
        median = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        print(f"{name:<32} {median:>10.1f} {p95:>8.1f} {median / baseline:>9.1f}  {'yes' if p95 < 200 else 'NO'}")
    folder.cleanup()


if __name__ == "__main__":
    main()
