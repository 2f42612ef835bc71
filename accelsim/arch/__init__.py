"""The hardware: architecture YAML → a validated, typed ``Architecture``.

- ``spec``           the typed values (``Architecture``, ``StorageLevel``, ``DramSpec``…)
- ``schema``         the YAML schema as one table (checks and docs/config.md come from it)
- ``loader``         ``load_architecture(path_or_name)``: YAML → ``Architecture``
- ``energy_section`` the ``energy:`` section → the architecture's ``EnergyTable``
- ``bundled``        bundled configs by bare name (``eyeriss_like``), ``find_config``
- ``echo``           ``architecture_to_dict``: the YAML form, for reports and sweeps
"""

from accelsim.arch.bundled import ConfigLocation, bundled_names, find_config
from accelsim.arch.echo import architecture_to_dict
from accelsim.arch.loader import architecture_from_yaml, load_architecture
from accelsim.arch.spec import (
    ALL_TENSORS,
    DATAFLOW_NAMES,
    Architecture,
    ComputeSpec,
    DramSpec,
    Fanout,
    StorageLevel,
    Tensor,
)

__all__ = [
    "ALL_TENSORS",
    "DATAFLOW_NAMES",
    "Architecture",
    "ComputeSpec",
    "ConfigLocation",
    "DramSpec",
    "Fanout",
    "StorageLevel",
    "Tensor",
    "architecture_from_yaml",
    "architecture_to_dict",
    "bundled_names",
    "find_config",
    "load_architecture",
]
