"""Imbalanced classes: the ladder with and without ``class_weight="balanced"`` against
scikit-learn's semi-supervised estimators, on labels drawn at random.

The data: 2,000 rows of three Gaussian clusters in 20 features, of 80, 15 and 5 % of the
rows. For each seed: a stratified 70/30 split, features scaled to [0, 1] by a
``MinMaxScaler`` fitted on all training rows, and ``--labels`` training rows labeled, drawn
at random (as a user labels the rows that come, so the labels are as imbalanced as the
classes; drawn again until every class has one), every other training row unlabeled.
Every method is fitted on the same rows and scored on the same test rows by its test
error and its balanced error (1 - balanced accuracy: the mean of the per-class errors,
which a model that never predicts the rare class cannot hide).

Writes ``imbalanced.json`` and ``imbalanced.md`` (mean ± std and median per method and
metric, with the machine, seeds and wall time).

Example::

    python benchmarks/imbalanced.py --seeds 0 1 2 3 4 --output benchmarks/results/imbalanced
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from machine import describe, machine_info, write_result
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC

from sklearn_ladder import LadderClassifier

DATA = {"n_samples": 2000, "n_features": 20, "n_informative": 6, "n_redundant": 4,
        "n_classes": 3, "n_clusters_per_class": 1, "weights": [0.8, 0.15, 0.05],
        "class_sep": 1.5, "random_state": 11}
METRICS = ("error", "balanced_error")


def methods(seed: int) -> dict:
    """Every method with its defaults, and those that weigh classes also balanced."""
    return {
        "ladder (defaults)": LadderClassifier(random_state=seed),
        "ladder (class_weight='balanced')": LadderClassifier(random_state=seed,
                                                             class_weight="balanced"),
        "LabelSpreading (kNN)": LabelSpreading(kernel="knn", n_neighbors=7),
        "SelfTraining (SVC)": SelfTrainingClassifier(SVC(probability=True,
                                                         random_state=seed)),
        "SelfTraining (SVC, class_weight='balanced')": SelfTrainingClassifier(
            SVC(probability=True, class_weight="balanced", random_state=seed)),
    }


def random_labels(y: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """``y`` with all but ``n_labels`` rows, drawn at random, marked -1; drawn again until
    every class is among them."""
    rng = np.random.default_rng(seed)
    while True:
        keep = rng.choice(len(y), n_labels, replace=False)
        if np.unique(y[keep]).size == np.unique(y).size:
            y_semi = np.full(len(y), -1)
            y_semi[keep] = y[keep]
            return y_semi


def split(X, y, n_labels: int, seed: int):
    """Training rows (scaled, a few labeled) and test rows of one seed."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = MinMaxScaler().fit(X_train)
    return (scaler.transform(X_train), random_labels(y_train, n_labels, seed),
            scaler.transform(X_test), y_test)


def run(seeds, n_labels: int) -> list[dict]:
    """One record per (seed, method): both metrics in %, the fit time and the labels."""
    X, y = make_classification(**DATA)
    runs = []
    for seed in seeds:
        X_train, y_semi, X_test, y_test = split(X, y, n_labels, seed)
        counts = np.bincount(y_semi[y_semi >= 0], minlength=DATA["n_classes"]).tolist()
        for name, model in methods(seed).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the baselines' convergence chatter
                predicted = model.fit(X_train, y_semi).predict(X_test)
            runs.append({"seed": seed, "method": name, "labels_per_class": counts,
                         "error": 100 * float(np.mean(predicted != y_test)),
                         "balanced_error": 100 * (1 - balanced_accuracy_score(y_test,
                                                                              predicted)),
                         "seconds": time.perf_counter() - start})
            print(json.dumps(runs[-1]), flush=True)
    return runs


def summarize(runs: list[dict]) -> dict:
    """Per method and metric: mean, standard deviation and median over the seeds."""
    by_method = {}
    for r in runs:
        by_method.setdefault(r["method"], []).append(r)
    return {method: {metric: {"mean": statistics.fmean(v := [r[metric] for r in rs]),
                              "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                              "median": statistics.median(v)}
                     for metric in METRICS}
            for method, rs in by_method.items()}


def markdown(result: dict) -> str:
    stats = result["stats"]
    best = {m: min(stats, key=lambda name: stats[name][m]["mean"]) for m in METRICS}
    lines = [describe(result["machine"]),
             f"Seeds {result['seeds']}; {result['labels']} labeled rows drawn at random; "
             f"wall time {result['wall_time_s']:.0f} s. Test error and balanced error %, "
             "mean ± std and median over the seeds, the best mean in bold.", "",
             "| method | test error % | balanced error % | fit time (s) |",
             "|---|---|---|---|"]
    for name, cell in stats.items():
        texts = [f"{cell[m]['mean']:.2f} ± {cell[m]['std']:.2f}, median "
                 f"{cell[m]['median']:.2f}" for m in METRICS]
        texts = [f"**{t}**" if best[m] == name else t for t, m in zip(texts, METRICS)]
        seconds = statistics.fmean(r["seconds"] for r in result["runs"]
                                   if r["method"] == name)
        lines.append(f"| {name} | {' | '.join(texts)} | {seconds:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--labels", type=int, default=40,
                        help="labeled training rows, drawn at random")
    parser.add_argument("--output", default="benchmarks/results/imbalanced")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    runs = run(args.seeds, args.labels)
    result = {"machine": machine_info(), "data": DATA, "seeds": args.seeds,
              "labels": args.labels, "wall_time_s": time.perf_counter() - start,
              "runs": runs, "stats": summarize(runs)}
    write_result(args.output, "imbalanced", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
