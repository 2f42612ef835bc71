"""Atomic file output: write to a temporary file beside the target, then rename.

A reader (or an interrupted run) therefore sees either the old file or the complete new
one, never a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from accelsim.errors import AccelsimError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Yield a file object; on success it replaces ``path``, on any error it vanishes."""
    target = Path(path)
    if target.is_dir():
        raise AccelsimError("is a directory, expected a file path to write", file=target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise AccelsimError("the output directory does not exist", file=target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp_name, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    with atomic_output(path, "w") as handle:
        handle.write(text)
