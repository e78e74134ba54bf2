"""Training speed of the paper's MLP ladder, side by side in one process.

Measures ms per update (``B`` labeled + ``B`` unlabeled rows) of

- ``LadderClassifier.fit`` through skorch, as users run it;
- a minimal plain-PyTorch loop over the same module, cost and optimiser (no skorch);
- the straightforward eager reference of ``reference_ladder.py`` (plain Adam);

in interleaved rounds (the median over rounds is reported, since the machine is noisy),
plus the machine's measured fp32 matmul throughput, the fraction of it achieved, the
prediction throughput and the peak memory. Writes ``speed.json`` and ``speed.md``.

Example::

    python benchmarks/speed.py                 # paper MLP, B = 100, CPU
    python benchmarks/speed.py --device cuda
"""

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from machine import describe, machine_info, write_result
from reference_ladder import ReferenceLadder
from torch.utils.flop_counter import FlopCounterMode

from sklearn_ladder import LadderClassifier
from sklearn_ladder._allocator import retain_freed_memory
from sklearn_ladder._ladder import Ladder, LadderCost

HIDDEN = (1000, 500, 250, 250, 250)
COSTS = [1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1]
NOISE = [0.3] * 7


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def make_data(n_rows: int, n_features: int, n_labeled: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n_rows, n_features), dtype=np.float32)
    y = np.full(n_rows, -1)
    y[:n_labeled] = np.arange(n_labeled) % 10
    return X, y


def batches(n_rows, n_labeled, batch_size, n_updates, seed=0):
    rng = np.random.default_rng(seed)
    labeled = rng.integers(0, n_labeled, (n_updates, batch_size))
    unlabeled = rng.integers(0, n_rows, (n_updates, batch_size))
    return torch.from_numpy(np.concatenate([labeled, unlabeled], axis=1))


def fit_timed(X, y, batch_size, epochs, device, **params) -> tuple[LadderClassifier, float]:
    """The fitted LadderClassifier and its ms per update, epochs after the first (warm-up)."""
    params = {"layers": HIDDEN, **params}
    clf = LadderClassifier(batch_size=batch_size, max_epochs=epochs, device=device,
                           random_state=0, **params).fit(X, y)
    durations = clf.history_[1:, "dur"]
    updates = clf.history_[1:, "train_batch_count"]
    return clf, 1000 * sum(durations) / sum(updates)


def time_loop(step, X, y, index, device) -> float:
    """ms per update of ``step(xb, yb)`` over precomputed batch indices (first 3: warm-up)."""
    X, y = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    index = index.to(device)
    half = index.shape[1] // 2
    for rows in index[:3]:
        step(X[rows], y[rows[:half]])

    def updates():
        for rows in index[3:]:
            step(X[rows], y[rows[:half]])

    seconds, _ = timed(updates, device)
    return 1000 * seconds / (len(index) - 3)


def timed(function, device: str) -> tuple[float, object]:
    """The wall seconds of ``function()`` (the device's work it queued included) and
    what it returned."""
    _sync(device)
    start = time.perf_counter()
    result = function()
    _sync(device)
    return time.perf_counter() - start, result


def kernel_profile(function, device: str, top: int = 10) -> dict:
    """``function()`` run under torch's profiler: its wall seconds, the seconds the device
    spent in kernels (on the CPU: the operators' own time), the ``top`` kernels by time,
    each with its seconds and launches, and what ``function`` returned. Kernels that a
    CUDA graph replays count."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device.startswith("cuda")

    def own_us(event) -> float:
        return event.self_device_time_total if cuda else event.self_cpu_time_total

    activity = ProfilerActivity.CUDA if cuda else ProfilerActivity.CPU
    with profile(activities=[activity]) as profiler:
        wall_s, result = timed(function, device)
    events = sorted((e for e in profiler.key_averages() if own_us(e) > 0), key=own_us,
                    reverse=True)
    return {"wall_s": wall_s, "kernel_s": sum(map(own_us, events)) / 1e6, "result": result,
            "top": [{"name": e.key, "s": own_us(e) / 1e6, "launches": e.count}
                    for e in events[:top]]}


def gpu_busy_fraction(step, X, y, index, device) -> float | None:
    """Fraction of the timed updates' wall time that the GPU spends in kernels (CUDA
    only): well below 1, the GPU waits for the host (launch-bound)."""
    if not device.startswith("cuda"):
        return None
    profiled = kernel_profile(lambda: time_loop(step, X, y, index, device), device)
    wall_ms = profiled["result"] * (len(index) - 3)
    # the 3 warm-up updates' kernels count too: an upper bound
    return profiled["kernel_s"] * 1000 / wall_ms


def plain_step_fn(n_features, device):
    torch.manual_seed(0)
    module = Ladder(n_features, [*HIDDEN, 10], COSTS, NOISE).to(device).train()
    cost = LadderCost(COSTS).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.002, fused=True)

    def step(xb, yb):
        optimizer.zero_grad()
        loss = cost(module(xb), yb)
        loss.backward()
        optimizer.step()
        return loss

    return module, step


def reference_step_fn(n_features, device):
    torch.manual_seed(0)
    module = ReferenceLadder([n_features, *HIDDEN, 10], COSTS, NOISE).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.002)

    def step(xb, yb):
        optimizer.zero_grad()
        loss, _ = module(xb, yb)
        loss.backward()
        optimizer.step()
        return loss

    return module, step


def update_flops(step, xb, yb) -> int:
    """Floating-point operations of the matrix products of one update (forward + backward)."""
    with FlopCounterMode(display=False) as counter:
        step(xb, yb)
    return counter.get_total_flops()


def matmul_peak_gflops(device, size=2048, repeats=10) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(2):
        a @ b

    def products():
        for _ in range(repeats):
            a @ b

    seconds, _ = timed(products, device)
    return 2 * size**3 * repeats / seconds / 1e9


def prediction_rows_per_s(X, y, device, clf=None) -> float:
    """Rows per second of ``clf.predict_proba`` (by default a briefly fitted paper MLP)."""
    if clf is None:
        clf = LadderClassifier(HIDDEN, max_epochs=1, device=device, random_state=0).fit(
            X[:1000], y[:1000])
    clf.predict_proba(X[:100])
    start = time.perf_counter()
    clf.predict_proba(X)
    return len(X) / (time.perf_counter() - start)


def fit_options(device: str) -> tuple[dict, dict]:
    """LadderClassifier's parameters for the default update, and the options timed beside
    it by name: on the CPU fp32_precision="bf16" (oneDNN's precision); on a GPU "skorch" is
    the eager update and the graphed ones are the options (gpu_update; the first epoch,
    which holds the capture and the compilation, is not timed), the compiled one also with
    TF32 products."""
    if device == "cpu":
        return {}, {"skorch_bf16": {"fp32_precision": "bf16"}}
    return {"gpu_update": "eager"}, {
        "skorch_graph": {"gpu_update": "graph"},
        "skorch_compiled": {"gpu_update": "compiled"},
        "skorch_compiled_tf32": {"gpu_update": "compiled", "fp32_precision": "tf32"}}


def time_rounds(steps, X, y, index, batch_size, rounds, skorch_epochs,
                device) -> dict[str, list]:
    """ms per update of every implementation in each of ``rounds`` interleaved rounds
    (``steps``: the plain loop's and the reference's update functions)."""
    plain, reference = steps["plain"], steps["reference"]
    default, options = fit_options(device)
    fits = {"skorch": default, **options}
    times = {"reference": [], "plain": [], **{key: [] for key in fits}}
    for r in range(rounds):
        times["reference"].append(time_loop(reference, X, y, index, device))
        times["plain"].append(time_loop(plain, X, y, index, device))
        for key, params in fits.items():
            times[key].append(fit_timed(X, y, batch_size, skorch_epochs, device, **params)[1])
        print(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{k} {v[-1]:.1f} ms" for k, v in times.items()), flush=True)
    return times


def matmul_flops(steps, X, batch_size, device) -> dict[str, int]:
    """Matrix-product flops of one update of the ladder module and of the reference."""
    xb = torch.from_numpy(X[:2 * batch_size]).to(device)
    yb = torch.from_numpy(np.arange(batch_size) % 10).to(device)
    return {"ladder": update_flops(steps["plain"], xb, yb),
            "reference": update_flops(steps["reference"], xb, yb)}


def summarize(times: dict, flops: dict, peak: float) -> dict:
    """Medians over rounds, ratios paired within each round (they share the machine's
    state: their median is the headline), and the fraction of the matmul peak achieved."""
    ms = {k: statistics.median(v) for k, v in times.items()}
    speedups = [a / b for a, b in zip(times["reference"], times["skorch"])]
    overheads = [a / b - 1 for a, b in zip(times["skorch"], times["plain"])]
    return {
        "ms_per_update": ms, "ms_per_update_rounds": times,
        "speedup_vs_reference": statistics.median(speedups),
        "speedup_vs_reference_rounds": speedups,
        "skorch_overhead_vs_plain": statistics.median(overheads),
        "skorch_overhead_vs_plain_rounds": overheads,
        "matmul_gflop_per_update": {k: v / 1e9 for k, v in flops.items()},
        "matmul_peak_gflops": peak,
        "achieved_fraction_of_peak": {
            "skorch": flops["ladder"] / (ms["skorch"] / 1000) / 1e9 / peak,
            "reference": flops["reference"] / (ms["reference"] / 1000) / 1e9 / peak},
        "paper_schedule_minutes": {k: 90000 * ms[k] / 60000
                                   for k in times if k.startswith("skorch")},
    }


def run(device="cpu", batch_size=100, rounds=5, updates=100, skorch_epochs=3,
        n_features=784, output=Path("benchmarks/results")) -> dict:
    # LadderClassifier.fit keeps freed memory in the process (see sklearn_ladder._allocator);
    # the setting is process-wide, so set it first: all three run on the same allocator.
    allocator_tuned = retain_freed_memory()
    n_rows = batch_size * updates
    X, y = make_data(n_rows, n_features, n_labeled=batch_size)
    index = batches(n_rows, batch_size, batch_size, updates + 3)
    steps = {"plain": plain_step_fn(n_features, device)[1],
             "reference": reference_step_fn(n_features, device)[1]}
    flops = matmul_flops(steps, X, batch_size, device)
    start = time.perf_counter()
    times = time_rounds(steps, X, y, index, batch_size, rounds, skorch_epochs, device)
    result = {
        "setting": {"layers": [n_features, *HIDDEN, 10], "batch_size": batch_size,
                    "rounds": rounds, "updates_per_round": updates,
                    "skorch_epochs_per_round": skorch_epochs,
                    "glibc_thresholds_raised_for_all": allocator_tuned},
        **summarize(times, flops, matmul_peak_gflops(device)),
        "prediction_rows_per_s": prediction_rows_per_s(X, y, device),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_time_s": time.perf_counter() - start,
        "machine": machine_info(device),
    }
    if device.startswith("cuda"):
        result["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
        result["gpu_busy_fraction_plain_loop"] = gpu_busy_fraction(steps["plain"], X, y,
                                                                   index, device)
    write_result(output, "speed", result, markdown(result))
    return result


def markdown(r: dict) -> str:
    ms, frac, gflop = r["ms_per_update"], r["achieved_fraction_of_peak"], \
        r["matmul_gflop_per_update"]
    rows = [("LadderClassifier (skorch)", "skorch", "ladder", frac["skorch"]),
            ("plain PyTorch loop, same module", "plain", "ladder", None),
            ("eager reference", "reference", "reference", frac["reference"])]
    options = {"skorch_bf16": 'LadderClassifier, fp32_precision="bf16" (option)',
               "skorch_graph": 'LadderClassifier, gpu_update="graph"',
               "skorch_compiled": 'LadderClassifier, gpu_update="compiled"',
               "skorch_compiled_tf32": 'LadderClassifier, gpu_update="compiled", '
                                       'fp32_precision="tf32" (option)'}
    for key, label in reversed(options.items()):
        if key in ms:
            rows.insert(1, (label, key, "ladder", None))
    if "skorch_graph" in ms:
        rows[0] = ('LadderClassifier (skorch), gpu_update="eager"', *rows[0][1:])
    rounds = ", ".join(f"{v:.2f}" for v in r["speedup_vs_reference_rounds"])
    overheads = ", ".join(f"{v:+.1%}" for v in r["skorch_overhead_vs_plain_rounds"])
    minutes = ", ".join(f"{k} {v:.0f} min" for k, v in r["paper_schedule_minutes"].items())
    lines = [
        describe(r["machine"]),
        f"Paper MLP {r['setting']['layers']}, B = {r['setting']['batch_size']} labeled + "
        f"{r['setting']['batch_size']} unlabeled rows per update; "
        f"{r['setting']['updates_per_round']} timed updates per implementation in each of "
        f"{r['setting']['rounds']} interleaved rounds (medians shown); "
        f"wall time {r['wall_time_s']:.0f} s.",
        "",
        "| implementation | ms / update | vs reference | matmul GFLOP / update | "
        "fraction of matmul peak |",
        "|---|---|---|---|---|",
        *(f"| {label} | {ms[key]:.2f} | {ms['reference'] / ms[key]:.2f}x | "
          f"{gflop[flops]:.2f} | {'' if f is None else format(f, '.0%')} |"
          for label, key, flops, f in rows),
        "",
        f"LadderClassifier vs the reference, paired within each round: "
        f"**{r['speedup_vs_reference']:.2f}x** (median; rounds {rounds}). "
        f"skorch overhead over the plain loop: **{r['skorch_overhead_vs_plain']:+.1%}** "
        f"(median; rounds {overheads}).",
        "",
        f"Measured fp32 matmul peak: {r['matmul_peak_gflops']:.0f} GFLOP/s. "
        f"Paper schedule (90,000 updates) at these speeds: {minutes}. Prediction: "
        f"{r['prediction_rows_per_s']:,.0f} rows/s. Peak RSS: {r['peak_rss_mb']:.0f} MB. "
        f"glibc malloc thresholds raised for all implementations: "
        f"{r['setting']['glibc_thresholds_raised_for_all']}.",
    ]
    if "peak_gpu_memory_mb" in r:
        lines.append(f"\nPeak GPU memory: {r['peak_gpu_memory_mb']:.0f} MB. GPU busy (kernel "
                     f"time / wall time) in the plain loop: "
                     f"{r['gpu_busy_fraction_plain_loop']:.0%}.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=100,
                        help="timed updates per round and method")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    run(args.device, args.batch_size, args.rounds, args.updates, output=args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
