"""What recording derives from one content, computed ahead of the recording transaction.

Recording a version needs the content's fingerprint, its folded search text and its echo
signature (MinHash of the word shingles): several milliseconds of pure CPU per version. A crawl
computes them in its extraction workers (``crawler.worker.read_page``) and carries them on the
``Fetched`` observation, so the crawling process, which also runs the reactor and the single
writer, only writes. ``storage.recording`` uses them when present and computes them itself when
absent (``scrape --save``, tests), with the very same functions: the archive is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from storage.content import VN_TZ, Content, fingerprint
from storage.folding import normalised_search_text
from storage.shingles import bands, minhash_values, packed, shingles

MIN_SHINGLES = 12
"""Texts with fewer shingles (a caption, a one-line notice) are too short to call a copy."""


def pinned(content: Content) -> Content:
    """The content as stored and hashed: ``published_at`` at +07:00, as both backends return it
    (``storage.types.in_vn``; ``Content`` is always timezone-aware, and this module stays clear of
    SQLAlchemy, for the extraction workers)."""
    if content.published_at is None:
        return content
    return replace(content, published_at=content.published_at.astimezone(VN_TZ))


@dataclass(frozen=True)
class EchoEntry:
    """A text's echo-index entry: its number of distinct shingles, MinHash signature as stored and
    LSH band keys (None and empty below ``MIN_SHINGLES``). The keys come from the full MinHash
    values, which the stored signature no longer holds (``storage.shingles``)."""

    shingles: int
    signature: bytes | None
    bands: tuple[int, ...] = ()


def echo_of(text: str) -> EchoEntry:
    """``text``'s entry; raises ImportError/MemoryError when numpy cannot be loaded."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return EchoEntry(len(found), None)
    values = minhash_values(found)
    return EchoEntry(len(found), packed(values), tuple(bands(values)))


@dataclass(frozen=True)
class Derived:
    """The derivations of one (pinned) content; ``echo`` is None when it could not be computed
    (recording then tries again and, failing, leaves the version to ``tgwatch echoes --index``)."""

    empty: bool
    fingerprint: str
    search_text: str
    echo: EchoEntry | None


def derive(content: Content) -> Derived:
    """Everything recording derives from ``content``, as recording itself would compute it."""
    normalised = pinned(content).normalised()  # once, for all three
    if not normalised.title or not normalised.text:  # ``Content.is_empty``
        return Derived(True, "", "", None)
    try:
        echo: EchoEntry | None = echo_of(content.text)
    except (ImportError, MemoryError):  # recording will try again, and log it
        echo = None
    return Derived(False, fingerprint(normalised), normalised_search_text(normalised), echo)
