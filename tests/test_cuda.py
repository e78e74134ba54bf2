"""The estimators on a CUDA GPU: ``python -m pytest -m cuda`` on a machine that has one.

Every test here carries the ``cuda`` marker and is skipped where torch sees no CUDA
device, as on CI. ``SKLEARN_LADDER_TEST_DEVICE=cpu python -m pytest -m cuda`` runs the
same tests on the CPU, to check the tests themselves where no GPU is at hand.
"""

import io
import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from _helpers import assert_same_fits, batch_losses
from reference_ladder import ReferenceLadder

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._ladder import Ladder, LadderCost
from sklearn_ladder._training import precision_backends
from sklearn_ladder.layers import Conv, Dense, GlobalMeanPool, MaxPool

DEVICE = os.environ.get("SKLEARN_LADDER_TEST_DEVICE", "cuda")
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(),
                       reason="needs a CUDA GPU"),
]
FAST = {"layers": [30, 20], "max_epochs": 10, "random_state": 0, "device": DEVICE}
CONV = [Conv(8, 3), MaxPool(2), Conv(10, 1), GlobalMeanPool(), Dense(10)]
# How close a fit's losses stay to those of a plain fit of the same settings and seed
# (assert_same_fits), where the two round differently.
# A compiled update's fused kernels round differently: the first ten updates to 1e-4,
# the rest within 2 %.
COMPILED = {"first": 10, "rtol_first": 1e-4, "rtol": 2e-2}
# cuBLAS computes bit-identical products only while one stream is active (its
# documentation, "Results reproducibility"), so a fit beside others, each on a stream of
# its own, drifts from its own fit as rounding differences grow: measured, equal over the
# first 6 updates on an H200 (8 on an H100), 1.4e-4 apart at the 8th, 1.6 % after 4
# epochs (0.5 % on the H100). A model fed another's batch or weights is percents off from
# the update where that happens.
SIDE_BY_SIDE = {"first": 5, "rtol_first": 1e-4, "rtol": 5e-2}


@pytest.fixture(scope="module")
def fitted(digits_semi):
    X, y, _, _ = digits_semi
    return LadderClassifier(**FAST).fit(X, y)


def _on_cpu(clf):
    """The fitted estimator moved to the CPU through a pickle, as a CPU-only machine
    loading a GPU model would get it."""
    restored = pickle.loads(pickle.dumps(clf))
    restored.net_.set_params(device="cpu")
    restored.net_.module_.to("cpu")
    return restored


def test_fit_predict_transform_reconstruct(fitted, digits_semi):
    _, _, X_test, y_test = digits_semi
    assert next(fitted.net_.module_.parameters()).device.type == torch.device(DEVICE).type
    proba = fitted.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert fitted.score(X_test, y_test) > 0.4  # 10 short epochs, 50 labels; chance is 0.1
    assert fitted.transform(X_test).shape == (len(X_test), 20)
    reconstruction = fitted.reconstruct(X_test[:200], add_noise=True)
    assert reconstruction.shape == (200, 64) and np.isfinite(reconstruction).all()


def test_conv_ladder_and_regressor(digits_semi):
    X, y, X_test, _ = digits_semi
    conv = LadderClassifier(CONV, input_shape=(1, 8, 8), max_epochs=2, device=DEVICE,
                            random_state=0).fit(X, y)
    assert conv.predict_proba(X_test).shape == (len(X_test), 10)
    targets = np.where(y >= 0, X.sum(axis=1), np.nan)
    reg = LadderRegressor([30, 20], max_epochs=3, device=DEVICE, random_state=0)
    assert np.isfinite(reg.fit(X, targets).predict(X_test)).all()


@pytest.mark.parametrize("precision", ["ieee", "tf32"])
def test_updates_run_at_the_asked_float32_precision(precision, digits_semi, monkeypatch):
    """fp32_precision reaches every training forward pass (the eager updates and the
    graph's capture) and is restored after: "ieee" also turns off the TF32 that torch
    lets cuDNN use by default; "tf32" (CUDA only) trains like "ieee", to its rounding."""
    if precision == "tf32" and DEVICE != "cuda":
        pytest.skip("TF32 is an option of CUDA devices")
    backends = precision_backends(DEVICE)
    before = [backend.fp32_precision for backend in backends]
    seen, forward = set(), Ladder.forward

    def recorded(module, *args, **kwargs):
        if module.training:
            seen.add(tuple(backend.fp32_precision for backend in backends))
        return forward(module, *args, **kwargs)

    monkeypatch.setattr(Ladder, "forward", recorded)
    X, y, _, _ = digits_semi
    fits = {p: LadderClassifier(CONV, input_shape=(1, 8, 8), max_epochs=3, device=DEVICE,
                                fp32_precision=p, gpu_update="graph", random_state=0)
            for p in {"ieee", precision}}
    fits["ieee"].fit(X, y)
    seen.clear()
    fits[precision].fit(X, y)
    assert seen == {(precision, precision)}
    assert [backend.fp32_precision for backend in backends] == before
    # TF32 rounds the products' inputs to 10 bits (1e-3): the first update's loss (same
    # weights, noise and rows) to 1 %, the rest drifts apart but trains alike.
    losses, ieee = batch_losses(fits[precision]), batch_losses(fits["ieee"])
    np.testing.assert_allclose(losses[0], ieee[0], rtol=1e-2)
    np.testing.assert_allclose(losses[-5:].mean(), ieee[-5:].mean(), rtol=0.1)


def test_gpu_and_cpu_predictions_of_the_same_weights_agree(fitted, digits_semi):
    _, _, X_test, _ = digits_semi
    on_cpu = _on_cpu(fitted)
    assert on_cpu.net_.device == "cpu"
    np.testing.assert_allclose(on_cpu.predict_proba(X_test), fitted.predict_proba(X_test),
                               rtol=0, atol=1e-10)  # float64 on both


def test_pickle_and_joblib_round_trips(fitted, digits_semi, tmp_path, monkeypatch):
    _, _, X_test, _ = digits_semi
    expected = fitted.predict_proba(X_test)
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    np.testing.assert_array_equal(joblib.load(path).predict_proba(X_test), expected)
    # GPU -> CPU-only machine: skorch maps the tensors to the CPU when CUDA is missing.
    buffer = io.BytesIO()
    pickle.dump(fitted, buffer)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(buffer.getvalue())
    monkeypatch.undo()
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X_test), expected, atol=1e-10)


def test_cpu_model_moves_to_the_gpu(digits_semi):
    X, y, X_test, _ = digits_semi
    cpu = LadderClassifier(**{**FAST, "device": "cpu"}).fit(X, y)
    moved = pickle.loads(pickle.dumps(cpu))
    moved.net_.set_params(device=DEVICE)
    moved.net_.module_.to(DEVICE)
    np.testing.assert_allclose(moved.predict_proba(X_test), cpu.predict_proba(X_test),
                               atol=1e-10)


def test_warm_start_and_early_stopping(digits):
    X, _, y, _ = digits
    clf = LadderClassifier(**FAST, warm_start=True).fit(X, y)
    first = clf.history_[-1, "train_loss"]
    clf.fit(X, y)
    assert clf.n_iter_ == 20 and clf.history_[-1, "train_loss"] < first
    stopped = LadderClassifier(**{**FAST, "max_epochs": 8}, early_stopping=True,
                               n_iter_no_change=2).fit(X, y)
    held_out = dict(stopped.net_.callbacks_)["valid_score"]
    outputs = stopped.net_.forward(held_out.X, training=False).numpy()
    # The best epoch's weights are kept.
    assert np.mean(outputs.argmax(1) == held_out.y) == max(stopped.history_[:, "valid_score"])


def test_same_random_state_on_the_gpu(digits_semi):
    # Documented: the noise comes from a CUDA generator, so a GPU fit differs from a CPU
    # fit with the same seed; two GPU fits agree up to non-deterministic reductions.
    X, y, X_test, _ = digits_semi
    a = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    b = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_first_updates_match_the_plain_reference_on_the_gpu():
    # As tests/test_equivalence.py on the CPU: float64, same noise, 8 updates.
    widths, costs, noise = [30, 20, 15, 10, 5], [1000.0, 10.0, 0.1, 0.1, 0.1], [0.3] + [0.2] * 4
    torch.manual_seed(0)
    ladder = Ladder(widths[0], widths[1:], costs, noise).double().to(DEVICE).train()
    reference = ReferenceLadder(widths, costs, noise).double().load_from(ladder).to(DEVICE)
    criterion = LadderCost(costs).double().to(DEVICE)
    optimizers = [torch.optim.Adam(m.parameters(), lr=0.002) for m in (ladder, reference)]
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((200, widths[0]))).to(DEVICE)
    y = torch.from_numpy(rng.integers(0, widths[-1], 200)).to(DEVICE)
    losses = [[], []]
    for step in range(8):
        rows = torch.from_numpy(rng.choice(200, 32, replace=False)).to(DEVICE)
        costs_of = (lambda rows=rows: criterion(ladder(X[rows]), y[rows[:16]]),
                    lambda rows=rows: reference(X[rows], y[rows[:16]])[0])
        for optimizer, cost, record in zip(optimizers, costs_of, losses):
            torch.manual_seed(100 + step)  # the same noise for both
            optimizer.zero_grad()
            loss = cost()
            loss.backward()
            optimizer.step()
            record.append(loss.item())
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)


@pytest.mark.parametrize("gpu_update", ["eager", "graph", "compiled"])
def test_a_batch_of_models_on_the_gpu_follows_their_separate_fits(digits_semi, gpu_update):
    """fit_batched on the device: the same losses as the models' own fits there, with
    the batched update run eagerly, replayed as one CUDA graph (captured again when the
    first model, one epoch long, finishes), or compiled and replayed (to the rounding
    of its fused kernels, as a compiled fit)."""
    from sklearn_ladder import fit_batched

    X, y, X_test, _ = digits_semi
    settings = [dict(noise_std=0.3, max_epochs=1, random_state=0),
                dict(noise_std=0.2, denoising_costs=[100, 1, 0.1, 0.5], random_state=1),
                dict(noise_std=[0.3, 0.0, 0.1, 0.2], learning_rate=0.001, random_state=2)]
    common = {**FAST, "max_epochs": 2, "gpu_update": gpu_update}
    del common["random_state"]
    separate = [LadderClassifier(**{**common, **s}).fit(X, y) for s in settings]
    batched = [LadderClassifier(**{**common, **s}) for s in settings]
    assert fit_batched(batched, X, y) == [None] * 3
    assert_same_fits(separate, batched, **(COMPILED if gpu_update == "compiled" else {}))
    for a, b in zip(separate, batched):
        np.testing.assert_allclose(b.predict_proba(X_test), a.predict_proba(X_test),
                                   atol=1e-3)


def test_one_call_fits_cpu_and_gpu_estimators_of_the_same_rows(digits_semi):
    """fit_batched shares the rows of one X between estimators, per device: a CPU and a
    GPU estimator each train on their own device's copy."""
    from sklearn_ladder import fit_batched

    X, y, X_test, _ = digits_semi
    models = [LadderClassifier(**{**FAST, "device": device, "max_epochs": 2})
              for device in ("cpu", DEVICE, "cpu")]
    assert fit_batched(models, X, y) == [None] * 3
    assert [next(m.net_.module_.parameters()).device.type for m in models] == [
        "cpu", torch.device(DEVICE).type, "cpu"]
    assert models[1].predict_proba(X_test).shape == (len(X_test), 10)


def test_a_graphed_batch_replays_the_eager_batch(digits_semi):
    """The batched update captured as one CUDA graph computes what the eager batched
    update computes (same noise from each model's generator, same kernels): equal to
    rounding over every update, including those after a model has finished."""
    from sklearn_ladder import fit_batched

    X, y, X_test, _ = digits_semi
    fits = {}
    for gpu_update in ("eager", "graph"):
        fits[gpu_update] = [LadderClassifier(**{**FAST, "gpu_update": gpu_update,
                                                "max_epochs": 3 + k, "random_state": k})
                            for k in range(3)]
        assert fit_batched(fits[gpu_update], X, y) == [None] * 3
    for eager, graph in zip(fits["eager"], fits["graph"]):
        np.testing.assert_allclose(batch_losses(graph), batch_losses(eager), rtol=1e-6)
        np.testing.assert_allclose(graph.predict_proba(X_test), eager.predict_proba(X_test),
                                   atol=1e-6)


def test_graphed_and_compiled_updates_compute_the_eager_ones(digits_semi):
    """gpu_update: the graph replays the eager updates exactly (same noise, same
    kernels); the compiled graph to float rounding. 10 epochs of 13 updates, so most
    updates are replays and the learning rate decays."""
    X, y, X_test, _ = digits_semi
    fits = {mode: LadderClassifier(**FAST, gpu_update=mode).fit(X, y)
            for mode in ("eager", "graph", "compiled")}
    if DEVICE == "cuda":
        assert {m: f.net_.gpu_update for m, f in fits.items()} == {
            "eager": "eager", "graph": "graph", "compiled": "compiled"}
    eager = batch_losses(fits["eager"])
    np.testing.assert_allclose(batch_losses(fits["graph"]), eager, rtol=1e-6)
    np.testing.assert_allclose(fits["graph"].predict_proba(X_test),
                               fits["eager"].predict_proba(X_test), atol=1e-6)
    assert_same_fits([fits["eager"]], [fits["compiled"]], **COMPILED)
    assert np.mean(fits["compiled"].predict(X_test) == fits["eager"].predict(X_test)) > 0.97


def test_warm_start_switches_between_eager_and_graphed_updates(digits_semi):
    # The second fit's schedule must reach the graph's learning rate (a tensor now).
    X, y, _, _ = digits_semi
    twins = [LadderClassifier(**FAST, gpu_update="eager", warm_start=True).fit(X, y)
             for _ in range(2)]
    twins[0].fit(X, y)
    twins[1].set_params(gpu_update="graph").fit(X, y)
    np.testing.assert_allclose(batch_losses(twins[1]), batch_losses(twins[0]), rtol=1e-6)
    restored = pickle.loads(pickle.dumps(twins[1]))  # no graph is kept
    assert restored.net_._graphed is None


def test_graphed_fits_run_side_by_side(digits_semi):
    """fit_batched with graphed updates and several batches: the batches (two models
    each, or one model's own fit each) train concurrently on their own streams, each
    model as its own fit."""
    from sklearn_ladder import fit_batched

    X, y, _, _ = digits_semi
    common = {**FAST, "gpu_update": "graph", "max_epochs": 4}
    del common["random_state"]
    separate = [LadderClassifier(**common, random_state=k).fit(X, y) for k in range(4)]
    for max_models in (2, 1):
        together = [LadderClassifier(**common, random_state=k) for k in range(4)]
        assert fit_batched(together, X, y, max_models=max_models) == [None] * 4
        assert_same_fits(separate, together, **(SIDE_BY_SIDE if max_models == 1 else {}))
