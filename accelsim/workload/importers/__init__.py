"""Importers: other tools' workload files as accelsim traces.

``import_scalesim_csv`` reads SCALE-Sim topology CSVs (conv and GEMM forms, v3's N:M
sparsity column); ``import_timeloop_problem`` reads Timeloop/Sparseloop problem YAML
(convolution shape, with or without densities); ``import_workload`` picks one by name or
file extension. Formats and letter mappings are in docs/import-export.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from accelsim.errors import ImportFormatError
from accelsim.workload.importers.scalesim import import_scalesim_csv
from accelsim.workload.importers.timeloop import import_timeloop_problem
from accelsim.workload.trace import Trace

FORMATS = ("scalesim", "timeloop")
_EXTENSIONS = {".csv": "scalesim", ".yaml": "timeloop", ".yml": "timeloop"}

__all__ = ["FORMATS", "import_scalesim_csv", "import_timeloop_problem", "import_workload"]


def import_workload(path: str | os.PathLike[str], *, file_format: str | None = None,
                    batch: int | None = None, seed: int = 0,
                    max_memory: int | None = None) -> Trace:
    """Import ``path`` as ``file_format``, or as its extension says (.csv → SCALE-Sim,
    .yaml/.yml → Timeloop). ``batch`` None means 1 for SCALE-Sim and the file's N for
    Timeloop. ``max_memory``: bytes the masks may take (None: the machine's default),
    checked from the parsed geometry before any mask is drawn."""
    chosen = file_format or _EXTENSIONS.get(Path(path).suffix.lower())
    if chosen == "scalesim":
        return import_scalesim_csv(path, batch=1 if batch is None else batch, seed=seed,
                                   max_memory=max_memory)
    if chosen == "timeloop":
        return import_timeloop_problem(path, batch=batch, seed=seed, max_memory=max_memory)
    if file_format is not None:
        raise ImportFormatError(f"unknown format {file_format!r}; expected one of "
                                f"{', '.join(FORMATS)}", file=path)
    raise ImportFormatError(f"cannot tell the format from the extension "
                            f"{Path(path).suffix!r}; name it (--format scalesim or timeloop)",
                            file=path)
