"""Shared fixtures: paths to the repository and to ../shared reference data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_file(relative: str) -> Path:
    """A file from ../shared/; a missing one fails the test with a clear message."""
    path = SHARED / relative
    if not path.exists():
        pytest.fail(f"reference file missing: {path} (the ../shared/ folder beside the "
                    f"repository must be present; see its README)")
    return path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would (a separate process)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "accelsim.cli", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def cli():
    return run_cli
