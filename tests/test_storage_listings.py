"""Listings in the archive: stints recorded only when they change, ``delisted`` and ``relisted``
judged honestly (never on a crawl that failed a listing page, never past the crawl's reach, never
for an article the crawl did not find served), and the front page's hours, on both backends."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from storage.archive import Archive
from storage.content import VN_TZ
from storage.listings import ListingCrawl, ListingPage
from storage.prominence import article_stints, front_page
from storage.readonly import run_query
from storage.vocabulary import ChangeKind
from tests.plugins.archive import at, fetched, gone

HOME, SECTION, PAGE2 = "https://example.vn/", "https://example.vn/thoi-su", "https://example.vn/thoi-su?page=2"


def url(n: int) -> str:
    return f"https://example.vn/bai-{n}"


def check_all(archive: Archive, minutes: float, numbers: range | list[int]) -> None:
    """Every article found served at ``minutes`` (what the crawl's re-checks do)."""
    for n in numbers:
        archive.record("s", url(n), fetched(minutes, url=url(n), title=f"Bài {n}"))


def crawl(minutes: float, pages: dict[str, list[int]], *, failed: tuple[str, ...] = (), truncated: bool = False,
          finished: bool = True) -> ListingCrawl:
    kinds = {HOME: "home", SECTION: "section"}
    read = tuple(ListingPage(u, kinds.get(u, "page"), tuple(url(n) for n in arts), at(minutes + 0.5))
                 for u, arts in pages.items())
    return ListingCrawl("s", at(minutes), at(minutes + 1), read, failed, truncated, finished)


def kinds(archive: Archive) -> list[tuple[str, str]]:
    with archive.engine.connect() as c:
        rows = c.execute(text("SELECT c.kind, a.url FROM changes c JOIN articles a ON a.id = c.article_id "
                              "WHERE c.kind IN ('delisted', 'relisted') ORDER BY c.id")).all()
    return [(k, u.rsplit("-", 1)[1]) for k, u in rows]


def count(archive: Archive, table: str) -> int:
    with archive.engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_unchanged_listings_add_no_rows_and_moves_open_stints(archive: Archive) -> None:
    check_all(archive, 0, range(1, 6))
    archive.record_listings(crawl(0, {HOME: [1, 2, 3], SECTION: [1, 2], PAGE2: [4, 5]}))
    assert count(archive, "listings") == 7
    check_all(archive, 60, range(1, 6))
    archive.record_listings(crawl(60, {HOME: [1, 2, 3], SECTION: [1, 2], PAGE2: [4, 5]}))
    assert count(archive, "listings") == 7  # nothing changed: nothing added
    check_all(archive, 120, range(1, 6))
    archive.record_listings(crawl(120, {HOME: [2, 1, 3], SECTION: [1, 2], PAGE2: [4, 5]}))
    assert count(archive, "listings") == 9  # 1 and 2 swapped on the homepage: two stints closed, two opened
    with archive.reading() as session:
        stints = [(s.page_kind, s.position, s.current) for s in article_stints(session, 1)]
    assert stints == [("home", 1, False), ("section", 1, True), ("home", 2, True)]


def test_pushed_to_page_two_is_not_delisted_dropped_everywhere_is(archive: Archive) -> None:
    check_all(archive, 0, range(1, 6))
    archive.record_listings(crawl(0, {HOME: [1, 2], SECTION: [1, 2], PAGE2: [3, 4, 5]}))
    check_all(archive, 60, range(1, 7))
    verdicts = archive.record_listings(crawl(60, {HOME: [6, 1], SECTION: [6, 1], PAGE2: [2, 3, 4]}))
    assert kinds(archive) == [("delisted", "5")]  # 2 went to page 2: still listed; 5 is nowhere
    assert (verdicts.delisted, verdicts.relisted) == (1, 0)
    check_all(archive, 120, range(1, 7))
    archive.record_listings(crawl(120, {HOME: [6, 1], SECTION: [6, 1], PAGE2: [2, 3, 4]}))
    assert kinds(archive) == [("delisted", "5")]  # said once
    check_all(archive, 180, range(1, 7))
    archive.record_listings(crawl(180, {HOME: [5, 6], SECTION: [6, 1], PAGE2: [2, 3, 4]}))
    assert kinds(archive) == [("delisted", "5"), ("relisted", "5")]


def test_a_failed_or_unfinished_crawl_never_delists(archive: Archive) -> None:
    check_all(archive, 0, range(1, 5))
    archive.record_listings(crawl(0, {HOME: [1, 2], SECTION: [3, 4]}))
    check_all(archive, 60, range(1, 5))
    archive.record_listings(crawl(60, {HOME: [1, 2]}, failed=(SECTION,)))  # the section answered 503
    check_all(archive, 90, range(1, 5))
    archive.record_listings(crawl(90, {HOME: [1, 2]}, finished=False))  # interrupted before the section
    assert kinds(archive) == []
    check_all(archive, 120, range(1, 5))
    archive.record_listings(crawl(120, {HOME: [1, 2], SECTION: [3]}))
    assert kinds(archive) == [("delisted", "4")]  # a complete crawl judges what the failed one could not


def test_only_an_article_found_served_by_the_crawl_is_delisted(archive: Archive) -> None:
    check_all(archive, 0, range(1, 4))
    archive.record_listings(crawl(0, {HOME: [1, 2, 3]}))
    check_all(archive, 60, [1])  # 2 not checked by this crawl
    archive.record("s", url(3), gone(60))  # 3 answered 404: a removal signal, not a de-listing
    archive.record_listings(crawl(60, {HOME: [1]}))
    assert kinds(archive) == []
    archive.record("s", url(3), gone(100))  # removal confirmed
    check_all(archive, 120, [1, 2])
    archive.record_listings(crawl(120, {HOME: [1]}))
    assert kinds(archive) == [("delisted", "2")]  # 3 is removed, not delisted
    with archive.engine.connect() as c:
        states = dict(c.execute(text("SELECT a.url, s.state FROM listing_status s "
                                     "JOIN articles a ON a.id = s.article_id")).all())
    assert states == {url(1): "listed", url(2): "delisted", url(3): "unlisted"}


def test_past_the_reach_of_a_capped_crawl_is_out_of_reach_not_delisted(archive: Archive) -> None:
    check_all(archive, 0, range(1, 8))
    archive.record_listings(crawl(0, {HOME: [1, 2], SECTION: [1, 2, 3], PAGE2: [4, 5, 6, 7]}))
    check_all(archive, 60, range(1, 12))
    # four newer reports pushed 4..7 past page 2, which the cap did not let the crawl read
    verdicts = archive.record_listings(crawl(60, {HOME: [8, 9], SECTION: [8, 9, 10, 11]}, truncated=True))
    assert kinds(archive) == [] and verdicts.out_of_reach >= 4
    check_all(archive, 120, range(1, 12))
    # 10 vanished while 11, listed below it, is still in reach: that is a de-listing, cap or not
    archive.record_listings(crawl(120, {HOME: [8, 9], SECTION: [8, 9, 11, 1]}, truncated=True))
    assert kinds(archive) == [("delisted", "10")]


def test_front_page_hours_in_python_and_in_sql(archive: Archive) -> None:
    check_all(archive, 0, range(1, 4))
    archive.record_listings(crawl(0, {HOME: [1, 2]}))
    check_all(archive, 120, range(1, 4))
    archive.record_listings(crawl(120, {HOME: [3, 1]}))  # 1 demoted, 2 off the homepage after 2 hours
    check_all(archive, 240, range(1, 4))
    archive.record_listings(crawl(240, {HOME: [1, 3]}))  # 1 promoted back, 3 demoted
    with archive.reading() as session:
        found = {p.url: p for p in front_page(session)}
    assert [(round(p.hours, 3), p.best_position, p.position_now) for p in found.values()] == [
        (4.0, 1, 1), (2.0, 1, 2), (2.0, 2, None)]
    assert list(found) == [url(1), url(3), url(2)]
    with archive.engine.connect() as c:
        rows = c.execute(text("SELECT url, sum(hours), min(position) FROM front_page GROUP BY url ORDER BY url")).all()
    assert [(u, round(float(h), 3), p) for u, h, p in rows] == [(url(1), 4.0, 1), (url(2), 2.0, 2), (url(3), 2.0, 1)]
    with archive.reading() as session:
        recent = {p.url: round(p.hours, 3) for p in front_page(session, since=at(180.5))}
    assert recent == {url(1): 1.0, url(3): 1.0}


def test_change_kinds_reach_the_schema(archive: Archive) -> None:
    assert {"delisted", "relisted"} <= {k.value for k in ChangeKind}
    check_all(archive, 0, [1])
    with archive.writing() as session:
        session.execute(text("INSERT INTO changes (article_id, kind, detected_at) VALUES (1, 'delisted', :t)"),
                        {"t": (datetime(2024, 5, 1) + timedelta(hours=1)).isoformat()})


def test_the_readme_front_page_query_runs_read_only(tmp_path: Path) -> None:
    """The README's "by hours on the front page" example, as a user runs it with ``tgwatch sql``."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Reports of the last month by hours on the front page", 1)[1]
    sql = block.split("```sql\n", 1)[1].split("```", 1)[0]
    db = f"sqlite:///{tmp_path / 'a.db'}"
    now = datetime.now(VN_TZ)
    with Archive.open(db) as archive:
        for n in (1, 2):
            archive.record("s", url(n), replace(fetched(0, url=url(n), title=f"Bài {n}"), fetched_at=now))
        read = (ListingPage(HOME, "home", (url(1), url(2)), now - timedelta(hours=3)),)
        archive.record_listings(ListingCrawl("s", now - timedelta(hours=4), now - timedelta(hours=3), read))
        read = (ListingPage(HOME, "home", (url(2),), now),)
        archive.record_listings(ListingCrawl("s", now - timedelta(minutes=1), now, read, finished=False))
    result = run_query(db, sql)
    rows = [(r[1], r[2], r[3], r[4]) for r in result.rows]
    assert rows == [("Bài 2", 3.0, 1, 1), ("Bài 1", 3.0, 1, 0)] or rows == [("Bài 1", 3.0, 1, 0), ("Bài 2", 3.0, 1, 1)]


def test_crawls_closed_at_once_judge_their_listings_once(archive: Archive) -> None:
    """Fleet crawls are closed by whichever processes finish them, maybe several at once, and two
    crawls of one site (two fleets, a fleet and a local crawl) may close together: each run is
    booked once (``close_run``: under the run row's lock) and an article is delisted once."""
    check_all(archive, 0, range(1, 4))
    archive.record_listings(crawl(0, {HOME: [1, 2, 3]}))
    check_all(archive, 60, range(1, 4))
    runs = [archive.start_run("s"), archive.start_run("s")]
    barrier = threading.Barrier(4)
    booked: list[tuple[int, bool]] = []

    def close(run: int) -> None:
        barrier.wait()
        booked.append((run, archive.close_run(run, "ok", {"pages": 1}, crawl(60, {HOME: [1, 2]})) is not None))

    closers = [threading.Thread(target=close, args=(run,)) for run in runs * 2]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()
    assert sorted(booked) == sorted([(runs[0], True), (runs[0], False), (runs[1], True), (runs[1], False)])
    assert kinds(archive) == [("delisted", "3")]
    with archive.engine.connect() as c:
        assert c.execute(text("SELECT outcome, pages FROM crawl_runs")).all() == [("ok", 1), ("ok", 1)]
