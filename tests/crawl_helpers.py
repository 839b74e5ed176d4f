"""Helpers of the crawl tests: run ``tgwatch`` as a child process, read what the archive flagged,
and what the fixtures' scenario file says it should have flagged.

Crawls run in child processes because a Twisted reactor runs once per process; the expected
verdicts come only from ``fixtures/scenario.json`` (never written down in a test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, func, select, text

from fixtures.config import LOOPBACK_SETTINGS, setting_args, site_config
from fixtures.gold import load_scenario
from fixtures.testing import FixtureServer
from storage.models import ArticleRow, CaptureRow, ChangeRow, VersionRow
from storage.urls import canonical_url

ROOT = Path(__file__).resolve().parent.parent
FAST = LOOPBACK_SETTINGS
IN_THREAD = {"TGWATCH_EXTRACT_WORKERS": "0"}
"""For tests about something else than extraction: no worker processes to start (the scenario,
fault, kill and scrapy tests keep the process pool)."""
Flags = dict[tuple[str, str], list[tuple[str, frozenset[str]]]]


def settings_args(settings: dict[str, str]) -> list[str]:
    return setting_args(settings)


def tgwatch(db: str, *args: str, config: Path | None = None, timeout: float = 180,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """``tgwatch --db DB [--config FILE] ARGS`` in a child process (cwd: the repo root)."""
    command = [sys.executable, "-m", "monitor.cli", "--db", db]
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if check and result.returncode != 0:
        raise AssertionError(f"tgwatch {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def crawl(db: str, config: Path, *sites: str, recheck: str = "all", settings: dict[str, str] | None = None,
          timeout: float = 180) -> str:
    """One ``tgwatch crawl`` with fast settings; returns its summary line."""
    args = ["crawl", *sites, "--recheck", recheck, *settings_args({**FAST, **(settings or {})})]
    result = tgwatch(db, *args, config=config, timeout=timeout)
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr, result.stderr[-5000:]
    return result.stdout.strip().splitlines()[-1]


def write_config(directory: Path, server: FixtureServer, *, generic: bool = False,
                 sites: list[str] | None = None, minimal: bool = False, no_profiles: bool = False) -> Path:
    """A tgwatch.toml for the fixture sites; ``minimal`` keeps only name, start_urls, article_url;
    ``no_profiles`` sets ``profile = "generic"`` (no selectors, no CMS family recognised)."""
    body = site_config(server.url, generic=generic or minimal, sites=sites, no_profiles=no_profiles)
    if minimal:
        body = "\n".join(line for line in body.splitlines() if not line.startswith("follow_url")) + "\n"
    path = directory / "tgwatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


def path_of(url: str) -> str:
    return urlsplit(url).path


def key_of(url: str) -> str:
    """An article's key in the scenario: its canonical path and query (``/x/ChiTietTin.aspx?ID=4512``),
    for a stored URL as for a scenario path."""
    parts = urlsplit(canonical_url(url if "://" in url else f"http://fixture{url}"))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def flagged(db: str) -> Flags:
    """Every change in the archive: (site, URL path) -> [(kind, fields)] in the order recorded."""
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ArticleRow.site, ArticleRow.url, ChangeRow.kind, ChangeRow.fields)
                .join(ChangeRow, ChangeRow.article_id == ArticleRow.id)
                .order_by(ChangeRow.id)
            ).all()
    finally:
        engine.dispose()
    out: Flags = defaultdict(list)
    for site, url, kind, fields in rows:
        out[(site, key_of(url))].append((kind, frozenset(filter(None, (fields or "").split(",")))))
    return dict(out)


def expected_flags(sites: list[str] | None = None, *, through: str = "v2",
                   scenario: dict[str, Any] | None = None) -> Flags:
    """What a crawl of v1 then v2 (twice) must have flagged, from ``fixtures/scenario.json`` (or
    ``scenario``: the browser sites' ``load_browser_scenario()``)."""
    out: Flags = {}
    for site, entries in (scenario or load_scenario()).items():
        if sites and site not in sites:
            continue
        for path, entry in entries.items():
            verdict = entry["verdict"]
            flags: list[tuple[str, frozenset[str]]] = []
            if verdict != "new":
                flags.append(("new", frozenset()))  # the v1 crawl discovered it
            if through == "v2":
                if verdict == "new":
                    flags.append(("new", frozenset()))
                elif verdict == "edited":
                    flags.append(("edited", frozenset(entry["fields"])))
                elif verdict == "removed":
                    flags.append(("removed", frozenset()))
                if entry.get("listing") == "delisted":
                    flags.append(("delisted", frozenset()))
            if flags:
                out[(site, key_of(path))] = flags
    return out


def live_paths(version: str, sites: list[str] | None = None,
               scenario: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """(site, ``key_of`` path) of every article live in ``version``."""
    live = set()
    for site, entries in (scenario or load_scenario()).items():
        if sites and site not in sites:
            continue
        for path, entry in entries.items():
            if version == "v1" and entry["verdict"] != "new":
                live.add((site, key_of(path)))
            if version == "v2" and entry["verdict"] != "removed":
                live.add((site, key_of(path)))
    return live


def counts(db: str) -> dict[str, int]:
    """Rows of each relation: what a crawl that changes nothing must leave as it was."""
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
                for model in (ArticleRow, VersionRow, ChangeRow, CaptureRow)
            }
    finally:
        engine.dispose()


def query(db: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()
