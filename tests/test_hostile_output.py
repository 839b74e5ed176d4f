"""Scraped text never reaches a terminal as anything but inert text (issue 9, item 4).

The audit's attack: OSC/CSI escapes and BEL in titles and text were printed raw by ``scrape``,
``diff``, ``changes``, ``search`` and ``sql`` (table and csv, terminal or piped); rich markup in a
title was interpreted (``[link=…]`` made a hyperlink) and ``[/bold]`` crashed ``changes``,
``search`` and ``sql`` with a ``MarkupError``. Here an archive holds such text (as one written by an
older tgwatch would: extraction now drops control characters) and every command prints it, piped
(click's runner) and on a real terminal (a pseudo-terminal), in every format.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from storage.archive import Archive
from tests.crawl_helpers import ROOT
from tests.plugins.archive import fetched

OSC_LINK = "\x1b]8;;https://evil.example/\x07bấm\x1b]8;;\x07"
TITLE = f"Hội nghị [/bold] [link=https://evil.example/]xem[/link] {OSC_LINK} \x1b[2J\x07\x08\x9b31m tuyên giáo"
TEXT = "Đoạn một [bold]đậm[/bold] \x1b[31mđỏ\x1b[0m \x07 tuyên giáo.\nĐoạn hai \x1b]0;pwned\x07 kết thúc."
AUTHOR = "[red]Trường[/red] \x1b[5mGiang"
URL = "https://example.vn/tuyen-giao-1"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own styling on a terminal


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'archive.db'}"
    archive = Archive.open(url)
    try:
        archive.record("evil", URL, fetched(0, url=URL, title=TITLE, text=TEXT, author=AUTHOR, lead=None))
        archive.record("evil", URL, fetched(60, url=URL, html=b"<html>v2</html>", title=TITLE + " [/]",
                                            text=TEXT + "\nĐoạn ba \x1b[1m.", author=AUTHOR, lead=None))
    finally:
        archive.close()
    return url


def commands(db: str) -> list[list[str]]:
    base = ["--db", db]
    return [
        [*base, "changes"],
        [*base, "search", "tuyên", "giáo"],
        [*base, "sql", "SELECT id, title, author FROM articles"],
        [*base, "sql", "SELECT char(27) || ']8;;https://evil.example/' || char(7) || 'x' AS \"[/bold]\", "
                       "'[link=https://evil.example/]y[/link]' AS \"b\x1b[31m\""],
        [*base, "diff", "1"],
    ]


def assert_inert(out: str, *, terminal: bool = False) -> None:
    shown = SGR.sub("", out) if terminal else out
    allowed = "\r\n\t" if terminal else "\n\t"
    assert not [c for c in RAW_CONTROL.findall(shown) if c not in allowed], repr(out[:2000])
    assert "Traceback" not in out and "MarkupError" not in out


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_every_command_piped_prints_data_inert(db: str, fmt: str) -> None:
    for args in commands(db):
        result = CliRunner().invoke(main, [*args, "--format", fmt], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        assert_inert(result.stdout)
        assert_inert(result.stderr)
        if fmt == "json":
            json.loads(result.stdout)  # valid JSON, every character escaped or printable
    changes = CliRunner().invoke(main, ["--db", db, "changes", "--format", "table"]).stdout
    assert "[/bold]" in changes and "[link=https://evil.example/]" in changes  # printed as written
    assert "\\x1b]8;;https://evil.example/\\x07" in changes  # the escape shown, not sent


def test_json_keeps_the_exact_text(db: str) -> None:
    result = CliRunner().invoke(main, ["--db", db, "sql", "SELECT title, author FROM articles", "--format", "json"])
    (row,) = json.loads(result.stdout)
    assert row["title"] == TITLE + " [/]" and row["author"] == AUTHOR
    result = CliRunner().invoke(main, ["--db", db, "sql", "SELECT char(127) || char(155) AS c", "--format", "json"])
    assert "\\u007f\\u009b" in result.stdout and json.loads(result.stdout) == [{"c": "\x7f\x9b"}]


def test_csv_keeps_markup_and_shows_controls_escaped(db: str) -> None:
    result = CliRunner().invoke(main, ["--db", db, "sql", "SELECT title FROM articles", "--format", "csv"])
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["title"].startswith("Hội nghị [/bold] [link=https://evil.example/]xem[/link] \\x1b]8;;")


def run_in_terminal(args: list[str]) -> str:
    """``tgwatch ARGS`` with a pseudo-terminal as its standard output (and error): what a user sees."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "LINES": "50", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "monitor.cli", *args], stdout=slave, stderr=slave,
                               stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(master)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_every_command_on_a_terminal_prints_data_inert(db: str, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    paragraph = "Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị sơ kết công tác tuyên giáo sáu tháng đầu năm. " * 3
    page.write_text(f"<html><head><title>x</title></head><body><article><h1>Tin [/bold] [link=https://e.x/]a[/link]"
                    f"</h1><p>Ngày 12/3/2024</p><p>{paragraph}</p><p>{paragraph}</p></article></body></html>",
                    encoding="utf-8")
    for args in [*commands(db), ["scrape", str(page), "--url", URL]]:
        for fmt in ("table", "csv"):
            out = run_in_terminal([*args, "--format", fmt])
            assert_inert(out, terminal=True)
            assert "\x1b]8;" not in out  # no hyperlink made, by data or by markup
    out = run_in_terminal(["--db", db, "changes"])
    assert "[/bold]" in out and "[link=https://evil.example/]xem[/link]" in out
