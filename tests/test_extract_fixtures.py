"""Extraction against every article page of the fixture sites (v1 and v2), with and without profiles.

The gold files say what a perfect extractor returns: ``text_lines`` (the lead, then every paragraph,
sub-heading, list item and caption once, in page order) and ``chrome``, lines of the same page that
must never reach the text. Every field must be exact three ways: with the built-in profiles (chosen
the way a crawl chooses them, through ``tgwatch.toml`` and ``profile_for_url``), with no profile (the
page's CMS family recognised by itself), and in generic mode (``profile = "generic"``: no site
knowledge at all, as for a site of a CMS the project has never seen).
Pages that are not articles (home, listings, pagination, soft-404 pages) must give None.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from crawler.extract import Article, extract, parse_html
from crawler.extract.family import recognise
from crawler.profiles import GENERIC, Config, builtin_profiles, family_profiles, load_config, profile_for_url
from fixtures.config import site_config
from fixtures.model import load_sites
from fixtures.pages import template_of
from fixtures.tree import GOLD_DIR, SITES_DIR, file_for, load_routes
from storage.content import normalise_text

BASE = "http://127.0.0.1:8000"
VERSIONS = ("v1", "v2")
GOLD_FILES = [p for p in sorted(GOLD_DIR.glob("v*/*/*.json")) if "render" not in json.loads(p.read_text("utf-8"))]
"""Pages a fetch can read (the client-rendered site's shells are read through a browser: test_browser_crawl)."""
NO_PROFILE = builtin_profiles()[GENERIC]
"""Generic mode: no selectors and no CMS family recognised (``extract(..., None)`` would recognise one)."""


def _id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


@cache
def fixture_config(tmp: str) -> Config:
    path = Path(tmp) / "tgwatch.toml"
    path.write_text(site_config(BASE), encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return fixture_config(str(tmp_path_factory.mktemp("config")))


def page(version: str, url: str) -> bytes:
    return (SITES_DIR / version / file_for(url)).read_bytes()


def lines_of(article: Article | None) -> list[str]:
    """The text as the gold compares it: NFC, whitespace folded, one line per paragraph."""
    return normalise_text(article.text).split("\n") if article is not None else []


def leaked(lines: list[str], chrome: list[str]) -> list[str]:
    """Chrome lines found as a line (or a labelled line), long ones anywhere in the text."""
    text = "\n".join(lines)
    return [c for c in chrome if c in lines or any(line.startswith(c + ":") for line in lines)
            or (len(c) >= 20 and c in text)]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_fixture_site_has_gold_pages() -> None:
    sites = {(p.parent.parent.name, p.parent.name) for p in GOLD_FILES}
    assert {(v, s) for v in VERSIONS for s in ("tuyengiao", "longan", "quangtri")} <= sites


def test_each_fixture_site_gets_its_builtin_profile(config: Config) -> None:
    chosen = {p.parent.name: profile_for_url(BASE + load(p)["url"], config) for p in GOLD_FILES}
    expected = {site.name: getattr(template_of(site), "PROFILE", "") or template_of(site).NAME
                for site in load_sites() if not site.render}  # browser-only sites: only when named
    assert {site: prof.profile for site, prof in chosen.items()} == expected
    assert {"tuyengiao": "tuyengiao", "longan": "portal", "quangtri": "nukeviet", "travinh": "aspnet",
            "haugiang": "dotnetnuke", "chauthanh": "wordpress", "ninhthuan": "joomla", "kontum": "joomla",
            "daklak": "drupal", "hagiang": "liferay", "camau": "nukeviet",
            "tuyengiaodanvan": "tuyengiaodanvan"}.items() <= expected.items()


@pytest.mark.parametrize("path", GOLD_FILES, ids=_id)
def test_profile_extraction_matches_gold(path: Path, config: Config) -> None:
    gold = load(path)
    url = BASE + gold["url"]
    assert_matches_gold(extract(page(path.parent.parent.name, gold["url"]), url, profile_for_url(url, config)), gold)


@pytest.mark.parametrize("path", GOLD_FILES, ids=_id)
def test_generic_extraction_matches_gold(path: Path, config: Config) -> None:
    """No profile and no CMS recognised, as on a site of a CMS nobody described: every gold paragraph,
    no chrome line, the title, the day and minute of publication, the byline, all as gold; the section
    too wherever the template's profile finds it on the page."""
    gold = load(path)
    html, url = page(path.parent.parent.name, gold["url"]), BASE + gold["url"]
    article = extract(html, url, NO_PROFILE)
    assert_matches_gold(article, gold)
    profiled = extract(html, url, profile_for_url(url, config))
    assert article is not None and profiled is not None
    if profiled.category == gold["category"]:
        assert article.category == gold["category"]


@pytest.mark.parametrize("path", GOLD_FILES, ids=_id)
def test_recognised_family_extraction_matches_gold(path: Path) -> None:
    """A site configured with only name and URLs: the page's CMS family is recognised by itself."""
    gold = load(path)
    html, url = page(path.parent.parent.name, gold["url"]), BASE + gold["url"]
    site = next(s for s in load_sites() if s.name == path.parent.name)
    tpl = template_of(site)
    if (family := getattr(tpl, "PROFILE", "") or tpl.NAME) in {p.name for p in family_profiles()}:
        root = parse_html(html)
        assert root is not None
        found = recognise(root, family_profiles())
        assert found is not None and found.name == family
    assert_matches_gold(extract(html, url, None), gold)


def assert_matches_gold(article: Article | None, gold: dict) -> None:
    assert article is not None
    lines = lines_of(article)
    position = 0
    for wanted in gold["text_lines"]:
        assert lines.count(wanted) == 1, f"expected once as a line: {wanted[:80]!r}"
        assert lines.index(wanted) >= position, f"out of order: {wanted[:80]!r}"
        position = lines.index(wanted)
    extra = [line for line in lines if line not in gold["text_lines"]]
    assert not extra, f"lines that are no part of the article: {[line[:80] for line in extra]}"
    assert not leaked(lines, gold["chrome"])
    assert article.title == gold["title"]
    assert article.published_at == datetime.fromisoformat(gold["published"])
    assert article.author == gold["author"]
    assert (article.lead or "") == gold["lead"]
    if gold["byline"]:
        assert not set(gold["byline"].split("\n")) & set(lines), "the byline is a field, not text"


@pytest.mark.parametrize("path", GOLD_FILES, ids=_id)
def test_generic_extraction_has_no_chrome_and_the_right_date(path: Path) -> None:
    gold = load(path)
    article = extract(page(path.parent.parent.name, gold["url"]), BASE + gold["url"], NO_PROFILE)
    assert article is not None
    assert not leaked(lines_of(article), gold["chrome"])
    assert article.published_at == datetime.fromisoformat(gold["published"])
    assert article.title == gold["title"]


def test_generic_paragraph_f1_is_at_least_095() -> None:
    matched = extracted = expected = 0
    for path in GOLD_FILES:
        gold = load(path)
        lines = lines_of(extract(page(path.parent.parent.name, gold["url"]), BASE + gold["url"], NO_PROFILE))
        matched += len(set(lines) & set(gold["text_lines"]))
        extracted += len(lines)
        expected += len(gold["text_lines"])
    precision, recall = matched / extracted, matched / expected
    assert 2 * precision * recall / (precision + recall) >= 0.95, (precision, recall)


def non_article_pages() -> list[tuple[str, str]]:
    """Every served page of the fixture sites that is not a gold article (nor the robots trap)."""
    out = []
    for version in VERSIONS:
        base = SITES_DIR / version
        articles = {file_for(load(p)["url"]) for p in GOLD_DIR.glob(f"{version}/*/*.json")}
        traps = set(load_routes(base).get("robots_traps", []))
        for file in sorted(base.rglob("*")):
            rel = file.relative_to(base).as_posix()
            if not file.is_file() or "/" not in rel or file.name in ("robots.txt", "routes.json"):
                continue
            if file.suffix == ".js" or file.read_bytes()[:1] in (b"{", b"["):
                continue  # an application's script, its API's JSON answers
            path, _, query = rel.removesuffix("index.html").partition("@")
            url = "/" + path + (f"?{query}" if query else "")
            if rel not in articles and not any(url.startswith(t) for t in traps):
                out.append((version, url))
    return out


NON_ARTICLES = non_article_pages()


def test_there_are_listing_and_soft404_pages() -> None:
    soft = [u for v, u in NON_ARTICLES if load_routes(SITES_DIR / v)["routes"].get(u, {}).get("soft404")]
    assert len(NON_ARTICLES) >= 20 and soft


@pytest.mark.parametrize(("version", "url"), NON_ARTICLES, ids=[f"{v}{u}" for v, u in NON_ARTICLES])
def test_non_article_pages_give_none(version: str, url: str, config: Config) -> None:
    html = page(version, url)
    assert extract(html, BASE + url, profile_for_url(BASE + url, config)) is None
    assert extract(html, BASE + url, None) is None
    assert extract(html, BASE + url, NO_PROFILE) is None
