"""The other reports a capture is compressed against (``storage.captures.REFS_CODEC``).

What a page keeps once its chrome (the site's dictionary) and its own text are known is mostly
other reports: the titles and leads of its "related", "most read" and "newest" lists. The archive
already holds most of them, so a capture is compressed against the title and lead of each report
of the site it links to that the archive holds (``resolve``): 1.44 KB a capture becomes 0.69 KB on
``bench.sitegen``'s site once its links are known. The versions are named exactly, by id, in a
header in front of the zstd frame (``pack``): an article's title changes on an edit, the version
it had then does not (``tgwatch reextract`` corrects one in place: ``storage.reextract`` then
re-encodes the captures that name it, ``naming``).

The header is bounded both ways: at most ``MAX_REFS`` ids, each at most ``_MAX_VARINT`` bytes, so
a corrupt or hostile row cannot make a reader load or allocate more than that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.engine import placeholder
from storage.errors import ArchiveError
from storage.models import ArticleRow, CaptureRow, VersionRow

MAX_REFS = 64
"""Versions one capture names at most: a page's lists link to 20-40 reports."""
MAX_LINKS = 512
"""Links of a page looked up at most (``resolve``): menus and lists, never an unbounded query."""
_MAX_VARINT = 9  # 63 bits: any row id
HEADER_MAX = 1 + MAX_REFS * _MAX_VARINT
"""No header is longer: what ``naming`` reads of a body."""
_RESOLVE = (
    "SELECT articles.url, versions.id, versions.title, versions.lead FROM articles"
    " JOIN versions ON versions.article_id = articles.id AND versions.version = articles.current_version"
    " WHERE articles.site = {0} AND articles.url IN ({1})"
)
"""``resolve``'s query, given straight to the driver: it runs in the crawl's recording thread, where
SQLAlchemy's statement handling costs more than the query (0.19 ms for a page's 109 links on
``bench.scale``'s site against 0.36 as a ``text()`` with an expanding parameter, 0.71 as a
``select()``). Nothing it reads is pending: each recording's savepoint flushed what came before."""
_CACHE_MAX = 20_000
_CACHE = "tgwatch_ref_texts"


class RefError(ArchiveError):
    """A refs header that cannot be read (truncated, too many ids, an id out of range)."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def pack(ids: Sequence[int]) -> bytes:
    """The header naming ``ids`` (distinct, ascending, at most ``MAX_REFS``): their count, then the
    first id and the gaps between them, as varints (a 30-id header takes ~60 bytes)."""
    if len(ids) > MAX_REFS:
        raise ValueError(f"{len(ids)} refs: at most {MAX_REFS}")
    out, last = [_varint(len(ids))], 0
    for value in ids:
        if value <= last:
            raise ValueError("refs must be distinct positive ids in ascending order")
        out.append(_varint(value - last))
        last = value
    return b"".join(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for shift in range(_MAX_VARINT):
        if at >= len(data):
            raise RefError("refs header is truncated")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            return value, at
    raise RefError("refs header holds a varint too long")


def unpack(data: bytes) -> tuple[tuple[int, ...], int]:
    """The ids a body's header names and where its zstd frame starts; bounded (``RefError``)."""
    count, at = _read_varint(data, 0)
    if count > MAX_REFS:
        raise RefError(f"refs header names {count} versions (at most {MAX_REFS})")
    ids, last = [], 0
    for _ in range(count):
        gap, at = _read_varint(data, at)
        if gap == 0:
            raise RefError("refs header repeats an id")
        last += gap
        ids.append(last)
    if last >= 1 << 63:
        raise RefError("refs header names an id out of range")
    return tuple(ids), at


def resolve(session: Session, site: str, links: Iterable[str]) -> list[int]:
    """The versions a page linking to ``links`` (canonical URLs, ``storage.urls.page_links``) is
    compressed against: the current version of each article of ``site`` among them, at most
    ``MAX_REFS``, in ascending order (one query, which also reads their titles and leads)."""
    wanted = list(dict.fromkeys(links))[:MAX_LINKS]
    if not wanted:
        return []
    found: dict[str, int] = {}
    cache: dict[int, bytes] = session.info.setdefault(_CACHE, {})
    if len(cache) > _CACHE_MAX:
        cache.clear()
    connection = session.connection()
    mark = placeholder(connection.dialect.paramstyle)
    query = _RESOLVE.format(mark, ",".join([mark] * len(wanted)))
    for url, version_id, title, lead in connection.exec_driver_sql(query, (site, *wanted)):
        found[url] = version_id
        cache[version_id] = _text(title, lead)  # what ``texts`` reads next, without a query of its own
    ordered = [found[url] for url in wanted if url in found][:MAX_REFS]  # the page's first links
    return sorted(set(ordered))


def texts(session: Session, ids: Sequence[int]) -> bytes:
    """The bytes a capture naming ``ids`` is compressed against: each version's title and lead, in
    order; read through the session's cache (``prefetch``), the rest in one query. A version the
    archive no longer holds is a ``RefError`` naming it."""
    cache: dict[int, bytes] = session.info.setdefault(_CACHE, {})
    _fill(session, cache, [i for i in ids if i not in cache])
    missing = next((i for i in ids if i not in cache), None)
    if missing is not None:
        raise RefError(f"the version {missing} it was compressed against is missing")
    return b"".join(cache[i] for i in ids)


def _text(title: str, lead: str | None) -> bytes:
    return f"{title}\n{lead or ''}\n".encode()


def _fill(session: Session, cache: dict[int, bytes], ids: Sequence[int]) -> None:
    if not ids:
        return
    if len(cache) + len(ids) > _CACHE_MAX:
        cache.clear()
    for start in range(0, len(ids), 500):  # well under any backend's parameter limit
        rows = session.execute(select(VersionRow.id, VersionRow.title, VersionRow.lead)
                               .where(VersionRow.id.in_(ids[start:start + 500])))
        for version_id, title, lead in rows:
            cache[version_id] = _text(title, lead)


def prefetch(session: Session, rows: Iterable[CaptureRow]) -> None:
    """Load in one query the versions every ``REFS_CODEC`` capture of ``rows`` names, for a batch
    of decodes (export, reextract, compact): one query per batch instead of one per capture."""
    from storage.captures import REFS_CODEC

    cache: dict[int, bytes] = session.info.setdefault(_CACHE, {})
    wanted: set[int] = set()
    for row in rows:
        if row.compression == REFS_CODEC:
            try:
                wanted.update(unpack(bytes(row.body[:HEADER_MAX]))[0])
            except RefError:
                continue  # its decode says so, with the capture's id
    _fill(session, cache, sorted(wanted - cache.keys()))


def clear(session: Session) -> None:
    """Drop every cached title and lead (``storage.captures.forget``: after a rollback)."""
    session.info.pop(_CACHE, None)


def forget(session: Session, version_id: int) -> None:
    """Drop a version's cached title and lead (``storage.reextract`` changed them)."""
    session.info.get(_CACHE, {}).pop(version_id, None)


def naming(session: Session, site: str, version_id: int) -> list[CaptureRow]:
    """The captures of ``site`` whose header names ``version_id``: read from their headers alone
    (the first ``HEADER_MAX`` bytes of each body), as no index maps versions to the captures
    compressed against them; only a re-extraction that changes a title or lead asks."""
    from storage.captures import REFS_CODEC

    query = (select(CaptureRow.id, func.substr(CaptureRow.body, 1, HEADER_MAX))
             .join(VersionRow, CaptureRow.version_id == VersionRow.id)
             .join(ArticleRow, VersionRow.article_id == ArticleRow.id)
             .where(ArticleRow.site == site, CaptureRow.compression == REFS_CODEC))
    found = []
    for capture_id, head in session.execute(query):
        try:
            if version_id in unpack(bytes(head))[0]:
                found.append(capture_id)
        except RefError:
            continue
    return list(session.scalars(select(CaptureRow).where(CaptureRow.id.in_(found)))) if found else []
