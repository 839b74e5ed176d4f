"""The shared crawl frontier in Redis: what every worker takes its requests from.

Plain Redis data structures and Lua scripts (each script is one atomic step), no Scrapy; the
Scrapy side is ``crawler.fleet`` (a scrapy-redis scheduler and queue over this). Per site::

    P:site:S:queue     sorted set  entry (JSON) -> -priority * 1e13 + sequence: what is waiting
    P:site:S:inflight  sorted set  lease id -> visibility deadline: what a worker has taken
    P:site:S:leases    hash        lease id -> "score|entry": a taken entry, to give back
    P:site:S:due       sorted set  canonical article URL -> due time (epoch seconds); +inf while the
                                   URL is queued or in flight: a URL is in the frontier at most once
    P:crawl:N          hash        one crawl of one site: site, run, pending, listings, counts
    P:crawl:N:listings set         listing URLs of that crawl (a listing is read once per crawl)
    P:workers          sorted set  worker id -> last heartbeat; P:worker:ID hash: what it says

scrapy-redis keeps its fingerprints in a set that never expires (its issue #84), so a URL checked
once would never be checked again; here the fingerprint carries a due time instead. A taken entry
stays in ``inflight`` until its worker acknowledges it, after the observation is recorded; a
worker that dies stops renewing its leases, and once their deadline passes ``reap`` puts the
entries back in the queue (the visibility time-out of SQS, for Redis).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

INF = "+inf"
PRIORITY_SCALE = 1e13
"""Queue score: -priority * PRIORITY_SCALE + sequence, so equal priorities come out first in, first out."""

_LISTINGS_DONE = """
-- the crawl's last listing is done (or its hold released): queue its sweep (crawler.fleet)
local function listings_done(crawl, queue, seq, sweep)
  if redis.call('HINCRBY', crawl, 'listings_left', -1) == 0 and sweep ~= '' then
    local n = redis.call('INCR', seq)
    redis.call('ZADD', queue, string.format('%.17g', -2e13 + n), sweep)
    redis.call('HINCRBY', crawl, 'pending', 1)
  end
end
"""

_PUSH = """
-- KEYS: queue, due, crawl, listings, seq, checked
-- ARGV: entry, priority, kind (listing | article | recheck), key, max_listings, max_articles, capped ('' or '0')
-- the crawl's own caps (set by open_crawl) win over the pusher's; ARGV[7] = '0' pushes past the caps
local kind = ARGV[3]
local capped = ARGV[7] ~= '0'
if kind == 'listing' then
  if redis.call('SADD', KEYS[4], ARGV[4]) == 0 then return 0 end
  local n = redis.call('HINCRBY', KEYS[3], 'listings', 1)
  local cap = tonumber(redis.call('HGET', KEYS[3], 'max_listings') or ARGV[5])
  if capped and n > cap then
    redis.call('HSET', KEYS[3], 'truncated', 1)
    return 0
  end
  redis.call('HINCRBY', KEYS[3], 'listings_left', 1)
else
  local score = redis.call('ZSCORE', KEYS[2], ARGV[4])
  if score == 'inf' or (kind == 'article' and score) then return 0 end
  local cap = tonumber(redis.call('HGET', KEYS[3], 'max_articles') or ARGV[6])
  if capped and redis.call('HINCRBY', KEYS[3], 'articles', 1) > cap then
    if kind == 'article' then redis.call('HSET', KEYS[3], 'truncated', 1) end
    return 0
  end
  redis.call('ZADD', KEYS[2], '+inf', ARGV[4])
  redis.call('SADD', KEYS[6], ARGV[4])
end
local seq = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[1], string.format('%.17g', -tonumber(ARGV[2]) * 1e13 + seq), ARGV[1])
redis.call('HINCRBY', KEYS[3], 'pending', 1)
return 1
"""

_TAKE = """
-- KEYS: queue, inflight, leases, lease_seq;  ARGV: count, deadline
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #top == 0 then break end
  redis.call('ZREM', KEYS[1], top[1])
  local lease = tostring(redis.call('INCR', KEYS[4]))
  redis.call('HSET', KEYS[3], lease, top[2] .. '|' .. top[1])
  redis.call('ZADD', KEYS[2], ARGV[2], lease)
  table.insert(out, lease)
  table.insert(out, top[1])
end
return out
"""

_RENEW = """
-- KEYS: inflight;  ARGV: deadline, lease...
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i]) end
return n
"""

_GIVE_BACK = """
-- KEYS: queue, inflight, leases;  ARGV: now (expired leases only) or '' (the leases listed), lease...
local leases = {}
if ARGV[1] ~= '' then
  leases = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
else
  for i = 2, #ARGV do table.insert(leases, ARGV[i]) end
end
local n = 0
for _, lease in ipairs(leases) do
  if redis.call('ZREM', KEYS[2], lease) == 1 then
    local held = redis.call('HGET', KEYS[3], lease)
    redis.call('HDEL', KEYS[3], lease)
    if held then
      local bar = string.find(held, '|', 1, true)
      redis.call('ZADD', KEYS[1], tonumber(string.sub(held, 1, bar - 1)), string.sub(held, bar + 1))
      n = n + 1
    end
  end
end
return n
"""

_ACK = _LISTINGS_DONE + """
-- KEYS: inflight, leases, due, crawl, queue, seq
-- ARGV: lease, key ('' for none), due time, entry, sweep entry ('' unless a listing), then counter names
-- and increments
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  -- the lease ran out: done all the same if its entry still waits in the queue (take it out)
  if redis.call('ZREM', KEYS[5], ARGV[4]) == 0 then return -1 end
end
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2]) end
for i = 6, #ARGV, 2 do redis.call('HINCRBY', KEYS[4], ARGV[i], tonumber(ARGV[i + 1])) end
if ARGV[5] ~= '' then listings_done(KEYS[4], KEYS[5], KEYS[6], ARGV[5]) end
return redis.call('HINCRBY', KEYS[4], 'pending', -1)
"""

_SEAL = _LISTINGS_DONE + """
-- KEYS: crawl, queue, seq;  ARGV: sweep entry
listings_done(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'pending', -1)
"""

_SEED = """
-- KEYS: due;  ARGV: key, due time, key, due time...: set unless the URL is in the frontier now
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) ~= 'inf' then
    n = n + redis.call('ZADD', KEYS[1], 'CH', ARGV[i + 1], ARGV[i])
  end
end
return n
"""


@dataclass(frozen=True)
class Entry:
    """One request in the frontier: what to fetch and for which crawl.

    ``kind`` is ``listing`` (a listing or pagination page), ``article`` (a link found on a listing),
    ``recheck`` (a known article the crawl re-checks) or ``sweep`` (no request: once every listing
    of the crawl is read, the re-checks of the articles they stopped showing, ``crawler.fleet``).
    ``nonce`` keeps equal entries distinct.
    """

    kind: str
    url: str
    key: str
    crawl: int
    run: int | None
    priority: int = 0
    depth: int = 0
    nonce: int = 0

    def dumps(self) -> str:
        return json.dumps({"k": self.kind, "u": self.url, "f": self.key, "c": self.crawl, "r": self.run,
                           "p": self.priority, "d": self.depth, "n": self.nonce}, ensure_ascii=False)

    @classmethod
    def loads(cls, data: str | bytes) -> Entry:
        raw = json.loads(data)
        return cls(kind=str(raw["k"]), url=str(raw["u"]), key=str(raw["f"]), crawl=int(raw["c"]),
                   run=None if raw.get("r") is None else int(raw["r"]), priority=int(raw.get("p", 0)),
                   depth=int(raw.get("d", 0)), nonce=int(raw.get("n", 0)))


@dataclass(frozen=True)
class Lease:
    """An entry a worker has taken; ``id`` names it until it is acknowledged or given back."""

    id: str
    site: str
    entry: Entry


@dataclass(frozen=True)
class CrawlState:
    """A crawl as the frontier counts it."""

    id: int
    site: str
    run: int | None
    pending: int
    counts: dict[str, int]
    closed: bool
    started: float = 0.0  # epoch seconds: when it was queued
    truncated: bool = False  # a cap (listing pages, article requests) left part of the site unread

    @property
    def done(self) -> bool:
        return self.pending <= 0


@dataclass(frozen=True)
class SiteFrontier:
    """What ``tgwatch status`` shows of one site's frontier."""

    site: str
    queued: int
    in_flight: int
    due: int
    known: int


class Frontier:
    """The frontier under key prefix ``prefix`` on one Redis server."""

    def __init__(self, client: redis.Redis, prefix: str = "tgwatch") -> None:
        self.redis = client
        self.prefix = prefix
        self._push = client.register_script(_PUSH)
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)
        self._give_back = client.register_script(_GIVE_BACK)
        self._ack = client.register_script(_ACK)
        self._seal = client.register_script(_SEAL)
        self._seed = client.register_script(_SEED)

    @classmethod
    def connect(cls, url: str, prefix: str = "tgwatch", *, timeout: float = 5.0) -> Frontier:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                      decode_responses=True, health_check_interval=10)
        return cls(client, prefix)

    def close(self) -> None:
        self.redis.close()

    # --- keys -------------------------------------------------------------------------------
    def key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def site_keys(self, site: str) -> dict[str, str]:
        names = ("queue", "inflight", "leases", "due", "seq", "lease_seq")
        return {name: self.key("site", site, name) for name in names}

    # --- crawls -------------------------------------------------------------------------------
    def open_crawl(self, site: str, run: int | None, *, max_listings: int | None = None,
                   max_articles: int | None = None) -> int:
        """A new crawl of ``site``, held open (``pending`` 1, ``listings_left`` 1) until ``seal`` so
        that it cannot be done, nor its listings, before everything it starts with is queued. Its
        caps (listing pages, article requests) hold for the whole crawl, whichever worker pushes."""
        crawl = int(self.redis.incr(self.key("crawl_seq")))
        pipe = self.redis.pipeline()
        pipe.hset(self.key("crawl", crawl), mapping={"site": site, "run": "" if run is None else run, "pending": 1,
                                                     "listings_left": 1, "started": time.time()})
        for name, cap in (("max_listings", max_listings), ("max_articles", max_articles)):
            if cap is not None:
                pipe.hset(self.key("crawl", crawl), name, cap)
        pipe.sadd(self.key("crawls"), crawl)
        pipe.execute()
        return crawl

    def seal(self, crawl: int) -> int:
        """Release the holds of ``open_crawl``; returns what is still pending."""
        state = self.crawl_state(crawl)
        if state is None:
            raise LookupError(f"no crawl {crawl} in the frontier")
        site = state.site
        sweep = Entry("sweep", "", "", crawl, state.run).dumps()
        keys = [self.key("crawl", crawl), self.site_keys(site)["queue"], self.site_keys(site)["seq"]]
        return int(self._seal(keys=keys, args=[sweep]))

    def crawl_state(self, crawl: int) -> CrawlState | None:
        raw: dict[str, str] = self.redis.hgetall(self.key("crawl", crawl))  # type: ignore[assignment]
        if not raw:
            return None
        counts = {name: int(value) for name, value in raw.items() if name.startswith("tgwatch/")}
        return CrawlState(crawl, raw["site"], int(raw["run"]) if raw.get("run") else None, int(raw["pending"]),
                          counts, bool(raw.get("closed")), float(raw.get("started") or 0),
                          bool(raw.get("truncated")))

    def claim_close(self, crawl: int) -> bool:
        """True for the one caller that gets to close a finished crawl (its ``crawl_runs`` row)."""
        won = bool(self.redis.hsetnx(self.key("crawl", crawl), "closed", str(time.time())))
        if won:
            self.redis.srem(self.key("crawls"), crawl)
            for part in ("listings", "pages", "failed", "checked"):
                self.redis.expire(self.key("crawl", crawl, part), 3600)
            self.redis.expire(self.key("crawl", crawl), 7 * 24 * 3600)
        return won

    def open_crawls(self) -> list[CrawlState]:
        states = (self.crawl_state(int(c)) for c in self.redis.smembers(self.key("crawls")))  # type: ignore[union-attr]
        return sorted((s for s in states if s is not None), key=lambda s: s.id)

    # --- requests -------------------------------------------------------------------------------
    def push(self, site: str, entry: Entry, *, max_listings: int = 1_000_000, max_articles: int = 1_000_000_000,
             capped: bool = True) -> bool:
        """Queue ``entry`` unless it is already in the frontier (an article URL queued or in
        flight, or known and left to the re-checks; a listing read in this crawl) or its crawl's
        cap is reached (the crawl's own caps, else ``max_listings``/``max_articles``; ``capped``
        False: none). One step."""
        keys = self.site_keys(site)
        crawl = self.key("crawl", entry.crawl)
        result = self._push(keys=[keys["queue"], keys["due"], crawl, f"{crawl}:listings", keys["seq"],
                                  f"{crawl}:checked"],
                            args=[entry.dumps(), entry.priority, entry.kind, entry.key, max_listings, max_articles,
                                  "1" if capped else "0"])
        return bool(result)

    def take(self, site: str, count: int, visibility: float) -> list[Lease]:
        """Take up to ``count`` entries, the highest priority first; each is leased until
        ``visibility`` seconds from now (``renew`` extends it)."""
        keys = self.site_keys(site)
        raw = self._take(keys=[keys["queue"], keys["inflight"], keys["leases"], keys["lease_seq"]],
                         args=[count, time.time() + visibility])
        return [Lease(str(raw[i]), site, Entry.loads(raw[i + 1])) for i in range(0, len(raw), 2)]

    def renew(self, site: str, leases: Iterable[str], visibility: float) -> int:
        leases = list(leases)
        if not leases:
            return 0
        return int(self._renew(keys=[self.site_keys(site)["inflight"]], args=[time.time() + visibility, *leases]))

    def give_back(self, site: str, leases: Iterable[str]) -> int:
        """Return leased entries to the queue now (a worker stopping with requests not started)."""
        leases = list(leases)
        if not leases:
            return 0
        keys = self.site_keys(site)
        return int(self._give_back(keys=[keys["queue"], keys["inflight"], keys["leases"]], args=["", *leases]))

    def reap(self, site: str) -> int:
        """Return entries whose lease ran out (their worker died or hangs) to the queue."""
        keys = self.site_keys(site)
        return int(self._give_back(keys=[keys["queue"], keys["inflight"], keys["leases"]], args=[time.time()]))

    def ack(self, lease: Lease, *, due: float | None, counts: Mapping[str, int]) -> int | None:
        """The leased entry is done: its observation is recorded. The URL's due time becomes
        ``due`` (None: leave it, e.g. for a listing); ``counts`` go to its crawl. Returns what
        the crawl still has pending, or None when the lease had run out and was given back
        and taken again by another worker (who will count it; recording is idempotent)."""
        keys = self.site_keys(lease.site)
        entry = lease.entry
        key = entry.key if entry.kind not in ("listing", "sweep") and due is not None else ""
        sweep = Entry("sweep", "", "", entry.crawl, entry.run).dumps() if entry.kind == "listing" else ""
        args: list[Any] = [lease.id, key, due if due is not None else 0, entry.dumps(), sweep]
        for name, value in counts.items():
            args += [name, value]
        crawl = self.key("crawl", entry.crawl)
        left = int(self._ack(keys=[keys["inflight"], keys["leases"], keys["due"], crawl, keys["queue"], keys["seq"]],
                             args=args))
        return None if left == -1 else left

    # --- what a crawl's listing pages showed (stored by the workers, judged when it is done) ---------
    def note_listing(self, crawl: int, url: str, kind: str, articles: Iterable[str], read_at: str) -> None:
        """Listing page ``url`` of ``crawl`` read (at ``read_at``, ISO time) with ``articles`` in
        page order; a later read of the same page (a lease that ran out) replaces it."""
        page = json.dumps({"k": kind, "a": list(articles), "t": read_at}, ensure_ascii=False)
        self.redis.hset(self.key("crawl", crawl, "pages"), url, page)

    def note_failed(self, crawl: int, url: str) -> None:
        self.redis.sadd(self.key("crawl", crawl, "failed"), url)

    def note_truncated(self, crawl: int) -> None:
        self.redis.hset(self.key("crawl", crawl), "truncated", 1)

    def listing_pages(self, crawl: int) -> tuple[dict[str, tuple[str, list[str], str]], set[str]]:
        """The listing pages ``crawl`` read (url: kind, articles, read_at) and those it could not read."""
        raw: dict[str, str] = self.redis.hgetall(self.key("crawl", crawl, "pages"))  # type: ignore[assignment]
        pages = {}
        for url, data in raw.items():
            page = json.loads(data)
            pages[url] = (str(page["k"]), [str(a) for a in page["a"]], str(page["t"]))
        failed = {str(u) for u in self.redis.smembers(self.key("crawl", crawl, "failed"))}  # type: ignore[union-attr]
        return pages, failed - set(pages)

    def checked(self, crawl: int) -> set[str]:
        """Article URLs this crawl has queued for a check."""
        return {str(u) for u in self.redis.smembers(self.key("crawl", crawl, "checked"))}  # type: ignore[union-attr]

    def seed(self, site: str, due: Mapping[str, float]) -> int:
        """Set the due time of known article URLs (those not in the frontier right now)."""
        items = [part for key, when in due.items() for part in (key, when)]
        done = 0
        for start in range(0, len(items), 1000):
            done += int(self._seed(keys=[self.site_keys(site)["due"]], args=items[start:start + 1000]))
        return done

    def due_time(self, site: str, key: str) -> float | None:
        score = self.redis.zscore(self.site_keys(site)["due"], key)
        return None if score is None else float(score)  # type: ignore[arg-type]

    # --- workers and status -------------------------------------------------------------------
    def heartbeat(self, worker: str, info: Mapping[str, Any]) -> None:
        pipe = self.redis.pipeline()
        pipe.zadd(self.key("workers"), {worker: time.time()})
        pipe.hset(self.key("worker", worker), mapping={k: str(v) for k, v in info.items()})
        pipe.expire(self.key("worker", worker), 24 * 3600)
        pipe.execute()

    def leave(self, worker: str) -> None:
        self.redis.zrem(self.key("workers"), worker)
        self.redis.delete(self.key("worker", worker))

    def workers(self, alive_within: float) -> list[tuple[str, float, dict[str, str]]]:
        """(worker id, seconds since its last heartbeat, what it said) of live workers."""
        now = time.time()
        out = []
        beats: list[tuple[str, float]] = self.redis.zrangebyscore(  # type: ignore[assignment]
            self.key("workers"), now - alive_within, "+inf", withscores=True)
        for worker, beat in beats:
            info: dict[str, str] = self.redis.hgetall(self.key("worker", worker))  # type: ignore[assignment]
            out.append((str(worker), max(0.0, now - float(beat)), info))
        return out

    def site_status(self, site: str) -> SiteFrontier:
        keys = self.site_keys(site)
        pipe = self.redis.pipeline()
        pipe.zcard(keys["queue"])
        pipe.zcard(keys["inflight"])
        pipe.zcount(keys["due"], "-inf", time.time())
        pipe.zcard(keys["due"])
        queued, in_flight, due, known = pipe.execute()
        return SiteFrontier(site, int(queued), int(in_flight), int(due), int(known))

    def sites(self) -> list[str]:
        """Sites that have anything in the frontier."""
        found = set()
        for key in self.redis.scan_iter(match=self.key("site", "*", "due"), count=500):
            found.add(str(key)[len(self.key("site", "")):-len(":due")])
        for key in self.redis.scan_iter(match=self.key("site", "*", "queue"), count=500):
            found.add(str(key)[len(self.key("site", "")):-len(":queue")])
        return sorted(found)

    def clear(self) -> None:
        """Delete every key under the prefix (tests; a frontier started over)."""
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.redis.delete(key)


def epoch(when: Any) -> float:
    """A datetime (aware) or a number as epoch seconds; +inf stays +inf."""
    if isinstance(when, (int, float)):
        return float(when) if math.isfinite(when) else math.inf
    return float(when.timestamp())
