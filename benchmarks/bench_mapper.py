"""The mapper alone: time to map every layer of ResNet-18 and ResNet-50 (batch 1) on each
bundled config, cache cleared before each network, with the candidates evaluated per layer.

Targets (issue 3, design.md §8): the whole `accelsim run` of ResNet-50 on eyeriss_v1,
mapper included, ≤ 10 s on a 2-core machine, ResNet-18 ≤ 3 s — so the mapper's share must
stay a fraction of that. The baseline printed beside it is one exact nest analysis per
layer (``analyze`` of the chosen mapping): what mapping each layer once costs at least.

    python benchmarks/bench_mapper.py [--repeat 3] [--per-layer] [--models resnet18 ...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from accelsim.analysis import analyze
from accelsim.arch import Architecture, bundled_names, load_architecture
from accelsim.mapping.mapper import MapperResult, cache_info, clear_cache, map_layers
from accelsim.workload.layer import Layer
from accelsim.workload.zoo import get_model


def best_of(repeat: int, action: Callable[[], object]) -> tuple[float, object]:
    """Fastest of ``repeat`` runs, each with a cold mapper cache."""
    times, result = [], None
    for _ in range(repeat):
        clear_cache()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench(arch: Architecture, layers: tuple[Layer, ...], repeat: int
          ) -> tuple[float, float, int, tuple[MapperResult, ...]]:
    """(mapper seconds, baseline seconds, distinct shapes searched, results)."""
    seconds, results = best_of(repeat, lambda: map_layers(layers, arch))
    shapes = cache_info().misses
    baseline, _ = best_of(repeat, lambda: [analyze(layer, arch, r.mapping)
                                           for layer, r in zip(layers, results, strict=True)])
    return seconds, baseline, shapes, results


def report_layers(results: tuple[MapperResult, ...]) -> None:
    print(f"    {'layer':24s} {'cycles':>10s} {'bound':>10s} {'util':>6s} {'uJ':>9s} "
          f"{'evaluated':>9s} {'rejected':>8s}  mapping")
    for r in results:
        print(f"    {r.layer:24s} {r.cycles:10d} {r.bound_cycles:10d} {r.utilization:6.3f} "
              f"{(r.energy_pj or 0) * 1e-6:9.2f} {r.candidates_evaluated:9d} "
              f"{r.candidates_rejected:8d}  {r.mapping.describe()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["resnet18", "resnet50"])
    parser.add_argument("--configs", nargs="+", default=list(bundled_names()))
    parser.add_argument("--per-layer", action="store_true",
                        help="print every layer's result and candidates evaluated")
    args = parser.parse_args()
    print(f"{'config':14s} {'model':10s} {'layers':>6s} {'shapes':>6s} {'mapper s':>9s} "
          f"{'analyze s':>9s} {'evaluated':>10s} {'cycles':>11s} {'bound':>11s} {'uJ':>9s}")
    for config in args.configs:
        arch = load_architecture(config)
        for model in args.models:
            layers = get_model(model)
            seconds, baseline, shapes, results = bench(arch, layers, args.repeat)
            print(f"{config:14s} {model:10s} {len(layers):6d} {shapes:6d} "
                  f"{seconds:9.2f} {baseline:9.2f} "
                  f"{sum(r.candidates_evaluated for r in results):10d} "
                  f"{sum(r.cycles for r in results):11d} "
                  f"{sum(r.bound_cycles for r in results):11d} "
                  f"{sum(r.energy_pj or 0 for r in results) * 1e-6:9.1f}")
            if args.per_layer:
                report_layers(results)


if __name__ == "__main__":
    main()
