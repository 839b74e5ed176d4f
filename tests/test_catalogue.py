"""The catalogue of real sites (``crawler/catalogue.toml``), ``tgwatch sites --catalogue`` and
``tgwatch sites add NAME``: every entry a valid config site with its sources, the copy into a
config appended atomically and refused without a trace, an added site crawlable."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from crawler.catalogue import CMS_FAMILIES, add_to_config, catalogue, entry_toml, load_catalogue
from crawler.profiles import builtin_profiles, load_config
from fixtures.testing import FixtureServer
from monitor.cli import main
from storage.errors import ConfigError
from storage.models import ArticleRow
from tests.crawl_helpers import IN_THREAD, ROOT, crawl, key_of, live_paths, tgwatch

ENTRIES = sorted(catalogue())

USER_CONFIG = """\
# my sites; keep this comment
notify = ["json://127.0.0.1:9/hook"]

[[sites]]
name = "mine"   # a site of my own
start_urls = ["https://btg.example.gov.vn/tin-tuc"]
article_url = '-\\d+\\.html$'
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- the data -----------------------------------------------------------------------------------

def test_at_least_fifteen_entries_each_with_its_sources() -> None:
    entries = catalogue()
    assert len(entries) >= 15
    hosts = [urlsplit(e.url).hostname for e in entries.values()]
    assert len(set(hosts)) == len(hosts), "one entry per site"
    for entry in entries.values():
        assert entry.sources and all(len(s) > 20 for s in entry.sources), entry.name
        assert entry.cms in CMS_FAMILIES and entry.title
        if entry.site.profile is not None:
            assert entry.site.profile == CMS_FAMILIES[entry.cms]
        if entry.checked:  # the address and the article form were seen: an example proves the pattern
            assert entry.examples, f"{entry.name}: checked, but no article URL seen"
        else:
            assert entry.note, f"{entry.name}: unchecked entries say what is unverified"
    assert sum(e.checked for e in entries.values()) >= 10


@pytest.mark.parametrize("name", ENTRIES)
def test_every_entry_is_a_config_site(name: str, tmp_path: Path) -> None:
    """The text ``sites add`` writes loads, through the config's own loader, as the catalogue's site."""
    entry = catalogue()[name]
    path = tmp_path / "tgwatch.toml"
    path.write_text(entry_toml(entry), encoding="utf-8")
    config = load_config(path)
    assert list(config.sites) == [name] and config.sites[name] == entry.site
    assert "catalogue" not in tomllib.loads(path.read_text(encoding="utf-8"))["sites"][0]


@pytest.mark.parametrize("name", ENTRIES)
def test_article_pattern_takes_the_examples_and_no_start_page(name: str) -> None:
    """Absolute URLs, as the spider hands them over: examples are articles, start pages are not."""
    entry = catalogue()[name]
    for url in entry.examples:
        assert entry.site.article_url.search(url), url
    for url in entry.site.start_urls:
        assert not entry.site.article_url.search(url), url
        assert urlsplit(url).scheme in ("http", "https") and urlsplit(url).path.startswith("/")


def test_catalogue_ships_as_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "catalogue.toml" in data["tool"]["setuptools"]["package-data"]["crawler"]


@pytest.mark.parametrize(("meta", "problem"), [
    ('title = "x"\ncms = "NukeViet"\nchecked = true\n', "sources must be a non-empty list"),
    ('title = "x"\ncms = "Plone"\nchecked = true\nsources = ["s: seen somewhere"]\n', "catalogue.cms must be one of"),
    ('title = "x"\ncms = "Liferay"\nchecked = true\nsources = ["s: seen somewhere"]\n',
     "is not the profile of the CMS family 'Liferay'"),
    ('title = "x"\ncms = "NukeViet"\nchecked = true\nsources = ["s: seen somewhere"]\n'
     'examples = ["https://btg.example.gov.vn/tin/a.html"]\n', "does not match article_url"),
    ('title = "x"\ncms = "NukeViet"\nchecked = "yes"\nsources = ["s: seen somewhere"]\n',
     "checked must be true or false"),
    ('title = "x"\ncms = "NukeViet"\nchecked = true\nsources = ["s: seen somewhere"]\nurl = "y"\n',
     "unknown key catalogue.url"),
])
def test_malformed_entries_fail_in_one_line(tmp_path: Path, meta: str, problem: str) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text('[[sites]]\nname = "x"\nprofile = "nukeviet"\nstart_urls = ["https://btg.example.gov.vn/"]\n'
                    f"\n[sites.catalogue]\n{meta}", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert problem in str(err.value) and "\n" not in str(err.value) and "sites[0]" in str(err.value)


def test_an_entry_with_tables_and_awkward_strings_round_trips(tmp_path: Path) -> None:
    """Sub-tables (selectors, text) and strings needing escapes survive ``entry_toml``."""
    path = tmp_path / "catalogue.toml"
    path.write_text("""\
[[sites]]
name = "odd"
description = "it's \\"quoted\\" and has a tab\\there"
start_urls = ["https://odd.example.vn/tin-tuc"]
article_url = '/tin-tuc/[a-z-]+-\\d+\\.html$'
schedule = "every 2 hours"

[sites.selectors]
title = "h1[class='t']"
drop = ["div.share", "aside"]

[sites.text]
not_found = ["Không tìm thấy"]

[sites.catalogue]
title = "Odd"
cms = "unknown"
checked = false
sources = ["nowhere: a test"]
note = "made up for the test"
""", encoding="utf-8")
    entry = load_catalogue(path)["odd"]
    config = tmp_path / "tgwatch.toml"
    config.write_text(entry_toml(entry), encoding="utf-8")
    assert load_config(config).sites["odd"] == entry.site


# --- tgwatch sites --catalogue -------------------------------------------------------------------

def test_sites_catalogue_lists_every_entry_in_each_format() -> None:
    code, out, err = run("sites", "--catalogue", "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert [r["name"] for r in records] == list(catalogue())
    assert set(records[0]) == {"name", "title", "url", "cms", "checked", "article_url", "sources"}
    first = catalogue()[records[0]["name"]]
    assert records[0]["url"] == first.url and records[0]["sources"] == list(first.sources)
    assert all(isinstance(r["checked"], bool) for r in records)
    assert f"{len(records)} catalogued sites" in err
    code, out, _ = run("sites", "--catalogue", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "name,title,url,cms,checked,article_url,sources"
    code, out, _ = run("sites", "--catalogue")
    assert code == 0 and all(name in out for name in catalogue())
    code, out, _ = run("sites", "--format", "json")  # without --catalogue: the configured (built-in) sites
    assert code == 0 and "tuyengiaodanvan" in {r["name"] for r in json.loads(out)}


# --- tgwatch sites add ----------------------------------------------------------------------------

def test_sites_add_appends_the_entry_and_keeps_the_config_text(tmp_path: Path) -> None:
    path = tmp_path / "tgwatch.toml"
    path.write_text(USER_CONFIG, encoding="utf-8")
    code, out, err = run("sites", "add", "btg-tiengiang", "--config", str(path))
    assert code == 0, err
    assert out.strip() == f"added btg-tiengiang (https://tuyengiaotiengiang.vn/) to {path}"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(USER_CONFIG)
    assert "# source: https://tuyengiaotiengiang.vn/tuyen-truyen/" in text
    config = load_config(path)
    assert list(config.sites) == ["mine", "btg-tiengiang"]
    assert config.sites["btg-tiengiang"] == catalogue()["btg-tiengiang"].site
    assert config.notify == ["json://127.0.0.1:9/hook"]
    code, _, err = run("--config", str(path), "sites", "add", "db-angiang")  # the global --config
    assert code == 0 and "not every fact of this entry was checked" in err
    assert list(load_config(path).sites) == ["mine", "btg-tiengiang", "db-angiang"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tgwatch.toml"]


def test_sites_add_through_a_symlink_changes_the_linked_file(tmp_path: Path) -> None:
    real, link = tmp_path / "real.toml", tmp_path / "tgwatch.toml"
    real.write_text(USER_CONFIG, encoding="utf-8")
    link.symlink_to(real)
    code, _, err = run("sites", "add", "btg-cantho", "--config", str(link))
    assert code == 0, err
    assert link.is_symlink() and "btg-cantho" in load_config(real).sites


def test_sites_add_creates_a_missing_config(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    code, out, _ = run("sites", "add", "btg-dongthap", "--config", str(path))
    assert code == 0 and out.strip().endswith("(a new config)")
    assert load_config(path).sites["btg-dongthap"].profile == "liferay"
    assert path.stat().st_mode & 0o044, "readable like any file the user makes"


@pytest.mark.parametrize(("name", "config_text", "message"), [
    ("no-such-site", USER_CONFIG, "catalogue: no entry named 'no-such-site'"),
    ("btg-tiengiang", USER_CONFIG.replace('"mine"', '"btg-tiengiang"'),
     "a site named 'btg-tiengiang' is already configured"),
    ("btg-tiengiang", USER_CONFIG + "[[sites]\n", "invalid TOML"),
    ("btg-tiengiang", USER_CONFIG + 'bogus = 1\n', "unknown key 'bogus'"),
])
def test_sites_add_refuses_and_writes_nothing(tmp_path: Path, name: str, config_text: str, message: str) -> None:
    path = tmp_path / "tgwatch.toml"
    path.write_text(config_text, encoding="utf-8")
    before = path.read_bytes(), path.stat().st_mtime_ns
    code, out, err = run("sites", "add", name, "--config", str(path))
    assert code == 2 and out == ""
    assert err.startswith("tgwatch: error: ") and message in err and err.count("\n") == 1
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tgwatch.toml"]


def test_a_failed_replacement_leaves_the_config_and_no_temporary(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between writing the new text and swapping it in changes nothing."""
    import crawler.catalogue as module

    path = tmp_path / "tgwatch.toml"
    path.write_text(USER_CONFIG, encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="cannot be written"):
        add_to_config(path, "btg-tiengiang")
    assert path.read_text(encoding="utf-8") == USER_CONFIG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tgwatch.toml"]


def test_an_added_site_crawls(tmp_path: Path, fixture_server: FixtureServer) -> None:
    """``sites add`` of a NukeViet entry whose patterns are the nukeviet profile's, its start URL then
    pointed at the fixture NukeViet site (quangtri) on 127.0.0.1: the crawl archives exactly that
    site's articles (the robots.txt trap excluded), found by the entry's own patterns."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    path = tmp_path / "tgwatch.toml"
    tgwatch(db, "sites", "add", "tu-binhphuoc", "--config", str(path))
    entry = catalogue()["tu-binhphuoc"]
    text = path.read_text(encoding="utf-8")
    assert entry.url in text and "article_url" not in text  # the profile's patterns, as catalogued
    path.write_text(text.replace(entry.url, fixture_server.page_url("/quangtri/news/tin-tuc/")), encoding="utf-8")
    summary = crawl(db, path, "tu-binhphuoc", settings=IN_THREAD)
    live = {key for _site, key in live_paths("v1", ["quangtri"])}
    assert f"new {len(live)}," in summary
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            urls = connection.execute(select(ArticleRow.url).where(ArticleRow.site == "tu-binhphuoc")).scalars().all()
    finally:
        engine.dispose()
    assert {key_of(u) for u in urls} == live
    assert all(re.search(r"/quangtri/news/[a-z0-9-]+/[a-z0-9-]+-\d+\.html$", u) for u in urls)
    assert builtin_profiles()["nukeviet"].article_url.pattern == entry.site.article_url.pattern


def test_readme_counts_are_the_catalogue_s() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    entries = catalogue().values()
    assert f"lists {len(entries)} real provincial and district sites" in readme
    assert f"`checked = true` ({sum(e.checked for e in entries)} entries)" in readme
    assert f"false` ({sum(not e.checked for e in entries)}) says" in readme
    assert "tgwatch sites --catalogue" in readme and "tgwatch sites add NAME [--config FILE]" in readme
