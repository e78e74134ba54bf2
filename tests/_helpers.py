"""Helpers that several test modules share (pytest puts this folder on ``sys.path``)."""

from pathlib import Path

import numpy as np

# The repository's root: the tests that check the project's files read them from here.
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"  # the committed benchmark results


def batch_losses(estimator) -> np.ndarray:
    """The training loss of every update of a fitted ladder, in order."""
    return np.array([b["train_loss"] for epoch in estimator.history_ for b in epoch["batches"]])


def assert_same_fits(separate, batched, *, first=3, rtol_first=1e-5, rtol=1e-2):
    """Each pair of fits made the same updates, with the same losses: to ``rtol_first``
    over the ``first`` updates, within ``rtol`` over all. Rounding differences grow with
    the updates (Adam's first steps divide by tiny moments): in "bottom" mode
    (λ_0 = 5000) one fit run with 1 and with 2 threads differs by 1e-5 in the 4th update
    and 1e-3 by the 12th, as much as the defaults allow."""
    for a, b in zip(separate, batched, strict=True):
        assert b.n_updates_ == a.n_updates_ and b.n_iter_ == a.n_iter_
        np.testing.assert_allclose(batch_losses(b)[:first], batch_losses(a)[:first],
                                   rtol=rtol_first)
        np.testing.assert_allclose(batch_losses(b), batch_losses(a), rtol=rtol)


# Operations that read a tensor's values back to the host (``.item()``, ``bool(t)``) or
# size their output by its values: on a GPU each waits for the device, which a CUDA
# graph's capture refuses.
HOST_READS = ("aten._local_scalar_dense", "aten.nonzero", "aten.masked_select",
              "aten._unique", "aten.unique")


def watch_host_reads(monkeypatch) -> list:
    """Run every :class:`~sklearn_ladder._graph.CapturedStep` (the update a CUDA graph
    captures, as it runs on the CPU) under a dispatch mode that records the host reads it
    makes; returns the list they are appended to."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from sklearn_ladder import _batched, _graph

    reads = []

    class HostReads(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if str(func).startswith(HOST_READS):
                reads.append(str(func))
            return func(*args, **(kwargs or {}))

    class Watched(_graph.CapturedStep):
        def __call__(self, *inputs):
            with HostReads():
                return super().__call__(*inputs)

    monkeypatch.setattr(_graph, "CapturedStep", Watched)
    monkeypatch.setattr(_batched, "CapturedStep", Watched)
    return reads


def sparse_small_rows(n_nonzero: int) -> tuple:
    """TF-IDF-like rows: 300 of unit norm over 400 features, ``n_nonzero`` of them
    nonzero (a root mean square of 0.05), and targets: 40 labeled rows of 2 classes,
    the rest -1."""
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(0)
    X = np.zeros((300, 400))
    for row in X:
        row[rng.choice(400, n_nonzero, replace=False)] = rng.uniform(0.5, 1.0, n_nonzero)
    return normalize(X), np.where(np.arange(300) < 40, np.arange(300) % 2, -1)


def tiny_data():
    """A stand-in for MNIST that needs no download: 300 rows of 784 pixels in [0, 1],
    30 noisy copies of each of 10 random class centres, every third row again as the test
    set; the shape of :func:`sklearn_ladder.datasets.load_mnist`'s Bunch."""
    from sklearn.utils import Bunch

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 30)
    centers = rng.random((10, 784)).astype(np.float32)
    X = np.clip(centers[y] + 0.1 * rng.standard_normal((300, 784)), 0, 1).astype(np.float32)
    return Bunch(X_train=X, y_train=y, X_test=X[::3], y_test=y[::3])
