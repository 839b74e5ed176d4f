"""Version texts stored compressed on SQLite, readable as plain text in SQL.

A report's text is the largest thing a version holds (4–5 KB); zstd stores it in about 45% of
that. On SQLite ``versions.text`` therefore holds a zstd frame (a BLOB in a column declared TEXT:
SQLite keeps it as it is given), and every connection tgwatch opens, the read-only ones of
``tgwatch sql`` and ``tgwatch serve`` included, has the SQL function ``tgwatch_text(x)`` that gives
the plain text back (plain text it returns unchanged, so it also reads archives written before
migration ``0011``). PostgreSQL keeps the text plain (TOAST compresses it) and has an identity
``tgwatch_text`` (migration ``0011``), so one query reads texts on both backends. Models read and
write plain ``str`` through ``PackedText``.
"""

from __future__ import annotations

from typing import Any

import zstandard
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

LEVEL = 12
"""zstd level: 0.4 ms per 4.6 KB text; level 19 saves 2% more for twice the time."""
MAX_TEXT = 64 * 1024 * 1024
"""No stored text unpacks to more than this (a corrupt or hostile row cannot make a reader allocate more)."""
FUNCTION = "tgwatch_text"
_MAGIC = b"\x28\xb5\x2f\xfd"


class TextPackError(ValueError):
    """A stored text is not a zstd frame, is corrupt or unpacks to more than ``MAX_TEXT``."""


def pack(text: str) -> bytes:
    return zstandard.ZstdCompressor(level=LEVEL, write_checksum=True).compress(text.encode("utf-8"))


def unpack(value: str | bytes | memoryview | None) -> str | None:
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
        out = zstandard.ZstdDecompressor().decompress(data)  # at most ``size`` bytes, or an error
    except zstandard.ZstdError as exc:
        raise TextPackError(f"stored text is corrupt ({exc})") from None
    return out.decode("utf-8", errors="replace")


def _sql_unpack(value: Any) -> str | None:
    """``tgwatch_text`` as SQLite calls it: never raises (an exception would end the whole query)."""
    try:
        return unpack(value if isinstance(value, (str, bytes)) or value is None else str(value))
    except TextPackError as exc:
        return f"[tgwatch_text: {exc}]"


def register(dbapi_connection: Any) -> None:
    """Give a SQLite connection ``tgwatch_text(x)``."""
    dbapi_connection.create_function(FUNCTION, 1, _sql_unpack, deterministic=True)


class PackedText(TypeDecorator[str]):
    """A text column stored packed on SQLite (``pack``, a BLOB: SQLite's TEXT affinity keeps it), plain
    elsewhere; reads give plain ``str``. The declared type stays ``TEXT``: no schema change."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return pack(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack(value)
