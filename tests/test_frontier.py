"""The shared frontier's data structures on the real Redis (a key prefix of each test's own):
a URL is in the frontier at most once at a time, comes back when due, a lease that runs out
gives its entry back, and a crawl counts down to done."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from crawler.frontier import Entry, Frontier
from tests.fleet_helpers import frontier_of

SITE = "s"


@pytest.fixture
def frontier(redis_url: str) -> Iterator[Frontier]:
    with frontier_of(redis_url) as frontier:
        yield frontier


def article(url: str, crawl: int, kind: str = "article") -> Entry:
    return Entry(kind, url, url, crawl, run=7)


def test_a_url_is_in_the_frontier_once_and_comes_back_when_due(frontier: Frontier) -> None:
    crawl = frontier.open_crawl(SITE, run=7)
    assert frontier.push(SITE, article("https://x.vn/a-1", crawl))
    assert not frontier.push(SITE, article("https://x.vn/a-1", crawl))  # queued: found again on a listing
    assert not frontier.push(SITE, article("https://x.vn/a-1", crawl, "recheck"))  # queued: no re-check either
    [lease] = frontier.take(SITE, 5, visibility=30)
    assert lease.entry.url == "https://x.vn/a-1" and frontier.site_status(SITE).in_flight == 1
    assert not frontier.push(SITE, article("https://x.vn/a-1", crawl, "recheck"))  # in flight
    assert frontier.ack(lease, due=time.time() + 3600, counts={"tgwatch/verdict/new": 1}) == 1  # the hold
    assert not frontier.push(SITE, article("https://x.vn/a-1", crawl))  # known: discovery leaves it alone
    status = frontier.site_status(SITE)
    assert (status.queued, status.in_flight, status.due, status.known) == (0, 0, 0, 1)
    frontier.seed(SITE, {"https://x.vn/a-1": time.time() - 1})  # the policy says: due now
    assert frontier.site_status(SITE).due == 1
    assert frontier.push(SITE, article("https://x.vn/a-1", crawl, "recheck"))  # back when due
    assert frontier.due_time(SITE, "https://x.vn/a-1") == float("inf")
    frontier.seed(SITE, {"https://x.vn/a-1": 0})  # seeding never touches a URL in the frontier
    assert frontier.due_time(SITE, "https://x.vn/a-1") == float("inf")
    assert frontier.seal(crawl) == 2  # the re-check, and the sweep (the crawl reads no listing)
    state = frontier.crawl_state(crawl)
    assert state is not None and state.counts == {"tgwatch/verdict/new": 1} and not state.done


def test_a_lease_that_runs_out_gives_its_entry_back(frontier: Frontier) -> None:
    crawl = frontier.open_crawl(SITE, run=None)
    for n in range(3):
        frontier.push(SITE, article(f"https://x.vn/a-{n}", crawl))
    taken = frontier.take(SITE, 2, visibility=0.3)
    assert [lease.entry.url for lease in taken] == ["https://x.vn/a-0", "https://x.vn/a-1"]  # first in, first out
    frontier.renew(SITE, [taken[1].id], visibility=30)  # its worker is alive; the other's is not
    time.sleep(0.4)
    assert frontier.reap(SITE) == 1
    again = frontier.take(SITE, 5, visibility=30)
    assert sorted(lease.entry.url for lease in again) == ["https://x.vn/a-0", "https://x.vn/a-2"]
    assert frontier.ack(taken[0], due=0, counts={}) is None  # too late: another worker has it now
    for lease in again:
        frontier.ack(lease, due=0, counts={"tgwatch/pages": 1})
    assert frontier.ack(taken[1], due=0, counts={"tgwatch/pages": 1}) == 1  # the hold of open_crawl
    assert frontier.seal(crawl) == 1  # its listings are done (it has none): the sweep is queued
    [sweep] = frontier.take(SITE, 5, visibility=30)
    assert sweep.entry.kind == "sweep" and sweep.entry.crawl == crawl
    assert frontier.ack(sweep, due=None, counts={}) == 0
    state = frontier.crawl_state(crawl)
    assert state is not None and state.done and state.counts == {"tgwatch/pages": 3}
    assert frontier.claim_close(crawl) and not frontier.claim_close(crawl)  # booked once


def test_a_late_ack_still_counts_when_its_entry_waits(frontier: Frontier) -> None:
    crawl = frontier.open_crawl(SITE, run=None)
    frontier.push(SITE, article("https://x.vn/a-1", crawl))
    [lease] = frontier.take(SITE, 1, visibility=0.1)
    time.sleep(0.2)
    assert frontier.reap(SITE) == 1
    assert frontier.ack(lease, due=0, counts={"tgwatch/pages": 1}) == 1  # done, and out of the queue
    assert frontier.take(SITE, 1, visibility=30) == []


def test_listings_are_read_once_per_crawl_and_given_back_on_stop(frontier: Frontier) -> None:
    first, second = frontier.open_crawl(SITE, run=1), frontier.open_crawl(SITE, run=2)
    listing = Entry("listing", "https://x.vn/tin?page=2", "https://x.vn/tin?page=2", first, 1)
    assert frontier.push(SITE, listing)
    assert not frontier.push(SITE, listing)
    assert frontier.push(SITE, Entry("listing", listing.url, listing.key, second, 2))  # the next crawl reads it
    assert not frontier.push(SITE, Entry("listing", "https://x.vn/tin?page=3", "k3", first, 1), max_listings=1)
    taken = frontier.take(SITE, 5, visibility=30)
    assert frontier.give_back(SITE, [lease.id for lease in taken]) == 2
    assert frontier.site_status(SITE).queued == 2 and frontier.site_status(SITE).in_flight == 0


def test_a_crawl_sweeps_once_when_its_last_listing_is_done(frontier: Frontier) -> None:
    """The sweep (re-checks of what the listings stopped showing) is queued once, when the last
    listing of the crawl is done, never while one is still to read; then the crawl can end."""
    crawl = frontier.open_crawl(SITE, run=3)
    frontier.push(SITE, Entry("listing", "https://x.vn/", "https://x.vn/", crawl, 3))
    [home] = frontier.take(SITE, 5, visibility=30)
    frontier.note_listing(crawl, "https://x.vn/", "home", ["https://x.vn/a-1"], "2026-01-01T08:00:00+07:00")
    assert frontier.push(SITE, Entry("listing", "https://x.vn/p2", "https://x.vn/p2", crawl, 3))  # found on it
    assert frontier.ack(home, due=None, counts={"tgwatch/pages": 1}) == 2  # p2 and the hold of open_crawl
    assert frontier.seal(crawl) == 1  # p2 still to read: no sweep yet
    [page2] = frontier.take(SITE, 5, visibility=30)
    frontier.note_failed(crawl, "https://x.vn/p2")
    assert frontier.ack(page2, due=None, counts={}) == 1  # the sweep
    [sweep] = frontier.take(SITE, 5, visibility=30)
    assert sweep.entry.kind == "sweep" and frontier.take(SITE, 5, visibility=30) == []
    assert frontier.listing_pages(crawl) == ({"https://x.vn/": ("home", ["https://x.vn/a-1"],
                                                                "2026-01-01T08:00:00+07:00")}, {"https://x.vn/p2"})
    assert frontier.ack(sweep, due=None, counts={}) == 0
    state = frontier.crawl_state(crawl)
    assert state is not None and state.done and state.counts == {"tgwatch/pages": 1}


def test_a_crawls_caps_hold_for_every_pusher(frontier: Frontier) -> None:
    """TGWATCH_ARTICLE_REQUESTS and TGWATCH_LISTING_PAGES of the crawl (set when it is queued)
    count every push of the crawl, whoever pushes and whatever cap the pusher has; a cap that
    holds back a link or a listing marks the crawl truncated (its listings' reach ends there)."""
    crawl = frontier.open_crawl(SITE, run=None, max_listings=2, max_articles=3)
    assert frontier.push(SITE, article("https://x.vn/a-0", crawl, "recheck"))
    assert not frontier.crawl_state(crawl).truncated  # type: ignore[union-attr]
    for n in range(1, 3):
        assert frontier.push(SITE, article(f"https://x.vn/a-{n}", crawl), max_articles=100)
    assert not frontier.push(SITE, article("https://x.vn/a-1", crawl))  # queued already: not counted
    assert not frontier.push(SITE, article("https://x.vn/a-3", crawl), max_articles=100)  # the fourth
    state = frontier.crawl_state(crawl)
    assert state is not None and state.truncated
    assert frontier.due_time(SITE, "https://x.vn/a-3") is None  # left for the next crawl
    assert frontier.push(SITE, article("https://x.vn/a-4", crawl, "recheck"), capped=False)  # a sweep's re-check
    assert frontier.checked(crawl) == {f"https://x.vn/a-{n}" for n in (0, 1, 2, 4)}
    other = frontier.open_crawl(SITE, run=None, max_articles=1)
    assert frontier.push(SITE, article("https://x.vn/b-0", other))  # another crawl counts its own
    for n in range(3):
        frontier.push(SITE, Entry("listing", f"https://x.vn/p{n}", f"p{n}", crawl, None), max_listings=100)
    assert frontier.crawl_state(crawl).pending == 1 + 4 + 2  # type: ignore[union-attr]  # the hold, a-0..2, a-4, p0, p1
