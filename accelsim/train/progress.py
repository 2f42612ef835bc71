"""Progress output of ``accelsim train`` on stderr: a bar redrawn in place on a terminal,
one summary line per epoch always (so logs of background runs stay readable)."""

from __future__ import annotations

import sys
from typing import TextIO

from accelsim.train.loop import EpochLog, StepInfo

WIDTH = 30


class ProgressBar:
    def __init__(self, epochs: int, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()

    def step(self, info: StepInfo) -> None:
        if not self.interactive:
            return
        filled = WIDTH * info.step // info.steps
        self.stream.write(f"\repoch {info.epoch}/{self.epochs} [{'#' * filled}"
                          f"{'.' * (WIDTH - filled)}] {info.step}/{info.steps} "
                          f"loss {info.loss:.3f}")
        self.stream.flush()

    def epoch(self, log: EpochLog) -> None:
        held = log.heldout
        text = (f"held-out accuracy {100 * held.accuracy:.2f} %, activation sparsity "
                f"{100 * held.act_sparsity:.1f} %, weight sparsity "
                f"{100 * held.weight_sparsity:.1f} %")
        if log.loss_total is None:
            line = f"start: {text}"
        else:
            line = (f"epoch {log.epoch}/{self.epochs}: loss {log.loss_total:.3f} (ce "
                    f"{log.loss_ce:.3f}, tl1 {log.penalty_tl1:.3f} x lam {log.lam:g}), {text}, "
                    f"{log.seconds:.0f} s")
        prefix = "\r\x1b[K" if self.interactive else ""
        self.stream.write(f"{prefix}{line}\n")
        self.stream.flush()
