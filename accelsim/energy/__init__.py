"""Energy = Σ action counts × energy per action (Accelergy's split).

- ``table``   ``Action``, ``ActionEnergies``, ``ComponentEnergy``, ``EnergyTable``
              (pJ per action per component; access energies per block of words)
- ``presets`` ``eyeriss_65nm``, ``accelergy_45nm`` transcribed from Accelergy ERTs
- ``counts``  ``ActionCount``/``ActionCounts``: words, MACs and instance-cycles counted
- ``model``   ``energy(counts, table) -> EnergyBreakdown``, a pure function

The table an architecture uses is built by ``accelsim.arch`` from its YAML ``energy:``
section (a preset bound to the levels' block sizes, or explicit numbers).
"""

from accelsim.energy.counts import ActionCount, ActionCounts, leak_counts
from accelsim.energy.model import EnergyBreakdown, EnergyTerm, energy
from accelsim.energy.presets import PRESET_NAMES, PRESETS, EnergyPreset, energy_preset
from accelsim.energy.table import Action, ActionEnergies, ComponentEnergy, EnergyTable

__all__ = [
    "PRESETS",
    "PRESET_NAMES",
    "Action",
    "ActionCount",
    "ActionCounts",
    "ActionEnergies",
    "ComponentEnergy",
    "EnergyBreakdown",
    "EnergyPreset",
    "EnergyTable",
    "EnergyTerm",
    "energy",
    "energy_preset",
    "leak_counts",
]
