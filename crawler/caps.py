"""Caps on the work of one crawl: each counts, and says once (a log line, a stat) when it is reached.

A listing of 300,000 links, a pagination without end or a site of a million articles must not make
one crawl unbounded: ``TGWATCH_LISTING_LINKS`` (links read per listing page),
``TGWATCH_LISTING_PAGES`` (listing pages per crawl) and ``TGWATCH_ARTICLE_REQUESTS`` (article
requests per crawl, re-checks included) bound it; what is left waits for the next crawl.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class Cap:
    """``limit`` uses of something (``what``) per crawl of ``site``; ``setting`` names the limit."""

    site: str
    what: str
    setting: str
    limit: int
    crawler: Any = None  # its stats count how often the cap held something back
    used: int = 0
    reached: bool = False

    def take(self, where: str = "") -> bool:
        """Count one use; False (after one warning) once the limit is reached."""
        if self.used < self.limit:
            self.used += 1
            return True
        self.hit(where)
        return False

    def hit(self, where: str = "") -> None:
        """Say once that the limit held something back."""
        if self.crawler is not None:
            self.crawler.stats.inc_value(f"tgwatch/capped/{self.setting}")
        if not self.reached:
            self.reached = True
            logger.warning("%s: %s capped at %d (%s)%s; the rest waits for the next crawl",
                           self.site, self.what, self.limit, self.setting, f" at {where}" if where else "")
