"""Key checks shared by every structured input: unknown keys (with a "did you mean"),
missing keys, and value types — each failure one line naming the file and key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from accelsim.errors import AccelsimError


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def check_keys(
    mapping: Mapping[str, Any],
    *,
    required: Iterable[str],
    optional: Iterable[str] = (),
    where: str,
    file: str | None = None,
    error: type[AccelsimError] = AccelsimError,
) -> None:
    """Reject unknown keys and report the first missing required key."""
    required = list(required)
    allowed = [*required, *optional]
    for key in mapping:
        if key not in allowed:
            raise error(
                f"unknown key {key!r}{did_you_mean(key, allowed)}; expected one of "
                f"{', '.join(allowed)}", file=file, key=where)
    for key in required:
        if key not in mapping:
            raise error(f"missing required key {key!r}", file=file, key=where)


def expect_type(value: Any, kinds: type | tuple[type, ...], what: str, *, where: str,
                file: str | None = None, error: type[AccelsimError] = AccelsimError) -> Any:
    """Return ``value`` if it is of ``kinds`` (bools are never numbers), else raise."""
    kinds_tuple = kinds if isinstance(kinds, tuple) else (kinds,)
    is_bool = isinstance(value, bool)
    if not isinstance(value, kinds_tuple) or (is_bool and bool not in kinds_tuple):
        names = " or ".join(k.__name__ for k in kinds_tuple)
        raise error(f"{what}: expected {names}, got {value!r}", file=file, key=where)
    return value
