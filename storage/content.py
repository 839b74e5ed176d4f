"""What counts as an article's content, and when two contents are the same.

The versioning rule lives here once: a re-crawl is *unchanged* when the fingerprint of the
normalised content is the same, whatever else on the page moved. Normalisation is Unicode NFC,
non-breaking spaces as spaces and folded whitespace, so a page served in NFD or with ``&nbsp;``
for spaces is not an edit.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnamese local time: every time the sites show is +07:00."""

CONTENT_FIELDS = ("title", "lead", "text", "author", "category", "published_at")
"""Names used in ``changes.fields``, in this order."""

PRECISIONS = (None, "day", "minute", "second")
"""How much of a publication time the page stated."""

_SPACES = re.compile(r"[^\S\n]+")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalise_text(value: str | None) -> str:
    """NFC, no zero-width characters or soft hyphens, spaces folded, lines trimmed, blank lines gone."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value).translate(_ZERO_WIDTH)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in value.split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Content:
    """The fields of one version of an article, as versioned and compared.

    ``text`` is the body as a reader reads it, one paragraph per line, the lead first; title and
    byline are fields of their own.
    """

    title: str
    text: str
    lead: str | None = None
    author: str | None = None
    category: str | None = None
    published_at: datetime | None = None
    published_precision: str | None = None
    """``day`` (a date alone: 00:00 is no stated time), ``minute`` or ``second``. Not part of the
    fingerprint: it describes ``published_at``, and archives hashed before it existed stay unchanged."""

    def __post_init__(self) -> None:
        if self.published_at is not None and self.published_at.tzinfo is None:
            raise ValueError("Content.published_at must be timezone-aware")
        if self.published_precision not in PRECISIONS:
            raise ValueError(f"Content.published_precision must be one of {PRECISIONS}")

    def normalised(self) -> Content:
        """The same content with every text field normalised (what is hashed and compared)."""
        return replace(
            self,
            title=normalise_text(self.title),
            text=normalise_text(self.text),
            lead=normalise_text(self.lead) or None,
            author=normalise_text(self.author) or None,
            category=normalise_text(self.category) or None,
        )

    def is_empty(self) -> bool:
        """An extraction with no title or no text is never a version."""
        n = self.normalised()
        return not n.title or not n.text

    def canonical_json(self) -> str:
        """Stable serialisation of the normalised content: the fingerprint's input."""
        return canonical_json(self.normalised())

    def fingerprint(self) -> str:
        """SHA-256 of the normalised content."""
        return fingerprint(self.normalised())

    def changed_fields(self, other: Content) -> list[str]:
        """Names of the fields that differ after normalisation, in ``CONTENT_FIELDS`` order."""
        a, b = self.normalised(), other.normalised()
        return [name for name in CONTENT_FIELDS if getattr(a, name) != getattr(b, name)]


def canonical_json(n: Content) -> str:
    """``Content.canonical_json`` of a content ``n`` already normalised (``Content.normalised``)."""
    data = {f.name: getattr(n, f.name) for f in fields(n) if f.name != "published_precision"}
    if n.published_at is not None:
        data["published_at"] = n.published_at.isoformat()
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fingerprint(n: Content) -> str:
    """``Content.fingerprint`` of a content ``n`` already normalised: normalising is the costly part."""
    return hashlib.sha256(canonical_json(n).encode("utf-8")).hexdigest()
