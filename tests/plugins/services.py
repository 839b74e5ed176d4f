"""Fixtures for the real PostgreSQL and Redis servers.

``pg_url`` serves the storage, crawl, daemon and SQL tests; ``redis_url`` the fleet tests (a
shared crawl frontier; each test keeps to a key prefix of its own, ``tests/fleet_helpers.py``).
"""

from __future__ import annotations

import pytest

from tests.conftest import PG_URL, REDIS_URL, require_server


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the PostgreSQL test database (fails under CI when unreachable)."""
    require_server(PG_URL, "PostgreSQL")
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis test server (fails under CI when unreachable)."""
    require_server(REDIS_URL, "Redis")
    return REDIS_URL
