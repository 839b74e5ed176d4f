"""Issue 9, item 6: one daemon per archive (two daemons both fired every job: each site crawled twice).

The lease lives in the archive: a PostgreSQL advisory lock, a row with a heartbeat on SQLite. A
second daemon refuses to start with one line naming the holder, or with ``--standby`` waits and
takes over when the first stops. On both backends, in process and with real daemons.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fixtures.testing import FixtureServer
from storage.archive import Archive
from storage.lease import LEASE, DaemonLease, LeaseHeld
from storage.models import DaemonLeaseRow
from storage.types import now
from tests.daemon_helpers import Daemon, wait_for, write_config


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def test_a_second_lease_is_refused_until_the_first_is_released(archive: Archive) -> None:
    first, second = DaemonLease(archive), DaemonLease(archive)
    first.acquire()
    try:
        with pytest.raises(LeaseHeld) as held:
            second.acquire()
        message = str(held.value)
        assert "another tgwatch daemon runs on this archive" in message and "\n" not in message
        assert socket.gethostname() in message
    finally:
        first.release()
    second.acquire()
    second.release()


def test_archives_have_leases_of_their_own(archive_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Two archives in one PostgreSQL database (two schemas) or two SQLite files: two daemons."""
    if archive_url.startswith("sqlite"):
        other_url = f"sqlite:///{tmp_path / 'other.db'}"
        others = None
    else:
        from tests.plugins.archive import _pg_schema_url

        others = _pg_schema_url(request.getfixturevalue("pg_url"))
        other_url = next(others)
    with Archive.open(archive_url) as one, Archive.open(other_url) as other:
        a, b = DaemonLease(one), DaemonLease(other)
        a.acquire()
        b.acquire()
        a.release()
        b.release()
    if others is not None:
        others.close()


def test_sqlite_lease_of_a_killed_daemon_is_taken_at_once(tmp_path: Path) -> None:
    with Archive.open(f"sqlite:///{tmp_path / 'archive.db'}") as archive:
        dead = subprocess.Popen(["true"])
        dead.wait()
        with archive.writing() as session:
            session.add(DaemonLeaseRow(name=LEASE, holder=f"{socket.gethostname()}:{dead.pid}/x",
                                       host=socket.gethostname(), pid=dead.pid, acquired_at=now(), heartbeat_at=now()))
        lease = DaemonLease(archive)
        lease.acquire()
        lease.release()


def test_sqlite_lease_of_another_host_expires_with_its_heartbeat(tmp_path: Path) -> None:
    with Archive.open(f"sqlite:///{tmp_path / 'archive.db'}") as archive:
        with archive.writing() as session:
            session.add(DaemonLeaseRow(name=LEASE, holder="elsewhere:1/x", host="elsewhere", pid=1,
                                       acquired_at=now(), heartbeat_at=now()))
        with pytest.raises(LeaseHeld, match="elsewhere:1"):
            DaemonLease(archive).acquire()
        with archive.writing() as session:
            row = session.get(DaemonLeaseRow, LEASE)
            assert row is not None
            row.heartbeat_at = now() - timedelta(minutes=5)
        lease = DaemonLease(archive)
        lease.acquire()
        lease.release()


def test_sqlite_heartbeat_renews_and_a_lost_lease_is_noticed(tmp_path: Path) -> None:
    with Archive.open(f"sqlite:///{tmp_path / 'archive.db'}") as archive:
        lease = DaemonLease(archive, heartbeat=0.1)
        lease.acquire()
        try:
            with archive.reading() as session:
                first = session.get(DaemonLeaseRow, LEASE).heartbeat_at  # type: ignore[union-attr]
            time.sleep(0.5)
            with archive.reading() as session:
                assert session.get(DaemonLeaseRow, LEASE).heartbeat_at > first  # type: ignore[union-attr]
            with archive.writing() as session:
                session.get(DaemonLeaseRow, LEASE).holder = "usurper:2/y"  # type: ignore[union-attr]
            assert lease.lost.wait(2.0)
        finally:
            lease.release()
        with archive.reading() as session:
            assert session.get(DaemonLeaseRow, LEASE).holder == "usurper:2/y"  # type: ignore[union-attr]


def test_a_second_daemon_refuses_and_a_standby_takes_over(
    tmp_path: Path, fresh_fixture_server: FixtureServer, daemons: list[Daemon], archive_url: str
) -> None:
    """Real daemons on each backend: the second exits at once with one line; the standby waits,
    then starts its schedule when the first stops."""
    config = write_config(tmp_path, fresh_fixture_server, ["tuyengiao"], "every 1 hours")
    first = Daemon(tmp_path, archive_url, config)
    daemons.append(first)
    wait_for("the first daemon to start", lambda: bool(first.events("daemon.started")), first)

    second = Daemon(tmp_path, archive_url, config)
    daemons.append(second)
    code = second.proc.wait(timeout=60)
    said = [line for line in second.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert code == 6
    assert len(said) == 1 and "another tgwatch daemon runs on this archive" in said[0], said
    assert "Traceback" not in second.log.read_text(encoding="utf-8")

    standby = Daemon(tmp_path, archive_url, config, "--standby")
    daemons.append(standby)
    wait_for("the standby to wait", lambda: bool(standby.events("daemon.standby")), standby)
    assert not standby.events("daemon.started")
    code, took = first.stop(signal.SIGTERM)
    assert code == 0 and took < 10
    wait_for("the standby to take over", lambda: bool(standby.events("daemon.started")), standby, timeout=60)
    code, took = standby.stop(signal.SIGTERM)
    assert code == 0 and took < 10


def test_a_standby_stops_on_sigterm_while_waiting(
    tmp_path: Path, fresh_fixture_server: FixtureServer, daemons: list[Daemon], archive_url: str
) -> None:
    config = write_config(tmp_path, fresh_fixture_server, ["tuyengiao"], "every 1 hours")
    with Archive.open(archive_url) as archive:
        holder = DaemonLease(archive)
        holder.acquire()
        try:
            standby = Daemon(tmp_path, archive_url, config, "--standby")
            daemons.append(standby)
            wait_for("the standby to wait", lambda: bool(standby.events("daemon.standby")), standby)
            code, took = standby.stop(signal.SIGTERM)
            assert code == 0 and took < 10
            assert not standby.events("daemon.started")
        finally:
            holder.release()
