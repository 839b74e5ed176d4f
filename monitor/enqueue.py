"""``tgwatch enqueue``: put one crawl of each named site into the shared frontier.

The workers do the crawl. ``--wait`` returns when every request of these crawls is done (exit
0) and prints the summary line of ``tgwatch crawl``, so scripts and tests can chain crawls.
"""

from __future__ import annotations

import time

import click

from crawler.recheck import RECHECK_MODES
from monitor.context import AppContext
from monitor.crawl import parse_overrides
from monitor.fleet import connect_frontier, redis_options, require_shared_archive
from storage.errors import ConfigError, FrontierError


@click.command("enqueue")
@click.argument("sites", nargs=-1)
@redis_options(required=True)
@click.option("--recheck", type=click.Choice(RECHECK_MODES),
              help="Known articles to re-check: due (by age), all, or none. Default: each site's `recheck`.")
@click.option("--wait", is_flag=True, help="Return when every request of these crawls is done.")
@click.option("--timeout", type=click.FloatRange(min=0), default=0, show_default=True,
              help="With --wait: give up after this many seconds (exit 6); 0 waits as long as it takes.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A setting (TGWATCH_RECHECK_*, TGWATCH_LISTING_PAGES...), as for tgwatch crawl.")
@click.pass_obj
def command(app: AppContext, sites: tuple[str, ...], redis_url: str, redis_prefix: str, recheck: str | None,
            wait: bool, timeout: float, overrides: tuple[str, ...]) -> None:
    """Queue one crawl of SITES (default: every configured site) for the workers.

    \b
    Example:
      tgwatch --db postgresql://tgwatch@db/archive enqueue tuyengiao --redis redis://frontier:6379/0 --wait
    """
    from crawler.fleet import REDIS_DOWN, close_crawl, enqueue_crawl
    from crawler.recheck import check_mode
    from crawler.run import CrawlSummary, SiteResult, check_sites, crawl_settings
    from crawler.extensions import run_counts

    require_shared_archive(app.db_url)
    config = app.config
    names = list(dict.fromkeys(sites)) or list(config.sites)
    if not names:
        raise ConfigError(config.source, "no sites configured")
    check_sites(names, config.sites, config.source)
    settings = crawl_settings(db_url=app.db_url, overrides=parse_overrides(overrides))
    frontier = connect_frontier(redis_url, redis_prefix)
    archive = app.archive()
    crawls = {}
    for name in names:
        profile = config.sites[name]
        crawl = enqueue_crawl(frontier, archive, profile, check_mode(recheck or profile.recheck), settings)
        crawls[crawl] = name
        click.echo(f"queued crawl {crawl} of {name}", err=True)
    if not wait:
        return
    deadline = time.monotonic() + timeout if timeout else None
    results: dict[int, SiteResult] = {}
    while len(results) < len(crawls):
        for crawl, name in crawls.items():
            if crawl in results:
                continue
            try:
                state = frontier.crawl_state(crawl)
                if state is None:
                    raise FrontierError(f"crawl {crawl} of {name} is gone from the frontier (Redis lost its data?)")
                if state.done:
                    close_crawl(frontier, archive, crawl)  # once, whoever gets there: safe to try again
                    results[crawl] = SiteResult(name, "ok", run_counts(state.counts))
            except REDIS_DOWN:  # Redis restarting (before or while closing): the crawl goes on, look again
                break
        if len(results) < len(crawls):
            if deadline is not None and time.monotonic() > deadline:
                left = ", ".join(crawls[c] for c in crawls if c not in results)
                raise FrontierError(f"crawls of {left} not done after {timeout:g} s")
            time.sleep(0.2)
    click.echo(CrawlSummary([results[c] for c in crawls]).line())
