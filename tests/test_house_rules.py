"""The layering and the one-home rules of CONTRIBUTING.md, checked on the source.

``monitor/`` reads and writes the archive only through ``storage/`` functions; each shared rule
(change kinds, run outcomes, recheck modes, default archive URL, config path) is defined once and
imported from its home, and the commands' choices come from there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from sqlalchemy import CheckConstraint

from crawler.profiles import DEFAULT_CONFIG, config_path, parse_site
from crawler.recheck import RECHECK_MODES
from monitor.cli import main
from storage.errors import ConfigError
from storage.models import Base
from storage.vocabulary import CHANGE_KINDS, DEFAULT_ARCHIVE_URL, FLAGGED_KINDS, RUN_OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("storage", "crawler", "monitor")
HOMES = {
    "change kinds": ("storage/vocabulary.py", set(CHANGE_KINDS)),
    "run outcomes": ("storage/vocabulary.py", set(RUN_OUTCOMES) - {"failed"}),  # "failed" is also a count
    "recheck modes": ("crawler/recheck.py", set(RECHECK_MODES)),
}


def product_sources() -> list[Path]:
    """The product's modules, without migrations (history, frozen as it was written)."""
    paths = [p for package in PRODUCT for p in (ROOT / package).rglob("*.py")]
    return sorted(p for p in paths if "migrations" not in p.parts)


def test_monitor_reaches_the_archive_only_through_storage() -> None:
    offending = re.compile(r"select\(|session\.add|from storage\.models")
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in sorted((ROOT / "monitor").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if offending.search(line)]
    assert found == []


def string_collections(path: Path) -> list[tuple[int, set[str]]]:
    """(line, values) of every tuple, list or set literal made only of strings in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) >= 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            found.append((node.lineno, {e.value for e in node.elts}))  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("rule", sorted(HOMES))
def test_each_rule_is_spelled_out_in_its_home_only(rule: str) -> None:
    home, words = HOMES[rule]
    spelled = [f"{p.relative_to(ROOT)}:{line}" for p in product_sources() if p != ROOT / home
               for line, values in string_collections(p) if len(values & words) >= 3]
    assert spelled == [], f"{rule} spelled out outside {home}"


def test_default_archive_and_config_file_are_defined_once() -> None:
    for literal, home in ((DEFAULT_ARCHIVE_URL, "storage/vocabulary.py"), (DEFAULT_CONFIG, "crawler/profiles.py")):
        holders = [str(p.relative_to(ROOT)) for p in product_sources() if f'"{literal}"' in p.read_text("utf-8")]
        assert holders == [home], literal


def test_the_schema_and_the_commands_take_their_words_from_the_homes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tables = Base.metadata.tables
    checks = {str(c.name): c for t in ("changes", "crawl_runs") for c in tables[t].constraints
              if isinstance(c, CheckConstraint)}
    kind_check, outcome_check = checks["ck_changes_kind"], checks["ck_crawl_runs_outcome"]
    assert all(repr(k) in str(kind_check.sqltext) for k in CHANGE_KINDS)
    assert all(repr(o) in str(outcome_check.sqltext) for o in RUN_OUTCOMES)
    ctx = click.Context(main)

    def choices(command: str, option: str) -> tuple[str, ...]:
        found = main.get_command(ctx, command)
        assert found is not None
        param = next(p for p in found.params if p.name == option)
        assert isinstance(param.type, click.Choice)
        return tuple(param.type.choices)

    assert choices("changes", "kind") == FLAGGED_KINDS and choices("feed", "kind") == FLAGGED_KINDS
    assert choices("crawl", "recheck") == RECHECK_MODES
    site = {"name": "s", "start_urls": ["https://example.org/"], "article_url": "-\\d+$"}
    assert parse_site({**site, "recheck": RECHECK_MODES[-1]}, "t", "").recheck == RECHECK_MODES[-1]
    with pytest.raises(ConfigError, match="recheck must be one of"):
        parse_site({**site, "recheck": "sometimes"}, "t", "")
    monkeypatch.chdir(tmp_path)
    assert config_path(None) is None and config_path("x.toml") == Path("x.toml")
    (tmp_path / DEFAULT_CONFIG).write_text("", encoding="utf-8")
    assert config_path(None) == Path(DEFAULT_CONFIG)


def test_contributing_maps_every_module_in_its_room() -> None:
    """CONTRIBUTING.md's module map names each module of storage/, crawler/ and monitor/ in the
    section of its package (a new module comes with its line in the map)."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    missing = []
    for package in PRODUCT:
        section = text.split(f"\n## {package}/\n", 1)[1].split("\n## ", 1)[0]
        named = set(re.findall(r"`([\w/]+\.py)`", section))
        for path in product_sources():
            relative = path.relative_to(ROOT / package) if path.is_relative_to(ROOT / package) else None
            if relative is not None and path.name != "__init__.py" and relative.as_posix() not in named:
                missing.append(f"{package}/{relative.as_posix()}")
    assert missing == [], "modules missing from CONTRIBUTING.md's map"
