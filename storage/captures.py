"""Raw captures as stored: zstd, with a dictionary trained on the site's own pages.

A site's pages share most of their bytes (``<head>``, menus, sidebars, footer), so each page
compressed alone pays for that chrome again. Once a site has ``TRAIN_AFTER`` captures, a zstd
dictionary is trained on its newest ones (``capture_dictionaries``) and every later capture of the
site is compressed with it: a 40 KB page takes about 3 KB instead of 9 with zlib. Each capture
row names its codec (``compression``) and its dictionary (``dictionary_id``, null for none), and
dictionaries are never changed or deleted, so every capture ever written stays readable: zlib
rows of older archives included. ``tgwatch compact`` re-compresses older captures with their
site's newest dictionary (``compact_batch``), a bounded batch per transaction.

What the dictionary leaves of a page is its article text and other reports' headlines: a capture is
compressed against its version's text (``TEXT_CODEC``: the text is stored once, in ``versions``)
and against the titles and leads of the archived reports the page links to (``REFS_CODEC``,
``storage.refs``): 1.44 KB a capture of ``bench.scale``'s site becomes 0.69 once its links are known.

Everything that reads or writes a capture body goes through ``encode``/``decode``. Decoding is
bounded: never more than the row's recorded ``size`` (itself at most ``MAX_CAPTURE``), so a
corrupt or hostile row cannot make a reader allocate more than that.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import zstandard
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, object_session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from storage import refs as _refs
from storage.errors import ArchiveError
from storage.models import ArticleRow, CaptureDictionaryRow, CaptureRow, VersionRow
from storage.textpack import Dictated, DictatedJSON, WordCodec, Words, stored
from storage.types import now
from storage.urls import page_links

CODEC = "zstd"
TEXT_CODEC = "zstd+text"
"""zstd against the site dictionary's bytes and the version's text (``encode``)."""
REFS_CODEC = "zstd+refs"
"""zstd against the site dictionary's bytes, the titles and leads of the reports the page links to
(``storage.refs``: named by version id in a header in front of the frame) and the version's text."""
LEVEL = 9
"""zstd level: ~1 ms per 40 KB page with a dictionary; higher levels gain little for 3x the time."""
TRAIN_AFTER = 32
"""Captures a site needs before its dictionary is trained: 32 pages teach zstd a site's chrome as
well as 256 do (3.0 KB per page either way on ``bench/sitegen.py``'s site; ``compact --retrain``
learns from more), and each capture stored before it costs a page of the file (9 KB compressed
alone; its page stays mostly empty once compaction shrinks it)."""
TRAIN_SAMPLES = 256
"""The newest captures of the site a dictionary is trained on: their pages and their headers (packed
with it on SQLite: ~70 bytes a capture instead of ~250 of JSON)."""
DICTIONARY_SIZE = 112_640
"""zstd's default dictionary size: enough for a site's whole chrome."""
RETRAIN_TEXTS_AFTER = 4 * TRAIN_SAMPLES
"""Captures a site needs before its texts' vocabulary and dictionary, first trained on ``TRAIN_AFTER``
texts, are trained again on ``TRAIN_SAMPLES`` (``_retrain_texts``)."""
RETRAIN_EVERY = 128
"""A process looks whether a site's texts are due for that once every this many of its captures."""
PAGES, TEXTS, WORDS = "pages", "texts", "words"
"""Kinds of dictionaries (``capture_dictionaries.kind``): of a site's pages (captures and their
headers are compressed with it), of its reports' texts (``versions.text`` on SQLite) and its
vocabulary (``storage.textpack.Words``, since migration 0014: the texts' one is then trained on
texts written in it, and packs them with it)."""
MAX_CAPTURE = 64 * 1024 * 1024
"""No capture decodes to more than this (the crawl keeps at most 10 MiB of a page)."""
_CHUNK = 1 << 16


class CaptureError(ArchiveError):
    """A stored capture cannot be decoded (unknown codec, missing dictionary, corrupt or oversized)."""


@dataclass(frozen=True)
class Encoded:
    compression: str
    dictionary_id: int | None
    body: bytes


_READY: dict[str, zstandard.ZstdCompressionDict] = {}
"""Dictionaries ready for use, by the SHA-256 of their bytes (so the same in any archive)."""
_READY_MAX = 32
_LOCK = threading.Lock()


def _load(session: Session, dictionary_id: int) -> zstandard.ZstdCompressionDict:
    """The dictionary ``dictionary_id``, its bytes read once per process (a digested zstd dictionary
    is read-only: threads share it)."""
    cache: dict[int, zstandard.ZstdCompressionDict] = session.info.setdefault("tgwatch_dictionaries", {})
    if dictionary_id in cache:
        return cache[dictionary_id]
    digest = session.scalar(select(CaptureDictionaryRow.digest).where(CaptureDictionaryRow.id == dictionary_id))
    if digest is None:
        raise CaptureError(f"capture dictionary {dictionary_id} is missing from the archive")
    with _LOCK:
        ready = _READY.get(digest)
    if ready is None:
        data = session.scalar(select(CaptureDictionaryRow.data).where(CaptureDictionaryRow.id == dictionary_id))
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise CaptureError(f"capture dictionary {dictionary_id} does not match its digest")
        ready = zstandard.ZstdCompressionDict(bytes(data))
        ready.precompute_compress(level=LEVEL)
        with _LOCK:
            if len(_READY) >= _READY_MAX:
                _READY.pop(next(iter(_READY)))
            _READY[digest] = ready
    cache[dictionary_id] = ready
    return ready


def text_dictionary(session: Session, dictionary_id: int | None) -> zstandard.ZstdCompressionDict | None:
    """The dictionary ``dictionary_id``, loaded (None: none)."""
    return _load(session, dictionary_id) if dictionary_id is not None else None


def site_text_dictionary(session: Session, site: str) -> zstandard.ZstdCompressionDict | WordCodec | None:
    """What a new version's text of ``site`` is packed with (``storage.textpack``): the site's
    newest ``texts`` dictionary with the vocabulary it was trained for (1.0 KB a 4.5 KB text on
    ``bench.sitegen``'s site), or alone (trained before migration 0014: 1.5 KB), else its newest
    pages' dictionary (trained before migration 0013: 1.6 KB), else none."""
    pages = site_dictionary(session, site)
    if pages is None:  # a texts' dictionary is only ever trained with a pages' one (``train``)
        return None
    texts = _newest(session, site, TEXTS, remember_none=True)  # ``train`` tells the cache of a new one
    dictionary = text_dictionary(session, texts if texts is not None else pages)
    words_id = _newest(session, site, WORDS, remember_none=True)
    words = _words(session, words_id) if words_id is not None and dictionary is not None else None
    if words is not None and dictionary is not None and words.texts == dictionary.dict_id():
        return WordCodec(words, dictionary)
    return dictionary


def _words(session: Session, row_id: int) -> Words | None:
    """The vocabulary stored in row ``row_id``, parsed once per process (by its digest), asked once
    per session."""
    cache: dict[int, Words | None] = session.info.setdefault("tgwatch_words", {})
    if row_id not in cache:
        digest = session.scalar(select(CaptureDictionaryRow.digest).where(CaptureDictionaryRow.id == row_id))
        found = digest and stored(digest, lambda: session.scalar(select(CaptureDictionaryRow.data).where(
            CaptureDictionaryRow.id == row_id)))
        cache[row_id] = found if isinstance(found, Words) else None
    return cache[row_id]


def forget(session: Session) -> None:
    """Drop what ``site_dictionary`` and ``_load`` cached in ``session``: after a rollback to a
    savepoint a dictionary trained inside it no longer exists (and its id may be given again)."""
    for kind in (PAGES, TEXTS, WORDS):
        session.info.pop(f"tgwatch_site_dictionaries_{kind}", None)
    session.info.pop("tgwatch_dictionaries", None)
    session.info.pop("tgwatch_dictionary_bytes", None)
    _refs.clear(session)  # a version inserted inside it is gone too (and its id may be given again)
    session.info.pop("tgwatch_words", None)


def site_dictionary(session: Session, site: str) -> int | None:
    """The id of the site's newest pages' dictionary, if it has one; asked once per session and
    site (a batch of recordings shares its session), except while the site has none: it may be trained
    during the session. Dictionaries are never deleted, so a known id stays usable."""
    return _newest(session, site, PAGES, remember_none=False)


def _newest(session: Session, site: str, kind: str, *, remember_none: bool) -> int | None:
    """The id of the site's newest dictionary of ``kind``, asked once per session and site
    (``remember_none``: also when it has none), kept in ``session.info`` (``forget`` drops it)."""
    known: dict[str, int | None] = session.info.setdefault(f"tgwatch_site_dictionaries_{kind}", {})
    if site not in known:
        found = session.scalar(select(func.max(CaptureDictionaryRow.id)).where(
            CaptureDictionaryRow.site == site, CaptureDictionaryRow.kind == kind))
        if found is None and not remember_none:
            return None
        known[site] = found
    return known[site]


def _site_bytes(session: Session, dictionary_id: int | None) -> bytes:
    """The dictionary's bytes, copied out of zstd once per session (112 KB a copy)."""
    if dictionary_id is None:
        return b""
    cache: dict[int, bytes] = session.info.setdefault("tgwatch_dictionary_bytes", {})
    if dictionary_id not in cache:
        cache[dictionary_id] = _load(session, dictionary_id).as_bytes()
    return cache[dictionary_id]


def _prefix(
    session: Session, dictionary_id: int | None, text: str, others: bytes = b""
) -> zstandard.ZstdCompressionDict:
    """The raw-content dictionary of a ``TEXT_CODEC`` or ``REFS_CODEC`` capture: the site dictionary's
    bytes, then ``others`` (the linked reports' titles and leads), then the version's text (last:
    zstd reaches the nearest bytes most cheaply). The site's bytes come from ``_site_bytes``: copied
    out of zstd for every capture, they made a capture's encoding cost 0.97 ms instead of 0.81 on
    ``bench.scale``'s pages; the dictionary object itself costs ~3 µs (zstd reads it in ``compress``)."""
    data = b"".join((_site_bytes(session, dictionary_id), others, text.encode("utf-8")))
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def encode(session: Session, body: bytes, dictionary_id: int | None, text: str | None = None,
           refs: Sequence[int] = ()) -> Encoded:
    """``body`` compressed with zstd and the dictionary ``dictionary_id`` (or none); given the text
    extracted from it, against that text too (``TEXT_CODEC``): the page's article text is then
    stored once, in ``versions``, and the capture keeps only the rest; given ``refs`` (version ids,
    ``storage.refs.resolve``), against their titles and leads too (``REFS_CODEC``)."""
    if text and refs:
        others = _refs.texts(session, refs)
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=_prefix(session, dictionary_id, text, others),
                                              write_checksum=True)
        return Encoded(REFS_CODEC, dictionary_id, _refs.pack(refs) + compressor.compress(body))
    if text:
        prefix = _prefix(session, dictionary_id, text)
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=prefix, write_checksum=True)
        return Encoded(TEXT_CODEC, dictionary_id, compressor.compress(body))
    if dictionary_id is None:
        compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    else:
        compressor = zstandard.ZstdCompressor(dict_data=_load(session, dictionary_id), write_checksum=True)
    return Encoded(CODEC, dictionary_id, compressor.compress(body))


def _text_of(session: Session | None, row: CaptureRow) -> str:
    """The text of the version a ``TEXT_CODEC`` capture was compressed against (unflushed edits
    of that version's text are not seen: ``rebase`` re-encodes before the text changes)."""
    if session is None:
        raise CaptureError(f"capture {row.id}: its version's text needs a session")
    version = row.__dict__.get("version")
    if version is not None and "text" in version.__dict__ and not session.is_modified(version):
        return str(version.text)
    text = session.scalar(select(VersionRow.text).where(VersionRow.id == row.version_id))
    if text is None:
        raise CaptureError(f"capture {row.id}: its version {row.version_id} is missing")
    return text


def decode(session: Session | None, row: CaptureRow) -> bytes:
    """The raw bytes of one stored capture, exactly as fetched; at most ``row.size`` bytes decoded."""
    size = row.size
    if not 0 <= size <= MAX_CAPTURE:
        raise CaptureError(f"capture {row.id}: recorded size {size} is out of bounds")
    body = bytes(row.body)
    if row.compression in {"", "none"}:
        out = body
    elif row.compression == "zlib":
        inflater = zlib.decompressobj()
        out = inflater.decompress(body, size + 1)
    elif row.compression in {CODEC, TEXT_CODEC, REFS_CODEC}:
        if row.compression in {TEXT_CODEC, REFS_CODEC}:
            if session is None:
                raise CaptureError(f"capture {row.id}: its dictionary needs a session")
            others = b""
            if row.compression == REFS_CODEC:
                try:
                    ids, start = _refs.unpack(body)
                    others = _refs.texts(session, ids)
                except _refs.RefError as exc:
                    raise CaptureError(f"capture {row.id}: {exc}") from None
                body = body[start:]
            decompressor = zstandard.ZstdDecompressor(dict_data=_prefix(session, row.dictionary_id,
                                                                        _text_of(session, row), others))
        elif row.dictionary_id is None:
            decompressor = zstandard.ZstdDecompressor()
        else:
            if session is None:
                raise CaptureError(f"capture {row.id}: its dictionary needs a session")
            decompressor = zstandard.ZstdDecompressor(dict_data=_load(session, row.dictionary_id))
        try:
            with decompressor.stream_reader(io.BytesIO(body), read_size=_CHUNK) as reader:
                out = reader.read(size + 1)
        except zstandard.ZstdError as exc:
            raise CaptureError(f"capture {row.id}: corrupt zstd data ({exc})") from None
    else:
        raise CaptureError(f"capture {row.id}: unknown compression {row.compression!r}")
    if len(out) != size:
        raise CaptureError(f"capture {row.id}: decodes to {'more' if len(out) > size else len(out)} bytes, "
                           f"not the {size} recorded")
    return out


def body_of(row: CaptureRow) -> bytes:
    """``decode`` for a row loaded by a session (the one the dictionary is read through)."""
    return decode(object_session(row), row)


def _site_captures(site: str) -> Select[CaptureRow]:
    return (
        select(CaptureRow)
        .join(VersionRow, CaptureRow.version_id == VersionRow.id)
        .join(ArticleRow, VersionRow.article_id == ArticleRow.id)
        .where(ArticleRow.site == site)
    )


def _capture_count(session: Session, site: str) -> int:
    return session.scalar(select(func.count()).select_from(_site_captures(site).subquery())) or 0


def _next_id(session: Session) -> int:
    """The id the next dictionary (or vocabulary) is named by: 32768 + its row's (zstd reserves lower
    ids; texts packed with it name it by that id, ``storage.textpack``, so no two of an archive share one)."""
    return 32768 + (session.scalar(select(func.max(CaptureDictionaryRow.id))) or 0) + 1


def _stored(session: Session, site: str, kind: str, samples: list[Any], count: int) -> int | None:
    """A dictionary of ``kind`` trained on ``samples`` (of ``count`` captures) and stored; its id
    (None: zstd cannot learn from them)."""
    try:
        trained = zstandard.train_dictionary(DICTIONARY_SIZE, samples, k=2048, d=6, level=LEVEL,
                                             dict_id=_next_id(session))
    except zstandard.ZstdError:  # samples too alike or too small to learn from: stay without
        return None
    return _row(session, site, kind, trained.as_bytes(), count)


def _row(session: Session, site: str, kind: str, data: bytes, count: int) -> int:
    """A dictionary (or vocabulary) of ``kind`` stored; its row's id."""
    row = CaptureDictionaryRow(site=site, kind=kind, created_at=now(), samples=count, size=len(data),
                               digest=hashlib.sha256(data).hexdigest(), data=data)
    session.add(row)
    session.flush()
    session.info.setdefault(f"tgwatch_site_dictionaries_{kind}", {})[site] = row.id  # newest: site_(text_)dictionary
    return row.id


def train(session: Session, site: str) -> int | None:
    """Train and store the site's dictionaries from its newest captures: the pages' one (their pages
    and headers), the vocabulary of their versions' texts and the texts' one (on those texts written
    in it); the pages' id (None: too few)."""
    rows = session.scalars(_site_captures(site).order_by(CaptureRow.id.desc()).limit(TRAIN_SAMPLES)
                           .options(selectinload(CaptureRow.version))).all()
    if len(rows) < TRAIN_AFTER:
        return None
    pages = [decode(session, row) for row in rows] + [json.dumps(row.headers).encode("utf-8") for row in rows]
    texts = [str(row.version.text) for row in rows if row.version.text]
    found = _stored(session, site, PAGES, pages, len(rows))
    if found is not None and texts:
        _train_texts(session, site, texts)
    return found


def _train_texts(session: Session, site: str, texts: list[str]) -> None:
    """Store the vocabulary of ``texts`` and the texts' dictionary trained on them written in it."""
    words = Words.learn(texts)
    texts_id = _stored(session, site, TEXTS, [words.encode(text) for text in texts], len(texts))
    if texts_id is not None:  # named by the row it is about to take; naming the dictionary of its texts
        words = words.named(_next_id(session), 32768 + texts_id)
        _row(session, site, WORDS, words.to_bytes(), len(texts))


_SEEN: dict[str, int] = {}
"""Captures of each site this process has compressed: ``_retrain_texts`` looks every ``RETRAIN_EVERY``."""
_SEEN_LOCK = threading.Lock()


def _retrain_texts(session: Session, site: str) -> None:
    """Train the site's texts' vocabulary and dictionary again, once, on its newest ``TRAIN_SAMPLES``
    texts when they were first trained on fewer (the ``TRAIN_AFTER`` texts a new site has) and the site
    now has ``RETRAIN_TEXTS_AFTER`` captures: a vocabulary of 32 texts leaves more words to spell out
    (1.23 KB a 4.5 KB text on ``bench.sitegen``'s site, 1.05 KB with 256). SQLite only (PostgreSQL keeps
    texts plain); older texts keep theirs until ``tgwatch compact --retrain``. Looked at every
    ``RETRAIN_EVERY`` captures of the site this process compresses, not on each one."""
    with _SEEN_LOCK:
        _SEEN[site] = seen = _SEEN.get(site, 0) + 1
    if seen % RETRAIN_EVERY or session.get_bind().dialect.name != "sqlite":
        return
    texts_id = _newest(session, site, TEXTS, remember_none=True)
    if texts_id is None:
        return
    samples = session.scalar(select(CaptureDictionaryRow.samples).where(CaptureDictionaryRow.id == texts_id))
    if samples is None or samples >= TRAIN_SAMPLES:
        return
    count = _capture_count(session, site)
    if count < RETRAIN_TEXTS_AFTER:
        return
    texts = session.scalars(select(VersionRow.text).join(ArticleRow, VersionRow.article_id == ArticleRow.id)
                            .where(ArticleRow.site == site, VersionRow.text != "")
                            .order_by(VersionRow.id.desc()).limit(TRAIN_SAMPLES)).all()
    _train_texts(session, site, [str(text) for text in texts])


def compress_for(session: Session, site: str, body: bytes, text: str | None = None,
                 links: Sequence[str] = ()) -> Encoded:
    """How a new capture of ``site`` is stored: against the reports of ``links`` (the page's links,
    ``storage.urls.page_links``) the archive holds (``storage.refs``), with the site's dictionary,
    trained (and the site's first captures re-compressed with it) once the site has ``TRAIN_AFTER``
    captures. A site whose pages zstd cannot learn from is tried again every ``TRAIN_AFTER``
    captures, not on each one (training reads and decodes ``TRAIN_SAMPLES`` captures: not a cost for
    every recording)."""
    dictionary_id = site_dictionary(session, site)
    if dictionary_id is None:
        count = _capture_count(session, site)
        if count >= TRAIN_AFTER and count % TRAIN_AFTER == 0:
            dictionary_id = train(session, site)
            after = 0
            while dictionary_id is not None and (after := compact_batch(session, site, dictionary_id,
                                                                       after=after).last_id):
                pass
    else:
        _retrain_texts(session, site)
    return encode(session, body, dictionary_id, text, _refs.resolve(session, site, links) if text else ())


def refs_of(row: CaptureRow) -> tuple[int, ...]:
    """The versions a capture was compressed against (none unless ``REFS_CODEC``)."""
    return _refs.unpack(bytes(row.body[:_refs.HEADER_MAX]))[0] if row.compression == REFS_CODEC else ()


def rebase(session: Session, row: CaptureRow, body: bytes, text: str) -> None:
    """Store ``body`` (the capture's bytes, decoded before its version's text, or the title or lead of
    a version it names, changed) against the version's ``text`` and the titles and leads of the
    versions it names, as they are now: a re-extraction that corrects them must not orphan it."""
    encoded = encode(session, body, row.dictionary_id, text, refs_of(row))
    row.compression, row.dictionary_id, row.body = encoded.compression, encoded.dictionary_id, encoded.body


@dataclass(frozen=True)
class Compacted:
    """What one ``compact_batch`` did."""

    last_id: int  # 0: nothing was left to look at
    rewritten: int
    before: int  # bytes of the rewritten bodies, before and after
    after: int


def compact_batch(
    session: Session, site: str, dictionary_id: int | None, *, after: int = 0, batch: int = 200,
    refresh: bool = False,
) -> Compacted:
    """Re-compress up to ``batch`` captures of ``site`` (ids above ``after``) not yet stored against
    their text (``TEXT_CODEC``, ``REFS_CODEC``) with ``dictionary_id`` (None: no dictionary), their
    headers with it and their versions' texts with the site's text dictionary
    (``site_text_dictionary``); one that would not shrink (and is zstd already) is left as it is.
    Each is compressed against the reports of its links the archive holds now (``storage.refs``);
    ``refresh``: the captures stored so already are looked at again for that (a site's first
    captures link to reports recorded after them: 1.39 KB a capture become 0.65 on ``bench.scale``)."""
    text_codec = CaptureRow.compression.in_([TEXT_CODEC, REFS_CODEC])
    if refresh:
        other = CaptureRow.id > 0
    elif dictionary_id is None:
        other = ~text_codec
    else:
        other = ~text_codec | CaptureRow.dictionary_id.is_(None) | (CaptureRow.dictionary_id != dictionary_id)
    query = _site_captures(site).where(CaptureRow.id > after, other).order_by(CaptureRow.id).limit(batch)
    rows = session.scalars(query.options(selectinload(CaptureRow.version))).all()
    _refs.prefetch(session, rows)
    rewritten = before = smaller = 0
    for row in rows:
        text = str(row.version.text)
        body = decode(session, row)
        named = _refs.resolve(session, site, page_links(body, row.url)) if text else []
        encoded = encode(session, body, dictionary_id, text, named)
        if len(encoded.body) < len(row.body) or row.compression not in {CODEC, TEXT_CODEC, REFS_CODEC}:
            rewritten, before, smaller = rewritten + 1, before + len(row.body), smaller + len(encoded.body)
            row.compression, row.dictionary_id, row.body = encoded.compression, encoded.dictionary_id, encoded.body
            if dictionary_id is not None and session.get_bind().dialect.name == "sqlite":  # its text and headers too
                row.version.text = Dictated.of(text, site_text_dictionary(session, site))
                flag_modified(row.version, "text")
                row.headers = DictatedJSON.of(dict(row.headers), _load(session, dictionary_id))
                flag_modified(row, "headers")
    session.flush()
    return Compacted(rows[-1].id if rows else 0, rewritten, before, smaller)


def capture_sites(session: Session) -> list[str]:
    """Sites that have captures."""
    query = (select(ArticleRow.site).distinct()
             .join(VersionRow, VersionRow.article_id == ArticleRow.id)
             .join(CaptureRow, CaptureRow.version_id == VersionRow.id).order_by(ArticleRow.site))
    return list(session.scalars(query))
