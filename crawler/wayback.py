"""The Wayback Machine's captures of a URL prefix: listed through its CDX API, fetched raw.

The CDX server answers pages of captures (``output=json``, ``showResumeKey``): each page is
imported whole before its resume key is written to the cursor file, so an import that stopped (a
network failure, a time limit, SIGINT) goes on from where it was, and a capture imported twice
changes nothing anyway (``crawler.importer``). Every request backs off on 429, 5xx, time-outs and
resets (``Retry-After`` honoured), up to a number of tries; then the import stops with one line.
Captures are fetched with ``id_`` (the page as archived, without the Wayback banner).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from crawler import USER_AGENT
from crawler.archived import MAX_BODY, Archived
from storage.content import VN_TZ
from storage.errors import FetchError

DEFAULT_SERVER = "https://web.archive.org"
PAGE_SIZE = 500
RETRYABLE = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass(frozen=True)
class Listed:
    """One CDX row: when, what URL, what status the capture had."""

    timestamp: str
    url: str
    status: int

    @property
    def captured_at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).astimezone(VN_TZ)


class Wayback:
    """A CDX server and its captures, with back-off; ``sleep`` is injectable for tests."""

    def __init__(self, server: str = DEFAULT_SERVER, *, tries: int = 6, backoff: float = 2.0, max_wait: float = 120.0,
                 timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.server = server.rstrip("/")
        self.tries, self.backoff, self.max_wait, self.sleep = tries, backoff, max_wait, sleep
        self.client = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        """GET with back-off on 429/5xx and network errors; a ``FetchError`` when the tries run out."""
        problem = ""
        for attempt in range(self.tries):
            try:
                response = self.client.get(url, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {str(exc)[:120]}"
            else:
                if response.status_code not in RETRYABLE:
                    return response
                problem = f"HTTP {response.status_code}"
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit() and attempt + 1 < self.tries:
                    self.sleep(min(float(retry_after), self.max_wait))
                    continue
            if attempt + 1 < self.tries:
                self.sleep(min(self.backoff * 2 ** attempt, self.max_wait))
        raise FetchError(url, f"gave up after {self.tries} tries ({problem})")

    def pages(self, prefix: str, since: str | None, until: str | None,
              resume_key: str | None) -> Iterator[tuple[list[Listed], str | None]]:
        """Pages of captures of ``prefix``, each with the key that resumes after it (None: the last)."""
        while True:
            params = {"url": prefix, "matchType": "prefix", "output": "json", "limit": str(PAGE_SIZE),
                      "fl": "timestamp,original,statuscode", "filter": "mimetype:text/html|warc/revisit",
                      "showResumeKey": "true", "collapse": "digest"}
            if since:
                params["from"] = since
            if until:
                params["to"] = until
            if resume_key:
                params["resumeKey"] = resume_key
            url = f"{self.server}/cdx/search/cdx"
            response = self.get(url, params)
            if response.status_code != 200:
                raise FetchError(url, f"HTTP {response.status_code} from the CDX server")
            rows, resume_key = _rows(response.text, url)
            yield rows, resume_key
            if not resume_key:
                return

    def fetch(self, listed: Listed) -> Archived:
        """The capture as archived (status, headers, body), at its capture time."""
        url = f"{self.server}/web/{listed.timestamp}id_/{listed.url}"
        response = self.get(url)
        status = listed.status if response.status_code in (200, 301, 302, 404, 410) else response.status_code
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in ("content-encoding",)}
        return Archived(listed.url, listed.captured_at, status, headers, response.content[:MAX_BODY])


def _rows(text: str, url: str) -> tuple[list[Listed], str | None]:
    """CDX JSON: a header row, capture rows, then (when more follow) an empty row and the resume key."""
    try:
        table = json.loads(text) if text.strip() else []
    except ValueError:
        raise FetchError(url, "the CDX server answered no JSON") from None
    resume_key = None
    if len(table) >= 2 and table[-2] == [] and len(table[-1]) == 1:
        resume_key, table = str(table[-1][0]), table[:-2]
    rows = []
    for row in table[1:]:
        if len(row) >= 3 and str(row[0]).isdigit():
            status = int(row[2]) if str(row[2]).isdigit() else 200
            rows.append(Listed(str(row[0]), str(row[1]), status))
    return rows, resume_key


def read_cursor(path: Path, prefix: str) -> str | None:
    """The resume key saved for ``prefix`` (None: start at the beginning)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("resume_key") if isinstance(saved, dict) and saved.get("prefix") == prefix else None


def write_cursor(path: Path, prefix: str, resume_key: str | None) -> None:
    """Saved whole or not at all (written beside, then renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"prefix": prefix, "resume_key": resume_key, "done": resume_key is None}),
                   encoding="utf-8")
    tmp.replace(path)
