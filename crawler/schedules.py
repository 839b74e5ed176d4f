"""Schedule strings: the one parser, used by the config loader (at load) and by the daemon.

A schedule is "every N seconds|minutes|hours|days" or a crontab line. The config loader checks a
site's schedule with ``make_trigger`` itself, so a line the daemon would reject fails when the
config is read, once, with the site named, not later in the daemon. APScheduler is imported when a
schedule is parsed, not by every module that reads the config.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import TYPE_CHECKING

from storage.errors import ConfigError

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

JITTER_SHARE = 0.1
"""An interval's jitter is at most this share of the interval, so "every 2 seconds" stays 2 s."""

_EVERY = re.compile(r"^every\s+(\d+)\s+(second|minute|hour|day)s?$", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def make_trigger(schedule: str, jitter: float, timezone: tzinfo) -> BaseTrigger:
    """An APScheduler trigger for "every N seconds|minutes|hours|days" or a crontab line."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    text = " ".join(schedule.split())
    every = _EVERY.match(text)
    if every:
        seconds = int(every.group(1)) * _UNIT_SECONDS[every.group(2).lower()]
        if seconds <= 0:
            raise ConfigError(schedule, "a schedule interval must be at least 1 second")
        shaken = round(min(jitter, seconds * JITTER_SHARE), 3) or None
        return IntervalTrigger(seconds=seconds, timezone=timezone, jitter=shaken)
    try:
        trigger = CronTrigger.from_crontab(text, timezone=timezone)
    except ValueError as exc:
        raise ConfigError(schedule, f"not 'every N seconds|minutes|hours' nor a crontab line ({exc})") from None
    trigger.jitter = round(jitter, 3) or None
    return trigger
