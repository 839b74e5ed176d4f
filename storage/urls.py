"""The identity of an article URL.

Articles are keyed by (site, canonical URL): the same page reached through a link with tracking
parameters, a fragment, an upper-case host or an explicit default port must be one article.
w3lib does the heavy lifting (percent-encoding in UTF-8 with upper-case escapes, so a Vietnamese
path written raw or escaped gives the same key; query arguments sorted; fragment dropped; IDN
hosts to punycode). What it leaves, we finish: default ports and tracking parameters. The path and
its trailing slash stay as served, since servers may treat ``/a`` and ``/a/`` as different pages.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "zarsrc",  # Zalo shares, everywhere on Vietnamese news links
        "zalo_source",
        "_hsenc",
        "_hsmi",
        "ref_src",
    }
)
TRACKING_PREFIXES = ("utm_", "zarsrc")
DEFAULT_PORTS = {"http": 80, "https": 443}
_PORT = re.compile(r":(\d+)$")


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _without_tracking(url: str) -> str:
    parts = urlsplit(url.strip())
    if not parts.query:
        return url.strip()
    # Filter the raw pairs: decoding and re-encoding would alter escapes w3lib must see as sent.
    pairs = parts.query.split("&")
    kept = [p for p in pairs if p and not is_tracking(unquote_plus(p.split("=")[0]))]
    return urlunsplit(parts._replace(query="&".join(kept)))


def canonical_url(url: str) -> str:
    """One spelling per article URL (see the module docstring for what is and is not folded)."""
    canonical = canonicalize_url(_without_tracking(url), keep_fragments=False)
    parts = urlsplit(canonical)
    netloc = parts.netloc
    port = _PORT.search(netloc)
    if port and DEFAULT_PORTS.get(parts.scheme) == int(port.group(1)):
        netloc = netloc[: port.start()]
    return urlunsplit(parts._replace(netloc=netloc))


_HREF = re.compile(rb"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_SKIP = ("#", "javascript:", "mailto:", "tel:", "data:")
_PLAIN = re.compile(r"(?P<scheme>https?)://[a-z0-9]+(?:[.-][a-z0-9]+)*(?::(?P<port>[1-9]\d{0,3}))?"
                    r"(?:(?:/[\w~-][\w.~-]*)+/?|/)", re.ASCII)
"""A URL of lower-case host, no query and plain path segments (none empty, none starting with a dot)."""


@lru_cache(maxsize=8192)
def _target(base: str, href: str) -> str | None:
    """The canonical URL ``href`` leads to from ``base``, if on its host (cached: a site's pages
    repeat their menus and lists, so most of a page's links were resolved on an earlier page)."""
    try:
        target = urljoin(base, html.unescape(href).strip())
        if urlsplit(target).hostname != urlsplit(base).hostname:  # lower case, without the port
            return None
        plain = _PLAIN.fullmatch(target)
        if plain and (plain["port"] is None or DEFAULT_PORTS[plain["scheme"]] != int(plain["port"])):
            return target  # canonical already: ``canonical_url`` would return it unchanged, 10x slower
        return canonical_url(target)
    except ValueError:  # a malformed link (bad port, bad IPv6 host): not one of ours
        return None


def page_links(body: bytes, url: str, *, limit: int = 512) -> tuple[str, ...]:
    """The canonical URLs of the links of the page ``body`` (fetched at ``url``) to its own host, in
    page order, at most ``limit``: what ``storage.refs`` looks up (a regular expression over the
    raw bytes; the extraction workers find them, ``crawler.worker.read_page``)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    hrefs: dict[str, None] = {}
    for match in _HREF.finditer(body):
        raw = next(group for group in match.groups() if group is not None)
        hrefs.setdefault(raw.decode("utf-8", "replace"))
    found: dict[str, None] = {}
    for href in hrefs:
        if not href or href.lstrip().startswith(_SKIP):
            continue
        rooted = href.startswith("/") and not href.startswith("//")  # the page's own path does not matter
        target = _target(origin if rooted else url, href)
        if target is not None:
            found.setdefault(target)
            if len(found) >= limit:
                break
    return tuple(found)
