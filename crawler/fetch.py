"""One-off page fetching with httpx, for ``tgwatch scrape``.

Crawls go through Scrapy; a single page asked for on the command line does not need a reactor.
The client is polite and bounded: a User-Agent naming the project, timeouts, followed redirects
and a size cap, and every failure becomes a one-line ``FetchError`` naming the URL.
"""

from __future__ import annotations

import httpx

from crawler import USER_AGENT
from crawler.items import Page
from storage.errors import FetchError

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


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


def fetch(url: str, *, max_bytes: int | None = None, timeout: httpx.Timeout | None = None) -> Page:
    """GET ``url``; 4xx/5xx, network errors, timeouts and oversized bodies raise ``FetchError``."""
    validate_url(url)
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    timeout = TIMEOUT if timeout is None else timeout
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as client:
            with client.stream("GET", url) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchError(url, f"response larger than the {max_bytes // 1024 // 1024} MB limit")
                if response.status_code >= 400:
                    reason = response.reason_phrase or ""
                    raise FetchError(url, f"HTTP {response.status_code} {reason}".rstrip())
                return Page(
                    url=str(response.url),
                    status=response.status_code,
                    headers=dict(response.headers),
                    body=bytes(body),
                )
    except httpx.TimeoutException:
        raise FetchError(url, f"timed out after {timeout.read:g} s") from None
    except httpx.TooManyRedirects:
        raise FetchError(url, "too many redirects") from None
    except httpx.RemoteProtocolError as exc:
        raise FetchError(url, f"the server broke the connection ({exc})") from None
    except httpx.ConnectError as exc:
        raise FetchError(url, f"cannot connect ({_short(exc)})") from None
    except httpx.HTTPError as exc:
        raise FetchError(url, f"fetch failed ({_short(exc)})") from None


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
