"""Output shared by every command that prints data: ``--format table|csv|json``.

One option decorator (``format_option``, with ``--json`` kept as an alias where it existed) and one
renderer of data rows (``render``), so ``sql``, ``changes``, ``search``, ``sites``, ``status``,
``scrape`` and ``diff`` print the same way: a table for people (rich on a terminal, aligned plain
text when piped), CSV and JSON for scripts (one JSON array of objects; times in ISO 8601 with
offset, as in the archive). CSV and JSON are written row by row, so a long result streams.

Scraped text is data, never terminal input: ``inert`` shows every control character but newline and
tab as a visible escape (``\\x1b``) in tables, CSV and the plain-text commands (``echo``), and rich
tables are built of ``Text`` objects, so ``[/bold]`` or ``[link=...]`` in a title is printed as
written, never interpreted. JSON keeps the exact text: the control characters JSON does not escape
itself (DEL, C1, lone surrogates) are written as ``\\u`` escapes. Text extracted by tgwatch holds no
control character but newline and tab (``crawler.extract.sanitize``), so CSV keeps it exactly too.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO, TypeVar, cast

import click

FORMATS = ("table", "csv", "json")
F = TypeVar("F", bound=Callable[..., Any])
MAX_CELL = 120  # characters of one cell in a piped plain table (csv/json carry everything)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """``text`` safe for a terminal: control characters but newline and tab (and lone surrogates)
    as visible escapes (``\\x1b``, ``\\ud800``)."""
    return _CONTROLS.sub(_escape, text) if _CONTROLS.search(text) else text


def echo(text: str = "", *, err: bool = False) -> None:
    """``click.echo`` of text that may hold data: made ``inert`` first."""
    click.echo(inert(text), err=err)


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps`` (UTF-8 kept) with DEL, C1 and lone surrogates escaped as ``\\uXXXX``: the same
    value for a JSON reader, no raw control character for a terminal."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def format_option(func: F | None = None, *, json_alias: bool = False) -> Any:
    """``--format table|csv|json`` (default table), passed to the command as ``fmt``.

    ``json_alias=True`` adds ``--json`` as another spelling of ``--format json`` (the commands that
    had it keep it).
    """
    def decorate(command: F) -> F:
        wrapped: Callable[..., Any] = command
        if json_alias:
            @functools.wraps(command)
            def command_with_alias(*args: Any, **kwargs: Any) -> Any:
                if kwargs.pop("as_json"):
                    source = click.get_current_context().get_parameter_source("fmt")
                    if source is click.core.ParameterSource.COMMANDLINE and kwargs["fmt"] != "json":
                        raise click.UsageError(f"--json and --format {kwargs['fmt']} disagree")
                    kwargs["fmt"] = "json"
                return command(*args, **kwargs)

            wrapped = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(
                command_with_alias)
        return cast(F, click.option(
            "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
            help="Output format: a table for reading, csv or json for scripts.",
        )(wrapped))

    return decorate(func) if func is not None else decorate


def plain(value: Any) -> Any:
    """A JSON-ready value: times as ISO 8601, bytes summarised, lists and dicts item by item,
    everything else as is or str."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def flat(value: Any) -> Any:
    """A CSV field: ``plain``, with a list's items one per line and a dict as JSON; text ``inert``."""
    value = plain(value)
    if isinstance(value, list):
        return "\n".join("" if v is None else str(flat(v)) for v in value)
    if isinstance(value, dict):
        return json_text(value)
    if isinstance(value, str):
        return inert(value)
    return "" if value is None else value


def cell(value: Any) -> str:
    """One table cell on one line, ``inert``."""
    return inert(" ".join(str(flat(value)).split()))


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def render(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str = "table",
           *, out: TextIO | None = None) -> None:
    """Print ``rows`` under ``columns`` in ``fmt``: the one renderer of data rows.

    CSV and JSON are written as the rows come (``rows`` may be a generator); a table needs them
    all to size its columns.
    """
    out = out or sys.stdout
    if fmt == "json":
        json_records(columns, rows, out)
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([inert(str(c)) for c in columns])
        for row in rows:
            writer.writerow([flat(v) for v in row])
    elif is_terminal(out):
        rich_table(columns, list(rows), out)
    else:
        plain_table(columns, list(rows), out)


def json_records(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> None:
    """A JSON array of one object per row, written row by row (the same text as ``json.dumps(...,
    indent=2)`` of the whole list)."""
    first = True
    for row in rows:
        record = json_text({c: plain(v) for c, v in zip(columns, row)}, indent=2)
        out.write(("[\n" if first else ",\n") + "\n".join("  " + line for line in record.splitlines()))
        first = False
    out.write("[]\n" if first else "\n]\n")


def json_document(document: Any, out: TextIO | None = None) -> None:
    """One JSON value (an object for ``status``, ``scrape``, ``diff``): times as ISO 8601."""
    (out or sys.stdout).write(json_text(document, indent=2, default=plain) + "\n")


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """Columns aligned with spaces; long cells cut at MAX_CELL characters."""
    cells = [[cell(v) for v in row] for row in rows]
    cells = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in cells]
    widths = [max([len(cell(col)), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    lines = [[cell(c) for c in columns], ["-" * w for w in widths], *cells]
    for line in lines:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() + "\n")


def rich_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """A rich table of ``Text`` cells: data is never read as console markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(Text(cell(column)))
    for row in rows:
        table.add_row(*(Text(cell(v)) for v in row))
    Console(file=out, markup=False, emoji=False, highlight=False).print(table)


def note(message: str) -> None:
    """A remark about the output (row limits...) on stderr, so it never mixes into csv/json."""
    echo(message, err=True)
