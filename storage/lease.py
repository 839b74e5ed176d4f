"""One daemon per archive: a lease the archive itself holds.

Two daemons on one archive would both fire every job (each site crawled twice at once). The first
daemon takes the lease; a second one refuses to start with one line naming the holder, or, with
``--standby``, waits until the lease is free and then takes over.

- PostgreSQL: a session-level advisory lock keyed by the archive's schema, on a connection held
  open for the daemon's life. The server releases it when that connection ends, however the daemon
  died; the connection's ``application_name`` says who holds it.
- SQLite: the row ``daemon`` of ``daemon_leases`` (holder, host, pid, heartbeat), renewed every
  ``HEARTBEAT`` seconds by a thread. A lease is free when it is released, when its heartbeat is
  older than ``STALE_AFTER``, or when its holder ran on this host and its process is gone (a
  killed daemon is replaced at once). A daemon that finds its lease taken over stops.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text

from storage.archive import Archive
from storage.errors import TgwatchError
from storage.models import DaemonLeaseRow
from storage.processes import pid_alive
from storage.types import now

HEARTBEAT = 5.0
"""Seconds between renewals of a SQLite lease."""
STALE_AFTER = 30.0
"""Seconds after its last renewal that a SQLite lease held on another host is free."""
LEASE = "daemon"
_LOCK_CLASS = 0x7467_7764  # "tgwd": the advisory lock's first key; the second is the schema's hash


class LeaseHeld(TgwatchError):
    """Another daemon holds this archive's lease."""

    exit_code = 6

    def __init__(self, where: str, holder: str) -> None:
        super().__init__(f"{where}: another tgwatch daemon runs on this archive ({holder}); "
                         "stop it first, or start this one with --standby to take over when it stops")
        self.holder = holder




class DaemonLease:
    """The archive's daemon lease: ``acquire`` (or ``LeaseHeld``), ``release``; ``lost`` is set
    when a SQLite lease was taken over (the daemon must stop)."""

    def __init__(self, archive: Archive, *, heartbeat: float = HEARTBEAT, stale_after: float = STALE_AFTER) -> None:
        self.archive = archive
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.holder = f"{self.host}:{self.pid}/{uuid.uuid4().hex[:8]}"  # host:pid, and which lease in it
        self.heartbeat, self.stale_after = heartbeat, stale_after
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._connection: Any = None  # PostgreSQL: the connection holding the lock
        self._beat: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease now, or raise ``LeaseHeld`` naming who has it."""
        if self.archive.backend == "postgresql":
            self._acquire_pg()
        else:
            self._acquire_row()
            self._beat = threading.Thread(target=self._renew, name="tgwatch-lease", daemon=True)
            self._beat.start()

    def wait(self, stopping: threading.Event, on_wait: Callable[[str], None], poll: float = 2.0) -> bool:
        """Take the lease as soon as it is free (standby); False if ``stopping`` came first."""
        told = False
        while not stopping.is_set():
            try:
                self.acquire()
                return True
            except LeaseHeld as held:
                if not told:
                    on_wait(held.holder)
                    told = True
            stopping.wait(poll)
        return False

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=self.heartbeat + 5)
            self._beat = None
            if not self.lost.is_set():
                with self.archive.writing() as session:
                    session.execute(delete(DaemonLeaseRow).where(
                        DaemonLeaseRow.name == LEASE, DaemonLeaseRow.holder == self.holder))
        if self._connection is not None:
            self._connection.close()  # the server drops the advisory lock with the session
            self._connection = None

    # PostgreSQL ---------------------------------------------------------------------------------

    def _acquire_pg(self) -> None:
        connection = self.archive.engine.connect()
        connection.detach()  # closed for real on release (a pooled session would keep the lock)
        try:
            connection.execute(text("SELECT set_config('application_name', :name, false)"),
                               {"name": f"tgwatch daemon {self.holder}"})
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))"), {"cls": _LOCK_CLASS}
            ).scalar_one()
            connection.commit()
            if not got:
                holder = connection.execute(text(
                    "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = :cls AND l.objid = hashtext(current_schema())::oid "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ), {"cls": _LOCK_CLASS & 0xFFFFFFFF}).first()
                connection.rollback()
                raise LeaseHeld(self.archive.url, _pg_holder(holder))
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    # SQLite -------------------------------------------------------------------------------------

    def _acquire_row(self) -> None:
        with self.archive.writing() as session:
            row = session.get(DaemonLeaseRow, LEASE)
            if row is not None and row.holder != self.holder and not self._free(row):
                raise LeaseHeld(self.archive.url, f"{row.holder}, alive at {row.heartbeat_at.isoformat()}")
            if row is None:
                row = DaemonLeaseRow(name=LEASE)
                session.add(row)
            stamp = now()
            row.holder, row.host, row.pid = self.holder, self.host, self.pid
            row.acquired_at = row.heartbeat_at = stamp

    def _free(self, row: DaemonLeaseRow) -> bool:
        if row.host == socket.gethostname() and not pid_alive(row.pid):
            return True  # killed on this host: no need to wait for its heartbeat to age
        return now() - row.heartbeat_at > timedelta(seconds=self.stale_after)

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                with self.archive.writing() as session:
                    row = session.scalars(select(DaemonLeaseRow).where(DaemonLeaseRow.name == LEASE)).first()
                    if row is None or row.holder != self.holder:
                        self.lost.set()
                        return
                    row.heartbeat_at = now()
            except TgwatchError:  # locked for a while: try again at the next beat
                time.sleep(0)


def _pg_holder(row: Any) -> str:
    if row is None:
        return "holder unknown"
    name, address, since = row
    where = f" from {address}" if address else ""
    return f"{name or 'a session'}{where}, since {since.isoformat() if since else '?'}"
