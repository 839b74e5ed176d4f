"""The archive: one object the crawler, the CLI and the daemon share to read and record.

``Archive.open(url)`` builds the engine and brings the schema to the newest revision this code
knows (refusing a newer one). ``record`` is the single write path for observations: one
transaction each, idempotent under races (see ``storage.recording``). The read helpers return
frozen values (``storage.reads``). An ``Archive`` is safe to share between threads: every call
takes its own session.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from storage import captures, echoes, listings, reads, recording, reextract, runs, search
from storage.content import Content
from storage.engine import WRITE_OPTIONS, create_archive_engine, first_line, migrate, shown_url
from storage.errors import ArchiveError
from storage.listings import ListingCrawl, ListingVerdicts
from storage.observation import NotModified, Observation, Verdict
from storage.reads import KnownArticle, StoredCapture, StoredVersion, Validators
from storage.search import SearchHit
from storage.unchanged import record_not_modified
from storage.urls import canonical_url
from storage.vocabulary import DEFAULT_ARCHIVE_URL

__all__ = ["Archive", "Entry"]


@dataclass(frozen=True)
class Entry:
    """One observation to record (``Archive.record_batch``)."""

    site: str
    url: str
    obs: Observation
    run_id: int | None = None


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the archive going away (a server gone, SQLite locked past the busy
    timeout) rather than one observation's fault: then no savepoint of the batch can stand."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


CONFLICT_STATES = frozenset({"40P01", "40001"})
"""PostgreSQL's deadlock_detected and serialization_failure: the server aborted the transaction to
settle a lock conflict with another writer (two fleet workers, a closer and a recorder); nothing of
it was written, and running it again is the remedy PostgreSQL documents."""
CONFLICT_ATTEMPTS = 4

T = TypeVar("T")


def _conflict(exc: BaseException) -> bool:
    """``exc`` (an ``ArchiveError`` from ``Archive.writing`` or SQLAlchemy's own) is a lock conflict."""
    cause = exc.__cause__ if isinstance(exc, ArchiveError) else exc
    return getattr(getattr(cause, "orig", None), "sqlstate", None) in CONFLICT_STATES


def _key(url: str) -> str | None:
    """``url`` canonical; None when it cannot be (that entry's own failure, in its savepoint)."""
    try:
        return canonical_url(url)
    except Exception:
        return None


def _not_modified(session: Session, entries: Sequence[Entry], keys: Sequence[str | None]) -> set[tuple[str, str]]:
    """The batch's 304s of live articles, recorded in bulk (``storage.unchanged``), in a savepoint of
    their own; the (site, URL) recorded. Only an article checked once in the batch: the others'
    observations are applied in order, one by one. Should the bulk fail, none of them is recorded
    here: each then goes the one-by-one way."""
    seen = Counter(zip((entry.site for entry in entries), keys))
    checks: dict[str, dict[str, datetime]] = {}
    for entry, key in zip(entries, keys):
        if key is not None and isinstance(entry.obs, NotModified) and seen[entry.site, key] == 1:
            checks.setdefault(entry.site, {})[key] = entry.obs.fetched_at
    if not checks:
        return set()
    try:
        with session.begin_nested():
            return {(site, url) for site, urls in checks.items() for url in record_not_modified(session, site, urls)}
    except Exception as exc:
        if _connection_lost(exc):
            raise
        return set()


class Archive:
    """An open archive (SQLite file or PostgreSQL database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = shown_url(engine.url)  # safe to print: no password
        self._writer = engine.execution_options(**WRITE_OPTIONS)

    @classmethod
    def open(cls, url: str = DEFAULT_ARCHIVE_URL) -> Archive:
        """Connect and migrate to head; ``ArchiveError`` names the URL when that fails."""
        engine = create_archive_engine(url)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({self.url!r})"

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in one read transaction (never blocks or is blocked by writers on SQLite)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in one write transaction (holding SQLite's write lock from its first read)."""
        try:
            with Session(self._writer, expire_on_commit=False) as session, session.begin():
                yield session
        except OperationalError as exc:  # locked past the busy timeout, server gone...
            raise ArchiveError(f"{self.url}: {first_line(exc)}") from exc

    def record(
        self, site: str, url: str, obs: Observation, *, run_id: int | None = None
    ) -> Verdict:
        """Record one observation of ``url`` in one transaction; see ``storage.recording``.

        Two workers recording the same page race on the unique constraints; the loser rolls back
        and decides once more, now seeing the winner's rows (so the page is recorded once).
        """
        key = canonical_url(url)
        try:
            with self.writing() as session:
                return recording.record_observation(session, site, key, obs, run_id=run_id)
        except IntegrityError:
            pass
        with self.writing() as session:
            return recording.record_observation(session, site, key, obs, run_id=run_id)

    def record_batch(self, entries: Sequence[Entry]) -> list[Verdict | Exception]:
        """Record several observations in one transaction, each in its own savepoint, so that each
        is still recorded whole or not at all: one that fails rolls back alone (the others stay)
        and is then retried alone with ``record`` (a lost race decided again). The outcome of
        each, in order: its verdict, or what it raised. A failure of the transaction itself (BEGIN
        or COMMIT: ``ArchiveError``) is every entry's outcome: none of them was recorded.

        One commit for many observations: on SQLite the commit and the write lock are most of
        what a small recording costs. The 304s of live articles, the bulk of a re-crawl, go first
        and together (``storage.unchanged``: two statements for all of them).
        """
        outcomes: list[Verdict | Exception | None] = []
        keys = [_key(entry.url) for entry in entries]
        try:
            with self.writing() as session:
                unchanged = _not_modified(session, entries, keys)
                for entry, key in zip(entries, keys):
                    if (entry.site, key) in unchanged:
                        outcomes.append(Verdict.UNCHANGED)
                        continue
                    try:
                        with session.begin_nested():
                            key = key or canonical_url(entry.url)  # raises again for a URL it could not read
                            outcomes.append(recording.record_observation(session, entry.site, key, entry.obs,
                                                                         run_id=entry.run_id))
                    except Exception as exc:  # rolled back to its savepoint; retried alone below
                        if _connection_lost(exc):
                            raise  # the whole transaction is gone: none of the batch is recorded
                        captures.forget(session)  # what it cached may be rolled back with it
                        outcomes.append(None)
        except ArchiveError as exc:
            return [exc] * len(entries)
        except SQLAlchemyError as exc:  # the transaction's end failed (a connection lost mid-batch)
            return [ArchiveError(f"{self.url}: {first_line(exc)}")] * len(entries)
        return [outcome if outcome is not None else self._record_alone(entry)
                for entry, outcome in zip(entries, outcomes)]

    def _record_alone(self, entry: Entry) -> Verdict | Exception:
        try:
            return self.record(entry.site, entry.url, entry.obs, run_id=entry.run_id)
        except Exception as exc:
            return exc

    def retrying(self, work: Callable[[Session], T]) -> T:
        """``work`` in one write transaction, run again (up to ``CONFLICT_ATTEMPTS`` times, after a
        short random pause) when PostgreSQL aborts it to settle a deadlock with another writer.
        For a transaction that is whole by itself: a listing crawl's verdicts, a run's booking."""
        attempt = 1
        while True:
            try:
                with self.writing() as session:
                    return work(session)
            except (ArchiveError, DBAPIError) as exc:
                if attempt == CONFLICT_ATTEMPTS or not _conflict(exc):
                    raise
            time.sleep(random.uniform(0.05, 0.25) * attempt)
            attempt += 1

    def record_listings(self, crawl: ListingCrawl, *, run_id: int | None = None) -> ListingVerdicts:
        """Record what one crawl's listing pages showed, and its ``delisted``/``relisted`` verdicts."""
        return self.retrying(lambda session: listings.record_listings(session, crawl, run_id))

    def close_run(self, run_id: int, outcome: str, counts: Mapping[str, int],
                  crawl: ListingCrawl | None = None) -> ListingVerdicts | None:
        """Record a crawl's listings and book its run in one transaction, under the run row's lock:
        only while the run is still running (None otherwise: another closer got there first), so
        a crawl's listings are judged once however many processes close it."""
        def close(session: Session) -> ListingVerdicts | None:
            if not runs.lock_running(session, run_id):
                return None
            verdicts = listings.record_listings(session, crawl, run_id) if crawl is not None else ListingVerdicts()
            runs.finish_run(session, run_id, outcome, counts)
            return verdicts

        return self.retrying(close)

    def listed_urls(self, site: str) -> set[str]:
        """URLs of the site's articles that the listings showed last time (``listing_status``)."""
        with self.reading() as session:
            return listings.listed_urls(session, site)

    def echoes(self, *, site: str | None = None, since: datetime | None = None, limit: int = 0,
               with_findings: bool = False) -> list[echoes.Echo]:
        """Near-duplicate pairs across sites, newest first (``storage.echoes.load_echoes``)."""
        with self.reading() as session:
            return echoes.load_echoes(session, site=site, since=since, limit=limit, with_findings=with_findings)

    def index_echoes(self, *, again: bool = False) -> int:
        """Index for echoes the articles whose current version the index does not hold (``again``:
        all), a batch per transaction; how many were indexed."""
        done, after = 0, 0
        while True:
            with self.writing() as session:
                batch = echoes.index_missing(session, after=after, again=again)
            if not batch:
                return done
            done, after = done + len(batch), batch[-1]

    def article_count(self) -> int:
        with self.reading() as session:
            return reads.article_count(session)

    def known_articles(self, site: str) -> list[KnownArticle]:
        with self.reading() as session:
            return reads.known_articles(session, site)

    def validators(self, site: str, url: str) -> Validators | None:
        with self.reading() as session:
            return reads.validators(session, site, url)

    def article_versions(self, article: int | str) -> list[StoredVersion]:
        """Versions of an article named by id or URL, oldest first (empty when unknown)."""
        with self.reading() as session:
            return reads.article_versions(session, article)

    def iter_captures(self, site: str | None = None) -> Iterator[StoredCapture]:
        return reads.iter_captures(self.reading, site)

    def compact(self, sites: Sequence[str] = (), *, retrain: bool = False, refresh: bool = False,
                batch: int = 200) -> Iterator[tuple[str, captures.Compacted]]:
        """Re-compress captures of ``sites`` (default: all) with each site's newest dictionary (trained
        first if the site has none, or anew with ``retrain``), ``batch`` captures per transaction;
        yields each batch's result as it is committed. ``refresh``: every capture, against the reports
        its links lead to that the archive holds now (``captures.compact_batch``)."""
        with self.reading() as session:
            names = [s for s in captures.capture_sites(session) if not sites or s in sites]
        for site in names:
            with self.writing() as session:
                dictionary_id = captures.site_dictionary(session, site)
                if dictionary_id is None or retrain:
                    dictionary_id = captures.train(session, site) or dictionary_id
            after = 0
            while True:
                with self.writing() as session:
                    done = captures.compact_batch(session, site, dictionary_id, after=after, batch=batch,
                                                  refresh=refresh)
                if not done.last_id:
                    break
                yield site, done
                after = done.last_id

    def rederive(self, version_id: int, content: Content) -> list[str]:
        """Re-derive one version from today's extraction; returns the fields that changed."""
        with self.writing() as session:
            return reextract.rederive(session, version_id, content)

    def start_run(self, site: str, pid: int | None = None) -> int:
        with self.writing() as session:
            return runs.start_run(session, site, pid)

    def beat_run(self, run_id: int) -> None:
        """A running crawl's sign of life (``storage.runs.beat``)."""
        with self.writing() as session:
            runs.beat(session, run_id)

    def settle_abandoned(self) -> list[int]:
        """Close runs whose crawls died (``storage.runs.settle_abandoned``); their ids."""
        with self.writing() as session:
            return runs.settle_abandoned(session)

    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, int], error: str | None = None
    ) -> None:
        with self.writing() as session:
            runs.finish_run(session, run_id, outcome, counts, error)

    def search(self, words: str, *, site: str | None = None, limit: int = 20) -> list[SearchHit]:
        return search.search(self, words, site=site, limit=limit)
