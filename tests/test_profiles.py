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
