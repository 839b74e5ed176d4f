"""Which known articles a crawl re-checks.

Edits and removals happen mostly in an article's first hours and days, rarely years later, so the
default policy (``AgeBackoffPolicy``) re-checks young articles often and old ones rarely, like
diffengine's ``Entry.stale``: an article is due when the time since its last check is at least a
share (TGWATCH_RECHECK_RATIO) of its age, within a floor and a ceiling. The policy is a setting
(``TGWATCH_RECHECK_POLICY``, a dotted path), so a site with other habits can bring its own.

Whatever the policy, an article with a pending removal signal or a failed last check is due: one
more check settles it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from storage.errors import ConfigError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from storage.reads import KnownArticle

RECHECK_MODES = ("due", "all", "none")
"""``--recheck``, ``TGWATCH_RECHECK`` and a site's ``recheck`` key: policy-due, every known article, none."""


class RecheckPolicy(Protocol):
    """Decides whether one known article is due for a re-check now."""

    def is_due(self, article: KnownArticle, now: datetime) -> bool: ...


class AgeBackoffPolicy:
    """Due when ``now - last check >= clamp(ratio * age, min_interval, max_interval)``.

    The age counts from the earlier of publication and first sight, so an old article discovered
    today is treated as old.
    """

    def __init__(self, ratio: float, min_interval: timedelta, max_interval: timedelta) -> None:
        self.ratio = ratio
        self.min_interval = min_interval
        self.max_interval = max_interval

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            settings.getfloat("TGWATCH_RECHECK_RATIO"),
            timedelta(seconds=settings.getfloat("TGWATCH_RECHECK_MIN_INTERVAL")),
            timedelta(seconds=settings.getfloat("TGWATCH_RECHECK_MAX_INTERVAL")),
        )

    def interval(self, article: KnownArticle, now: datetime) -> timedelta:
        """How long this article may go unchecked."""
        born = article.first_seen_at
        if article.published_at is not None and article.published_at < born:
            born = article.published_at
        age = max(now - born, timedelta(0))
        return min(max(age * self.ratio, self.min_interval), self.max_interval)

    def is_due(self, article: KnownArticle, now: datetime) -> bool:
        if unsettled(article):
            return True
        return now - article.last_checked_at >= self.interval(article, now)


def unsettled(article: KnownArticle) -> bool:
    """A pending removal signal or a failed last check: the next crawl must look again."""
    return (article.gone_signals > 0 and article.removed_at is None) or article.failed_checks > 0


def check_mode(mode: str, source: str = "recheck") -> str:
    """``mode`` if it is one of RECHECK_MODES, else a one-line ``ConfigError``."""
    if mode not in RECHECK_MODES:
        raise ConfigError(source, f"recheck must be one of {', '.join(RECHECK_MODES)}, not {mode!r}")
    return mode


def select_rechecks(
    known: list[KnownArticle], mode: str, policy: RecheckPolicy, now: datetime
) -> list[KnownArticle]:
    """The articles to re-check in this crawl, the longest unchecked first."""
    if mode == "none":
        return []
    chosen = known if mode == "all" else [a for a in known if policy.is_due(a, now)]
    return sorted(chosen, key=lambda a: a.last_checked_at)
