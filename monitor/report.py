"""``tgwatch report --out DIR``: the change report as static HTML (see ``monitor.web.publish``)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.context import AppContext
from storage.errors import InputError


@click.command("report")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write (replaced as a whole when it holds an earlier report).")
@click.pass_obj
def command(app: AppContext, out: Path) -> None:
    """Write the change report (changes, articles with diffs, captures, sites) as static HTML.

    The same pages as `tgwatch serve`, for publishing on any web server; search needs the server
    and is left out. The archive is opened read-only.

    \b
    Example:
      tgwatch report --out public/
    """
    from monitor.serve import open_report
    from monitor.web.publish import publish

    if out.exists() and any(out.iterdir()) and not (out / ".tgwatch-report").is_file():
        raise InputError(str(out), "holds files that are not a tgwatch report; give an empty or new directory")
    rep = open_report(app.db_url, list(app.config.sites))
    try:
        written = publish(rep, out)
    finally:
        rep.archive.close()
    click.echo(f"wrote {out}: {written.pages} pages, {written.articles} articles, {written.captures} captures")
