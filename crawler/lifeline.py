"""A pool worker ends with the process that owns the pool, even one killed with SIGKILL.

Left alone, a ``ProcessPoolExecutor`` worker outlives a killed owner forever: it waits for work on a
pipe whose write end it holds itself, and under the fork server each worker also holds the server's
"alive" pipe, so the server waits for the workers as they wait for work. Each worker therefore
watches its owner from a thread, a pidfd (Linux 5.3+) waking it the moment the owner ends (polling
elsewhere), and exits; the fork server and multiprocessing's resource tracker then end by
themselves, their pipes closed.

Not ``PR_SET_PDEATHSIG``: it follows the parent, and a worker's parent is the fork server (which
outlives the owner, as above) or, under ``spawn``, whichever thread of the owner started it (the
pool starts from a short-lived thread, ``ExtractPipeline.start_pool``), so it fires too late or too
early.
"""

from __future__ import annotations

import os
import select
import threading
import time

from storage.processes import pid_alive

POLL_SECONDS = 0.5
"""How often the owner is looked at where no pidfd can wait for it."""


def hold(owner: int) -> None:
    """End this process as soon as process ``owner`` has ended (a daemon thread watches it)."""
    threading.Thread(target=_watch, args=(owner,), name="tgwatch-lifeline", daemon=True).start()


def _watch(owner: int) -> None:
    try:
        pidfd = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)  # already gone
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        while pid_alive(owner):
            time.sleep(POLL_SECONDS)
    else:
        waiting = select.poll()
        waiting.register(pidfd, select.POLLIN)
        waiting.poll()  # readable once the owner has ended
    os._exit(1)

