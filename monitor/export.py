"""``tgwatch export warc``: the stored captures as a WARC 1.1 file (and a WACZ package)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from monitor.context import AppContext
from storage.errors import InputError


def wacz_path(output: Path) -> Path:
    name = output.name
    stem = name[: -len(".warc.gz")] if name.endswith(".warc.gz") else name
    return output.with_name(stem + ".wacz")


@click.group("export")
def command() -> None:
    """Export the archive for other tools.

    \b
    Example:
      tgwatch export warc -o archive.warc.gz
    """


@command.command("warc")
@click.argument("sites", nargs=-1)
@click.option("--since", "since_text", metavar="WHEN",
              help="Only captures (and checks) since WHEN: ISO date/time or 7d, 24h.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .warc.gz file to write.")
@click.option("--wacz", is_flag=True, help="Also package it as FILE.wacz (py-wacz) with a pages list.")
@click.pass_obj
def warc(app: AppContext, sites: tuple[str, ...], since_text: str | None, output: Path, wacz: bool) -> None:
    """Write the captures of SITES (default: all) as WARC 1.1: warcinfo, response + request per
    capture, revisit per unchanged re-check. Streams: memory stays flat whatever the archive's size.

    \b
    Example:
      tgwatch export warc -o tgwatch.warc.gz
      tgwatch export warc tuyengiao --since 30d -o recent.warc.gz --wacz
    """
    from importlib.metadata import version

    from monitor.changes import parse_when
    from monitor.serve import open_readonly
    from monitor.warc import WarcExport
    from storage import report
    from storage.export import iter_export

    since = parse_when(since_text) if since_text else None
    if not output.parent.is_dir():
        raise InputError(str(output), "its directory does not exist")
    archive = open_readonly(app.db_url, timeout=600.0)
    try:
        with archive.reading() as session:
            known = set(report.sites(session))
        for site in sites:
            if site not in known:
                raise InputError(site, f"no such site in the archive (sites: {', '.join(sorted(known)) or 'none'})")
        info = {"software": f"tgwatch {version('tgwatch')}", "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "description": "Captures of a tgwatch archive" + (f" ({', '.join(sites)})" if sites else ""),
                **({"since": since.isoformat()} if since else {})}  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="tgwatch-export-", dir=output.parent) as work:
            part = Path(work) / output.name
            pages_path = Path(work) / "pages.jsonl"
            with part.open("wb") as out, pages_path.open("w", encoding="utf-8") as pages:
                export = WarcExport(out, output.name, info, pages if wacz else None)
                for item in iter_export(archive.reading, sites, since):
                    export.add(item)
            if wacz:
                package = Path(work) / wacz_path(output).name
                _package(part, pages_path, package)
                os.replace(package, wacz_path(output))
            os.replace(part, output)
    finally:
        archive.close()
    c = export.counts
    made = f" and {wacz_path(output)}" if wacz else ""
    click.echo(f"wrote {output}{made}: {c.responses} responses, {c.requests} requests, "
               f"{c.revisits} revisits ({c.bytes / 1048576:.1f} MB of pages)")


def _package(warc_file: Path, pages: Path, package: Path) -> None:
    import contextlib
    import io

    from wacz.main import main as wacz_main

    with contextlib.redirect_stdout(io.StringIO()):  # py-wacz narrates its steps on stdout
        code = wacz_main(["create", "-o", str(package), "-p", str(pages), str(warc_file)])
    if code not in (0, None) or not package.is_file():
        raise InputError(str(package), "py-wacz could not package the WARC")
