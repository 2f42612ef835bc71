"""Worker processes that cannot outlive the process that started them.

A ``ProcessPoolExecutor`` worker blocks on its call queue, whose pipe every forked sibling
keeps open: if the parent is killed (SIGKILL, the OOM killer) nothing tells the workers,
and they would wait forever — holding the parent's stdout open, too. Linux can deliver a
signal to a child when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere this is a
no-op and such workers end with their pool as usual.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """In a worker: be killed when the parent (``parent_pid``) dies; exit at once if it
    already has (it may die between the fork and this call)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            return
    if os.getppid() != parent_pid:
        os._exit(1)
