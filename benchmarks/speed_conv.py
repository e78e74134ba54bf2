"""Training and prediction speed of the convolutional ladders (paper Tables 2-3).

For each model, ms per update of ``LadderClassifier.fit`` through skorch (``B`` labeled +
``B`` unlabeled rows per update; the first epoch is warm-up and not counted), the
matrix-product and convolution GFLOP of one update (forward and backward, counted by
torch), the time the paper's schedule would take at that speed, and the prediction
throughput (float64, row by row). Writes ``speed-conv.json`` and ``speed-conv.md``.

Example::

    python benchmarks/speed_conv.py                          # Conv-Small Γ and full, Conv-FC
    python benchmarks/speed_conv.py --models conv-large-gamma --updates 10
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from machine import describe, machine_info
from speed import fit_timed, make_data, prediction_rows_per_s, update_flops

# name: (estimator parameters, input shape, updates of the paper's schedule)
MODELS = {
    "conv-small-gamma": ({"layers": "conv-small", "mode": "gamma",
                          "denoising_costs": [0] * 9 + [1]}, (1, 28, 28), 90000),
    "conv-small-full": ({"layers": "conv-small", "mode": "full"}, (1, 28, 28), 90000),
    "conv-fc-full": ({"layers": "conv-fc", "mode": "full"}, (1, 28, 28), 90000),
    "conv-large-gamma": ({"layers": "conv-large", "mode": "gamma",
                          "denoising_costs": [0] * 12 + [4], "activation": "leaky_relu",
                          "top_scale": False}, (3, 32, 32), 70 * 500),
}


def measure(name: str, device: str, batch_size: int, updates: int,
            fp32_precision: str = "ieee") -> dict:
    params, shape, paper_updates = MODELS[name]
    params = {**params, "fp32_precision": fp32_precision}
    n_features = int(np.prod(shape))
    X, y = make_data(batch_size * updates, n_features, n_labeled=batch_size)
    start = time.perf_counter()
    clf, ms = fit_timed(X, y, batch_size, 2, device, input_shape=shape, **params)
    module = clf.net_.module_.train()
    xb = torch.from_numpy(X[:2 * batch_size]).to(device)
    yb = torch.from_numpy(np.arange(batch_size) % 10).to(device)
    cost = clf.net_.criterion_
    flops = update_flops(lambda xb, yb: cost(module(xb), yb).backward(), xb, yb)
    module.eval()
    rows_per_s = prediction_rows_per_s(X[:500], y[:500], device, clf=clf)
    result = {"model": name, "input_shape": shape, "parameters": params,
              "ms_per_update": ms, "gflop_per_update": flops / 1e9,
              "gflop_per_s": flops / 1e9 / (ms / 1000),
              "paper_schedule_hours": paper_updates * ms / 3.6e6,
              "prediction_rows_per_s": rows_per_s,
              "wall_time_s": time.perf_counter() - start}
    print(f"{name}: {ms:.0f} ms / update, {flops / 1e9:.1f} GFLOP / update, "
          f"{rows_per_s:.0f} rows/s predicted", flush=True)
    return result


def markdown(results: list[dict], setting: dict) -> str:
    lines = [
        describe(setting["machine"]),
        f"B = {setting['batch_size']} labeled + {setting['batch_size']} unlabeled rows per "
        f"update; {setting['updates']} timed updates per model after a warm-up epoch; "
        f"fp32_precision={setting['fp32_precision']!r}.",
        "",
        "| model | input | ms / update | GFLOP / update | GFLOP/s | paper schedule (h) | "
        "prediction rows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {'×'.join(map(str, r['input_shape']))} | "
            f"{r['ms_per_update']:.0f} | {r['gflop_per_update']:.1f} | {r['gflop_per_s']:.0f} "
            f"| {r['paper_schedule_hours']:.1f} | {r['prediction_rows_per_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["conv-small-gamma", "conv-small-full",
                                                        "conv-fc-full"],
                        choices=list(MODELS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--updates", type=int, default=20,
                        help="timed updates per model (after a warm-up epoch as long)")
    parser.add_argument("--fp32-precision", default="ieee", choices=["ieee", "bf16"],
                        help="LadderClassifier's fp32_precision (CPU products, convolutions)")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    results = [measure(name, args.device, args.batch_size, args.updates, args.fp32_precision)
               for name in args.models]
    setting = {"batch_size": args.batch_size, "updates": args.updates,
               "fp32_precision": args.fp32_precision, "machine": machine_info(args.device)}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "speed-conv.json").write_text(
        json.dumps({"setting": setting, "results": results}, indent=1))
    table = markdown(results, setting)
    (args.output / "speed-conv.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
