"""Fixtures serving the fixture sites (owned by the fixtures work).

``fixture_server`` is one server per test session (per xdist worker), on v1 with no faults when
handed out; tests that switch versions or arm faults use ``fresh_fixture_server``, a server of
their own, so nothing leaks into the shared one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.testing import FixtureServer


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[FixtureServer]:
    """A running fixture server, shared by the session: do not switch its version or arm faults."""
    with FixtureServer() as server:
        server.reset("v1")
        yield server


@pytest.fixture
def fresh_fixture_server() -> Iterator[FixtureServer]:
    """A fixture server of the test's own, on v1 with no faults: free to switch and break."""
    with FixtureServer() as server:
        yield server
