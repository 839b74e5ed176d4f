"""``tgwatch sites``: the configured sites, how each is crawled and read; ``--catalogue``: the known
real sites of ``crawler/catalogue.toml``; ``sites add NAME``: one of those copied into the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from monitor.context import AppContext
from monitor.output import echo, format_option, note, render

COLUMNS = ["name", "schedule", "recheck", "profile", "start_urls", "article_url", "follow_url"]
CATALOGUE_COLUMNS = ["name", "title", "url", "cms", "checked", "article_url", "sources"]


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


@click.group("sites", invoke_without_command=True)
@click.option("--catalogue", is_flag=True,
              help="List the catalogue of known provincial and district sites instead (copy one with `sites add`).")
@format_option
@click.pass_context
def command(ctx: click.Context, catalogue: bool, fmt: str) -> None:
    """List the configured sites: schedule, re-check mode, profile, start URLs, URL patterns.

    The sites come from --config (or ./tgwatch.toml), else the built-in profiles. With --catalogue,
    the real provincial and district sites tgwatch knows from public sources: URL, CMS family,
    whether their facts were checked, and where each was learned.

    \b
    Example:
      tgwatch sites
      tgwatch --config tgwatch.toml sites --format json
      tgwatch sites --catalogue
      tgwatch sites add btg-tiengiang --config tgwatch.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    app: AppContext = ctx.obj
    if catalogue:
        from crawler.catalogue import catalogue as entries, rows

        render(CATALOGUE_COLUMNS, rows(), fmt)
        note(f"({len(entries())} catalogued sites; `tgwatch sites add NAME` copies one into the config)")
        return
    render(COLUMNS, site_rows(app), fmt)
    note(f"({len(app.config.sites)} sites from {app.config.source})")


@command.command("add")
@click.argument("name")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="The config to add to (default: the global --config, else ./tgwatch.toml, created if missing).")
@click.pass_obj
def add(app: AppContext, name: str, config_file: str | None) -> None:
    """Copy catalogue site NAME into the config as a [[sites]] table, its sources as a comment.

    The config's own text and comments stay as they are; the table is appended, the result loaded
    back, and only then does it replace the file. A NAME the catalogue does not know, or that the
    config already has, is refused and nothing is written.

    \b
    Example:
      tgwatch sites add btg-tiengiang
      tgwatch sites add btg-dongthap --config /etc/tgwatch.toml
    """
    from crawler.catalogue import add_to_config
    from crawler.profiles import DEFAULT_CONFIG

    path = Path(config_file or app.config_option or DEFAULT_CONFIG)
    created = not path.exists()
    entry = add_to_config(path, name)
    echo(f"added {entry.name} ({entry.url}) to {path}{' (a new config)' if created else ''}")
    if not entry.checked:
        note(f"{entry.name}: not every fact of this entry was checked: {entry.note}")
