"""Reproduce the ladder paper's results: MNIST MLPs (Tables 1 and 5), conv nets (Tables 2-3).

Runs named settings over seeds, appends every run (its test error after each epoch, its
largest confusions at the end) to ``<output>/reproduce.json`` (runs of earlier
invocations are kept, so settings can be run in separate processes), and rewrites
``reproduce.md`` (mean ± std and median per setting next to the paper's number) and
``reproduce.png`` (test error against the number of labels per model).

Examples::

    python benchmarks/reproduce.py --settings full-100 --seeds 0 1 2            # paper schedule
    python benchmarks/reproduce.py --settings table1 --epochs 10 --seeds 0 1 2  # shortened
    python benchmarks/reproduce.py --settings full-100 --seeds 0 1 2 3 4 --batched  # one batch
    python benchmarks/reproduce.py --list
    python benchmarks/reproduce.py --summarize --output benchmarks/results/shortened
    python benchmarks/reproduce.py --merge gpu/reproduce.json --output benchmarks/results/x

The data directory comes from ``--data-home`` or ``$SKLEARN_LADDER_DATA`` (for CIFAR-10:
the directory holding ``cifar-10-batches-py``; a setting whose data is missing is skipped
with a message).
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from machine import cpu_name, machine_info
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline

from sklearn_ladder import LadderClassifier, fit_batched
from sklearn_ladder._training import HeldOutScore
from sklearn_ladder.datasets import load_cifar10, load_mnist, mask_labels
from sklearn_ladder.preprocessing import ContrastNormalization, ZCAWhitening

HIDDEN = (1000, 500, 250, 250, 250)  # the paper's 784-1000-500-250-250-250-10
ALL = None  # n_labels for "every training label"


def _setting(n_labels, mode, costs, noise, paper, source="Rasmus et al. 2015, Table 1",
             combinator="gauss", **model):
    """A named experiment; ``model`` overrides MLP_MODEL (layers, data, schedule, ...)."""
    return {"n_labels": n_labels, "mode": mode, "denoising_costs": costs, "noise_std": noise,
            "paper_error": paper, "source": source, "combinator": combinator,
            **MLP_MODEL, **model}


MLP_MODEL = {"layers": HIDDEN, "input_shape": None, "activation": "relu", "top_scale": True,
             "dataset": "mnist", "paper_epochs": 150, "lr_decay_start": 0.67}
MNIST_IMAGE = {"dataset": "mnist", "input_shape": (1, 28, 28)}


_FULL_100 = [1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1]
_BASELINE_NOISE = [0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
SETTINGS = {
    "full-100": _setting(100, "full", _FULL_100, 0.3, 1.06),
    "full-1000": _setting(1000, "full", [2000, 20, 0.1, 0.1, 0.1, 0.1, 0.1],
                          [0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], 0.84),
    "full-all": _setting(ALL, "full", [1000, 1, 0.01, 0.01, 0.01, 0.01, 0.01], 0.3, 0.57),
    "bottom-100": _setting(100, "bottom", [5000, 0, 0, 0, 0, 0, 0], 0.3, 1.09),
    "bottom-1000": _setting(1000, "bottom", [2000, 0, 0, 0, 0, 0, 0], 0.3, 0.90),
    "bottom-all": _setting(ALL, "bottom", [2000, 0, 0, 0, 0, 0, 0], 0.3, 0.59),
    "gamma-100": _setting(100, "gamma", [0, 0, 0, 0, 0, 0, 0.5], 0.3, 3.06),
    "gamma-1000": _setting(1000, "gamma", [0, 0, 0, 0, 0, 0, 10], 0.3, 1.53),
    "gamma-all": _setting(ALL, "gamma", [0, 0, 0, 0, 0, 0, 2], 0.3, 0.78),
    "supervised-100": _setting(100, "supervised", [0] * 7, _BASELINE_NOISE, 21.74),
    "supervised-1000": _setting(1000, "supervised", [0] * 7, _BASELINE_NOISE, 5.70),
    "supervised-all": _setting(ALL, "supervised", [0] * 7, _BASELINE_NOISE, 0.80),
    "full-50": _setting(50, "full", [2000, 20, 0.1, 0.1, 0.1, 0.1, 0.1], 0.3, 1.62),
    "full-40": _setting(40, "full", _FULL_100, 0.3, 1.27,
                        source="second paper (6-layer full model, 40 labels)"),
}
# Appendix B, Table 5: the full model with each denoising function, noise 0.3 everywhere, the
# full model's lambdas for 100 and 1000 labels ("gauss" is the paper's g).
_TABLE5 = {"gauss": (1.06, 1.03), "g1": (1.11, 1.11), "g2": (2.03, 1.70), "g3": (1.49, 1.30),
           "g4": (2.90, 2.11)}
for _name, (_error_100, _error_1000) in _TABLE5.items():
    for _labels, _costs, _error in ((100, _FULL_100, _error_100),
                                    (1000, SETTINGS["full-1000"]["denoising_costs"], _error_1000)):
        SETTINGS[f"{_name}-{_labels}"] = _setting(
            _labels, "full", _costs, 0.3, _error, source="Rasmus et al. 2015, Table 5",
            combinator=_name)
SETTINGS["amlp-100"] = _setting(100, "full", _FULL_100, 0.3, 1.00, combinator="amlp",
                                source="Pezeshki et al. 2016 (AMLP)")
SETTINGS["amlp-1000"] = _setting(1000, "full", SETTINGS["full-1000"]["denoising_costs"], 0.3,
                                 0.98, combinator="amlp", source="Pezeshki et al. 2016 (AMLP)")
# Convolutional models (Table 2: MNIST, 100 labels; Table 3: CIFAR-10, 4000 labels).
SETTINGS["conv-small-gamma-100"] = _setting(
    100, "gamma", [0] * 9 + [1], 0.3, 0.89, source="Rasmus et al. 2015, Table 2",
    layers="conv-small", **MNIST_IMAGE)
SETTINGS["conv-small-supervised-100"] = _setting(
    100, "supervised", [0] * 10, [0.3] + [0.5] * 9, 6.43, source="Rasmus et al. 2015, Table 2",
    layers="conv-small", **MNIST_IMAGE)
SETTINGS["conv-fc-100"] = _setting(
    100, "full", [*_FULL_100, 0.1], 0.3, 0.99, source="Rasmus et al. 2015, Table 2",
    layers="conv-fc", **MNIST_IMAGE)
SETTINGS["conv-large-gamma-4000"] = _setting(
    4000, "gamma", [0] * 12 + [4], 0.3, 20.40, source="Rasmus et al. 2015, Table 3",
    layers="conv-large", input_shape=(3, 32, 32), activation="leaky_relu", top_scale=False,
    dataset="cifar10", paper_epochs=70, lr_decay_start=60 / 70)
GROUPS = {
    "table1": [name for name, s in SETTINGS.items() if "Table 1" in s["source"]],
    "table5": [name for name, s in SETTINGS.items() if "Table 5" in s["source"]],
    "conv": [name for name, s in SETTINGS.items() if s["layers"] != HIDDEN],
    "labels-100": ["full-100", "bottom-100", "gamma-100", "supervised-100"],
    "all": list(SETTINGS),
}
# A paper-schedule run with 100 labels or fewer whose error exceeds this is counted as not
# converged (the paper reports about 5 % of such runs, of the full and bottom ladders);
# shortened runs are not judged, nor settings whose paper error is above the line (the
# Γ-model's 3.06 %, the baseline's 21.74 %), for which it tells nothing.
NOT_CONVERGED = 2.0
CONFUSION_SHARE = 0.04  # a run records the confusions of at least this share of a class


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(logits.argmax(1) == y))


def confusions(y_true: np.ndarray, y_pred: np.ndarray, min_share: float) -> list:
    """``[true, predicted, rows]`` off the diagonal with at least ``min_share`` of the
    true class's rows, largest first."""
    cm = confusion_matrix(y_true, y_pred)
    share = cm / cm.sum(axis=1, keepdims=True)
    found = [[int(i), int(j), int(cm[i, j])] for i, j in zip(*np.nonzero(share >= min_share))
             if i != j]
    return sorted(found, key=lambda c: -c[2])


def score_on_test(clf, data, min_share: float = CONFUSION_SHARE) -> dict:
    """The fitted ``clf``'s test error % on ``data``'s test rows (as
    :class:`TestErrorPerEpoch` computes it) and its :func:`confusions` there."""
    predicted = clf.predict(data.X_test)
    return {"test_error": 100.0 * (1.0 - float(np.mean(predicted == data.y_test))),
            "confusions": confusions(data.y_test, predicted, min_share)}


class TestErrorPerEpoch(HeldOutScore):
    """Records and prints the test error after every epoch, each line headed by the run's
    ``label`` (the runs of a batch train together: a log cut short still says which run
    reached what)."""

    def __init__(self, X_test, y_test, label=""):
        super().__init__(X_test, y_test, accuracy, name="test_acc")
        self.label = label

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train, **kwargs)
        error = 100.0 * (1.0 - net.history[-1, "test_acc"])
        net.history.record("test_error", error)
        print(f"    {self.label} epoch {len(net.history):3d}  test error {error:6.2f} %  "
              f"({net.history[-1, 'dur']:.1f} s)", flush=True)


def load_data(dataset: str, data_home):
    """The dataset's train and test rows, preprocessed as in the paper."""
    if dataset == "mnist":
        return load_mnist(data_home)
    data = load_cifar10(data_home)
    # Contrast normalisation, then ZCA fitted on the training images (Appendix A).
    whitening = make_pipeline(ContrastNormalization(), ZCAWhitening()).fit(data.X_train)
    data.X_train = whitening.transform(data.X_train).astype(np.float32)
    data.X_test = whitening.transform(data.X_test).astype(np.float32)
    return data


# LadderClassifier's options that a run may set (--fp32-precision, --gpu-update).
OPTIONS = {"fp32_precision": "ieee", "gpu_update": "auto"}


def setting_classifier(name: str, seed: int, epochs: int, data, device: str,
                       options: dict | None = None,
                       label_seed: int | None = None) -> tuple[LadderClassifier, np.ndarray]:
    """The setting's classifier for one seed (with ``options``, see ``OPTIONS``), and its
    training labels: the labeled rows drawn with ``label_seed`` (the run's seed when
    None; the classifier's ``random_state`` is always ``seed``)."""
    setting = SETTINGS[name]
    n_labels = setting["n_labels"]
    label_seed = seed if label_seed is None else label_seed
    y = data.y_train if n_labels is None else mask_labels(data.y_train, n_labels,
                                                          random_state=label_seed)
    clf = LadderClassifier(
        setting["layers"], input_shape=setting["input_shape"], mode=setting["mode"],
        denoising_costs=setting["denoising_costs"], noise_std=setting["noise_std"],
        combinator=setting["combinator"], activation=setting["activation"],
        top_scale=setting["top_scale"], lr_decay_start=setting["lr_decay_start"],
        labeled_statistics="labeled",  # the paper's, whatever the number of labels
        input_scaling=None,  # the paper's inputs as given ("auto" would leave them too)
        max_epochs=epochs, device=device, random_state=seed, **{**OPTIONS, **(options or {})},
        callbacks=[("test_error", TestErrorPerEpoch(data.X_test, data.y_test,
                                                    f"{name} seed {seed}"))],
    )
    return clf, y


def _record(name: str, seed: int, epochs: int, clf, data, wall: float, device: str,
            batch_of: int = 1, error: Exception | None = None) -> dict:
    """The run's record, with the classifier's ``OPTIONS`` and the test set's
    :func:`confusions` (those of at least ``CONFUSION_SHARE`` of a class's rows). A run
    that diverged (its ``error`` a FloatingPointError) did not converge: it is recorded at
    chance-level test error, with its message. Any other error is the code's, not the
    training's: the run is recorded as ``failed``, with no test error, left out of the
    statistics and run again by ``--skip-done``."""
    params = clf.get_params()
    record = {"setting": name, "seed": seed, "epochs": epochs,
              "n_labels": SETTINGS[name]["n_labels"] or len(data.y_train),
              "wall_time_s": wall, **{key: params[key] for key in OPTIONS},
              "batch_of": batch_of,
              "machine": machine_info(device)}
    if isinstance(error, FloatingPointError):
        chance = 100.0 * (1 - 1 / len(np.unique(data.y_test)))
        return {**record, "test_error": chance, "diverged": repr(error)}
    if error is not None:
        return {**record, "test_error": None, "failed": repr(error)}
    return {**record, **score_on_test(clf, data),
            "error_per_epoch": clf.history_[:, "test_error"],
            "updates": sum(clf.history_[:, "train_batch_count"])}


def run_one(name: str, seed: int, epochs: int, data, device: str,
            options: dict | None = None) -> dict:
    """Train one setting with one seed; return the run's record."""
    clf, y = setting_classifier(name, seed, epochs, data, device, options)
    start = time.perf_counter()
    clf.fit(data.X_train, y)
    return _record(name, seed, epochs, clf, data, time.perf_counter() - start, device)


def run_batched(pairs: list, epochs: int, data, device: str,
                options: dict | None = None, max_models: int | None = None) -> list[dict]:
    """Train the (setting, seed) pairs as one call of ``fit_batched`` (one batch per
    structure, at most ``max_models`` models each; on a GPU with graphed updates each
    batch is one replayed CUDA graph, and the batches train side by side); each record
    gets the call's wall time shared evenly, and ``batch_of`` its size; a run that
    failed is recorded as :func:`_record` says."""
    fits = [setting_classifier(name, seed, epochs, data, device, options)
            for name, seed in pairs]
    start = time.perf_counter()
    errors = fit_batched([clf for clf, _ in fits], data.X_train, [y for _, y in fits],
                         max_models=max_models, raise_errors=False)
    wall = (time.perf_counter() - start) / len(fits)
    return [_record(name, seed, epochs, clf, data, wall, device, len(fits), error)
            for (name, seed), (clf, _), error in zip(pairs, fits, errors)]


def summarize(runs: list[dict]) -> list[dict]:
    """One row per (setting, epochs): mean ± std, median, convergence failures (the runs
    that failed with an error of the code have no result and are left out)."""
    runs = [r for r in runs if "failed" not in r]
    rows = []
    keys = sorted({(r["setting"], r["epochs"]) for r in runs},
                  key=lambda k: (list(SETTINGS).index(k[0]), k[1]))
    for name, epochs in keys:
        errors = [r["test_error"] for r in runs if (r["setting"], r["epochs"]) == (name, epochs)]
        judged = ((SETTINGS[name]["n_labels"] or math.inf) <= 100
                  and epochs == SETTINGS[name]["paper_epochs"]
                  and SETTINGS[name]["paper_error"] < NOT_CONVERGED)
        rows.append({
            "setting": name, "epochs": epochs, "n_seeds": len(errors),
            "mean": statistics.fmean(errors),
            "std": statistics.stdev(errors) if len(errors) > 1 else float("nan"),
            "median": statistics.median(errors),
            "not_converged": sum(e > NOT_CONVERGED for e in errors) if judged else None,
            "paper": SETTINGS[name]["paper_error"],
        })
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| setting | labels | epochs | seeds | test error % (mean ± std) | median | "
             "not converged (> 2 %, paper schedule) | paper |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        labels = SETTINGS[row["setting"]]["n_labels"] or "all"
        paper_schedule = row["epochs"] == SETTINGS[row["setting"]]["paper_epochs"]
        schedule = f"{row['epochs']}" + ("" if paper_schedule else " (shortened)")
        failed = "n/a" if row["not_converged"] is None else row["not_converged"]
        std = "" if math.isnan(row["std"]) else f" ± {row['std']:.2f}"
        lines.append(
            f"| {row['setting']} | {labels} | {schedule} | {row['n_seeds']} | "
            f"{row['mean']:.2f}{std} | {row['median']:.2f} | {failed} | "
            f"{row['paper']:.2f} |")
    return "\n".join(lines) + "\n"


# The epochs after which the per-run table shows a run's test error (and its last).
CHECKPOINTS = (1, 5, 10, 25, 50, 75, 100, 125)


def _where(run: dict) -> str:
    """Where a run trained: its GPU, or the CPU (its model where recorded) with its
    torch threads; a run of a batch says so (its wall time is the batch's shared
    evenly)."""
    machine = run.get("machine") or {}
    threads = machine.get("torch_threads")
    where = machine.get("gpu") or (
        f"{cpu_name(machine)}, {threads} torch thread{'s' * (threads != 1)}"
        if threads else "unrecorded")
    return where + (f", batch of {run['batch_of']}" if run.get("batch_of", 1) > 1 else "")


def _duration(seconds: float) -> str:
    """A wall time in minutes, or in seconds under two minutes (a GPU run's share of its
    batch), where whole minutes would round it to 0 or 1."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def per_run_table(runs: list[dict]) -> str:
    """A row per run: its test error after the ``CHECKPOINTS`` before the longest run's
    end and after its last epoch (a run that diverged or failed has no errors per epoch),
    its wall time and where it trained."""
    runs = sorted(runs, key=lambda r: (list(SETTINGS).index(r["setting"]), r["epochs"],
                                       r["seed"]))
    marks = [e for e in CHECKPOINTS if e < max((r["epochs"] for r in runs), default=0)]
    rows = [["setting", "seed", "epochs", *map(str, marks), "end", "wall time"],
            ["---"] * (len(marks) + 5)]
    for r in runs:
        errors = r.get("error_per_epoch") or []
        cells = [f"{errors[e - 1]:.2f}" if e <= min(len(errors), r["epochs"] - 1) else ""
                 for e in marks]
        end = ("failed" if r.get("test_error") is None else f"**{r['test_error']:.2f}**"
               + (" (diverged)" if "diverged" in r else ""))
        rows.append([r["setting"], str(r["seed"]), str(r["epochs"]), *cells, end,
                     f"{_duration(r['wall_time_s'])} ({_where(r)})"])
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _series(name: str) -> str:
    """The plot's line for a setting: its model and mode, and its denoising function if
    not the default."""
    setting = SETTINGS[name]
    series = setting["mode"] if setting["layers"] == HIDDEN else (
        f"{setting['layers']} {setting['mode']}")
    return series if setting["combinator"] == "gauss" else f"{series} {setting['combinator']}"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    fig, ax = plt.subplots(figsize=(8, 4.2))
    present = {_series(r["setting"]) for r in rows}
    series_names = [s for s in dict.fromkeys(map(_series, SETTINGS)) if s in present]
    for series, color in zip(series_names, plt.cm.tab10.colors * 2):
        settings = [n for n in SETTINGS if _series(n) == series]
        paper = sorted((SETTINGS[n]["n_labels"] or 60000, SETTINGS[n]["paper_error"])
                       for n in settings if any(r["setting"] == n for r in rows))
        ax.plot(*zip(*paper), ls=":", marker="x", color=color, alpha=0.6,
                label=f"{series} (paper)")
        for epochs in sorted({r["epochs"] for r in rows}):
            points = sorted((SETTINGS[r["setting"]]["n_labels"] or 60000, r["median"])
                            for r in rows if r["epochs"] == epochs and r["setting"] in settings)
            if points:
                ax.plot(*zip(*points), marker="o", color=color,
                        label=f"{series} ({epochs} epochs)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    labels = [SETTINGS[r["setting"]]["n_labels"] or 60000 for r in rows]
    ax.set_xticks(sorted(set(labels)), minor=True)  # label exactly the label counts run
    ax.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
    if all(r["median"] > 0 for r in rows):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("labeled examples")
    ax.set_ylabel("test error % (median over seeds)")
    ax.set_title("Ladder networks: our runs and the paper's")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def failed_runs(runs: list[dict]) -> str:
    """A line per run that failed with an error of the code (no result), or nothing."""
    return "".join(f"\nfailed, no result: {r['setting']} seed {r['seed']} ({r['epochs']} "
                   f"epochs): {r['failed']}" for r in runs if "failed" in r)


PER_RUN_HEADING = "\n\nPer run, test error % after the epochs shown:\n\n"


def results_markdown(runs: list[dict]) -> str:
    """reproduce.md's text: the summary table, the failed runs, the per-run table."""
    return (markdown_table(summarize(runs)) + failed_runs(runs) + PER_RUN_HEADING +
            per_run_table(runs))


def write_results(runs: list[dict], output: Path) -> list[dict]:
    output.mkdir(parents=True, exist_ok=True)
    (output / "reproduce.json").write_text(json.dumps({"runs": runs}, indent=1))
    (output / "reproduce.md").write_text(results_markdown(runs))
    rows = summarize(runs)
    if rows:
        plot(rows, output / "reproduce.png")
    return rows


def recorded_runs(output: Path) -> list[dict]:
    """The runs in ``output``'s reproduce.json (none if there is none yet)."""
    path = output / "reproduce.json"
    return json.loads(path.read_text())["runs"] if path.exists() else []


def _run_key(run: dict) -> tuple:
    return run["setting"], run["seed"], run["epochs"]


def merge_runs(paths: list[Path], output: Path) -> list[dict]:
    """Add the runs of other reproduce.json files (e.g. a GPU session's) to ``output``'s,
    a later file's run replacing one of the same (setting, seed, epochs); rewrite the
    table and plot; return the summary rows."""
    runs = recorded_runs(output)
    for path in paths:
        new = json.loads(Path(path).read_text())["runs"]
        keys = {_run_key(r) for r in new}
        runs = [r for r in runs if _run_key(r) not in keys] + new
    return write_results(runs, output)


def run_benchmark(names, seeds, epochs, data_home, device, output: Path,
                  options: dict | None = None, batched: bool = False,
                  max_models: int | None = None, skip_done: bool = False) -> list[dict]:
    """Run every (setting, seed), the classifiers with ``options`` (see ``OPTIONS``),
    saving after each run (or, with ``batched``, after each data set's one call of
    ``fit_batched``); with ``skip_done``, not those ``output`` has a result of (a run
    that diverged counts, one that failed with an error does not); return the summary
    rows."""
    earlier = recorded_runs(output) if skip_done else []
    done = {_run_key(r) for r in earlier if "failed" not in r}
    rows = summarize(earlier)
    for dataset in dict.fromkeys(SETTINGS[name]["dataset"] for name in names):
        pairs = [(name, seed) for name in names if SETTINGS[name]["dataset"] == dataset
                 for seed in seeds if (name, seed, epochs) not in done]
        if not pairs:
            continue
        try:
            data = load_data(dataset, data_home)
        except FileNotFoundError as exc:
            print(f"skipping {dataset}: {exc}", file=sys.stderr)
            continue
        for group in [pairs] if batched else [[pair] for pair in pairs]:
            print(f"[{time.strftime('%H:%M:%S')}] {len(group)} run(s) of {epochs} epochs on "
                  f"{device}{' (one fit_batched call)' if batched else ''}: {group}", flush=True)
            records = (run_batched(group, epochs, data, device, options, max_models)
                       if batched else [run_one(*group[0], epochs, data, device, options)])
            for record in records:
                result = (f"failed: {record['failed']}" if "failed" in record
                          else f"test error {record['test_error']:.2f} %")
                print(f"  -> {record['setting']} seed {record['seed']}: {result} in "
                      f"{record['wall_time_s']:.0f} s", flush=True)
            # Re-read: another process may have added runs to the same file meanwhile.
            new = {_run_key(r) for r in records}
            runs = [r for r in recorded_runs(output) if _run_key(r) not in new]
            rows = write_results(runs + records, output)
    print(markdown_table(rows) + failed_runs(recorded_runs(output)))
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", nargs="+", default=["full-100"],
                        help=f"setting names or groups ({', '.join(GROUPS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: the paper's schedule (150 epochs; 70 for CIFAR-10)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--fp32-precision", default="ieee", choices=["ieee", "bf16", "tf32"],
                        help="LadderClassifier's fp32_precision (bf16: CPU, tf32: CUDA)")
    parser.add_argument("--gpu-update", default="auto",
                        choices=["auto", "eager", "graph", "compiled"],
                        help="LadderClassifier's gpu_update (auto: compiled for the paper's "
                             "schedule)")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--batched", action="store_true",
                        help="train every (setting, seed) of a data set in one call of "
                             "fit_batched")
    parser.add_argument("--max-models", type=int, default=None,
                        help="with --batched: most models per batch (1: every run its own "
                             "fit; on a GPU those fits run side by side)")
    parser.add_argument("--skip-done", action="store_true",
                        help="leave out the (setting, seed, epochs) that OUTPUT/reproduce.json "
                             "has a result of (a diverged run counts; one that failed with "
                             "an error is run again)")
    parser.add_argument("--list", action="store_true", help="list the settings and exit")
    parser.add_argument("--summarize", action="store_true",
                        help="only rewrite the table and plot from OUTPUT/reproduce.json")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="only add these reproduce.json files' runs to OUTPUT's (a "
                             "later file's run replaces one of the same setting, seed and "
                             "epochs) and rewrite the table and plot")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.summarize or args.merge:
        rows = (merge_runs(args.merge, args.output) if args.merge
                else write_results(recorded_runs(args.output), args.output))
        print(markdown_table(rows) + failed_runs(recorded_runs(args.output)))
        return 0
    if args.list:
        for name, setting in SETTINGS.items():
            print(f"{name:16s} {setting}")
        return 0
    if args.max_models is not None and not args.batched:
        parser.error("--max-models needs --batched")
    names = [n for s in args.settings for n in GROUPS.get(s, [s])]
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; see --list")
    epochs = {SETTINGS[n]["paper_epochs"] for n in names} if args.epochs is None else {args.epochs}
    if len(epochs) > 1:
        parser.error("these settings have different paper schedules; give --epochs")
    options = {"fp32_precision": args.fp32_precision, "gpu_update": args.gpu_update}
    rows = run_benchmark(names, args.seeds, epochs.pop(), args.data_home, args.device,
                         args.output, options, args.batched, args.max_models,
                         args.skip_done)
    return 0 if rows else 2


if __name__ == "__main__":
    sys.exit(main())
