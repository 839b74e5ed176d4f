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


MAX_INTERVAL_DAYS = 366
"""Longest "every N ..." interval: a schedule that fires less than once a year is a mistake."""


def make_trigger(schedule: str, jitter: float, timezone: tzinfo) -> BaseTrigger:
    """An APScheduler trigger for "every N seconds|minutes|hours|days" or a crontab line.

    Refused (``ConfigError``, one line) as well as malformed lines: an interval of 0 or of more
    than ``MAX_INTERVAL_DAYS`` days, and a crontab line that never fires ("0 0 31 2 *")."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    text = " ".join(schedule.split())
    every = _EVERY.match(text)
    if every:
        count, unit = int(every.group(1)), every.group(2).lower()
        if count > MAX_INTERVAL_DAYS * 86400:  # no product of absurd sizes, no OverflowError
            raise ConfigError(schedule, f"a schedule interval may be at most {MAX_INTERVAL_DAYS} days")
        seconds = count * _UNIT_SECONDS[unit]
        if seconds <= 0:
            raise ConfigError(schedule, "a schedule interval must be at least 1 second")
        if seconds > MAX_INTERVAL_DAYS * 86400:
            raise ConfigError(schedule, f"a schedule interval may be at most {MAX_INTERVAL_DAYS} days")
        shaken = round(min(jitter, seconds * JITTER_SHARE), 3) or None
        return IntervalTrigger(seconds=seconds, timezone=timezone, jitter=shaken)
    try:
        trigger = CronTrigger.from_crontab(text, timezone=timezone)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(schedule, f"not 'every N seconds|minutes|hours' nor a crontab line ({exc})") from None
    if _never_fires(trigger, timezone):
        raise ConfigError(schedule, "this crontab line never fires (no such date)")
    trigger.jitter = round(jitter, 3) or None
    return trigger


def _never_fires(trigger: BaseTrigger, timezone: tzinfo) -> bool:
    """True when the trigger has no fire time at all (APScheduler looks as far as it can: a leap day fires)."""
    from datetime import datetime

    start = datetime.now(timezone)
    try:
        return trigger.get_next_fire_time(None, start) is None
    except (ValueError, OverflowError):
        return True
