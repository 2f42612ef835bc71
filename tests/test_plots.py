"""``accelsim plot``: the figures' contents (labels, bars, series, values equal to the CSV),
deterministic bytes, and one-line errors that write nothing."""

from __future__ import annotations

import csv

import pytest

from accelsim.compare import compare
from accelsim.errors import AccelsimError
from accelsim.pipeline import simulate
from accelsim.report.plot_compare import MEASURES, compare_figure
from accelsim.report.plot_energy import energy_figure
from accelsim.report.plot_sweep import pareto_front, sweep_figure
from accelsim.report.plots import OKABE_ITO, save_figure, spans_decades
from accelsim.workload.synth import synthesize

HW = "eyeriss_v2_like"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    result = simulate(HW, synthesize("lenet5", act_density=0.5, weight_density=0.5))
    result.to_csv(folder / "layers.csv")
    result.to_json(folder / "summary.json")
    return folder


@pytest.fixture(scope="module")
def compare_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmp")
    paths = []
    for name, density in (("dense", None), ("tl1", 0.5), ("tl1_pruned", 0.25)):
        path = folder / f"lenet5_{name}.npz"
        synthesize("lenet5", act_density=density, weight_density=density).save(path)
        paths.append(path)
    out = folder / "cmp.csv"
    compare(HW, paths).to_csv(out)
    return out


SWEEP_HEADER = ["hw", "trace", "pe_array.rows", "dram.bandwidth_bytes_per_cycle", "total_cycles",
                "energy_pj", "energy_pj.DRAM", "energy_pj.mac", "dram_bytes", "utilization",
                "wall_s", "error"]
SWEEP_ROWS = [
    # hw and trace are prepended when written; then rows, bandwidth, cycles, energy,
    # DRAM part, MAC part, DRAM bytes, utilisation, wall time, error
    (8, 4, 9000, 5.0e6, 4e6, 1e6, 1000, 0.9, 0.1, ""),
    (12, 4, 7000, 6.0e6, 5e6, 1e6, 1000, 0.8, 0.1, ""),
    (16, 4, 6500, 7.5e6, 6e6, 1.5e6, 1000, 0.6, 0.1, ""),
    (8, 64, 800, 4.8e6, 3.8e6, 1e6, 1000, 0.95, 0.1, ""),
    (12, 64, 600, 5.5e6, 4.5e6, 1e6, 1000, 0.9, 0.1, ""),
    (16, 64, 500, 4.9e6, 3.9e6, 1e6, 1000, 0.85, 0.1, ""),
    (24, 64, "", "", "", "", "", "", 0.1, "layer 'fc1': no valid mapping"),
]


@pytest.fixture
def sweep_csv(tmp_path):
    path = tmp_path / "sweep.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SWEEP_HEADER)
        writer.writerows((HW, "traces/resnet20_cifar10_tl1.npz", *row) for row in SWEEP_ROWS)
    return path


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_energy_figure_bars_equal_csv(run_dir):
    figure = energy_figure(run_dir)
    per_layer, network = figure.axes
    rows = _rows(run_dir / "layers.csv")
    components = [c.split(".", 1)[1] for c in rows[0] if c.startswith("energy_pj.")]
    assert len(per_layer.patches) == len(rows) * len(components)
    assert len(network.patches) == len(components)
    assert per_layer.get_ylabel() == "energy (µJ)"
    assert network.get_xlabel() == "energy (µJ)"
    assert [t.get_text() for t in per_layer.get_xticklabels()] == [r["layer"] for r in rows]
    # patches are drawn component by component, each over all layers
    for c_index, component in enumerate(components):
        for l_index, row in enumerate(rows):
            patch = per_layer.patches[c_index * len(rows) + l_index]
            assert patch.get_height() == pytest.approx(float(row[f"energy_pj.{component}"]) / 1e6)
    stacked = [sum(per_layer.patches[c * len(rows) + i].get_height()
                   for c in range(len(components))) for i in range(len(rows))]
    assert stacked == pytest.approx([float(r["energy_pj"]) / 1e6 for r in rows])
    title = figure.get_suptitle()
    assert HW in title and "lenet5" in title
    colours = {tuple(round(v, 3) for v in p.get_facecolor()[:3]) for p in network.patches}
    assert len(colours) == len(components)


def test_sweep_figure_series_and_values(sweep_csv):
    figure = sweep_figure(sweep_csv, x="pe_array.rows", y="cycles",
                          hue="dram.bandwidth_bytes_per_cycle")
    lines, pareto = figure.axes
    assert len(lines.lines) == 2  # one per bandwidth; the failed point left out
    assert [line.get_label() for line in lines.lines] == [
        "dram.bandwidth_bytes_per_cycle=4", "dram.bandwidth_bytes_per_cycle=64"]
    assert list(lines.lines[0].get_xdata()) == [8, 12, 16]
    assert list(lines.lines[0].get_ydata()) == [9000, 7000, 6500]
    assert list(lines.lines[1].get_ydata()) == [800, 600, 500]
    assert all(line.get_marker() not in (None, "None", "") for line in lines.lines)
    assert lines.get_xlabel() == "pe_array.rows" and lines.get_ylabel() == "cycles"
    assert lines.get_yscale() == "linear"  # 500 .. 9000 is not more than two decades
    assert pareto.get_xlabel() == "cycles" and pareto.get_ylabel() == "energy (µJ)"
    (front,) = pareto.lines
    assert list(front.get_xdata()) == [500, 800]
    assert list(front.get_ydata()) == pytest.approx([4.9, 4.8])
    assert len(pareto.collections[0].get_offsets()) == 6
    assert figure.get_suptitle() == f"Sweep: {HW} running resnet20_cifar10_tl1"


def test_sweep_figure_log_axis_and_units(sweep_csv, tmp_path):
    figure = sweep_figure(sweep_csv, x="dram.bandwidth_bytes_per_cycle", y="energy")
    lines = figure.axes[0]
    # without a hue, one line per value of the other varied key (pe_array.rows)
    assert len(lines.lines) == 3
    assert lines.get_ylabel() == "energy (µJ)"
    assert list(lines.lines[0].get_ydata()) == pytest.approx([5.0, 4.8])
    wide = tmp_path / "wide.csv"
    with wide.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["levels.glb.size_bytes", "total_cycles", "energy_pj", "dram_bytes",
                         "utilization", "wall_s", "error"])
        for size, cycles in ((1024, 1e6), (65536, 2e4), (1048576, 5e3)):
            writer.writerow([size, cycles, 1e6, 10, 0.5, 0.1, ""])
    log = sweep_figure(wide, x="levels.glb.size_bytes", y="cycles").axes[0]
    assert log.get_xscale() == "log" and log.get_yscale() == "log"


def test_pareto_front():
    points = [(1, 9), (2, 5), (3, 6), (4, 1), (5, 1), (2, 7)]
    assert pareto_front(points) == [(1, 9), (2, 5), (4, 1)]
    assert spans_decades([1, 101]) and not spans_decades([1, 100]) and not spans_decades([0, 5])


def test_compare_figure_bars_equal_csv(compare_csv):
    figure = compare_figure(compare_csv)
    rows = _rows(compare_csv)
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    assert layers[-1] == "total"
    panels = figure.axes
    assert [a.get_title() for a in panels] == ["lenet5_tl1", "lenet5_tl1_pruned"]
    for axes in panels:
        assert len(axes.patches) == len(layers) * len(MEASURES)
        values = {(r["layer"], m): float(r[m]) for r in rows
                  if r["variant"] == axes.get_title() for m, _, _ in MEASURES}
        for m_index, (measure, _, _) in enumerate(MEASURES):
            heights = [axes.patches[m_index * len(layers) + i].get_height()
                       for i in range(len(layers))]
            assert heights == [values[(layer, measure)] for layer in layers]
        assert axes.get_ylabel() == "× vs lenet5_dense"
    labels = [t.get_text() for t in panels[0].get_legend().get_texts()]
    assert labels == ["effectual-MAC reduction", "speed-up", "energy saving"]
    assert HW in figure.get_suptitle()


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_renders_are_byte_identical(run_dir, tmp_path, suffix):
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    save_figure(energy_figure(run_dir), first)
    save_figure(energy_figure(run_dir), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_size > 1000


def test_unknown_format_is_an_error(run_dir, tmp_path):
    with pytest.raises(AccelsimError, match=r"unknown plot format '\.gif'"):
        save_figure(energy_figure(run_dir), tmp_path / "a.gif")
    assert not (tmp_path / "a.gif").exists()


def test_palette_is_okabe_ito():
    assert OKABE_ITO[0] == "#E69F00" and len(set(OKABE_ITO)) == 8


def test_cli_plots(run_dir, compare_csv, sweep_csv, tmp_path, cli):
    for args, name in ((("energy", str(run_dir)), "e.png"),
                       (("compare", str(compare_csv)), "c.svg"),
                       (("sweep", str(sweep_csv), "--x", "pe_array.rows", "--y",
                         "utilization", "--hue", "dram.bandwidth_bytes_per_cycle"), "s.pdf")):
        out = tmp_path / name
        result = cli("plot", *args, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 1000


def test_cli_plot_errors(run_dir, sweep_csv, tmp_path, cli):
    out = tmp_path / "x.png"
    cases = [
        (("sweep", str(sweep_csv), "--x", "pe_array.cols"),
         f"accelsim: {sweep_csv}: no sweep key 'pe_array.cols' in the CSV; it has "
         + ", ".join(SWEEP_HEADER)),
        (("energy", str(tmp_path / "missing")),
         f"accelsim: {tmp_path / 'missing'}: no such run directory (write one with "
         "'accelsim run -o DIR')"),
        (("compare", str(run_dir / "layers.csv")),
         f"accelsim: {run_dir / 'layers.csv'}: no column 'hardware' in the CSV"),
    ]
    for args, message in cases:
        result = cli("plot", *args, "-o", str(out))
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(message)
        assert not out.exists()
    bad = cli("plot", "energy", str(run_dir), "-o", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "unknown plot format '.gif'" in bad.stderr
    assert not (tmp_path / "x.gif").exists()
