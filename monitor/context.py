"""What every command needs: where the archive is and which sites are configured.

Both are resolved lazily so that commands that need neither (``--help``, ``scrape`` without
``--save``) never touch a database or parse a config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.profiles import Config
    from storage.archive import Archive

DEFAULT_DB = "sqlite:///archive.db"
DEFAULT_CONFIG = "tgwatch.toml"


def resolve_config_path(option: str | None) -> Path | None:
    """``--config``/``TGWATCH_CONFIG`` if given, else ``tgwatch.toml`` here if present, else built-ins."""
    if option:
        return Path(option)
    local = Path(DEFAULT_CONFIG)
    return local if local.is_file() else None


@dataclass
class AppContext:
    db_url: str = DEFAULT_DB
    config_option: str | None = None
    _archive: Archive | None = field(default=None, init=False, repr=False)

    @cached_property
    def config(self) -> Config:
        from crawler.profiles import load_config

        return load_config(resolve_config_path(self.config_option))

    @property
    def config_path(self) -> Path | None:
        return resolve_config_path(self.config_option)

    def archive(self) -> Archive:
        """The archive, opened (and migrated) on first use."""
        if self._archive is None:
            from storage.archive import Archive

            self._archive = Archive.open(self.db_url)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def child_env(self) -> dict[str, str]:
        """Environment for child processes (crawls run by the daemon) with the same archive/config."""
        env = dict(os.environ)
        env["TGWATCH_DB"] = self.db_url
        if self.config_path is not None:
            env["TGWATCH_CONFIG"] = str(self.config_path.resolve())
        return env
