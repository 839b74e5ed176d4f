"""A site's URL patterns (``article_url``, ``follow_url``): refused at load when they would backtrack
catastrophically, run with a time limit on every link.

The audit's ``article_url = '(a+)+$'`` was accepted, and one 30-character link then hung the crawl
beyond SIGINT. Patterns are compiled by the ``regex`` package, whose ``search`` takes a timeout;
at load, a pattern is refused when an unbounded repeat holds another one with nothing fixed
between them (``(a+)+``, ``(\\w+\\s?)*``: star height two, exponential in Python's ``re``), or when
it needs more than ``PROBE_TIMEOUT`` on a long run of any character it names (``(a|a)*$``). A link
that still takes longer than ``MATCH_TIMEOUT`` does not match, with a warning — unless the time went
by with the thread not running (the limit is wall time; on a loaded machine an ordinary link once
took 0.1 s and a 20,000-article crawl lost that article): then the link is matched again. A search
keeps the GIL (``concurrent=False``): given a timeout, ``regex`` releases it by default, and the
reactor thread then waited for the recording thread to hand it back on every link of a listing page.

Links are absolute URLs, so a pattern anchored at a path (``^/news/...``, as a profile naturally
writes one) would never match one: a pattern that starts with ``^/`` or ``\\A/`` (after inline flags
such as ``(?i)``) is matched against the URL's path and query (``/news/a-1.html?x=1``, no fragment);
every other pattern against the whole URL.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

import regex

logger = logging.getLogger(__name__)

MATCH_TIMEOUT = 0.1
"""Seconds one pattern may spend on one URL (a URL has at most 2083 characters in a crawl)."""

STALLED_TRIES = 3
"""Times a link is matched at most while the time limit passes with the thread hardly running."""

PROBE_TIMEOUT = 0.25
"""Seconds a pattern may spend on a probe at load before it is refused as catastrophic."""

PROBE_LENGTH = 100
"""Exponential backtracking shows at a few dozen characters; polynomial work stays small at 100."""
_PROBE_ENDS = ("\x00", "!", "/", "")
_PATH_ANCHORED = re.compile(r"(?:\(\?[aiLmsux]+\))*(?:\^|\\A)/")
"""A pattern anchored at the start of a path: it is matched against a link's path and query."""


class PatternError(ValueError):
    """Why a pattern is refused (one line)."""


class UrlPattern:
    """A compiled URL pattern whose ``search`` gives up after ``MATCH_TIMEOUT`` (no match, a warning)."""

    def __init__(self, source: str) -> None:
        self.pattern = source
        self.compiled = regex.compile(source)
        self.timeouts = 0
        self.path_anchored = _PATH_ANCHORED.match(source) is not None

    def search(self, text: str) -> Any:
        """The match of the pattern in ``text`` (in its path and query when the pattern is anchored
        at ``^/``), or None (also when it takes too long)."""
        if self.path_anchored:
            text = path_query(text)
        for _ in range(STALLED_TRIES):
            started = time.thread_time()
            try:
                return self.compiled.search(text, timeout=MATCH_TIMEOUT, concurrent=False)
            except TimeoutError:
                if time.thread_time() - started >= MATCH_TIMEOUT / 2:
                    break  # the pattern's own work, not a stall: give up
        self.timeouts += 1
        logger.warning("URL pattern %r gave up on a link after %g s (taken as no match): %.200s",
                       self.pattern, MATCH_TIMEOUT, text)
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlPattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"UrlPattern({self.pattern!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"pattern": self.pattern}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["pattern"])  # type: ignore[misc]


def path_query(url: str) -> str:
    """``url``'s path and query (``/a/b?x=1``), without scheme, host or fragment; ``url`` itself
    when it cannot be split."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def compile_pattern(source: str) -> UrlPattern:
    """``source`` compiled, or a ``PatternError`` saying why it is refused."""
    try:
        pattern = UrlPattern(source)
    except (regex.error, ValueError, OverflowError) as exc:
        raise PatternError(f"not a valid regex: {exc}") from None
    nested = _nested_repeat(source)
    if nested:
        raise PatternError(f"catastrophic backtracking: the repeat {nested} holds another unbounded repeat "
                           "with nothing fixed around it (write it without the outer repeat)")
    for probe in _probes(source):
        try:
            pattern.compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            raise PatternError(f"catastrophic backtracking: over {PROBE_TIMEOUT:g} s on a run of "
                               f"{len(probe)} characters {probe[:1]!r}") from None
    return pattern


# --- the static check: star height two with nothing fixed in between -----------------------------

def _parse(source: str) -> Any:
    try:
        from re import _parser  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11
        import sre_parse as _parser
    try:
        return _parser.parse(source)
    except (re.error, RecursionError, OverflowError):
        return None  # regex-only syntax: the probes judge it


def _constants() -> tuple[Any, ...]:
    try:
        from re import _constants as c  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11
        import sre_constants as c
    return c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None), c.SUBPATTERN, c.MAXREPEAT, c.BRANCH


def _nested_repeat(source: str) -> str | None:
    """A description of an unbounded repeat whose body is nothing but repeats, optional parts and
    groups of them, around an unbounded repeat; None when there is none."""
    parsed = _parse(source)
    if parsed is None:
        return None
    max_repeat, min_repeat, possessive, subpattern, unbounded, branch = _constants()
    repeats = {max_repeat, min_repeat}

    def items(op: Any, av: Any) -> list[tuple[Any, Any]]:
        if op == subpattern:
            return list(av[-1])
        if op in repeats:
            return list(av[2])
        return []

    def has_unbounded(seq: list[tuple[Any, Any]]) -> bool:
        for op, av in seq:
            if op in repeats and av[1] == unbounded:
                return True
            if op == branch and any(has_unbounded(list(b)) for b in av[1]):
                return True
            if has_unbounded(items(op, av)):
                return True
        return False

    def all_flexible(seq: list[tuple[Any, Any]]) -> bool:
        """Every element may repeat or be left out: nothing fixes where one iteration ends."""
        for op, av in seq:
            if op in repeats and (av[1] == unbounded or av[0] == 0):
                continue
            if op == subpattern and all_flexible(list(av[-1])):
                continue
            return False
        return True

    def walk(seq: list[tuple[Any, Any]]) -> str | None:
        for op, av in seq:
            if op in repeats and av[1] == unbounded and op != possessive:
                body = list(av[2])
                inner = body[0][1][-1] if len(body) == 1 and body[0][0] == subpattern else body
                if has_unbounded(list(inner)) and all_flexible(list(inner)):
                    return "(...)" + ("*" if av[0] == 0 else "+")
            if op == branch:
                for alternative in av[1]:
                    if (found := walk(list(alternative))) is not None:
                        return found
            if (found := walk(items(op, av))) is not None:
                return found
        return None

    return walk(list(parsed))


# --- the dynamic check: long runs of the pattern's own characters --------------------------------

def _probes(source: str) -> list[str]:
    """Runs of each character the pattern names (and of one per class it uses), with an ending
    that makes the match fail late."""
    named = re.sub(r"\\[dDwWsSbBAZ]", "", source)
    chars = [c for c in dict.fromkeys(named) if c.isprintable() and c not in "()[]{}|*+?^$\\"]
    chars = [*chars[:16], "a", "1", "-", " ", "/"]
    return [c * PROBE_LENGTH + end for c in dict.fromkeys(chars) for end in _PROBE_ENDS]
