"""The speed benchmark scripts run end to end on tiny settings and write their files."""

import json

import numpy as np
import pytest
import speed
import speed_conv
from sklearn.datasets import make_moons

from sklearn_ladder import LadderClassifier, LadderRegressor


def test_speed_writes_json_and_table(tmp_path):
    # Two rounds of three updates of the paper's MLP (20 features): every row and ratio.
    result = speed.run(rounds=2, updates=3, skorch_epochs=2, n_features=20, output=tmp_path)
    assert set(result["ms_per_update"]) == {"reference", "plain", "skorch", "skorch_bf16"}
    assert all(v > 0 for v in result["ms_per_update"].values())
    assert len(result["speedup_vs_reference_rounds"]) == 2
    # The ladder skips the clean pass of the labeled rows: fewer FLOPs than the reference.
    gflop = result["matmul_gflop_per_update"]
    assert gflop["ladder"] < gflop["reference"]
    table = (tmp_path / "speed.md").read_text()
    assert "| eager reference |" in table and 'fp32_precision="bf16"' in table
    assert json.loads((tmp_path / "speed.json").read_text())["setting"]["rounds"] == 2


def test_speed_conv_writes_json_and_table(tmp_path):
    assert speed_conv.main(["--models", "conv-small-gamma", "--updates", "2",
                            "--batch-size", "10", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "speed-conv.json").read_text())
    (row,) = result["results"]
    assert row["model"] == "conv-small-gamma" and row["ms_per_update"] > 0
    # 30 images through Conv-Small forward (20 corrupted, 10 clean), about 3x for backward.
    assert 0.5 < row["gflop_per_update"] < 3
    assert "| conv-small-gamma | 1×28×28 |" in (tmp_path / "speed-conv.md").read_text()


def test_onednn_bf16_reports_every_product_and_whether_it_rounded(tmp_path, monkeypatch):
    import onednn_bf16

    result = onednn_bf16.run(repeats=1)
    assert [row["shape"][1:] for row in result["products"]] == [
        [784, 1000], [1000, 500], [500, 250], [250, 250], [250, 250], [250, 10]]
    for row in result["products"]:
        errors = row["max_error"]
        # float32 products are far closer to float64 than products of bfloat16 inputs
        assert errors["ieee"] < 1e-3 < errors["bf16 inputs"]
    assert "| 300 × 784 × 1000 |" in onednn_bf16.markdown(result)


def _fast_classifiers(seed, n_features, device, grid, inputs):
    """The data-set benchmark's methods, small: a one-layer ladder (with the input-scaling
    variants for raw inputs and the grid when asked), its encoder, LabelSpreading."""
    import datasets
    from sklearn.base import clone
    from sklearn.semi_supervised import LabelSpreading

    ladder = LadderClassifier([8], max_iter=20, random_state=seed, device=device)
    tuned = {datasets.LADDER_GRID: datasets.ladder_grid(clone(ladder), n_features)}
    as_given = {name: clone(ladder).set_params(input_scaling=scaling)
                for name, scaling in datasets.SCALINGS.items()}
    return {datasets.LADDER: ladder, **(as_given if inputs == "raw" else {}),
            **(tuned if grid else {}),
            datasets.ENCODER: LadderClassifier([8], max_iter=20, mode="supervised",
                                               random_state=seed),
            "LabelSpreading (kNN)": LabelSpreading(kernel="knn", n_neighbors=7)}


@pytest.fixture
def fast_datasets(monkeypatch):
    import datasets

    monkeypatch.setattr(datasets, "classifiers", _fast_classifiers)
    return datasets


def _wine(datasets, output, *args) -> list[dict]:
    """The runs of the data-set benchmark on wine with ``args``, written to ``output``."""
    assert datasets.main(["--task", "classification", "--only", "wine", *args,
                          "--output", str(output)]) == 0
    return json.loads((output / "datasets.json").read_text())["runs"]


def test_datasets_benchmark_writes_every_cell(tmp_path, fast_datasets):
    # the grid's λ fit the network the defaults build on the data set's features
    assert len(fast_datasets.default_costs(LadderClassifier(), 13)) == 4  # 500-250
    assert len(fast_datasets.default_costs(LadderClassifier(), 784)) == 7  # the paper's
    _wine(fast_datasets, tmp_path, "--seeds", "0", "1")
    lines = (tmp_path / "datasets-runs.jsonl").read_text().splitlines()
    assert len(lines) == 2 * 2 * 3  # label counts × seeds × methods
    cells = json.loads((tmp_path / "datasets.json").read_text())["cells"]
    assert [(c["dataset"], c["labels"]) for c in cells] == [("wine", 3), ("wine", 10)]


def test_datasets_benchmark_grid_and_raw_inputs(tmp_path, fast_datasets, monkeypatch):
    from sklearn_ladder import _input_scaling

    datasets = fast_datasets

    grid_runs = _wine(datasets, tmp_path / "grid", "--seeds", "0", "--labels", "3", "--grid")
    assert [r["method"] for r in grid_runs] == [datasets.LADDER, datasets.LADDER_GRID,
                                                datasets.ENCODER, "LabelSpreading (kNN)"]
    # features as wine gives them, to every method
    monkeypatch.setattr(_input_scaling, "FAR_TAIL", _input_scaling.FAR_TAIL)  # restored
    raw_runs = _wine(datasets, tmp_path / "raw", "--seeds", "0", "--labels", "3", "--raw",
                     "--far-tail", "5")
    assert _input_scaling.FAR_TAIL == 5.0  # the line this run's ladders drew
    assert [r["method"] for r in raw_runs] == [datasets.LADDER, *datasets.SCALINGS,
                                               datasets.ENCODER, "LabelSpreading (kNN)"]
    X, y = datasets.CLASSIFICATION["wine"][0](None)
    for inputs in datasets.INPUTS:
        X_train, _, X_test, _ = datasets._split(X, y, 3, 0, "classification", inputs)
        unscaled = inputs == "raw"
        assert (X_train.max() > 100) == unscaled and (X_test.max() > 100) == unscaled
        assert (X_train.min() < 0) == (inputs == "standardised")


def test_datasets_benchmark_merges_parts(tmp_path, fast_datasets, monkeypatch):
    datasets = fast_datasets
    out, again, merged = tmp_path / "part", tmp_path / "again", tmp_path / "merged"
    runs = _wine(datasets, out, "--seeds", "0", "1")
    # The ladder alone again, with another seed's scores standing in for a changed default:
    # the merge keeps every cell and seed once, the later part's ladder replacing the first.
    monkeypatch.setattr(datasets, "classifiers", lambda seed, n_features, **options:
                        _fast_classifiers(seed + 7, n_features, **options))
    (rerun,) = _wine(datasets, again, "--seeds", "0", "--labels", "3",
                     "--methods", datasets.LADDER)
    assert "of 1 cells" not in (again / "datasets.md").read_text()  # nothing to judge
    parts = [str(out / "datasets-runs.jsonl"), str(again / "datasets-runs.jsonl")]
    assert datasets.main(["--merge", *parts, "--output", str(merged)]) == 0
    merged_runs = json.loads((merged / "datasets.json").read_text())["runs"]
    assert len(merged_runs) == len(runs)
    assert rerun in merged_runs and runs[0] not in merged_runs  # wine 3, seed 0, ladder
    table = (merged / "datasets.md").read_text()
    assert "| wine | 3 per class |" in table and "of 2 cells" in table
    assert "or unrecorded" not in table  # both parts wrote their machine beside their log
    (again / datasets.MACHINE_FILE).unlink()  # a log from before the file was written
    assert datasets.main(["--merge", *parts, "--output", str(merged)]) == 0
    from machine import machine_info
    threads = machine_info()["torch_threads"]
    assert f"{threads} or unrecorded torch threads" in (merged / "datasets.md").read_text()


def test_merged_machine_says_what_the_parts_ran_on():
    from machine import describe, machine_info, merged_machine

    one = {**machine_info(), "torch_threads": 1, "cpu_bf16_flags": ["avx512_bf16"]}
    other = {**one, "torch_threads": 2, "cpu_bf16_flags": []}
    merged = merged_machine([one, other, one])
    assert merged["processor"] == one["processor"]
    assert "(avx512_bf16 or none)" in describe(merged)
    assert "1 or 2 torch threads" in describe(merged)
    unknown = merged_machine([one, None])
    assert unknown["torch"] == f"{one['torch']} or unrecorded"
    assert set(merged_machine([None])) == set(one)
    assert describe(merged_machine([None])).startswith("Machine: unrecorded (unrecorded)")


def test_datasets_summary_counts_wins_within_one_std():
    import datasets

    def runs(method, scores):
        return [{"task": "classification", "dataset": "d", "labels": 5, "seed": s,
                 "method": method, "score": v, "seconds": None} for s, v in enumerate(scores)]

    (cell,) = datasets.summarize(runs(datasets.LADDER, [10, 12]) + runs(datasets.ENCODER,
                                 [12, 12]) + runs("other", [5, 5]))
    assert cell["best"] == "other" and not cell["ladder_best_or_within_std"]
    assert cell["ladder_not_worse_than_encoder"]  # error 11 against 12
    (cell,) = datasets.summarize(runs(datasets.LADDER, [5, 8]) + runs(datasets.ENCODER,
                                 [5, 5]) + runs("other", [9, 9]))
    assert cell["best"] == datasets.ENCODER and cell["ladder_best_or_within_std"]
    assert not cell["ladder_not_worse_than_encoder"]  # 6.5 ± 2.1 against 5: within, worse


def test_lambda_scaling_rules():
    import lambda_scaling

    assert lambda_scaling.scaled_costs("lambda0", 784) == list(lambda_scaling.PAPER)
    assert lambda_scaling.scaled_costs("lambda0", 392)[:2] == [500.0, 10.0]
    assert lambda_scaling.scaled_costs("all", 78.4)[:2] == [100.0, 1.0]
    costs = {rule: lambda_scaling.VARIANTS[rule](13).get("denoising_costs")
             for rule in ("no lambda0", "lambda0 only", "lambda/10", "lambda/100")}
    assert costs["no lambda0"] == [0.0, 10.0, 0.1, 0.1, 0.1, 0.1, 0.1]
    assert costs["lambda0 only"] == [1000.0, 0, 0, 0, 0, 0, 0]
    assert costs["lambda/10"][:2] == [100.0, 1.0]
    assert costs["lambda/100"][:2] == [10.0, 0.1]
    # a decoder on every layer, its cost negligible, with the paper's statistics
    tiny = lambda_scaling.VARIANTS["lambda x 1e-6, labeled statistics"](2)
    assert tiny["labeled_statistics"] == "labeled"
    np.testing.assert_allclose(tiny["denoising_costs"], [1e-3, 1e-5] + [1e-7] * 5)
    assert lambda_scaling.VARIANTS["top lambda 10"](2)["denoising_costs"] == [
        1000.0, 10.0, 0.1, 0.1, 0.1, 0.1, 10.0]
    assert lambda_scaling.VARIANTS["sigma 0.15"](13) == {"noise_std": 0.15}
    assert lambda_scaling.VARIANTS["input sigma 0.1"](2) == {"noise_std": [0.1] + [0.3] * 6}
    assert lambda_scaling.VARIANTS["hidden sigma 0.15"](2) == {"noise_std": [0.3] + [0.15] * 6}


def test_lambda_scaling_probes_fit_the_parameters_they_name():
    import lambda_scaling

    # on two features, the defaults a table of 10 or more features gets
    plain = LadderClassifier(max_iter=2, random_state=0, **lambda_scaling.variant_params(
        "without the few-features rules", 2))
    X, y = make_moons(60, random_state=0)
    plain.fit(X, np.where(np.arange(60) < 10, y, -1))
    np.testing.assert_allclose(plain.denoising_costs_, lambda_scaling.PAPER)
    np.testing.assert_allclose(plain.noise_std_, [0.3] * 7)
    # the regressor's probe keeps the regressor's σ above the input, not the classifier's
    quiet = LadderRegressor(max_iter=2, random_state=0, **lambda_scaling.variant_params(
        "input sigma 0.03, regressor", 2))
    quiet.fit(X, np.where(np.arange(60) < 10, X[:, 0], np.nan))
    np.testing.assert_allclose(quiet.noise_std_, [0.03] + [0.15] * 6)
    # the clean-input probes: nothing on the input to corrupt or decode, on two features too
    clean = LadderRegressor(max_iter=2, random_state=0, **lambda_scaling.variant_params(
        "no input noise, lambda/10, regressor", 2))
    clean.fit(X, np.where(np.arange(60) < 10, X[:, 0], np.nan))
    np.testing.assert_allclose(clean.noise_std_, [0.0, 0.15, 0.15, 0.15])
    np.testing.assert_allclose(clean.denoising_costs_, [0.0, 1.0, 0.01, 0.01])
    # the length probe's 3,000 updates train the epochs max_epochs="auto" trained before
    # the regressor's floor became 300 (the classifier's rule): 429 epochs of 700 rows
    old_length = LadderRegressor(**lambda_scaling.variant_params("3,000 updates, regressor",
                                                                 20))
    assert old_length._n_epochs(700) == LadderClassifier()._n_epochs(700) == 429
    assert old_length.layers == [500, 250]
    # the classifier's probe: a third and twice its floor, on the defaults' network
    for rule, epochs in (("1,000 updates", 143), ("6,000 updates", 858)):
        probe = LadderClassifier(**lambda_scaling.variant_params(rule, 20))
        assert probe.layers == [500, 250] and probe._n_epochs(700) == epochs
    narrow = LadderClassifier(max_iter=2, random_state=0, **lambda_scaling.variant_params(
        "encoder alone, layers 500-250", 2))
    narrow.fit(X, np.where(np.arange(60) < 10, y, -1))
    assert len(narrow.noise_std_) == 4 and narrow.transform(X[:3]).shape == (3, 250)


def test_lambda_scaling_summary(tmp_path):
    import lambda_scaling

    log = tmp_path / "lambda-scaling-runs.jsonl"
    log.write_text("\n".join(json.dumps({"dataset": d, "labels": 3, "seed": s,
                                         "rule": rule, "score": score})
                             for d, s, rule, score in [
                                 ("wine", 0, "lambda0", 10.0), ("wine", 0, "all", 6.0),
                                 ("wine", 1, "lambda0", 12.0), ("wine", 1, "all", 8.0),
                                 ("wine", 2, "lambda0", 50.0),  # no "all" for seed 2
                                 ("moons", 0, "sigma 0.15", 4.0)]))
    base = tmp_path / "datasets.json"
    base.write_text(json.dumps({"runs": [
        {"dataset": d, "labels": 3, "seed": s, "method": m, "score": v}
        for d in ("wine", "moons") for s in (0, 1, 2)
        for m, v in (("ladder (defaults)", 13.0 + s), ("ladder encoder alone", 7.0))]}))
    table = lambda_scaling.summarize(log, base)
    assert "| lambda0 | all | sigma 0.15 | ladder (defaults) |" in table
    assert "| wine | 3 | [0, 1] | 11.00 | 7.00 | — | 13.50 | 7.00 |" in table
    assert "| moons | 3 | [0] | — | — | 4.00 | 13.00 | 7.00 |" in table


def test_lambda_scaling_init_offset_trains_another_seed_on_the_same_split(tmp_path,
                                                                          monkeypatch):
    import lambda_scaling

    seen = []

    def fake_fit_score(rule, model, split, task):
        seen.append(split[1])
        return float(model.random_state)

    monkeypatch.setattr(lambda_scaling, "_fit_score", fake_fit_score)
    log = tmp_path / "runs.jsonl"
    lambda_scaling.run("classification", [("wine", 3)], [1], ["encoder alone"], log)
    lambda_scaling.run("classification", [("wine", 3)], [1], ["encoder alone"], log,
                       init_offset=100)
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert (first["init_seed"], first["score"]) == (1, 1.0)
    assert (second["seed"], second["init_seed"], second["score"]) == (1, 101, 101.0)
    np.testing.assert_array_equal(seen[0], seen[1])  # the same labels were kept


def test_batched_times_separate_fits_against_one_batch(tmp_path):
    import batched

    assert batched.main(["--models", "1", "2", "--updates", "6", "--rounds", "1",
                         "--rows", "300", "--data-home", str(tmp_path / "no-mnist"),
                         "--fp32-precision", "bf16", "--gpu-update", "graph",
                         "--profile", "3", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "batched.json").read_text())
    assert result["data"] == "random pixels"
    assert "fp32_precision='bf16', gpu_update='graph'" in batched.markdown(result)
    options = {"fp32_precision": "bf16", "gpu_update": "graph"}
    assert {(m.fp32_precision, m.gpu_update)
            for m in batched.configurations(2, 2, "cpu", options)} == {("bf16", "graph")}
    rows = result["rows"]
    assert [r["models"] for r in rows] == [1, 2]
    assert all(r["sequential_s"] > 0 and r["batched_s"] > 0 for r in rows)
    # The host work outside the batched update: none for a model alone (its own fit),
    # a part of the batched update's time for two.
    assert rows[0]["batched_host_ms_per_update"] == 0
    assert 0 < rows[1]["batched_host_ms_per_update"] < rows[1]["batched_ms_per_update"]
    # Two epochs of 3 updates: the second's pace, without the fit's fixed costs, of the
    # order of the whole fit's (milliseconds per update both).
    assert all(0.2 < r["batched_steady_ms_per_update"] / r["batched_ms_per_update"] < 1.5
               for r in rows)
    # Planning (validation, scaling, the nets) is part of the batched fit, before training.
    assert all(0 < r["batched_planning_s"] < r["batched_s"] for r in rows)
    assert not any("side_by_side_s" in r for r in rows)  # a GPU's third way only
    # The profiled batch: its operators' own time within its wall time, the largest first.
    profile = rows[1]["profile"]
    assert profile["updates"] == 3
    assert 0 < profile["kernel_ms_per_update"] < profile["wall_ms_per_update"]
    top = [t["ms_per_update"] for t in profile["top"]]
    assert len(top) == 10 and top == sorted(top, reverse=True)
    assert "Profiled: one batched fit of K = 2, 3 updates" in batched.markdown(result)
    rows[0]["profile"] = {"error": "RuntimeError('CUPTI')"}  # the timings still written
    assert "K = 1 failed: RuntimeError('CUPTI')" in batched.markdown(result)
    # On a GPU the table gets the K fits side by side too.
    rows[1].update(side_by_side_s=0.5, side_by_side_ms_per_update=250.0)
    for row in rows:
        del row["profile"]
    table = batched.markdown(result).splitlines()
    pace = rows[1]["batched_steady_ms_per_update"]
    ratio = pace / rows[0]["batched_steady_ms_per_update"]
    assert table[-1].startswith("| 2 |")
    assert table[-1].endswith(f"| 0.50 | {pace:.2f} | {ratio:.2f} |")
    one_pace = rows[0]["batched_steady_ms_per_update"]
    assert table[-2].endswith(f"| - | 1.00 | - | {one_pace:.2f} | 1.00 |")


def test_batched_keeps_its_timings_when_profiling_fails(monkeypatch):
    import batched

    def fail(*args):
        raise RuntimeError("CUPTI")

    monkeypatch.setattr(batched, "profiled_batch", fail)
    X, y = speed.make_data(300, 20, 100)
    row = batched.measure(2, X, y, 3, 1, "cpu", profile_updates=3)
    assert row["batched_s"] > 0 and row["profile"] == {"error": "RuntimeError('CUPTI')"}


def test_datasets_benchmark_far_tailed_sets_have_far_tails_and_the_others_none():
    """The held-out sets of the far-tails round test the rule they were made for: most of
    their features are far tailed; scikit-learn's wine, iris and digits have none."""
    import datasets

    from sklearn_ladder._input_scaling import far_tailed_features

    for name, far in (("log-normal amounts (4 classes, 20 features)", 14),
                      ("counts (3 classes, 30 features)", 28),
                      ("mistyped entries (3 classes, 10 features)", 10),
                      ("wine", 0), ("iris", 0), ("digits", 0)):
        X, _ = datasets.CLASSIFICATION[name][0](None)
        assert far_tailed_features(np.asarray(X, dtype=np.float32)).size == far, name


def test_imbalanced_benchmark_draws_random_labels_of_every_class_and_scores_both_ways(
        tmp_path, monkeypatch):
    import imbalanced
    from sklearn.dummy import DummyClassifier
    from sklearn.semi_supervised import SelfTrainingClassifier

    y = np.array([0] * 90 + [1] * 8 + [2] * 2)
    y_semi = imbalanced.random_labels(y, 10, seed=0)
    assert (y_semi >= 0).sum() == 10 and set(y_semi[y_semi >= 0]) == {0, 1, 2}
    np.testing.assert_array_equal(y_semi[y_semi >= 0], y[y_semi >= 0])

    def fast(seed):
        return {"ladder (defaults)": LadderClassifier([8], max_iter=20, random_state=seed),
                "majority": SelfTrainingClassifier(DummyClassifier())}

    monkeypatch.setattr(imbalanced, "methods", fast)
    monkeypatch.setattr(imbalanced, "DATA", {**imbalanced.DATA, "n_samples": 300})
    assert imbalanced.main(["--seeds", "0", "1", "--labels", "20",
                            "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "imbalanced.json").read_text())
    assert len(result["runs"]) == 4 and result["seeds"] == [0, 1]
    # Predicting the majority class of 80 % errs on about 20 % of the rows, but on 2 of
    # the 3 classes entirely: the balanced error tells the two apart.
    majority = result["stats"]["majority"]
    assert 15 < majority["error"]["mean"] < 25
    np.testing.assert_allclose(majority["balanced_error"]["mean"], 100 * 2 / 3)
    table = (tmp_path / "imbalanced.md").read_text()
    assert "| majority |" in table and "**" in table


def test_the_cells_that_drew_the_spread_rule_lie_either_side_of_mnists_spread():
    """The benchmark's one-hot table: 5 numeric columns and 20 one-hot ones (one 1 per
    category); mapped to [0, 1] it spreads more than MNIST's pixels, the 20-class
    clusters less, so the classifier's σ_0 lands above and below 0.3."""
    import datasets
    from sklearn.preprocessing import minmax_scale

    from sklearn_ladder import LadderClassifier

    X, y = datasets.CLASSIFICATION["one-hot and numeric (3 classes, 25 columns)"][0](None)
    assert X.shape == (1500, 25) and set(np.unique(y)) == {0, 1, 2}
    np.testing.assert_array_equal(X[:, 5:].sum(axis=1), 4)  # 4 categories, one level each
    clusters, _ = datasets.CLASSIFICATION["clusters (20 classes, 30 features)"][0](None)

    def sigma_0(X):
        return LadderClassifier()._auto_input_noise(minmax_scale(X).astype(np.float32))

    assert sigma_0(clusters) < 0.2 and sigma_0(X) > 0.35
