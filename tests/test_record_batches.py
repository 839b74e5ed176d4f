"""Batched recording: several observations per transaction, each still recorded whole or not at all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crawler.pipelines import Batches
from storage import recording
from storage.archive import Archive, Entry
from storage.observation import Fetched, NotModified, Verdict
from tests.plugins.archive import at, fetched

URLS = [f"https://example.vn/tin-tuc/bai-viet-{n}" for n in range(4)]


def rows(archive: Archive, table: str) -> int:
    with archive.engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def titled(n: int, minutes: float = 0) -> Fetched:
    return fetched(minutes, title=f"Bài viết số {n} về hội nghị tỉnh ủy")


def test_a_batch_records_each_observation_with_its_verdict(archive: Archive) -> None:
    archive.record("s", URLS[0], titled(0))
    entries = [Entry("s", URLS[0], NotModified(fetched_at=at(5))), Entry("s", URLS[1], titled(1)),
               Entry("s", URLS[0], titled(0, 6))]
    assert archive.record_batch(entries) == [Verdict.UNCHANGED, Verdict.NEW, Verdict.UNCHANGED]
    assert rows(archive, "articles") == 2 and rows(archive, "versions") == 2
    [first] = [k for k in archive.known_articles("s") if k.url == URLS[0]]
    assert first.last_checked_at == at(6)


def test_a_failing_observation_rolls_back_alone_and_is_retried_alone(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """It fails after its article, version and change rows were written: its savepoint takes them
    back, the others of the batch are recorded, and its retry alone raises again: its outcome."""
    real = recording.index_version
    tries: list[str] = []

    def failing(session: Any, article: Any, *args: Any, **kwargs: Any) -> int:
        if article.url == URLS[1]:
            tries.append(article.url)
            raise RuntimeError("a bug in the echo index")
        return real(session, article, *args, **kwargs)

    alone: list[str] = []
    record = archive.record

    def counted(site: str, url: str, *args: Any, **kwargs: Any) -> Verdict:
        alone.append(url)
        return record(site, url, *args, **kwargs)

    monkeypatch.setattr(recording, "index_version", failing)
    monkeypatch.setattr(archive, "record", counted)
    outcomes = archive.record_batch([Entry("s", url, titled(n)) for n, url in enumerate(URLS)])
    assert outcomes[0] is Verdict.NEW and outcomes[2] is Verdict.NEW and outcomes[3] is Verdict.NEW
    assert isinstance(outcomes[1], RuntimeError)
    assert tries == [URLS[1], URLS[1]]  # in the batch, then alone
    assert alone == [URLS[1]]  # the next article (given the rolled-back id again on SQLite) went in the batch
    assert sorted(k.url for k in archive.known_articles("s")) == sorted([URLS[0], URLS[2], URLS[3]])
    assert rows(archive, "versions") == 3 and rows(archive, "changes") == 3 and rows(archive, "captures") == 3


def test_a_lost_race_in_a_batch_is_decided_again_alone(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    real = recording.record_observation
    raced: list[str] = []

    def racing(session: Any, site: str, url: str, obs: Any, **kwargs: Any) -> Verdict:
        if url == URLS[2] and not raced:
            raced.append(url)
            real(session, site, url, obs, **kwargs)
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        return real(session, site, url, obs, **kwargs)

    monkeypatch.setattr(recording, "record_observation", racing)
    outcomes = archive.record_batch([Entry("s", url, titled(n)) for n, url in enumerate(URLS)])
    assert outcomes == [Verdict.NEW] * 4
    assert rows(archive, "articles") == 4 and rows(archive, "versions") == 4 and rows(archive, "changes") == 4


class Reactor:
    """A stand-in for ``reactor.callFromThread``: the writer's "done" waits until the test delivers it."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, action: Any) -> None:
        self.calls.append(action)

    def deliver(self) -> None:
        while self.calls:
            self.calls.pop(0)()


def test_observations_that_come_while_the_writer_writes_go_together(archive: Archive) -> None:
    reactor = Reactor()
    batches = Batches(archive, 2, reactor)
    first = batches.submit(Entry("s", URLS[0], titled(0)))  # the writer is idle: written at once
    assert first.result(timeout=30) is Verdict.NEW
    waiting = [batches.submit(Entry("s", url, titled(n))) for n, url in enumerate(URLS[1:], 1)]
    assert not any(f.done() for f in waiting) and len(batches.pending) == 3  # the writer is not done yet
    reactor.calls.pop(0)()  # now it is: the next batch (two, the batch size) goes
    assert [f.result(timeout=30) for f in waiting[:2]] == [Verdict.NEW, Verdict.NEW]
    assert not waiting[2].done()
    reactor.deliver()
    assert waiting[2].result(timeout=30) is Verdict.NEW
    batches.close()
    assert rows(archive, "articles") == 4


def test_a_partial_batch_is_written_at_close(archive: Archive) -> None:
    reactor = Reactor()
    batches = Batches(archive, 10, reactor)
    batches.submit(Entry("s", URLS[0], titled(0))).result(timeout=30)
    futures = [batches.submit(Entry("s", url, titled(n))) for n, url in enumerate(URLS[1:3], 1)]
    assert not any(f.done() for f in futures)  # the writer's "done" never came back
    batches.close()
    assert [f.result(timeout=0) for f in futures] == [Verdict.NEW, Verdict.NEW]
    assert rows(archive, "articles") == 3


class Timers:
    """A stand-in for ``reactor.callLater``: a delayed call runs when the test says so."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, seconds: float, action: Any) -> Any:
        test = self

        class Call:
            cancelled = False

            def cancel(self) -> None:
                self.cancelled = True
                test.calls.remove(self)

            def run(self) -> None:
                test.calls.remove(self)
                action()

        self.calls.append(Call())
        return self.calls[-1]


def test_an_observation_finding_the_writer_idle_lingers_for_others(archive: Archive) -> None:
    """With a linger, observations that come close together share a transaction although the
    writer was idle; a full batch goes at once, and close writes what lingers."""
    reactor, timers = Reactor(), Timers()
    batches = Batches(archive, 3, reactor, 0.05, timers)
    first = [batches.submit(Entry("s", url, titled(n))) for n, url in enumerate(URLS[:2])]
    assert len(timers.calls) == 1 and not any(f.done() for f in first)  # lingering, one timer
    timers.calls[0].run()
    assert [f.result(timeout=30) for f in first] == [Verdict.NEW] * 2  # one batch of two
    reactor.deliver()
    more = [batches.submit(Entry("s", url, NotModified(fetched_at=at(9)))) for url in URLS[:3]]
    assert not timers.calls  # three: a full batch, written at once, its timer cancelled
    assert [f.result(timeout=30) for f in more] == [Verdict.UNCHANGED, Verdict.UNCHANGED, Verdict.IGNORED]
    reactor.deliver()
    last = batches.submit(Entry("s", URLS[3], titled(3)))
    assert len(timers.calls) == 1
    batches.close()
    assert last.result(timeout=0) is Verdict.NEW and not timers.calls


def test_derived_ahead_is_what_recording_derives(archive: Archive) -> None:
    """A crawl's workers derive the fingerprint, search text and echo signature ahead
    (``storage.derived``); recording them is the same as recording without them."""
    from dataclasses import replace

    from storage.derived import derive, echo_of, pinned
    from storage.search import search_text

    long_text = "\n".join(f"Đoạn {n}: Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị quán triệt nghị quyết số {n}."
                          for n in range(8))
    plain = fetched(0, text=long_text)
    ahead = replace(fetched(0, text=long_text), derived=derive(plain.content))
    assert ahead.derived is not None and ahead.derived.echo == echo_of(long_text)
    assert ahead.derived.fingerprint == pinned(plain.content).fingerprint()
    assert ahead.derived.search_text == search_text(pinned(plain.content))
    assert archive.record_batch([Entry("s", URLS[0], plain), Entry("s", URLS[1], ahead)]) == [Verdict.NEW] * 2
    with archive.engine.connect() as c:
        hashes = c.execute(text("SELECT content_hash FROM versions ORDER BY id")).scalars().all()
        signatures = c.execute(text("SELECT shingles, signature FROM echo_index ORDER BY article_id")).all()
    assert hashes[0] == hashes[1] and signatures[0] == signatures[1] and signatures[0][1] is not None
    assert {hit.url for hit in archive.search("tuyen giao nghi quyet")} == {URLS[0], URLS[1]}


def state(archive: Archive, url: str) -> tuple[Any, ...]:
    with archive.engine.connect() as c:
        return tuple(c.execute(text("SELECT last_checked_at, failed_checks, gone_signals, last_gone_at, removed_at "
                                    "FROM articles WHERE url = :u"), {"u": url}).one())


def test_a_batch_of_304s_moves_check_times_only(archive: Archive) -> None:
    """The batch's 304s of live articles, recorded together (``storage.unchanged``), do what one
    ``NotModified`` does: the check time moves forward (never back), a pending removal signal and
    failed checks reset, no row is added; a removed article is restored, an unknown one ignored."""
    from storage.observation import Failed
    from tests.plugins.archive import gone

    for n, url in enumerate(URLS):
        archive.record("s", url, titled(n, 10))
    archive.record("s", URLS[1], gone(11))  # a pending removal signal
    archive.record("s", URLS[1], Failed(reason="timeout", fetched_at=at(12)))
    archive.record("s", URLS[3], gone(11))
    archive.record("s", URLS[3], gone(12))  # removed
    before = {table: rows(archive, table) for table in ("articles", "versions", "changes")}
    entries = [Entry("s", URLS[0], NotModified(fetched_at=at(20))), Entry("s", URLS[1], NotModified(fetched_at=at(20))),
               Entry("s", URLS[2], NotModified(fetched_at=at(5))),  # an older answer recorded late
               Entry("s", URLS[3], NotModified(fetched_at=at(20))),
               Entry("s", "https://example.vn/tin-tuc/never-seen", NotModified(fetched_at=at(20)))]
    assert archive.record_batch(entries) == [Verdict.UNCHANGED] * 3 + [Verdict.RESTORED, Verdict.IGNORED]
    assert state(archive, URLS[0])[1:] == (0, 0, None, None)
    assert [k.last_checked_at for k in sorted(archive.known_articles("s"), key=lambda k: k.url)] == [
        at(20), at(20), at(10), at(20)]
    assert state(archive, URLS[1])[1:] == (0, 0, None, None)
    assert state(archive, URLS[3])[4] is None  # restored
    after = {table: rows(archive, table) for table in ("articles", "versions", "changes")}
    assert after == {**before, "changes": before["changes"] + 1}  # the restoration only


def test_an_article_seen_twice_in_a_batch_is_recorded_in_order(archive: Archive) -> None:
    from tests.plugins.archive import gone

    archive.record("s", URLS[0], titled(0))
    archive.record("s", URLS[0], gone(1))
    entries = [Entry("s", URLS[0], NotModified(fetched_at=at(2))), Entry("s", URLS[0], gone(3))]
    assert archive.record_batch(entries) == [Verdict.UNCHANGED, Verdict.GONE_PENDING]  # the 304 reset the signal
    assert state(archive, URLS[0])[1:3] == (0, 1)


def test_304s_whose_bulk_recording_fails_are_recorded_one_by_one(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.archive
    from storage.unchanged import record_not_modified

    def failing(session: Any, site: str, checks: Any) -> set[str]:
        record_not_modified(session, site, checks)  # written, then rolled back with its savepoint
        raise RuntimeError("a bug in the bulk update")

    archive.record("s", URLS[0], titled(0))
    monkeypatch.setattr(storage.archive, "record_not_modified", failing)
    assert archive.record_batch([Entry("s", URLS[0], NotModified(fetched_at=at(30)))]) == [Verdict.UNCHANGED]
    [known] = archive.known_articles("s")
    assert known.last_checked_at == at(30)
