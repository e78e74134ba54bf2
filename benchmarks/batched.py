"""K ladders trained one after the other against the same K trained as one batch.

For each K, K configurations of the paper's MLP ladder (784-1000-500-250-250-250-10,
different λ, σ and seeds, B = 100 labeled + 100 unlabeled rows per update) are fitted on
the same rows for the same number of updates, first as K separate
``LadderClassifier.fit`` calls, then together by ``fit_batched``, side by side in one
process (interleaved rounds, the median reported); on a GPU also as K fits side by side
(``fit_batched`` with ``max_models=1``: each model's own graphed fit, in a thread and on
a CUDA stream of its own). The rows are MNIST's first training
rows when ``--data-home`` or ``SKLEARN_LADDER_DATA`` points to MNIST, else random
pixels (the speed does not depend on the values). Besides the whole fits' times, the
batched fit's planning (validation, input scaling, the nets) and its pace after its first
epoch (its history's epoch durations: without the fixed costs of planning, warm-up,
capture and compilation, which a short fit weighs more than the paper's 90,000 updates
do). ``--profile UPDATES`` adds, per K, one
batched fit of that many updates under torch's profiler: where its time goes (the
device's kernel time per update against the wall time, and the largest kernels). Writes
``batched.json`` and ``batched.md``.

Example::

    python benchmarks/batched.py --models 1 2 4 8 --output benchmarks/results/batched-cpu
    python benchmarks/batched.py --device cuda --models 1 4 16 --updates 600
    python benchmarks/batched.py --device cuda --gpu-update compiled --fp32-precision tf32 \
        --models 1 16 --profile 120
"""

import argparse
import contextlib
import os
import statistics
import time
import warnings
from pathlib import Path

from machine import describe, machine_info, write_result
from speed import HIDDEN, kernel_profile, make_data, timed

from sklearn_ladder import LadderClassifier, _batched, fit_batched
from sklearn_ladder.datasets import load_mnist, mask_labels

LAMBDAS = ([1000, 10] + [0.1] * 5, [500, 5] + [0.1] * 5, [2000, 20] + [0.2] * 5,
           [1000, 1] + [0.01] * 5)
SIGMAS = (0.3, 0.2, 0.4, 0.25)


def _rows(n_rows: int, data_home):
    try:
        mnist = load_mnist(data_home=data_home)
        X, y = mnist.X_train[:n_rows], mask_labels(mnist.y_train[:n_rows], 100,
                                                   random_state=0)
        return X, y, "MNIST"
    except (FileNotFoundError, ValueError, TypeError):
        X, y = make_data(n_rows, 784, 100)
        return X, y, "random pixels"


def configurations(k: int, updates: int, device: str,
                   options: dict | None = None) -> list[LadderClassifier]:
    """K distinct settings: λ, σ and seed vary; ``options`` (e.g. ``fp32_precision``,
    ``gpu_update``) are the same for all."""
    return [LadderClassifier(layers=HIDDEN, denoising_costs=LAMBDAS[i % 4],
                             noise_std=SIGMAS[(i // 4) % 4], random_state=i,
                             max_iter=updates, device=device, **(options or {}))
            for i in range(k)]


@contextlib.contextmanager
def _seconds_in(total: list, owner, name: str, sign: int = 1):
    """Within the block, every call of ``owner.name`` adds its seconds (``sign`` -1:
    takes them away) to ``total[0]``."""
    function = getattr(owner, name)

    def timed(*args):
        start = time.perf_counter()
        result = function(*args)
        total[0] += sign * (time.perf_counter() - start)
        return result

    setattr(owner, name, timed)
    try:
        yield total
    finally:
        setattr(owner, name, function)


@contextlib.contextmanager
def host_seconds():
    """A list that gets the seconds ``fit_batched`` spends, within the block, on its
    per-update host work outside the batched update itself: each model's batch, callbacks
    and history. Where it nears the wall time of an update, the host, not the device,
    sets the pace. (A batch of one is its model's own fit: nothing counted.)"""
    total = [0.0]
    with _seconds_in(total, _batched, "_update"), \
            _seconds_in(total, _batched._BatchedUpdate, "__call__", sign=-1):
        yield total


def planning_seconds():
    """A list that gets the seconds ``fit_batched`` spends, within the block, planning
    its fits (validating each estimator's parameters and rows, scaling them, building
    its net) before any training."""
    return _seconds_in([0.0], _batched, "_plan_all")


def measure(k: int, X, y, updates: int, rounds: int, device: str,
            options: dict | None = None, profile_updates: int = 0) -> dict:
    """K separate fits against one batch of K; on a GPU also the K fits side by side
    (``max_models=1``: each its own graphed fit, in a thread and on a stream of its
    own); with ``profile_updates``, a batched fit of that many updates profiled too."""
    ways = {"sequential": lambda ms: [m.fit(X, y) for m in ms],
            "batched": lambda ms: fit_batched(ms, X, y, max_models=k)}
    if device.startswith("cuda") and k > 1:
        ways["side_by_side"] = lambda ms: fit_batched(ms, X, y, max_models=1)
    times = {way: [] for way in ways}
    host, steady, planning = [], [], []
    for _ in range(rounds):
        for way, fit in ways.items():
            models = configurations(k, updates, device, options)
            with host_seconds() as seconds, planning_seconds() as planned:
                times[way].append(timed(lambda ms=models, fit=fit: fit(ms), device)[0])
            if way == "batched":
                host.append(seconds[0])
                steady.append(after_first_epoch(models[0]))
                planning.append(planned[0])
    n_updates = models[0].n_updates_
    row = {"models": k, "updates_per_model": n_updates}
    for way, values in times.items():
        row[f"{way}_s"] = statistics.median(values)
        row[f"{way}_ms_per_update"] = 1000 * row[f"{way}_s"] / n_updates
    row["speedup"] = row["sequential_s"] / row["batched_s"]
    row["batched_host_ms_per_update"] = 1000 * statistics.median(host) / n_updates
    row["batched_planning_s"] = statistics.median(planning)
    if None not in steady:
        row["batched_steady_ms_per_update"] = statistics.median(steady)
    if profile_updates:
        try:
            row["profile"] = profiled_batch(k, X, y, profile_updates, device, options)
        except Exception as exc:  # the profiler with CUDA graphs: keep the timings anyway
            row["profile"] = {"error": repr(exc)}
    return row


def after_first_epoch(model) -> float | None:
    """ms per update of a fitted model's epochs after the first, from its history: the
    pace of its updates without a fit's fixed costs (validation, the first epoch's eager
    updates, capture and compilation, the end of training); None for a fit of one epoch.
    In a batch every model's epochs span the whole batch's updates."""
    history = model.history_
    if len(history) < 2:
        return None
    return 1000 * sum(history[1:, "dur"]) / sum(history[1:, "train_batch_count"])


def profiled_batch(k: int, X, y, updates: int, device: str, options: dict | None) -> dict:
    """Where a batched fit's time goes, per update: the wall time, the device's kernel
    time and its largest kernels (after the timed rounds: the compiled code is made, but
    the fit's three eager updates and its capture count)."""
    models = configurations(k, updates, device, options)
    profiled = kernel_profile(lambda: fit_batched(models, X, y, max_models=k), device)
    n = models[0].n_updates_
    return {"updates": n, "wall_ms_per_update": 1000 * profiled["wall_s"] / n,
            "kernel_ms_per_update": 1000 * profiled["kernel_s"] / n,
            "top": [{"name": t["name"], "ms_per_update": 1000 * t["s"] / n,
                     "launches_per_update": t["launches"] / n} for t in profiled["top"]]}


def markdown(result: dict) -> str:
    rows = result["rows"]
    one = next((r["batched_s"] for r in rows if r["models"] == 1), None)
    out = [describe(result["machine"]),
           f"Data: {result['data']}, {result['n_rows']} rows; {rows[0]['updates_per_model']} "
           f"updates per model (B = 100 + 100); fp32_precision={result['fp32_precision']!r}, "
           f"gpu_update={result['gpu_update']!r}; median of {result['rounds']} interleaved "
           f"rounds; wall time {result['wall_time_s']:.0f} s.", "",
           "| models K | K separate fits (s) | one batched fit (s) | of which planning (s) | "
           "speed-up | batched ms per update | of which host work outside the update (ms) | "
           "batched time / one model's | K own fits side by side (s) | "
           "batched ms per update after the first epoch | the same / one model's |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    one_steady = next((r.get("batched_steady_ms_per_update") for r in rows
                       if r["models"] == 1), None)
    for r in rows:
        ratio = f"{r['batched_s'] / one:.2f}" if one else "-"
        side = f"{r['side_by_side_s']:.2f}" if "side_by_side_s" in r else "-"
        host = f"{r['batched_host_ms_per_update']:.2f}" if r["models"] > 1 else "-"
        pace = r.get("batched_steady_ms_per_update")
        steady = "- | -" if pace is None else (
            f"{pace:.2f} | " + (f"{pace / one_steady:.2f}" if one_steady else "-"))
        out.append(f"| {r['models']} | {r['sequential_s']:.2f} | {r['batched_s']:.2f} | "
                   f"{r['batched_planning_s']:.2f} | {r['speedup']:.2f}× | "
                   f"{r['batched_ms_per_update']:.1f} | {host} | {ratio} | {side} | "
                   f"{steady} |")
    for r in rows:
        out += _profile_lines(r, result["machine"].get("device", "cpu"))
    return "\n".join(out) + "\n"


def _profile_lines(row: dict, device: str) -> list[str]:
    if "profile" not in row:
        return []
    p = row["profile"]
    if "error" in p:
        return ["", f"Profiling the batched fit of K = {row['models']} failed: {p['error']}"]
    what = "kernels" if device.startswith("cuda") else "operators (own time)"
    lines = ["", f"Profiled: one batched fit of K = {row['models']}, {p['updates']} updates: "
             f"{p['wall_ms_per_update']:.2f} ms wall per update, of which "
             f"{p['kernel_ms_per_update']:.2f} ms in {what} "
             f"({p['kernel_ms_per_update'] / p['wall_ms_per_update']:.0%}); the largest:", "",
             "| kernel | ms per update | launches per update |", "|---|---|---|"]
    for t in p["top"]:
        name = t["name"].replace("|", "/")
        name = name if len(name) <= 70 else name[:67] + "..."
        lines.append(f"| `{name}` | {t['ms_per_update']:.3f} | "
                     f"{t['launches_per_update']:.1f} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--fp32-precision", default="ieee", choices=["ieee", "bf16", "tf32"])
    parser.add_argument("--gpu-update", default="auto",
                        choices=["auto", "eager", "graph", "compiled"])
    parser.add_argument("--profile", type=int, default=0, metavar="UPDATES",
                        help="also profile one batched fit of this many updates per K: "
                             "its kernel time per update and largest kernels")
    parser.add_argument("--data-home", default=os.environ.get("SKLEARN_LADDER_DATA"))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/batched"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # short fits: convergence chatter
    X, y, data = _rows(args.rows, args.data_home)
    options = {"fp32_precision": args.fp32_precision, "gpu_update": args.gpu_update}
    start = time.perf_counter()
    rows = []
    for k in args.models:
        rows.append(measure(k, X, y, args.updates, args.rounds, args.device, options,
                            args.profile))
        print(rows[-1], flush=True)
    result = {"machine": machine_info(args.device), "data": data, "n_rows": len(X),
              **options, "rounds": args.rounds,
              "wall_time_s": time.perf_counter() - start, "rows": rows}
    write_result(args.output, "batched", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
