"""Child processes of a test end with the test process, even one killed from outside.

A test's fixture stops its workers and daemons, but a pytest run killed with SIGKILL (a timeout,
an impatient user) runs no cleanup: fleet workers then wait on Redis forever and load the machine
for whatever runs next. ``PR_SET_PDEATHSIG`` asks the kernel to signal the child when the thread
that started it ends; tests start their children from the test's own (main) thread, which lives
as long as the test process. It survives ``exec`` (``taskset`` then Python).
"""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1

try:  # looked up before any fork: the child only calls it
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def end_with_parent() -> None:
    """``preexec_fn`` of a test's child: SIGTERM when the test process ends (Linux; elsewhere nothing)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
