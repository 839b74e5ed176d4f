"""``QuietLogFormatter``: Scrapy's per-page and per-item DEBUG lines not even made when the crawl's
``LOG_LEVEL`` would drop them.

Scrapy sets the root logger to NOTSET and filters at its handler (``LOG_LEVEL``), so its "Crawled
(200)" and "Scraped from" lines became a log record each, for every page and every item, only to be
thrown away by a crawl at INFO or WARNING. A formatter method that returns None logs nothing
(Scrapy's ``LOG_FORMATTER`` contract); at ``LOG_LEVEL = DEBUG`` the lines are Scrapy's own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter, LogFormatterResult

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


def level_of(value: Any) -> int:
    """A ``LOG_LEVEL`` setting (a name or a number) as a number."""
    if isinstance(value, int):
        return value
    found = logging.getLevelName(str(value).upper())
    return found if isinstance(found, int) else logging.DEBUG


class QuietLogFormatter(LogFormatter):
    """Scrapy's formatter, except that a DEBUG line below the crawl's ``LOG_LEVEL`` is not made."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        self.debug = level <= logging.DEBUG

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(level_of(crawler.settings.get("LOG_LEVEL")))

    def crawled(self, request: Request, response: Response, spider: Spider) -> LogFormatterResult | None:  # type: ignore[override]
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item: Any, response: Response | Failure | None,  # type: ignore[override]
                spider: Spider) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.debug else None
