"""Whether a process still exists: dependency-free, so the extraction workers (``crawler.lifeline``,
which import no SQLAlchemy) and the archive's run bookkeeping (``storage.runs``) share one test."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
