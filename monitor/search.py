"""``tgwatch search``: full-text search over the latest versions, diacritics ignored."""

from __future__ import annotations

import click

from monitor.context import AppContext
from monitor.output import format_option, render

COLUMNS = ["article_id", "site", "published_at", "title", "url", "snippet"]


@click.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--site", help="Only this site.")
@click.option("--limit", type=int, default=20, show_default=True, help="Most results.")
@format_option
@click.pass_obj
def command(app: AppContext, words: tuple[str, ...], site: str | None, limit: int, fmt: str) -> None:
    """Find articles whose latest version holds every one of WORDS.

    Diacritics and case are ignored: "tuyen giao" finds "Tuyên giáo", "dang" finds "Đảng".

    \b
    Example:
      tgwatch search tuyen giao --site tuyengiao
      tgwatch search "báo cáo viên" --format json
    """
    hits = app.archive().search(" ".join(words), site=site, limit=limit)
    rows = [(h.article_id, h.site, h.published_at, h.title, h.url, h.snippet) for h in hits]
    render(COLUMNS, rows, fmt)
