"""Browser mode: the client-rendered fixture site (its HTML holds no link and no text, only the
script that fetches them) crawled with ``render = "browser"`` through the system's Chromium.

The scenario is exact (every verdict and changed field) and the last crawl adds nothing; without
the browser the same site gives nothing; only that site's pages go through the browser, images are
never fetched, contexts are closed as the crawl goes; a missing Chromium stops the crawl with the
way to install one; ``tgwatch scrape --render`` reads one such page. Under CI=true a missing
Chromium fails these tests (``tests/plugins/browser.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.gold import load_browser_scenario, load_gold
from fixtures.testing import FixtureServer
from tests.crawl_helpers import (
    FAST,
    counts,
    crawl,
    expected_flags,
    flagged,
    live_paths,
    settings_args,
    tgwatch,
    write_config,
)

SITE = "tgdvblogs"
SCENARIO = load_browser_scenario()


def stats(stderr: str, name: str) -> list[int]:
    """Every value of one Scrapy stat in a crawl's log (one per crawler that has it)."""
    return [int(v) for v in re.findall(rf"'{re.escape(name)}': (\d+)", stderr)]


def test_the_client_rendered_site_gives_its_scenario(chromium_executable: str, fresh_fixture_server: FixtureServer,
                                                     tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server, sites=[SITE])
    assert 'render = "browser"' in config.read_text()
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    first = crawl(db, config)
    assert f"new {len(live_paths('v1', scenario=SCENARIO))}," in first
    fresh_fixture_server.set_version("v2")
    crawl(db, config)
    crawl(db, config)
    assert flagged(db) == expected_flags(scenario=SCENARIO)
    before = counts(db)
    last = crawl(db, config)
    unchanged = int(re.search(r"unchanged (\d+)", last).group(1))  # type: ignore[union-attr]
    assert unchanged >= len(live_paths("v2", scenario=SCENARIO))  # every live article read again (no 304)
    assert "new 0, edited 0," in last and "removed 0, failed checks 0" in last
    assert counts(db) == before


def test_without_the_browser_the_site_shows_nothing(fixture_server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, fixture_server, sites=[SITE])
    config.write_text(config.read_text().replace('render = "browser"\n', ""), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = tgwatch(db, "crawl", "--recheck", "all", *settings_args(FAST), config=config, check=False)
    assert "new 0, edited 0, unchanged 0, removed 0, failed checks 0" in result.stdout
    assert "no article link on any listing page" in result.stderr


def test_only_the_pages_that_need_it_use_the_browser(chromium_executable: str, fixture_server: FixtureServer,
                                                     tmp_path: Path) -> None:
    """Two sites in one crawl: the server-rendered one never touches the browser; images of the
    rendered one are blocked; its contexts are closed every few pages."""
    config = write_config(tmp_path, fixture_server, sites=["tuyengiaodanvan", SITE])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = tgwatch(db, "crawl", "--recheck", "all", "--log-level", "INFO",
                     *settings_args({**FAST, "TGWATCH_BROWSER_CONTEXT_PAGES": "3"}), config=config)
    rendered = stats(result.stderr, "tgwatch/browser_pages")
    requests = stats(result.stderr, "downloader/request_count")
    assert len(rendered) == 1 and len(requests) == 2  # one crawler used the browser
    robots = 1
    assert rendered[0] in [n - robots for n in requests]  # that crawler's every page but robots.txt
    assert stats(result.stderr, "playwright/request_count/aborted")[0] >= 1  # the photo in an article
    assert stats(result.stderr, "tgwatch/browser_contexts_closed")[0] >= rendered[0] // 3 - 1
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr


def test_a_missing_chromium_stops_the_crawl_with_the_way_to_install_one(fixture_server: FixtureServer,
                                                                        tmp_path: Path) -> None:
    config = write_config(tmp_path, fixture_server, sites=[SITE])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = tgwatch(db, "crawl", *settings_args({**FAST, "TGWATCH_CHROMIUM": str(tmp_path / "no-chromium")}),
                     config=config, check=False)
    assert result.returncode != 0
    assert "no Chromium was found" in result.stderr and "apt-get install chromium" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flag", [["--render"], []], ids=["flag", "from-config"])
def test_scrape_renders_one_page(chromium_executable: str, fixture_server: FixtureServer, tmp_path: Path,
                                 flag: list[str]) -> None:
    gold = load_gold("v1", SITE)[0]
    config = write_config(tmp_path, fixture_server, sites=[SITE]) if not flag else None
    result = tgwatch(f"sqlite:///{tmp_path / 'a.db'}", "scrape", fixture_server.page_url(gold["url"]), *flag,
                     "--format", "json", config=config)
    article = json.loads(result.stdout)
    assert article["title"] == gold["title"] and article["published"] == gold["published"]
    assert article["text"].split("\n") == gold["text_lines"]
