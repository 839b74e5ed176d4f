"""``tgwatch worker``: one of any number of crawl processes sharing a frontier in Redis.

A worker runs one Scrapy crawler per configured site (the profiles tell it how to read each
site; the schedule does not concern it), takes requests from the shared frontier, and records
into the one PostgreSQL archive. It runs until SIGTERM/SIGINT: what it took and did not start
goes back to the frontier at once; what was under way comes back after the visibility time-out,
as for a worker that was killed.
"""

from __future__ import annotations

import click

from monitor.context import AppContext
from monitor.crawl import LOG_LEVELS, parse_overrides
from monitor.fleet import connect_frontier, redis_options, require_shared_archive
from storage.errors import ConfigError

WORKER_SETTINGS = {
    "SCHEDULER": "crawler.fleet.FleetScheduler",
    "TGWATCH_RECORD_RETRY": 600.0,  # a PostgreSQL outage delays recording; its checks wait
}


@click.command("worker")
@redis_options(required=True)
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default="INFO",
              show_default=True, help="Scrapy's log level (the log goes to stderr).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or TGWATCH_* setting (repeatable), e.g. -s TGWATCH_FLEET_VISIBILITY=120.")
@click.pass_obj
def command(app: AppContext, redis_url: str, redis_prefix: str, log_level: str, overrides: tuple[str, ...]) -> None:
    """Crawl requests from the shared frontier into the archive, until stopped.

    \b
    Example:
      tgwatch --db postgresql://tgwatch@db/archive worker --redis redis://frontier:6379/0
    """
    from crawler.run import Batch, crawl_settings, run_crawls

    require_shared_archive(app.db_url)
    connect_frontier(redis_url, redis_prefix).close()
    config = app.config
    if not config.sites:
        raise ConfigError(config.source, "no sites configured")
    settings = crawl_settings(
        db_url=app.db_url,
        config_path=str(app.config_path.resolve()) if app.config_path else None,
        log_level=log_level.upper(),
        overrides={**WORKER_SETTINGS, "TGWATCH_REDIS": redis_url, "TGWATCH_REDIS_PREFIX": redis_prefix,
                   **parse_overrides(overrides)},
    )
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    settings.set("DOWNLOADER_MIDDLEWARES", {**middlewares, **settings.getdict("FLEET_DOWNLOADER_MIDDLEWARES")},
                 priority="cmdline")
    app.archive()  # fails here, in one line, if the archive cannot be opened; migrates it once
    app.close()
    run_crawls([Batch(list(config.sites))], settings)
