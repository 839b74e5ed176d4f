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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.content import Content
from storage.derived import pinned
from storage.echoes import index_version
from storage.findings import record_findings
from storage.models import ArticleRow, CaptureRow, ChangeRow, VersionRow
from storage.observation import Capture, Failed, Fetched, Gone, Observation, Verdict
from storage.search import index_article
from storage.captures import compress_for, site_text_dictionary, text_dictionary
from storage.textpack import DictatedJSON

REMOVAL_SIGNALS = 2
"""Removal signals from distinct checks needed before an article is flagged removed."""


def record_observation(
    session: Session, site: str, url: str, obs: Observation, *, run_id: int | None = None
) -> Verdict:
    """Apply the rules above for ``(site, url)``; ``url`` is already canonical."""
    if isinstance(obs, Fetched) and (obs.derived.empty if obs.derived is not None else obs.content.is_empty()):
        obs = Failed(reason="no article content extracted", fetched_at=obs.fetched_at)
    article = session.scalars(
        select(ArticleRow).where(ArticleRow.site == site, ArticleRow.url == url).with_for_update()
    ).one_or_none()
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
        etag=obs.etag,
        last_modified=obs.last_modified,
        gone_signals=0,
        failed_checks=0,
    )
    content = pinned(obs.content)
    digest = _fingerprint(obs, content)
    set_latest(article, 1, content, digest)
    session.add(article)
    session.flush()  # the article's id, for the version, the change and the search index
    _add_version(session, article, 1, obs, content, digest)
    index_article(session, article, content, None, obs.derived.search_text if obs.derived else None)
    _change(session, article, "new", at, run_id, None, 1)
    index_version(session, article, content, at, obs.derived.echo if obs.derived else None, new=True)
    return Verdict.NEW


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
    session.flush()  # the change's id, for its findings
    record_findings(session, change.id, current.content(), content)
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
    capture = capture_row(session, article.site, obs.capture, content.text) if obs.capture is not None else None
    version = VersionRow(article_id=article.id, version=number, fetched_at=obs.fetched_at, capture=capture)
    version.set_content(content, digest, site_text_dictionary(session, article.site))
    session.add(version)
    set_latest(article, number, content, digest)


def capture_row(session: Session, site: str, capture: Capture, text: str | None = None) -> CaptureRow:
    """The capture as stored: compressed with the site's dictionary and against its version's
    ``text`` (``storage.captures``); its headers packed with that dictionary on SQLite."""
    encoded = compress_for(session, site, capture.body, text)
    return CaptureRow(
        url=capture.url,
        status=capture.status,
        headers=DictatedJSON.of(dict(capture.headers), text_dictionary(session, encoded.dictionary_id)),
        size=len(capture.body),
        compression=encoded.compression,
        dictionary_id=encoded.dictionary_id,
        body=encoded.body,
    )


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
) -> ChangeRow:
    joined = ",".join(fields) if fields else None
    change = ChangeRow(
        article_id=article.id,
        kind=kind,
        detected_at=at,
        from_version=from_version,
        to_version=to_version,
        fields=joined,
        note=note or None,
        run_id=run_id,
    )
    session.add(change)
    article.last_changed_at = _later(article.last_changed_at, at)
    return change
