"""The built-in site profiles against faithful sample pages of the real outlets they target.

Each ``fixtures/samples/<profile>/<name>.html`` reproduces the structure SITES.md records for one
outlet (its URL forms, selectors, date format, lead prefix, the chrome inside and around the body);
its ``<name>.json`` is the gold: what a reader sees as the article, and the chrome lines that must
never reach the text. Pages that are not articles (listings, soft-404s) carry ``"article": false``.

Text lines are compared NFC-normalised with whitespace folded (non-breaking spaces as spaces), the
way the archive compares content; everything else is compared exactly, so a typo or a broken
diacritic the page printed must survive extraction untouched.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree, html

from crawler.extract import Article, extract
from crawler.profiles import Config, SiteProfile, builtin_profiles, parse_site, profile_for_url

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
GOLDS = sorted(SAMPLES.glob("*/*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _fold(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "").replace("\u00a0", " ")
    return " ".join(text.split())


_BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
           "table", "tr", "td", "br", "section", "article", "header", "footer", "nav", "aside", "option",
           "select", "noscript")
"""Elements whose text is taken apart from their neighbours' when the gold is checked against its page."""


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


ARTICLES = [p for p in GOLDS if _load(p).get("article", True)]
NON_ARTICLES = [p for p in GOLDS if not _load(p).get("article", True)]
FOLLOWED = [p for p in GOLDS if builtin_profiles()[_load(p)["profile"]].follow_url is not None
            and _load(p).get("kind") != "not_found"]
"""Samples whose profile has a ``follow_url`` (a not-found page's address says nothing about it)."""


def _profile_for(gold: dict[str, Any]) -> SiteProfile | None:
    """The profile a crawl would use for the sample's URL.

    A built-in profile that names hosts is found by host alone. A template profile without hosts
    (the generic Liferay portal) is what a user's ``tgwatch.toml`` extends with ``profile = ...``:
    the sample is then read through such a configured site, as in real use.
    """
    profile = builtin_profiles()[gold["profile"]]
    if profile.hosts:
        return profile_for_url(gold["url"])
    parts = urlsplit(gold["url"])
    site = parse_site(
        {"name": f"sample-{parts.hostname}", "profile": profile.name,
         "start_urls": [f"{parts.scheme}://{parts.netloc}/"]},
        "test", "sites[0]", base=profile,
    )
    return profile_for_url(gold["url"], Config(notify=[], sites={site.name: site}, source="test"))


def _extract(path: Path) -> tuple[dict[str, Any], SiteProfile | None, Article | None]:
    gold = _load(path)
    profile = _profile_for(gold)
    return gold, profile, extract(path.with_suffix(".html").read_bytes(), gold["url"], profile)


def test_samples_exist_for_every_outlet() -> None:
    outlets = {p.parent.name for p in ARTICLES}
    assert {"dangcongsan", "baochinhphu", "nhandan", "lyluanchinhtri", "tapchicongsan", "liferay"} <= outlets
    for outlet in outlets:
        assert outlet in builtin_profiles(), f"samples for {outlet!r} but no built-in profile of that name"
        assert sum(p.parent.name == outlet for p in ARTICLES) >= 2


@pytest.mark.parametrize("path", GOLDS, ids=_id)
def test_profile_for_url_picks_the_profile(path: Path) -> None:
    gold = _load(path)
    profile = _profile_for(gold)
    assert profile is not None, f"no profile for {gold['url']}"
    assert gold["profile"] in (profile.name, profile.profile)


@pytest.mark.parametrize("path", GOLDS, ids=_id)
def test_article_url_pattern(path: Path) -> None:
    """Articles (and removed articles' addresses) match ``article_url``; listings do not. The pattern
    meets the absolute URL, as the spider gives it (a ``^/`` pattern is matched on the path)."""
    gold = _load(path)
    pattern = builtin_profiles()[gold["profile"]].article_url
    matched = pattern.search(gold["url"]) is not None
    assert matched == (gold.get("kind") != "listing"), f"{pattern.pattern!r} on {gold['url']}"


@pytest.mark.parametrize("path", FOLLOWED, ids=_id)
def test_follow_url_pattern(path: Path) -> None:
    """Listings match ``follow_url`` (the crawl reaches them); articles do not (absolute URLs)."""
    gold = _load(path)
    pattern = builtin_profiles()[gold["profile"]].follow_url
    assert pattern is not None
    matched = pattern.search(gold["url"]) is not None
    assert matched == (gold.get("kind") == "listing"), f"{pattern.pattern!r} on {gold['url']}"


@pytest.mark.parametrize("path", ARTICLES, ids=_id)
def test_gold_is_faithful_to_its_page(path: Path) -> None:
    """The gold describes its own page: text lines in page order, chrome lines really on the page.

    Without this, a chrome line that is not on the page would make the negative check vacuous.
    """
    gold = _load(path)
    doc = html.fromstring(path.with_suffix(".html").read_text(encoding="utf-8"))
    comments = " ".join(c.text or "" for c in doc.iter(etree.Comment))
    for node in doc.xpath("//script|//style"):
        node.drop_tree()
    for node in doc.iter(*_BLOCKS):
        node.tail = "\n" + (node.tail or "")
    page = _fold(doc.body.text_content())
    assert gold["text_lines"][0] == gold["lead"]
    assert datetime.fromisoformat(gold["published"]).utcoffset() is not None
    position = 0
    for line in gold["text_lines"]:
        found = page.find(_fold(line), position)
        assert found >= 0, f"gold line not on the page (in order): {line[:70]!r}"
        position = found + len(_fold(line))
    for line in gold["chrome"]:
        assert _fold(line) in page or _fold(line) in _fold(comments), f"chrome line not on the page: {line!r}"
        assert _fold(line) not in _fold(" ".join(gold["text_lines"])), f"chrome line inside gold text: {line!r}"


@pytest.mark.parametrize("path", ARTICLES, ids=_id)
def test_sample_fields(path: Path) -> None:
    gold, _profile, article = _extract(path)
    assert article is not None, "no article extracted"
    assert article.title == gold["title"]
    assert article.published_at == datetime.fromisoformat(gold["published"])
    assert article.published_at.utcoffset() == datetime.fromisoformat(gold["published"]).utcoffset()
    assert article.author == gold["author"]
    assert article.category == gold["category"]
    assert _fold(article.lead) == _fold(gold["lead"])


@pytest.mark.parametrize("path", ARTICLES, ids=_id)
def test_sample_text(path: Path) -> None:
    """Every gold line once, in page order, and nothing else; no chrome; the byline is not a line."""
    gold, _profile, article = _extract(path)
    assert article is not None, "no article extracted"
    text = _fold(article.text)
    position = 0
    for line in gold["text_lines"]:
        wanted = _fold(line)
        assert text.count(wanted) == 1, f"expected once, found {text.count(wanted)}x: {line[:70]!r}"
        found = text.find(wanted)
        assert found >= position, f"out of order: {line[:70]!r}"
        position = found + len(wanted)
    for line in gold["chrome"]:
        assert _fold(line) not in text, f"chrome in text: {line!r}"
    lines = [_fold(x) for x in article.text.splitlines()]
    extra = [x for x in lines if x not in {_fold(line) for line in gold["text_lines"]}]
    assert not extra, f"lines that are no part of the article: {[x[:70] for x in extra]}"
    if gold.get("byline"):
        assert _fold(gold["byline"]) not in lines, "the byline is a field, not a line of the text"
    assert not any(re.fullmatch(r"null", x) for x in lines)


@pytest.mark.parametrize("path", NON_ARTICLES, ids=_id)
def test_non_article_pages_give_none(path: Path) -> None:
    gold, _profile, article = _extract(path)
    assert article is None, f"{gold['kind']} page extracted as an article titled {article.title!r}"
