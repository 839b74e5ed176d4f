"""Running crawls in this process with Scrapy's ``CrawlerProcess``, and what they add up to.

``tgwatch crawl`` runs one batch (the named sites side by side); the demo runs several batches one
after the other in the same reactor (a reactor cannot be restarted), with a hook before each. A
SIGINT/SIGTERM stops the crawls within ten seconds (``crawler.stop``): in-flight checks are
recorded if they come in time, each crawl run is booked ``interrupted``, and no further batch starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

# Scrapy's HTTP handler imported here, near the bottom of the stack, not deep inside the reactor:
# importing it builds deprecated TLS aliases with ``inspect.stack()``, whose cost grows with the
# depth of the stack (about a second per crawl when left to the downloader).
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import task
from twisted.internet.defer import DeferredList
from twisted.python.failure import Failure

from crawler.extensions import OUTCOMES, run_counts
from crawler.stop import Stopper
from storage.errors import ConfigError
from storage.vocabulary import RunOutcome

SUMMARY_FIELDS = (("pages", "pages fetched"), ("new", "new"), ("edited", "edited"),
                  ("unchanged", "unchanged"), ("removed", "removed"), ("failed", "failed checks"))

Progress = Callable[[list[tuple[str, dict[str, Any]]]], None]
"""Called about twice a second on the reactor thread with (site, Scrapy stats) of running crawls."""


@dataclass(frozen=True)
class SiteResult:
    """One crawl of one site, as its stats tell it."""

    site: str
    outcome: str  # crawl_runs.outcome: ok | interrupted | failed | timeout
    counts: dict[str, int]
    stats: dict[str, Any] = field(repr=False, default_factory=dict)

    @classmethod
    def of(cls, crawler: Crawler) -> SiteResult:
        stats = crawler_stats(crawler)
        outcome = stats.get("tgwatch/outcome") or OUTCOMES.get(stats.get("finish_reason", ""), RunOutcome.FAILED).value
        return cls(site=crawler.spidercls.name, outcome=outcome, counts=run_counts(stats), stats=stats)


@dataclass(frozen=True)
class CrawlSummary:
    """The crawls of one batch."""

    results: list[SiteResult]

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for result in self.results:
            for name, value in result.counts.items():
                totals[name] = totals.get(name, 0) + value
        return totals

    @property
    def interrupted(self) -> bool:
        return any(r.outcome == RunOutcome.INTERRUPTED for r in self.results)

    def line(self) -> str:
        """``pages fetched N, new N, edited N, unchanged N, removed N, failed checks N``."""
        totals = self.totals
        parts = [f"{label} {totals.get(name, 0)}" for name, label in SUMMARY_FIELDS]
        if totals.get("restored"):
            parts.append(f"restored {totals['restored']}")
        return ", ".join(parts) + (" (interrupted)" if self.interrupted else "")


@dataclass(frozen=True)
class Batch:
    """Sites crawled side by side; ``before`` runs first (the demo moves its server to v2 there).

    A site is a configured site's name, or any spider class (the benchmark's bare spider).
    """

    sites: Sequence[str | type[Spider]]
    before: Callable[[], None] | None = None


def crawl_settings(
    *,
    db_url: str | None = None,
    config_path: str | None = None,
    recheck: str | None = None,
    log_level: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """``crawler.settings`` with what the command line says on top (at ``cmdline`` priority)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    given = {"TGWATCH_DB": db_url, "TGWATCH_CONFIG": config_path, "TGWATCH_RECHECK": recheck,
             "LOG_LEVEL": log_level}
    for name, value in given.items():
        if value:
            settings.set(name, value, priority="cmdline")
    settings.update(dict(overrides or {}), priority="cmdline")
    return settings


def crawler_stats(crawler: Crawler) -> dict[str, Any]:
    try:
        return dict(crawler.stats.get_stats())
    except RuntimeError:  # not started yet
        return {}


def check_sites(names: Iterable[str], known: Iterable[str], source: str) -> None:
    """A one-line ``ConfigError`` for the first name that is no configured site."""
    known = sorted(known)
    for name in names:
        if name not in known:
            raise ConfigError(source, f"no site named {name!r} (configured: {', '.join(known) or 'none'})")


def run_crawls(
    batches: Sequence[Batch],
    settings: Settings,
    *,
    progress: Progress | None = None,
    interval: float = 0.5,
    install_signal_handlers: bool = True,
) -> list[CrawlSummary]:
    """Run the batches one after another in one reactor; blocks until done or interrupted."""
    process = CrawlerProcess(settings)
    names = (n for b in batches for n in b.sites if isinstance(n, str))
    check_sites(names, process.spider_loader.list(), settings.get("TGWATCH_CONFIG") or "sites")
    if not batches:
        return []
    sequence = _Sequence(process, batches)
    sequence.launch(0)  # creates the first crawlers, which installs the reactor Scrapy is set up for
    ticker = None
    if progress is not None:
        ticker = task.LoopingCall(lambda: progress([(c.spidercls.name, crawler_stats(c)) for c in sequence.running]))
        ticker.start(interval, now=False)
    stopper = Stopper(process, lambda: sequence.running) if install_signal_handlers else None
    if stopper is not None:
        stopper.install()  # instead of Scrapy's handlers: a crawl is over within STOP_SECONDS
    try:
        if not sequence.over:
            process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        if stopper is not None:
            stopper.uninstall()
    if ticker is not None and ticker.running:
        ticker.stop()
    if sequence.errors:
        sequence.errors[0].raiseException()
    return [CrawlSummary([SiteResult.of(c) for c in crawlers]) for crawlers in sequence.launched]


class _Sequence:
    """The batches of one ``run_crawls``: each starts when the one before has finished, unless a
    crawl failed to start or was interrupted; the reactor stops after the last."""

    def __init__(self, process: CrawlerProcess, batches: Sequence[Batch]) -> None:
        self.process = process
        self.batches = batches
        self.launched: list[list[Crawler]] = []
        self.errors: list[Failure] = []
        self.over = False  # set once the last batch is done (maybe before the reactor even runs)

    @property
    def running(self) -> list[Crawler]:
        return self.launched[-1] if self.launched else []

    def launch(self, index: int) -> None:
        loader = self.process.spider_loader
        try:
            batch = self.batches[index]
            if batch.before is not None:
                batch.before()
            crawlers = [self.process.create_crawler(loader.load(s) if isinstance(s, str) else s)
                        for s in batch.sites]
        except Exception:
            self.errors.append(Failure())
            self.stop_reactor()
            return
        self.launched.append(crawlers)
        done = DeferredList([self.process.crawl(c) for c in crawlers], consumeErrors=True)
        done.addCallback(self.finished, index)

    def finished(self, results: list[tuple[bool, Any]], index: int) -> None:
        self.errors.extend(value for ok, value in results if not ok)
        interrupted = any(SiteResult.of(c).outcome == RunOutcome.INTERRUPTED for c in self.launched[-1])
        if self.errors or interrupted or index + 1 == len(self.batches):
            self.stop_reactor()
        else:
            self.launch(index + 1)

    def stop_reactor(self) -> None:
        from twisted.internet import reactor

        self.over = True
        with suppress(RuntimeError):
            reactor.stop()  # type: ignore[attr-defined,misc]
