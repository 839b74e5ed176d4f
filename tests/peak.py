"""``tgwatch`` in a child process whose own peak memory is measured.

``ru_maxrss`` from ``wait4`` counts the test worker the child was forked from (its pages were the
child's until ``exec``); the kernel's ``VmHWM`` of the child's own address space does not, so the
child reports it on stderr as it exits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REPORT = re.compile(r"\nTGWATCH_PEAK_KB (\d+)\n")
_CHILD = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "    sys.stderr.write('\\nTGWATCH_PEAK_KB ' + line.split()[1] + '\\n')\n"
    "atexit.register(_peak)\n"
    "from monitor.cli import main\n"
    "main(prog_name='tgwatch')\n"
)


def start(*args: str) -> subprocess.Popen[bytes]:
    """``tgwatch ARGS`` started with stdout and stderr piped (cwd: the repository)."""
    return subprocess.Popen([sys.executable, "-c", _CHILD, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def finish(process: subprocess.Popen[bytes], timeout: float = 300) -> tuple[int, str, str, float | None]:
    """Exit code, stdout, stderr (without the report) and peak memory in MB (None if the child
    ended without reporting it, as ``os._exit`` does)."""
    out, err = process.communicate(timeout=timeout)
    text = err.decode(errors="replace")
    found = _REPORT.search(text)
    peak = int(found.group(1)) / 1024 if found else None
    return process.returncode, out.decode(errors="replace"), _REPORT.sub("\n", text), peak
