"""Errors a user can cause, rendered as one line.

Every problem with user input (a file, a key, a layer, a CLI argument) raises an
``AccelsimError`` whose ``str`` is a single line ``file:line: key: message``, with the
parts that are unknown left out. The CLI prints that line and exits with status 2; no
traceback ever reaches the user for their own mistakes.
"""

from __future__ import annotations

import os


class AccelsimError(Exception):
    """A user-facing error; ``str(err)`` is the one line the CLI prints."""

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = " ".join(str(message).split())
        self.file = os.fspath(file) if file is not None else None
        self.line = line
        self.key = key
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (where, self.key) if p]
        return ": ".join([*parts, self.message])

    def with_file(self, file: str | os.PathLike[str]) -> AccelsimError:
        """The same error, located in ``file`` when it had no file yet."""
        if self.file is not None:
            return self
        return type(self)(self.message, file=file, line=self.line, key=self.key)


class GeometryError(AccelsimError):
    """A layer whose shape cannot be computed (non-positive size, bad groups, empty output)."""


class TraceFormatError(AccelsimError):
    """A trace file that is not a valid accelsim trace."""


class ImportFormatError(AccelsimError):
    """A foreign file (SCALE-Sim CSV, Timeloop YAML) that cannot be imported."""


class ConfigError(AccelsimError):
    """A YAML or profile file with a wrong key, type or value."""
