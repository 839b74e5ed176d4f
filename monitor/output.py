"""Tabular output shared by the listing commands: ``--format table|csv|json``.

One option decorator and one renderer, so ``sql``, ``changes``, ``search`` and ``sites`` print the
same way: a table for people (rich on a terminal, aligned plain text when piped), CSV and JSON for
scripts (one JSON array of objects; times in ISO 8601 with offset, as in the archive).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TextIO, TypeVar

import click

FORMATS = ("table", "csv", "json")
F = TypeVar("F", bound=Callable[..., Any])
MAX_CELL = 120  # characters of one cell in a piped plain table (csv/json carry everything)


def format_option(func: F) -> F:
    """``--format table|csv|json`` (default table), passed to the command as ``fmt``."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Output format: a table for reading, csv or json for scripts.",
    )(func)


def plain(value: Any) -> Any:
    """A JSON-ready value: times as ISO 8601, bytes summarised, everything else as is or str."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def cell(value: Any) -> str:
    """One table cell on one line."""
    value = plain(value)
    if value is None:
        return ""
    return " ".join(str(value).split())


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table",
           *, out: TextIO | None = None) -> None:
    """Print ``rows`` under ``columns`` in ``fmt``."""
    out = out or sys.stdout
    if fmt == "json":
        records = [{c: plain(v) for c, v in zip(columns, row)} for row in rows]
        out.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if plain(v) is None else plain(v) for v in row] for row in rows])
    elif is_terminal(out):
        rich_table(columns, rows, out)
    else:
        plain_table(columns, rows, out)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """Columns aligned with spaces; long cells cut at MAX_CELL characters."""
    cells = [[cell(v) for v in row] for row in rows]
    cells = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in cells]
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    lines = [list(columns), ["-" * w for w in widths], *cells]
    for line in lines:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() + "\n")


def rich_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False, header_style="bold")
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    Console(file=out).print(table)


def note(message: str) -> None:
    """A remark about the output (row limits...) on stderr, so it never mixes into csv/json."""
    click.echo(message, err=True)
