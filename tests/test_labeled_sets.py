"""The labeled-set benchmark (labeled rows against fit seed) on a tiny MNIST stand-in."""

import json

import labeled_sets
import numpy as np
import reproduce
from _helpers import tiny_data


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
