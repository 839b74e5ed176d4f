"""One line per event: what the daemon did, for which site and which run.

The daemon runs unattended for weeks, so its log is read by ``grep`` and by log shippers, not by a
person watching a terminal. Every event is one line with a stable event name and ``key=value``
fields (``--log-format text``), or one JSON object per line (``--log-format json``) with the same
names. Use ``log_event`` instead of formatting messages by hand so that both formats stay in step.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any, TextIO

from storage.content import VN_TZ

LOGGER_NAME = "tgwatch"
LOG_FORMATS = ("text", "json")
_FIELDS = "tgwatch_fields"
_EVENT = "tgwatch_event"


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, *, exc_info: bool = False, **fields: Any
) -> None:
    """Log ``event`` (a dotted name such as ``crawl.finished``) with its fields, in one line;
    ``exc_info``: with the exception being handled, traceback included."""
    if not logger.isEnabledFor(level):
        return
    shown = {key: value for key, value in fields.items() if value is not None}
    logger.log(level, event, exc_info=exc_info, extra={_EVENT: event, _FIELDS: shown})


def _value(value: Any) -> str:
    """A field value for the text format: quoted only when it would break the line apart."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    text = str(value).replace("\n", " | ")
    if not text or any(c in text for c in ' "='):
        return json.dumps(text, ensure_ascii=False)
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _now(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, VN_TZ).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <event> key=value ...``; foreign records keep their message."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, _EVENT, None) or f"{record.name}: {record.getMessage()}"
        fields = getattr(record, _FIELDS, {})
        parts = [_now(record), record.levelname, event.replace("\n", " | ")]
        parts += [f"{key}={_value(value)}" for key, value in fields.items()]
        if record.exc_info:
            exc = record.exc_info[1]
            parts.append(f"exception={_value(f'{type(exc).__name__}: {exc}')}")
            parts.append(f"traceback={_value(self.formatException(record.exc_info))}")  # " | " between lines
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``event`` and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, _EVENT, None)
        line: dict[str, Any] = {"time": _now(record), "level": record.levelname.lower()}
        if event is None:
            line.update(event="log", logger=record.name, message=record.getMessage())
        else:
            line["event"] = event
        line.update({key: _jsonable(value) for key, value in getattr(record, _FIELDS, {}).items()})
        if record.exc_info:
            exc = record.exc_info[1]
            line["exception"] = f"{type(exc).__name__}: {exc}"
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO, stream: TextIO | None = None) -> logging.Logger:
    """Route tgwatch's and the libraries' records to ``stream`` (stderr) in one format.

    APScheduler and Apprise are kept at WARNING: the daemon reports what they did as its own
    events, and their INFO lines (one per job submission) would drown the log.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    for noisy in ("apscheduler", "apprise"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return logger
