"""Shared test set-up.

Tests that need PostgreSQL or Redis run against the real servers. Under ``CI=true`` an unreachable
server fails the test (CI must prove those paths); on a developer machine it skips with the reason.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.fixture_site",
    "tests.plugins.archive",
    "tests.plugins.browser",
]

PG_URL = os.environ.get("TGWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TGWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_server(url: str, what: str) -> None:
    """Fail under CI, skip elsewhere, when ``url``'s server does not accept a TCP connection."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{what} at {host}:{port} is unreachable: {exc}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
