"""End to end: ``changes``, ``diff``, ``search``, ``sites``, ``reextract`` and ``crawl``'s own errors
on a small crawled archive (one fixture site, v1 then v2 twice), and ``demo``.

The archive is crawled once and every command checked on it in one test (a module fixture would be
crawled again by each xdist worker); each command has its own ``check_*`` function.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.gold import load_gold, load_scenario
from fixtures.testing import FixtureServer
from monitor.changes import COLUMNS
from monitor.cli import COMMAND_MODULES, main
from storage.search import fold
from tests.crawl_helpers import IN_THREAD, ROOT, crawl, path_of, query, write_config

SITE = "longan"
MY_COMMANDS = ("monitor.crawl", "monitor.changes", "monitor.diff", "monitor.search", "monitor.sql",
               "monitor.reextract", "monitor.sites", "monitor.demo")


def test_commands_on_a_crawled_archive(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    config = write_config(tmp_path, fresh_fixture_server, sites=[SITE])
    crawl(db, config, settings=IN_THREAD)
    fresh_fixture_server.set_version("v2")
    crawl(db, config, settings=IN_THREAD)
    crawl(db, config, settings=IN_THREAD)
    crawled = (db, config)
    check_changes(crawled)
    check_diff(crawled)
    check_search(crawled)
    check_sites(crawled)
    check_reextract(crawled)
    check_unknown_site(crawled)


def tg(db: str, config: Path | None, *args: str) -> tuple[int, str, str]:
    options = ["--db", db] + (["--config", str(config)] if config else [])
    result = CliRunner().invoke(main, [*options, *args])
    return result.exit_code, result.stdout, result.stderr


def scenario_kinds() -> Counter[str]:
    """Every article is new once (at v1, or at v2 for the new ones), then edited or removed or not,
    and delisted when v2 takes it off every listing."""
    entries = load_scenario()[SITE].values()
    verdicts = Counter(e["verdict"] for e in entries)
    delisted = sum(1 for e in entries if e.get("listing") == "delisted")
    return Counter({"new": len(entries), "edited": verdicts["edited"], "removed": verdicts["removed"],
                    "delisted": delisted})


def check_changes(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    code, out, err = tg(db, config, "changes", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert Counter(r["kind"] for r in rows) == +scenario_kinds()
    assert [r["detected_at"] for r in rows] == sorted((r["detected_at"] for r in rows), reverse=True)
    code, out, _ = tg(db, config, "changes", "--kind", "edited", "--since", "1h", "--site", SITE, "--format", "json")
    edited = json.loads(out)
    expected = {path: set(e["fields"]) for path, e in load_scenario()[SITE].items() if e["verdict"] == "edited"}
    assert {path_of(r["url"]): set(r["fields"].split(",")) for r in edited} == expected
    assert all(r["substance"] in ("substantive", "cosmetic") and r["findings"] for r in edited)
    by_substance = {s: json.loads(tg(db, config, "changes", "--substance", s, "--format", "json")[1])
                    for s in ("substantive", "cosmetic")}
    assert sorted(r["url"] for rows in by_substance.values() for r in rows) == sorted(r["url"] for r in edited)
    assert all(r["substance"] == s for s, rows in by_substance.items() for r in rows)
    code, out, _ = tg(db, config, "changes", "--since", "2999-01-01", "--format", "csv")
    assert code == 0 and out.strip() == ",".join(COLUMNS)
    code, _, err = tg(db, config, "changes", "--since", "last tuesday")
    assert code == 2 and err.startswith("tgwatch: error: last tuesday: not a time")


def check_diff(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    edits = [(path, e) for path, e in load_scenario()[SITE].items() if e["verdict"] == "edited"]
    by_text = next(path for path, e in edits if "text" in e["fields"])
    url = next(url for (url,) in query(db, "SELECT url FROM articles") if path_of(url) == by_text)
    code, out, err = tg(db, config, "diff", url)
    assert code == 0, err
    assert "version 1" in out and "version 2" in out and "text:" in out
    assert re.search(r"^edit: (substantive|cosmetic)$", out, re.MULTILINE)
    assert re.search(r"\[-.+?-\]|\{\+.+?\+\}", out, re.DOTALL)
    assert "\x1b[" not in out  # not a terminal: markers, no colours
    by_title = next(path for path, e in edits if "title" in e["fields"])
    article_id = next(i for i, url in query(db, "SELECT id, url FROM articles") if path_of(url) == by_title)
    code, out, _ = tg(db, config, "diff", str(article_id), "--from", "1", "--to", "2")
    old_title, new_title = (t for (t,) in query(db, f"SELECT title FROM versions WHERE article_id = {article_id} "
                                                   "ORDER BY version"))
    assert f"title: {old_title} → {new_title}" in out
    code, out, err = tg(db, config, "diff", str(article_id), "--from", "1", "--to", "2", "--format", "json")
    assert code == 0, err
    rows = {row["field"]: row for row in json.loads(out)}
    assert rows["title"] == {"article_id": article_id, "from_version": 1, "to_version": 2, "field": "title",
                             "before": old_title, "after": new_title}
    code, out, _ = tg(db, config, "diff", str(article_id), "--from", "1", "--to", "2", "--format", "csv")
    assert out.splitlines()[0] == "article_id,from_version,to_version,field,before,after"
    assert len(list(csv.reader(io.StringIO(out)))) == len(rows) + 1
    code, _, err = tg(db, config, "diff", str(article_id), "--to", "9")
    assert code == 2 and "no version 9" in err
    code, _, err = tg(db, config, "diff", "https://nowhere.example/x")
    assert code == 2 and "no such article" in err


def check_search(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    gold = load_gold("v2", SITE)[0]
    word = max(re.findall(r"\w+", gold["title"]), key=len)
    folded = fold(word)
    assert folded != word.lower() or not word.isascii()
    code, out, err = tg(db, config, "search", folded, "--site", SITE, "--format", "json")
    assert code == 0, err
    hits = json.loads(out)
    assert hits and any(h["title"] == gold["title"] for h in hits)
    assert all("«" in h["snippet"] for h in hits)


def check_sites(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    code, out, _ = tg(db, config, "sites", "--format", "json")
    assert code == 0
    [site] = json.loads(out)
    assert site["name"] == SITE and site["profile"] == "portal" and site["recheck"] == "due"
    code, out, _ = tg(db, None, "sites")
    assert code == 0 and "tuyengiao" in out


def check_reextract(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    versions = query(db, "SELECT count(*) FROM versions")[0][0]
    code, out, err = tg(db, config, "reextract", SITE, "--workers", "0")
    assert code == 0, err
    assert out.strip() == f"re-extracted {versions} versions: 0 changed"
    code, _, err = tg(db, config, "reextract", "nowhere")
    assert code == 2 and "no site named 'nowhere'" in err


def test_reextract_reads_the_crawl_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-s reaches reextract's pool as it reaches a crawl's; --workers still wins."""
    import crawler.pool

    made: list[tuple[int, str]] = []

    def fake_pool(workers: int, start_method: str) -> None:
        made.append((workers, start_method))

    monkeypatch.setattr(crawler.pool, "extraction_pool", fake_pool)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    code, out, err = tg(db, None, "reextract", "-s", "TGWATCH_EXTRACT_WORKERS=3",
                        "-s", "TGWATCH_EXTRACT_START_METHOD=spawn")
    assert code == 0, err
    assert made == [(3, "spawn")] and out.strip() == "re-extracted 0 versions: 0 changed"
    code, _, err = tg(db, None, "reextract", "--workers", "0", "-s", "TGWATCH_EXTRACT_WORKERS=3")
    assert code == 0 and made == [(3, "spawn")]
    code, _, err = tg(db, None, "reextract", "-s", "TGWATCH_EXTRACT_WORKERS")
    assert code == 2 and "NAME=VALUE" in err


def check_unknown_site(crawled: tuple[str, Path]) -> None:
    db, config = crawled
    code, _, err = tg(db, config, "crawl", "nowhere")
    assert code == 2 and err.strip().startswith("tgwatch: error:") and "no site named 'nowhere'" in err
    assert err.count("\n") == 1


def test_every_command_has_an_example() -> None:
    for name in MY_COMMANDS:
        assert name in COMMAND_MODULES
        command = __import__(name, fromlist=["command"]).command
        assert "Example:" in (command.help or ""), name


def test_demo_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--dir", str(tmp_path / "demo")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert (tmp_path / "demo" / "archive.db").is_file()
    for text in ("crawl 1 (v1)", "crawl 3 (v2 again, confirms removals)", " removed ", " edited ",
                 "word by word", "sql \"SELECT"):
        assert text in out, text
    removed = sum(e["verdict"] == "removed" for site in load_scenario().values() for e in site.values())
    assert f"removed {removed}, failed checks 0" in out
