"""--max-memory: sizes parse; a layer too big for the limit fails with one line naming the
layer, the estimate and the flag, before anything big is allocated (huge layers here are
geometry only: zero-stride views or a manifest); the estimates bound tracemalloc's measured
peaks on real layers without being absurdly larger."""

from __future__ import annotations

import argparse
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from accelsim import resources
from accelsim.arch.bundled import find_config
from accelsim.arch.loader import load_architecture
from accelsim.bundled import find_trace
from accelsim.errors import AccelsimError
from accelsim.mapping.mapper import search
from accelsim.pipeline import expected_occupancy, simulate, simulate_layer
from accelsim.sparsity.work_nest import LoopLayout
from accelsim.workload.layer import Layer
from accelsim.workload.synth import synthesize
from accelsim.workload.trace import LayerTrace, Trace, TraceInfo, load_trace
from accelsim.workload.zoo import get_model

HUGE = Layer("huge", N=1024, C=1024, H=512, W=512, M=1024, R=3, S=3, padding=(1, 1))


@pytest.mark.parametrize(("text", "size"), [
    ("8G", 8 * 2**30), ("512M", 512 * 2**20), ("1.5GiB", 3 * 2**29), ("64k", 65536),
    ("1000", 1000), ("2T", 2 * 2**40)])
def test_sizes(text, size):
    assert resources.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "8Q", "-1G", "0", "G", "1e9"])
def test_bad_sizes(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a size"):
        resources.parse_size(text)


def test_default_limit_is_a_share_of_the_machine():
    total = resources.machine_memory()
    assert total is not None and total > 2**28
    assert resources.default_limit() == int(total * resources.DEFAULT_FRACTION)


def _huge_trace() -> Trace:
    """Masks as zero-stride views: the shape of terabytes, the memory of one byte."""
    one = np.ones((), dtype=bool)
    layer = LayerTrace(HUGE, np.broadcast_to(one, HUGE.input_shape),
                       np.broadcast_to(one, HUGE.weight_shape))
    return Trace(TraceInfo(model="huge", source={"kind": "synthetic", "generator": "test"}),
                 (layer,))


@pytest.mark.parametrize("limit", [None, 2**30])
def test_a_huge_layer_is_refused_before_anything_is_allocated(limit):
    tracemalloc.start()
    with pytest.raises(AccelsimError) as caught:
        simulate("eyeriss_v1", _huge_trace(), max_memory=limit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * 2**20
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("layer 'huge': simulating it needs an estimated ")
    shown = resources.format_size(limit or resources.default_limit())
    assert f"TiB, above the {shown} limit of --max-memory" in message


def test_the_limit_is_checked_again_with_the_mapping():
    """A layer above its geometry-only bound but under its mapped estimate fails at the
    second check, before the per-tile arrays exist."""
    trace = load_trace(find_trace("resnet18").path)
    layer_trace = trace.layer("conv1")
    arch = load_architecture(find_config("eyeriss_v1").path)
    resident = sum(resources.mask_elements(lt.layer) for lt in trace.layers)
    lower = resident + resources.simulate_lower_bound(layer_trace.layer)
    with pytest.raises(AccelsimError, match=r"conv1'.*with its mapping needs an estimated"):
        simulate(arch, trace, layers=["conv1"], max_memory=lower + 1)


def _manifest_with(path: Path, target: Path, **geometry: int) -> None:
    """A copy of ``path`` whose manifest declares a bigger first layer (its masks stay)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    raw = np.lib.format.read_array(io.BytesIO(members["manifest.npy"]))
    manifest = json.loads(raw.tobytes())
    manifest["layers"][0].update(geometry)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.frombuffer(json.dumps(manifest).encode(), np.uint8))
    members["manifest.npy"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_cli_run_refuses_a_huge_trace_before_loading_it(tmp_path, cli):
    synthesize("lenet5").save(tmp_path / "small.npz")
    # 10⁹ input elements: within the 2³¹ a trace may declare per tensor, far above the limit
    _manifest_with(tmp_path / "small.npz", tmp_path / "huge.npz", N=1000, C=1000)
    done = cli("run", "--hw", "eyeriss_v1", "--trace", "huge.npz", "--max-memory", "512M",
               "-o", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("accelsim: layer 'conv1': loading the masks of all 5 layers "
                                  "of huge.npz (this one is the largest) needs an estimated ")
    assert "above the 512.0 MiB limit of --max-memory" in done.stderr
    assert not (tmp_path / "out").exists()


def test_cli_synth_refuses_a_huge_batch(tmp_path, cli):
    done = cli("trace", "synth", "--model", "resnet50", "--batch", "100000", "-o", "t.npz",
               cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("accelsim: layer 'layer1.1.conv1': synthesizing its trace "
                                  "needs an estimated ")
    assert "limit of --max-memory" in done.stderr and done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "text"), [
    ("big.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                "Channels, Num Filter, Strides,\nbig, 1024, 1024, 3, 3, 1024, 64, 1,\n"),
    ("big.yaml", "problem:\n  version: 0.4\n  instance: {C: 1024, M: 64, R: 3, S: 3, "
                 "P: 1022, Q: 1022, N: 1}\n"),
])
def test_cli_import_refuses_a_huge_layer_before_drawing_masks(tmp_path, cli, name, text):
    """10⁹ input elements (within a trace's 2³¹ per tensor), refused from the geometry."""
    (tmp_path / name).write_text(text)
    done = cli("trace", "import", name, "--max-memory", "256M", "-o", "t.npz", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert "layer 'big': synthesizing its trace needs an estimated " in done.stderr
    assert "above the 256.0 MiB limit of --max-memory" in done.stderr
    assert not (tmp_path / "t.npz").exists()


def test_cli_bad_size_is_one_line(cli, tmp_path):
    done = cli("sweep", "--hw", "eyeriss_v1", "--trace", "resnet18", "--set",
               "dram.latency_cycles=0", "--max-memory", "lots", "-o", "s.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "argument --max-memory: expected a size such as 8G" in done.stderr


def test_sweep_shares_the_limit_and_records_a_point_over_it_as_failed(cli, tmp_path):
    synthesize("lenet5").save(tmp_path / "lenet5.npz")
    done = cli("sweep", "--hw", "eyeriss_v1", "--trace", "lenet5.npz", "--set",
               "dram.latency_cycles=0,1", "-j", "2", "--max-memory", "128K", "-o", "s.csv",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 points (0 already there, 2 run, 2 failed)" in done.stderr
    text = (tmp_path / "s.csv").read_text()
    assert text.count("above the 64.0 KiB limit of --max-memory") == 2  # 128K / 2 workers


# ----------------------------------------------------------------------------- calibration

CASES = [("eyeriss_v1", ("conv1", "layer2.0.conv2", "layer4.1.conv1")),
         ("simba_like", ("conv1", "layer4.1.conv1")),
         ("scnn_like", ("layer3.0.downsample.0", "layer4.1.conv1")),
         ("systolic_ws", ("conv1", "layer4.1.conv1"))]


@pytest.mark.parametrize(("config", "layers"), CASES, ids=[c for c, _ in CASES])
def test_estimates_bound_the_measured_peak(config, layers):
    """estimate ≥ tracemalloc's peak of simulate_layer; within 4× where the peak is large
    enough (≥ 16 MiB) for the arrays, not the fixed overhead, to dominate."""
    arch = load_architecture(find_config(config).path)
    trace = load_trace(find_trace("resnet18").path)
    for name in layers:
        layer_trace = trace.layer(name)
        mapping = search(layer_trace.layer, arch,
                         occupancy=expected_occupancy(layer_trace, arch)).mapping
        layout = LoopLayout.build(layer_trace.layer, mapping, 1)
        estimate = resources.simulate_estimate(layer_trace.layer, layout, arch)
        assert resources.simulate_lower_bound(layer_trace.layer) <= estimate
        tracemalloc.start()
        simulate_layer(layer_trace, arch, mapping)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert estimate >= peak, (name, estimate, peak)
        if peak >= 16 * 2**20:
            assert estimate <= 4 * peak, (name, estimate, peak)


def test_synth_estimate_bounds_the_measured_peak():
    for model, batch in (("resnet18", 2), ("lenet5", 64)):
        tracemalloc.start()
        synthesize(model, batch=batch, act_density=0.4, weight_density=0.5)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        _, estimate = resources.synth_estimate(get_model(model, batch))
        assert peak <= estimate <= 4 * max(peak, 16 * 2**20), (model, estimate, peak)
