"""The fixture sites: server behaviour, faults, reproducible build, and gold files that hold."""

from __future__ import annotations

import filecmp
import json
import re
import tomllib
import unicodedata
import urllib.robotparser
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest

from fixtures.build import build
from fixtures.config import site_config
from fixtures.gold import fold, load_browser_scenario, load_gold, load_scenario, robots_traps
from fixtures.model import load_sites
from fixtures.pages import template_of
from fixtures.testing import FixtureServer
from fixtures.tree import GOLD_DIR, SCENARIO_FILE, SITES_DIR, file_for, load_routes

SITES = {s.name: s for s in load_sites()}
BROWSER_SITES = {name for name, site in SITES.items() if site.render}
GOLD = {v: load_gold(v) for v in ("v1", "v2")}
SCENARIO = load_scenario()


def page_text(html: str | bytes) -> str:
    """What a reader of the page could see as text, NFC with folded whitespace.

    Bytes are decoded as the server declares (UTF-8): NukeViet puts its charset meta after the title,
    too late for libxml2's own guess.
    """
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    return fold(lxml.html.document_fromstring(text).text_content())


def served_file(version: str, url: str) -> Path:
    return SITES_DIR / version / file_for(url)


def files_linking(version: str, url: str) -> list[Path]:
    """Rendered pages of ``version`` that link ``url``."""
    return [p for p in (SITES_DIR / version).rglob("*") if p.is_file() and f'href="{url}"' in p.read_text("utf-8")]


def client(server: FixtureServer, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=kwargs.pop("timeout", 10), **kwargs)


def by_verdict(verdict: str, how: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    return [(site, url, e) for site, entries in SCENARIO.items() for url, e in entries.items()
            if e["verdict"] == verdict and (how is None or e["how"] == how)]


# --- server ------------------------------------------------------------------------------------

def test_server_serves_an_article_as_utf8_html(fixture_server: FixtureServer) -> None:
    record = GOLD["v1"][0]
    with client(fixture_server) as http:
        response = http.get(record["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert record["title"] in page_text(response.content)
    assert fixture_server.url.startswith("http://127.0.0.1:") and fixture_server.url.endswith("/")


def test_config_file_points_at_the_server(fixture_server: FixtureServer) -> None:
    config = tomllib.loads(fixture_server.config_file.read_text("utf-8"))["sites"]
    assert {s["name"] for s in config} == set(SITES) - BROWSER_SITES  # those come only when named
    assert all(u.startswith(fixture_server.url) for s in config for u in s["start_urls"])


def test_root_index_links_every_site_homepage(fixture_server: FixtureServer) -> None:
    with client(fixture_server) as http:
        links = lxml.html.fromstring(http.get("/").text).xpath("//a/@href")
        for link in links:
            assert http.get(link).status_code == 200
    assert sorted(links) == sorted(template_of(site).home_path(site) for site in SITES.values())


def test_directory_without_slash_redirects(fixture_server: FixtureServer) -> None:
    with client(fixture_server) as http:
        response = http.get("/tuyengiao")
    assert (response.status_code, response.headers["location"]) == (301, "/tuyengiao/")


def test_robots_txt_forbids_the_trap_that_a_listing_links(fixture_server: FixtureServer) -> None:
    with client(fixture_server) as http:
        robots = http.get("/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(robots.text.splitlines())
    traps = robots_traps("v1")
    assert traps
    config = tomllib.loads(site_config(fixture_server.url))["sites"]
    for trap in traps:
        assert not parser.can_fetch("tgwatch", fixture_server.url.rstrip("/") + trap)
        assert served_file("v1", trap).is_file()
        assert any(re.search(s["article_url"], trap) for s in config)
        assert files_linking("v1", trap)
    for record in GOLD["v1"]:
        assert parser.can_fetch("tgwatch", fixture_server.url.rstrip("/") + record["url"])


def test_version_switch(fresh_fixture_server: FixtureServer) -> None:
    server = fresh_fixture_server
    (site, url, _), *_ = by_verdict("new")
    with client(server) as http:
        assert server.version == "v1"
        assert http.get(url).status_code == 404
        server.set_version("v2")
        assert http.get("/_control/version").text == "v2"
        assert http.get(url).status_code == 200
        assert http.post("/_control/version", content="v9").status_code == 400


def test_conditional_requests_get_304(fresh_fixture_server: FixtureServer) -> None:
    url = GOLD["v1"][0]["url"]
    with client(fresh_fixture_server) as http:
        first = http.get(url)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert http.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
        fresh_fixture_server.set_version("v2")
        changed = http.get(url, headers={"If-None-Match": etag, "If-Modified-Since": modified})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        fresh_fixture_server.set_version("v1")
        back = http.get(url, headers={"If-Modified-Since": changed.headers["last-modified"]})
    assert back.status_code == 200 and back.headers["etag"] == etag


def test_token_differs_per_request_while_etag_stays(fixture_server: FixtureServer) -> None:
    url = GOLD["v1"][0]["url"]
    with client(fixture_server) as http:
        one, two = http.get(url), http.get(url)
    assert one.headers["etag"] == two.headers["etag"]
    assert one.content != two.content
    assert b"__TGW_TOKEN__" not in one.content


@pytest.mark.parametrize("how", ["404", "410", "redirect", "soft404"])
def test_removed_articles_answer_as_the_scenario_says(fresh_fixture_server: FixtureServer, how: str) -> None:
    removed = by_verdict("removed", how)
    assert removed
    fresh_fixture_server.set_version("v2")
    with client(fresh_fixture_server) as http:
        for site, url, entry in removed:
            response = http.get(url)
            assert response.status_code == entry["status"]
            if how == "redirect":
                assert response.headers["location"] == template_of(SITES[site]).home_path(SITES[site])
                assert http.get(response.headers["location"]).status_code == 200
            if how == "soft404":
                assert "Không tìm thấy bài viết" in page_text(response.content)
            assert files_linking("v1", url) and not files_linking("v2", url)


# --- faults ------------------------------------------------------------------------------------

def test_fixed_fault_pages(fixture_server: FixtureServer) -> None:
    with client(fixture_server, timeout=5) as http:
        assert http.get("/_fault/status?n=503").status_code == 503
        assert http.get("/_fault/status?n=500").status_code == 500
        slow = http.get("/_fault/delay?n=1")
        assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 1
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            http.get("/_fault/reset")
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/_fault/truncated")
        bad = http.get("/_fault/badcharset")
        assert bad.headers["content-type"] == "text/html; charset=iso-8859-1"
        assert "Tuyên giáo".encode() in bad.content and "Tuyên giáo" not in bad.text
        garbage = http.get("/_fault/garbage")
        assert garbage.headers["content-type"].startswith("text/html")
        with pytest.raises(UnicodeDecodeError):
            garbage.content.decode("utf-8")
        empty = http.get("/_fault/empty")
        assert (empty.status_code, empty.content) == (200, b"")


def test_runtime_faults_count_down_and_clear(fresh_fixture_server: FixtureServer) -> None:
    server = fresh_fixture_server
    url = GOLD["v1"][0]["url"]
    with client(server, timeout=1) as http:
        server.fault(url, "503", count=2)
        assert [http.get(url).status_code for _ in range(3)] == [503, 503, 200]
        server.fault(url, "timeout", count=1, seconds=3)
        with pytest.raises(httpx.TimeoutException):
            http.get(url)
        server.fault(url, "reset")
        for _ in range(2):
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                http.get(url)
        server.fault(url, "truncated", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(url)
        server.fault(url, "badcharset", count=1)
        assert http.get(url).headers["content-type"].endswith("iso-8859-1")
        server.fault(url, "garbage")
        assert b"story-headline" not in http.get(url).content
        server.clear_faults()
        assert http.get(url).status_code == 200
        assert http.post("/_control/fault", content='{"path": "/x", "kind": "explode"}').status_code == 400


# --- build, gold, scenario ---------------------------------------------------------------------

def test_build_reproduces_the_checked_in_tree(tmp_path: Path) -> None:
    build(tmp_path)
    for sub in ("sites", "gold"):
        fresh = sorted(p.relative_to(tmp_path / sub) for p in (tmp_path / sub).rglob("*") if p.is_file())
        kept = sorted(p.relative_to(SITES_DIR.parent / sub) for p in (SITES_DIR.parent / sub).rglob("*") if p.is_file())
        assert fresh == kept, f"{sub}/ differs in file names: rebuild with python -m fixtures.build"
        names = [str(p) for p in fresh]
        _, mismatch, errors = filecmp.cmpfiles(tmp_path / sub, SITES_DIR.parent / sub, names, shallow=False)
        assert not mismatch and not errors, f"{sub}/ differs: {mismatch[:3]}"
    assert (tmp_path / "scenario.json").read_bytes() == SCENARIO_FILE.read_bytes()


def test_scenario_covers_every_article_and_agrees_with_gold() -> None:
    v1 = {(g["site"], g["url"]) for g in GOLD["v1"]}
    v2 = {(g["site"], g["url"]) for g in GOLD["v2"]}
    scenario = {(site, url): e for site, entries in SCENARIO.items() for url, e in entries.items()}
    assert v1 | v2 == set(scenario)
    assert sum(len(s.entries) for s in SITES.values() if not s.render) == len(scenario)
    browser = load_browser_scenario()
    assert set(browser) == BROWSER_SITES
    assert sum(len(SITES[s].entries) for s in browser) == sum(map(len, browser.values()))
    for key, entry in scenario.items():
        assert entry["verdict"] in {"new", "edited", "removed", "unchanged"}
        assert (key in v1) == (entry["verdict"] != "new")
        assert (key in v2) == (entry["verdict"] != "removed")
        assert bool(entry["fields"]) == (entry["verdict"] == "edited")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_gold_lines_are_on_the_page_and_never_chrome(version: str) -> None:
    assert len(GOLD[version]) >= 30
    for record in GOLD[version]:
        text = page_text(served_file(version, record["url"]).read_bytes())
        assert record["title"] in text
        assert record["text_lines"], record["key"]
        for line in record["text_lines"]:
            assert line in text, (record["key"], line)
            assert line == fold(line)
            assert not [c for c in record["chrome"] if c in line], (record["key"], line)
        assert len(record["chrome"]) >= 5
        for chrome in record["chrome"]:
            assert chrome in text, (record["key"], chrome)
        if record["byline"]:
            assert all(line in text for line in record["byline"].splitlines())
        assert record["published"].endswith("+07:00")


def test_dates_are_printed_in_each_templates_format() -> None:
    samples = {"tuyengiao": r"(?:Thứ \w+|Chủ nhật), \d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}'\(GMT\+7\)",
               "portal": r"\d\d/\d\d/\d{4} lúc \d\d:\d\d \(GMT\+7\)",
               "nukeviet": r"(?:Thứ [a-zàáảãạăắằẳẵặâấầẩẫậơớờởỡợưứừửữựôốồổỗộêếềểễệ]+|Chủ nhật)"
                           r" - \d\d/\d\d/\d{4} \d\d:\d\d",
               "nextjs": r"(?:Thứ \w+|Chủ nhật), \d\d/\d\d/\d{4}<",
               "aspnet": r"Ngày đăng: \d\d/\d\d/\d{4} - \d\d:\d\d",
               "dotnetnuke": r"\d\d/\d\d/\d{4} \d{1,2}:\d\d:00 (?:SA|CH)",
               "wordpress": r'datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:00\+07:00">\d\d/\d\d/\d{4}<',
               "k2": r"(?:Thứ \w+|Chủ nhật), \d\d Tháng \d{1,2} \d{4} \d\d:\d\d",
               "joomla15": r'class="createdate">(?:Thứ \w+|Chủ nhật), \d\d Tháng \d{1,2} \d{4} \d\d:\d\d',
               "drupal": r'datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:00Z">\d\d/\d\d/\d{4} - \d\d:\d\d<',
               "liferay": r"Ngày đăng: \d\d/\d\d/\d{4} \d\d:\d\d",
               "nukeviet_table": r'alt="" /> \d\d/\d\d/\d{4}</span> <span class="time">'}
    for record in GOLD["v1"]:
        site = SITES[record["site"]]
        html = served_file("v1", record["url"]).read_text("utf-8")
        printed = re.findall(samples[site.template], html)
        assert printed, record["key"]
        day = record["published"][8:10].lstrip("0")
        assert any(f"{day}/" in p or f"{day} Tháng" in p or f"-{day}T" in p for p in printed)


def test_v2_changes_chrome_on_every_page_and_keeps_unchanged_text() -> None:
    gold_v1 = {(g["site"], g["key"]): g for g in GOLD["v1"]}
    for record in GOLD["v2"]:
        before = gold_v1.get((record["site"], record["key"]))
        if before is None:
            continue
        assert served_file("v1", record["url"]).read_bytes() != served_file("v2", record["url"]).read_bytes()
        entry = SCENARIO[record["site"]][record["url"]]
        if entry["verdict"] == "unchanged":
            keys = ("title", "published", "author", "category", "lead", "text_lines")
            assert {k: before[k] for k in keys} == {k: record[k] for k in keys}


def test_nfd_and_whitespace_variants() -> None:
    nfd = by_verdict("unchanged", "nfd")
    spaced = by_verdict("unchanged", "whitespace")
    assert nfd and spaced
    for _, url, _ in nfd:
        v1, v2 = (served_file(v, url).read_text("utf-8") for v in ("v1", "v2"))
        assert unicodedata.is_normalized("NFC", v1) and not unicodedata.is_normalized("NFC", v2)
        assert unicodedata.normalize("NFC", v2) != v1  # chrome moved too
    for _, url, _ in spaced:
        v2 = served_file("v2", url).read_text("utf-8")
        assert "\n\t\t" in v2 and ("&nbsp;" in v2 or "&#160;" in v2)


def test_load_gold_filters_by_site_and_refuses_unknown_versions() -> None:
    for site in SITES:
        records = load_gold("v1", site)
        assert records and {r["site"] for r in records} == {site}
        assert all(Path(r["file"]) == served_file("v1", r["url"]) and Path(r["file"]).is_file() for r in records)
    with pytest.raises(FileNotFoundError):
        load_gold("v7")
    assert (GOLD_DIR / "v1").is_dir()


def test_routes_json_lists_every_removed_article() -> None:
    routes = load_routes(SITES_DIR / "v2")["routes"]
    removed = {url for _, url, _ in by_verdict("removed")}
    removed |= {url for entries in load_browser_scenario().values() for url, e in entries.items()
                if e["verdict"] == "removed"}
    assert removed == set(routes)


# --- config ------------------------------------------------------------------------------------

def test_site_config_regexes_split_articles_from_listings() -> None:
    base = "http://127.0.0.1:8000/"
    config = tomllib.loads(site_config(base))["sites"]
    assert [s["name"] for s in config] == sorted(set(SITES) - BROWSER_SITES)
    assert {s["profile"] for s in config} == {"tuyengiao", "portal", "nukeviet", "aspnet", "dotnetnuke", "wordpress",
                                              "joomla", "drupal", "liferay", "tuyengiaodanvan"}
    for site in config:
        for record in load_gold("v1", site["name"]):
            assert re.search(site["article_url"], base.rstrip("/") + record["url"])
            assert not re.search(site["follow_url"], record["url"])
        for start in site["start_urls"][1:]:
            assert re.search(site["follow_url"], start) and not re.search(site["article_url"], start)
    generic = tomllib.loads(site_config(base, generic=True, sites=["longan"]))["sites"]
    assert [s["name"] for s in generic] == ["longan"] and "profile" not in generic[0]
    with pytest.raises(ValueError):
        site_config(base, sites=["nowhere"])


def test_listings_paginate_and_link_the_next_page(fixture_server: FixtureServer) -> None:
    config = tomllib.loads(site_config(fixture_server.url))["sites"]
    with client(fixture_server) as http:
        for site in config:
            pages = set()
            for start in site["start_urls"]:
                html = http.get(start).text
                pages |= {h for h in lxml.html.fromstring(html).xpath("//a/@href") if re.search(site["follow_url"], h)}
            paged = [p for p in pages if re.search(r"page[=/-]\d+|PageID/\d+|start=\d+|_cur=\d+", p, re.IGNORECASE)]
            assert paged, site["name"]
            assert all(http.get(p).status_code == 200 for p in paged)


def test_client_rendered_pages_hold_no_article_and_no_link() -> None:
    """The browser-only site: every page is the same shell; the article and its links exist only in
    the JSON answers its script fetches."""
    records = [g for v in ("v1", "v2") for g in load_gold(v, render="browser")]
    assert records and {g["site"] for g in records} == BROWSER_SITES
    for record in records:
        html = Path(record["file"]).read_text("utf-8")
        assert "<a " not in html and record["title"] not in html
        assert not any(line[:40] in html for line in record["text_lines"])
        api = Path(record["file"]).parent / "api" / "blogs" / record["url"].rsplit("-", 1)[1]
        assert record["title"] in json.loads(api.read_text("utf-8"))["data"]["title"]
