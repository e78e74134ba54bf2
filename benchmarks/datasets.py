"""The ladder against scikit-learn's semi-supervised estimators on many small data sets.

For each data set (none needs a download; MNIST is used when ``SKLEARN_LADDER_DATA`` or
``--data-home`` points to it), label count and seed: a stratified 70/30 split, a
class-balanced set of labels kept in the training part (every other training row
unlabeled), features scaled to [0, 1] by a ``MinMaxScaler`` fitted on all training rows
(as a user's pipeline would), then every method fitted on the same rows and scored on the
same test rows. Regression problems mark unlabeled targets with NaN and score R².

Classification methods: the ladder with its defaults, with ``--grid`` also the ladder
tuned by ``LadderGridSearchCV`` (λ scaled by 1, 0.1, 0.01 or no decoder, × σ 0.15, 0.3:
24 fits trained as 2 batches, then the refit), the ladder's encoder trained alone
(``mode="supervised"``), ``LabelSpreading`` (kNN), ``SelfTrainingClassifier`` around an
RBF ``SVC`` and around ``HistGradientBoostingClassifier``, and an ``MLPClassifier`` on the
labeled rows. Regression: ``LadderRegressor`` with its defaults, its encoder alone, and
an ``MLPRegressor`` and ``HistGradientBoostingRegressor`` on the labeled rows.

With ``--raw`` the features are left as the data set gives them (no ``MinMaxScaler``:
every method gets X as a user who does not scale would pass it), and the ladder also
runs with ``input_scaling=None`` (X as given to the network), ``"minmax"`` (the tables'
own scaling, inside the estimator) and ``"quantile"`` (every feature by its distribution
function) beside its default (``"auto"``: far-tailed features by their distribution
function, the others to [0, 1] where X is far from unit scale).

With ``--standardised`` every method gets the features standardised by a
``StandardScaler`` fitted on all training rows (a user's Pipeline), and the ladder also
runs with ``input_scaling=None`` (the standardised features as the network's inputs)
beside its default (``"auto"``, which maps a table beyond [0, 1] to it).

Writes ``datasets.json``, ``datasets.md`` (mean ± std and median per cell, the best in
bold, the wall time per method) and ``datasets.png``.

Example::

    python benchmarks/datasets.py --seeds 0 1 2 --output benchmarks/results/datasets
    python benchmarks/datasets.py --device cuda --grid --only wine --output wine-gpu
    python benchmarks/datasets.py --raw --only iris wine --output raw-features
    python benchmarks/datasets.py --standardised --only wine --output standardised
"""

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from machine import describe, machine_info, merged_machine
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_circles,
    make_classification,
    make_friedman1,
    make_friedman3,
    make_gaussian_quantiles,
    make_hastie_10_2,
    make_moons,
    make_regression,
)
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC

from sklearn_ladder import LadderClassifier, LadderRegressor, _input_scaling
from sklearn_ladder._base import _default_denoising_costs
from sklearn_ladder.datasets import load_mnist, mask_labels
from sklearn_ladder.model_selection import LadderGridSearchCV

LADDER = "ladder (defaults)"
LADDER_GRID = "ladder (λ × σ grid, 3-fold CV)"
ENCODER = "ladder encoder alone"
LADDER_AS_GIVEN = "ladder (input_scaling=None)"
# Beside a run's log of runs (datasets-runs.jsonl): its machine, for a later --merge.
MACHINE_FILE = "datasets-machine.json"
# With --raw: the ladder with every other input_scaling beside its default; with
# --standardised: the ladder with input_scaling=None beside it.
SCALINGS = {LADDER_AS_GIVEN: None, "ladder (input_scaling='minmax')": "minmax",
            "ladder (input_scaling='quantile')": "quantile"}


def _mnist_subsample(data_home=None):
    """5,000 MNIST training rows, as a tabular problem (784 features)."""
    mnist = load_mnist(data_home=data_home)
    rows = np.random.default_rng(0).choice(len(mnist.X_train), 5000, replace=False)
    return mnist.X_train[rows], mnist.y_train[rows]


def _clusters(**shape):
    """1,500 rows of Gaussian clusters, one or more per class (``make_classification``)."""
    return make_classification(n_samples=1500, **shape)


def _without_minus_one(X, y):
    """Classes -1 and 1 as 0 and 1: -1 marks an unlabeled row."""
    return X, (y > 0).astype(np.int64)


def _noisy_manifold():
    """A 2-D latent embedded non-linearly in 50 dimensions, plus noise; a smooth target."""
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, (1500, 2))
    embedding = np.tanh(np.tanh(t @ rng.normal(0, 1.5, (2, 32))) @ rng.normal(0, 0.3, (32, 50)))
    return embedding + 0.3 * rng.standard_normal((1500, 50)), np.sin(3 * t[:, 0]) * t[:, 1]


def _log_normal_amounts():
    """4 classes of Gaussian clusters in 20 features, each feature exponentiated: amounts
    (prices, incomes, areas) whose right tail reaches far beyond their bulk."""
    return _exp_features(*_clusters(n_features=20, n_informative=6, n_redundant=4,
                                    n_classes=4, n_clusters_per_class=1, class_sep=1.5,
                                    random_state=7), spread=0.5)


def _exp_features(X, y, spread: float = 1.0):
    """Every feature exponentiated: the amounts whose logarithms are ``spread`` × X."""
    return np.exp(spread * X), y


def _counts():
    """3 classes of Gaussian clusters in 30 features, each a Poisson count whose log-rate
    is the cluster's coordinate: many zeros, and a long right tail."""
    X, y = _clusters(n_features=30, n_informative=8, n_redundant=4, n_classes=3,
                     n_clusters_per_class=1, class_sep=1.0, random_state=8)
    return np.random.default_rng(8).poisson(np.exp(X)).astype(np.float64), y


def _topic_documents(n_words: int = 1000, seed: int = 10):
    """1,500 documents of 4 topics as TF-IDF rows (``TfidfTransformer``: unit norm,
    mostly zeros): each document draws about 35 words from a mix of a background
    distribution over ``n_words`` words shared by all (85 %) and its topic's own (15 %)."""
    rng = np.random.default_rng(seed)
    background = rng.dirichlet(np.full(n_words, 0.05))
    topics = [0.85 * background + 0.15 * rng.dirichlet(np.full(n_words, 0.02))
              for _ in range(4)]
    y = rng.integers(4, size=1500)
    counts = np.stack([rng.multinomial(length, topics[topic])
                       for length, topic in zip(rng.poisson(30, len(y)) + 5, y)])
    return TfidfTransformer().fit_transform(counts).toarray(), y


def _mistyped():
    """3 classes of Gaussian clusters in 10 features, with one entry in a hundred
    mistyped a thousandfold (a unit or a decimal point slipped)."""
    X, y = _clusters(n_features=10, n_informative=6, n_redundant=2, n_classes=3,
                     n_clusters_per_class=2, class_sep=1.5, random_state=9)
    slipped = np.random.default_rng(9).random(X.shape) < 0.01
    return np.where(slipped, X * 1000, X), y


def _mixed_table(n: int = 1500, seed: int = 11):
    """3 classes in 5 numeric features (Gaussian, the class shifting one of them) and 4
    categorical ones of 3, 5, 8 and 4 levels, one-hot encoded (20 columns of 0 and 1):
    each category takes its class's preferred level 60 % of the time, any level else."""
    rng = np.random.default_rng(seed)
    y = rng.integers(3, size=n)
    numeric = rng.normal(size=(n, 5)) + 1.2 * np.eye(3, 5)[y]
    categories = np.stack([np.where(rng.random(n) < 0.6, (y + j) % levels,
                                    rng.integers(levels, size=n))
                           for j, levels in enumerate([3, 5, 8, 4])], axis=1)
    return np.hstack([numeric, OneHotEncoder(sparse_output=False).fit_transform(categories)]), y


def _anisotropic_blobs():
    """3 Gaussian blobs in 2 features, sheared (scikit-learn's k-means demonstration)."""
    X, y = make_blobs(1500, n_features=2, centers=3, random_state=170)
    return X @ np.array([[0.6, -0.6], [-0.4, 0.8]]), y


def _spirals(n: int = 1000, seed: int = 21):
    """Two interleaved spirals in 2 features, Gaussian noise of 0.5 on radii up to 9.4."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    y = rng.integers(2, size=n)
    r = t * np.where(y == 1, 1, -1)
    return np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, 0.5, (n, 2)), y


def _binary_features(n: int = 1500, p: int = 50, seed: int = 22):
    """4 classes of 50 binary features: a random prototype per class, each bit flipped
    with probability 0.3."""
    rng = np.random.default_rng(seed)
    y = rng.integers(4, size=n)
    prototypes = rng.random((4, p)) < 0.5
    return (prototypes[y] ^ (rng.random((n, p)) < 0.3)).astype(float), y


def _digits_parity():
    """The digits, labeled odd or even: two classes of five clusters each."""
    X, y = load_digits(return_X_y=True)
    return X, y % 2


# name: (loader, labels per class (classification) or labeled rows (regression))
CLASSIFICATION = {
    "digits": (lambda home: load_digits(return_X_y=True), [5, 10]),
    "breast cancer": (lambda home: load_breast_cancer(return_X_y=True), [5, 20]),
    "wine": (lambda home: load_wine(return_X_y=True), [3, 10]),
    "two moons": (lambda home: make_moons(1000, noise=0.15, random_state=0), [3, 10]),
    "clusters (4 classes, 20 features)": (
        lambda home: _clusters(n_features=20, n_informative=6, n_redundant=4, n_classes=4,
                               n_clusters_per_class=1, class_sep=1.5, random_state=0),
        [5, 20]),
    "MNIST 5,000 rows (tabular)": (_mnist_subsample, [5, 20]),
    # Held out: added after every default was chosen, to check them on data no choice
    # was made on.
    "iris": (lambda home: load_iris(return_X_y=True), [3, 10]),
    "circles": (lambda home: make_circles(1000, noise=0.1, factor=0.5, random_state=0),
                [3, 10]),
    "clusters (3 classes, 40 features)": (
        lambda home: _clusters(n_features=40, n_informative=8, n_redundant=6, n_classes=3,
                               n_clusters_per_class=2, class_sep=1.2, random_state=1),
        [5, 20]),
    # Held out, second round: either side of the lines the defaults draw (fewer than 10
    # features: lower input noise, λ_0 alone; fewer than 50: borrowed statistics).
    "clusters (3 classes, 8 features)": (
        lambda home: _clusters(n_features=8, n_informative=5, n_redundant=2, n_classes=3,
                               n_clusters_per_class=2, class_sep=1.0, random_state=2),
        [5, 20]),
    "clusters (6 classes, 60 features)": (
        lambda home: _clusters(n_features=60, n_informative=10, n_redundant=10, n_classes=6,
                               n_clusters_per_class=1, class_sep=1.5, random_state=3),
        [5, 20]),
    # Held out, third round: classes that touch, with no gap of low density between them
    # (the assumption semi-supervised methods rest on fails): does the ladder do no harm?
    "Hastie (10 features, no gap)": (
        lambda home: _without_minus_one(*make_hastie_10_2(1500, random_state=4)), [5, 20]),
    "Gaussian quantiles (3 classes, 6 features)": (
        lambda home: make_gaussian_quantiles(n_samples=1500, n_features=6, n_classes=3,
                                             random_state=5),
        [5, 20]),
    # Held out, fourth round: features whose tails reach far beyond their bulk, which a
    # min-max map squeezes into a sliver of [0, 1].
    "log-normal amounts (4 classes, 20 features)": (lambda home: _log_normal_amounts(),
                                                    [5, 20]),
    "counts (3 classes, 30 features)": (lambda home: _counts(), [5, 20]),
    "mistyped entries (3 classes, 10 features)": (lambda home: _mistyped(), [5, 20]),
    # Held out, fifth round: scikit-learn's own semi-supervised demonstrations, two
    # features and one label per class (its label-propagation example's circles).
    "circles, scikit-learn's example (200 rows)": (
        lambda home: make_circles(n_samples=200, shuffle=False), [1]),
    "two moons, 200 rows": (lambda home: make_moons(200, noise=0.05, random_state=0), [1]),
    # Not held out: the case that capped noise_std="auto"'s σ_0 at the inputs' root mean
    # square. Sparse rows of small values, run with --raw (as a user has them).
    "topic documents (TF-IDF, 4 classes, 1,000 words)": (lambda home: _topic_documents(),
                                                          [10]),
    # Not held out: the cases that made noise_std="auto"'s σ_0 follow the spread of the
    # features (Gaussian clusters of many classes, binary columns beside numeric ones).
    "clusters (20 classes, 30 features)": (
        lambda home: make_classification(3000, 30, n_informative=20, n_redundant=0,
                                         n_classes=20, n_clusters_per_class=1,
                                         class_sep=2.0, random_state=12), [3]),
    "one-hot and numeric (3 classes, 25 columns)": (lambda home: _mixed_table(), [5]),
    # Held out, sixth round: kinds of data the rounds above had not tried, chosen before
    # any run and run once, after the spread rule of noise_std="auto".
    "blobs (5 classes, 10 features)": (
        lambda home: make_blobs(1500, n_features=10, centers=5, cluster_std=3.0,
                                random_state=20), [3]),
    "anisotropic blobs (3 classes, 2 features)": (lambda home: _anisotropic_blobs(), [3]),
    "spirals (2 classes, 2 features)": (lambda home: _spirals(), [10]),
    "binary features (4 classes, 50 features)": (lambda home: _binary_features(), [5]),
    "digits, odd or even (2 classes of 5 digits)": (lambda home: _digits_parity(), [10]),
}
REGRESSION = {
    "diabetes": (lambda home: load_diabetes(return_X_y=True), [30, 100]),
    "Friedman #1": (lambda home: make_friedman1(1000, noise=1.0, random_state=0), [30, 100]),
    "noisy manifold": (lambda home: _noisy_manifold(), [30, 100]),
    # Held out, as above: four features, where noise_std="auto" lowers σ_0.
    "Friedman #3": (lambda home: make_friedman3(1000, noise=0.1, random_state=0),
                    [30, 100]),
    # Held out, third round: a linear target of Gaussian inputs, where the unlabeled rows
    # hold nothing the labeled ones do not.
    "linear (20 features)": (
        lambda home: make_regression(1000, n_features=20, n_informative=10, noise=10.0,
                                     random_state=6),
        [30, 100]),
    # Held out, fourth round (as the classification tables'): a linear target of the
    # logarithms of log-normal amounts, the amounts given.
    "log-normal amounts (20 features)": (
        lambda home: _exp_features(*make_regression(1000, n_features=20, n_informative=10,
                                                    noise=10.0, random_state=10)),
        [30, 100]),
}


def default_costs(ladder, n_features: int) -> np.ndarray:
    """The full ladder's default λ for the dense network ``ladder`` builds on
    ``n_features`` inputs (``layers="auto"`` resolved)."""
    n_layers = len(ladder._encoder_layers((n_features,), 1))  # the output layer included
    return np.array(_default_denoising_costs("full", n_layers))


def ladder_grid(ladder, n_features: int) -> LadderGridSearchCV:
    """The ladder tuned by 3-fold cross-validation on the labeled rows, over λ (the
    defaults scaled by 1, 0.1 and 0.01, or no decoder at all) and σ (0.15 or 0.3)."""
    paper = default_costs(ladder, n_features)
    noise = [0.15, 0.3]
    grid = [{"denoising_costs": [list(paper * scale) for scale in (1.0, 0.1, 0.01)],
             "noise_std": noise},
            {"mode": ["supervised"], "noise_std": noise}]
    return LadderGridSearchCV(ladder, grid, cv=3)


# The features every method gets: scaled to [0, 1], as the data set gives them, or
# standardised, each fitted on all training rows (--raw, --standardised).
INPUTS = ("minmax", "raw", "standardised")


def _scaling_variants(ladder, seed: int, device: str, inputs: str) -> dict:
    """The ladder with each ``input_scaling`` but the default, for X as it comes;
    with ``input_scaling=None`` for standardised X; none for X in [0, 1]."""
    variants = {"minmax": {}, "raw": SCALINGS,
                "standardised": {LADDER_AS_GIVEN: None}}[inputs]
    return {name: ladder(input_scaling=scaling, random_state=seed, device=device)
            for name, scaling in variants.items()}


def classifiers(seed: int, n_features: int, device: str = "cpu", grid: bool = False,
                inputs: str = "minmax") -> dict:
    tuned = ({LADDER_GRID: ladder_grid(LadderClassifier(random_state=seed, device=device),
                                       n_features)} if grid else {})
    as_given = _scaling_variants(LadderClassifier, seed, device, inputs)
    return {
        LADDER: LadderClassifier(random_state=seed, device=device),
        **as_given,
        **tuned,
        ENCODER: LadderClassifier(mode="supervised", random_state=seed, device=device),
        "LabelSpreading (kNN)": LabelSpreading(kernel="knn", n_neighbors=7),
        "SelfTraining (SVC)": SelfTrainingClassifier(SVC(probability=True,
                                                         random_state=seed)),
        "SelfTraining (HGB)": SelfTrainingClassifier(
            HistGradientBoostingClassifier(random_state=seed)),
        "MLP (labeled rows)": MLPClassifier(max_iter=2000, random_state=seed),
    }


def regressors(seed: int, n_features: int, device: str = "cpu", grid: bool = False,
               inputs: str = "minmax") -> dict:
    tuned = ({LADDER_GRID: ladder_grid(LadderRegressor(random_state=seed, device=device),
                                       n_features)} if grid else {})
    as_given = _scaling_variants(LadderRegressor, seed, device, inputs)
    return {
        LADDER: LadderRegressor(random_state=seed, device=device),
        **as_given,
        **tuned,
        ENCODER: LadderRegressor(mode="supervised", random_state=seed, device=device),
        "MLP (labeled rows)": MLPRegressor(max_iter=2000, random_state=seed),
        "HGB (labeled rows)": HistGradientBoostingRegressor(random_state=seed),
    }


def _split(X, y, n_labels: int, seed: int, task: str, inputs: str = "minmax"):
    """Train and test rows (the training targets with a few labeled), the features
    scaled to [0, 1] or standardised by the training rows, or ``"raw"``."""
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=stratify)
    if task == "classification":
        y_semi = mask_labels(y_train, n_labels * len(np.unique(y)), random_state=seed)
    else:
        y_semi = np.full(len(y_train), np.nan)
        keep = np.random.default_rng(seed).choice(len(y_train), n_labels, replace=False)
        y_semi[keep] = y_train[keep]
    if inputs == "raw":
        return X_train, y_semi, X_test, y_test
    scaler = {"minmax": MinMaxScaler, "standardised": StandardScaler}[inputs]()
    scaler.fit(X_train)  # every training row, labeled or not
    return (scaler.transform(X_train).astype(np.float32), y_semi,
            scaler.transform(X_test).astype(np.float32), y_test)


def _fit_score(name: str, model, split, task: str) -> float:
    X_train, y_semi, X_test, y_test = split
    labeled = ~np.isnan(y_semi) if task == "regression" else y_semi != -1
    needs_labeled_only = name.endswith("(labeled rows)")
    X_fit, y_fit = (X_train[labeled], y_semi[labeled]) if needs_labeled_only else (X_train,
                                                                                   y_semi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the small baselines
        model.fit(X_fit, y_fit)
    if task == "regression":
        return float(r2_score(y_test, model.predict(X_test)))
    return float(100 * np.mean(model.predict(X_test) != y_test))


def run(task: str, datasets: dict, seeds, data_home, only=None, log=None,
        labels=None, methods=None, **options) -> list[dict]:
    """Every (data set, label count, seed, method) run (only the data sets ``only``, label
    counts ``labels`` and methods ``methods`` when given; ``options``, the ladders'
    ``device``, ``grid`` and ``inputs`` (the features' scaling, one of ``INPUTS``), go
    to the method tables and ``inputs`` to the split too); each is also appended to ``log``
    (JSON lines) as it ends, so that a stopped run keeps what it measured."""
    runs = []
    make_models = classifiers if task == "classification" else regressors
    for dataset, (loader, label_counts) in datasets.items():
        if only and dataset not in only:
            continue
        try:
            X, y = loader(data_home)
        except FileNotFoundError as exc:
            print(f"skipping {dataset}: {exc}", flush=True)
            continue
        label_counts = [n for n in label_counts if not labels or n in labels]
        for n_labels, seed in ((n, s) for n in label_counts for s in seeds):
            split = _split(np.asarray(X, dtype=np.float64), np.asarray(y), n_labels, seed,
                           task, options.get("inputs", "minmax"))
            for name, model in make_models(seed, split[0].shape[1], **options).items():
                if methods and name not in methods:
                    continue
                start = time.perf_counter()
                score = _fit_score(name, model, split, task)
                runs.append({"task": task, "dataset": dataset, "labels": n_labels,
                             "seed": seed, "method": name, "score": score,
                             "seconds": time.perf_counter() - start})
                if log is not None:
                    with open(log, "a") as f:
                        f.write(json.dumps(runs[-1]) + "\n")
                print(f"{dataset} {n_labels} seed {seed} {name}: {score:.3f}", flush=True)
    return runs


def _mean_seconds(runs: list[dict]) -> float | None:
    """Mean fit time over the runs whose time was recorded (None if no run's was)."""
    seconds = [r["seconds"] for r in runs if r["seconds"] is not None]
    return statistics.fmean(seconds) if seconds else None


def _cell_stats(runs: list[dict]) -> dict:
    """Mean, standard deviation and median of one method's scores over the seeds."""
    scores = [r["score"] for r in runs]
    return {"mean": statistics.fmean(scores),
            "std": statistics.stdev(scores) if len(scores) > 1 else 0.0,
            "median": statistics.median(scores), "seconds": _mean_seconds(runs)}


def summarize(runs: list[dict]) -> list[dict]:
    cells = {}
    for r in runs:
        cells.setdefault((r["task"], r["dataset"], r["labels"]), {}).setdefault(
            r["method"], []).append(r)
    rows = []
    for (task, dataset, labels), methods in cells.items():
        stats = {m: _cell_stats(rs) for m, rs in methods.items()}
        better = min if task == "classification" else max
        best = better(stats, key=lambda m: stats[m]["mean"])
        rows.append({"task": task, "dataset": dataset, "labels": labels, "stats": stats,
                     "best": best, **_ladder_verdicts(stats, best, better)})
    return rows


def _ladder_verdicts(stats: dict, best: str, better) -> dict:
    """Whether the ladder is best or within one std of the best, and not worse than its
    encoder alone (None where a run of a few methods (--methods) left them out)."""
    if LADDER not in stats or ENCODER not in stats:
        return {"ladder_best_or_within_std": None, "ladder_not_worse_than_encoder": None}
    ladder, top = stats[LADDER], stats[best]
    within = abs(ladder["mean"] - top["mean"]) <= ladder["std"] + top["std"]
    return {"ladder_best_or_within_std": best == LADDER or within,
            "ladder_not_worse_than_encoder": better(
                (LADDER, ENCODER), key=lambda m: stats[m]["mean"]) == LADDER}


def markdown(rows: list[dict], info: dict, seeds, wall: float) -> str:
    out = [describe(info), f"Seeds {list(seeds)}; wall time {wall:.0f} s. Classification: "
           "test error % (lower is better); regression: test R² (higher is better); mean ± "
           "std and median over seeds, the best mean in bold, mean fit time in brackets.", ""]
    for task in ("classification", "regression"):
        task_rows = [r for r in rows if r["task"] == task]
        if not task_rows:
            continue
        methods = list(task_rows[0]["stats"])
        out += [f"### {task.capitalize()}", "",
                "| data set | labels | " + " | ".join(methods) + " |",
                "|---|---|" + "---|" * len(methods)]
        for r in task_rows:
            cells = []
            for m in methods:
                cell = r["stats"][m]
                duration = ("time not recorded" if cell["seconds"] is None
                            else f"{cell['seconds']:.1f} s")
                text = (f"{cell['mean']:.2f} ± {cell['std']:.2f}, median "
                        f"{cell['median']:.2f} ({duration})")
                cells.append(f"**{text}**" if m == r["best"] else text)
            unit = "per class" if task == "classification" else "rows"
            out.append(f"| {r['dataset']} | {r['labels']} {unit} | " + " | ".join(cells) + " |")
        judged = [r for r in task_rows if r["ladder_best_or_within_std"] is not None]
        if judged:
            wins = sum(r["ladder_best_or_within_std"] for r in judged)
            safe = sum(r["ladder_not_worse_than_encoder"] for r in judged)
            out += ["", f"The ladder is best or within one standard deviation of the best "
                    f"in {wins} of {len(judged)} cells, and at least as good as its encoder "
                    f"alone in {safe} of {len(judged)}."]
        out.append("")
    return "\n".join(out)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task_rows = [r for r in rows if r["task"] == "classification"]
    if not task_rows:
        return
    methods = list(task_rows[0]["stats"])
    fig, ax = plt.subplots(figsize=(max(10, 0.6 * len(task_rows)), 5.5))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        means = [r["stats"][m]["mean"] for r in task_rows]
        stds = [r["stats"][m]["std"] for r in task_rows]
        ax.bar(np.arange(len(task_rows)) + i * width, means, width, yerr=stds, label=m)
    ax.set_xticks(np.arange(len(task_rows)) + 0.4 - width / 2)
    # the names are long and many: slanted, they stay legible side by side
    ax.set_xticklabels([f"{r['dataset']}, {r['labels']}/class" for r in task_rows],
                       fontsize=7, rotation=40, ha="right")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _load_part(path: Path) -> dict:
    """A datasets.json, or the JSON lines of a run that was stopped before writing one
    (its machine read from the ``MACHINE_FILE`` beside it; None where none is)."""
    if path.suffix == ".jsonl":
        runs = [json.loads(line) for line in path.read_text().splitlines() if line]
        machine = path.with_name(MACHINE_FILE)
        return {"runs": runs, "wall_time_s": sum(r["seconds"] or 0 for r in runs),
                "machine": json.loads(machine.read_text()) if machine.exists() else None}
    return json.loads(path.read_text())


def _latest_runs(runs: list[dict]) -> list[dict]:
    """``runs`` with only the last of each (task, data set, labels, seed, method)."""
    latest = {(r["task"], r["dataset"], r["labels"], r["seed"], r["method"]): r for r in runs}
    return list(latest.values())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=None, help="data set names to run")
    parser.add_argument("--device", default="cpu", help="the ladders' device")
    parser.add_argument("--grid", action="store_true",
                        help="also the ladder tuned by LadderGridSearchCV (24 fits per run)")
    scaling = parser.add_mutually_exclusive_group()
    scaling.add_argument("--raw", action="store_const", dest="inputs", const="raw",
                         default="minmax",
                         help="features as the data set gives them (no MinMaxScaler), "
                              "and the ladder with every input_scaling")
    scaling.add_argument("--standardised", action="store_const", dest="inputs",
                         const="standardised",
                         help="features standardised (StandardScaler, not MinMaxScaler), "
                              "and the ladder with input_scaling=None too")
    parser.add_argument("--far-tail", type=float, default=None,
                        help="where input_scaling='auto' draws the line of far tails "
                             "(the package's FAR_TAIL replaced, for this run): a probe of "
                             "the line")
    parser.add_argument("--labels", nargs="+", type=int, default=None,
                        help="label counts to run (per class, or rows for regression)")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="methods to run (the table's column names)")
    parser.add_argument("--task", choices=["classification", "regression", "both"],
                        default="both")
    parser.add_argument("--data-home", default=os.environ.get("SKLEARN_LADDER_DATA"))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="datasets.json files (or runs .jsonl logs) of runs made apart "
                             "(e.g. in parallel processes): their runs are summarised "
                             "together, a later part's run replacing an earlier one of the "
                             "same cell, seed and method; nothing runs")
    return parser


def _merged(paths) -> tuple[list[dict], float, dict]:
    """The runs, wall time and machine of parts made apart, summarised together."""
    parts = [_load_part(path) for path in paths]
    runs = _latest_runs([r for part in parts for r in part["runs"]])
    wall = max(part["wall_time_s"] for part in parts)
    return runs, wall, merged_machine([part["machine"] for part in parts])


def _run_tasks(args) -> tuple[list[dict], float, dict]:
    """The runs of the command line's tasks, their wall time and machine; each run is also
    logged as it ends (``datasets-runs.jsonl``)."""
    start, runs = time.perf_counter(), []
    args.output.mkdir(parents=True, exist_ok=True)
    log = args.output / "datasets-runs.jsonl"
    (args.output / MACHINE_FILE).write_text(json.dumps(machine_info(), indent=1))
    options = {"device": args.device, "grid": args.grid, "inputs": args.inputs,
               "methods": args.methods}
    for task, cells in (("classification", CLASSIFICATION), ("regression", REGRESSION)):
        if args.task in (task, "both"):
            runs += run(task, cells, args.seeds, args.data_home, args.only, log, args.labels,
                        **options)
    return runs, time.perf_counter() - start, machine_info()


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.far_tail is not None:
        _input_scaling.FAR_TAIL = args.far_tail
    runs, wall, info = _merged(args.merge) if args.merge else _run_tasks(args)
    rows = summarize(runs)
    seeds = sorted({r["seed"] for r in runs})  # merged parts may have run other seeds
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "datasets.json").write_text(json.dumps(
        {"machine": info, "seeds": seeds, "wall_time_s": wall, "runs": runs,
         "cells": rows}, indent=1))
    (args.output / "datasets.md").write_text(markdown(rows, info, seeds, wall))
    plot(rows, args.output / "datasets.png")
    print(markdown(rows, info, seeds, wall))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
