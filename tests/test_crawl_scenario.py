"""Acceptance: crawling the fixture sites from v1 to v2 flags exactly what the scenario file says.

v1, then v2 twice (the second confirms removals), then v2 once more, all with ``--recheck all``:
every new, edited (with exactly the right fields) and removed article is flagged, chrome-only,
NFD and whitespace changes are not, and the last crawl adds no change and no version. On SQLite
and PostgreSQL (``archive_url``), and with a bare config of only name, start_urls and article_url.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from tests.crawl_helpers import (
    FAST,
    counts,
    crawl,
    expected_flags,
    flagged,
    live_paths,
    key_of,
    query,
    settings_args,
    tgwatch,
    write_config,
)

SUMMARY = re.compile(r"^pages fetched (\d+), new (\d+), edited (\d+), unchanged (\d+), removed (\d+), "
                     r"failed checks (\d+)")


def summary(line: str) -> dict[str, int]:
    match = SUMMARY.match(line)
    assert match, line
    return dict(zip(("pages", "new", "edited", "unchanged", "removed", "failed"), map(int, match.groups())))


def run_scenario(db: str, config: Path, server: FixtureServer) -> list[dict[str, int]]:
    lines = [crawl(db, config)]
    server.set_version("v2")
    lines += [crawl(db, config), crawl(db, config)]
    return [summary(line) for line in lines]


def assert_scenario(db: str, sites: list[str] | None = None) -> None:
    assert flagged(db) == expected_flags(sites)


def test_v1_to_v2_flags_exactly_the_scenario(archive_url: str, fresh_fixture_server: FixtureServer,
                                             tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server)
    first, second, third = run_scenario(archive_url, config, fresh_fixture_server)
    verdicts = Counter(e["verdict"] for entries in load_scenario().values() for e in entries.values())
    assert first["new"] == len(live_paths("v1"))
    assert (second["new"], second["edited"], second["removed"]) == (verdicts["new"], verdicts["edited"], 0)
    assert (third["new"], third["edited"], third["removed"]) == (0, 0, verdicts["removed"])
    assert first["failed"] == second["failed"] == third["failed"] == 0
    assert_scenario(archive_url)
    before = counts(archive_url)
    result = tgwatch(archive_url, "crawl", "--recheck", "all", "--log-level", "INFO", *settings_args(FAST),
                     config=config)
    last = summary(result.stdout.strip().splitlines()[-1])
    # every live article is the same file as in the last crawl: each re-check costs a 304
    not_modified = sum(map(int, re.findall(r"'tgwatch/not_modified': (\d+)", result.stderr)))
    assert not_modified == len(live_paths("v2"))
    assert counts(archive_url) == before  # no change, no version, no capture
    assert last["new"] == last["edited"] == last["removed"] == last["failed"] == 0
    assert_scenario(archive_url)
    rows = query(archive_url, "SELECT site, url FROM articles WHERE removed_at IS NULL")
    assert {(site, key_of(url)) for site, url in rows} == live_paths("v2")


def test_bare_config_gives_the_same_verdicts(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """Sites the project has never seen: only name, start_urls and article_url (no profile: each page's
    CMS family is recognised by itself; no follow_url: pagination found by the default pattern)."""
    config = write_config(tmp_path, fresh_fixture_server, minimal=True)
    assert "follow_url" not in config.read_text() and "profile" not in config.read_text()
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    run_scenario(db, config, fresh_fixture_server)
    assert_scenario(db)


def test_with_profiles_off_every_site_gives_the_same_verdicts(fresh_fixture_server: FixtureServer,
                                                              tmp_path: Path) -> None:
    """Every fixture site, its CMS family included, read with no site knowledge at all
    (``profile = "generic"``): the scenario is exact all the same."""
    config = write_config(tmp_path, fresh_fixture_server, no_profiles=True)
    assert config.read_text().count('profile = "generic"') == len(load_scenario())
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    first, second, third = run_scenario(db, config, fresh_fixture_server)
    assert first["failed"] == second["failed"] == third["failed"] == 0
    assert_scenario(db)
