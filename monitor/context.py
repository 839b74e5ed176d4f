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

from storage.vocabulary import DEFAULT_ARCHIVE_URL

if TYPE_CHECKING:
    from crawler.profiles import Config
    from storage.archive import Archive


@dataclass
class AppContext:
    db_url: str = DEFAULT_ARCHIVE_URL
    config_option: str | None = None
    _archive: Archive | None = field(default=None, init=False, repr=False)

    @cached_property
    def config(self) -> Config:
        from crawler.profiles import load_config

        return load_config(self.config_path)

    @property
    def config_path(self) -> Path | None:
        from crawler.profiles import config_path

        return config_path(self.config_option)

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
