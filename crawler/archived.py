"""Captures from web archives: WARC and WACZ files, read in two passes so memory stays small.

``index`` reads every file once and keeps, for each HTTP response (or a Wayback-style ``resource``
of HTML), only where it is: the file, the WACZ member, the offset, the URL and the capture time.
The importer sorts that index (each URL's captures in time order) and ``load`` reads one record
again when its turn comes. ``revisit`` records (the same payload again) are checks that changed
nothing; they are indexed as such and carry no body.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from warcio.archiveiterator import ArchiveIterator

from crawler.extract.vndate import parse_iso_datetime
from storage.content import VN_TZ
from storage.errors import InputError

MAX_BODY = 10 * 1024 * 1024
"""A capture's body beyond this size is not read (as a crawl would not)."""


@dataclass(frozen=True)
class Located:
    """Where one capture is, and what it is of."""

    path: str
    member: str | None  # the WARC inside a WACZ, or None for a WARC file
    offset: int
    url: str
    captured_at: datetime
    revisit: bool = False


@dataclass(frozen=True)
class Archived:
    """One capture: what the site answered at ``captured_at``."""

    url: str
    captured_at: datetime
    status: int
    headers: dict[str, str]
    body: bytes
    revisit: bool = False


@contextmanager
def _streams(path: Path) -> Iterator[list[tuple[str | None, IO[bytes]]]]:
    """The WARC streams of ``path``: itself, or each ``archive/*.warc[.gz]`` member of a WACZ."""
    if path.suffix.lower() == ".wacz" or zipfile.is_zipfile(path):
        try:
            bundle = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise InputError(str(path), f"not a readable WACZ file ({exc})") from None
        with bundle:
            names = [n for n in bundle.namelist() if n.startswith("archive/") and ".warc" in n]
            if not names:
                raise InputError(str(path), "a WACZ file without archive/*.warc(.gz)")
            opened = [(n, bundle.open(n)) for n in names]
            try:
                yield opened  # type: ignore[misc]  # ZipExtFile is a binary stream
            finally:
                for _, stream in opened:
                    stream.close()
        return
    with path.open("rb") as handle:
        yield [(None, handle)]


def _when(value: str | None) -> datetime | None:
    found = parse_iso_datetime(value) if value else None
    return found.astimezone(VN_TZ) if found is not None else None


def index(path: Path) -> list[Located]:
    """Every HTTP response, revisit and HTML resource record of one WARC or WACZ file."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    found: list[Located] = []
    try:
        with _streams(path) as streams:
            for member, stream in streams:
                records = ArchiveIterator(stream, arc2warc=True)
                for record in records:
                    kind = record.rec_type
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    when = _when(record.rec_headers.get_header("WARC-Date"))
                    html = kind == "resource" and "html" in (record.content_type or "")
                    if url and when and (kind in ("response", "revisit") or html):
                        found.append(Located(str(path), member, records.get_record_offset(), url, when,
                                             kind == "revisit"))
    except InputError:
        raise
    except Exception as exc:  # warcio raises many kinds on a damaged file
        raise InputError(str(path), f"not a readable WARC file ({type(exc).__name__}: {exc})") from None
    return found


def load(where: Located) -> Archived:
    """The capture at ``where``, its body at most ``MAX_BODY`` bytes."""
    with _streams(Path(where.path)) as streams:
        stream = dict(streams)[where.member]
        if stream.seekable():
            stream.seek(where.offset)
        else:  # a compressed WACZ member: read up to the record
            stream.read(where.offset)
        record = next(iter(ArchiveIterator(stream, arc2warc=True)))
        status, headers = 200, {}
        if record.http_headers is not None:
            status = int(record.http_headers.get_statuscode() or 200)
            headers = {k.lower(): v for k, v in record.http_headers.headers}
        elif record.content_type:
            headers = {"content-type": record.content_type}
        body = b"" if where.revisit else record.content_stream().read(MAX_BODY + 1)
    return Archived(where.url, where.captured_at, status, headers, body[:MAX_BODY], where.revisit)
