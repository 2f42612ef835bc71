"""accelsim: a trace-driven, cycle-approximate simulator of sparse CNN accelerators.

Code map (Timeloop's split of workload / architecture / mapping / model):

- ``errors``      user-facing errors, rendered as one line ``file:line: key: message``
- ``atomic``      temp-file-then-rename output, so no half-written file is ever left
- ``config/``     checks shared by every structured input (unknown keys, types)
- ``bundled``     where bundled configs and traces live and how a name finds them
- ``workload/``   layer geometry, traces and their file format, model zoo, synthetic
                  masks, exact effectual-MAC counting, importers and exporters
- ``arch/``       the hardware: YAML schema and loader, bundled configs
- ``mapping/``    the loop nest (types, YAML, printout), dataflow templates, the mapper
- ``analysis/``   nest analysis: dense access counts per level and tensor, tile sequences
- ``sim/``        the per-tile schedule and the SimPy timing engine
- ``energy/``     energy tables, presets, ``energy(counts, table)``
- ``report/``     console tables, CSV/JSON reports
- ``pipeline``    ``simulate(hw, trace)``: the pipeline for one run
- ``sweep/``      grids of runs over config keys, local process pool or Dask, resumable
- ``compare``     model variants on one accelerator, side by side
- ``sparsity/``   per-tile work from masks, compression formats, gate/skip accounting
- ``record/``, ``train/``, ``models/``  PyTorch only (the ``torch`` extra)
- ``cli``         argument parsing only; every command calls the library
"""

from accelsim.errors import AccelsimError
from accelsim.workload import Layer, LayerTrace, Trace, TraceInfo

__version__ = "0.1.0"
__all__ = ["AccelsimError", "Layer", "LayerTrace", "Trace", "TraceInfo", "__version__",
           "simulate"]


def simulate(hw, trace, **kwargs):
    """``accelsim.pipeline.simulate(hw, trace, ...)``, imported lazily so that ``import
    accelsim`` stays light; see that function for the arguments."""
    from accelsim.pipeline import simulate as run

    return run(hw, trace, **kwargs)
