"""Where an architecture argument points: a YAML file, or a bundled config by bare name
(``accelsim.bundled`` does the resolving for every kind of bundled file)."""

from __future__ import annotations

import os
from pathlib import Path

from accelsim.bundled import BundledKind, Location, find_bundled
from accelsim.errors import ConfigError

SUFFIX = ".yaml"
HW_CONFIGS = BundledKind("hw_configs", SUFFIX, "config", "YAML", ConfigError)
ConfigLocation = Location


def bundled_dir() -> Path:
    """The folder of bundled configs inside the installed package."""
    return HW_CONFIGS.directory()


def bundled_names() -> tuple[str, ...]:
    """Names of the bundled configs, sorted (file names without ``.yaml``)."""
    return HW_CONFIGS.names()


def find_config(path_or_name: str | os.PathLike[str], *, fallback: bool = False
                ) -> ConfigLocation:
    """Resolve an existing file path, or a bundled name (``eyeriss_like`` or
    ``eyeriss_like.yaml``). With ``fallback``, a missing path such as
    ``configs/eyeriss_like.yaml`` resolves to the bundled file of the same name."""
    return find_bundled(path_or_name, HW_CONFIGS, fallback=fallback)
