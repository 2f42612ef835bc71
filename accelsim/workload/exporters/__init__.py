"""Exporters: accelsim traces as other tools' workload files.

``export_sparseloop`` writes per layer a Timeloop/Sparseloop problem YAML with densities
measured from the masks, plus the masks as text (docs/import-export.md).
"""

from accelsim.workload.exporters.sparseloop import export_sparseloop

__all__ = ["export_sparseloop"]
