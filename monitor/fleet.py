"""What the fleet commands share (``tgwatch worker``, ``enqueue``, ``daemon --redis``, ``status
--redis``): the ``--redis`` options, the archive every machine can reach, the frontier connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from storage.errors import FrontierError

if TYPE_CHECKING:
    from crawler.frontier import Frontier

F = TypeVar("F", bound=Callable[..., Any])


def redis_options(required: bool) -> Callable[[F], F]:
    """``--redis URL`` (env TGWATCH_REDIS) and ``--redis-prefix`` (env TGWATCH_REDIS_PREFIX)."""
    def decorate(func: F) -> F:
        func = click.option("--redis-prefix", envvar="TGWATCH_REDIS_PREFIX", default="tgwatch", show_default=True,
                            help="Prefix of the frontier's Redis keys (fleets may share a server). "
                                 "Env TGWATCH_REDIS_PREFIX.")(func)
        return click.option("--redis", "redis_url", envvar="TGWATCH_REDIS", required=required, metavar="URL",
                            help="Redis of the shared crawl frontier, e.g. redis://10.0.0.5:6379/0. "
                                 "Env TGWATCH_REDIS.")(func)
    return decorate


def require_shared_archive(db_url: str) -> None:
    """Several machines record into one archive: PostgreSQL, never a SQLite file."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.engine import shown_url

    try:
        backend = make_url(db_url).get_backend_name()
    except ArgumentError:
        backend = ""
    if backend != "postgresql":
        raise FrontierError(f"{shown_url(db_url)}: a fleet needs a PostgreSQL archive (--db postgresql://...); "
                            "several machines cannot share a SQLite file")


def connect_frontier(url: str, prefix: str) -> Frontier:
    """The frontier, checked to answer; one line naming the server when it does not."""
    import redis

    from crawler.frontier import Frontier

    try:
        frontier = Frontier.connect(url, prefix)
        frontier.redis.ping()
    except (redis.RedisError, ValueError) as exc:
        problem = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FrontierError(f"{safe_redis_url(url)}: Redis unreachable: {problem}") from None
    return frontier


def safe_redis_url(url: str) -> str:
    """``url`` without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
