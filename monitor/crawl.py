"""``tgwatch crawl``: one crawl of the configured sites, in this process, with a summary line.

The crawl itself is Scrapy's (``crawler.run``); this command resolves the sites, checks the archive
opens, shows progress on a terminal and prints ``pages fetched N, new N, edited N, unchanged N,
removed N, failed checks N``. The daemon runs it as a child process: SIGTERM stops the crawl
gracefully and the run is recorded ``interrupted``; the exit status is 0 unless the crawl could
not run at all.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from crawler.recheck import RECHECK_MODES
from monitor.context import AppContext
from monitor.output import is_terminal
from storage.errors import ConfigError, InputError
from storage.vocabulary import RUN_COUNTS

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
PROGRESS_COLUMNS = tuple(name for name in RUN_COUNTS if name != "restored")


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """``NAME=VALUE`` pairs (``-s``) as a settings dict; Scrapy converts the strings per setting."""
    settings: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(pair, "a setting is given as NAME=VALUE")
        settings[name.strip()] = value
    return settings


class LiveProgress:
    """A live table of the running crawls on the terminal, gone once the summary prints."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.live = Live(console=Console(file=sys.stdout), transient=True, auto_refresh=False)
        self.table: Any = None  # the last table shown

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def __call__(self, running: list[tuple[str, dict[str, Any]]]) -> None:
        from rich.table import Table

        from crawler.extensions import run_counts

        table = Table("site", *PROGRESS_COLUMNS, title="crawling", title_justify="left")
        for site, stats in running:
            counts = run_counts(stats)
            table.add_row(site, *(str(counts[name]) for name in PROGRESS_COLUMNS))
        self.table = table
        self.live.update(table, refresh=True)


@click.command("crawl")
@click.argument("sites", nargs=-1)
@click.option("--recheck", type=click.Choice(RECHECK_MODES),
              help="Known articles to re-check: due (by age, the default), all, or none (discover only). "
                   "Default: each site's `recheck` in the config.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="WARNING",
              show_default=True, help="Scrapy's log level (the log goes to stderr).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or TGWATCH_* setting (repeatable), e.g. -s DOWNLOAD_DELAY=2.")
@click.pass_obj
def command(app: AppContext, sites: tuple[str, ...], recheck: str | None, log_level: str,
            overrides: tuple[str, ...]) -> None:
    """Crawl SITES (default: every configured site) once and record what changed.

    Follows each site's listing pages, records new articles, and re-checks known ones.

    \b
    Example:
      tgwatch crawl
      tgwatch --config tgwatch.toml crawl tuyengiao --recheck all
    """
    from crawler.run import Batch, check_sites, crawl_settings, run_crawls

    config = app.config
    names = list(dict.fromkeys(sites)) or list(config.sites)
    if not names:
        raise ConfigError(config.source, "no sites configured")
    check_sites(names, config.sites, config.source)
    settings = crawl_settings(
        db_url=app.db_url,
        config_path=str(app.config_path.resolve()) if app.config_path else None,
        recheck=recheck,
        log_level=log_level.upper(),
        overrides=parse_overrides(overrides),
    )
    app.archive()  # fails here, in one line, if the archive cannot be opened; migrates it once
    app.close()
    if is_terminal():
        with LiveProgress() as progress:
            summaries = run_crawls([Batch(names)], settings, progress=progress)
    else:
        summaries = run_crawls([Batch(names)], settings)
    click.echo(summaries[0].line())
