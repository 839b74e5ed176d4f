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
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
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

Finder = Callable[[int], "zstandard.ZstdCompressionDict | None"]
"""A zstd dictionary by its dictionary id (None: unknown)."""


class TextPackError(ValueError):
    """A stored text is not a zstd frame, is corrupt, needs a missing dictionary or unpacks to more
    than ``MAX_TEXT``."""


class Dictated(str):
    """A text to be packed with ``dictionary`` (a ``str`` everywhere else)."""

    dictionary: zstandard.ZstdCompressionDict | None = None

    @classmethod
    def of(cls, text: str, dictionary: zstandard.ZstdCompressionDict | None) -> str:
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


def pack(text: str, dictionary: zstandard.ZstdCompressionDict | None = None, *, small: bool = False) -> bytes:
    """``text`` as stored: a zstd frame (with ``dictionary``, at ``DICTIONARY_LEVEL``; ``small``: a
    few hundred bytes, such as a capture's headers, at ``SMALL_LEVEL``)."""
    if dictionary is None:
        compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    elif small:
        compressor = zstandard.ZstdCompressor(level=SMALL_LEVEL, dict_data=dictionary, write_checksum=True)
    else:
        compressor = zstandard.ZstdCompressor(level=DICTIONARY_LEVEL, dict_data=_prepared(dictionary),
                                              write_checksum=True)
    return compressor.compress(text.encode("utf-8"))


def unpack(value: str | bytes | memoryview | None, find: Finder | None = None) -> str | None:
    """The plain text of a stored value: packed (a zstd frame) or plain (returned as it is)."""
    if value is None or isinstance(value, str):
        return value
    data = bytes(value)
    if not data.startswith(_MAGIC):
        raise TextPackError("stored text is neither plain nor a zstd frame")
    try:  # ``pack`` writes the size: a frame without one, or claiming too much, is not ours
        size = zstandard.frame_content_size(data)
        if not 0 <= size <= MAX_TEXT:
            raise TextPackError(f"stored text claims {size} bytes (unknown or more than {MAX_TEXT})")
        wanted = zstandard.get_frame_parameters(data).dict_id
        dictionary = find(wanted) if wanted and find is not None else None
        if wanted and dictionary is None:
            raise TextPackError(f"stored text needs zstd dictionary {wanted}, not in the archive")
        out = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(data)  # at most ``size`` bytes
    except zstandard.ZstdError as exc:
        raise TextPackError(f"stored text is corrupt ({exc})") from None
    return out.decode("utf-8", errors="replace")


_DIGESTED: dict[str, zstandard.ZstdCompressionDict] = {}
_LOCK = threading.Lock()


def dictionaries(connection: Any) -> dict[int, zstandard.ZstdCompressionDict]:
    """The archive's ``capture_dictionaries`` by zstd dictionary id, on a DB-API ``connection``; each
    dictionary's bytes are read and digested once per process (by its SHA-256)."""
    digests = [digest for (digest,) in connection.execute("SELECT digest FROM capture_dictionaries")]
    with _LOCK:
        missing = [digest for digest in digests if digest not in _DIGESTED]
    for digest in missing:
        row = connection.execute("SELECT data FROM capture_dictionaries WHERE digest = ?", (digest,)).fetchone()
        if row is not None and hashlib.sha256(bytes(row[0])).hexdigest() == digest:
            with _LOCK:
                _DIGESTED[digest] = zstandard.ZstdCompressionDict(bytes(row[0]))
    with _LOCK:
        return {ready.dict_id(): ready for digest in digests if (ready := _DIGESTED.get(digest)) is not None}


def register(dbapi_connection: Any) -> None:
    """Give a SQLite connection ``tgwatch_text(x)``. A text that needs a dictionary finds it by a
    nested query on the same connection (the archive's dictionaries as they are now: never a stale
    copy)."""

    def find(dict_id: int) -> zstandard.ZstdCompressionDict | None:
        return dictionaries(dbapi_connection).get(dict_id)

    def tgwatch_text(value: Any) -> str | None:
        """Never raises: an exception would end the whole query, and one bad row must not."""
        try:
            return unpack(value if isinstance(value, (str, bytes)) or value is None else str(value), find)
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
