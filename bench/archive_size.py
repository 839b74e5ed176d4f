"""``python -m bench.archive_size``: where the archive's bytes go, per article version.

Crawls a generated site (``bench.sitegen``: ``--articles`` reports on ~40 KB pages whose chrome
repeats from page to page) into a fresh SQLite archive with ``tgwatch crawl`` (politeness off: the
server is ours), then serves version ``v2`` (1% of the reports edited, every page's chrome changed)
and crawls again with ``--recheck all``. Prints, from SQLite's ``dbstat`` table, the bytes of each
table and index per version, and the whole file's size per version (the figure the README gives).

Example:
  python -m bench.archive_size
  python -m bench.archive_size --articles 500 --keep /tmp/size-bench
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.sitegen import SECTIONS, Site, serve
from fixtures.config import LOOPBACK_SETTINGS, setting_args

ROOT = Path(__file__).resolve().parent.parent
FAST = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "TGWATCH_LISTING_PAGES": "100000", "DEPTH_LIMIT": "0", "DOWNLOAD_TIMEOUT": "30"}


def tgwatch(db: Path, config: Path, *args: str) -> None:
    command = [sys.executable, "-m", "monitor.cli", "--db", f"sqlite:///{db}", "--config", str(config), *args]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def sizes(db: Path) -> tuple[dict[str, int], int, int, int]:
    """(bytes per table or index, file bytes, free pages' bytes, versions) after a checkpoint."""
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        versions = connection.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    return {name: int(size) for name, size in rows}, db.stat().st_size, free * page, int(versions)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.archive_size", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="directory to keep the archive in (default: a temporary one)")
    parser.add_argument("--no-v2", action="store_true", help="crawl v1 only")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="tgwatch-size-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "archive.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    site = Site(args.articles)
    pages = 0
    with serve(site) as base:
        config = directory / "tgwatch.toml"
        starts = ", ".join(f'"{base}/"' if not s else f'"{base}{site.listing(s, 1)}"' for s in ["", *SECTIONS])
        config.write_text(f'[[sites]]\nname = "bench"\nstart_urls = [{starts}]\n'
                          f"article_url = '/bai-viet-\\d+\\.html$'\nfollow_url = '\\?page=\\d+$'\n", encoding="utf-8")
        for version, recheck in (("v1", "none"), ("v2", "all")):
            if version == "v2" and args.no_v2:
                break
            site.set_version(version)
            started = time.perf_counter()
            tgwatch(db, config, "crawl", "bench", "--recheck", recheck, *setting_args(FAST))
            print(f"crawl {version}: {time.perf_counter() - started:.1f} s", flush=True)
        pages = sum(len(site.page(site.path(i)) or b"") for i in range(args.articles))
    report(db, pages / args.articles)


def report(db: Path, page_bytes: float) -> None:
    by_name, file_bytes, free, versions = sizes(db)
    print(f"\n{versions} versions; pages average {page_bytes / 1024:.1f} KB")
    print(f"{'table or index':<44} {'bytes':>12} {'per version':>12}")
    for name, size in sorted(by_name.items(), key=lambda item: -item[1]):
        if size >= 8192:
            print(f"{name:<44} {size:>12,} {size / versions:>12,.0f}")
    print(f"{'(free pages)':<44} {free:>12,} {free / versions:>12,.0f}")
    print(f"{'whole file':<44} {file_bytes:>12,} {file_bytes / versions:>12,.0f}  "
          f"= {file_bytes / versions / 1024:.2f} KB per version")


if __name__ == "__main__":
    main()
