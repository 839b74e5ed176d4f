"""``tgwatch import``: the history of a site from web archives, into the archive.

``import warc FILE...`` reads WARC and WACZ files (a web archive's captures of tuyengiao.vn, a
Webrecorder crawl); ``import wayback URL-PREFIX`` lists the Wayback Machine's captures through its
CDX API and fetches them. Either way each capture of an article URL becomes a version at its
capture time by the crawl's own rules (``crawler.importer``); running an import twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.context import AppContext
from storage.errors import InputError

if TYPE_CHECKING:
    from crawler.importer import Importer


@click.group("import")
def command() -> None:
    """Import captures of web pages from web archives.

    \b
    Example:
      tgwatch import warc tuyengiao-2019.warc.gz tuyengiao-2020.wacz
      tgwatch import wayback https://tuyengiao.vn/ --from 2019 --to 2024
    """


def _importer(app: AppContext, site_name: str | None) -> Importer:
    from crawler.importer import Importer
    from crawler.profiles import select_profile

    site = select_profile(site_name, app.config) if site_name else None
    return Importer(app.archive(), app.config, site)


@command.command("warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--site", "site_name", help="Record every capture under this site or profile (default: by URL).")
@click.pass_obj
def warc(app: AppContext, files: tuple[Path, ...], site_name: str | None) -> None:
    """Import the captures in WARC (.warc, .warc.gz) or WACZ files: each capture of an article URL
    becomes a version at its capture time (new, edited, removed by the crawl's rules).

    \b
    Example:
      tgwatch import warc tuyengiao-2019.warc.gz crawl.wacz
    """
    from crawler.archived import index, load

    located = [item for path in files for item in index(path)]  # every file checked before anything is recorded
    importer = _importer(app, site_name)
    for item in sorted(located, key=lambda c: (c.captured_at, c.url)):
        profile = importer.wanted(item.url)
        if profile is not None:
            importer.add(load(item), profile)
    click.echo(importer.counts.line())


@command.command("wayback")
@click.argument("prefix")
@click.option("--from", "since", metavar="YYYY[MMDD...]", help="Captures from this time on (CDX 'from').")
@click.option("--to", "until", metavar="YYYY[MMDD...]", help="Captures up to this time (CDX 'to').")
@click.option("--site", "site_name", help="Record every capture under this site or profile (default: by URL).")
@click.option("--cursor", type=click.Path(dir_okay=False, path_type=Path),
              help="Where the import keeps its place (default: .tgwatch-wayback.json in the current directory).")
@click.option("--server", default="https://web.archive.org", show_default=True,
              help="The Wayback Machine (or another CDX server with the same API).")
@click.pass_obj
def wayback(app: AppContext, prefix: str, since: str | None, until: str | None, site_name: str | None,
            cursor: Path | None, server: str) -> None:
    """List the captures of URL-PREFIX through the CDX API and import them like WARC captures, page
    after page; an interrupted import resumes from its cursor file.

    \b
    Example:
      tgwatch import wayback https://tuyengiao.vn/ --from 2019 --to 2024
    """
    from crawler.wayback import Wayback, read_cursor, write_cursor

    for value, name in ((since, "--from"), (until, "--to")):
        if value is not None and (not value.isdigit() or not 4 <= len(value) <= 14):
            raise InputError(value, f"{name} takes a time as YYYY, YYYYMM, YYYYMMDD... (up to 14 digits)")
    cursor = cursor or Path(".tgwatch-wayback.json")
    resume = read_cursor(cursor, prefix)
    importer = _importer(app, site_name)
    client = Wayback(server)
    try:
        for rows, next_key in client.pages(prefix, since, until, resume):
            wanted = [(row, p) for row in rows if (p := importer.wanted(row.url)) is not None]
            for row, profile in sorted(wanted, key=lambda item: (item[0].captured_at, item[0].url)):
                importer.add(client.fetch(row), profile)
            write_cursor(cursor, prefix, next_key)
    finally:
        client.close()
        click.echo(importer.counts.line())
