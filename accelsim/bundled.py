"""Bundled data (hardware configs, traces) and how a command-line argument finds it.

Bundled files ship inside the package (``accelsim/data/<folder>/``, package data), so a bare
name resolves from any directory after any kind of ``pip install``; the repository's
top-level ``hw_configs/`` and ``traces/`` are links to those folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from accelsim.config.keys import did_you_mean
from accelsim.errors import AccelsimError, TraceFormatError


@dataclass(frozen=True, slots=True)
class BundledKind:
    """One kind of bundled file: its folder under ``accelsim/data``, suffix, the noun for
    messages and the file format's name (``YAML``, ``.npz``)."""

    folder: str
    suffix: str
    noun: str
    file_format: str
    error: type[AccelsimError] = AccelsimError

    def directory(self) -> Path:
        return Path(str(resources.files("accelsim").joinpath("data", self.folder)))

    def names(self) -> tuple[str, ...]:
        folder = self.directory()
        if not folder.is_dir():
            return ()
        return tuple(sorted(path.stem for path in folder.glob(f"*{self.suffix}")))


@dataclass(frozen=True, slots=True)
class Location:
    """The file to load; ``fallback`` is true when ``requested`` looked like a path (a
    folder or a suffix) that does not exist and a bundled file of that name was taken —
    the CLI says so on stderr."""

    path: Path
    requested: str
    bundled: bool
    fallback: bool = False


def find_bundled(path_or_name: str | os.PathLike[str], kind: BundledKind, *,
                 fallback: bool = False) -> Location:
    """An existing file path, or a bundled name (``NAME`` or ``NAME<suffix>``); with
    ``fallback``, a missing path such as ``configs/NAME<suffix>`` resolves to the bundled
    file of the same name."""
    text = os.fspath(path_or_name)
    path = Path(text)
    if path.is_file():
        return Location(path, text, bundled=False)
    names = kind.names()
    bare = os.sep not in text and "/" not in text
    stem = path.name[: -len(kind.suffix)] if path.name.endswith(kind.suffix) else path.name
    if stem in names and (bare or fallback):
        return Location(kind.directory() / f"{stem}{kind.suffix}", text, bundled=True,
                        fallback=fallback and (not bare or text != stem))
    if path.is_dir():
        raise kind.error(f"is a directory, expected a {kind.file_format} file or a bundled "
                         f"{kind.noun} name",
                         file=text)
    listed = ", ".join(names) or "none"
    if stem in names:
        raise kind.error(f"no such file (the bundled {kind.noun} {stem!r} has this name: pass "
                         f"just {stem!r}); bundled {kind.noun}s: {listed}", file=text)
    hint = did_you_mean(stem, names)
    what = f"no such file or bundled {kind.noun}" if bare else "no such file"
    raise kind.error(f"{what}{hint}; bundled {kind.noun}s: {listed}", file=text)



TRACES = BundledKind("traces", ".npz", "trace", ".npz", TraceFormatError)


def find_trace(path_or_name: str | os.PathLike[str], *, fallback: bool = False) -> Location:
    """An existing trace file, or a bundled trace by name (``resnet18``, ``resnet18.npz``)."""
    return find_bundled(path_or_name, TRACES, fallback=fallback)
