"""``tgwatch diff``: what changed between two versions of one article, word by word.

Detection (``storage``) decides *that* an article changed and which fields; this module only shows
*how*, for a reader: the anatomy of the edit (``storage.anatomy``: cosmetic or substantive, which
numbers, names and sentences), the changed fields with their old and new values, then the text as a word
diff (``storage.textdiff.opcodes`` over words, paragraph breaks kept: difflib's result in near-linear
time), long unchanged stretches elided. On a terminal removed words are red and added words green;
piped, they are marked ``[-removed-]`` and ``{+added+}`` so the output stays readable in a file or an e-mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from storage.textdiff import opcodes

import click

from monitor.context import AppContext
from monitor.output import echo, format_option, inert, is_terminal
from monitor.output import render as render_rows
from storage.content import CONTENT_FIELDS, Content
from storage.errors import InputError

if TYPE_CHECKING:
    from storage.reads import StoredVersion

_TOKEN = re.compile(r"\n|[^\s]+")
CONTEXT = 12  # words of unchanged text kept on each side of a change


@dataclass(frozen=True)
class Piece:
    """A run of words that is the same in both versions, or only in the old, or only in the new."""

    op: str  # "equal" | "delete" | "insert"
    words: tuple[str, ...]


def tokens(text: str) -> list[str]:
    """Words, with each paragraph break as a token of its own."""
    return _TOKEN.findall("\n".join(line.strip() for line in (text or "").splitlines() if line.strip()))


def word_diff(old: str, new: str) -> list[Piece]:
    a, b = tokens(old), tokens(new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            pieces.append(Piece("equal", tuple(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", tuple(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("insert", tuple(b[j1:j2])))
    return pieces


def join(words: tuple[str, ...] | list[str]) -> str:
    out: list[str] = []
    for word in words:
        if word == "\n":
            out.append("\n")
        else:
            out.append(word if not out or out[-1] == "\n" else " " + word)
    return "".join(out)


def elide(words: tuple[str, ...], *, first: bool, last: bool, context: int = CONTEXT) -> tuple[str, ...]:
    """An unchanged run cut to its ends next to the changes (all of it if short)."""
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if len(words) <= keep_head + keep_tail + 3:
        return words
    return (*words[:keep_head], "…", *words[len(words) - keep_tail:])


def render(pieces: list[Piece], *, color: bool, context: int = CONTEXT) -> str:
    """The word diff as text: coloured or with ``[-…-]``/``{+…+}`` markers."""
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if piece.op == "equal":
            words = elide(piece.words, first=index == 0, last=index == len(pieces) - 1, context=context)
            parts.append(inert(join(words)))
            continue
        changed = list(piece.words)
        before = after = ""
        while changed and changed[0] == "\n":
            before, changed = before + "\n", changed[1:]
        while changed and changed[-1] == "\n":
            after, changed = after + "\n", changed[:-1]
        text = inert(join(changed))
        if color:
            style = {"fg": "red", "strikethrough": True} if piece.op == "delete" else {"fg": "green", "bold": True}
            marked = click.style(text, **style)  # type: ignore[arg-type]
        else:
            marked = f"[-{text}-]" if piece.op == "delete" else f"{{+{text}+}}"
        parts.append(before + marked + after)
    out = ""
    for part in parts:
        if out and not out.endswith("\n") and not part.startswith("\n"):
            out += " "
        out += part
    return out


def field_changes(old: Content, new: Content) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` for every changed field but the text (shown as a word diff)."""
    def shown(content: Content, name: str) -> str:
        value = getattr(content.normalised(), name)
        return value.isoformat() if hasattr(value, "isoformat") else (value or "—")

    return [(name, shown(old, name), shown(new, name))
            for name in old.changed_fields(new) if name != "text" and name in CONTENT_FIELDS]


DIFF_COLUMNS = ("article_id", "from_version", "to_version", "field", "before", "after")


def diff_rows(old: StoredVersion, new: StoredVersion) -> list[tuple[Any, ...]]:
    """One row per changed field of ``old`` → ``new`` (DIFF_COLUMNS), values as stored."""
    if old.content_hash == new.content_hash:
        return []
    return [(old.article_id, old.version, new.version, name, getattr(old.content, name), getattr(new.content, name))
            for name in old.content.changed_fields(new.content) if name in CONTENT_FIELDS]


@click.command("diff")
@click.argument("article")
@click.option("--from", "from_version", type=int, help="Older version number (default: the one before --to).")
@click.option("--to", "to_version", type=int, help="Newer version number (default: the latest).")
@format_option
@click.pass_obj
def command(app: AppContext, article: str, from_version: int | None, to_version: int | None, fmt: str) -> None:
    """Show what changed between two versions of ARTICLE (its id or URL).

    --format table (the default) shows the changed fields and a word diff of the text; csv and json
    give one row per changed field (field, before, after; the text whole).

    \b
    Example:
      tgwatch diff 42
      tgwatch diff https://tuyengiao.vn/some-report-139001 --from 1 --to 3
      tgwatch diff 42 --format json
    """
    versions = {v.version: v for v in app.archive().article_versions(article)}
    if not versions:
        raise InputError(article, "no such article in the archive (give its id or URL)")
    latest = max(versions)
    if len(versions) == 1 and from_version is None:
        raise InputError(article, "has one version only: nothing to compare yet")
    to_version = latest if to_version is None else to_version
    from_version = to_version - 1 if from_version is None else from_version
    for number in (to_version, from_version):
        if number not in versions:
            known = ", ".join(map(str, sorted(versions)))
            raise InputError(article, f"no version {number} (versions: {known})")
    old, new = versions[from_version], versions[to_version]
    if fmt != "table":
        render_rows(DIFF_COLUMNS, diff_rows(old, new), fmt)
        return
    color = is_terminal()
    echo(f"article {old.article_id}: {new.content.title}")
    click.echo(f"version {old.version} ({old.fetched_at.isoformat()}) → version {new.version} "
               f"({new.fetched_at.isoformat()})")
    if old.content_hash == new.content_hash:
        click.echo("no difference")
        return
    from monitor.anatomy import lines
    from storage.anatomy import analyse

    for text in lines(analyse(old.content, new.content)):
        echo(text)
    for name, before, after in field_changes(old.content, new.content):
        echo(f"{name}: {before} → {after}")
    if old.content.normalised().text != new.content.normalised().text:
        click.echo("text:")
        click.echo(render(word_diff(old.content.text, new.content.text), color=color))
