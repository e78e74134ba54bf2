"""Peak memory of fitting MNIST-sized data (60,000 x 784) given as float64.

The estimator converts float64 input to float32 once and shares that array with torch; the
peak resident set size (RSS) of the process is reported next to the size of the input.
Writes ``memory.json`` and ``memory.md``.

Example::

    python benchmarks/memory.py            # 1 epoch, paper MLP, synthetic data
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from machine import machine_info

from sklearn_ladder import LadderClassifier


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.random((args.rows, 784))  # float64, as users often pass it
    y = np.full(args.rows, -1)
    y[:100] = np.arange(100) % 10
    before = rss_mb()
    start = time.perf_counter()
    clf = LadderClassifier(max_epochs=args.epochs, random_state=0).fit(X, y)
    clf.predict_proba(X[:10000])
    result = {
        "rows": args.rows, "epochs": args.epochs,
        "input_float64_mb": X.nbytes / 2**20,
        "rss_before_fit_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_time_s": time.perf_counter() - start,
        "machine": machine_info(),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "memory.json").write_text(json.dumps(result, indent=1))
    table = ("| rows x features | input (float64) | RSS before fit | peak RSS | epochs | "
             "wall time |\n|---|---|---|---|---|---|\n"
             f"| {args.rows} x 784 | {result['input_float64_mb']:.0f} MB | "
             f"{before:.0f} MB | {result['peak_rss_mb']:.0f} MB | {args.epochs} | "
             f"{result['wall_time_s']:.0f} s |\n")
    (args.output / "memory.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
