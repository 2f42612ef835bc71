"""Named energy tables, transcribed from Accelergy energy reference tables (ERTs).

Every number below is copied from the cited ``ERT_summary.yaml`` (``tests/test_energy_presets.py``
checks them against those files). Access energies are per *block* — one access of the
level's ``width_bits`` — exactly as in the ERT; the architecture loader binds each entry to
its level's block size. Gated actions absent from an ERT cost 0, as in Sparseloop.
Timeloop charges no leakage for arithmetic units, whatever the ERT says; the MAC leak is
kept here as the ERT gives it (0.04 % of the eyeriss_like total when counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from accelsim.energy.table import ActionEnergies


@dataclass(frozen=True, slots=True)
class EnergyPreset:
    """Per-block energies by component name, not yet bound to an architecture."""

    name: str
    source: str
    components: tuple[tuple[str, ActionEnergies], ...]

    def entry(self, component: str) -> ActionEnergies | None:
        for name, energies in self.components:
            if name == component:
                return energies
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.components)


def _storage(read: float, write: float, leak: float, update: float | None = None
             ) -> ActionEnergies:
    return ActionEnergies(read_pj=read, write_pj=write,
                          update_pj=write if update is None else update,
                          leak_pj_per_cycle=leak)


def _mac(compute: float, leak: float) -> ActionEnergies:
    return ActionEnergies(compute_pj=compute, leak_pj_per_cycle=leak)


EYERISS_65NM = EnergyPreset(
    name="eyeriss_65nm",
    source="Accelergy ERT of Timeloop's eyeriss_like example (65 nm; 8-bit data, 64-bit "
           "LPDDR4, 16384x64 GLB, 12x16/192x16/16x16 spads): "
           "timeloop-accelergy-exercises@2d55108 workspace/example_designs/example_designs/"
           "eyeriss_like/ref_outputs/default_problem/timeloop-mapper.ERT_summary.yaml "
           "(../shared/timeloop_ref/eyeriss_like/timeloop-mapper.ERT_summary.yaml)",
    components=(
        ("DRAM", _storage(512.0, 512.0, 0.0)),
        ("shared_glb", _storage(18.183829, 14.137929, 0.005652)),
        ("ifmap_spad", _storage(0.202442, 0.176713, 0.000101)),
        ("weights_spad", _storage(1.976602, 1.881657, 0.001592)),
        ("psum_spad", _storage(0.2513, 0.2191, 0.000134)),
        ("mac", _mac(0.207692, 0.002374)),
    ),
)

ACCELERGY_45NM = EnergyPreset(
    name="accelergy_45nm",
    source="Accelergy ERT of the ISPASS 2020 tutorial's Timeloop+Accelergy eyeriss_like "
           "(45 nm, intmac; same components as eyeriss_65nm): timeloop-accelergy-exercises"
           "@2d55108 workspace/tutorial_exercises/01_accelergy_timeloop_2020_ispass/"
           "timeloop+accelergy/ref-output/intmac/timeloop-mapper.ERT_summary.yaml "
           "(../shared/timeloop_ref/ispass2020_timeloop+accelergy_intmac/"
           "timeloop-mapper.ERT_summary.yaml)",
    components=(
        ("DRAM", _storage(512.0, 512.0, 0.0)),
        ("shared_glb", _storage(32.342452, 26.121552, 0.003351)),
        ("ifmap_spad", _storage(0.310924, 0.271902, 0.000154)),
        ("weights_spad", _storage(3.005554, 2.861554, 0.002416)),
        ("psum_spad", _storage(0.385026, 0.336188, 0.000204)),
        ("mac", _mac(0.315, 0.0036)),
    ),
)

PRESETS = MappingProxyType({preset.name: preset for preset in (EYERISS_65NM, ACCELERGY_45NM)})
PRESET_NAMES = tuple(PRESETS)


def energy_preset(name: str) -> EnergyPreset:
    """The preset called ``name``; a KeyError lists the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"no energy preset {name!r}; known: {', '.join(PRESET_NAMES)}") from None
