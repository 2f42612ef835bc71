"""Where an architecture argument points: a YAML file, or a bundled config by bare name.

Bundled configs ship inside the package (``accelsim/data/hw_configs/``, declared as
package data), so ``eyeriss_like`` resolves from any directory after any kind of
``pip install``. The repository's ``hw_configs/`` is a link to that folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from accelsim.config.keys import did_you_mean
from accelsim.errors import ConfigError

SUFFIX = ".yaml"


def bundled_dir() -> Path:
    """The folder of bundled configs inside the installed package."""
    return Path(str(resources.files("accelsim").joinpath("data", "hw_configs")))


def bundled_names() -> tuple[str, ...]:
    """Names of the bundled configs, sorted (file names without ``.yaml``)."""
    folder = bundled_dir()
    if not folder.is_dir():
        return ()
    return tuple(sorted(path.stem for path in folder.glob(f"*{SUFFIX}")))


@dataclass(frozen=True, slots=True)
class ConfigLocation:
    """The file to load; ``fallback`` is true when ``requested`` named a missing path whose
    file name matches a bundled config (the caller may say so on stderr)."""

    path: Path
    requested: str
    bundled: bool
    fallback: bool = False


def find_config(path_or_name: str | os.PathLike[str], *, fallback: bool = False
                ) -> ConfigLocation:
    """Resolve an existing file path, or a bundled name (``eyeriss_like`` or
    ``eyeriss_like.yaml``). With ``fallback``, a missing path such as
    ``configs/eyeriss_like.yaml`` resolves to the bundled file of the same name."""
    text = os.fspath(path_or_name)
    path = Path(text)
    if path.is_file():
        return ConfigLocation(path, text, bundled=False)
    names = bundled_names()
    bare = os.sep not in text and "/" not in text
    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    if stem in names and (bare or fallback):
        return ConfigLocation(bundled_dir() / f"{stem}{SUFFIX}", text, bundled=True,
                              fallback=not bare)
    if path.is_dir():
        raise ConfigError("is a directory, expected a YAML file or a bundled config name",
                          file=text)
    listed = ", ".join(names) or "none"
    if stem in names:
        raise ConfigError(f"no such file (the bundled config {stem!r} has this name: pass "
                          f"just {stem!r}); bundled configs: {listed}", file=text)
    hint = did_you_mean(stem, names)
    what = "no such file or bundled config" if bare else "no such file"
    raise ConfigError(f"{what}{hint}; bundled configs: {listed}", file=text)
