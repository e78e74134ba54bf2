"""
Ladder network on digits with 50 labels
=======================================

scikit-learn's 8x8 digits (no download): a seeded, stratified 70/30 split, 5 labels per
class kept in the training part and every other training row marked unlabeled (-1).
The ladder (full mode, the paper's λ) is compared with its own encoder trained alone (the
supervised baseline, the paper's noise 0.3 / 0.5) and with scikit-learn's
``LabelSpreading``, over several seeds. Run it with ``python examples/digits_demo.py``.

Settings for a small data set: the default network, which on fewer than 100 features is
narrower than MNIST's (two hidden layers of 500 and 250 units), less noise (σ = 0.2; the
paper's 0.3 suits MNIST) and the default training length, which gives these 1,257 rows
3,000 updates (231 epochs of 13 updates).
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from sklearn_ladder import LadderClassifier
from sklearn_ladder.datasets import mask_labels


def models(seed: int, epochs) -> dict:
    return {
        "ladder (full)": LadderClassifier(noise_std=0.2, max_epochs=epochs, random_state=seed),
        "supervised baseline": LadderClassifier(
            mode="supervised", noise_std=[0.3, 0.5, 0.5, 0.5], max_epochs=epochs,
            random_state=seed),
        "LabelSpreading": LabelSpreading(kernel="knn", n_neighbors=7),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Ladder vs baselines on digits, 50 labels")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", default="auto",
                        type=lambda v: v if v == "auto" else int(v))
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # inputs in [0, 1], as the ladder expects
    errors: dict[str, list[float]] = {}
    start = time.perf_counter()
    for seed in args.seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y)
        y_semi = mask_labels(y_train, 50, random_state=seed)
        for name, model in models(seed, args.epochs).items():
            error = 100 * (1 - model.fit(X_train, y_semi).score(X_test, y_test))
            errors.setdefault(name, []).append(error)
            print(f"seed {seed}  {name:20s} test error {error:5.2f} %", flush=True)

    print(f"\nDigits, 50 labels, max_epochs={args.epochs!r}, seeds {args.seeds} "
          f"({time.perf_counter() - start:.0f} s)")
    print("| model | test error % (mean ± std) | per seed |\n|---|---|---|")
    for name, values in errors.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"| {name} | {statistics.fmean(values):.2f} ± {spread:.2f} | "
              f"{', '.join(f'{v:.2f}' for v in values)} |")


if __name__ == "__main__":
    main()
