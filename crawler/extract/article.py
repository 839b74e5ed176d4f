"""The result of extracting one article page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from storage.content import Content


@dataclass(frozen=True)
class Image:
    src: str
    caption: str | None = None


@dataclass(frozen=True)
class Article:
    """An article as a reader sees it, without the page chrome.

    ``published_precision`` says how much of ``published_at`` the page stated: ``day`` (a date
    alone: its 00:00 is no stated time), ``minute`` or ``second``.

    ``paragraphs`` are the body lines after the lead, in page order: paragraphs, sub-headings, list
    items and photo captions (each caption once). Title and byline are fields of their own.
    """

    url: str
    title: str
    paragraphs: list[str]
    lead: str | None = None
    canonical_url: str | None = None
    author: str | None = None
    category: str | None = None
    published_at: datetime | None = None
    published_precision: str | None = None  # day | minute | second: what the page stated
    modified_at: datetime | None = None
    language: str | None = "vi"
    images: list[Image] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The lead first, then the body, one paragraph per line."""
        lines = [self.lead] if self.lead else []
        return "\n".join(lines + list(self.paragraphs))

    def content(self) -> Content:
        """The versioned fields, as the archive compares them."""
        return Content(
            title=self.title,
            lead=self.lead,
            text=self.text,
            author=self.author,
            category=self.category,
            published_at=self.published_at,
            published_precision=self.published_precision,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict; ``published``/``modified`` as ISO 8601 with offset."""
        data = asdict(self)
        data["published"] = self.published_at.isoformat() if self.published_at else None
        data["modified"] = self.modified_at.isoformat() if self.modified_at else None
        del data["published_at"], data["modified_at"]
        data["text"] = self.text
        return data
