"""Idempotency under races, and readers that never meet "database is locked"."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.archive import Archive
from storage.errors import TgwatchError
from storage.observation import Verdict
from storage.readonly import run_query
from tests.plugins.archive import _pg_schema_url, fetched

URLS = [f"https://example.vn/tin-tuc/bai-{n}" for n in range(12)]
# fork: children need no fresh imports (seconds on a busy machine); the parent holds no connection
_FORK = "fork" in multiprocessing.get_all_start_methods()
PROCESSES = multiprocessing.get_context("fork" if _FORK else "spawn")


def _rows(archive: Archive) -> dict[str, int]:
    with archive.engine.connect() as c:
        return {
            t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("articles", "versions", "changes", "captures")
        }


def test_same_observation_twice_is_one_row(archive: Archive) -> None:
    observation = fetched(0)
    assert archive.record("s", URLS[0], observation) is Verdict.NEW
    assert archive.record("s", URLS[0], observation) is Verdict.UNCHANGED
    edit = fetched(5, title="Tiêu đề đã sửa")
    assert archive.record("s", URLS[0], edit) is Verdict.EDITED
    assert archive.record("s", URLS[0], edit) is Verdict.UNCHANGED
    assert _rows(archive) == {"articles": 1, "versions": 2, "changes": 2, "captures": 2}


def _race(workers: int, work: Callable[[], list[Verdict]]) -> list[Verdict]:
    barrier = threading.Barrier(workers)
    results: list[Verdict] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.extend(work())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_two_threads_record_the_same_new_urls_once(archive: Archive) -> None:
    verdicts = _race(2, lambda: [archive.record("s", url, fetched(0)) for url in URLS])
    assert Counter(verdicts) == {Verdict.NEW: len(URLS), Verdict.UNCHANGED: len(URLS)}
    n = len(URLS)
    assert _rows(archive) == {"articles": n, "versions": n, "changes": n, "captures": n}


def test_two_threads_record_the_same_edit_once(archive: Archive) -> None:
    for url in URLS:
        archive.record("s", url, fetched(0))
    verdicts = _race(2, lambda: [archive.record("s", u, fetched(9, title="Sửa")) for u in URLS])
    assert Counter(verdicts) == {Verdict.EDITED: len(URLS), Verdict.UNCHANGED: len(URLS)}
    assert _rows(archive)["versions"] == 2 * len(URLS)


def _record_all(url: str) -> list[str]:
    """Run in a separate process: its own Archive, its own connections."""
    with Archive.open(url) as archive:
        return [archive.record("s", u, fetched(0)).value for u in URLS]


def test_two_processes_record_the_same_new_urls_once(archive_url: str) -> None:
    Archive.open(archive_url).close()
    with PROCESSES.Pool(2) as pool:
        results = pool.map(_record_all, [archive_url, archive_url])
    verdicts = Counter(v for result in results for v in result)
    assert verdicts == {"new": len(URLS), "unchanged": len(URLS)}
    with Archive.open(archive_url) as archive:
        assert _rows(archive)["versions"] == len(URLS)


def _write_for(url: str, seconds: float) -> int:
    """Writer process: new articles and edits with sizeable captures, for ``seconds``."""
    done = 0
    end = time.monotonic() + seconds
    with Archive.open(url) as archive:
        while time.monotonic() < end:
            page = f"https://example.vn/tin-tuc/bai-{done % 40}"
            body = os.urandom(16_000)  # incompressible: the WAL grows and gets checkpointed
            archive.record("s", page, fetched(done, html=body, text=f"Đoạn {done}.\nNội dung."))
            done += 1
    return done


def test_reader_loop_while_a_writer_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(url).close()
    with PROCESSES.Pool(1) as pool:
        writer = pool.apply_async(_write_for, (url, 3.0))
        reads, seen = 0, []
        while not writer.ready():
            try:
                result = run_query(url, "SELECT count(*) FROM versions", timeout=30)
            except TgwatchError as exc:  # pragma: no cover - the failure this test is about
                pytest.fail(f"reader failed while the writer wrote: {exc}")
            seen.append(result.rows[0][0])
            reads += 1
        written = writer.get()
    assert written > 20 and reads > 20
    assert seen == sorted(seen)  # readers see committed history only, growing


def test_a_transaction_postgresql_aborts_in_a_deadlock_is_run_again(pg_url: str) -> None:
    """``Archive.retrying`` (a crawl's listings, a run's booking): a real deadlock with another
    writer, which PostgreSQL settles by aborting our transaction (it waited first, so its deadlock
    check runs first), is run again and succeeds; the other writer's transaction is unharmed."""
    with contextmanager(_pg_schema_url)(pg_url) as url:
        archive = Archive.open(url)
        try:
            with archive.writing() as session:
                session.execute(text("CREATE TABLE locks (id integer PRIMARY KEY)"))
                session.execute(text("INSERT INTO locks VALUES (1), (2)"))
            ours_has_1, other_has_2 = threading.Event(), threading.Event()
            other_done: list[BaseException | None] = []

            def other() -> None:
                try:
                    with archive.engine.begin() as connection:
                        connection.execute(text("SELECT id FROM locks WHERE id = 2 FOR UPDATE"))
                        other_has_2.set()
                        ours_has_1.wait(10)
                        time.sleep(0.3)  # ours waits for row 2 first
                        connection.execute(text("SELECT id FROM locks WHERE id = 1 FOR UPDATE"))
                    other_done.append(None)
                except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                    other_done.append(exc)

            attempts: list[int] = []

            def work(session: Session) -> str:
                attempts.append(1)
                other_has_2.wait(10)
                session.execute(text("SELECT id FROM locks WHERE id = 1 FOR UPDATE"))
                ours_has_1.set()
                session.execute(text("SELECT id FROM locks WHERE id = 2 FOR UPDATE"))
                return "done"

            thread = threading.Thread(target=other)
            thread.start()
            assert archive.retrying(work) == "done"
            thread.join(10)
            assert len(attempts) == 2
            assert other_done == [None]
        finally:
            archive.close()


def test_retrying_does_not_run_again_what_failed_for_another_reason(archive: Archive) -> None:
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(1)
        session.execute(text("SELECT 1 FROM no_such_table"))

    with pytest.raises((DBAPIError, TgwatchError)):
        archive.retrying(work)
    assert attempts == [1]
