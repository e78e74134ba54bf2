import functools
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from _helpers import batch_losses, watch_host_reads
from skorch.callbacks import Callback

from sklearn_ladder import LadderClassifier
from sklearn_ladder._allocator import retain_freed_memory
from sklearn_ladder._training import (
    LadderNet,
    LinearDecayLR,
    RowData,
    SemiSupervisedBatches,
    float32_precision,
)


def make_data(n=250, n_labeled=30, d=5):
    rng = np.random.default_rng(0)
    y = np.full(n, -1)
    y[rng.choice(n, n_labeled, replace=False)] = rng.integers(0, 3, n_labeled)
    X = np.arange(n, dtype=np.float32)[:, None].repeat(d, 1)  # row i holds the value i
    return RowData(X, y), y


def test_batches_hold_b_labeled_then_b_unlabeled_rows():
    data, y = make_data()
    batches = list(SemiSupervisedBatches(data, 40, torch.Generator().manual_seed(0)))
    assert len(batches) == 7  # ceil(250 / 40): one pass over the unlabeled pool
    labeled = set(np.flatnonzero(y >= 0))
    seen = set()
    for X, targets in batches:
        yb = targets.y
        assert X.shape == (80, 5) and yb.shape == (40,) and targets.weight is None
        rows = X[:, 0].long().numpy()
        assert set(rows[:40]) <= labeled  # -1 rows never enter the supervised cost
        np.testing.assert_array_equal(yb.numpy(), y[rows[:40]])
        assert (yb >= 0).all()
        seen |= set(rows[40:])
    assert seen == set(range(250))  # every row is an unlabeled row once per epoch


def test_labeled_rows_are_cycled_evenly():
    data, y = make_data(n=200, n_labeled=20)
    X, _ = next(iter(SemiSupervisedBatches(data, 100, torch.Generator().manual_seed(1))))
    counts = np.bincount(X[:100, 0].long().numpy(), minlength=200)[y >= 0]
    assert (counts == 5).all()  # 100 = 5 whole reshuffles of the 20 labels


class _FakeNet:
    def __init__(self, epochs):
        self.max_epochs, self.lr = epochs, 1.0
        self.history = []
        self.optimizer_ = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        self.recorded = []

    def record(self, key, value):
        self.recorded.append(value)


def test_learning_rate_is_constant_then_decays_linearly_to_zero():
    net = _FakeNet(150)
    net.history = type("H", (list,), {"record": lambda self, k, v: net.recorded.append(v)})()
    schedule = LinearDecayLR(0.67)
    schedule.on_train_begin(net)
    for _ in range(150):
        net.history.append({})
        schedule.on_epoch_begin(net)
    lrs = np.array(net.recorded)
    assert (lrs[:101] == 1.0).all()
    np.testing.assert_allclose(lrs[101:], (150 - np.arange(101, 150)) / 49.5)
    assert lrs[-1] == pytest.approx(1 / 49.5) and np.all(np.diff(lrs[100:]) < 0)


@pytest.mark.parametrize("statistics", ["labeled", "unlabeled"])
def test_test_statistics_are_those_the_labeled_rows_were_normalised_with(digits_semi,
                                                                         statistics):
    X, y, _, _ = digits_semi
    # One batch holds every row, so the statistics are exactly those of the rows chosen.
    clf = LadderClassifier([20], max_epochs=1, batch_size=len(X), random_state=0,
                           labeled_statistics=statistics).fit(X, y)
    module = clf.net_.module_
    rows = torch.from_numpy(X[y >= 0] if statistics == "labeled" else X)
    z_pre = rows @ module.weights["1"]
    torch.testing.assert_close(module.test_mean(1), z_pre.mean(0))
    torch.testing.assert_close(module.test_var(1), z_pre.var(0, unbiased=True))


def test_history_records_every_cost_term(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20, 10], max_epochs=2, random_state=0).fit(X, y)
    last = clf.history_[-1]
    parts = [last[f"denoising_cost_{l}"] for l in range(4)]
    assert last["denoising_cost"] == pytest.approx(sum(parts), rel=1e-5)
    assert last["train_loss"] == pytest.approx(last["supervised_cost"] + sum(parts), rel=1e-4)
    assert clf.n_iter_ == 2 and len(clf.history_) == 2


class _InterruptAt(Callback):
    """Presses Ctrl-C (sends SIGINT to this process) after the given update of epoch 2."""

    def __init__(self, update):
        self.update = update

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == 2 and len(net.history[-1]["batches"]) == self.update:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs (and raises) before this returns


def test_keyboard_interrupt_keeps_a_usable_model_warns_and_propagates(digits_semi, ctrl_c):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=5, random_state=0, callbacks=[_InterruptAt(3)])
    with pytest.warns(UserWarning, match="interrupted in epoch 2 of 5"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.n_iter_ == len(clf.history_) == 2
    assert clf.net_.interrupted_
    assert clf.net_.module_.test_var(1).ne(1).all()  # test-time statistics were set
    assert np.isfinite(clf.predict_proba(X_test)).all()
    # The interrupted epoch's cost terms are not kept (on a GPU: device tensors, which
    # a machine without CUDA could not unpickle).
    assert dict(clf.net_.callbacks_)["cost_terms"].terms_ == []


def test_keyboard_interrupt_stops_a_cross_validation(digits_semi, ctrl_c):
    from sklearn.model_selection import cross_val_score

    from sklearn_ladder.model_selection import LabeledStratifiedKFold

    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=3, random_state=0, callbacks=[_InterruptAt(1)])
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        cross_val_score(clf, X, y, cv=LabeledStratifiedKFold(3))


def test_fits_in_threads_with_one_random_state_give_one_model(digits_semi):
    from concurrent.futures import ThreadPoolExecutor

    X, y, X_test, _ = digits_semi

    def fit(_):
        clf = LadderClassifier([20], max_epochs=3, random_state=0).fit(X, y)
        return clf.predict_proba(X_test)

    alone = fit(None)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(fit, range(4)))
    for proba in results:
        np.testing.assert_array_equal(proba, alone)


def test_fit_leaves_the_global_torch_generator_alone(digits_semi):
    X, y, _, _ = digits_semi
    state = torch.random.get_rng_state()
    LadderClassifier([20], max_epochs=1, random_state=0, combinator="amlp").fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)


def _fit_alone_and_batched(X, y, X_test, **params):
    """The test probabilities of a ladder fitted alone and of two fitted as one batch."""
    from sklearn_ladder import fit_batched

    alone = LadderClassifier([20], max_epochs=2, random_state=0, **params).fit(X, y)
    batch = [LadderClassifier([20], max_epochs=2, random_state=seed, **params)
             for seed in (0, 1)]
    fit_batched(batch, X, y)
    return [clf.predict_proba(X_test) for clf in (alone, *batch)]


@pytest.mark.parametrize("block", [torch.no_grad, torch.inference_mode])
def test_fits_in_a_no_grad_or_inference_block_train_as_outside_it(digits_semi, block):
    X, y, X_test, _ = digits_semi
    expected = _fit_alone_and_batched(X, y, X_test)
    with block():
        got = _fit_alone_and_batched(X, y, X_test)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_a_float64_default_dtype_builds_the_same_float32_ladder(digits_semi):
    X, y, X_test, _ = digits_semi
    # AMLP: its initial weights are drawn too, not only the maps'.
    expected = _fit_alone_and_batched(X, y, X_test, combinator="amlp")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = _fit_alone_and_batched(X, y, X_test, combinator="amlp")
    finally:
        torch.set_default_dtype(previous)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("tty", [False, True])
def test_verbose_colours_only_a_terminal(digits, tty, monkeypatch, capsys):
    X, _, y, _ = digits
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    LadderClassifier([20], max_epochs=2, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "supervised_cost" in out and "denoising_cost_0" not in out
    assert ("\x1b[" in out) == tty


def test_divergence_stops_with_a_clear_error(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=3, learning_rate=1e8, input_scaling=None,
                           denoising_costs=[1e30, 1e30, 1e30], random_state=0)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 1: the .* cost"):
        clf.fit(X * 1e20, y)
    assert not hasattr(clf, "net_")


def test_divergence_stops_at_the_first_bad_update_on_cpu(digits_semi):
    from skorch.callbacks import Callback

    class CountUpdates(Callback):
        def __init__(self):
            self.n = 0

        def on_batch_end(self, net, training=False, **kwargs):
            self.n += 1

    counter = CountUpdates()
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=3, learning_rate=1e8, random_state=0,
                           input_scaling=None, denoising_costs=[1e30, 1e30, 1e30],
                           callbacks=[counter])
    with pytest.raises(FloatingPointError):
        clf.fit(X * 1e20, y)
    assert counter.n == 0  # stopped inside the first update's callbacks, before ours ran


_FAULTS_PER_UPDATE = """
import resource, sys, torch
from sklearn_ladder._allocator import retain_freed_memory
from sklearn_ladder._ladder import Ladder, LadderCost
if sys.argv[1] == "retain":
    assert retain_freed_memory()
torch.manual_seed(0)
costs = [1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1]
ladder = Ladder(784, [1000, 500, 250, 250, 250, 10], costs, [0.3] * 7).train()
cost, optimizer = LadderCost(costs), torch.optim.Adam(ladder.parameters(), fused=True)
x, y = torch.rand(200, 784), torch.arange(100) % 10
def update():
    optimizer.zero_grad()
    cost(ladder(x), y).backward()
    optimizer.step()
for _ in range(5):
    update()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    update()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(not retain_freed_memory(), reason="glibc's malloc only")
def test_training_updates_reuse_freed_memory():
    # In fresh processes: without the setting, each update of the paper's network touches
    # thousands of fresh pages (memory freed to the kernel and mapped again); with it,
    # almost none.
    def faults(mode):
        run = subprocess.run([sys.executable, "-c", _FAULTS_PER_UPDATE, mode],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        return float(run.stdout)

    retained, default = faults("retain"), faults("default")
    assert retained < 0.1 * default


def test_cpu_training_sets_the_allocator(digits_semi):
    retain_freed_memory.cache_clear()
    X, y, _, _ = digits_semi
    LadderClassifier([20], max_epochs=1, random_state=0).fit(X, y)
    assert retain_freed_memory.cache_info().misses == 1


def test_bf16_precision_is_set_during_updates_only_and_trains_like_ieee(digits_semi):
    # Whether oneDNN then computes in bfloat16 depends on the CPU (AMX or not), so the
    # test checks what holds on every CPU: the setting reaches each update's products,
    # is restored after, and training is unchanged within rounding.
    X, y, X_test, y_test = digits_semi
    before = (torch.backends.mkldnn.matmul.fp32_precision,
              torch.backends.mkldnn.conv.fp32_precision)
    seen = []

    def record(module, args):
        seen.append((torch.backends.mkldnn.matmul.fp32_precision,
                     torch.backends.mkldnn.conv.fp32_precision, module.training))

    fits = {}
    for precision in ("ieee", "bf16"):
        clf = LadderClassifier([40], max_epochs=4, fp32_precision=precision, random_state=0)
        clf.fit(X, y)
        fits[precision] = clf
        hook = clf.net_.module_.register_forward_pre_hook(record)
        seen.clear()
        clf.set_params(warm_start=True, max_epochs=1).fit(X, y)
        hook.remove()
        training = {(m, c) for m, c, train in seen if train}
        assert training == {(precision, precision)}
    assert (torch.backends.mkldnn.matmul.fp32_precision,
            torch.backends.mkldnn.conv.fp32_precision) == before
    ieee, bf16 = (np.asarray(fits[p].history_[:, "train_loss"]) for p in ("ieee", "bf16"))
    np.testing.assert_allclose(bf16, ieee, rtol=0.02)
    scores = {p: fit.score(X_test, y_test) for p, fit in fits.items()}
    assert abs(scores["bf16"] - scores["ieee"]) < 0.05


@pytest.mark.parametrize("precision, device, message", [
    ("bf16", "cuda", "fp32_precision='bf16' sets oneDNN's precision for CPU training"),
    ("tf32", "cpu", "fp32_precision='tf32' sets the TF32 tensor cores of CUDA training"),
])
def test_a_precision_is_refused_off_its_device(precision, device, message, digits_semi,
                                               monkeypatch):
    import sklearn_ladder._base as base

    monkeypatch.setattr(base, "_resolve_device", lambda _: device)
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match=re.escape(message)):
        LadderClassifier([8], max_epochs=1, fp32_precision=precision).fit(X, y)


def test_a_torch_without_the_precision_settings_refuses_the_options(digits_semi,
                                                                   monkeypatch):
    import sklearn_ladder._training as training

    X, y, _, _ = digits_semi
    monkeypatch.setattr(training, "_PRECISION_BACKENDS",
                        {"cpu": training._backends("not_in_this_torch")})
    with pytest.raises(ValueError, match="needs torch's per-backend fp32_precision"):
        LadderClassifier([8], max_epochs=1, fp32_precision="bf16").fit(X, y)
    # "ieee" then leaves torch's defaults as they are.
    assert LadderClassifier([8], max_epochs=1, fp32_precision="ieee").fit(X, y).n_iter_ == 1


@pytest.mark.parametrize("precision", ["ieee", "tf32"])
def test_the_precision_on_cuda_sets_cublas_and_cudnn_and_restores_them(precision):
    # torch's own default lets cuDNN use TF32: "ieee" must turn it off as well.
    backends = (torch.backends.cuda.matmul, torch.backends.cudnn.conv,
                torch.backends.mkldnn.matmul)
    before = [backend.fp32_precision for backend in backends]
    with float32_precision(precision, torch.device("cuda", 0)):
        inside = [backend.fp32_precision for backend in backends]
    assert inside == [precision, precision, before[2]]  # oneDNN is the CPU's
    assert [backend.fp32_precision for backend in backends] == before


def test_the_graphed_update_path_computes_the_eager_updates(digits_semi, monkeypatch):
    """GraphedUpdate's own path (static buffers, noise drawn before the forward pass,
    capturable Adam with the learning rate as a tensor filled by the schedule) gives
    the eager fit's losses; on the CPU it runs without capture, so this checks
    everything but the CUDA graph itself (tests/test_cuda.py checks that on a GPU)."""
    X, y, X_test, _ = digits_semi
    params = dict(layers=[30, 20], max_epochs=4, random_state=0, lr_decay_start=0.5)
    eager = LadderClassifier(**params).fit(X, y)
    monkeypatch.setattr(LadderNet, "_uses_graphs", lambda self: True)
    host_reads = watch_host_reads(monkeypatch)
    graphed = LadderClassifier(**params).fit(X, y)
    assert host_reads == []  # nothing that a CUDA graph's capture would refuse
    group = graphed.net_.optimizer_.param_groups[0]
    assert isinstance(group["lr"], torch.Tensor) and group["capturable"]
    assert graphed.net_._graphed is None  # the fit's buffers are released
    np.testing.assert_allclose(batch_losses(graphed), batch_losses(eager), rtol=1e-6)
    # The schedule reached the tensor: decayed as the eager fit's rate.
    final_lr = eager.net_.optimizer_.param_groups[0]["lr"]
    assert final_lr < 0.002 and float(group["lr"]) == pytest.approx(final_lr)
    np.testing.assert_allclose(graphed.predict_proba(X_test), eager.predict_proba(X_test),
                               atol=1e-6)


def test_each_structure_compiles_code_of_its_own(digits_semi, monkeypatch):
    """Compiled updates (on a GPU): fits of one structure share compiled code (σ, λ,
    seed and learning rate are inputs), and each new structure compiles its own, past
    dynamo's limit of variants per code object (1 here, 8 by default) beyond which one
    shared function would run the later structures of a process uncompiled. Dynamo
    traces on the CPU as on a GPU; its "eager" backend skips inductor's code generation,
    since dynamo's cache is what is checked."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    import sklearn_ladder._base as base
    from sklearn_ladder import _graph

    X, y, _, _ = digits_semi
    compile_fn = torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda fn, **kwargs: compile_fn(fn, backend="eager", **kwargs))
    monkeypatch.setattr(_graph, "compiled_for_structure",
                        functools.cache(_graph.compiled_for_structure.__wrapped__))
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 1)
    monkeypatch.setattr(LadderNet, "_uses_graphs", lambda self: True)
    monkeypatch.setattr(base, "resolve_gpu_update", lambda *args: "compiled")
    fits = [{}, dict(noise_std=0.1, denoising_costs=[9, 1, 1, 1], random_state=1,
                     learning_rate=0.01),
            dict(mode="gamma"), dict(layers=[25, 20]), dict(batch_size=50), {}]
    graphs = []
    for params in fits:
        before = counters["stats"]["unique_graphs"]
        LadderClassifier(**{"layers": [30, 20], "max_iter": 5, **params}).fit(X, y)
        graphs.append(counters["stats"]["unique_graphs"] - before)
    assert graphs == [1, 0, 1, 1, 1, 0]


@pytest.mark.parametrize("can_graph, triton, n_updates, expected", [
    (True, True, 90_000, {"auto": "compiled", "graph": "graph", "compiled": "compiled"}),
    (True, True, 3_000, {"auto": "graph", "graph": "graph", "compiled": "compiled"}),
    (True, False, 90_000, {"auto": "graph", "graph": "graph", "compiled": "needs Triton"}),
    (False, True, 90_000, {"auto": "eager", "graph": "torch >= 2.5",
                           "compiled": "torch >= 2.5"}),
])
def test_the_gpu_update_is_what_this_torch_can_run(monkeypatch, can_graph, triton,
                                                   n_updates, expected):
    """"auto" picks the fastest update this torch runs; an explicit one it cannot run
    (torch < 2.5, no Triton) is refused with the reason, not failed at capture."""
    import torch.utils._triton

    from sklearn_ladder._graph import resolve_gpu_update

    monkeypatch.setattr(torch.utils._triton, "has_triton", lambda: triton)
    graph = type("CUDAGraph", (), {"register_generator_state": None} if can_graph else {})
    monkeypatch.setattr(torch.cuda, "CUDAGraph", graph)
    for gpu_update, outcome in expected.items():
        assert resolve_gpu_update(gpu_update, "cpu", n_updates) == "eager"
        assert resolve_gpu_update("eager", "cuda", n_updates) == "eager"
        if outcome in ("eager", "graph", "compiled"):
            assert resolve_gpu_update(gpu_update, "cuda:0", n_updates) == outcome
        else:
            with pytest.raises(ValueError, match=outcome.replace("+", r"\+")):
                resolve_gpu_update(gpu_update, "cuda:0", n_updates)


def test_a_fitted_model_pickles_no_tensor_outside_the_device_mapped_state(digits_semi):
    """skorch maps only the module, criterion and optimiser to the CPU when a GPU-fitted
    model is loaded where CUDA is missing; any other tensor left on the estimator (a
    callback's running sum, say) would make such a model unloadable there."""
    import io
    import pickle

    X, y, _, _ = digits_semi
    clf = LadderClassifier(layers=[20], max_epochs=2, random_state=0, early_stopping=True,
                           validation_fraction=0.3, n_iter_no_change=1).fit(X, y)
    stray = []

    class Recorder(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, (torch.Tensor, torch.Generator)):
                stray.append(type(obj).__name__)
            return NotImplemented

    Recorder(io.BytesIO()).dump(clf)
    assert stray == []
