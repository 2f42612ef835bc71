"""``--hw`` arguments: a path, or a bundled config by bare name from any directory — also
from a non-editable install — and one-line errors listing the bundled names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec

import pytest

from accelsim.arch import find_config, load_architecture
from accelsim.arch.bundled import bundled_dir
from accelsim.errors import ConfigError
from tests.conftest import REPO

LISTED = ("bundled configs: eyeriss_like, eyeriss_v1, eyeriss_v2_like, scnn_like, simba_like, "
          "systolic_os, systolic_ws")


def _error(argument, **options) -> str:
    with pytest.raises(ConfigError) as info:
        find_config(argument, **options)
    return str(info.value)


def test_bare_names_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argument in ("eyeriss_like", "eyeriss_like.yaml"):
        location = find_config(argument)
        assert location.bundled and not location.fallback
        assert location.path == bundled_dir() / "eyeriss_like.yaml"
    assert load_architecture("systolic_ws").name == "systolic_ws"


def test_an_existing_file_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (bundled_dir() / "eyeriss_like.yaml").read_text()
    (tmp_path / "eyeriss_like.yaml").write_text(text.replace("name: eyeriss_like", "name: mine"))
    location = find_config("eyeriss_like.yaml")
    assert not location.bundled and location.path.name == "eyeriss_like.yaml"
    assert load_architecture("eyeriss_like.yaml").name == "mine"
    assert load_architecture("eyeriss_like").name == "eyeriss_like"  # bare: the bundled one


def test_fallback_for_a_missing_path_with_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    location = find_config("configs/eyeriss_like.yaml", fallback=True)
    assert location.bundled and location.fallback
    assert location.requested == "configs/eyeriss_like.yaml"
    assert _error("configs/eyeriss_like.yaml") == (
        "configs/eyeriss_like.yaml: no such file (the bundled config 'eyeriss_like' has this "
        f"name: pass just 'eyeriss_like'); {LISTED}")


def test_unknown_names_and_missing_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _error("eyeriss") == \
        f"eyeriss: no such file or bundled config (did you mean 'eyeriss_v1'?); {LISTED}"
    assert _error("tpu_v4") == f"tpu_v4: no such file or bundled config; {LISTED}"
    assert _error("designs/tpu.yaml", fallback=True) == f"designs/tpu.yaml: no such file; {LISTED}"
    (tmp_path / "folder").mkdir()
    assert _error("folder") == \
        "folder: is a directory, expected a YAML file or a bundled config name"


def _can_build_wheels_offline() -> bool:
    if find_spec("setuptools") is None:
        return False
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or find_spec("wheel") is not None


def test_non_editable_install_has_the_bundled_configs(tmp_path):
    """``pip install --target`` of a copy of the source tree (a regular, non-editable
    install), then a bare name resolved from an unrelated directory."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "accelsim", source / "accelsim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    # Offline with the setuptools at hand when it can build wheels by itself (>= 70.1, or
    # with the ``wheel`` package); else pip fetches the build backend as usual.
    offline = ["--no-index", "--no-build-isolation"] if _can_build_wheels_offline() else []
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *offline,
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = ("import accelsim.arch as a; arch = a.load_architecture('eyeriss_v1'); "
              "print(a.__file__); print(arch.source); print(len(a.bundled_names()))")
    run = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(target)})
    assert run.returncode == 0, run.stderr
    module, config, count = run.stdout.split()
    assert module.startswith(str(target)) and config.startswith(str(target))
    assert count == "7"
