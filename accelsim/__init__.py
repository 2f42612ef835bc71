"""accelsim: a trace-driven, cycle-approximate simulator of sparse CNN accelerators.

Code map (Timeloop's split of workload / architecture / mapping / model):

- ``errors``      user-facing errors, rendered as one line ``file:line: key: message``
- ``atomic``      temp-file-then-rename output, so no half-written file is ever left
- ``config/``     checks shared by every structured input (unknown keys, types)
- ``workload/``   layer geometry, traces and their file format, model zoo, synthetic
                  masks, exact effectual-MAC counting, importers and exporters
- ``cli``         argument parsing only; every command calls the library
"""

from accelsim.errors import AccelsimError
from accelsim.workload import Layer, LayerTrace, Trace, TraceInfo

__version__ = "0.1.0"
__all__ = ["AccelsimError", "Layer", "LayerTrace", "Trace", "TraceInfo", "__version__"]
