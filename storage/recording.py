"""The versioning rules: what one observation of a URL does to the archive.

This is the only place they live, so the crawl, the one-off ``scrape --save`` and any later worker
version pages the same way. ``record_observation`` runs inside the caller's transaction (see
``Archive.record``, which also retries it once after a lost race) and locks the article row first
(``SELECT ... FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` already serialises SQLite), so two
workers recording the same page never both decide.

Rules, by observation:

- ``Fetched`` with empty content is a ``Failed`` check: never a version, never an edit.
- ``Fetched`` of an unknown URL: article, version 1, capture, ``new`` change.
- Same fingerprint as the latest version (and ``NotModified``): only ``last_checked_at`` and the
  validators move; gone signals and failed checks reset. No row is added anywhere.
- Another fingerprint: version N+1, capture, ``edited`` change naming the changed fields; if it
  equals an earlier version K the note says "returns to version K". Its anatomy (what kind of
  edit: ``storage.anatomy``) goes into ``edit_findings`` in the same transaction.
- Every new version is indexed for echoes (``storage.echoes``: the same report on other sites)
  in the same transaction.
- ``Gone``: a removal needs two signals from two checks. The first only counts (GONE_PENDING);
  a repeat of the same signal (same ``fetched_at`` or older) is not a second one; the second
  sets ``removed_at`` and adds a ``removed`` change. Signals on an already removed article change
  nothing and give UNCHANGED (still removed). ``Gone`` for an unknown URL is IGNORED.
- ``Fetched`` (or ``NotModified``) of a removed article: one ``restored`` change. If the content
  differs it also brings a new version, and that same change names the fields (no separate
  ``edited`` change), so a reader sees one event: "back, with its title changed".
- ``Failed``: ``failed_checks`` (in a row) + 1 and the error kept; nothing else, ever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, bindparam, func, insert, select
from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from storage.content import Content
from storage.derived import pinned
from storage.echoes import index_version
from storage.findings import record_findings
from storage.models import ArticleRow, CaptureRow, ChangeRow, VersionRow, content_columns
from storage.observation import Capture, Failed, Fetched, Gone, Observation, Verdict
from storage.search import index_article
from storage.captures import compress_for, site_text_dictionary, text_dictionary
from storage.textpack import DictatedJSON
from storage.urls import page_links

REMOVAL_SIGNALS = 2
"""Removal signals from distinct checks needed before an article is flagged removed."""

_FIND_ARTICLE = (select(ArticleRow).where(ArticleRow.site == bindparam("site"), ArticleRow.url == bindparam("url"))
                 .with_for_update())
"""The article's row, locked (built once, as the INSERTs below)."""
_ARTICLE_COLUMNS = [c for c in cast(Table, ArticleRow.__table__).columns if c.key != "id"]
_INSERT_ARTICLE = insert(cast(Table, ArticleRow.__table__))
_INSERT_VERSION = insert(cast(Table, VersionRow.__table__))
_INSERT_CAPTURE = insert(cast(Table, CaptureRow.__table__))
_INSERT_CHANGE = insert(cast(Table, ChangeRow.__table__))
"""Rows recording adds and never reads back as objects in its transaction: core INSERTs with
parameters (built once: a statement made per row costs more than its execution), not ORM objects
and a unit-of-work flush for each."""


def record_observation(
    session: Session, site: str, url: str, obs: Observation, *, run_id: int | None = None
) -> Verdict:
    """Apply the rules above for ``(site, url)``; ``url`` is already canonical."""
    if isinstance(obs, Fetched) and (obs.derived.empty if obs.derived is not None else obs.content.is_empty()):
        obs = Failed(reason="no article content extracted", fetched_at=obs.fetched_at)
    article = session.scalars(_FIND_ARTICLE, {"site": site, "url": url}).one_or_none()
    if article is None:
        if isinstance(obs, Fetched):
            return _new(session, site, url, obs, run_id)
        return Verdict.FAILED if isinstance(obs, Failed) else Verdict.IGNORED
    if isinstance(obs, Failed):
        article.failed_checks += 1
        article.last_failed_at = _later(article.last_failed_at, obs.fetched_at)
        article.last_error = obs.reason[:1000]
        return Verdict.FAILED
    article.last_checked_at = _later(article.last_checked_at, obs.fetched_at)
    article.failed_checks = 0
    if isinstance(obs, Gone):
        return _gone(session, article, obs, run_id)
    article.gone_signals, article.last_gone_at = 0, None
    if isinstance(obs, Fetched):
        article.etag, article.last_modified = obs.etag, obs.last_modified
        return _fetched(session, article, obs, run_id)
    if article.removed_at is not None:  # 304: back, as its latest version
        version = article.current_version
        _change(session, article, "restored", obs.fetched_at, run_id, version, version)
        article.removed_at = None
        return Verdict.RESTORED
    return Verdict.UNCHANGED


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _new(session: Session, site: str, url: str, obs: Fetched, run_id: int | None) -> Verdict:
    at = obs.fetched_at
    article = ArticleRow(
        site=site,
        url=url,
        first_seen_at=at,
        last_checked_at=at,
        last_changed_at=at,
        removed_at=None,
        etag=obs.etag,
        last_modified=obs.last_modified,
        gone_signals=0,
        last_gone_at=None,
        failed_checks=0,
        last_failed_at=None,
        last_error=None,
        search_text="",
    )
    content = pinned(obs.content)
    digest = _fingerprint(obs, content)
    set_latest(article, 1, content, digest)
    _insert_article(session, article)
    _add_version(session, article, 1, obs, content, digest)
    index_article(session, article, content, None, obs.derived.search_text if obs.derived else None)
    _change(session, article, "new", at, run_id, None, 1)
    index_version(session, article, content, at, obs.derived.echo if obs.derived else None, new=True)
    return Verdict.NEW


def _insert_article(session: Session, article: ArticleRow) -> None:
    """``article`` (every column set but its id) inserted with a core INSERT and then made a row the
    session holds, as if loaded: later changes to it (a re-check in the same batch) are flushed as
    usual, without a unit-of-work flush for the INSERT itself."""
    state = inspect(article)
    values = {column.key: state.dict[column.key] for column in _ARTICLE_COLUMNS}
    article.id = _inserted_id(session.execute(_INSERT_ARTICLE, values))
    make_transient_to_detached(article)
    stale = session.identity_map.get(session.identity_key(ArticleRow, article.id))
    if stale is not None:  # a row of the same id rolled back with its savepoint (SQLite gives ids again)
        session.expunge(stale)
    session.add(article)


def _fetched(session: Session, article: ArticleRow, obs: Fetched, run_id: int | None) -> Verdict:
    content = pinned(obs.content)
    digest = _fingerprint(obs, content)
    removed = article.removed_at is not None
    previous = article.current_version
    if digest == article.content_hash:
        if not removed:
            return Verdict.UNCHANGED
        _change(session, article, "restored", obs.fetched_at, run_id, previous, previous)
        article.removed_at = None
        return Verdict.RESTORED
    current = session.scalars(
        select(VersionRow).where(
            VersionRow.article_id == article.id, VersionRow.version == previous
        )
    ).one()
    fields = current.content().changed_fields(content)
    earlier = session.scalar(
        select(func.max(VersionRow.version)).where(
            VersionRow.article_id == article.id, VersionRow.content_hash == digest
        )
    )
    _add_version(session, article, previous + 1, obs, content, digest)
    index_article(session, article, content, current.content(), obs.derived.search_text if obs.derived else None)
    note = f"returns to version {earlier}" if earlier is not None else None
    kind = "restored" if removed else "edited"
    change = _change(session, article, kind, obs.fetched_at, run_id, previous, previous + 1, fields, note)
    record_findings(session, change, current.content(), content)
    index_version(session, article, content, obs.fetched_at, obs.derived.echo if obs.derived else None)
    article.removed_at = None
    return Verdict.RESTORED if removed else Verdict.EDITED


def _fingerprint(obs: Fetched, content: Content) -> str:
    """``content``'s fingerprint: computed ahead (``obs.derived``) or now."""
    return obs.derived.fingerprint if obs.derived is not None else content.fingerprint()


def _gone(session: Session, article: ArticleRow, obs: Gone, run_id: int | None) -> Verdict:
    if article.removed_at is not None:
        return Verdict.UNCHANGED  # still removed: nothing new to say
    if article.last_gone_at is not None and obs.fetched_at <= article.last_gone_at:
        return Verdict.GONE_PENDING  # the signal already counted, recorded again
    article.gone_signals += 1
    article.last_gone_at = obs.fetched_at
    if article.gone_signals < REMOVAL_SIGNALS:
        return Verdict.GONE_PENDING
    article.removed_at = obs.fetched_at
    version = article.current_version
    _change(session, article, "removed", obs.fetched_at, run_id, version, None, None, obs.reason)
    return Verdict.REMOVED


def set_latest(article: ArticleRow, number: int, content: Content, digest: str) -> None:
    """Denormalise the latest version's fields onto the article (its search text: ``index_article``)."""
    article.current_version = number
    article.title = content.title
    article.lead = content.lead
    article.published_at = content.published_at
    article.published_precision = content.published_precision
    article.author = content.author
    article.category = content.category
    article.content_hash = digest


def _add_version(
    session: Session, article: ArticleRow, number: int, obs: Fetched, content: Content, digest: str
) -> None:
    """The version and its capture, written with core INSERTs: rows nothing in the transaction reads
    back as objects, so the ORM's unit of work (a flush each) would only add its cost."""
    capture = capture_columns(session, article.site, obs.capture, content.text) if obs.capture is not None else None
    columns = content_columns(content, digest, site_text_dictionary(session, article.site))
    inserted = session.execute(_INSERT_VERSION, {"article_id": article.id, "version": number,
                                                 "fetched_at": obs.fetched_at, **columns})
    if capture is not None:
        session.execute(_INSERT_CAPTURE, {"version_id": _inserted_id(inserted), **capture})
    set_latest(article, number, content, digest)


def capture_columns(session: Session, site: str, capture: Capture, text: str | None = None) -> dict[str, Any]:
    """The capture's columns as stored: compressed with the site's dictionary and against its
    version's ``text`` and the reports its links lead to (``storage.captures``, ``storage.refs``);
    its headers packed with that dictionary on SQLite."""
    links = capture.links
    if links is None and text:
        links = page_links(capture.body, capture.url)
    encoded = compress_for(session, site, capture.body, text, links or ())
    return {
        "url": capture.url,
        "status": capture.status,
        "headers": DictatedJSON.of(dict(capture.headers), text_dictionary(session, encoded.dictionary_id)),
        "size": len(capture.body),
        "compression": encoded.compression,
        "dictionary_id": encoded.dictionary_id,
        "body": encoded.body,
    }


def _change(
    session: Session,
    article: ArticleRow,
    kind: str,
    at: datetime,
    run_id: int | None,
    from_version: int | None = None,
    to_version: int | None = None,
    fields: list[str] | None = None,
    note: str | None = None,
) -> int:
    """Add a change (a core INSERT, as ``_add_version``); its id."""
    joined = ",".join(fields) if fields else None
    inserted = session.execute(_INSERT_CHANGE, {
        "article_id": article.id,
        "kind": kind,
        "detected_at": at,
        "from_version": from_version,
        "to_version": to_version,
        "fields": joined,
        "note": note or None,
        "run_id": run_id,
    })
    article.last_changed_at = _later(article.last_changed_at, at)
    return _inserted_id(inserted)


def _inserted_id(result: Result[Any]) -> int:
    key = cast(CursorResult[Any], result).inserted_primary_key
    assert key is not None
    return int(key[0])
