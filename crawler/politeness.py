"""Politeness for a whole fleet: one site's request rate and concurrency, and its robots.txt,
shared by every worker through Redis (only in a worker: TGWATCH_REDIS set).

Scrapy's own limits (DOWNLOAD_DELAY, CONCURRENT_REQUESTS_PER_DOMAIN, AutoThrottle) hold per
process; three workers would hit a site three times as hard. ``FleetPolitenessMiddleware``
makes each request first take one of the site's concurrency slots (a sorted set of holders with
an expiry, so a killed worker's slots free themselves), then take the site's next free instant
(it moves on by 1/rate from the moment it is taken; a request that finds it ahead waits and asks
again, so one that wakes late never sends close behind the next), each a Lua step on Redis's own
clock, so the machines' clocks do not matter. The limits are the
site's ``rate``/``concurrency`` in the config, else 1/DOWNLOAD_DELAY and
CONCURRENT_REQUESTS_PER_DOMAIN.

``FleetRobotsTxtMiddleware`` is Scrapy's ``RobotsTxtMiddleware`` whose robots.txt bodies are
kept in Redis for TGWATCH_ROBOTS_PERIOD: one worker fetches a host's robots.txt (under a lock),
the others read it, and it is fetched again once the period is over.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.fleet import REDIS_DOWN, frontier_from_settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

    from crawler.frontier import Frontier

logger = logging.getLogger(__name__)

_SLOT = """
-- KEYS: slots;  ARGV: limit, holder, seconds held at most.  1 if the holder got a slot.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.6f', now + tonumber(ARGV[3])), ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
return 1
"""

_TAKE = """
-- KEYS: next;  ARGV: seconds between requests.  '0' if the request may go now (the site's next
-- free instant moves on), else the seconds until that instant (nothing taken: ask again then)
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < at then return string.format('%.6f', at - now) end
redis.call('SET', KEYS[1], string.format('%.6f', now + tonumber(ARGV[1])), 'EX', 3600)
return '0'
"""


class FleetPolitenessMiddleware:
    """The site's rate and concurrency for the whole fleet (see the module docstring)."""

    def __init__(self, crawler: Crawler, frontier: Frontier, site: str, rate: float | None, concurrency: int) -> None:
        self.crawler = crawler
        self.frontier = frontier
        self.interval = 1.0 / rate if rate else 0.0
        self.concurrency = concurrency
        self.hold = crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + 30.0
        self.slots = frontier.key("site", site, "slots")
        self.next = frontier.key("site", site, "next")
        self._slot = frontier.redis.register_script(_SLOT)
        self._take = frontier.redis.register_script(_TAKE)
        self.holder = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.get("TGWATCH_REDIS"):
            raise NotConfigured("only a fleet worker shares its politeness")
        profile = getattr(crawler.spidercls, "profile", None)
        if profile is None:
            raise NotConfigured("not a site spider")
        delay = settings.getfloat("DOWNLOAD_DELAY")
        rate = profile.rate if profile.delay is not None else (1.0 / delay if delay > 0 else None)
        concurrency = profile.concurrency or settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        return cls(crawler, frontier_from_settings(settings), crawler.spidercls.name, rate, concurrency)

    async def process_request(self, request: Request) -> None:
        if "tgwatch_slot" in request.meta:
            return
        self.count += 1
        holder = f"{self.holder}:{self.count}"
        while not await self._call(lambda: self._slot(keys=[self.slots], args=[self.concurrency, holder, self.hold])):
            await sleep(0.05)
        request.meta["tgwatch_slot"] = holder
        while self.interval:  # a send time is taken when it comes, never booked ahead: a worker
            # that wakes late (a busy machine) sends late, it does not bunch up with the next one
            wait = float(str(await self._call(lambda: self._take(keys=[self.next], args=[self.interval]))))
            if wait <= 0:
                break
            await sleep(wait)

    async def _call(self, step: object) -> object:
        """A Redis step, retried while Redis is away (the request waits, it is not dropped)."""
        while True:
            try:
                return step()  # type: ignore[operator]
            except REDIS_DOWN as exc:
                logger.warning("politeness: Redis unreachable (%s); waiting", exc)
                await sleep(1.0)

    def _release(self, request: Request) -> None:
        holder = request.meta.pop("tgwatch_slot", None)
        if holder is not None:
            try:
                self.frontier.redis.zrem(self.slots, holder)
            except REDIS_DOWN:
                pass  # the slot expires by itself

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)


class FleetRobotsTxtMiddleware(RobotsTxtMiddleware):
    """``RobotsTxtMiddleware`` with robots.txt shared by the fleet and fetched once per period."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        if not settings.get("TGWATCH_REDIS"):
            raise NotConfigured("only a fleet worker shares robots.txt")
        self.frontier = frontier_from_settings(settings)
        self.period = settings.getfloat("TGWATCH_ROBOTS_PERIOD")
        self._read_at: dict[str, float] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        read = self._read_at.get(netloc)
        if read is not None and time.time() - read > self.period and not isinstance(self._parsers.get(netloc),
                                                                                    Deferred):
            del self._parsers[netloc]  # the period is over: the fleet's copy (or a new fetch)
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            self._read_at[netloc] = time.time()
            body = await self._shared_body(request, netloc)
            rp: RobotParser | None = None
            if body is not None:
                rp = build_from_crawler(self._parserimpl, self.crawler, body)
            waiting = self._parsers[netloc]
            self._parsers[netloc] = rp
            assert isinstance(waiting, Deferred)
            waiting.callback(rp)
        return await super().robot_parser(request)

    async def _shared_body(self, request: Request, netloc: str) -> bytes | None:
        """The host's robots.txt from Redis, fetched by this worker when no fresh copy is there."""
        key = self.frontier.key("robots", netloc)
        lock = f"{key}:lock"
        redis = self.frontier.redis
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                kept = redis.hgetall(key)
                if kept and time.time() - float(kept["at"]) <= self.period:  # type: ignore[index]
                    return None if kept.get("allow_all") == "1" else str(kept["body"]).encode()  # type: ignore[union-attr,index]
                if redis.set(lock, str(os.getpid()), nx=True, ex=60):
                    break
            except REDIS_DOWN:
                pass
            await sleep(0.1)
        body = await self._fetch(request, netloc)
        try:
            mapping: dict[str | bytes, str | bytes] = {
                "at": str(time.time()), "allow_all": "1" if body is None else "0",
                "body": (body or b"").decode("utf-8", "replace")}
            redis.hset(key, mapping=mapping)  # type: ignore[arg-type]
            redis.expire(key, int(self.period * 2) + 60)
            redis.delete(lock)
        except REDIS_DOWN:
            pass
        return body

    async def _fetch(self, request: Request, netloc: str) -> bytes | None:
        """robots.txt of the host; None (everything allowed) when it cannot be had."""
        url = urlparse_cached(request)
        robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                         meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
        self._stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots)
        except IgnoreRequest:
            return None
        except Exception as exc:
            logger.warning("robots.txt of %s not fetched: %s", netloc, exc)
            return None
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        return response.body if response.status == 200 else None
