"""Which change to the defaults makes the ladder safe on small tables?

The paper's λ_0 = 1000 weighs the reconstruction of 784 pixels; a table has a handful of
features. Changes to the defaults (the variants) are tried on the cells of
``datasets.py`` (same splits, same scaling, same seeds), for ``LadderClassifier`` and
``LadderRegressor``. Every variant trains the paper's network (hidden layers
1000-500-250-250-250: the defaults' on every table until ``layers="auto"`` chose a
narrower one below 100 features) unless it names its own layers, so that the earlier
measurements stay reproducible:

- ``defaults``, ``encoder alone``: the ladder's other defaults and ``mode="supervised"``,
  to rerun with ``--init-offset`` (the same split trained from another seed);
- ``lambda0``: λ_0 × min(1, n_features / 784), the other λ as the defaults;
- ``all``: every λ × min(1, n_features / 784);
- ``lambda/10``, ``lambda/100``: every λ divided by 10 or 100;
- ``lambda x 1e-6``, ``lambda x 1e-6, labeled statistics``: a decoder whose cost is
  negligible, with the batch statistics "auto" chooses or the paper's (the latter differs
  from the encoder alone by nothing but the random numbers it draws: what is left of a
  gap there is not the decoder's doing);
- ``no lambda0``: λ_0 = 0 (no input reconstruction), the other λ as the defaults;
- ``lambda0 only``: the defaults' λ_0 alone, no hidden-layer cost;
- ``sigma 0.15``: the default λ with half the default noise;
- ``encoder alone, sigma 0.15``: ``mode="supervised"`` with half the default noise (the
  baseline that ``sigma 0.15`` is to beat);
- ``input sigma 0.1``, ``input sigma 0.05``: the default noise on the hidden layers, σ_0
  of 0.1 or 0.05 on the input; ``encoder alone, input sigma 0.1`` its baseline;
- ``hidden sigma 0.15``: σ_0 = 0.3 on the input, half the default on the hidden layers
  (with the input ones: which noise blurs a table of two features?);
- ``manifold``: λ = 100, 10, 1, then 0.1 (the vector that beat its encoder alone in
  ``regression_manifold.py``, where the MNIST λ lost to it).
- ``gamma``: the Γ-model (``mode="gamma"``, the top layer alone denoised, λ = 0.5);
  ``top lambda 10``: the defaults with the top layer's λ raised from 0.1 to 10 (does
  denoising the class layer, a consistency cost on the unlabeled rows, help a table
  whose classes are clusters of a few features?);
- ``without the few-features rules``: every layer's λ and σ = 0.3 on every layer, what
  the defaults are on 10 features or more (on fewer, they lower σ_0 and keep λ_0 alone:
  is their line well placed?);
- ``labeled statistics``, ``unlabeled statistics``: ``labeled_statistics`` fixed to the
  paper's (the labeled rows normalised with their own batch statistics) or to the
  unlabeled rows' statistics, where "auto" would choose the other;
- ``1,000 updates``, ``6,000 updates`` (classifier), ``300 updates, regressor`` and its
  1,000 and 3,000: the defaults on ``layers="auto"``'s network trained that many updates
  (``max_iter``), against ``max_epochs="auto"``'s length (is its floor of updates, which
  sets the length on every table here but MNIST's, well placed?).

Two probe data sets besides ``datasets.py``'s (``PROBES``: MNIST rows, fewer of them or
with pixels pooled) ask whether rows or features decide which network wins.

Each run is appended to ``lambda-scaling-runs.jsonl`` as it ends; ``--summarize`` writes
``lambda-scaling.md`` (mean per cell and variant, beside the defaults and the encoder
alone from a ``datasets.json``, over the seeds every variant of the cell ran).

Example::

    OMP_NUM_THREADS=1 python benchmarks/lambda_scaling.py --cells "digits:5" "wine:3" \\
        --variants lambda0 all --output benchmarks/results/lambda-scaling
    python benchmarks/lambda_scaling.py --summarize --output benchmarks/results/lambda-scaling \\
        --baseline benchmarks/results/datasets/datasets.json
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from datasets import (
    CLASSIFICATION,
    ENCODER,
    LADDER,
    REGRESSION,
    _fit_score,
    _mnist_subsample,
    _split,
    default_costs,
)

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._base import PAPER_LAYERS

# The default λ of the paper's network (five hidden layers, then the output), which every
# variant trains unless it names its own layers (variant_params).
PAPER = default_costs(LadderClassifier(PAPER_LAYERS), 784)
SIGMA = LadderClassifier._auto_noise_std  # σ of noise_std="auto" (0.3) above the input
REGRESSOR_SIGMA = LadderRegressor._auto_noise_std  # the regressor's (0.15)
BOTTOM = np.arange(len(PAPER)) == 0
TOP = np.arange(len(PAPER)) == len(PAPER) - 1
NARROW = [500, 250]
# The default λ of that network (1000, 10, 0.1, 0.1), and the regressor's σ on each of
# its layers above a clean input.
NARROW_COSTS = default_costs(LadderRegressor(NARROW), 20).tolist()
NARROW_CLEAN_INPUT = [0.0] + [REGRESSOR_SIGMA] * (len(NARROW_COSTS) - 1)


def _mnist_probe(n_rows: int, pool: int, data_home=None):
    """The first ``n_rows`` of datasets.py's 5,000 MNIST rows, each ``pool`` × ``pool``
    block of pixels averaged (784 / pool² features): which of rows or features decides
    whether the paper's wide network beats a narrow one?"""
    X, y = _mnist_subsample(data_home)
    side = 28 // pool
    X = X[:n_rows].reshape(n_rows, side, pool, side, pool).mean(axis=(2, 4))
    return X.reshape(n_rows, -1), y[:n_rows]


# Probe data sets (classification, not in datasets.py's table): name: (loader, labels).
PROBES = {
    "MNIST 1,500 rows (784 features)": (lambda home: _mnist_probe(1500, 1, home), [5]),
    "MNIST 5,000 rows at 14x14 (196 features)": (lambda home: _mnist_probe(5000, 2, home),
                                                 [5]),
}


def scaled_costs(rule: str, n_features: int) -> list[float]:
    scale = min(1.0, n_features / 784)
    factors = np.r_[scale, np.ones(len(PAPER) - 1)] if rule == "lambda0" else scale
    return list(PAPER * factors)


def layer_noise(input_sigma: float, hidden_sigma: float = SIGMA) -> list[float]:
    """σ_0 on the input, another σ on every layer above it (the default network)."""
    return [input_sigma] + [hidden_sigma] * (len(PAPER) - 1)


def trained_for(n_updates: int):
    """The variant of layers="auto"'s network (on fewer than 100 features) trained for
    ``n_updates`` updates."""
    return lambda d: {"layers": NARROW, "max_iter": n_updates}


# variant: the estimator's parameters for a data set of n_features inputs.
VARIANTS = {
    "defaults": lambda d: {},
    "encoder alone": lambda d: {"mode": "supervised"},
    "lambda0": lambda d: {"denoising_costs": scaled_costs("lambda0", d)},
    "all": lambda d: {"denoising_costs": scaled_costs("all", d)},
    "lambda/10": lambda d: {"denoising_costs": list(PAPER / 10)},
    "lambda/100": lambda d: {"denoising_costs": list(PAPER / 100)},
    "lambda x 1e-6": lambda d: {"denoising_costs": list(PAPER * 1e-6)},
    "lambda x 1e-6, labeled statistics": lambda d: {"denoising_costs": list(PAPER * 1e-6),
                                                     "labeled_statistics": "labeled"},
    "no lambda0": lambda d: {"denoising_costs": list(np.where(BOTTOM, 0.0, PAPER))},
    "lambda0 only": lambda d: {"denoising_costs": list(np.where(BOTTOM, PAPER, 0.0))},
    "sigma 0.15": lambda d: {"noise_std": 0.15},
    "encoder alone, sigma 0.15": lambda d: {"mode": "supervised", "noise_std": 0.15},
    "manifold": lambda d: {"denoising_costs": [100.0, 10.0, 1.0] + [0.1] * (len(PAPER) - 3)},
    "input sigma 0.1": lambda d: {"noise_std": layer_noise(0.1)},
    "input sigma 0.05": lambda d: {"noise_std": layer_noise(0.05)},
    "encoder alone, input sigma 0.1": lambda d: {"mode": "supervised",
                                                 "noise_std": layer_noise(0.1)},
    "hidden sigma 0.15": lambda d: {"noise_std": layer_noise(SIGMA, SIGMA / 2)},
    "labeled statistics": lambda d: {"labeled_statistics": "labeled"},
    "gamma": lambda d: {"mode": "gamma"},
    "top lambda 10": lambda d: {"denoising_costs": list(np.where(TOP, 10.0, PAPER))},
    "unlabeled statistics": lambda d: {"labeled_statistics": "unlabeled"},
    "without the few-features rules": lambda d: {"denoising_costs": list(PAPER),
                                                 "noise_std": SIGMA},
    # Two hidden layers of 500 and 250 units (its λ and σ the defaults for that depth):
    # what layers="auto" now builds on fewer than 100 features.
    "layers 500-250": lambda d: {"layers": NARROW},
    "encoder alone, layers 500-250": lambda d: {"mode": "supervised", "layers": NARROW},
    # The regressor's σ above the input, a small σ_0 (Gaussian features scaled to [0, 1]
    # have a spread of about 0.16, as large as its default σ).
    "input sigma 0.03, regressor": lambda d: {"noise_std": layer_noise(0.03, REGRESSOR_SIGMA)},
    "encoder alone, input sigma 0.03, regressor": lambda d: {
        "mode": "supervised", "noise_std": layer_noise(0.03, REGRESSOR_SIGMA)},
    # The regressor on layers="auto"'s network, its input left clean (σ_0 = 0, so λ_0 = 0:
    # nothing to denoise there), its hidden layers corrupted and decoded.
    "encoder alone, no input noise, regressor": lambda d: {
        "mode": "supervised", "layers": NARROW, "noise_std": NARROW_CLEAN_INPUT},
    "no input noise, regressor": lambda d: {
        "layers": NARROW, "noise_std": NARROW_CLEAN_INPUT,
        "denoising_costs": [0.0, *NARROW_COSTS[1:]]},
    "no input noise, lambda/10, regressor": lambda d: {
        "layers": NARROW, "noise_std": NARROW_CLEAN_INPUT,
        "denoising_costs": [0.0, *(c / 10 for c in NARROW_COSTS[1:])]},
    # The regressor's training length on layers="auto"'s network: max_iter=3000 trains
    # what max_epochs="auto" did before its floor of updates became 300 (whole epochs,
    # rounded up alike); the default now is the paper's 150 epochs (600 to 1,650 updates
    # on these tables).
    **{f"{n:,} updates, regressor": trained_for(n) for n in (300, 1000, 3000)},
    # The classifier's floor of 3,000 updates (what max_epochs="auto" trains on every
    # table here but MNIST's: 2 to 15 updates per epoch) against a third and twice it.
    **{f"{n:,} updates": trained_for(n) for n in (1000, 6000)},
    # On fewer than 10 features (where the default λ is λ_0 = 1000 alone), the top
    # layer's λ too: the Γ-model's consistency, tried for one label per class.
    "top lambda 1, few features": lambda d: {"layers": NARROW,
                                             "denoising_costs": [1000.0, 0.0, 0.0, 1.0]},
}


def variant_params(rule: str, n_features: int) -> dict:
    """The estimator's parameters for ``rule`` on ``n_features`` inputs: the paper's
    network unless the variant names its own (the defaults' on every table before
    ``layers="auto"``; the earlier measurements stay reproducible)."""
    return {"layers": PAPER_LAYERS, **VARIANTS[rule](n_features)}


def run(task: str, cells, seeds, variants, log: Path, init_offset: int = 0) -> None:
    table = {**CLASSIFICATION, **PROBES} if task == "classification" else REGRESSION
    estimator = LadderClassifier if task == "classification" else LadderRegressor
    for dataset, n_labels in cells:
        X, y = table[dataset][0](None)
        for seed in seeds:
            split = _split(np.asarray(X, float), np.asarray(y), n_labels, seed, task)
            for rule in variants:
                params = variant_params(rule, X.shape[1])
                start = time.perf_counter()
                model = estimator(**params, random_state=seed + init_offset)
                score = _fit_score(rule, model, split, task)
                record = {"task": task, "dataset": dataset, "labels": n_labels,
                          "seed": seed, "init_seed": seed + init_offset, "rule": rule,
                          "score": score,
                          "seconds": time.perf_counter() - start}
                with open(log, "a") as f:
                    f.write(json.dumps(record) + "\n")
                print(record, flush=True)


def _cell_means(runs: list[dict], base: list[dict], cell: tuple, variants) -> tuple:
    """The cell's seeds (those every variant run there has) and its mean per variant
    (None where the variant did not run there), the defaults and the encoder alone."""
    scores = {rule: {r["seed"]: r["score"] for r in runs
                     if (r["dataset"], r["labels"], r["rule"]) == (*cell, rule)}
              for rule in variants}
    ran = [rule for rule in variants if scores[rule]]
    seeds = sorted(set.intersection(*(set(scores[rule]) for rule in ran)))
    means = [statistics.fmean(scores[rule][s] for s in seeds) if rule in ran else None
             for rule in variants]
    for method in (LADDER, ENCODER):  # None on a probe data set (no baseline runs)
        baseline = [r["score"] for r in base if (r["dataset"], r["labels"], r["method"]) ==
                    (*cell, method) and r["seed"] in seeds]
        means.append(statistics.fmean(baseline) if baseline else None)
    return seeds, means


def summarize(log: Path, baseline: Path) -> str:
    runs = [json.loads(line) for line in log.read_text().splitlines() if line]
    base = json.loads(baseline.read_text())["runs"]
    variants = [rule for rule in VARIANTS if any(r["rule"] == rule for r in runs)]
    out = ["| data set | labels | seeds | " + " | ".join([*variants, LADDER, ENCODER]) + " |",
           "|---|---|---|" + "---|" * (len(variants) + 2)]
    digits = 3 if any(r.get("task") == "regression" for r in runs) else 2  # R² or error %
    order = [(r["dataset"], r["labels"]) for r in runs]
    for cell in sorted(set(order), key=order.index):
        seeds, means = _cell_means(runs, base, cell, variants)
        out.append(f"| {cell[0]} | {cell[1]} | {seeds} | " + " | ".join(
            "—" if m is None else f"{m:.{digits}f}" for m in means) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["classification", "regression"],
                        default="classification")
    parser.add_argument("--cells", nargs="+", default=["breast cancer:5", "wine:3"],
                        help="DATASET:LABELS pairs of datasets.py")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                        default=list(VARIANTS))
    parser.add_argument("--init-offset", type=int, default=0,
                        help="train with random_state = seed + this on the seed's split "
                             "(how much of a cell's spread is the training's own luck)")
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
    run(args.task, cells, args.seeds, args.variants, log, args.init_offset)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
