"""SIGINT/SIGTERM stop a crawl within ``STOP_SECONDS``, whatever it is doing.

Scrapy's graceful shutdown waits for every download in flight (a slow server holds one for
DOWNLOAD_TIMEOUT) and for the reactor to come back from whatever callback it is in; the audit's
crawl of a 300,000-link listing needed 80 s, and once a SIGKILL that left its run ``running``.
``Stopper`` replaces Scrapy's handlers: the first signal asks the crawlers to stop (in-flight
checks may still be recorded); after ``GRACE`` seconds the downloads still in flight are let go,
so each spider closes and its run is booked ``interrupted``; after ``STOP_SECONDS - 1`` a watchdog
thread books the runs still open as ``interrupted`` itself and ends the process. A second signal
lets the downloads go at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from types import FrameType
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from crawler.extensions import ArchiveRun, run_counts
from storage.vocabulary import RunOutcome

logger = logging.getLogger(__name__)

STOP_SECONDS = 10.0
"""A crawl is over this long after SIGINT/SIGTERM at the latest."""

GRACE = 4.0
"""Seconds in-flight downloads get to finish after the first signal."""

EXIT_STATUS = 130


class Stopper:
    """Owns SIGINT/SIGTERM while ``run_crawls`` runs (see the module docstring)."""

    def __init__(self, process: CrawlerProcess, running: Callable[[], list[Crawler]]) -> None:
        self.process = process
        self.running = running
        self.signals = 0
        self.done = threading.Event()
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.on_signal)

    def uninstall(self) -> None:
        self.done.set()
        for signum, handler in self.previous.items():
            with suppress(ValueError, TypeError):
                signal.signal(signum, handler)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Nothing but hand-overs here: a signal handler must not log or block."""
        from twisted.internet import reactor

        self.signals += 1
        if self.signals == 1:
            reactor.callFromThread(self.graceful, signal.Signals(signum).name)  # type: ignore[attr-defined]
            threading.Thread(target=self.watchdog, name="tgwatch-stop", daemon=True).start()
        else:
            reactor.callFromThread(self.let_go)  # type: ignore[attr-defined]

    def graceful(self, name: str) -> None:
        logger.warning("received %s: stopping the crawl (within %g s)", name, STOP_SECONDS)
        self.process.stop()

    def let_go(self) -> None:
        """Stop waiting for the downloads in flight: each spider's close goes on to its end."""
        for crawler in self.running():
            slot = getattr(crawler.engine, "_slot", None) if crawler.engine is not None else None
            # Scrapy's engine waits for slot.inprogress to empty before it closes the spider; the
            # requests still downloading are abandoned (their answers, if any, find it closed).
            if slot is not None and slot.closing is not None and slot.inprogress:
                logger.warning("%s: %d downloads in flight abandoned", crawler.spidercls.name, len(slot.inprogress))
                slot.inprogress.clear()
                slot._maybe_fire_closing()

    def watchdog(self) -> None:
        from twisted.internet import reactor

        if self.done.wait(GRACE):
            return
        reactor.callFromThread(self.let_go)  # type: ignore[attr-defined]
        if self.done.wait(STOP_SECONDS - 1 - GRACE):
            return
        self.book_open_runs()
        os._exit(EXIT_STATUS)

    def book_open_runs(self) -> None:
        """Runs whose spider never closed, booked ``interrupted`` from this thread (the reactor is stuck)."""
        for crawler in self.running():
            run = crawler.get_extension(ArchiveRun) if crawler.extensions is not None else None
            if run is None or run.run_id is None or run.closed:
                continue
            try:
                stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
                run.archive.finish_run(run.run_id, RunOutcome.INTERRUPTED, run_counts(stats),
                                       f"stopped by a signal after {STOP_SECONDS - 1:g} s")
            except Exception:  # the process ends next: a daemon sweep closes what is left
                logger.exception("crawl run %s not booked", run.run_id)
