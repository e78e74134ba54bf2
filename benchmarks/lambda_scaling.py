"""Does scaling λ down with the number of inputs make the defaults safe on small tables?

The paper's λ_0 = 1000 weighs the reconstruction of 784 pixels; a table has a handful of
features. Two rules are tried against the defaults, on the cells of ``datasets.py`` (same
splits, same scaling, same seeds), for ``LadderClassifier`` and ``LadderRegressor``:

- ``lambda0``: λ_0 × min(1, n_features / 784), the other λ as the defaults;
- ``all``: every λ × min(1, n_features / 784).

Each run is appended to ``lambda-scaling-runs.jsonl`` as it ends; ``--summarize`` writes
``lambda-scaling.md`` (mean per cell and rule, beside the defaults and the encoder alone
from a ``datasets.json``).

Example::

    OMP_NUM_THREADS=1 python benchmarks/lambda_scaling.py --cells "digits:5" "wine:3" \\
        --output benchmarks/results/lambda-scaling
    python benchmarks/lambda_scaling.py --summarize --output benchmarks/results/lambda-scaling \\
        --baseline benchmarks/results/datasets/datasets.json
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from datasets import CLASSIFICATION, ENCODER, LADDER, REGRESSION, _fit_score, _split

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._base import _default_denoising_costs

# The estimators' default λ for their default network (five hidden layers, then the output).
PAPER = np.array(_default_denoising_costs("full", 6))
RULES = ("lambda0", "all")


def scaled_costs(rule: str, n_features: int) -> list[float]:
    scale = min(1.0, n_features / 784)
    factors = np.r_[scale, np.ones(len(PAPER) - 1)] if rule == "lambda0" else scale
    return list(PAPER * factors)


def run(task: str, cells, seeds, log: Path) -> None:
    table = CLASSIFICATION if task == "classification" else REGRESSION
    estimator = LadderClassifier if task == "classification" else LadderRegressor
    for dataset, n_labels in cells:
        X, y = table[dataset][0](None)
        for seed in seeds:
            split = _split(np.asarray(X, float), np.asarray(y), n_labels, seed, task)
            for rule in RULES:
                costs = scaled_costs(rule, X.shape[1])
                start = time.perf_counter()
                score = _fit_score(rule, estimator(denoising_costs=costs, random_state=seed),
                                   split, task)
                record = {"task": task, "dataset": dataset, "labels": n_labels,
                          "seed": seed, "rule": rule, "score": score,
                          "seconds": time.perf_counter() - start}
                with open(log, "a") as f:
                    f.write(json.dumps(record) + "\n")
                print(record, flush=True)


def summarize(log: Path, baseline: Path) -> str:
    runs = [json.loads(line) for line in log.read_text().splitlines() if line]
    base = json.loads(baseline.read_text())["runs"]
    out = ["| data set | labels | seeds | " + " | ".join(
        [f"λ scaled ({rule})" for rule in RULES] + [LADDER, ENCODER]) + " |",
        "|---|---|---|" + "---|" * (len(RULES) + 2)]
    cells = sorted({(r["dataset"], r["labels"]) for r in runs},
                   key=lambda c: [(r["dataset"], r["labels"]) for r in runs].index(c))
    for dataset, labels in cells:
        scores = {rule: {r["seed"]: r["score"] for r in runs if (r["dataset"], r["labels"],
                  r["rule"]) == (dataset, labels, rule)} for rule in RULES}
        seeds = sorted(set.intersection(*(set(s) for s in scores.values())))
        means = [statistics.fmean(scores[rule][s] for s in seeds) for rule in RULES]
        for method in (LADDER, ENCODER):
            means.append(statistics.fmean(
                r["score"] for r in base if (r["dataset"], r["labels"], r["method"]) ==
                (dataset, labels, method) and r["seed"] in seeds))
        out.append(f"| {dataset} | {labels} | {seeds} | "
                   + " | ".join(f"{m:.2f}" for m in means) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["classification", "regression"],
                        default="classification")
    parser.add_argument("--cells", nargs="+", default=["breast cancer:5", "wine:3"],
                        help="DATASET:LABELS pairs of datasets.py")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--baseline", type=Path,
                        default=Path("benchmarks/results/datasets/datasets.json"))
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    log = args.output / "lambda-scaling-runs.jsonl"
    if args.summarize:
        table = summarize(log, args.baseline)
        (args.output / "lambda-scaling.md").write_text(table)
        print(table)
        return 0
    cells = [(c.rsplit(":", 1)[0], int(c.rsplit(":", 1)[1])) for c in args.cells]
    run(args.task, cells, args.seeds, log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
