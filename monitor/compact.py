"""``tgwatch compact``: re-compress stored captures with their site's zstd dictionary.

New captures are compressed with the site's dictionary as they are recorded (``storage.captures``);
captures recorded before a site had one, or by an older tgwatch (zlib), are re-compressed here, a
batch per transaction, so the command can be stopped at any time and run again.
"""

from __future__ import annotations

from collections import Counter

import click

from monitor.context import AppContext


@click.command("compact")
@click.argument("sites", nargs=-1)
@click.option("--retrain", is_flag=True, help="Train each site's dictionary anew on its newest captures first.")
@click.option("--refs", "refresh", is_flag=True,
              help="Look at every capture again, against the reports its links lead to that the archive holds now.")
@click.option("--vacuum", is_flag=True, help="SQLite: then rewrite the file without its free pages (VACUUM).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=200, show_default=True,
              help="Captures re-compressed per transaction.")
@click.pass_obj
def command(app: AppContext, sites: tuple[str, ...], retrain: bool, refresh: bool, vacuum: bool, batch: int) -> None:
    """Re-compress the stored captures of SITES (default: all) with each site's dictionary.

    A site with enough captures and no dictionary gets one trained on its newest pages. Prints
    how many captures were re-compressed and the bytes saved. With --refs every capture is looked at
    again: a page compressed before the reports it links to were recorded shrinks once they are.

    \b
    Example:
      tgwatch compact
      tgwatch compact tuyengiao --retrain
      tgwatch compact --refs
      tgwatch compact --vacuum
    """
    archive = app.archive()
    count, before, after = Counter[str](), 0, 0
    for site, done in archive.compact(sites, retrain=retrain, refresh=refresh, batch=batch):
        count[site] += done.rewritten
        before, after = before + done.before, after + done.after
    total = sum(count.values())
    click.echo(f"re-compressed {total} captures of {len(count)} sites: {before:,} -> {after:,} bytes")
    if vacuum and archive.backend == "sqlite":
        raw = archive.engine.raw_connection()  # autocommit (see storage.engine): VACUUM runs outside a transaction
        try:
            raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        finally:
            raw.close()
        click.echo("vacuumed")
