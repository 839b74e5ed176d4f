"""The README documents every command, and every command's help carries an example."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = main.list_commands(click.Context(main))


@pytest.mark.parametrize("name", COMMANDS)
def test_command_in_readme(name: str) -> None:
    assert re.search(rf"tgwatch(?: --\S+(?: \S+)?)* {name}\b", README), f"README never shows `tgwatch {name}`"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_has_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_readme_gives_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize("relation", ["articles", "versions", "changes"])
def test_sql_contract_relations_documented(relation: str) -> None:
    assert f"`{relation}`" in README
