"""Design-space sweeps: ``accelsim sweep``.

- ``keys``: dotted keys (``levels.shared_glb.depth``) checked against the architecture
  schema, values parsed as YAML scalars, overrides applied to the config's YAML form;
- ``grid``: the points — the product of ``--set`` lists, ``--set-from`` rows and traces;
- ``worker``: one point → one row of numbers (runs in a pool process or a Dask worker);
- ``executors``: where points run (a local process pool, or a Dask cluster);
- ``table``: the CSV — columns, reading a previous run back (resumption), atomic writes;
- ``run``: the whole sweep, with progress on stderr.
"""

from accelsim.report.progress import ProgressBar
from accelsim.sweep.grid import Point, SweepSpec, build_spec
from accelsim.sweep.run import SweepSummary, run_sweep

__all__ = ["Point", "ProgressBar", "SweepSpec", "SweepSummary", "build_spec", "run_sweep"]
