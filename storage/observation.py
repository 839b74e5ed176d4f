"""What the crawler hands to the archive about one URL, and what the archive made of it.

The crawler decides what it saw (content, not modified, gone, failed); the archive decides what
that means for the history (new, edited, removed...). Keeping the two apart is what lets the
one-off scrape, the crawl and any later worker version pages the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from storage.content import Content

if TYPE_CHECKING:
    from storage.derived import Derived


@dataclass(frozen=True)
class Capture:
    """The raw response a version was extracted from, kept so extraction can be re-run later."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    links: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    """The page's links (``storage.urls.page_links``), found ahead by the crawl's extraction workers;
    None: recording finds them (``storage.refs`` compresses the capture against their reports)."""


@dataclass(frozen=True)
class Fetched:
    """The page answered with an article."""

    content: Content
    fetched_at: datetime
    capture: Capture | None = None
    etag: str | None = None
    last_modified: str | None = None
    derived: Derived | None = field(default=None, compare=False, repr=False)
    """What recording derives from ``content`` (``storage.derived.derive``), computed ahead by the
    crawl's extraction workers; None: recording computes it."""


@dataclass(frozen=True)
class NotModified:
    """A conditional request was answered 304: the content is the last version's."""

    fetched_at: datetime


@dataclass(frozen=True)
class Gone:
    """A removal signal: 404/410, redirect away to a non-article page, or a soft-404 page.

    One signal is not a removal; the archive flags ``removed`` when it sees a second one.
    """

    reason: str
    fetched_at: datetime
    capture: Capture | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Failed:
    """A failed check (5xx, timeout, reset, unparsable page): never a removal, never an edit."""

    reason: str
    fetched_at: datetime


Observation = Fetched | NotModified | Gone | Failed


class Verdict(StrEnum):
    """What recording one observation did to the archive."""

    NEW = "new"
    EDITED = "edited"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    RESTORED = "restored"
    GONE_PENDING = "gone-pending"  # first removal signal, not yet confirmed
    FAILED = "failed"
    IGNORED = "ignored"  # a removal signal for a URL the archive never knew
