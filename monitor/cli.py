"""The ``tgwatch`` command group.

Every command lives in a module of its own and registers on this group; this module only holds
the global options and turns domain errors into one line on stderr and an exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from monitor.context import AppContext
from monitor.output import echo
from storage.errors import TgwatchError
from storage.vocabulary import DEFAULT_ARCHIVE_URL

COMMAND_MODULES = (
    "monitor.scrape",
    "monitor.daemon",
    "monitor.status",
    "monitor.feed",
    "monitor.crawl",
    "monitor.changes",
    "monitor.diff",
    "monitor.search",
    "monitor.echoes",
    "monitor.sql",
    "monitor.reextract",
    "monitor.compact",
    "monitor.sites",
    "monitor.demo",
    "monitor.serve",
    "monitor.export",
    "monitor.report",
    "monitor.imports",
    "monitor.worker",
    "monitor.enqueue",
)
"""Modules holding one command each (as ``command``), named like the command; imported on use."""
NAMED = {"imports": "import"}
"""Commands whose name is not their module's (``import`` is a Python keyword)."""


def _command_name(module: str) -> str:
    last = module.rsplit(".", 1)[1]
    return NAMED.get(last, last)


class TgwatchGroup(click.Group):
    """A click group whose commands report ``TgwatchError`` as one line, never a traceback.

    Commands are imported when used: ``tgwatch crawl`` (and every crawl child of the daemon) does
    not pay for the daemon's, the feed's or the notifier's imports.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *map(_command_name, COMMAND_MODULES)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        module = next((m for m in COMMAND_MODULES if _command_name(m) == cmd_name), None)
        if command is None and module is not None:
            command = importlib.import_module(module).command
            self.add_command(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TgwatchError as err:
            echo(f"tgwatch: error: {err}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("tgwatch: interrupted", err=True)
            ctx.exit(130)
        finally:
            app = ctx.find_object(AppContext)
            if app is not None:
                app.close()


@click.group(cls=TgwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="TGWATCH_DB",
    default=DEFAULT_ARCHIVE_URL,
    show_default=True,
    help="Archive database (SQLAlchemy URL: sqlite:///file.db or postgresql://...). Env TGWATCH_DB.",
)
@click.option(
    "--config",
    "config_option",
    envvar="TGWATCH_CONFIG",
    type=click.Path(dir_okay=False),
    help="Site config (TOML). Env TGWATCH_CONFIG. Default: ./tgwatch.toml if present, else the built-in site profiles.",
)
@click.version_option(package_name="tgwatch")
@click.pass_context
def main(ctx: click.Context, db_url: str, config_option: str | None) -> None:
    """tgwatch: archive and watch the news sites of Vietnam's Ban Tuyên giáo.

    Crawls the configured sites, keeps every version of every report, and flags reports that are
    new, edited or removed.
    """
    ctx.obj = AppContext(db_url=db_url, config_option=config_option)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
