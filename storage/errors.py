"""Every error a user can meet, in one place.

Each error builds its own one-line message from what it was given, so the CLI only has to print
``str(err)`` and exit with ``err.exit_code``. Anything that is not a ``TgwatchError`` is a bug and
keeps its traceback.
"""

from __future__ import annotations


class TgwatchError(Exception):
    """Base of every user-facing error: one line, a non-zero exit code."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(TgwatchError):
    """The input named on the command line is unusable (missing, empty, binary, too large...)."""

    exit_code = 2

    def __init__(self, target: str, problem: str) -> None:
        super().__init__(f"{target}: {problem}")
        self.target = target
        self.problem = problem


class FetchError(TgwatchError):
    """A URL could not be fetched (invalid, unreachable, 4xx/5xx, timeout)."""

    exit_code = 3

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


class NoArticleError(TgwatchError):
    """The page was read but holds no article (a listing, a portal, an error page)."""

    exit_code = 4

    def __init__(self, target: str, reason: str | None = None) -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"{target}: no article found on this page{detail}")
        self.target = target


class ConfigError(TgwatchError):
    """The site config (``tgwatch.toml``) is malformed or names something unknown."""

    exit_code = 2

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ArchiveError(TgwatchError):
    """The archive cannot be opened or used (bad URL, unreachable server, wrong schema)."""

    exit_code = 5


class SchemaTooNewError(ArchiveError):
    """The archive was written by a newer tgwatch: refusing to touch it."""

    def __init__(self, url: str, found: str, known: str) -> None:
        super().__init__(
            f"{url}: archive schema {found} is newer than this tgwatch understands ({known}); "
            "upgrade tgwatch"
        )


class ReadOnlyError(TgwatchError):
    """A query given to ``tgwatch sql`` would write, or is not a single statement."""

    exit_code = 2

    def __init__(self, query: str, problem: str) -> None:
        short = " ".join(query.split())
        if len(short) > 60:
            short = short[:57] + "..."
        super().__init__(f"refused {short!r}: {problem}")
        self.query = query
        self.problem = problem


class QueryError(TgwatchError):
    """A read-only query failed (syntax error, unknown table, time limit)."""

    exit_code = 2


class BrowserMissing(TgwatchError):
    """Pages are to be rendered in a browser and no Chromium executable was found (or the one named
    by ``TGWATCH_CHROMIUM`` is not there)."""

    exit_code = 2

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(f"{what}: pages are rendered in a browser, but no Chromium was found: {hint}")
        self.what = what


class FrontierError(TgwatchError):
    """The shared crawl frontier (Redis) cannot be used, or a fleet command was given an archive
    several machines cannot share."""

    exit_code = 6
