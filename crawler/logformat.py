"""Scrapy's per-page DEBUG records, made only when the crawl logs at DEBUG.

Scrapy's ``LogFormatter`` asks for a "Crawled (304) <GET ...>" record for every response and a
"Scraped from ..." one for every check, at DEBUG, and Scrapy's handler drops them when ``LOG_LEVEL``
is above DEBUG, as it is in every crawl but a debugging one; each was made all the same (its caller
looked up on the stack, a ``LogRecord`` built), a few percent of an unchanged re-crawl's time in
the reactor. ``QuietLogFormatter`` (``LOG_FORMATTER``) returns None for them then: no record at all.
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
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure


def logs_debug(settings: BaseSettings) -> bool:
    """Whether the crawl's log takes DEBUG records (``LOG_LEVEL``, a name or a number)."""
    level = settings.get("LOG_LEVEL") or logging.DEBUG
    if not isinstance(level, int):
        named = logging.getLevelName(str(level).upper())
        level = named if isinstance(named, int) else logging.DEBUG  # unknown: keep everything
    return level <= logging.DEBUG


class QuietLogFormatter(LogFormatter):
    """``LogFormatter`` without the per-page DEBUG records when the crawl does not log DEBUG."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(logs_debug(crawler.settings))

    # Scrapy logs nothing for a None (its documentation says so, its annotation does not)
    def crawled(self, request: Request, response: Response, spider: Spider) -> LogFormatterResult | None:  # type: ignore[override]
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item: Any, response: Response | Failure | None,  # type: ignore[override]
                spider: Spider) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.debug else None
