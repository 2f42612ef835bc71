"""A one-line progress bar with an ETA on stderr, drawn only when stderr is a terminal
(so logs and pipes stay clean)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """``[#####.....] 12/32 ETA 0:41 label``; call it with (done, total[, label])."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.start = time.monotonic()

    def __call__(self, done: int, total: int, label: str = "") -> None:
        if not self.enabled or not total:
            return
        filled = WIDTH * done // total
        elapsed = time.monotonic() - self.start
        remaining = int(elapsed / done * (total - done)) if done else 0
        self.stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total} "
                          f"ETA {remaining // 60}:{remaining % 60:02d} {label[:40]:<40}")
        if done == total:
            self.stream.write("\r" + " " * (WIDTH + 70) + "\r")
        self.stream.flush()
