"""Acceptance: crawling the fixture sites records their listings exactly as the gold says.

``fixtures/gold/listings.json`` lists every listing page of v1 and v2 with its article links in
page order; ``scenario.json`` marks the articles v2 quietly takes off every listing while still
serving them (``listing = "delisted"``). The crawl must flag exactly those as ``delisted`` (not the
ones pushed to page 2, not the removed ones), record every homepage position (so promotions and
demotions), flag them ``relisted`` when v1 shows them again, and judge nothing on a crawl that
could not read a listing page or that the listing-page cap cut short.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from fixtures.tree import LISTINGS_FILE
from tests.crawl_helpers import crawl, key_of, query, write_config

Gold = dict[str, dict[str, dict[str, list[str]]]]
LATER_PAGE = re.compile(r"page|[?&](?:limit)?start=|_cur=", re.IGNORECASE)
"""A listing page after a section's first (``?page=2``, ``/page-2``, ``PageID/2``, ``?start=2``, ``_cur=2``)."""


def gold() -> Gold:
    listings: Gold = json.loads(LISTINGS_FILE.read_text(encoding="utf-8"))
    return listings


def planted(sites: list[str] | None = None) -> set[tuple[str, str]]:
    return {(site, key_of(path)) for site, entries in load_scenario().items() if not sites or site in sites
            for path, entry in entries.items() if entry.get("listing") == "delisted"}


def flagged(db: str, kind: str) -> set[tuple[str, str]]:
    rows = query(db, "SELECT a.site, a.url FROM changes c JOIN articles a ON a.id = c.article_id "
                     f"WHERE c.kind = '{kind}'")
    return {(site, key_of(url)) for site, url in rows}


def page_key(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def homepages(version: str) -> dict[str, dict[str, int]]:
    """Gold: per site, each archived article's position on the homepage (the first listing page)."""
    archived = {key_of(p) for entries in load_scenario().values() for p in entries}
    out = {}
    for site, pages in gold()[version].items():
        links = next(iter(pages.values()))
        out[site] = {key_of(path): n for n, path in enumerate(links, start=1) if key_of(path) in archived}
    return out


def stints_on_home(db: str, current: bool) -> dict[str, dict[str, int]]:
    where = "current" if current else "NOT current"
    if db.startswith("sqlite"):
        where = "current = 1" if current else "current = 0"
    out: dict[str, dict[str, int]] = {}
    for site, url, position in query(db, f"SELECT site, url, position FROM front_page WHERE {where}"):
        out.setdefault(site, {})[key_of(url)] = position
    return out


def test_listings_delisted_pushed_promoted_relisted(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    server, db = fresh_fixture_server, f"sqlite:///{tmp_path / 'archive.db'}"
    config = write_config(tmp_path, server)
    crawl(db, config)
    assert stints_on_home(db, current=True) == homepages("v1")
    server.set_version("v2")
    crawl(db, config)
    assert flagged(db, "delisted") == planted() and len(planted()) == 3
    # every homepage position of v1 was closed or kept, every one of v2 is open: exact
    assert stints_on_home(db, current=True) == homepages("v2")
    before, after = homepages("v1"), homepages("v2")
    moves = [(before[s][p], after[s][p]) for s in after for p in after[s] if p in before[s]]
    assert any(new < old for old, new in moves) and any(new > old for old, new in moves)  # promoted, demoted
    # pushed to a later page of its section: still listed there, not delisted
    pushed = set()
    for site, pages in gold()["v2"].items():
        first_pages = {p for p in gold()["v1"][site] if not LATER_PAGE.search(p) and p != next(iter(pages))}
        was_first = {a for p in first_pages for a in gold()["v1"][site][p]}
        for page, links in pages.items():
            if LATER_PAGE.search(page):
                pushed |= {(site, key_of(a), key_of(page)) for a in links if a in was_first
                           and not any(a in gold()["v2"][site][f] for f in first_pages)}
    assert pushed, "the fixtures push some article from a section's first page to a later one"
    open_rows = {(site, key_of(url), key_of(page)) for site, url, page in query(
        db, "SELECT p.site, a.url, p.url FROM listings l JOIN listing_pages p ON p.id = l.page_id "
            "JOIN articles a ON a.id = l.article_id WHERE l.seen_until IS NULL")}
    assert pushed <= open_rows
    assert not {(s, a) for s, a, _ in pushed} & flagged(db, "delisted")
    crawl(db, config)  # v2 again: nothing new to say about the listings
    assert flagged(db, "delisted") == planted() and flagged(db, "relisted") == set()
    server.set_version("v1")
    crawl(db, config)
    assert flagged(db, "relisted") == planted()


def test_a_failed_listing_page_or_the_cap_never_delists(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    server, db, site = fresh_fixture_server, f"sqlite:///{tmp_path / 'archive.db'}", "tuyengiao"
    config = write_config(tmp_path, server, sites=[site])
    crawl(db, config)
    server.set_version("v2")
    sections = [p for p in gold()["v2"][site] if p != f"/{site}/" and "page" not in p]
    server.fault(sections[-1], "503", count=-1)
    crawl(db, config)
    assert flagged(db, "delisted") == set()  # that section could still list it
    server.clear_faults()
    crawl(db, config, settings={"TGWATCH_LISTING_PAGES": "3"})  # homepage and two sections only
    assert flagged(db, "delisted") <= planted([site])
    crawl(db, config)
    assert flagged(db, "delisted") == planted([site])
