"""One-off page fetching with httpx, for ``tgwatch scrape``.

Crawls go through Scrapy; a single page asked for on the command line does not need a reactor.
The client is polite and bounded: a User-Agent naming the project, timeouts, followed redirects,
a size cap on the *decoded* body (``crawler.inflate`` undoes every Content-Encoding layer in
bounded steps: a double-gzip bomb stops at the cap) and an overall deadline (a server sending one
byte a second never holds it longer). Every failure becomes a one-line ``FetchError`` naming the URL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from crawler import USER_AGENT
from crawler.inflate import Inflater, TooLarge, UnknownEncoding, accepted
from crawler.items import Page
from storage.errors import FetchError

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEADLINE = 60.0
"""Seconds one fetch may take in all: connection, redirects, headers and body."""


def validate_url(url: str) -> httpx.URL:
    """Parse an http(s) URL or raise a ``FetchError`` saying what is wrong with it."""
    if any(ch.isspace() for ch in url):
        raise FetchError(url, "invalid URL (contains white space)")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(url, f"invalid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError(url, "invalid URL (only http and https are supported)")
    if not parsed.host:
        raise FetchError(url, "invalid URL (no host)")
    return parsed


@dataclass
class _Outcome:
    """What the fetching thread hands back, and the flag that tells it to give up."""

    page: Page | None = None
    error: FetchError | None = None
    stop: threading.Event = field(default_factory=threading.Event)


def fetch(url: str, *, max_bytes: int | None = None, timeout: httpx.Timeout | None = None,
          deadline: float | None = None) -> Page:
    """GET ``url``; 4xx/5xx, network errors, timeouts, the deadline and oversized bodies raise ``FetchError``.

    The fetch runs in a daemon thread the caller waits for at most ``deadline`` seconds: a read
    time-out bounds each wait for bytes, never the sum of them.
    """
    validate_url(url)
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    timeout = TIMEOUT if timeout is None else timeout
    deadline = DEADLINE if deadline is None else deadline
    outcome = _Outcome()
    worker = threading.Thread(target=_run, args=(url, max_bytes, timeout, outcome), daemon=True,
                              name="tgwatch-fetch")
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        outcome.stop.set()  # the thread ends at its next chunk; the process need not wait for it
        raise FetchError(url, f"took longer than the {deadline:g} s deadline")
    if outcome.error is not None:
        raise outcome.error
    assert outcome.page is not None
    return outcome.page


def _run(url: str, max_bytes: int, timeout: httpx.Timeout, outcome: _Outcome) -> None:
    try:
        outcome.page = _get(url, max_bytes, timeout, outcome.stop)
    except FetchError as exc:
        outcome.error = exc
    except httpx.TimeoutException:
        outcome.error = FetchError(url, f"timed out after {timeout.read:g} s")
    except httpx.TooManyRedirects:
        outcome.error = FetchError(url, "too many redirects")
    except httpx.RemoteProtocolError as exc:
        outcome.error = FetchError(url, f"the server broke the connection ({_short(exc)})")
    except httpx.ConnectError as exc:
        outcome.error = FetchError(url, f"cannot connect ({_short(exc)})")
    except httpx.HTTPError as exc:
        outcome.error = FetchError(url, f"fetch failed ({_short(exc)})")
    except Exception as exc:  # a decoder's error: the body is broken, not the program
        outcome.error = FetchError(url, f"the body cannot be decoded ({type(exc).__name__}: {_short(exc)})")


def _get(url: str, max_bytes: int, timeout: httpx.Timeout, stop: threading.Event) -> Page:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
               "Accept-Encoding": accepted()}
    limit = f"{max_bytes // 1024 // 1024} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
    with httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as client:
        with client.stream("GET", url) as response:
            try:
                inflater = Inflater(response.headers.get("content-encoding", ""), max_bytes)
            except UnknownEncoding as exc:
                raise FetchError(url, f"unsupported Content-Encoding {exc}") from None
            body = bytearray()
            started = time.monotonic()
            try:
                for chunk in response.iter_raw():
                    if stop.is_set():
                        raise FetchError(url, f"given up after {time.monotonic() - started:.0f} s")
                    for piece in inflater.feed(chunk):
                        body += piece
                for piece in inflater.end():
                    body += piece
            except TooLarge:
                raise FetchError(url, f"response larger than the {limit} limit (once decoded)") from None
            if response.status_code >= 400:
                reason = response.reason_phrase or ""
                raise FetchError(url, f"HTTP {response.status_code} {reason}".rstrip())
            page_headers = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
            return Page(url=str(response.url), status=response.status_code, headers=page_headers, body=bytes(body))


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
