"""Stored captures as WARC 1.1 records (warcio), and the WACZ package around them (py-wacz).

Per capture: a ``response`` record (the HTTP status line and headers, the body exactly as stored)
and the ``request`` that fetched it, linked by ``WARC-Concurrent-To``; per article whose last check
found its current version unchanged, a ``revisit`` record (profile identical-payload-digest) that
refers to that capture by ``WARC-Refers-To-Target-URI``/``-Date``.

The body is stored decoded (the crawler undid any gzip/br content encoding and chunking), so the
response headers are made to describe it: ``Content-Encoding`` and ``Transfer-Encoding`` are
dropped and ``Content-Length`` is the body's length; header names and values lose control
characters (a hostile header cannot forge a line). warcio computes block and payload digests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, UTC
from http import HTTPStatus
from io import BytesIO
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.export import ExportedCapture

DROPPED = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class ExportCounts:
    responses: int = 0
    requests: int = 0
    revisits: int = 0
    bytes: int = 0


def warc_date(value: datetime) -> str:
    """WARC-Date: UTC, ISO 8601 with microseconds when there are some (allowed by WARC 1.1)."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(utc, use_micros=bool(utc.microsecond)))


def payload_digest(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def response_headers(status: int, headers: Mapping[str, Any], body: bytes) -> StatusAndHeaders:
    """The stored headers made consistent with the stored (decoded) body."""
    kept: list[tuple[str, str]] = []
    for name, value in headers.items():
        name = str(name).strip()
        if not _TOKEN.match(name) or name.lower() in DROPPED:
            continue
        kept.append((name, _CONTROL.sub(" ", str(value)).strip()[:8000]))
    kept.append(("Content-Length", str(len(body))))
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return StatusAndHeaders(f"{status} {reason}", kept, protocol="HTTP/1.1")


def request_headers(url: str) -> StatusAndHeaders:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [("Host", parts.netloc), ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")]
    return StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)


class WarcExport:
    """Writes records to ``out`` (a binary file) one capture at a time."""

    def __init__(self, out: IO[bytes], filename: str, info: dict[str, str], pages: IO[str] | None = None) -> None:
        self.writer = WARCWriter(out, gzip=True, warc_version="1.1")
        self.counts = ExportCounts()
        self.pages = pages  # a WACZ pages list, written as the export goes
        if pages is not None:
            pages.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "tgwatch captures"}) + "\n")
        self.writer.write_record(self.writer.create_warcinfo_record(filename, info))

    def add(self, item: ExportedCapture) -> None:
        capture = item.capture
        digest = payload_digest(capture.body)
        if item.fetched_in_range:
            response = self.writer.create_warc_record(
                capture.url, "response", payload=BytesIO(capture.body), length=len(capture.body),
                http_headers=response_headers(capture.status, capture.headers, capture.body),
                warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at)},
            )  # fmt: skip
            record_id = response.rec_headers.get_header("WARC-Record-ID")
            request = self.writer.create_warc_record(
                capture.url, "request", http_headers=request_headers(capture.url),
                warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at), "WARC-Concurrent-To": record_id},
            )  # fmt: skip
            self.writer.write_record(response)
            self.writer.write_record(request)
            self.counts.responses += 1
            self.counts.requests += 1
            self.counts.bytes += len(capture.body)
            if self.pages is not None:
                title = f"{capture.site} #{capture.article_id} v{capture.version}"
                page = {"url": capture.url, "ts": warc_date(capture.fetched_at), "title": title}
                self.pages.write(json.dumps(page, ensure_ascii=False) + "\n")
        if item.rechecked_at is not None:
            revisit = self.writer.create_revisit_record(
                capture.url, digest, capture.url, warc_date(capture.fetched_at),
                http_headers=response_headers(capture.status, capture.headers, capture.body),
                warc_headers_dict={"WARC-Date": warc_date(item.rechecked_at)},
            )  # fmt: skip
            self.writer.write_record(revisit)
            self.counts.revisits += 1
