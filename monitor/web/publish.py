"""``tgwatch report --out DIR``: the report's pages written as static HTML for any web server.

The same views and templates as ``tgwatch serve``, with ``StaticLinks``: the full changes list and
one per site and per kind, in pages; every article with the diff of each version to the one before
(side by side and inline); every capture; the sites page. A static server sends no security
headers, so each page carries its Content-Security-Policy in a ``<meta>`` tag, and a capture is
shown in a sandboxed ``srcdoc`` frame (it inherits that policy, and there is no raw file to open
outside the frame). Search needs a server and is left out. The report is written into a fresh
directory beside DIR and swapped in at the end: a reader never sees half a report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment

from monitor.web import views
from monitor.web.render import StaticLinks, environment, site_folder
from monitor.web.views import ChangeQuery, Report
from storage import report as queries
from storage.vocabulary import FLAGGED_KINDS


@dataclass
class Written:
    pages: int = 0
    articles: int = 0
    captures: int = 0


class Publisher:
    def __init__(self, rep: Report, root: Path) -> None:
        self.rep = rep
        self.root = root
        self.env: Environment = environment()
        self.written = Written()

    def page(self, relative: str, found: views.Page) -> None:
        name, values = found
        depth = relative.count("/")
        html = self.env.get_template(name).render(links=StaticLinks(depth), **values)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.written.pages += 1

    def changes(self, folder: str, query: ChangeQuery) -> None:
        first = views.changes_page(self.rep, query)
        pages = first[1]["pages"]
        self.page(f"{folder}index.html", first)
        for number in range(2, pages + 1):
            self.page(f"{folder}page-{number}.html", views.changes_page(self.rep, query.but(page=number)))

    def article(self, article_id: int) -> None:
        name, values = views.article_page(self.rep, article_id, {})
        self.page(f"article/{article_id}.html", (name, values))
        numbers = [v.version for v in values["timeline"]]
        for old, new in zip(numbers, numbers[1:], strict=False):
            for view in ("side", "inline"):
                params = {"from": str(old), "to": str(new), "view": view}
                suffix = "-inline" if view == "inline" else ""
                self.page(f"article/{article_id}-{old}-{new}{suffix}.html",
                          views.article_page(self.rep, article_id, params))
        for version in values["timeline"]:
            if version.has_capture:
                self.capture(version.id)
        self.written.articles += 1

    def capture(self, version_id: int) -> None:
        found = views.capture_body(self.rep, version_id)
        name, values = views.capture_page(self.rep, version_id)
        self.page(f"capture/{version_id}.html", (name, {**values, "text": views.capture_text(found)}))
        self.written.captures += 1

    def all(self) -> None:
        shutil.copytree(Path(str(files("monitor.web") / "static")), self.root / "static")
        everything = ChangeQuery()
        self.page("index.html", views.changes_page(self.rep, everything))
        self.changes("changes/", everything)
        for kind in FLAGGED_KINDS:
            self.changes(f"changes/kind/{kind}/", ChangeQuery(kind=kind))
        with self.rep.archive.reading() as session:
            sites = queries.sites(session)
        status = views.sites_page(self.rep)
        linked = [s.site for s in status[1]["statuses"]]  # the sites page links each one's list
        for site in dict.fromkeys([*sites, *linked]):
            self.changes(f"changes/site/{site_folder(site)}/", ChangeQuery(site=site))
        self.page("sites.html", status)
        self.page("front.html", views.front_page(self.rep, {}))
        for site in sites:
            self.page(f"front/{site_folder(site)}.html", views.front_page(self.rep, {"site": site}))
        after = 0
        while True:
            with self.rep.archive.reading() as session:
                batch = queries.article_ids(session, after=after)
            for article_id in batch:
                self.article(article_id)
            if not batch:
                break
            after = batch[-1]


def publish(rep: Report, out: Path) -> Written:
    """Write the report into ``out`` (replacing a previous one there)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        publisher = Publisher(rep, work)
        publisher.all()
        (work / ".tgwatch-report").write_text("written by tgwatch report\n")
        _swap(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return publisher.written


def _swap(new: Path, out: Path) -> None:
    if not out.exists():
        os.replace(new, out)
        return
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)
