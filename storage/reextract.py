"""Re-deriving a stored version with today's extractor (``tgwatch reextract``).

Extraction improves; the raw HTML of every version is kept so old versions can be read again.
Re-extraction corrects a version in place rather than adding one: the page did not change, our
reading of it did. So the version's fields and hash are updated, the article's denormalised fields
(and search text) follow if it is the latest version, and a ``reextracted`` change records which
fields moved, with their old values as JSON in ``note`` (``{"title": "old title"}``), so nothing
is lost and reports can tell corrections from edits.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from storage import refs
from storage.captures import REFS_CODEC, TEXT_CODEC, rebase, site_text_dictionary
from storage.content import Content
from storage.findings import refresh_version
from storage.echoes import index_version
from storage.models import ArticleRow, ChangeRow, VersionRow
from storage.derived import pinned
from storage.recording import set_latest
from storage.search import index_article
from storage.types import now


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def rederive(session: Session, version_id: int, content: Content) -> list[str]:
    """Give version ``version_id`` the fields in ``content``; returns the fields that changed.

    Empty content (today's extractor found nothing) leaves the version alone: a regression of
    the extractor must not erase what was archived.
    """
    version = session.get(VersionRow, version_id)
    if version is None:
        raise LookupError(f"no version {version_id}")
    article = session.get(ArticleRow, version.article_id, with_for_update=True)  # record's order
    session.refresh(version, with_for_update=True)
    if article is None or content.is_empty():
        return []
    fresh = pinned(content)
    old = version.content()
    changed = old.changed_fields(fresh)
    digest = fresh.fingerprint()
    if not changed:
        if version.published_precision != fresh.published_precision:  # described better, not changed
            version.published_precision = fresh.published_precision
            if article.current_version == version.version:
                article.published_precision = fresh.published_precision
        return []
    capture = version.capture
    body = capture.html() if capture is not None and capture.compression in {TEXT_CODEC, REFS_CODEC} else None
    # captures compressed against this version's title and lead (``storage.refs``), read before they change
    naming = ([(row, row.html()) for row in refs.naming(session, article.site, version.id) if row is not capture]
              if {"title", "lead"} & set(changed) else [])
    version.set_content(fresh, digest, site_text_dictionary(session, article.site))
    refs.forget(session, version.id)
    if capture is not None and body is not None:
        rebase(session, capture, body, fresh.text)
    for row, page in naming:
        rebase(session, row, page, str(row.version.text))
    if article.current_version == version.version:
        set_latest(article, version.version, fresh, digest)
        index_article(session, article, fresh, old)
        index_version(session, article, fresh, now(), indexed=old.text)  # judged on the corrected text
    refresh_version(session, article.id, version.version)  # the edits on either side of it
    note = {name: _plain(getattr(old, name)) for name in changed}
    session.add(
        ChangeRow(
            article_id=article.id,
            kind="reextracted",
            detected_at=now(),
            from_version=version.version,
            to_version=version.version,
            fields=",".join(changed),
            note=json.dumps(note, ensure_ascii=False),
        )
    )
    return changed
