"""``tgwatch report --out DIR``: the static report's files, links and safety without a server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from storage.archive import Archive
from tests.report_helpers import hostile_archive, ordinary

LINK = re.compile(r'(?:href|src)="([^"]*)"')


def report(db: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor.cli", "--db", db, "report", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_report_writes_linked_pages_and_replaces_itself(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with Archive.open(db) as writer:
        ordinary(writer)
        article = hostile_archive(writer, "http://127.0.0.1:9")
    out = tmp_path / "public"
    done = report(db, out)
    assert done.returncode == 0, done.stderr
    assert re.match(rf"wrote {out}: \d+ pages, 5 articles, 5 captures$", done.stdout.strip())
    pages = sorted(out.rglob("*.html"))
    expected = {"index.html", "sites.html", "changes/index.html", "changes/kind/edited/index.html",
                "changes/site/alpha/index.html", f"article/{article}.html", f"article/{article}-1-2.html",
                f"article/{article}-1-2-inline.html", "article/1-1-2.html"}  # fmt: skip
    assert expected <= {p.relative_to(out).as_posix() for p in pages}
    for page in pages:  # every link inside the report resolves to a written file
        html = page.read_text(encoding="utf-8")
        assert '<meta http-equiv="Content-Security-Policy"' in html and "/search" not in html, page
        for link in LINK.findall(html):
            target = urljoin(page.relative_to(out).as_posix(), link.replace("&amp;", "&"))
            if urlsplit(link).scheme in {"http", "https"}:
                continue
            assert (out / urlsplit(target).path).is_file(), f"{page}: {link}"
    capture = (out / "capture").glob("*.html")
    hostile_page = next(p for p in capture if "bai-doc-hai" in p.read_text(encoding="utf-8"))
    html = hostile_page.read_text(encoding="utf-8")
    assert 'sandbox="" referrerpolicy="no-referrer"' in html and "<script" not in html
    assert not list(out.glob("**/*.raw.html"))  # no stored page outside its frame

    (out / "stale.html").write_text("old")
    assert report(db, out).returncode == 0 and not (out / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []


def test_report_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(db).close()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    done = report(db, tmp_path / "mine")
    assert done.returncode == 2 and "not a tgwatch report" in done.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
