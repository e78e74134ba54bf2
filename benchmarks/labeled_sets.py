"""A ladder with few labels: does its error follow the labeled rows or the fit's seed?

Each (labeled set, fit seed) pair fits a setting of ``reproduce.py`` (the Γ-model with
100 labels by default) with its labeled rows drawn by ``mask_labels`` with the label
seed and the classifier's ``random_state`` (weights, noise, batches) set to the fit
seed. Crossing two label seeds with two fit seeds tells which of the two decides the
error. For each fit the test error and the largest confusions of the test set (true
digit, predicted digit, rows; those of at least ``--min-share`` of the true digit's
test rows) show what went wrong.

Writes ``labeled_sets.json`` and ``labeled_sets.md`` (with the machine, the epochs and
the wall time).

Example::

    python benchmarks/labeled_sets.py --label-seeds 1 2 --fit-seeds 1 2 --epochs 10 \\
        --output benchmarks/results/gamma-labels
"""

import argparse
import itertools
import time

from machine import describe, machine_info, write_result
from reproduce import CONFUSION_SHARE, SETTINGS, load_data, score_on_test, setting_classifier


def run(setting: str, label_seeds, fit_seeds, epochs: int, data_home, min_share: float):
    data = load_data(SETTINGS[setting]["dataset"], data_home)
    runs = []
    for label_seed, fit_seed in itertools.product(label_seeds, fit_seeds):
        clf, y = setting_classifier(setting, fit_seed, epochs, data, "cpu",
                                    label_seed=label_seed)
        start = time.perf_counter()
        clf.fit(data.X_train, y)
        runs.append({"label_seed": label_seed, "fit_seed": fit_seed,
                     **score_on_test(clf, data, min_share),
                     "wall_time_s": time.perf_counter() - start})
    return runs


def markdown(result: dict) -> str:
    lines = [describe(result["machine"]),
             f"Setting {result['setting']}, {result['epochs']} epochs; wall time "
             f"{result['wall_time_s']:.0f} s. Confusions: true → predicted (test rows), "
             f"those of at least {100 * result['min_share']:.0f} % of the true digit's rows.",
             "", "| label seed | fit seed | test error % | largest confusions |",
             "|---|---|---|---|"]
    for r in result["runs"]:
        lines.append(f"| {r['label_seed']} | {r['fit_seed']} | {r['test_error']:.2f} | "
                     f"{confusion_text(r['confusions'])} |")
    return "\n".join(lines) + "\n"


def confusion_text(found: list) -> str:
    """Confusions as the tables show them, "7 → 4 (103), 9 → 4 (55)", or "none"."""
    return ", ".join(f"{t} → {p} ({n})" for t, p, n in found) or "none"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setting", default="gamma-100", choices=sorted(SETTINGS))
    parser.add_argument("--label-seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--fit-seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--min-share", type=float, default=CONFUSION_SHARE)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--output", default="benchmarks/results/gamma-labels")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    runs = run(args.setting, args.label_seeds, args.fit_seeds, args.epochs, args.data_home,
               args.min_share)
    result = {"machine": machine_info(), "setting": args.setting, "epochs": args.epochs,
              "min_share": args.min_share, "wall_time_s": time.perf_counter() - start,
              "runs": runs}
    write_result(args.output, "labeled_sets", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
