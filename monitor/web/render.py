"""The report's Jinja2 environment and the two ways its links are spelled.

Autoescaping is on for every template and no template marks scraped text safe: a title holding
``<script>`` reaches the page as the text "<script>". Every page carries a Content-Security-Policy
without any script source, so even markup that slipped through could not run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.web.views import ChangeQuery
from storage.content import VN_TZ

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'"
)
"""The report's own pages: no script from anywhere, no request but to the report itself."""

CAPTURE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""A stored page: its inline styles may apply, nothing else (no script, image, font or frame)."""


def when(value: datetime | None, with_zone: bool = False) -> str:
    """A time as Vietnamese readers see it: +07:00, to the minute."""
    if value is None:
        return "—"
    shown = value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")
    return shown + " (+07:00)" if with_zone else shown


def nfc(value: Any) -> str:
    """Text in NFC, so combining marks render as one glyph in every font."""
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def web_url(value: Any) -> bool:
    """True for an http(s) URL, the only kind the report makes a link of (never ``javascript:``)."""
    return urlsplit(str(value or "")).scheme.lower() in {"http", "https"}


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["nfc"] = nfc
    env.filters["web_url"] = web_url
    env.globals["everything"] = ChangeQuery()
    env.globals["page_csp"] = PAGE_CSP
    return env


def site_folder(site: str) -> str:
    """A site's folder in the static report: its name when that is a plain slug, else a digest
    (never ``..``, a slash or a character a URL and a file system would spell differently)."""
    if _SLUG.match(site):
        return site
    return "site-" + hashlib.sha1(site.encode()).hexdigest()[:12]


class ServerLinks:
    """URLs of ``tgwatch serve``: filters in query strings, so any view can be bookmarked."""

    dynamic = True

    def changes(self, query: ChangeQuery) -> str:
        params = query.params()
        return "/changes" + ("?" + urlencode(params) if params else "")

    def article(self, article_id: int, pair: tuple[int, int] | None = None, view: str = "side") -> str:
        params: dict[str, Any] = {"from": pair[0], "to": pair[1]} if pair else {}
        if view != "side":
            params["view"] = view
        return f"/article/{article_id}" + ("?" + urlencode(params) if params else "")

    def capture(self, version_id: int) -> str:
        return f"/capture/{version_id}"

    def capture_raw(self, version_id: int) -> str:
        return f"/capture/{version_id}/raw"

    def search(self, words: str = "") -> str:
        return "/search" + ("?" + urlencode({"q": words}) if words else "")

    def sites(self) -> str:
        return "/sites"

    def front(self, site: str = "") -> str:
        return "/front" + ("?" + urlencode({"site": site}) if site else "")

    def asset(self, name: str) -> str:
        return f"/static/{name}"


class StaticLinks:
    """Relative file names of ``tgwatch report``: the directory can be put on any web server.

    A static report cannot answer arbitrary filters: it holds the whole list, and one list per
    site and per kind; other filters link to the closest of those.
    """

    dynamic = False

    def __init__(self, depth: int) -> None:
        self.up = "../" * depth  # from the page being written to the report's root

    def changes(self, query: ChangeQuery) -> str:
        if query.site:
            folder = f"changes/site/{site_folder(query.site)}/"
        elif query.kind:
            folder = f"changes/kind/{query.kind}/"
        else:
            folder = "changes/"
        return self.up + folder + (f"page-{query.page}.html" if query.page > 1 else "index.html")

    def article(self, article_id: int, pair: tuple[int, int] | None = None, view: str = "side") -> str:
        name = f"article/{article_id}" + (f"-{pair[0]}-{pair[1]}" if pair else "")
        return self.up + name + ("-inline" if view == "inline" else "") + ".html"

    def capture(self, version_id: int) -> str:
        return f"{self.up}capture/{version_id}.html"

    def capture_raw(self, version_id: int) -> str:
        return f"{self.up}capture/{version_id}.raw.html"

    def search(self, words: str = "") -> str:
        return self.up + "index.html"

    def sites(self) -> str:
        return self.up + "sites.html"

    def front(self, site: str = "") -> str:
        return self.up + (f"front/{site_folder(site)}.html" if site else "front.html")

    def asset(self, name: str) -> str:
        return f"{self.up}static/{name}"
