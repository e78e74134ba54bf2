"""The benchmark runner on a tiny synthetic MNIST stand-in (no real data needed), and its
committed results as docs/benchmarks.md shows them."""

import functools
import json

import numpy as np
import pytest
import reproduce
from _helpers import RESULTS, ROOT, tiny_data

# The result folders whose summary table docs/benchmarks.md quotes as the runner wrote it.
QUOTED = ["paper-schedule", "paper-schedule-cuda", "shortened", "five-epochs",
          "conv-shortened", "conv-fc-shortened", "table5"]
# The sections that show every run of their folder, by the start of their heading.
EVERY_RUN = {"paper-schedule": "## MNIST, the paper's schedule (150 epochs)\n",
             "paper-schedule-cuda": "## On a GPU"}


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(reproduce, "load_data", lambda dataset, data_home: tiny_data())


def test_runner_writes_json_markdown_and_plot(tmp_path, capsys, tiny):
    rows = reproduce.run_benchmark(["full-100", "supervised-100"], [0, 1], 1, None,
                                   "cpu", tmp_path)
    runs = json.loads((tmp_path / "reproduce.json").read_text())["runs"]
    assert len(runs) == 4
    n_test = len(tiny_data().y_test)
    assert {r["setting"] for r in runs} == {"full-100", "supervised-100"}
    for run in runs:
        assert run["epochs"] == 1 and len(run["error_per_epoch"]) == 1
        assert run["test_error"] == run["error_per_epoch"][-1] and run["wall_time_s"] > 0
        assert run["updates"] == 3  # 300 rows / 100 per update
        assert run["machine"]["cpu_count"] >= 1
        # the confusions count wrong predictions only (none on this easy stand-in)
        wrong = round(run["test_error"] * n_test / 100)
        assert sum(rows for _, _, rows in run["confusions"]) <= wrong
    table = (tmp_path / "reproduce.md").read_text()
    assert "| full-100 | 100 | 1 (shortened) | 2 |" in table and "21.74" in table
    # one epoch: no checkpoint before the end, the run's row goes from epochs to its end
    assert "| setting | seed | epochs | end | wall time |" in table
    assert f"| full-100 | 0 | 1 | **{runs[0]['test_error']:.2f}** |" in table
    assert (tmp_path / "reproduce.png").stat().st_size > 1000
    assert [r["n_seeds"] for r in rows] == [2, 2]
    assert "test error" in capsys.readouterr().out  # progress is visible


def test_confusions_keep_those_above_the_share_of_the_true_class():
    y_true = np.array([0] * 10 + [1] * 10 + [2] * 10)
    y_pred = np.array([0] * 7 + [1] * 3 + [1] * 9 + [2] + [2] * 10)
    assert reproduce.confusions(y_true, y_pred, 0.2) == [[0, 1, 3]]
    assert reproduce.confusions(y_true, y_pred, 0.1) == [[0, 1, 3], [1, 2, 1]]


def test_runs_accumulate_across_invocations(tmp_path, tiny):
    reproduce.run_benchmark(["gamma-100"], [0], 1, None, "cpu", tmp_path)
    reproduce.run_benchmark(["gamma-100"], [1], 1, None, "cpu", tmp_path)
    runs = json.loads((tmp_path / "reproduce.json").read_text())["runs"]
    assert sorted(r["seed"] for r in runs) == [0, 1]
    (tmp_path / "reproduce.md").unlink()
    assert reproduce.main(["--summarize", "--output", str(tmp_path)]) == 0
    assert "| gamma-100 | 100 | 1 (shortened) | 2 |" in (tmp_path / "reproduce.md").read_text()


def test_settings_follow_the_paper():
    assert reproduce.SETTINGS["full-100"]["denoising_costs"] == [1000, 10, 0.1, 0.1, 0.1, 0.1,
                                                                 0.1]
    assert reproduce.SETTINGS["gamma-1000"]["denoising_costs"][-1] == 10
    assert reproduce.SETTINGS["full-40"]["n_labels"] == 40
    assert set(reproduce.GROUPS["table1"]) >= {"full-all", "gamma-100", "supervised-1000"}
    assert reproduce.main(["--settings", "nonsense", "--list"]) == 0


def test_missing_data_is_reported(tmp_path, capsys):
    assert reproduce.main(["--data-home", str(tmp_path), "--settings", "full-100"]) == 2
    assert "MNIST files missing" in capsys.readouterr().err
    assert reproduce.main(["--data-home", str(tmp_path), "--settings",
                           "conv-large-gamma-4000", "--epochs", "1"]) == 2
    assert "CIFAR-10 files missing" in capsys.readouterr().err


def test_conv_and_table5_settings_run(tmp_path, tiny):
    rows = reproduce.run_benchmark(["conv-small-gamma-100", "g4-100"], [0], 1, None, "cpu",
                                   tmp_path)
    assert [r["setting"] for r in rows] == ["g4-100", "conv-small-gamma-100"]
    runs = json.loads((tmp_path / "reproduce.json").read_text())["runs"]
    assert all(r["test_error"] == r["error_per_epoch"][-1] and r["updates"] == 3
               for r in runs)


def test_conv_and_table5_settings_follow_the_paper():
    small = reproduce.SETTINGS["conv-small-gamma-100"]
    assert small["layers"] == "conv-small" and small["input_shape"] == (1, 28, 28)
    assert small["denoising_costs"] == [0] * 9 + [1] and small["paper_error"] == 0.89
    large = reproduce.SETTINGS["conv-large-gamma-4000"]
    assert (large["activation"], large["top_scale"], large["paper_epochs"]) == (
        "leaky_relu", False, 70)
    assert large["denoising_costs"][-1] == 4
    assert reproduce.GROUPS["table5"] == [f"{g}-{n}" for g in ("gauss", "g1", "g2", "g3", "g4")
                                          for n in (100, 1000)]
    assert {reproduce.SETTINGS[n]["noise_std"] for n in reproduce.GROUPS["table5"]} == {0.3}


def test_batched_runs_match_separate_ones(tmp_path, tiny, monkeypatch):
    """--batched trains all seeds of a setting as one batch: the same runs as one by one;
    the classifiers' options (--gpu-update, off CUDA eager whatever asked) reach every
    classifier and record."""
    asked, real = [], reproduce.fit_batched
    monkeypatch.setattr(reproduce, "fit_batched", lambda estimators, *args, **kwargs: (
        asked.extend(e.gpu_update for e in estimators) or real(estimators, *args, **kwargs)))
    separate = reproduce.run_benchmark(["full-100"], [0, 1], 1, None, "cpu", tmp_path / "a")
    batched = reproduce.run_benchmark(["full-100"], [0, 1], 1, None, "cpu", tmp_path / "b",
                                      {"gpu_update": "graph"}, batched=True)
    runs = [json.loads((tmp_path / d / "reproduce.json").read_text())["runs"] for d in "ab"]
    assert asked == ["graph", "graph"]
    assert [r["gpu_update"] for r in runs[0] + runs[1]] == ["auto"] * 2 + ["graph"] * 2
    assert [r["batch_of"] for r in runs[1]] == [2, 2]
    assert [r["updates"] for r in runs[1]] == [r["updates"] for r in runs[0]]
    np.testing.assert_allclose([r["test_error"] for r in runs[1]],
                               [r["test_error"] for r in runs[0]], atol=0.5)
    assert batched[0]["n_seeds"] == separate[0]["n_seeds"] == 2


def test_batched_runs_of_several_settings_count_a_failed_run(tmp_path, tiny, monkeypatch):
    """--batched fits every (setting, seed) of a data set in one call; a run that failed
    is kept, at chance-level error, never dropped."""
    calls = []
    real = reproduce.fit_batched

    def one_fails(estimators, *args, **kwargs):
        calls.append((len(estimators), kwargs["max_models"]))
        errors = real(estimators, *args, **kwargs)
        return [*errors[:-1], FloatingPointError("diverged")]

    monkeypatch.setattr(reproduce, "fit_batched", one_fails)
    rows = reproduce.run_benchmark(["full-100", "supervised-100"], [0], 1, None, "cpu",
                                   tmp_path, batched=True, max_models=1)
    assert calls == [(2, 1)]  # one call; its batches of one model each (--max-models)
    runs = json.loads((tmp_path / "reproduce.json").read_text())["runs"]
    failed = [r for r in runs if "diverged" in r]
    assert [(r["setting"], r["test_error"]) for r in failed] == [("supervised-100", 90.0)]
    assert "FloatingPointError" in failed[0]["diverged"] and failed[0]["batch_of"] == 2
    assert [r["n_seeds"] for r in rows] == [1, 1]
    with pytest.raises(SystemExit):
        reproduce.main(["--max-models", "1", "--output", str(tmp_path)])


def test_a_run_failed_by_an_error_has_no_result_and_is_run_again(tmp_path, tiny, monkeypatch):
    """A run stopped by an error of the code (a failed CUDA capture, say), not by
    divergence, has no result: it is listed, left out of the statistics, and
    --skip-done runs it again, but none of the runs that have a result."""
    fitted, real = [], reproduce.fit_batched

    def last_fails(estimators, *args, **kwargs):
        return [*real(estimators, *args, **kwargs)[:-1], RuntimeError("capture failed")]

    monkeypatch.setattr(reproduce, "fit_batched", last_fails)
    rows = reproduce.run_benchmark(["full-100"], [0, 1], 1, None, "cpu", tmp_path,
                                   batched=True)
    assert [(r["setting"], r["n_seeds"], r["not_converged"]) for r in rows] == [
        ("full-100", 1, None)]
    failed = "failed, no result: full-100 seed 1 (1 epochs): RuntimeError('capture failed')"
    assert failed in (tmp_path / "reproduce.md").read_text()

    monkeypatch.setattr(reproduce, "fit_batched", lambda estimators, *args, **kwargs: (
        fitted.extend(e.random_state for e in estimators) or real(estimators, *args, **kwargs)))
    rows = reproduce.run_benchmark(["full-100", "gamma-100"], [0, 1], 1, None, "cpu",
                                   tmp_path, batched=True, skip_done=True)
    assert fitted == [1, 0, 1]  # full-100's failed seed 1 again, and both of gamma-100
    runs = json.loads((tmp_path / "reproduce.json").read_text())["runs"]
    assert sorted((r["setting"], r["seed"]) for r in runs if "failed" not in r) == [
        ("full-100", 0), ("full-100", 1), ("gamma-100", 0), ("gamma-100", 1)]
    assert len(runs) == 4 and "failed" not in (tmp_path / "reproduce.md").read_text()
    assert [r["n_seeds"] for r in rows] == [2, 2]
    assert reproduce.main(["--settings", "full-100", "--seeds", "0", "1", "--epochs", "1",
                           "--batched", "--skip-done", "--output", str(tmp_path)]) == 0
    assert len(fitted) == 3  # all done: nothing fitted


def test_merge_adds_a_files_runs_a_later_run_replacing_the_same_one(tmp_path):
    """--merge (a GPU session's runs into the committed ones): a run of the same setting,
    seed and epochs is replaced, the others kept; the table is rewritten."""
    def runs(*entries):
        return json.dumps({"runs": [{"setting": s, "seed": seed, "epochs": 150,
                                     "test_error": error, "wall_time_s": 60}
                                    for s, seed, error in entries]})

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "reproduce.json").write_text(runs(("full-100", 0, 1.0),
                                                          ("full-100", 1, 1.2)))
    (tmp_path / "gpu.json").write_text(runs(("full-100", 1, 1.4), ("gamma-100", 0, 3.0)))
    assert reproduce.main(["--merge", str(tmp_path / "gpu.json"),
                           "--output", str(tmp_path / "out")]) == 0
    merged = json.loads((tmp_path / "out" / "reproduce.json").read_text())["runs"]
    assert sorted((r["setting"], r["seed"], r["test_error"]) for r in merged) == [
        ("full-100", 0, 1.0), ("full-100", 1, 1.4), ("gamma-100", 0, 3.0)]
    table = (tmp_path / "out" / "reproduce.md").read_text()
    assert "| full-100 | 100 | 150 | 2 | 1.20 ± 0.28 | 1.20 | 0 |" in table


def test_runs_are_judged_converged_only_where_the_papers_line_applies():
    """The paper's 2 % line counts failed runs of the full and bottom ladders with 100
    labels or fewer on its schedule; the Γ-model (3.06 %), the baseline (21.74 %), 1000
    labels and shortened runs get no count."""
    errors = {("full-100", 150): [1.0, 2.5], ("full-40", 150): [3.0],
              ("gamma-100", 150): [3.0], ("supervised-100", 150): [21.7],
              ("full-1000", 150): [2.5], ("full-100", 10): [2.5]}
    runs = [{"setting": name, "epochs": epochs, "seed": seed, "test_error": error}
            for (name, epochs), values in errors.items() for seed, error in enumerate(values)]
    counts = {(r["setting"], r["epochs"]): r["not_converged"]
              for r in reproduce.summarize(runs)}
    assert counts == {("full-100", 150): 1, ("full-40", 150): 1, ("gamma-100", 150): None,
                      ("supervised-100", 150): None, ("full-1000", 150): None,
                      ("full-100", 10): None}


def test_per_run_table_shows_each_runs_epochs_end_and_machine():
    """A row per run in the settings' order: the error after the checkpoint epochs before
    the longest run's end (a shorter run's later cells empty), its end in bold, its wall
    time (in seconds under two minutes) and where it trained (the CPU's model where
    recorded); a diverged run says so, a failed one has no errors."""
    cpu = {"device": "cpu", "torch_threads": 1}
    xeon = {**cpu, "processor": "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz"}
    gpu = {"device": "cuda", "torch_threads": 16, "gpu": "NVIDIA H200"}
    curve = [20.0 - 0.1 * e for e in range(30)]
    runs = [
        {"setting": "gamma-100", "seed": 3, "epochs": 30, "test_error": 17.1,
         "error_per_epoch": curve, "wall_time_s": 600, "machine": xeon},
        {"setting": "full-100", "seed": 1, "epochs": 10, "test_error": 19.1,
         "error_per_epoch": curve[:10], "wall_time_s": 120, "machine": gpu, "batch_of": 5},
        {"setting": "full-100", "seed": 0, "epochs": 30, "test_error": 90.0,
         "diverged": "FloatingPointError()", "wall_time_s": 60, "machine": cpu},
        {"setting": "bottom-100", "seed": 0, "epochs": 30, "test_error": None,
         "failed": "RuntimeError()", "wall_time_s": 6, "machine": None},
    ]
    lines = reproduce.per_run_table(runs).splitlines()
    assert lines[0] == "| setting | seed | epochs | 1 | 5 | 10 | 25 | end | wall time |"
    assert lines[2:] == [
        "| full-100 | 1 | 10 | 20.00 | 19.60 |  |  | **19.10** | 2 min (NVIDIA H200, batch "
        "of 5) |",
        "| full-100 | 0 | 30 |  |  |  |  | **90.00** (diverged) | 60 s (CPU, 1 torch "
        "thread) |",
        "| bottom-100 | 0 | 30 |  |  |  |  | failed | 6 s (unrecorded) |",
        "| gamma-100 | 3 | 30 | 20.00 | 19.60 | 19.10 | 17.60 | **17.10** | 10 min (Intel "
        "Xeon Platinum 8480+, 1 torch thread) |",
    ]


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in RESULTS.glob("*/reproduce.json")))
def test_committed_tables_are_what_the_runner_writes_from_the_committed_runs(folder):
    """A committed reproduce.md edited by hand, or left behind by its reproduce.json
    (runs merged without the table rewritten), shows results nobody can rerun."""
    runs = reproduce.recorded_runs(RESULTS / folder)
    assert (RESULTS / folder / "reproduce.md").read_text() == reproduce.results_markdown(runs)


@pytest.mark.parametrize("folder", QUOTED)
def test_docs_quote_the_committed_summary_tables(folder):
    """The tables in docs/benchmarks.md are the committed results, not an older merge."""
    summary, per_run = (RESULTS / folder / "reproduce.md").read_text().split(
        reproduce.PER_RUN_HEADING)
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    assert summary in docs
    if folder in EVERY_RUN:
        section = docs.split(EVERY_RUN[folder])[1]
        assert per_run in section.split("\n## ")[0]


# Counts as the prose spells them.
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen")


@functools.cache
def _prose(path: str) -> str:
    """A documentation file's words, its line breaks and no-break spaces read as spaces;
    read once for all the tests that quote it."""
    return " ".join((ROOT / path).read_text().replace("\u00a0", " ").split())


@functools.cache
def _paper_schedule() -> list:
    """The committed 150-epoch CPU runs, read once for the tests that quote them."""
    return reproduce.recorded_runs(RESULTS / "paper-schedule")


def _cpu_errors(setting: str) -> list:
    """The test error of each committed 150-epoch CPU run of a setting, in seed order."""
    return [run["test_error"] for run in sorted(_paper_schedule(), key=lambda run: run["seed"])
            if run["setting"] == setting]


def _listed(errors: list) -> str:
    """Test errors as the prose lists them: "1.01, 0.94 and 1.08 %", or "1.08 %" alone."""
    *head, last = (f"{error:.2f}" for error in errors)
    return f"{', '.join(head)} and {last} %" if head else f"{last} %"


def _median(setting: str) -> str:
    """A setting's median as the committed summary table gives it."""
    row, = (row for row in reproduce.summarize(_paper_schedule()) if row["setting"] == setting)
    return f"{row['median']:.2f}"


# Settings whose seeds README.md leaves to docs/benchmarks.md (for the Γ-model with 100
# labels it gives a median and a range, checked below).
NOT_LISTED_IN_README = {"gamma-100", "supervised-100", "supervised-1000"}


@pytest.mark.parametrize("setting", sorted({run["setting"] for run in _paper_schedule()}))
def test_docs_list_every_committed_cpu_run_of_the_paper_schedule(setting):
    """docs/benchmarks.md and README.md give each seed's result by hand: a run merged into
    the results with the prose left as it was shows fewer seeds, or other numbers, than
    anyone can rerun. The settings come from the results, so a new one is checked too."""
    errors = _cpu_errors(setting)
    assert _listed(errors) in _prose("docs/benchmarks.md")
    if setting in NOT_LISTED_IN_README:
        return
    readme = _prose("README.md")
    assert _listed(errors) in readme
    if setting in ("full-100", "bottom-100", "full-40", "full-50"):
        assert f"{_listed(errors)} (median {_median(setting)} %" in readme


def test_readme_and_user_guide_counts_and_ranges_are_the_committed_runs():
    """The counts, medians and ranges the prose gives for the few-label settings."""
    readme, guide = _prose("README.md"), _prose("docs/user_guide.rst")
    full, bottom = _cpu_errors("full-100"), _cpu_errors("bottom-100")
    gamma, full50 = _cpu_errors("gamma-100"), _cpu_errors("full-50")
    assert f"{NUMBER_WORDS[len(full)]} seeds gave {_listed(full)}" in readme
    assert (f"a median of {_median('gamma-100')} % over {NUMBER_WORDS[len(gamma)]} seeds "
            f"({min(gamma):.2f} to {max(gamma):.2f} %" in readme)
    assert (f"all {NUMBER_WORDS[len(full)]} seeds ended between {min(full):.2f} and "
            f"{max(full):.2f} %" in guide)
    failed = [error for error in bottom if error > reproduce.NOT_CONVERGED]
    rest = [error for error in bottom if error <= reproduce.NOT_CONVERGED]
    assert (f"failed once in {NUMBER_WORDS[len(bottom)]} seeds ({failed[0]:.2f} %; the other "
            f"{NUMBER_WORDS[len(rest)]} {min(rest):.2f} to {max(rest):.2f} %)" in guide)
    assert f"with 40 labels at {_listed(_cpu_errors('full-40'))}" in guide
    converged = [error for error in full50 if error <= reproduce.NOT_CONVERGED]
    near = [error for error in full50 if reproduce.NOT_CONVERGED < error < 3]
    merged = [error for error in full50 if error >= 3]
    assert all(abs(error - 2.3) < 0.1 for error in near)
    assert (f"ended at {_listed(converged)} test error for {NUMBER_WORDS[len(converged)]} "
            f"seeds, near 2.3 % for {NUMBER_WORDS[len(near)]} and at {_listed(merged)} for "
            f"{NUMBER_WORDS[len(merged)]} that merged 4s and 9s" in guide)
