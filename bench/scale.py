"""``python -m bench.scale``: a whole generated site of N articles, crawled as issue 11 asks, in one run.

The site is ``bench.sitegen``'s (homepage, 16 sections of 20 reports a listing page, 40 KB pages,
ETag of the bytes and Last-Modified; a v2 with 1% of the reports edited and every page's chrome
changed), served by a child process of its own (``SiteProcess``) that counts requests per path.
Stages (``--stages``, all by default), each against its baseline measured in the same run:

  a  bare Scrapy fetching every listing and article page, nothing else (baseline of b)
  b  ``tgwatch crawl`` of the whole site, politeness off, caps lifted: N articles, N versions
  c  bare Scrapy: every listing page, and a conditional request (If-None-Match, If-Modified-Since)
     for every article: the URLs ``--recheck all`` fetches (baseline of d)
  d  ``tgwatch crawl --recheck all``, site unchanged: 0 versions added
  e  v2 served, ``--recheck all``: exactly the edited articles flagged ``edited``, no other version
  f  archive bytes per article version (the SQLite file after a checkpoint; dbstat per table)
  g  a fresh archive, ``--backfill`` SIGKILLed (whole process group) at half the articles, run again:
     N/N articles, no recorded article fetched again, the same (url, content hash) as b's versions

Every crawl (bare or tgwatch) is a child process; its rate is the requests the server counted over
the time from the first request to the process's exit (start-up is left out, finishing is not).
Peak RSS is of the process and all its descendants (sampled from /proc every 0.2 s). Each child's
stderr is kept in the archives' directory (``crawl-<n>.log``).

Example:
  python -m bench.scale --articles 2000
  python -m bench.scale --stages ab --keep /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.archive_size import sizes
from bench.sitegen import PER_LISTING, SECTIONS, Site, SiteProcess
from fixtures.config import LOOPBACK_SETTINGS, setting_args

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = "16"
FAST = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS": CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "TGWATCH_LISTING_PAGES": "100000", "DEPTH_LIMIT": "0", "TGWATCH_ARTICLE_REQUESTS": "10000000",
        "DOWNLOAD_TIMEOUT": "30", "LOG_LEVEL": "WARNING"}
"""tgwatch's settings: politeness off (the server is ours), no cap reached."""
BARE = {"CONCURRENT_REQUESTS": int(CONCURRENCY), "CONCURRENT_REQUESTS_PER_DOMAIN": int(CONCURRENCY),
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 30, "COOKIES_ENABLED": False}
"""The bare spider's: Scrapy's defaults with the same concurrency."""
THRESHOLDS = {"first crawl / bare": 0.35, "re-check / bare": 0.8}
MAX_KB_PER_VERSION = 5.0
MAX_RSS_MB = 400.0


# --- memory of a process tree ---------------------------------------------------------------------
def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total


@dataclass
class Run:
    """One child crawl: its wall time from the server's first request to its exit, its peak RSS."""

    seconds: float
    requests: int
    hits: Counter[str]
    peak_rss: int
    wall: float
    returncode: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_child(server: SiteProcess, command: list[str], log: Path, *, stop_when: Any = None) -> Run:
    """Run ``command`` (its own process group, stderr to ``log``), sampling its tree's RSS;
    ``stop_when()`` true: SIGKILL the group."""
    server.take_hits()
    started = time.time()
    with log.open("wb") as errors:
        child = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(child.pid))
            if stop_when is not None and stop_when():
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(0.2)
    ended = time.time()
    hits, first = server.take_hits()
    return Run(ended - (first or started), sum(hits.values()), hits, peak, ended - started, child.returncode)


# --- the bare spider (a child process: ``python -m bench.scale --bare URLS``) ---------------------
def bare_main(urls_file: Path, validators_file: Path) -> None:
    """Fetch the URLs of ``urls_file`` (``[url, conditional]`` pairs) with Scrapy and nothing else;
    a conditional one carries the validators ``validators_file`` holds for it, the others' are kept there."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    urls: list[tuple[str, bool]] = json.loads(urls_file.read_text())
    known: dict[str, list[str | None]] = json.loads(validators_file.read_text()) if validators_file.exists() else {}

    class Bare(Spider):
        name = "bare"

        async def start(self) -> Any:
            for url, conditional in urls:
                headers = {}
                if conditional and url in known:
                    etag, modified = known[url]
                    headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
                yield Request(url, headers=headers, callback=self.parse, dont_filter=True,
                              meta={"handle_httpstatus_list": [304]})

        def parse(self, response: Response) -> Iterator[Any]:
            if response.status == 200:
                known[response.url] = [response.headers.get(h, b"").decode() or None
                                       for h in (b"ETag", b"Last-Modified")]
            return iter(())

    process = CrawlerProcess(BARE)
    process.crawl(Bare)
    process.start()
    validators_file.write_text(json.dumps(known))


# --- the archive ---------------------------------------------------------------------------------
def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.Error:
        return []  # not migrated yet, or busy


def count(db: Path, table: str) -> int:
    rows = query(db, f"SELECT count(*) FROM {table}")
    return int(rows[0][0]) if rows else 0


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def first_versions(db: Path) -> set[tuple[str, str]]:
    """(article path, content hash) of every article's first version."""
    return {(path_of(url), digest) for url, digest in query(
        db, "SELECT a.url, v.content_hash FROM articles a JOIN versions v ON v.article_id = a.id WHERE v.version = 1")}


# --- the bench -----------------------------------------------------------------------------------
@dataclass
class Bench:
    server: SiteProcess
    site: Site  # this process's copy (paths, what v2 edits); the server's child process builds the pages
    directory: Path
    config: Path
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)
    ours: set[str] = field(default_factory=set)  # labels of tgwatch's runs (whose RSS is judged)
    logs: int = 0

    @property
    def db(self) -> Path:
        return self.directory / "archive.db"

    def tgwatch(self, db: Path, *args: str, stop_when: Any = None) -> Run:
        command = [sys.executable, "-m", "monitor.cli", "--db", f"sqlite:///{db}", "--config", str(self.config),
                   "crawl", "bench", *args, *setting_args(FAST)]
        self.logs += 1
        log = self.directory / f"crawl-{self.logs}.log"
        run = run_child(self.server, command, log, stop_when=stop_when)
        if stop_when is None and run.returncode != 0:
            self.check(f"tgwatch crawl {' '.join(args)} exited {run.returncode} (see {log})", False)
        return run

    def bare(self, urls: list[tuple[str, bool]]) -> Run:
        """The bare spider on ``(url, conditional)`` pairs."""
        urls_file = self.directory / "urls.json"
        urls_file.write_text(json.dumps(urls))
        command = [sys.executable, "-m", "bench.scale", "--bare", str(urls_file),
                   "--validators", str(self.directory / "validators.json")]
        self.logs += 1
        return run_child(self.server, command, self.directory / f"crawl-{self.logs}.log")

    def article_urls(self) -> list[str]:
        return [self.server.url + self.site.path(i) for i in range(self.site.articles)]

    def listing_urls(self) -> list[str]:
        urls = [self.server.url + "/"]
        for section in SECTIONS:
            mine = sum(1 for s in self.site.sections if s == section)
            urls += [self.server.url + self.site.listing(section, n) for n in range(1, (mine - 1) // PER_LISTING + 2)]
        return urls

    def show(self, label: str, run: Run, baseline: Run | None = None, note: str = "", *, ours: bool = True) -> None:
        ratio = f"{run.rate / baseline.rate:.3f}" if baseline is not None and baseline.rate else "-"
        rss = f"{run.peak_rss / 2**20:.0f} MB"
        self.runs[label] = run
        if ours:
            self.ours.add(label)
        self.rows.append((label, f"{run.requests} req in {run.seconds:.1f} s = {run.rate:.1f}/s; ratio {ratio}; "
                                 f"peak RSS {rss}", note))
        print(f"{label}: {self.rows[-1][1]} {note}", flush=True)

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))
        print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)

    # --- stages ------------------------------------------------------------------------------------
    def stage_a(self) -> None:
        (self.directory / "validators.json").unlink(missing_ok=True)
        urls = [(url, False) for url in self.listing_urls() + self.article_urls()]
        self.show("a bare first fetch", self.bare(urls), ours=False)

    def stage_b(self) -> None:
        run = self.tgwatch(self.db, "--recheck", "none")
        articles, versions = count(self.db, "articles"), count(self.db, "versions")
        self.show("b tgwatch first crawl", run, self.runs.get("a bare first fetch"),
                  f"({articles} articles, {versions} versions)")
        self.check(f"first crawl: {articles}/{self.site.articles} articles, {versions} versions",
                   articles == versions == self.site.articles)

    def stage_c(self) -> None:
        # the URLs ``--recheck all`` fetches: the listings (whose links it reads), every article conditionally,
        # with the validators stage a saw or else those the archive keeps (without stage a, the bare spider
        # had none: it fetched every page whole, a slower baseline than the one d is judged against)
        validators = self.directory / "validators.json"
        known = json.loads(validators.read_text()) if validators.exists() else {}
        for url, etag, modified in query(self.db, "SELECT url, etag, last_modified FROM articles"):
            known.setdefault(url, [etag, modified])
        validators.write_text(json.dumps(known))
        urls = [(url, False) for url in self.listing_urls()] + [(url, True) for url in self.article_urls()]
        self.show("c bare conditional re-check", self.bare(urls), ours=False)

    def stage_d(self) -> None:
        before = count(self.db, "versions")
        run = self.tgwatch(self.db, "--recheck", "all")
        added = count(self.db, "versions") - before
        self.show("d tgwatch --recheck all, unchanged", run, self.runs.get("c bare conditional re-check"),
                  f"({added} versions added)")
        self.check(f"unchanged re-check: {added} versions added", added == 0)

    def stage_e(self) -> None:
        self.server.set_version("v2")
        before = count(self.db, "versions")
        last = int((query(self.db, "SELECT max(id) FROM changes") or [(0,)])[0][0] or 0)
        run = self.tgwatch(self.db, "--recheck", "all")
        flagged = {path_of(url) for url, in query(
            self.db, f"SELECT a.url FROM changes c JOIN articles a ON a.id = c.article_id "
                     f"WHERE c.id > {last} AND c.kind = 'edited'")}
        others = int(query(self.db, f"SELECT count(*) FROM changes WHERE id > {last} AND kind != 'edited'")[0][0])
        added = count(self.db, "versions") - before
        edited = {self.site.path(i) for i in self.site.edited}
        self.show("e tgwatch --recheck all, v2", run, note=f"({len(flagged)} edited flagged, {added} versions added)")
        self.check(f"v2: {len(flagged)} flagged edited of {len(edited)} edited, {others} other changes, "
                   f"{added} versions added", flagged == edited and others == 0 and added == len(edited))

    def stage_f(self) -> None:
        by_name, file_bytes, free, versions = sizes(self.db)
        per = file_bytes / versions / 1024 if versions else 0.0
        print(f"f archive: {file_bytes:,} bytes, {versions} versions = {per:.2f} KB per version", flush=True)
        for name, size in sorted(by_name.items(), key=lambda item: -item[1])[:10]:
            print(f"    {name:<40} {size:>12,} {size / max(versions, 1):>9,.0f} per version")
        print(f"    {'(free pages)':<40} {free:>12,}")
        self.rows.append(("f archive", f"{per:.2f} KB per version ({file_bytes:,} bytes, {versions} versions)", ""))
        self.check(f"archive {per:.2f} KB per version <= {MAX_KB_PER_VERSION}", 0 < per <= MAX_KB_PER_VERSION)

    def stage_g(self) -> None:
        db = self.directory / "backfill.db"
        for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            leftover.unlink(missing_ok=True)
        self.server.set_version("v1")
        half = self.site.articles // 2
        killed = self.tgwatch(db, "--backfill", stop_when=lambda: count(db, "articles") >= half)
        recorded = {path_of(url) for url, in query(db, "SELECT url FROM articles")}
        self.show("g backfill, killed", killed, note=f"(SIGKILL at {len(recorded)} articles)")
        resumed = self.tgwatch(db, "--backfill")
        articles = count(db, "articles")
        again = sum(n for path, n in resumed.hits.items() if path in recorded)
        listings = sum(n for path, n in resumed.hits.items() if "?page=" in path)
        self.show("g backfill, resumed", resumed, note=f"({articles} articles; {listings} listing pages read)")
        self.check(f"backfill: {articles}/{self.site.articles} articles after the resumed run",
                   articles == self.site.articles)
        self.check(f"resumed backfill fetched {again} of the {len(recorded)} recorded articles again", again == 0)
        reference = first_versions(self.db)
        if reference:
            same = first_versions(db) == reference
            self.check("backfill's (url, content hash) of versions equal the first crawl's", same)

    def summary(self) -> None:
        print("\nstage                                  figures")
        for label, figures, note in self.rows:
            print(f"{label:38} {figures} {note}")
        ratios = {"first crawl / bare": ("b tgwatch first crawl", "a bare first fetch"),
                  "re-check / bare": ("d tgwatch --recheck all, unchanged", "c bare conditional re-check")}
        print("\nacceptance (issue 11)")
        for name, (ours, bare) in ratios.items():
            if ours in self.runs and bare in self.runs and self.runs[bare].rate:
                ratio = self.runs[ours].rate / self.runs[bare].rate
                self.check(f"{name} {ratio:.3f} >= {THRESHOLDS[name]}", ratio >= THRESHOLDS[name])
        for label, run in self.runs.items():
            if label in self.ours:
                mb = run.peak_rss / 2**20
                self.check(f"peak RSS of {label}: {mb:.0f} MB < {MAX_RSS_MB:.0f} MB", mb < MAX_RSS_MB)
        failed = [what for what, ok in self.checks if not ok]
        print(f"\n{len(self.checks) - len(failed)}/{len(self.checks)} checks passed"
              + (f"; failed: {'; '.join(failed)}" if failed else ""))


def write_config(path: Path, base: str, site: Site) -> None:
    starts = ", ".join(f'"{base}/"' if not s else f'"{base}{site.listing(s, 1)}"' for s in ["", *SECTIONS])
    path.write_text(f'[[sites]]\nname = "bench"\nstart_urls = [{starts}]\n'
                    f"article_url = '/bai-viet-\\d+\\.html$'\nfollow_url = '\\?page=\\d+$'\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--stages", default="abcdefg", help="a subset of abcdefg (default: all)")
    parser.add_argument("--keep", type=Path, help="directory to keep the archives in (default: a temporary one)")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--validators", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare is not None:
        bare_main(args.bare, args.validators)
        return
    directory = args.keep or Path(tempfile.mkdtemp(prefix="tgwatch-scale-"))
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("archive.db*"):
        leftover.unlink()
    started = time.perf_counter()
    site = Site(args.articles)
    with SiteProcess(site) as server:
        print(f"{args.articles} articles served at {server.url} ({time.perf_counter() - started:.0f} s to build); "
              f"archives in {directory}", flush=True)
        config = directory / "tgwatch.toml"
        write_config(config, server.url, site)
        bench = Bench(server, site, directory, config)
        for stage in "abcdefg":
            if stage in args.stages:
                getattr(bench, f"stage_{stage}")()
        bench.summary()
    print(f"whole bench: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
