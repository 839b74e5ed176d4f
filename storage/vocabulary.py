"""The words every layer shares, each defined once: change kinds, run outcomes, the default archive.

They are values of the archive's columns (``changes.kind``, ``crawl_runs.outcome``) that users
query by name, so the crawler, the CLI, the notifier and the schema's CHECK constraints all import
them from here instead of spelling them out. This module imports nothing, so that the CLI can use
it without paying for SQLAlchemy.
"""

from __future__ import annotations

from enum import StrEnum


class ChangeKind(StrEnum):
    """``changes.kind``: what happened to an article."""

    NEW = "new"
    EDITED = "edited"
    REMOVED = "removed"
    RESTORED = "restored"
    REEXTRACTED = "reextracted"  # a correction by today's extractor, not a change on the site
    DELISTED = "delisted"  # still served, but no listing page within the crawl's reach shows it any more
    RELISTED = "relisted"  # a delisted article is shown on a listing page again


CHANGE_KINDS: tuple[str, ...] = tuple(kind.value for kind in ChangeKind)
"""Every value of ``changes.kind`` (the schema's CHECK constraint)."""

FLAGGED_KINDS: tuple[str, ...] = ("new", "edited", "removed", "restored", "delisted", "relisted")
"""The kinds that are flags on the site (listed by ``tgwatch changes``, announced, a site's ``notify_kinds``)."""

FINDING_KINDS: tuple[str, ...] = (
    "cosmetic", "number", "name", "sentence_added", "sentence_removed", "sentence_reworded",
    "paragraph_moved", "field",
)
"""Every value of ``edit_findings.kind``: what one finding of an edit's anatomy is (``storage.anatomy``)."""

SUBSTANTIVE_EDITS = "edited:substantive"
"""A ``notify_kinds`` value: announce an edit only when it changed substance, not only spelling
(its ``edit_findings`` are not all ``cosmetic``)."""

SUBSTANCES: tuple[str, ...] = ("substantive", "cosmetic")
"""What an edit is: ``cosmetic`` when every finding is, else ``substantive``."""


class ListingState(StrEnum):
    """``articles.listing``: where an article stands with the site's listing pages."""

    LISTED = "listed"  # on a listing page within the crawl's reach
    DELISTED = "delisted"  # flagged: taken off every listing while its page is still served
    UNLISTED = "unlisted"  # off the listings for an ordinary reason: removed, or aged past the crawl's reach


LISTING_STATES: tuple[str, ...] = tuple(state.value for state in ListingState)
"""Every value of ``articles.listing`` (null: never seen on a listing page)."""

LISTING_KINDS: tuple[str, ...] = ("home", "section", "page")
"""Every value of ``listing_pages.kind``: the homepage, another start URL, a page reached by following links."""


ECHO_KINDS: tuple[str, ...] = ("copy", "edited copy", "excerpt")
"""Every value of ``echoes.kind``: the same text, the text with changes, or a part of it (``storage.echoes``)."""


class RunOutcome(StrEnum):
    """``crawl_runs.outcome``: how one crawl of one site ended (``running`` until it does)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


RUN_OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in RunOutcome)
"""Every value of ``crawl_runs.outcome`` (the schema's CHECK constraint)."""

FAILED_OUTCOMES: tuple[str, ...] = ("failed", "timeout")
"""Outcomes ``tgwatch status`` lists as failures."""

RUN_COUNTS: tuple[str, ...] = ("pages", "new", "edited", "unchanged", "removed", "restored", "failed")
"""The counts a run records (``crawl_runs`` columns), in the order the summary line prints them."""

DEFAULT_ARCHIVE_URL = "sqlite:///archive.db"
"""The archive when neither ``--db`` nor ``TGWATCH_DB`` names one."""
