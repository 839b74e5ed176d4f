"""``python -m bench.search``: how fast ``tgwatch search`` answers on a large archive, either backend.

Builds ``bench.report``'s archive (``--versions``, default 100,000: 20,000 articles over 20 sites)
in a fresh SQLite file, or in the PostgreSQL database or schema that ``--db`` names (unless it
already holds articles: a second run measures the same archive, analyzed by then), then
times ``Archive.search`` (the query, the latest versions' text, the snippets): median of
``--runs`` after one warm-up, for words found in every article (alone, and within one site), a
rarer word (in 0.6% of the articles) and a word found once. The target is < 50 ms.

Example:
  python -m bench.search
  createdb tgwatch_bench && python -m bench.search --db postgresql+psycopg://postgres@127.0.0.1/tgwatch_bench
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.report import build
from storage.archive import Archive

QUERIES = [
    ("words in every article", "hoi nghi bao cao vien", None),
    ("one word in every article", "dang", None),
    ("in every article, one site", "tuyen giao", "site07"),
    ("a rarer word (0.6%)", "996", None),
    ("a word found once", "so 12345", None),
]


def timed(archive: Archive, words: str, site: str | None, runs: int) -> tuple[int, list[float]]:
    hits = len(archive.search(words, site=site))  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        archive.search(words, site=site)
        times.append((time.perf_counter() - started) * 1000)
    return hits, times


def _holds_articles(url: str) -> bool:
    with Archive.open(url) as archive, archive.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM articles")).scalar_one() > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", help="archive to build, or reuse if it has articles (default: a temporary SQLite file)")
    parser.add_argument("--keep", type=Path, help="SQLite file to build (or reuse if it exists)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.keep or Path(folder.name) / "archive.db"
    url = args.db or f"sqlite:///{path}"
    if not (_holds_articles(args.db) if args.db else path.exists()):
        started = time.perf_counter()
        build(url, args.versions)
        print(f"built {args.versions} versions in {time.perf_counter() - started:.1f} s")
    with Archive.open(url) as archive:
        print(f"\n{archive.backend}: {'query':<32} {'hits':>5} {'median ms':>10} {'max ms':>8}  < 50 ms")
        for name, words, site in QUERIES:
            hits, times = timed(archive, words, site, args.runs)
            median = statistics.median(times)
            print(f"{'':<{len(archive.backend) + 2}}{name:<32} {hits:>5} {median:>10.1f} {max(times):>8.1f}  "
                  f"{'yes' if median < 50 else 'NO'}")
    folder.cleanup()


if __name__ == "__main__":
    main()
