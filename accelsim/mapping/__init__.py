"""Mappings: the loop nest of a layer over an architecture — the type and its checks
(``model``), its YAML form (``yaml_io``), a printout like Timeloop's map.txt (``printout``)
and a parser of Timeloop's map.txt (``timeloop_map``)."""

from accelsim.mapping.model import (
    DIMS,
    LevelMapping,
    Loop,
    Mapping,
    MappingError,
    check_mapping,
    layer_bounds,
)
from accelsim.mapping.printout import format_mapping
from accelsim.mapping.timeloop_map import load_timeloop_map, parse_timeloop_map
from accelsim.mapping.yaml_io import dump_mapping, load_mapping, parse_mapping, save_mapping

__all__ = ["DIMS", "LevelMapping", "Loop", "Mapping", "MappingError", "check_mapping",
           "dump_mapping", "format_mapping", "layer_bounds", "load_mapping",
           "load_timeloop_map", "parse_mapping", "parse_timeloop_map", "save_mapping"]
