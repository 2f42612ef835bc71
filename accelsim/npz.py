"""Reproducible ``.npz`` archives: the same arrays always give the same bytes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import IO

import numpy as np


def write_npz(handle: IO[bytes], members: Iterable[tuple[str, np.ndarray]]) -> None:
    """A zip of ``.npy`` members (never pickled) with fixed timestamps and permissions —
    unlike ``np.savez``, whose entries carry the current time."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in members:
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=6)
