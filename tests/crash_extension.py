"""Crashes on demand in a crawl child: a Scrapy extension that only the daemon tests switch on.

The daemon and runner tests arm faults in a directory named by ``TGWATCH_TEST_FAULTS`` (in the
daemon's environment, inherited by each crawl child): a file named after a site (or ``any``) holds
fault kinds, one per line, for the site's next crawls in turn. The tests add this extension to the
children's ``EXTENSIONS`` (``crash_settings``); once a crawl's run is booked (the engine has
started, after ``ArchiveRun`` opened the run), it takes the site's next fault and acts it out.
The product knows nothing of it.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from crawler import settings as product_settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

FAULTS_ENV = "TGWATCH_TEST_FAULTS"
FAULT_KINDS = ("raise", "exit", "kill", "hang", "memory")
KILL_AFTER = "kill-after-"
"""``kill-after-N``: SIGKILL once the crawl has scraped N items (each recorded: the record
pipeline is the last one), mid-crawl, wherever the other requests are."""


def crash_settings() -> str:
    """``EXTENSIONS=...`` for a crawl child: the product's extensions and this one."""
    extensions = {**product_settings.EXTENSIONS, f"{__name__}.CrashOnDemand": 900}
    return f"EXTENSIONS={json.dumps(extensions)}"


def take_fault(site: str, folder: str | None) -> str | None:
    """The fault armed for ``site``'s next crawl, consumed once (the rest stay for later crawls)."""
    if not folder:
        return None
    for name in (site, "any"):
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as armed:
                kinds = armed.read().split()
        except FileNotFoundError:
            continue
        if len(kinds) > 1:
            with open(path + ".next", "w", encoding="utf-8") as rest:
                rest.write("\n".join(kinds[1:]))
            os.replace(path + ".next", path)
        else:
            os.unlink(path)
        known = kinds and (kinds[0] in FAULT_KINDS or kinds[0].removeprefix(KILL_AFTER).isdigit())
        return kinds[0] if known else None
    return None


def act_out(kind: str) -> None:
    """Fail the way ``kind`` says: raise, exit, be killed, hang the reactor, or eat memory."""
    if kind == "raise":
        raise RuntimeError(f"forced crash ({FAULTS_ENV}: raise)")
    if kind == "exit":
        os._exit(70)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "hang":
        while True:  # blocks the crawl (its reactor, too): only a signal ends it
            time.sleep(1)
    if kind == "memory":
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            raise RuntimeError("the memory fault needs an address-space limit")
        hog = []
        while True:  # ends in MemoryError at the limit
            hog.append(bytearray(64 << 20))


class CrashOnDemand:
    """Acts out the crawl's armed fault when its engine starts; an exception closes the crawl failed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.left = 0  # items to scrape before a kill-after-N fault

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def item_scraped(self) -> None:
        self.left -= 1
        if self.left <= 0:
            os.kill(os.getpid(), signal.SIGKILL)

    def engine_started(self) -> None:
        kind = take_fault(self.crawler.spidercls.name, os.environ.get(FAULTS_ENV))
        if not kind:
            return
        if kind.startswith(KILL_AFTER):
            self.left = int(kind.removeprefix(KILL_AFTER))
            self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
            return
        try:
            act_out(kind)
        except Exception as exc:  # raise, memory: the crawl ends failed with the error as its reason
            reason = f"error: {type(exc).__name__}: {exc}"
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
