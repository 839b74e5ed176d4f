"""Acceptance: ``scrapy crawl SITE`` from the project root records what ``tgwatch crawl SITE`` does,
and robots.txt is obeyed: a linked article that robots.txt forbids is never fetched nor recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fixtures.gold import robots_traps
from fixtures.testing import FixtureServer
from tests.crawl_helpers import (
    FAST,
    IN_THREAD,
    ROOT,
    crawl,
    live_paths,
    path_of,
    query,
    settings_args,
    tgwatch,
    write_config,
)

SNAPSHOT = """
SELECT a.site, a.url, a.title, a.author, a.category, a.published_at, a.content_hash, v.version, v.text
FROM articles a JOIN versions v ON v.article_id = a.id ORDER BY a.url, v.version
"""


def scrapy_crawl(site: str, db: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TGWATCH_DB": db, "TGWATCH_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scrapy", "crawl", site, "-a", "recheck=all", "-L", "WARNING",
               *settings_args(FAST), *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_scrapy_crawl_records_the_same_as_tgwatch_crawl(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server)
    by_scrapy, by_tgwatch = (f"sqlite:///{tmp_path / name}" for name in ("scrapy.db", "tgwatch.db"))
    scrapy_crawl("longan", by_scrapy, config)
    crawl(by_tgwatch, config, "longan")
    fresh_fixture_server.set_version("v2")
    scrapy_crawl("longan", by_scrapy, config)
    crawl(by_tgwatch, config, "longan")
    snapshot = query(by_scrapy, SNAPSHOT)
    assert snapshot == query(by_tgwatch, SNAPSHOT)
    assert {(site, path_of(url)) for site, url, *_ in snapshot} == live_paths("v1", ["longan"]) | live_paths(
        "v2", ["longan"])
    kinds = "SELECT kind, count(*) FROM changes GROUP BY kind ORDER BY kind"
    assert query(by_scrapy, kinds) == query(by_tgwatch, kinds)
    runs = "SELECT site, outcome, pages, new, edited, unchanged, removed, failed FROM crawl_runs ORDER BY id"
    assert query(by_scrapy, runs) == query(by_tgwatch, runs)


def test_scrapy_list_names_the_configured_sites(fixture_server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, fixture_server)
    env = {**os.environ, "TGWATCH_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(live_site for live_site in {s for s, _ in live_paths("v1")})


def test_robots_txt_is_obeyed(fixture_server: FixtureServer, tmp_path: Path) -> None:
    traps = robots_traps()
    assert traps
    sites = sorted({path.strip("/").split("/")[0] for path in traps})
    config = write_config(tmp_path, fixture_server, sites=sites)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = tgwatch(db, "crawl", "--recheck", "all", "--log-level", "DEBUG", *settings_args({**FAST, **IN_THREAD}),
                     config=config)
    urls = {path_of(url) for (url,) in query(db, "SELECT url FROM articles")}
    assert urls == {path for _, path in live_paths("v1", sites)}
    for trap in traps:
        assert trap not in urls
        assert f"Forbidden by robots.txt: <GET {fixture_server.page_url(trap)}>" in result.stderr
        assert f"<GET {fixture_server.page_url(trap)}>" not in result.stderr.replace(
            f"Forbidden by robots.txt: <GET {fixture_server.page_url(trap)}>", "")
