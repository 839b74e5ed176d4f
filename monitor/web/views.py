"""Each report page as a template name and its values, independent of HTTP.

``tgwatch serve`` and ``tgwatch report`` render the same views; only ``Links`` differs (query
strings on the server, relative file names in the static report). A view raises ``NotFound`` or
``BadRequest`` (one-line messages) for the caller to turn into a 404/400 page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from monitor.changes import parse_when
from monitor.web.diffview import diff_versions
from storage import prominence, report
from storage.echoes import load_echoes
from storage.archive import Archive
from storage.content import CONTENT_FIELDS
from storage.errors import InputError
from storage.reads import StoredCapture
from storage.report import ChangeFilter
from storage.vocabulary import FLAGGED_KINDS

PAGE_SIZE = 50
SEARCH_LIMIT = 50
FRONT_LIMIT = 200


class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class ChangeQuery:
    """The changes page's filters as the URL spells them (so links keep "7d" as "7d")."""

    site: str = ""
    kind: str = ""
    since: str = ""
    until: str = ""
    field: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ChangeQuery:
        values = {name: (params.get(name) or "").strip()[:200] for name in ("site", "kind", "since", "until", "field")}
        if values["kind"] and values["kind"] not in FLAGGED_KINDS:
            raise BadRequest(f"kind {values['kind']!r}: not one of {', '.join(FLAGGED_KINDS)}")
        if values["field"] and values["field"] not in CONTENT_FIELDS:
            raise BadRequest(f"field {values['field']!r}: not one of {', '.join(CONTENT_FIELDS)}")
        page = params.get("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= 1_000_000:
            raise BadRequest(f"page {page[:20]!r}: not a page number")
        return cls(**values, page=int(page))

    def filter(self) -> ChangeFilter:
        try:
            since = parse_when(self.since) if self.since else None
            until = parse_when(self.until) if self.until else None
        except InputError as exc:
            raise BadRequest(str(exc)) from None
        return ChangeFilter(self.site or None, self.kind or None, since, until, self.field or None)

    def params(self) -> dict[str, str]:
        """The non-empty filters (page included when > 1), for a URL."""
        values = {"site": self.site, "kind": self.kind, "since": self.since, "until": self.until,
                  "field": self.field, "page": str(self.page) if self.page > 1 else ""}
        return {name: value for name, value in values.items() if value}

    def but(self, **changes: Any) -> ChangeQuery:
        """This query with some filters changed (back to page 1 unless a page is given)."""
        return replace(self, **{"page": 1, **changes})


class Links(Protocol):
    """Where each page is: a server's URLs or a static report's relative file names."""

    dynamic: bool  # forms and search work (a server answers them)

    def changes(self, query: ChangeQuery) -> str: ...
    def article(self, article_id: int, pair: tuple[int, int] | None = None, view: str = "side") -> str: ...
    def capture(self, version_id: int) -> str: ...
    def capture_raw(self, version_id: int) -> str: ...
    def search(self, words: str = "") -> str: ...
    def sites(self) -> str: ...
    def front(self, site: str = "") -> str: ...
    def asset(self, name: str) -> str: ...


@dataclass
class Report:
    """What the views read: the archive (opened read-only) and the configured sites."""

    archive: Archive
    configured: list[str] = field(default_factory=list)
    job_id: Any = None  # site -> the daemon's job id (monitor.schedule.crawl_job_id)


Page = tuple[str, dict[str, Any]]


def changes_page(rep: Report, query: ChangeQuery) -> Page:
    where = query.filter()
    with rep.archive.reading() as session:
        found = report.change_page(session, where, offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        sites = report.sites(session)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if query.page > pages and found.total:
        raise NotFound(f"page {query.page}: there are {pages} pages")
    return "changes.html", {
        "query": query, "found": found, "pages": pages, "sites": sites, "kinds": FLAGGED_KINDS,
        "fields": CONTENT_FIELDS, "title": "Changes",
    }  # fmt: skip


def _pair(numbers: list[int], params: Mapping[str, str]) -> tuple[int, int] | None:
    """The two versions to compare: ``from``/``to``, by default the latest and the one before."""
    if len(numbers) < 2:
        return None
    try:
        new = int(params.get("to") or numbers[-1])
        old = int(params["from"]) if params.get("from") else max([n for n in numbers if n < new] or [new])
    except ValueError:
        raise BadRequest("from/to: give version numbers") from None
    for number in (old, new):
        if number not in numbers:
            raise NotFound(f"no version {number} (versions: {', '.join(map(str, numbers))})")
    return old, new


def article_page(rep: Report, article_id: int, params: Mapping[str, str]) -> Page:
    view = params.get("view") or "side"
    if view not in {"side", "inline"}:
        raise BadRequest(f"view {view[:20]!r}: side or inline")
    with rep.archive.reading() as session:
        info = report.article_info(session, article_id)
        if info is None:
            raise NotFound(f"article {article_id}: not in the archive")
        timeline = report.timeline(session, article_id)
        changes = report.article_changes(session, article_id)
        pair = _pair([v.version for v in timeline], params)
        chosen = report.versions(session, article_id, pair) if pair else {}
        stints = prominence.article_stints(session, article_id)
        echoes = load_echoes(session, article_id=article_id)
    diff = diff_versions(chosen[pair[0]].content, chosen[pair[1]].content) if pair else None
    return "article.html", {
        "info": info, "timeline": timeline, "changes": changes, "pair": pair, "view": view,
        "diff": diff, "old": chosen.get(pair[0]) if pair else None,
        "new": chosen.get(pair[1]) if pair else None, "title": info.title, "stints": stints,
        "echoes": echoes,
    }  # fmt: skip


def capture_body(rep: Report, version_id: int) -> StoredCapture:
    with rep.archive.reading() as session:
        found = report.capture(session, version_id)
    if found is None:
        raise NotFound(f"capture of version id {version_id}: not in the archive")
    return found


def capture_page(rep: Report, version_id: int) -> Page:
    found = capture_body(rep, version_id)
    headers = sorted((str(k), str(v)) for k, v in found.headers.items())
    values = {"capture": found, "headers": headers, "title": f"Capture: {found.url}", "text": ""}
    return "capture.html", values


def capture_text(found: StoredCapture) -> str:
    """The page decoded as a browser would (header charset, then meta, then sniffing)."""
    from w3lib.encoding import html_to_unicode

    content_type = next((str(v) for k, v in found.headers.items() if str(k).lower() == "content-type"), None)
    return str(html_to_unicode(content_type, found.body)[1])


def search_page(rep: Report, params: Mapping[str, str]) -> Page:
    words = (params.get("q") or "").strip()[:200]
    site = (params.get("site") or "").strip()[:200]
    hits = rep.archive.search(words, site=site or None, limit=SEARCH_LIMIT) if words else []
    with rep.archive.reading() as session:
        sites = report.sites(session)
    return "search.html", {"words": words, "site": site, "hits": hits, "sites": sites, "title": "Search"}


def front_page(rep: Report, params: Mapping[str, str]) -> Page:
    """Articles by hours on their site's homepage, with their best and current positions."""
    site = (params.get("site") or "").strip()[:200]
    since_text = (params.get("since") or "").strip()[:200]
    try:
        since = parse_when(since_text) if since_text else None
    except InputError as exc:
        raise BadRequest(str(exc)) from None
    with rep.archive.reading() as session:
        found = prominence.front_page(session, site=site or None, since=since, limit=FRONT_LIMIT)
        sites = report.sites(session)
    return "front.html", {"found": found, "site": site, "since": since_text, "sites": sites,
                          "title": "Front page"}


def sites_page(rep: Report) -> Page:
    from storage.status import delivery_counts, site_statuses

    with rep.archive.reading() as session:
        statuses = site_statuses(session, rep.configured, rep.job_id)
        outbox = delivery_counts(session)
    return "sites.html", {"statuses": statuses, "outbox": outbox, "title": "Sites"}
