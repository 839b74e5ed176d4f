"""A site's own politeness in local crawls: ``delay``/``rate``, ``concurrency``, ``autothrottle``.

The keys are checked on load (one-line errors), become the settings of the site's crawler (its
download slot, AutoThrottle's floor), win over ``-s`` settings, and a local crawl of a site with
``rate = 2`` never sends it more than 2 requests in any second, measured at the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.pace import SiteSlotMiddleware, apply_site_politeness, slot_key
from crawler.profiles import load_config
from crawler.spiderloader import spider_class
from fixtures.bigsite import write_site
from fixtures.testing import FixtureServer
from storage.errors import ConfigError
from tests.crawl_helpers import FAST, IN_THREAD, settings_args, tgwatch

SITE = """
[[sites]]
name = "btg-example"
start_urls = ["https://btg.example.gov.vn/tin-tuc"]
article_url = '-\\d+\\.html$'
"""


def load(tmp_path: Path, extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "tgwatch.toml"
    path.write_text(SITE + extra, encoding="utf-8")
    return load_config(path).sites["btg-example"]


def test_rate_and_delay_define_each_other(tmp_path: Path) -> None:
    site = load(tmp_path, "rate = 2\n")
    assert (site.rate, site.delay) == (2.0, 0.5)
    site = load(tmp_path, "delay = 4\nconcurrency = 1\nautothrottle = false\n")
    assert (site.rate, site.delay, site.concurrency, site.autothrottle) == (0.25, 4.0, 1, False)
    assert load(tmp_path, "rate = 2\ndelay = 0.5\n").delay == 0.5  # both, agreeing
    assert load(tmp_path, "delay = 0\n").rate is None  # no delay: no rate limit
    site = load(tmp_path, "")
    assert (site.rate, site.delay, site.concurrency, site.autothrottle) == (None, None, None, None)


@pytest.mark.parametrize("extra, words", [
    ("rate = 2\ndelay = 1\n", "rate = 2 and delay = 1 disagree"),
    ("rate = 0\n", "rate must be at least"),
    ("rate = -1\n", "rate must be at least"),
    ("rate = nan\n", "rate must be a number"),
    ('rate = "fast"\n', "rate must be a number"),
    ("delay = -0.5\n", "delay must be from 0 to 3600"),
    ("delay = inf\n", "delay must be a number"),
    ("delay = true\n", "delay must be a number"),
    ("delay = 7200\n", "delay must be from 0 to 3600"),
    ("concurrency = 0\n", "concurrency must be a whole number of requests from 1 to 64"),
    ("concurrency = 2.5\n", "concurrency must be a whole number"),
    ("concurrency = 1000\n", "concurrency must be a whole number"),
    ('autothrottle = "no"\n', "autothrottle must be true or false"),
    ("autothrottle = 1\n", "autothrottle must be true or false"),
])
def test_bad_values_are_one_line_errors(tmp_path: Path, extra: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, extra)
    message = str(caught.value)
    assert words in message and "sites[0]" in message and "\n" not in message, message


def test_the_keys_become_the_crawlers_settings_above_s_settings(tmp_path: Path) -> None:
    """A site's key wins over a ``-s`` setting; a site without keys keeps the settings."""
    site = load(tmp_path, "rate = 2\nconcurrency = 1\nautothrottle = false\n")
    settings = Settings({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": True}, priority="cmdline")
    apply_site_politeness(site, settings)
    settings.update(Settings({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": True}, priority="cmdline"))  # as
    # CrawlerProcess.crawl lays the process's settings over the crawler's
    assert settings.getdict("DOWNLOAD_SLOTS")[slot_key(site.name)] == {"delay": 0.5, "jitter": 0.0,
                                                                      "concurrency": 1}
    assert settings.getfloat("DOWNLOAD_DELAY") == 0.5  # AutoThrottle's floor, were it on
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    plain = Settings({"DOWNLOAD_DELAY": 0}, priority="cmdline")
    apply_site_politeness(load(tmp_path, ""), plain)
    assert plain.getfloat("DOWNLOAD_DELAY") == 0 and not plain.getdict("DOWNLOAD_SLOTS")


def test_every_request_of_the_site_goes_to_its_slot(tmp_path: Path) -> None:
    from scrapy import Request

    spider = spider_class(load(tmp_path, "delay = 1\n"))
    crawler = get_crawler(spider)
    middleware = SiteSlotMiddleware.from_crawler(crawler)
    robots = Request("https://btg.example.gov.vn/robots.txt")
    middleware.process_request(robots)
    assert robots.meta["download_slot"] == "tgwatch-site:btg-example"
    assert crawler.settings.getdict("DOWNLOAD_SLOTS")["tgwatch-site:btg-example"]["delay"] == 1.0


def test_a_site_rate_holds_in_a_local_crawl(tmp_path: Path) -> None:
    """``rate = 2``: never more than 2 requests in any second at the server, robots.txt included,
    although the crawl's ``-s`` settings ask for no delay at all."""
    site = write_site(tmp_path / "site", articles=40)
    with FixtureServer(root=tmp_path / "site") as server:
        config = tmp_path / "tgwatch.toml"
        config.write_text(site.config(server.url, "rate = 2\n"), encoding="utf-8")
        settings = {**FAST, **IN_THREAD, "TGWATCH_LISTING_PAGES": "2", "TGWATCH_ARTICLE_REQUESTS": "10"}
        result = tgwatch(f"sqlite:///{tmp_path / 'a.db'}", "crawl", *settings_args(settings), config=config)
        assert "new 10," in result.stdout, result.stdout
        times = [t for t, _ in server.hits()]
    assert len(times) >= 12
    # seen at the server, so a request's arrival lags its sending by up to tens of milliseconds (the
    # first connection's set-up: robots.txt then "/" arrived 0.449 s apart at a 0.5 s delay): 0.1 s slack
    busiest = max(sum(1 for t in times if start <= t < start + 0.9) for start in times)
    assert busiest <= 2, busiest
    assert times[-1] - times[0] >= (len(times) - 1) / 2 * 0.95
