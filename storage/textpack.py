"""Version texts stored compressed on SQLite, readable as plain text in SQL.

A report's text is the largest thing a version holds (4–5 KB); zstd with the site's capture
dictionary (trained on its pages, which hold many reports' words: ``storage.captures``) stores it
in about a third of that, 45% without one. On SQLite ``versions.text`` therefore holds a zstd
frame (a BLOB in a column declared TEXT: SQLite keeps it as it is given; the frame names its dictionary by
zstd dictionary id), and every connection tgwatch opens, the read-only ones of ``tgwatch sql``
and ``tgwatch serve`` included, has the SQL function ``tgwatch_text(x)`` that gives the plain text
back, finding the dictionary in ``capture_dictionaries`` (plain text it returns unchanged).
PostgreSQL keeps the text plain (TOAST compresses it) and has an identity ``tgwatch_text``
(migration ``0012``), so one query reads texts on both backends. Models read through that
function (``PackedText.column_expression``) and write plain ``str``, or a ``Dictated`` one naming
the dictionary to pack it with.

A site trained since migration 0014 also has a vocabulary (``Words``: its newest texts' most
frequent tokens, a word and its following space, or a run of other characters), stored in
``capture_dictionaries`` (kind ``words``) and never changed, and its texts' zstd dictionary is
trained on texts written in it (``Words.encode``: a token of the vocabulary is one or two bytes,
any other a literal). Such a value is ``WORDS_MAGIC``, the vocabulary's id, then the zstd frame:
a ``bench.sitegen`` text of 4.7 KB takes 1.05 KB instead of 1.57, packed in 0.36 ms instead of 0.40
(zstd has a third of the bytes to compress), read back in 0.12 ms instead of 0.02 (a regular
expression's match per token); the fixture sites' Vietnamese reports take 17% less. Values of every older form
read as they did.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import zstandard
from sqlalchemy import JSON, ColumnElement, Dialect, Text, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

LEVEL = 12
"""zstd level without a dictionary (0.4 ms per 4.6 KB text)."""
DICTIONARY_LEVEL = 12
"""zstd level with a dictionary, prepared for it once per process (``_prepared``): on
``bench.sitegen``'s site a 4.6 KB text takes 1.60 KB with the site's texts dictionary in 0.4 ms
of CPU (1.62 KB in 0.2 ms at level 9; 1.51 KB at 15, but in 0.7 ms of the recording thread, which
shares the crawl process's interpreter with the reactor: the first crawl's throughput pays for it)."""
SMALL_LEVEL = 9
"""zstd level of a small value with a dictionary: the one ``storage.captures`` prepares its
dictionaries for (no second copy of their tables); 250 bytes of headers take 66 either way."""
MAX_TEXT = 64 * 1024 * 1024
"""No stored text unpacks to more than this (a corrupt or hostile row cannot make a reader allocate more)."""
FUNCTION = "tgwatch_text"
_MAGIC = b"\x28\xb5\x2f\xfd"
WORDS_MAGIC = b"\xf7"
"""First byte of a value packed with a vocabulary (never a zstd frame's first byte, nor UTF-8's):
then the vocabulary's id (4 bytes, big-endian), then the zstd frame of the text written in it."""
_WORDS_HEADER = len(WORDS_MAGIC) + 4
WORDS_FORMAT = b"tgwatch-words/1\n"
"""How a vocabulary's ``capture_dictionaries.data`` begins (then JSON: ``Words.to_bytes``)."""
ONE_BYTE = 216
"""Codes 0..215: the vocabulary's most frequent tokens, one byte each (on ``bench.sitegen``'s site
the texts take 1% less than with 200 of them: most are the 200 most frequent words)."""
_ESCAPE, _END = 0xFE, 0xFF
"""A literal is ``_ESCAPE``, its UTF-8, ``_END``: UTF-8 never holds either byte, so any text has
one reading; neither is the second byte of a two-byte code (so a corrupt stream is read in linear time)."""
_SECOND = 254
CAPACITY = ONE_BYTE + (_ESCAPE - ONE_BYTE) * _SECOND
"""Tokens of a vocabulary: the next ones take two bytes (a lead byte 216..253, then 0..253)."""
MAX_TOKEN = 40
"""Longest token (characters) a vocabulary learns: a longer one is rare enough to stay a literal."""
MAX_STREAM = 1 << 20
"""Longest text written in a vocabulary (bytes) that ``pack`` writes and ``unpack`` reads: a longer
text is packed as a plain frame (no report comes near), so reading one holds at most this many tokens."""
TOKEN = re.compile(r"\w+ ?|\W+")
"""A text's tokens: a word with the space after it, or a run of other characters (together, the
whole text: every character is ``\\w`` or ``\\W``)."""
_CODES = re.compile(rb"[\x00-%b]|[%b-\xfd][\x00-\xfd]|\xfe[^\xfe\xff]*\xff|[\x00-\xff]"
                    % (re.escape(bytes([ONE_BYTE - 1])), re.escape(bytes([ONE_BYTE]))))
"""A written text's codes: one byte, a lead and a second byte, a literal; or a byte that is none of
these (a stray ``_ESCAPE`` or ``_END``, a lead byte at the end: only a corrupt stream has one)."""
_UNKNOWN = "\ufffd".encode()
"""What a code no token has, or a stray byte, reads as: U+FFFD, as invalid UTF-8 does."""

Finder = Callable[[int], "zstandard.ZstdCompressionDict | None"]
"""A zstd dictionary by its dictionary id (None: unknown)."""
WordsFinder = Callable[[int], "Words | None"]
"""A vocabulary by its id (None: unknown)."""


class TextPackError(ValueError):
    """A stored text is not a zstd frame, is corrupt, needs a missing dictionary or vocabulary or
    unpacks to more than ``MAX_TEXT``."""


def _code(index: int) -> bytes:
    if index < ONE_BYTE:
        return bytes((index,))
    lead, second = divmod(index - ONE_BYTE, _SECOND)
    return bytes((ONE_BYTE + lead, second))


class _Codebook(dict[str, bytes]):
    """Token → code; any other token, its literal (Python runs only for these: C does the rest)."""

    def __missing__(self, token: str) -> bytes:
        return b"\xfe" + token.encode("utf-8") + b"\xff"


class _Table(dict[bytes, bytes]):
    """Code → its token's UTF-8 (every other code or stray byte → ``_UNKNOWN``); a literal, the one
    code not in it, is given back as it is (``Words.decode`` then drops its delimiters)."""

    def __missing__(self, code: bytes) -> bytes:
        return code


class Words:
    """A site's vocabulary: its newest texts' most frequent tokens (``TOKEN``), most frequent first,
    and the id values written in it name it by (``WORDS_MAGIC``); ``texts``: the zstd dictionary id
    of the dictionary trained on texts written in it."""

    def __init__(self, words_id: int, tokens: Sequence[str], texts: int = 0) -> None:
        if len(tokens) > CAPACITY:
            raise TextPackError(f"a vocabulary holds at most {CAPACITY} tokens, not {len(tokens)}")
        self.id, self.tokens, self.texts = words_id, tuple(tokens), texts
        codes = [_code(index) for index in range(len(tokens))]
        self._book = _Codebook(zip(reversed(tokens), reversed(codes)))  # a repeated token: its first code
        self._table = _Table(zip(codes, (token.encode("utf-8") for token in tokens)))
        self._longest = max(map(len, self._table.values()), default=0) + len(_UNKNOWN)
        for index in range(len(tokens), CAPACITY):
            self._table[_code(index)] = _UNKNOWN
        for stray in (_ESCAPE, _END, *range(ONE_BYTE, _ESCAPE)):
            self._table[bytes((stray,))] = _UNKNOWN
        self.header = WORDS_MAGIC + words_id.to_bytes(4, "big")

    @classmethod
    def learn(cls, texts: Iterable[str], words_id: int = 0, texts_id: int = 0) -> Words:
        """The vocabulary of ``texts``: tokens seen twice or more, at most ``MAX_TOKEN`` characters,
        the most frequent first (with those seen once, a site's first training, on 32 texts, packs
        its later texts 2.6% larger; on 256 the same)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(TOKEN.findall(text))
        tokens = [token for token, count in counts.most_common() if count > 1 and len(token) <= MAX_TOKEN]
        return cls(words_id, tokens[:CAPACITY], texts_id)

    def named(self, words_id: int, texts_id: int) -> Words:
        """The same vocabulary under the ids it is stored with."""
        return Words(words_id, self.tokens, texts_id)

    def to_bytes(self) -> bytes:
        body = {"id": self.id, "texts": self.texts, "tokens": list(self.tokens)}
        return WORDS_FORMAT + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Words:
        """A stored vocabulary (``to_bytes``); a malformed one is refused."""
        try:
            body = json.loads(data[len(WORDS_FORMAT):] if data.startswith(WORDS_FORMAT) else b"")
            tokens, words_id, texts = body["tokens"], body["id"], body["texts"]
        except (ValueError, TypeError, KeyError):
            raise TextPackError("not a stored vocabulary") from None
        if not (isinstance(tokens, list) and all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN for t in tokens)
                and isinstance(words_id, int) and 0 <= words_id < 1 << 32 and isinstance(texts, int)):
            raise TextPackError("not a stored vocabulary")
        try:
            return cls(words_id, tokens, texts)
        except UnicodeEncodeError:  # a lone surrogate: no text has one
            raise TextPackError("not a stored vocabulary") from None

    def encode(self, text: str) -> bytes:
        """``text`` written in this vocabulary: each token's code, or its literal."""
        return b"".join(map(self._book.__getitem__, TOKEN.findall(text)))

    def decode(self, stream: bytes) -> bytes:
        """The UTF-8 of the text ``stream`` writes (``encode``), never more than ``MAX_TEXT`` bytes; a
        corrupt stream's codes no token has read as U+FFFD. In C but for literals (``_Table``): on
        ``bench.sitegen``'s texts 0.13 ms a text (0.07 of it splitting the stream into codes)."""
        codes = _CODES.findall(stream)
        pieces: Iterable[bytes] = map(self._table.__getitem__, codes)
        if len(codes) * self._longest + len(stream) > MAX_TEXT:  # only a hostile stream comes near
            pieces = list(pieces)
            if (size := sum(map(len, pieces))) > MAX_TEXT:
                raise TextPackError(f"stored text unpacks to {size} bytes, more than {MAX_TEXT}")
        out = b"".join(pieces)
        return out.translate(None, b"\xfe\xff") if b"\xfe" in stream else out


class WordCodec:
    """What a site's texts are packed with once it has a vocabulary: the vocabulary and the zstd
    dictionary trained on its texts written in it."""

    __slots__ = ("dictionary", "words")

    def __init__(self, words: Words, dictionary: zstandard.ZstdCompressionDict) -> None:
        self.words, self.dictionary = words, dictionary


class Dictated(str):
    """A text to be packed with ``dictionary`` (a ``str`` everywhere else)."""

    dictionary: zstandard.ZstdCompressionDict | WordCodec | None = None

    @classmethod
    def of(cls, text: str, dictionary: zstandard.ZstdCompressionDict | WordCodec | None) -> str:
        if dictionary is None:
            return text
        out = cls(text)
        out.dictionary = dictionary
        return out


_PREPARED: dict[int, tuple[zstandard.ZstdCompressionDict, zstandard.ZstdCompressionDict]] = {}
"""By ``id()`` of a dictionary given to ``pack``: that dictionary (kept alive, so the id is not
reused) and a copy of it prepared at ``DICTIONARY_LEVEL``."""
_PREPARED_MAX = 32
_PREPARING = threading.Lock()


def _prepared(dictionary: zstandard.ZstdCompressionDict) -> zstandard.ZstdCompressionDict:
    """``dictionary`` prepared at ``DICTIONARY_LEVEL`` (same bytes, same dictionary id), once per process."""
    with _PREPARING:
        found = _PREPARED.get(id(dictionary))
    if found is not None and found[0] is dictionary:
        return found[1]
    ready = zstandard.ZstdCompressionDict(dictionary.as_bytes())
    ready.precompute_compress(level=DICTIONARY_LEVEL)
    with _PREPARING:
        if len(_PREPARED) >= _PREPARED_MAX:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[id(dictionary)] = (dictionary, ready)
    return ready


class DictatedJSON(dict[str, Any]):
    """A JSON object to be packed with ``dictionary`` (a ``dict`` everywhere else)."""

    dictionary: zstandard.ZstdCompressionDict | None = None

    @classmethod
    def of(cls, value: dict[str, Any], dictionary: zstandard.ZstdCompressionDict | None) -> dict[str, Any]:
        out = cls(value)
        out.dictionary = dictionary
        return out


def pack(text: str, dictionary: zstandard.ZstdCompressionDict | WordCodec | None = None, *,
         small: bool = False) -> bytes:
    """``text`` as stored: a zstd frame (with ``dictionary``, at ``DICTIONARY_LEVEL``; ``small``: a
    few hundred bytes, such as a capture's headers, at ``SMALL_LEVEL``); with a ``WordCodec``, the
    text written in its vocabulary, after the header naming it (longer than ``MAX_STREAM``: a frame)."""
    if isinstance(dictionary, WordCodec):
        stream = dictionary.words.encode(text)
        if len(stream) <= MAX_STREAM:
            return dictionary.words.header + _compressor(dictionary.dictionary, small).compress(stream)
        dictionary = dictionary.dictionary
    return _compressor(dictionary, small).compress(text.encode("utf-8"))


def _compressor(dictionary: zstandard.ZstdCompressionDict | None, small: bool) -> zstandard.ZstdCompressor:
    if dictionary is None:
        return zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    if small:
        return zstandard.ZstdCompressor(level=SMALL_LEVEL, dict_data=dictionary, write_checksum=True)
    return zstandard.ZstdCompressor(level=DICTIONARY_LEVEL, dict_data=_prepared(dictionary), write_checksum=True)


def unpack(value: str | bytes | memoryview | None, find: Finder | None = None,
           find_words: WordsFinder | None = None) -> str | None:
    """The plain text of a stored value: packed (a zstd frame, or a text written in a vocabulary
    found by ``find_words``) or plain (returned as it is)."""
    if value is None or isinstance(value, str):
        return value
    data = bytes(value)
    if data.startswith(WORDS_MAGIC):
        words_id = int.from_bytes(data[len(WORDS_MAGIC):_WORDS_HEADER], "big")
        words = find_words(words_id) if find_words is not None else None
        if words is None:
            raise TextPackError(f"stored text needs word vocabulary {words_id}, not in the archive")
        out = words.decode(_frame(data[_WORDS_HEADER:], find, MAX_STREAM))
    else:
        out = _frame(data, find, MAX_TEXT)
    return out.decode("utf-8", errors="replace")


_DECOMPRESSORS = threading.local()
"""Per thread (a decompressor is not thread-safe): by ``id()`` of a dictionary, that dictionary (kept
alive, so the id is not reused) and a decompressor with it. Making one per value cost 15 µs of the
20 a 1.6 KB frame takes to read."""


def _decompressor(dictionary: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdDecompressor:
    known: dict[int, tuple[zstandard.ZstdCompressionDict | None, zstandard.ZstdDecompressor]] = getattr(
        _DECOMPRESSORS, "known", None) or {}
    _DECOMPRESSORS.known = known
    found = known.get(id(dictionary))
    if found is not None and found[0] is dictionary:
        return found[1]
    if len(known) >= _PREPARED_MAX:
        known.pop(next(iter(known)))
    made = zstandard.ZstdDecompressor(dict_data=dictionary)
    known[id(dictionary)] = (dictionary, made)
    return made


def _frame(data: bytes, find: Finder | None, limit: int) -> bytes:
    """The content of a zstd frame as ``pack`` writes them (with its size, at most ``limit``)."""
    if not data.startswith(_MAGIC):
        raise TextPackError("stored text is neither plain nor a zstd frame")
    try:  # ``pack`` writes the size: a frame without one, or claiming too much, is not ours
        size = zstandard.frame_content_size(data)
        if not 0 <= size <= limit:
            raise TextPackError(f"stored text claims {size} bytes (unknown or more than {limit})")
        wanted = zstandard.get_frame_parameters(data).dict_id
        dictionary = find(wanted) if wanted and find is not None else None
        if wanted and dictionary is None:
            raise TextPackError(f"stored text needs zstd dictionary {wanted}, not in the archive")
        return _decompressor(dictionary).decompress(data)
    except zstandard.ZstdError as exc:  # at most ``size`` bytes
        raise TextPackError(f"stored text is corrupt ({exc})") from None


_DIGESTED: dict[str, zstandard.ZstdCompressionDict | Words] = {}
_LOCK = threading.Lock()


def stored(digest: str, read: Callable[[], bytes | None]) -> zstandard.ZstdCompressionDict | Words | None:
    """The dictionary or vocabulary whose bytes have the SHA-256 ``digest`` (``read`` gives them),
    read and parsed once per process; None: ``read`` gives other bytes, or a malformed vocabulary."""
    with _LOCK:
        found = _DIGESTED.get(digest)
    if found is not None:
        return found
    data = read()
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        ready = Words.from_bytes(data) if data.startswith(WORDS_FORMAT) else zstandard.ZstdCompressionDict(data)
    except TextPackError:
        return None
    with _LOCK:
        return _DIGESTED.setdefault(digest, ready)


def finders(rows: Iterable[Any]) -> tuple[Finder, WordsFinder]:
    """Finders of the dictionaries and vocabularies among ``rows`` of ``capture_dictionaries``
    (``digest``, ``data``), for ``unpack``: what a migration reading stored texts needs."""
    found = [stored(row.digest, partial(bytes, row.data)) for row in rows]
    by_zstd_id = {d.dict_id(): d for d in found if isinstance(d, zstandard.ZstdCompressionDict)}
    by_words_id = {w.id: w for w in found if isinstance(w, Words)}
    return by_zstd_id.get, by_words_id.get


def _archived(connection: Any) -> list[zstandard.ZstdCompressionDict | Words]:
    """Every dictionary and vocabulary of the archive on a DB-API ``connection`` (a query of their
    digests: those already known are not read again)."""
    digests = [digest for (digest,) in connection.execute("SELECT digest FROM capture_dictionaries")]
    with _LOCK:
        known = [_DIGESTED.get(digest) for digest in digests]
    if None not in known:
        return known  # type: ignore[return-value]
    def reader(digest: str) -> Callable[[], bytes | None]:
        def read() -> bytes | None:
            row = connection.execute("SELECT data FROM capture_dictionaries WHERE digest = ?", (digest,)).fetchone()
            return bytes(row[0]) if row is not None else None
        return read

    return [ready for digest in digests if (ready := stored(digest, reader(digest))) is not None]


def dictionaries(connection: Any) -> dict[int, zstandard.ZstdCompressionDict]:
    """The archive's ``capture_dictionaries`` by zstd dictionary id, on a DB-API ``connection``; each
    dictionary's bytes are read and digested once per process (by its SHA-256)."""
    return {ready.dict_id(): ready for ready in _archived(connection)
            if isinstance(ready, zstandard.ZstdCompressionDict)}


def vocabularies(connection: Any) -> dict[int, Words]:
    """The archive's vocabularies (``capture_dictionaries`` of kind ``words``) by id, like ``dictionaries``."""
    return {ready.id: ready for ready in _archived(connection) if isinstance(ready, Words)}


class _Found:
    """The archive's dictionaries and vocabularies, read when a value first needs one (once per value)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.loaded: list[zstandard.ZstdCompressionDict | Words] | None = None

    def _all(self) -> list[zstandard.ZstdCompressionDict | Words]:
        if self.loaded is None:
            self.loaded = _archived(self.connection)
        return self.loaded

    def dictionary(self, dict_id: int) -> zstandard.ZstdCompressionDict | None:
        return next((d for d in self._all() if isinstance(d, zstandard.ZstdCompressionDict) and d.dict_id() == dict_id),
                    None)

    def words(self, words_id: int) -> Words | None:
        return next((w for w in self._all() if isinstance(w, Words) and w.id == words_id), None)


def register(dbapi_connection: Any) -> None:
    """Give a SQLite connection ``tgwatch_text(x)``. A text that needs a dictionary or vocabulary finds
    it by a nested query on the same connection (the archive's as they are now: never a stale copy)."""

    def tgwatch_text(value: Any) -> str | None:
        """Never raises: an exception would end the whole query, and one bad row must not."""
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, bytes):
            return str(value)
        found = _Found(dbapi_connection)
        try:
            return unpack(value, found.dictionary, found.words)
        except TextPackError as exc:
            return f"[tgwatch_text: {exc}]"

    dbapi_connection.create_function(FUNCTION, 1, tgwatch_text, deterministic=True)


class PackedText(TypeDecorator[str]):
    """A text column stored packed on SQLite (``pack``, a BLOB: SQLite's TEXT affinity keeps it), plain
    elsewhere; read through ``tgwatch_text`` (plain ``str`` on both). The declared type stays ``TEXT``."""

    impl = Text
    cache_ok = True

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.tgwatch_text(column, type_=Text)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return pack(value, getattr(value, "dictionary", None))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack(value)


class unpacked(FunctionElement[Any]):
    """``tgwatch_text(x)`` on SQLite, ``x`` itself elsewhere (PostgreSQL keeps JSON plain)."""

    name = "unpacked"
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], type_: TypeEngine[Any]) -> None:
        super().__init__(column)
        self.type = type_


@compiles(unpacked)
def _unpacked(element: unpacked, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unpacked, "sqlite")
def _unpacked_sqlite(element: unpacked, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{FUNCTION}({compiler.process(element.clauses, **kw)})"


class _PackedOnSQLite(TypeEngine[Any]):
    """SQLite's side of ``PackedJSON``: declared ``JSON`` (as migrations made the column), values
    passed through as they are (``PackedJSON`` packs and parses them)."""

    __visit_name__ = "JSON"


class PackedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON column stored packed on SQLite (``json.dumps`` then ``pack``: small objects that repeat
    from row to row, such as a capture's headers, shrink to a third with the site dictionary), plain
    JSON elsewhere; read through ``tgwatch_text`` on SQLite, so ``tgwatch_text(headers)`` is the JSON
    text in plain SQL (plain JSON rows of older archives are read as they are)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _PackedOnSQLite() if dialect.name == "sqlite" else dialect.type_descriptor(JSON())

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return unpacked(column, type_=self)

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return pack(json.dumps(value), getattr(value, "dictionary", None), small=True)  # as SQLAlchemy wrote it

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if dialect.name != "sqlite" or value is None:
            return value  # type: ignore[no-any-return]
        plain = unpack(value) or "null"
        if plain.startswith(f"[{FUNCTION}: "):  # what ``tgwatch_text`` says of a row it cannot unpack
            raise TextPackError(plain[len(FUNCTION) + 3:-1])
        return json.loads(plain)  # type: ignore[no-any-return]
