"""CMS families recognised by themselves: a site with no profile gets its family's profile from the
page's marks; a user's ``profile =`` (or ``generic``) wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extract import extract, parse_html
from crawler.extract.clean import select
from crawler.extract.family import marked_selectors, recognise
from crawler.profiles import GENERIC, builtin_profiles, family_profiles, load_config
from fixtures.gold import load_gold

SKELETON = "<html><head>{head}<title>Cổng thông tin</title></head><body>{body}</body></html>"
PAGES = {
    "nukeviet": ('<meta name="generator" content="NukeViet v4.5" />', '<div id="news-bodyhtml"></div>'),
    "joomla": ('<script src="/media/system/js/core.js"></script>', '<div id="k2Container" class="itemView"></div>'),
    "wordpress": ('<link rel="stylesheet" href="/wp-content/themes/x/style.css" />'
                  '<script src="/wp-includes/js/jquery/jquery.min.js"></script>', "<article></article>"),
    "liferay": ("<script>var themeDisplay = Liferay.ThemeDisplay;</script>",
                '<section class="portlet"><div class="journal-content-article"></div></section>'),
    "portal": ('<meta name="GENERATOR" content="Microsoft SharePoint" />',
               '<form id="aspnetForm"><input type="hidden" id="__VIEWSTATE" name="__VIEWSTATE" value="x" /></form>'
               '<div class="ms-rtestate-field"></div>'),
    "dotnetnuke": ('<script src="/js/dnn.js"></script>',
                   '<form id="Form"><input type="hidden" id="__VIEWSTATE" name="__VIEWSTATE" value="x" /></form>'
                   '<div class="DnnModule"><div id="dnn_ctr412_ContentPane"></div></div>'),
    "drupal": ('<meta name="Generator" content="Drupal 10 (https://www.drupal.org)" />',
               '<article class="node"><div class="field--name-body"></div></article>'),
    "aspnet": ("", '<form id="aspnetForm"><input type="hidden" id="__VIEWSTATE" name="__VIEWSTATE" value="x" />'
                   '<span id="ctl00_ContentPlaceHolder1_lblTitle">Tiêu đề</span></form>'),
}


@pytest.mark.parametrize("family", sorted(PAGES))
def test_each_family_is_recognised_from_its_marks(family: str) -> None:
    head, body = PAGES[family]
    found = recognise(parse_html(SKELETON.format(head=head, body=body)), family_profiles())
    assert found is not None and found.name == family


def test_a_page_without_marks_or_with_one_stray_mark_has_no_family() -> None:
    plain = parse_html(SKELETON.format(head="", body="<article><p>x</p></article>"))
    stray = parse_html(SKELETON.format(head="", body='<div class="item-page"><p>x</p></div>'))
    assert recognise(plain, family_profiles()) is None
    assert recognise(stray, family_profiles()) is None  # one mark is not enough


def test_every_family_named_in_the_brief_has_a_profile_with_markers() -> None:
    assert {p.name for p in family_profiles()} == set(PAGES)
    assert GENERIC not in {p.name for p in family_profiles()}


def _page(site: str) -> tuple[bytes, str]:
    record = next(r for r in load_gold("v1", site) if r["byline"])
    return Path(record["file"]).read_bytes(), "http://127.0.0.1:8000" + record["url"]


def test_an_unprofiled_page_reads_as_with_its_family_profile() -> None:
    html, url = _page("quangtri")
    auto, named = extract(html, url, None), extract(html, url, builtin_profiles()["nukeviet"])
    assert auto is not None and auto == named


def test_a_users_profile_wins_and_generic_switches_recognition_off(tmp_path: Path) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text('[[sites]]\nname = "a"\nstart_urls = ["http://127.0.0.1:8000/quangtri/"]\n'
                      "article_url = '-\\d+\\.html$'\n"
                      '[sites.selectors]\ntitle = "h1.title"\nbody = "div.no-such-body"\n\n'
                      '[[sites]]\nname = "b"\nprofile = "generic"\nstart_urls = ["http://127.0.0.1:8000/x/"]\n'
                      "article_url = '-\\d+\\.html$'\n", encoding="utf-8")
    sites = load_config(config).sites
    assert sites["a"].recognise_cms and not sites["b"].recognise_cms and sites["b"].is_generic
    html, url = _page("quangtri")
    family = extract(html, url, builtin_profiles()["nukeviet"])
    # the site's own selectors do not fit this page: generic reading, not the recognised family's
    assert extract(html, url, sites["a"]) == extract(html, url, sites["b"])
    assert extract(html, url, sites["b"]) == extract(html, url, builtin_profiles()[GENERIC]) is not None
    assert family is not None


MARK_FORMS = ["div", "a b", "p:first-child", "[class~=a]", "[id^='']", "[lang|=vi]"]
"""Selectors ``marked_selectors`` leaves to the selector engine (a tag alone, combinators, pseudo-classes,
other operators, an empty prefix)."""


@pytest.mark.parametrize("page", sorted(Path("fixtures").rglob("*.html")), ids=str)
def test_family_marks_are_found_as_the_selector_engine_finds_them(page: Path) -> None:
    """The families' marks, and marks of the same forms on this page's own classes and ids (as
    written, loosened ``div``, another tag, case changed, prefixes), match exactly where ``select``
    matches."""
    root = parse_html(page.read_bytes())
    assert root is not None
    classes = sorted({c for e in root.iter() if isinstance(e.tag, str) for c in (e.get("class") or "").split()
                      if c.isidentifier()})[:12]
    ids = sorted({i for e in root.iter() if isinstance(e.tag, str) and (i := e.get("id")) and i.isidentifier()})[:8]
    own = [*(f"div.{c}" for c in classes), *(f"p.{c}" for c in classes), *(f"section.{c.upper()}" for c in classes),
           *(f"#{i}" for i in ids), *(f"div#{i}" for i in ids), *(f"[class='{c}']" for c in classes),
           *(f"[id^={i[:4]}]" for i in ids if i[:4].isidentifier()),
           *(f"[id^={i[1:5]}]" for i in ids if i[1:5].isidentifier()),  # inside an id is no prefix
           "[data-drupal-selector]", "body.single-post", "[id]", "[id='']"]
    marks = [css for family in family_profiles() for css in family.markers.selectors] + own
    assert marked_selectors(root, marks) == {css for css in marks if select(root, css)}
    for other in MARK_FORMS:
        assert marked_selectors(root, [*marks, other]) is None
