"""The labeled-set benchmark (labeled rows against fit seed) on a tiny MNIST stand-in, and
the forecasts' ledger that docs/benchmarks.md builds from its committed fits."""

import json

import labeled_sets
import numpy as np
import reproduce
from _helpers import RESULTS, ROOT, tiny_data

LEDGER = ("| setting | label and fit seed | test error % after 10 epochs | largest confusions | "
          "committed before the 150-epoch run | 150-epoch run, test error % | below 2 % from "
          "epoch |\n")


def test_label_seed_draws_the_labels_and_seed_the_fit():
    data = tiny_data()
    clf, y = reproduce.setting_classifier("gamma-100", 1, 1, data, "cpu", label_seed=2)
    own_labels = reproduce.setting_classifier("gamma-100", 1, 1, data, "cpu")[1]
    other_labels = reproduce.setting_classifier("gamma-100", 2, 1, data, "cpu")[1]
    assert clf.random_state == 1
    np.testing.assert_array_equal(y, other_labels)
    assert not np.array_equal(y, own_labels)


def test_every_pair_of_seeds_is_fitted_and_written(tmp_path, monkeypatch):
    monkeypatch.setattr(labeled_sets, "load_data", lambda dataset, data_home: tiny_data())
    labeled_sets.main(["--label-seeds", "0", "1", "--fit-seeds", "3", "--epochs", "1",
                       "--output", str(tmp_path)])
    result = json.loads((tmp_path / "labeled_sets.json").read_text())
    assert [(r["label_seed"], r["fit_seed"]) for r in result["runs"]] == [(0, 3), (1, 3)]
    assert all(0 <= r["test_error"] <= 100 for r in result["runs"])
    assert "| 1 | 3 |" in (tmp_path / "labeled_sets.md").read_text()


def _below_line_from(errors: list) -> str:
    """The epoch from which a run's test error stayed below the 2 % line, or "never"."""
    above = [epoch for epoch, error in enumerate(errors, 1)
             if error >= reproduce.NOT_CONVERGED]
    if not above:
        return "1"
    return "never" if above[-1] == len(errors) else str(above[-1] + 1)


def test_docs_forecast_ledger_is_the_committed_fits_and_runs():
    """Each row of the ledger is its committed 10-epoch fit and, once merged, its
    150-epoch run: a row copied wrong, or a run merged with its row left "not run yet",
    shows results nobody can rerun. Every committed fit from seed 5 on has its row: a fit
    left out, or a table cut in two by a blank line, would hide rows from this check."""
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    assert docs.count(LEDGER) == 1
    table = docs.split(LEDGER)[1].split("\n\n")[0].splitlines()[1:]
    runs = reproduce.recorded_runs(RESULTS / "paper-schedule")
    runs = {(run["setting"], run["seed"]): run for run in runs}
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in table]
    folders = [f"{setting.replace('-', '')}-seed{seed}" for setting, seed, *_ in cells]
    fits = {p.name for p in (RESULTS / "early-sign").iterdir() if int(p.name.split("seed")[1]) >= 5}
    assert fits <= set(folders), sorted(fits - set(folders))
    for folder, (setting, seed, error, found, _, end, below) in zip(folders, cells):
        path = RESULTS / "early-sign" / folder / "labeled_sets.json"
        fit = json.loads(path.read_text())["runs"]
        assert [(f["label_seed"], f["fit_seed"]) for f in fit] == [(int(seed), int(seed))]
        assert (error, found) == (f"{fit[0]['test_error']:.2f}",
                                  labeled_sets.confusion_text(fit[0]["confusions"]))
        run = runs.get((setting, int(seed)))
        assert (end, below) == (("not run yet", "") if run is None else (
            f"{run['test_error']:.2f}", _below_line_from(run["error_per_epoch"]))), folder
