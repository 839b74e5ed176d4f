"""``tgwatch sites``: the configured sites, how each is crawled and read."""

from __future__ import annotations

from typing import Any

import click

from monitor.context import AppContext
from monitor.output import format_option, note, render

COLUMNS = ["name", "schedule", "recheck", "profile", "start_urls", "article_url", "follow_url"]


def site_rows(app: AppContext) -> list[tuple[Any, ...]]:
    rows = []
    builtin = app.config_path is None
    for site in app.config.sites.values():
        if site.profile:
            profile = site.profile
        elif site.is_generic:
            profile = "CMS recognised per page" if site.recognise_cms else "generic"
        else:
            profile = "built-in" if builtin else "own selectors"
        rows.append((
            site.name,
            site.schedule or "-",
            site.recheck,
            profile,
            " ".join(site.start_urls),
            site.article_url.pattern,
            site.follow_url.pattern if site.follow_url else "-",
        ))
    return rows


@click.command("sites")
@format_option
@click.pass_obj
def command(app: AppContext, fmt: str) -> None:
    """List the configured sites: schedule, re-check mode, profile, start URLs, URL patterns.

    The sites come from --config (or ./tgwatch.toml), else the built-in profiles.

    \b
    Example:
      tgwatch sites
      tgwatch --config tgwatch.toml sites --format json
    """
    render(COLUMNS, site_rows(app), fmt)
    note(f"({len(app.config.sites)} sites from {app.config.source})")
