"""Without PyTorch the simulator imports and runs, and the torch commands say in one line
how to install the extra. PyTorch is hidden from a subprocess by a ``sitecustomize`` that
sets ``sys.modules['torch'] = None`` (what an absent package looks like to ``import``)."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import accelsim
from tests.test_cli import _toy, assert_one_line_error

# Modules that need torch by design; everything else must import without it.
TORCH_MODULES = ("accelsim.models", "accelsim.record.hooks", "accelsim.record.fused",
                 "accelsim.record.files", "accelsim.train.tl1", "accelsim.train.prune",
                 "accelsim.train.augment", "accelsim.train.loop", "accelsim.train.run",
                 "accelsim.train.checkpoint", "accelsim.train.progress")


def _run(tmp_path, *args):
    site = tmp_path / "hide_torch"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _simulator_modules():
    names = []
    # Walking imports each package to list its children; a torch-only package refuses to
    # import without torch (that is checked below), so its failure must not stop the walk.
    for info in pkgutil.walk_packages(accelsim.__path__, "accelsim.",
                                      onerror=lambda _name: None):
        if not info.name.startswith(TORCH_MODULES):
            names.append(info.name)
    return names


# Must import; other modules are checked only for failures that involve torch (a module
# broken for another reason is other tests' business).
CORE = ("accelsim", "accelsim.cli", "accelsim.workload.trace", "accelsim.workload.stats",
        "accelsim.record", "accelsim.record.data", "accelsim.record.torch_support",
        "accelsim.train", "accelsim.train.recipe")

_IMPORT_ALL = """
import importlib, json, sys
failures = []
for name in {names!r}:
    try:
        importlib.import_module(name)
    except Exception as exc:
        if name in {core!r} or 'torch' in str(exc):
            failures.append(name + ': ' + str(exc))
print(json.dumps({{"failures": failures, "torch": sys.modules.get('torch') is not None}}))
"""


def _import_all(run):
    names = _simulator_modules()
    assert set(CORE) <= {"accelsim", *names}
    result = run("-c", _IMPORT_ALL.format(names=["accelsim", *names], core=CORE))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_torch_is_really_hidden(tmp_path):
    result = _run(tmp_path, "-c", "import torch")
    assert result.returncode != 0 and "import of torch halted" in result.stderr


def test_every_simulator_module_imports_without_torch(tmp_path):
    report = _import_all(lambda *args: _run(tmp_path, *args))
    assert report == {"failures": [], "torch": False}


def test_simulator_modules_do_not_import_torch_when_it_is_installed():
    report = _import_all(lambda *args: subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300))
    assert report == {"failures": [], "torch": False}


def test_trace_info_runs_without_torch(tmp_path):
    _toy(tmp_path / "t.npz")
    result = _run(tmp_path, "-m", "accelsim.cli", "trace", "info", str(tmp_path / "t.npz"))
    assert result.returncode == 0, result.stderr
    assert "total" in result.stdout


def test_torch_commands_say_how_to_install_the_extra(tmp_path):
    record = _run(tmp_path, "-m", "accelsim.cli", "trace", "record", "--model",
                  "resnet20_cifar10", "--weights", "w.npz", "--data", "d", "-o",
                  str(tmp_path / "x.npz"))
    assert_one_line_error(record, "pip install 'accelsim[torch]'")
    train = _run(tmp_path, "-m", "accelsim.cli", "train", "--model", "resnet20_cifar10",
                 "--data", "d", "-o", str(tmp_path / "x.npz"))
    assert_one_line_error(train, "pip install 'accelsim[torch]'")
    library = _run(tmp_path, "-c", "from accelsim.record import record_trace")
    assert library.returncode == 1
    assert "pip install 'accelsim[torch]'" in library.stderr.splitlines()[-1]
    assert not (tmp_path / "x.npz").exists()
