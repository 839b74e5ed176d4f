"""Just enough SQL lexing to count statements and name the first keyword.

``tgwatch sql`` refuses several statements at once and anything that does not start like a query
before the database sees it, so that the user gets a clear one-line refusal. The lexer knows the
places where ``;`` and keywords do not count: '...' strings (with '' and, after E, backslash
escapes), "..." `...` and [...] identifiers, -- and /* */ comments, and PostgreSQL $tag$ quoting.
The two databases read comments differently: PostgreSQL nests ``/* /* */ */`` and ends ``--`` at
a carriage return as well as a line feed; SQLite does neither. Each function takes the
``dialect`` to lex as, and the read-only runner checks a query under both (a query must look like
one to each database).
This is a courtesy, not the guard: the connection itself is read-only (``storage.readonly``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOSERS = {'"': '"', "`": "`", "[": "]"}
DIALECTS = ("postgresql", "sqlite")


def _skip_string(sql: str, i: int, backslashes: bool) -> int:
    """Index after the string literal opening at ``sql[i] == "'"``."""
    i += 1
    while i < len(sql):
        if backslashes and sql[i] == "\\":
            i += 2
            continue
        if sql[i] == "'":
            if sql.startswith("''", i):
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_quoted(sql: str, i: int) -> int:
    """Index after the quoted identifier opening at ``sql[i]`` (doubled closers escape)."""
    closer = _CLOSERS[sql[i]]
    i += 1
    while i < len(sql):
        if sql[i] == closer:
            if closer != "]" and sql.startswith(closer * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _escape_string(sql: str, i: int) -> bool:
    """True for PostgreSQL's E'...' (a lone E right before the quote): backslashes escape."""
    if i == 0 or sql[i - 1] not in "eE":
        return False
    return i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_")


def _line_comment_end(sql: str, i: int, dialect: str) -> int:
    """Index after the ``--`` comment at ``i``: PostgreSQL ends it at \\r or \\n, SQLite at \\n."""
    ends = [sql.find("\n", i)]
    if dialect == "postgresql":
        ends.append(sql.find("\r", i))
    found = [end for end in ends if end >= 0]
    return min(found) + 1 if found else len(sql)


def _block_comment_end(sql: str, i: int, dialect: str) -> int:
    """Index after the ``/*`` comment at ``i``: PostgreSQL nests them, SQLite ends at the first ``*/``."""
    if dialect != "postgresql":
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    depth, i = 1, i + 2
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)


def _skip(sql: str, i: int, dialect: str = "postgresql") -> int | None:
    """Index after the string, identifier or comment starting at ``i``; None if none does."""
    char = sql[i]
    if char == "'":
        return _skip_string(sql, i, _escape_string(sql, i))
    if char in _CLOSERS:
        return _skip_quoted(sql, i)
    if sql.startswith("--", i):
        return _line_comment_end(sql, i, dialect)
    if sql.startswith("/*", i):
        return _block_comment_end(sql, i, dialect)
    if char == "$" and (tag := _DOLLAR.match(sql, i)) and not (i > 0 and sql[i - 1].isalnum()):
        end = sql.find(tag.group(0), tag.end())
        return len(sql) if end < 0 else end + len(tag.group(0))
    return None


def statements(sql: str, dialect: str = "postgresql") -> list[str]:
    """The statements of ``sql``, split on semicolons that are code; empty ones dropped."""
    found, start, i = [], 0, 0
    while i < len(sql):
        after = _skip(sql, i, dialect)
        if after is not None:
            i = after
        elif sql[i] == ";":
            found.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    found.append(sql[start:])
    return [s.strip() for s in found if words(s, dialect)]


def words(statement: str, dialect: str = "postgresql") -> list[str]:
    """The bare words of a statement, upper-case, outside strings, identifiers and comments."""
    found, i = [], 0
    while i < len(statement):
        after = _skip(statement, i, dialect)
        if after is not None:
            i = after
            continue
        if match := _WORD.match(statement, i):
            found.append(match.group(0).upper())
            i = match.end()
        else:
            i += 1
    return found


def first_keyword(statement: str, dialect: str = "postgresql") -> str:
    """The statement's first keyword (``SELECT``, ``WITH``, ``INSERT``...), upper-case."""
    found = words(statement, dialect)
    return found[0] if found else ""


_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


def parameters(statement: str, dialect: str = "postgresql") -> list[str]:
    """Names of the statement's ``:name`` parameters, in order, once each (a ``::`` cast is none)."""
    _, names = _rewrite(statement, lambda name: f":{name}", "%", dialect)
    return list(dict.fromkeys(names))


def pyformat(statement: str) -> str:
    """The statement as psycopg takes it with parameters: ``:name`` as ``%(name)s``, ``%`` as ``%%``."""
    return _rewrite(statement, lambda name: f"%({name})s", "%%", "postgresql")[0]


def _rewrite(
    statement: str, parameter: Callable[[str], str], percent: str, dialect: str
) -> tuple[str, list[str]]:
    """``statement`` with each parameter and ``%`` outside strings, identifiers and comments replaced."""
    out: list[str] = []
    names: list[str] = []
    i = 0
    while i < len(statement):
        end = _skip(statement, i, dialect)
        if end is not None:
            out.append(statement[i:end].replace("%", percent))
            i = end
            continue
        found = _PARAMETER.match(statement, i) if statement[i] == ":" else None
        if found:
            names.append(found.group(1))
            out.append(parameter(found.group(1)))
            i = found.end()
            continue
        out.append(percent if statement[i] == "%" else statement[i])
        i += 1
    return "".join(out), names
