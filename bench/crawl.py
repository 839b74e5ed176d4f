"""``python -m bench.crawl``: what a tgwatch crawl costs against Scrapy fetching the same pages bare.

Serves the fixture sites, crawls them at v1 (everything new: fetch, extract in the worker pool,
record) and again at v2 with ``--recheck all`` (conditional requests: unchanged pages cost a 304),
each time followed by a bare Scrapy spider that fetches the very URLs the crawl fetched, with no
extraction, no archive and no conditional requests, in the same process and reactor. Prints
pages/s, ms per page and the share of re-checks answered 304, and tgwatch's figures as ratios of
the bare spider's. Fast settings for both (no AutoThrottle, no delay: the server is ours).

Example:
  python -m bench.crawl
  python -m bench.crawl --workers 1 --keep /tmp/bench-archive
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.profiles import load_config
from crawler.run import Batch, CrawlSummary, crawl_settings, run_crawls
from fixtures.config import LOOPBACK_SETTINGS, site_config
from fixtures.testing import FixtureServer

FAST = {**LOOPBACK_SETTINGS, "CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "LOG_LEVEL": "WARNING"}
fetched_urls: list[str] = []
"""URLs of the site pages the last tgwatch batch fetched (filled by ``UrlRecorder``)."""


class UrlRecorder:
    """Extension (added by the benchmark only): remembers every site page a crawl fetched."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlRecorder:
        recorder = cls()
        crawler.signals.connect(recorder.received, signal=signals.response_received)
        return recorder

    def received(self, response: Response, request: Request) -> None:
        if request.meta.get("tgwatch_kind"):
            fetched_urls.append(request.url)


class BareSpider(Spider):
    """Fetches a list of URLs and throws the pages away: Scrapy's own cost, nothing of ours."""

    name = "bare"
    urls: list[str] = []
    custom_settings = {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.BackoffRetryMiddleware": None,
            "crawler.middlewares.ConditionalRequestMiddleware": None,
            "crawler.middlewares.ArticleRedirectMiddleware": None,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": 550,
        },
    }

    async def start(self) -> Any:
        for url in self.urls:
            yield Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Response) -> Iterator[Any]:
        return iter(())


class Clock:
    """Wall time of each batch, taken in the batches' ``before`` hooks."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def mark(self, action: Any = None) -> Any:
        def hook() -> None:
            self.marks.append(time.perf_counter())
            if action is not None:
                action()
        return hook


def bare_batch(clock: Clock, action: Any = None) -> Batch:
    def before() -> None:
        BareSpider.urls = list(fetched_urls)
        fetched_urls.clear()
        if action is not None:
            action()
    return Batch([BareSpider], before=clock.mark(before))


Row = tuple[str, int, float, float, float, str]


def row(label: str, pages: int, seconds: float, share: str = "-") -> Row:
    return label, pages, seconds, pages / seconds if seconds else 0.0, 1000 * seconds / pages if pages else 0.0, share


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="extraction processes (default: cpu count)")
    parser.add_argument("--keep", type=Path, help="directory to keep the archive in (default: a temporary one)")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="tgwatch-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "archive.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    with FixtureServer() as server:
        config = directory / "tgwatch.toml"
        config.write_text(site_config(server.url), encoding="utf-8")
        sites = sorted(load_config(config).sites)
        overrides: dict[str, Any] = dict(FAST)
        if args.workers is not None:
            overrides["TGWATCH_EXTRACT_WORKERS"] = args.workers
        settings = crawl_settings(db_url=f"sqlite:///{db}", config_path=str(config), recheck="all",
                                  log_level="WARNING", overrides=overrides)
        # at project priority, so that the bare spider's custom_settings can switch it off again
        settings.set("EXTENSIONS", {"crawler.extensions.ArchiveRun": 100, "bench.crawl.UrlRecorder": 200},
                     priority="project")
        clock = Clock()
        batches = [
            Batch(sites, before=clock.mark()),
            bare_batch(clock),
            Batch(sites, before=clock.mark(lambda: server.set_version("v2"))),
            bare_batch(clock),
            Batch(sites, before=clock.mark()),
            bare_batch(clock),
        ]
        summaries = run_crawls(batches, settings)
        end = time.perf_counter()
    report(summaries, [*clock.marks, end])


def report(summaries: list[CrawlSummary], marks: list[float]) -> None:
    """``marks``: when each batch started, then the end."""
    seconds = [b - a for a, b in zip(marks, marks[1:])]
    labels = ["tgwatch v1 (all new)", "tgwatch v2 (edits, removals)", "tgwatch v2 again (unchanged)"]
    rows: list[tuple[Row, Row, str]] = []
    for index, label in enumerate(labels):
        ours, bare = summaries[2 * index], summaries[2 * index + 1]
        rechecks = sum(int(r.stats.get("tgwatch/rechecks", 0)) for r in ours.results)
        not_modified = sum(int(r.stats.get("tgwatch/not_modified", 0)) for r in ours.results)
        share = f"{not_modified}/{rechecks} = {not_modified / rechecks:.0%}" if rechecks else "-"
        bare_pages = int(bare.results[0].stats.get("response_received_count", 0))
        rows.append((row(label, ours.totals["pages"], seconds[2 * index], share),
                     row("  bare scrapy, same URLs", bare_pages, seconds[2 * index + 1]), ours.line()))
    print(f"{'crawl':30} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'ms/page':>8}  re-checks answered 304")
    for ours_row, bare_row, _ in rows:
        for name, pages, secs, rate, ms, share in (ours_row, bare_row):
            print(f"{name:30} {pages:6d} {secs:8.2f} {rate:8.1f} {ms:8.1f}  {share}")
        if bare_row[3] and ours_row[3]:
            print(f"{'  tgwatch / bare':30} {'':6} {ours_row[2] / bare_row[2]:7.2f}x {ours_row[3] / bare_row[3]:7.2f}x "
                  f"{ours_row[4] / bare_row[4]:7.2f}x")
    for label, (_, _, line) in zip(labels, rows):
        print(f"{label}: {line}")


if __name__ == "__main__":
    from bench.crawl import main as run  # as ``bench.crawl``, the module the recorder extension sees

    run()
