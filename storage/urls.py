"""The identity of an article URL.

Articles are keyed by (site, canonical URL): the same page reached through a link with tracking
parameters, a fragment, an upper-case host or an explicit default port must be one article.
w3lib does the heavy lifting (percent-encoding in UTF-8 with upper-case escapes, so a Vietnamese
path written raw or escaped gives the same key; query arguments sorted; fragment dropped; IDN
hosts to punycode). What it leaves, we finish: default ports and tracking parameters. The path and
its trailing slash stay as served, since servers may treat ``/a`` and ``/a/`` as different pages.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

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
