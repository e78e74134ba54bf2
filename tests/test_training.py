import numpy as np
import pytest
import torch

from sklearn_ladder import LadderClassifier
from sklearn_ladder._training import LinearDecayLR, RowData, SemiSupervisedBatches


def make_data(n=250, n_labeled=30, d=5):
    rng = np.random.default_rng(0)
    y = np.full(n, -1)
    y[rng.choice(n, n_labeled, replace=False)] = rng.integers(0, 3, n_labeled)
    X = np.arange(n, dtype=np.float32)[:, None].repeat(d, 1)  # row i holds the value i
    return RowData(X, y), y


def test_batches_hold_b_labeled_then_b_unlabeled_rows():
    data, y = make_data()
    batches = list(SemiSupervisedBatches(data, 40, np.random.default_rng(0)))
    assert len(batches) == 7  # ceil(250 / 40): one pass over the unlabeled pool
    labeled = set(np.flatnonzero(y >= 0))
    seen = set()
    for X, yb in batches:
        assert X.shape == (80, 5) and yb.shape == (40,)
        rows = X[:, 0].long().numpy()
        assert set(rows[:40]) <= labeled  # -1 rows never enter the supervised cost
        np.testing.assert_array_equal(yb.numpy(), y[rows[:40]])
        assert (yb >= 0).all()
        seen |= set(rows[40:])
    assert seen == set(range(250))  # every row is an unlabeled row once per epoch


def test_labeled_rows_are_cycled_evenly():
    data, y = make_data(n=200, n_labeled=20)
    X, _ = next(iter(SemiSupervisedBatches(data, 100, np.random.default_rng(1))))
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


def test_test_statistics_are_the_labeled_set_statistics(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=1, batch_size=100, random_state=0).fit(X, y)
    module = clf.net_.module_
    labeled = torch.from_numpy(X[y >= 0])
    z_pre = labeled @ module.weights["1"]
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


def test_keyboard_interrupt_leaves_a_usable_model(digits_semi):
    from skorch.callbacks import Callback

    class Interrupt(Callback):
        def on_batch_end(self, net, **kwargs):
            if len(net.history[-1]["batches"]) == 3:
                raise KeyboardInterrupt

    X, y, X_test, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=5, random_state=0,
                           callbacks=[Interrupt()]).fit(X, y)
    assert len(clf.history_) == 1
    assert clf.net_.module_.test_var(1).ne(1).all()  # test-time statistics were set
    proba = clf.predict_proba(X_test)
    assert np.isfinite(proba).all()


def test_divergence_stops_with_a_clear_error(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([20], max_epochs=3, learning_rate=1e8,
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
                           denoising_costs=[1e30, 1e30, 1e30], callbacks=[counter])
    with pytest.raises(FloatingPointError):
        clf.fit(X * 1e20, y)
    assert counter.n == 0  # stopped inside the first update's callbacks, before ours ran
