"""A site's own politeness in a local crawl: its config keys ``delay`` (or ``rate``),
``concurrency`` and ``autothrottle``, applied through the Scrapy settings of the site's crawler.

Every configured site is crawled by a crawler of its own, so ``SiteSpider.update_settings`` makes
the site's keys that crawler's settings: a download slot of the site's own (``DOWNLOAD_SLOTS``:
its delay, without jitter so that the delay is a floor and the rate a ceiling, and its
concurrency), which ``SiteSlotMiddleware`` puts every request of the site in, robots.txt
included, whichever of its hosts it goes to; ``DOWNLOAD_DELAY``, AutoThrottle's floor, so that
AutoThrottle may slow the site down further but never below its delay; and
``AUTOTHROTTLE_ENABLED``. A site's key wins over the settings (``-s`` included), which remain the
defaults of sites without it. A fleet worker shares rate and concurrency through Redis instead
(``crawler.politeness``); there only ``autothrottle`` applies here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.profiles import SiteProfile


def slot_key(site: str) -> str:
    """The download slot of a site's requests (not a host name, so no host's slot collides)."""
    return f"tgwatch-site:{site}"


def site_slot(profile: SiteProfile) -> dict[str, Any] | None:
    """The ``DOWNLOAD_SLOTS`` entry of a site with a ``delay``/``rate`` or ``concurrency``."""
    slot: dict[str, Any] = {}
    if profile.delay is not None:
        slot.update(delay=profile.delay, jitter=0.0)
    if profile.concurrency is not None:
        slot["concurrency"] = profile.concurrency
    return slot or None


def override(settings: BaseSettings, name: str, value: Any) -> None:
    """Set ``name`` of a crawler above ``-s`` (``cmdline``): ``CrawlerProcess.crawl`` lays the
    process's settings over the crawler's again, so that priority alone would not hold."""
    priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["cmdline"]) + 1
    settings.set(name, value, priority=priority)


def apply_site_politeness(profile: SiteProfile, settings: BaseSettings) -> None:
    """The site's keys as the settings of its crawler (see the module docstring)."""
    if profile.autothrottle is not None:
        override(settings, "AUTOTHROTTLE_ENABLED", profile.autothrottle)
    slot = site_slot(profile)
    if slot is None or settings.get("TGWATCH_REDIS"):
        return
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    slots[slot_key(profile.name)] = slot
    override(settings, "DOWNLOAD_SLOTS", slots)
    if profile.delay is not None:
        override(settings, "DOWNLOAD_DELAY", profile.delay)
    if profile.concurrency is not None:
        override(settings, "CONCURRENT_REQUESTS_PER_DOMAIN", profile.concurrency)


class SiteSlotMiddleware:
    """Puts every request of a site with its own pace in the site's download slot."""

    def __init__(self, slot: str) -> None:
        self.slot = slot

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        profile = getattr(crawler.spidercls, "profile", None)
        if profile is None or site_slot(profile) is None:
            raise NotConfigured  # the site has no pace of its own (no message: Scrapy would warn)
        if crawler.settings.get("TGWATCH_REDIS"):
            raise NotConfigured("a fleet worker paces the site through Redis")
        return cls(slot_key(profile.name))

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("download_slot", self.slot)
