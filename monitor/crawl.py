"""``tgwatch crawl``: one crawl of the configured sites, in this process, with a summary line.

The crawl itself is Scrapy's (``crawler.run``); this command resolves the sites, checks the archive
opens, shows progress on a terminal and prints ``pages fetched N, new N, edited N, unchanged N,
removed N, failed checks N``. The daemon runs it as a child process: SIGTERM stops the crawl
gracefully and the run is recorded ``interrupted``; the exit status is 0 unless the crawl could
not run at all.
"""

from __future__ import annotations

import sys
import time
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


class BackfillProgress:
    """Pages done, pages known to remain, rate and ETA of each site's backfill: a live table on a
    terminal, else a line on stderr every ``every`` seconds."""

    def __init__(self, terminal: bool, every: float = 10.0) -> None:
        self.terminal, self.every = terminal, every
        self.first: dict[str, tuple[float, int]] = {}  # site -> (time, pages done) when first seen
        self.said = time.monotonic()  # the first line once there is a rate to tell
        self.live: Any = None

    def __enter__(self) -> BackfillProgress:
        if self.terminal:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(file=sys.stdout), transient=True, auto_refresh=False)
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def rows(self, running: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, int, int, str, str]]:
        """(site, done, remaining, rate, ETA) of each running backfill."""
        out = []
        at = time.monotonic()
        for site, stats in running:
            if "tgwatch/backfill/done" not in stats:
                continue
            done, left = int(stats["tgwatch/backfill/done"]), int(stats["tgwatch/backfill/remaining"])
            since, done0 = self.first.setdefault(site, (at, done))
            rate = (done - done0) / (at - since) if at > since else 0.0
            eta = f"{left / rate:.0f} s" if rate > 0 else "?"
            out.append((site, done, left, f"{rate:.1f}/s", eta))
        return out

    def __call__(self, running: list[tuple[str, dict[str, Any]]]) -> None:
        rows = self.rows(running)
        if self.live is not None:
            from rich.table import Table

            table = Table("site", "pages done", "remaining", "rate", "ETA", title="backfill", title_justify="left")
            for row in rows:
                table.add_row(*map(str, row))
            self.live.update(table, refresh=True)
        elif rows and time.monotonic() - self.said >= self.every:
            self.said = time.monotonic()
            for site, done, left, rate, eta in rows:
                click.echo(f"backfill {site}: {done} pages done, {left} remaining, {rate}, ETA {eta}", err=True)


def backfill_line(site: str, stats: dict[str, Any]) -> str:
    """How a site's backfill stands at the end of this crawl."""
    done, left = stats.get("tgwatch/backfill/done", 0), stats.get("tgwatch/backfill/remaining", 0)
    if stats.get("tgwatch/backfill/finished"):
        return f"backfill {site}: complete, {done} pages"
    return (f"backfill {site}: {done} pages done, {left} remaining; "
            f"`tgwatch crawl {site} --backfill` goes on from there")


@click.command("crawl")
@click.argument("sites", nargs=-1)
@click.option("--recheck", type=click.Choice(RECHECK_MODES),
              help="Known articles to re-check: due (by age, the default), all, or none (discover only). "
                   "Default: each site's `recheck` in the config.")
@click.option("--backfill", is_flag=True,
              help="Walk every listing page of the site once (no page or depth cap, still polite) and "
                   "archive every article found; interrupted, the next --backfill goes on where it stopped.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="WARNING",
              show_default=True, help="Scrapy's log level (the log goes to stderr).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or TGWATCH_* setting (repeatable), e.g. -s DOWNLOAD_DELAY=2.")
@click.pass_obj
def command(app: AppContext, sites: tuple[str, ...], recheck: str | None, backfill: bool, log_level: str,
            overrides: tuple[str, ...]) -> None:
    """Crawl SITES (default: every configured site) once and record what changed.

    Follows each site's listing pages, records new articles, and re-checks known ones.

    \b
    Example:
      tgwatch crawl
      tgwatch --config tgwatch.toml crawl tuyengiao --recheck all
      tgwatch crawl tuyengiaodanvan --backfill
    """
    from crawler.run import Batch, check_sites, crawl_settings, run_crawls

    config = app.config
    names = list(dict.fromkeys(sites)) or list(config.sites)
    if not names:
        raise ConfigError(config.source, "no sites configured")
    check_sites(names, config.sites, config.source)
    if backfill and recheck:
        raise click.UsageError("--backfill only discovers; --recheck is for routine crawls")
    pairs = parse_overrides(overrides)
    if backfill:
        pairs["TGWATCH_BACKFILL"] = "True"
    settings = crawl_settings(
        db_url=app.db_url,
        config_path=str(app.config_path.resolve()) if app.config_path else None,
        recheck=recheck,
        log_level=log_level.upper(),
        overrides=pairs,
    )
    archive = app.archive()  # fails here, in one line, if the archive cannot be opened; migrates it once
    if backfill:
        from storage.backfill import check_free

        for name in names:
            check_free(archive, name)  # one line if another crawl is backfilling the site
    app.close()
    if backfill:
        with BackfillProgress(is_terminal()) as progress:
            summaries = run_crawls([Batch(names)], settings, progress=progress)
        for result in summaries[0].results:
            click.echo(backfill_line(result.site, result.stats))
    elif is_terminal():
        with LiveProgress() as progress:
            summaries = run_crawls([Batch(names)], settings, progress=progress)
    else:
        summaries = run_crawls([Batch(names)], settings)
    click.echo(summaries[0].line())
