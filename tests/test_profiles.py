"""Site profiles: the built-in ones, the ``tgwatch.toml`` loader and its one-line errors, URL → profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.profiles import (
    GENERIC, Config, Selectors, SiteProfile, builtin_profiles, load_config, profile_for_url, select_profile,
)
from storage.errors import ConfigError

MINIMAL = """
[[sites]]
name = "btg-example"
start_urls = ["https://btg.example.gov.vn/tin-tuc"]
article_url = '-\\d+\\.html$'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tgwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_profiles_of_the_three_templates() -> None:
    profiles = builtin_profiles()
    assert profiles is builtin_profiles()  # read once per process
    tg, portal, nv = profiles["tuyengiao"], profiles["portal"], profiles["nukeviet"]
    assert tg.selectors.content == "div.flex-fill" and tg.selectors.title == "h1.story-headline"
    assert tg.selectors.body == "div.story-body" and tg.selectors.date == "div.ml-lg-auto"
    assert tg.hosts == ["tuyengiao.vn", "www.tuyengiao.vn"] and tg.template_generation == "2021-2024"
    assert nv.selectors.body == "div#news-bodyhtml" and nv.selectors.byline == "p.h5.text-right"
    assert portal.selectors.body == "div.ms-rtestate-field"
    assert tg.article_url.search("/ban-tuyen-giao-long-xuyen-139001")
    assert not tg.article_url.search("/tuyen-giao-cac-cap")
    assert nv.article_url.search("/news/hoat-dong-tuyen-giao/cam-lo-1452.html")
    assert portal.article_url.search("/Pages/ban-chi-dao-35-21964.aspx")
    assert all(p.profile is None and not p.is_generic for n, p in profiles.items()
               if n not in (GENERIC, "tuyengiaodanvan"))  # tuyengiaodanvan.vn: read from its pages' data
    assert profiles[GENERIC].is_generic and not profiles[GENERIC].recognise_cms


def test_without_a_config_the_sites_are_the_builtins_with_real_start_urls() -> None:
    config = load_config(None)
    assert "tuyengiaodanvan" in config.sites and "portal" not in config.sites and "nukeviet" not in config.sites
    assert "tuyengiao" not in config.sites  # the old central site no longer publishes
    assert all(site.start_urls for site in config.sites.values())
    assert config.notify == []


def test_minimal_site_is_generic(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'notify = ["json://127.0.0.1:9000/hook"]\n' + MINIMAL))
    site = config.sites["btg-example"]
    assert config.notify == ["json://127.0.0.1:9000/hook"] and config.source == str(tmp_path / "tgwatch.toml")
    assert site.is_generic and site.selectors == Selectors() and site.profile is None
    assert site.recheck == "due" and site.schedule is None and site.follow_url is None


def test_site_inherits_a_builtin_profile(tmp_path: Path) -> None:
    text = MINIMAL + """profile = "nukeviet"
schedule = "every 15 minutes"
recheck = "all"
notify = ["tgram://TOKEN/CHAT"]
[sites.selectors]
lead = "div.hometext-lead"
drop = ["div.extra-box"]
[sites.text]
not_found = ["Trang đã bị gỡ"]
"""
    site = load_config(write(tmp_path, text)).sites["btg-example"]
    base = builtin_profiles()["nukeviet"]
    assert site.profile == "nukeviet" and site.selectors.body == base.selectors.body
    assert site.selectors.lead == "div.hometext-lead"
    assert site.selectors.drop == (*base.selectors.drop, "div.extra-box")
    assert site.not_found == [*base.not_found, "Trang đã bị gỡ"]
    assert site.article_url.pattern == r"-\d+\.html$" and site.schedule == "every 15 minutes"
    assert site.recheck == "all" and site.notify == ["tgram://TOKEN/CHAT"]


def test_a_profile_site_may_leave_urls_to_the_profile(tmp_path: Path) -> None:
    site = load_config(write(tmp_path, '[[sites]]\nname = "tg"\nprofile = "tuyengiaodanvan"\n')).sites["tg"]
    assert site.start_urls == builtin_profiles()["tuyengiaodanvan"].start_urls


@pytest.mark.parametrize(("text", "message"), [
    (MINIMAL.replace("'-\\d+\\.html$'", "'(unclosed'"), "sites[0]: article_url is not a valid regex: "),
    (MINIMAL + 'colour = "red"\n', "sites[0]: unknown key 'colour'"),
    (MINIMAL + MINIMAL, "sites[1]: duplicate site name 'btg-example'"),
    (MINIMAL + 'profile = "typo3"\n', "sites[0]: unknown profile 'typo3'"),
    (MINIMAL.replace('start_urls = ["https://btg.example.gov.vn/tin-tuc"]', ""), "sites[0]: start_urls is required"),
    (MINIMAL.replace("https://btg.example.gov.vn/tin-tuc", "ftp://x"),
     "sites[0]: start_urls: 'ftp://x' is not an http(s) URL"),
    (MINIMAL + 'recheck = "sometimes"\n', "sites[0]: recheck must be one of due, all, none"),
    (MINIMAL + 'schedule = "often"\n', "sites[0]: schedule 'often' is neither"),
    (MINIMAL + 'schedule = "61 * * * *"\n', "sites[0]: schedule '61 * * * *' is neither"),  # five tokens, no crontab
    (MINIMAL + '[sites.selectors]\nbody = "div..x"\n', "sites[0]: selectors.body is not a valid CSS selector"),
    (MINIMAL + '[sites.selectors]\nheadline = "h1"\n', "sites[0]: unknown key selectors.headline"),
    ('name = "x"\n' + MINIMAL, "unknown top-level key 'name'"),
    ("[[sites]\n", "invalid TOML"),
])
def test_config_errors_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert str(caught.value).startswith(f"{tmp_path / 'tgwatch.toml'}: {message}")
    assert "\n" not in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def fixture_like_config() -> Config:
    """Two sites on one host, told apart by path prefix (as on the fixture server)."""
    def site(name: str, profile: str) -> SiteProfile:
        base = builtin_profiles()[profile]
        return SiteProfile(name=name, start_urls=[f"http://127.0.0.1:8000/{name}/", f"http://127.0.0.1:8000/{name}/cat"],
                           article_url=base.article_url, selectors=base.selectors, profile=profile)
    sites = {"tuyengiao": site("tuyengiao", "tuyengiao"), "quangtri": site("quangtri", "nukeviet")}
    return Config(notify=[], sites=sites, source="test")


def test_profile_for_url() -> None:
    config = fixture_like_config()
    assert profile_for_url("http://127.0.0.1:8000/quangtri/news/a/b-12.html", config).name == "quangtri"
    assert profile_for_url("http://127.0.0.1:8000/tuyengiao/bai-viet-139001", config).name == "tuyengiao"
    assert profile_for_url("https://tuyengiao.vn/bai-viet-139001", config).name == "tuyengiao"  # built-in by host
    assert profile_for_url("https://www.tuyengiao.vn/bai-viet-139001").name == "tuyengiao"
    assert profile_for_url("https://example.org/x") is None
    assert profile_for_url("not a url") is None


def test_select_profile_by_name() -> None:
    config = fixture_like_config()
    assert select_profile("quangtri", config).profile == "nukeviet"
    assert select_profile("portal", config).name == "portal"
    with pytest.raises(ConfigError, match="no site or profile named 'nope'"):
        select_profile("nope", config)


# --- URL patterns anchored at the path ------------------------------------------------------------

def test_a_pattern_anchored_at_the_path_matches_absolute_urls() -> None:
    """The spider hands patterns absolute URLs: ``^/...`` is matched against the path and query."""
    from crawler.patterns import compile_pattern

    pattern = compile_pattern(r"^/[a-z-]+/[a-z0-9-]+\.html(?:\?categoryId=\d+)?$")
    assert pattern.search("https://dangcongsan.vn/thoi-su/ninh-binh-tap-huan.html?categoryId=1044")
    assert pattern.search("https://dangcongsan.vn/thoi-su/ninh-binh-tap-huan.html#comments")  # no fragment
    assert pattern.search("/thoi-su/ninh-binh-tap-huan.html")  # a bare path still works
    assert not pattern.search("https://dangcongsan.vn/a/b/ninh-binh.html")
    assert compile_pattern(r"(?i)^/NEWS/").search("https://x.vn/news/a-1.html")
    assert not compile_pattern(r"^https?://x\.vn/").path_anchored  # anchored at the scheme: whole URL
    assert compile_pattern(r"^https?://x\.vn/").search("https://x.vn/a")
    assert compile_pattern(r"-\d+\.html$").search("https://x.vn/a-1.html")  # unanchored: whole URL


def test_the_spider_recognises_articles_of_path_anchored_profiles() -> None:
    """``is_article_url`` (what a crawl uses) on real-shaped absolute links of every built-in profile
    whose patterns are anchored at ``^/``: they never matched before (the spider passes absolute URLs)."""
    from crawler.spiderloader import spider_class

    links = {
        "dangcongsan": ("https://dangcongsan.vn/xay-dung-dang/dang-bo-tinh-so-ket-712408.html",
                        "https://dangcongsan.vn/thoi-su.html?page=2"),
        "lyluanchinhtri": ("https://lyluanchinhtri.vn/home/index.php/thuc-tien/item/5102-lao-cai.html",
                           "https://lyluanchinhtri.vn/home/index.php/thuc-tien.html?start=10"),
        "tapchicongsan": ("https://www.tapchicongsan.org.vn/web/guest/thuc-tien/-/2018/1021877/da-nang.aspx",
                          "https://www.tapchicongsan.org.vn/web/guest/thuc-tien"),
        "baochinhphu": ("https://baochinhphu.vn/quy-dinh-moi-102260815065412345.htm",
                        "https://baochinhphu.vn/thoi-su.htm"),
        "nhandan": ("https://nhandan.vn/bao-chi-post915204.html", "https://nhandan.vn/chinhtri/"),
    }
    for name, (article, listing) in links.items():
        profile = builtin_profiles()[name]
        spider = spider_class(profile)()
        assert spider.is_article_url(article), (name, article)
        assert not spider.is_article_url(listing), (name, listing)
        assert profile.follow_url is not None and profile.follow_url.search(listing), (name, listing)
        assert not profile.follow_url.search(article), (name, article)


def _family_fixture_sites() -> list[tuple[str, str]]:
    from fixtures.model import DATA_DIR, load_sites
    from fixtures.pages import template_of

    pairs = []
    for site in load_sites(DATA_DIR):
        tpl = template_of(site)
        family = getattr(tpl, "PROFILE", "") or getattr(tpl, "NAME", "")
        if family in builtin_profiles():
            pairs.append((site.name, family))
    return pairs


@pytest.mark.parametrize(("site_name", "family"), _family_fixture_sites())
def test_builtin_patterns_match_their_fixture_site(site_name: str, family: str) -> None:
    """Each built-in profile's own ``article_url`` / ``follow_url`` find the pages of the fixture site
    of its family, mounted at a host's root (the fixture server puts each site under ``/<site>/``):
    every article, no listing as an article, every listing page past the first (the first pages
    are the start URLs) followed."""
    import json

    from fixtures.model import DATA_DIR, load_sites
    from fixtures.pages import template_of

    [site] = [s for s in load_sites(DATA_DIR) if s.name == site_name]
    tpl, profile = template_of(site), builtin_profiles()[family]
    gold_dir = Path(__file__).resolve().parent.parent / "fixtures" / "gold" / "v1" / site_name

    def absolute(path: str) -> str:
        prefix = f"/{site_name}"
        return "https://btg.example.gov.vn" + (path[len(prefix):] if path.startswith(prefix + "/") else path)

    articles = [absolute(json.loads(p.read_text(encoding="utf-8"))["url"]) for p in sorted(gold_dir.glob("*.json"))]
    assert articles
    first = [absolute(tpl.listing_path(site, slug, 1)) for slug in tpl.categories(site)]
    later = [absolute(tpl.listing_path(site, slug, 2)) for slug in tpl.categories(site)]
    assert [u for u in articles if not profile.article_url.search(u)] == []
    assert [u for u in first + later if profile.article_url.search(u)] == []
    if profile.follow_url is not None:
        assert [u for u in later if not profile.follow_url.search(u)] == []
