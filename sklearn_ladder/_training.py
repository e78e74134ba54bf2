"""Training glue: the skorch net that trains a :class:`~sklearn_ladder._ladder.Ladder`.

skorch runs the epochs, callbacks, history, device placement and pickling; this module
adds what the ladder needs on top of it:

- a batch stream of ``B`` labeled rows followed by ``B`` unlabeled rows per update, one
  epoch being one pass over the unlabeled pool (every row), with the data put on the device
  once and rows gathered by index (no per-row Python work, no DataLoader);
- the paper's learning-rate schedule (constant, then linear decay to 0);
- the per-epoch mean of every cost term in ``history``, and a stop with a clear error as
  soon as a term is not finite;
- on the CPU, freed buffers kept for the next update rather than returned to the kernel
  (see :mod:`._allocator`);
- the float32 precision of the matrix products and convolutions (``fp32_precision``)
  set for each update: oneDNN's on the CPU, cuBLAS's and cuDNN's on CUDA;
- the test-time batch statistics computed from the clean path, over the labeled rows (or
  every row, when the labeled rows borrowed the unlabeled rows' statistics) at the end of
  training (also after a KeyboardInterrupt, which skorch turns into a normal end).
"""

import contextlib
import copy
import math
import signal
import sys
import threading
from typing import NamedTuple

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from torch.utils.data import Dataset

from ._allocator import retain_freed_memory
from ._graph import GraphedUpdate
from ._ladder import Ladder, LadderCost
from ._unlabeled import labeled_rows

__all__ = ["CostTerms", "HeldOutScore", "LadderNet", "LinearDecayLR", "RowData", "Targets",
           "autograd_enabled", "float32_precision", "precision_backends", "updates_per_epoch"]

# Rows per forward pass at prediction time: evaluation is row-wise, so only memory matters.
PREDICT_CHUNK = 4096


class Targets(NamedTuple):
    """The labeled rows' part of a training batch.

    Attributes
    ----------
    y : torch.Tensor of shape (B,) or (B, n_outputs)
        Class indices or (standardised) regression targets.
    weight : torch.Tensor of shape (B,) or None
        Weights of the rows in the supervised cost (mean 1 over the labeled set), or None
        for equal weights.
    """

    y: torch.Tensor
    weight: torch.Tensor | None


class RowData(Dataset):
    """Rows of X (and semi-supervised targets and weights) as tensors on one device.

    Integer targets become class indices (-1 = unlabeled), float targets regression
    targets (NaN = unlabeled); see :func:`~._unlabeled.labeled_rows`. ``weight``, one
    value per row, weighs the rows in the supervised cost.
    """

    def __init__(self, X, y=None, weight=None, device="cpu"):
        if isinstance(X, np.ndarray) and not X.flags.writeable:
            X = X.copy()  # torch cannot share memory with a read-only array
        self.X = torch.as_tensor(X, dtype=torch.float32, device=device)
        self.y = self.labeled = self.labeled_index = self.weight = None
        if y is not None:
            y = np.asarray(y)
            dtype = torch.float32 if y.dtype.kind == "f" else torch.long
            self.y = torch.as_tensor(y, dtype=dtype, device=device)
            self.labeled = labeled_rows(y)
            self.labeled_index = torch.as_tensor(self.labeled, device=device)
        if weight is not None:
            self.weight = torch.as_tensor(weight, dtype=torch.float32, device=device)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], (None if self.y is None else self.y[i])


def rows_per_update(batch_size: int, n_rows: int) -> int:
    """B, the labeled (and the unlabeled) rows of one update: ``batch_size``, or all
    ``n_rows`` of a table smaller than that."""
    return min(batch_size, n_rows)


def updates_per_epoch(n_rows: int, batch_size: int) -> int:
    """Updates in one epoch, a pass over the ``n_rows`` unlabeled rows ``batch_size`` at a
    time (capped at ``n_rows``)."""
    return math.ceil(n_rows / rows_per_update(batch_size, n_rows))


def _cycled_permutations(generator: torch.Generator, pool: torch.Tensor, n: int) -> torch.Tensor:
    """The first ``n`` entries of back-to-back random permutations of ``pool``, drawn on
    the pool's device (by ``generator``, which lives there)."""
    reps = math.ceil(n / len(pool))
    orders = [torch.randperm(len(pool), generator=generator, device=pool.device)
              for _ in range(reps)]
    return pool[torch.cat(orders)[:n]]


class SemiSupervisedBatches:
    """One epoch of updates: each batch is ``B`` labeled rows, then ``B`` unlabeled rows.

    The unlabeled pool is every row (labeled rows included), so an epoch has
    ``ceil(n_rows / B)`` updates; the labeled rows are reshuffled and cycled as often as
    needed. The last unlabeled batch is topped up from a fresh permutation so every batch
    has exactly ``B`` rows of each kind (batch statistics need fixed group sizes). The
    epoch's indices are drawn on the data's device, at its start: no transfer and no
    synchronisation per update.
    """

    def __init__(self, data: RowData, batch_size: int, generator: torch.Generator):
        self.data = data
        self.batch_size = rows_per_update(batch_size, len(data))
        self.generator = generator

    def __len__(self):
        return updates_per_epoch(len(self.data), self.batch_size)

    def epoch_index(self) -> torch.Tensor:
        """The rows of the epoch's updates, drawn now: shape (updates, 2, B), the labeled
        rows then the unlabeled rows of each update."""
        n_updates, size = len(self), self.batch_size
        every_row = torch.arange(len(self.data), device=self.data.X.device)
        unlabeled = _cycled_permutations(self.generator, every_row, n_updates * size)
        labeled = _cycled_permutations(self.generator, self.data.labeled_index,
                                       n_updates * size)
        return torch.stack([labeled.view(n_updates, size), unlabeled.view(n_updates, size)],
                           1)

    def __iter__(self):
        weight = self.data.weight
        for rows in self.epoch_index():
            yield self.data.X[rows.reshape(-1)], Targets(
                self.data.y[rows[0]], None if weight is None else weight[rows[0]])


class _SequentialBatches:
    """Consecutive chunks of rows, for prediction and validation."""

    def __init__(self, data: RowData, batch_size: int):
        self.data, self.batch_size = data, batch_size

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        for start in range(0, len(self.data), self.batch_size):
            stop = start + self.batch_size
            yield self.data.X[start:stop], (None if self.data.y is None
                                            else self.data.y[start:stop])


def _backends(*paths: str) -> tuple:
    """Those of ``torch.backends``' ``paths`` that this torch has with an
    ``fp32_precision`` setting (an older torch, without that API, has none)."""
    found = []
    for path in paths:
        backend = torch.backends
        for name in path.split("."):
            backend = getattr(backend, name, None)
        if hasattr(backend, "fp32_precision"):
            found.append(backend)
    return tuple(found)


# The backends whose float32 precision ``fp32_precision`` sets, per device type, looked up
# once: torch's fp32_precision API only. (While it is set, torch refuses to read the legacy
# switch torch.backends.cudnn.allow_tf32, which only inductor's Triton convolution
# templates of max-autotune read; setting that switch instead warns of its deprecation.)
_PRECISION_BACKENDS = {
    "cpu": _backends("mkldnn.matmul", "mkldnn.conv"),  # oneDNN
    "cuda": _backends("cuda.matmul", "cudnn.conv"),  # cuBLAS, cuDNN
}


def precision_backends(device) -> tuple:
    """The backends of ``device`` whose float32 precision ``fp32_precision`` sets, those
    that this torch has."""
    return _PRECISION_BACKENDS.get(torch.device(device).type, ())


@contextlib.contextmanager
def autograd_enabled():
    """Autograd on and inference mode off for a fit, also one called in a user's
    ``torch.no_grad()`` or ``torch.inference_mode()`` block: the parameters, rows and
    costs made there could not be trained (inference tensors refuse backward)."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


@contextlib.contextmanager
def float32_precision(precision: str, device):
    """The internal precision of the float32 matrix products and convolutions on
    ``device`` for the block, restored after: oneDNN's on the CPU (``"ieee"`` or
    ``"bf16"``), cuBLAS's and cuDNN's on CUDA (``"ieee"`` or ``"tf32"``). ``"ieee"`` is
    set too, since torch lets cuDNN use TF32 by default."""
    backends = precision_backends(device)
    saved = [backend.fp32_precision for backend in backends]
    for backend in backends:
        backend.fp32_precision = precision
    try:
        yield
    finally:
        for backend, value in zip(backends, saved):
            backend.fp32_precision = value


class LinearDecayLR(Callback):
    """The paper's schedule: constant learning rate, then linear decay to exactly 0.

    In epoch ``e`` (0-based) of ``T``, with ``s = decay_start * T``, the rate is
    ``lr`` while ``e < s`` and ``lr * (T - e) / (T - s)`` after, as in the authors' code.
    Each call to ``fit`` (or a warm-started continuation) runs its own schedule.

    Parameters
    ----------
    decay_start : float
        Fraction of the epochs after which the decay starts (the paper's 0.67).
    """

    def __init__(self, decay_start: float):
        self.decay_start = decay_start

    def on_train_begin(self, net, **kwargs):
        self.first_epoch_ = len(net.history)

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1 - self.first_epoch_
        total = net.max_epochs
        start = self.decay_start * total
        factor = 1.0 if epoch < start else (total - epoch) / (total - start)
        for group in net.optimizer_.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(net.lr * factor)  # read by a CUDA graph: keep the tensor
            else:
                group["lr"] = net.lr * factor
        net.history.record("lr", net.lr * factor)


class CostTerms(Callback):
    """Records each epoch's mean of every cost term and stops at the first non-finite one.

    History keys: ``supervised_cost``, ``denoising_cost`` (Σ λ_l C_l) and
    ``denoising_cost_<l>`` (λ_l C_l) for each layer with λ_l > 0. On the CPU every
    update is checked (reading a CPU tensor costs nothing); on a GPU the terms are read
    once per epoch, to keep the device from waiting for the host after each update.
    """

    def on_epoch_begin(self, net, **kwargs):
        self.terms_ = []

    def on_batch_end(self, net, training=False, cost_terms=None, **kwargs):
        if not training or cost_terms is None:
            return
        if cost_terms.device.type == "cpu" and not bool(torch.isfinite(cost_terms).all()):
            self._check(net, cost_terms.tolist())
        # Kept on the device, averaged and read back once per epoch: no kernel and no
        # wait per update.
        self.terms_.append(cost_terms)

    def on_epoch_end(self, net, **kwargs):
        if not self.terms_:
            return
        means = torch.stack(self.terms_).mean(0).tolist()
        # A device tensor left here would make a GPU-fitted model unpicklable where CUDA is
        # missing: skorch maps only the module, criterion and optimiser to the CPU.
        self.terms_ = []
        self._check(net, means)
        decoded = sorted(net.module_.decoded_layers)
        net.history.record("supervised_cost", means[0])
        net.history.record("denoising_cost", sum(means[1 + l] for l in decoded))
        for l in decoded:
            net.history.record(f"denoising_cost_{l}", means[1 + l])

    def on_train_end(self, net, **kwargs):
        self.terms_ = []  # an interrupted epoch's device tensors (see on_epoch_end)

    @staticmethod
    def _check(net, terms: list) -> None:
        """Raise, naming the epoch and the first non-finite term, if there is one."""
        names = ["supervised"] + [f"denoising layer {l}" for l in range(len(terms) - 1)]
        for name, value in zip(names, terms):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"Training diverged in epoch {len(net.history)}: the {name} cost became "
                    f"{value}. Lower learning_rate or the denoising_costs (λ), or scale the "
                    f"input (e.g. to [0, 1] or with StandardScaler)."
                )


class HeldOutScore(Callback):
    """A score on held-out labeled rows after every epoch, recorded in ``history``.

    The test-time statistics are computed first from that epoch's weights, so the score
    is what ``predict`` would give if training stopped there.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Held-out rows.
    y : array-like
        Their training targets (class indices, or standardised regression targets).
    score : callable
        ``score(outputs, y) -> float``, higher is better; ``outputs`` are the net's
        float64 top outputs (logits or regression values) as a numpy array.
    name : str, default="valid_score"
        History key.
    """

    def __init__(self, X, y, score, name: str = "valid_score"):
        self.X, self.y, self.score, self.name = X, y, score, name

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        net.set_test_statistics(dataset_train)
        outputs = net.forward(self.X, training=False).numpy()
        net.history.record(self.name, float(self.score(outputs, np.asarray(self.y))))


class _PrintLog(PrintLog):
    """skorch's epoch table without the per-layer cost columns (their sum is shown), and
    with colour codes for the best values only when printing to a terminal."""

    def _sorted_keys(self, keys):
        return [k for k in super()._sorted_keys(keys) if not k.startswith("denoising_cost_")]

    def format_row(self, row, key, color):
        if not (self.sink is print and sys.stdout.isatty()):
            row = {**row, f"{key}_best": False}  # files and pipes get plain text
        return super().format_row(row, key, color)


@contextlib.contextmanager
def _restored_on_failure(net):
    """Training changes the net in place: if it raises an exception, put the weights (and
    test-time statistics), the optimiser state and the history back as they were."""
    module = {key: value.clone() for key, value in net.module_.state_dict().items()}
    optimizer = copy.deepcopy(net.optimizer_.state_dict())
    n_epochs = len(net.history)
    try:
        yield
    except Exception:
        net.module_.load_state_dict(module)
        net.optimizer_.load_state_dict(optimizer)
        del net.history[n_epochs:]
        raise


class _SigintRecorder:
    """Notes whether Ctrl-C (SIGINT) arrived while training, then interrupts as before.

    skorch's callbacks end training by raising KeyboardInterrupt too (early stopping), so
    only the signal tells a user's interrupt apart. Signal handlers belong to the main
    thread: elsewhere (fits in threads), nothing is installed and no signal arrives.
    """

    def __enter__(self):
        self.received = False
        self._previous = signal.getsignal(signal.SIGINT)
        self._installed = (threading.current_thread() is threading.main_thread()
                           and self._previous not in (signal.SIG_IGN, None))
        if self._installed:
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = True
        handler = self._previous if callable(self._previous) else signal.default_int_handler
        handler(signum, frame)

    def __exit__(self, *exc_info):
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
        return False


# Independent random streams drawn from the net's random_state, one per purpose.
_INIT, _NOISE, _BATCHES = range(3)


class LadderNet(NeuralNet):
    """skorch net for a ladder module: semi-supervised batches and test-time statistics.

    Its defaults are the paper's training: the :class:`~._ladder.Ladder` module and its
    :class:`~._ladder.LadderCost`, Adam (as one fused kernel per step), the linear
    learning-rate decay (``callbacks__lr_schedule__decay_start``), the cost terms in
    ``history`` and no validation split. An estimator only resolves settings.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    random_state : int
        Seeds the initial weights, the noise and the batches, each from a generator of its
        own (torch's global generator is neither used nor changed). A continued fit
        (``partial_fit``) draws new noise and new batches.
    fp32_precision : {"ieee", "bf16", "tf32"}
        The internal precision of the float32 matrix products and convolutions of each
        training update (forward and backward) and of the test-time statistics, set for
        them and restored after (see :func:`float32_precision`): ``"bf16"`` on the CPU
        only (oneDNN), ``"tf32"`` on CUDA only (cuBLAS and cuDNN).
    gpu_update : {"eager", "graph", "compiled"}
        How each training update runs on a CUDA device (see :mod:`._graph`): eagerly,
        replayed as a CUDA graph, or compiled and replayed. Ignored elsewhere.

    Attributes
    ----------
    interrupted_ : bool
        Whether the last ``fit`` / ``partial_fit`` was stopped by a KeyboardInterrupt
        (the model is then usable, and the interrupt is raised again).
    """

    def __init__(self, module=Ladder, *args, criterion=LadderCost,
                 optimizer=torch.optim.Adam, train_split=None, random_state=0,
                 fp32_precision="ieee", gpu_update="eager", **kwargs):
        # One fused kernel per step instead of a dozen passes over every weight.
        kwargs.setdefault("optimizer__fused", True)
        super().__init__(module, *args, criterion=criterion, optimizer=optimizer,
                         train_split=train_split, **kwargs)
        self.random_state = random_state
        self.fp32_precision = fp32_precision
        self.gpu_update = gpu_update
        self._graphed = None

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("lr_schedule", LinearDecayLR(decay_start=0.67)),
            ("cost_terms", CostTerms()),
            ("print_log", _PrintLog()),
        ]

    def _seed(self, stream: int, *key: int) -> int:
        """A seed for one purpose (weights, noise or batches), from ``random_state``."""
        state = np.random.SeedSequence([self.random_state, stream, *key]).generate_state(1)
        return int(state[0])

    def initialize_module(self):
        kwargs = {**self.get_params_for("module"), "init_seed": self._seed(_INIT)}
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_dataset(self, X, y=None, sample_weight=None):
        if isinstance(X, RowData):
            return X
        return RowData(X, y, sample_weight, device=self.device)

    def get_iterator(self, dataset, training=False):
        if training:
            generator = torch.Generator(device=dataset.X.device)
            generator.manual_seed(self._seed(_BATCHES, len(self.history)))
            return SemiSupervisedBatches(dataset, self.batch_size, generator)
        return _SequentialBatches(dataset, PREDICT_CHUNK)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit``, except that a KeyboardInterrupt is raised again and
        a failed continuation leaves the net as it was.

        skorch ends training quietly on Ctrl-C, so a script or a grid search would go on
        with a cut-short model. Here training ends as usual (``on_train_end``: test-time
        statistics, best weights of early stopping), ``interrupted_`` is set, and the
        interrupt propagates. An exception (e.g. divergence) instead puts the weights,
        the optimiser state and the history back as they were before the call.
        """
        if not self.initialized_:
            self.initialize()
        with _restored_on_failure(self), _SigintRecorder() as sigint, self._graphed_updates():
            self.notify("on_train_begin", X=X, y=y)
            try:
                self.fit_loop(X, y, **fit_params)
            except KeyboardInterrupt:
                pass  # skorch's callbacks (EarlyStopping) also end training this way
            self.notify("on_train_end", X=X, y=y)
        self.interrupted_ = sigint.received
        if self.interrupted_:
            raise KeyboardInterrupt
        return self

    def training_precision(self):
        """A context in which float32 products and convolutions run at this net's
        ``fp32_precision`` on its device."""
        return float32_precision(self.fp32_precision, self.device)

    def structure_key(self) -> tuple:
        """What nets must share to train in one batch, or to share compiled code: the
        module's structure (of λ, only which layers are decoded; σ may differ freely),
        the cost, the batch size, the device, the precision and how the update runs on
        a GPU (``gpu_update``: eager, replayed as a CUDA graph, or compiled too)."""
        module = dict(self.get_params_for("module"))
        module["denoising_costs"] = tuple(float(c) > 0 for c in module.pop("denoising_costs"))
        module.pop("noise_std")
        supervised = self.get_params_for("criterion")["supervised"]
        return (repr(sorted(module.items())), repr(supervised), self.batch_size,
                str(self.device), self.fp32_precision, self.gpu_update)

    def _uses_graphs(self) -> bool:
        return self.gpu_update != "eager" and torch.device(self.device).type == "cuda"

    @contextlib.contextmanager
    def _graphed_updates(self):
        """Within one fit, train through a :class:`~._graph.GraphedUpdate` when asked
        for; a graph holds the fit's buffers, so it is dropped at the end, however the
        fit ends."""
        if self._uses_graphs():
            self._capturable_optimizer()
            self._graphed = GraphedUpdate(self, compiled=self.gpu_update == "compiled")
        try:
            yield
        finally:
            if self._graphed is not None:
                self._graphed.release()
            self._graphed = None

    def _capturable_optimizer(self) -> None:
        """Ready Adam for a CUDA graph, which replays its step: the step counts and the
        learning rate live on the GPU (the schedule then fills the rate in place). Done
        at every graphed fit, since a warm start may follow an eager fit."""
        for group in self.optimizer_.param_groups:
            group["capturable"] = True
            group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32,
                                       device=self.device)

    def train_step(self, batch, **fit_params):
        if self._graphed is None:
            return super().train_step(batch, **fit_params)
        self._set_training(True)
        return self._graphed(batch)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop, without a host synchronisation per training update.

        skorch reads every batch's loss with ``.item()``, which waits for the GPU after
        each update; here the losses stay on the device and are read back once per epoch,
        then written into the batches' history entries (so ``train_loss`` is the same).
        Callbacks therefore find ``train_loss`` in the batch history only at epoch end.
        """
        if not training or iterator is None:
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.end_training_batch(batch, step)
        self.end_training_epoch(losses)

    def end_training_batch(self, batch, step: dict) -> None:
        """What follows a training update: its batch size in ``history``, then the
        callbacks' ``on_batch_end`` with the update's results."""
        self.history.record_batch("train_batch_size", len(batch[1].y))
        self.notify("on_batch_end", batch=batch, training=True, **step)

    def end_training_epoch(self, losses: list) -> None:
        """Write the epoch's losses (device tensors, read back at once) into its batches'
        ``history`` entries, and the number of updates."""
        batches = self.history[-1]["batches"][-len(losses):] if losses else []
        for entry, value in zip(batches, torch.stack(losses).tolist() if losses else []):
            entry["train_loss"] = value
        self.history.record("train_batch_count", len(losses))

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, targets = batch
        with self.training_precision():
            output = self.infer(Xi, **fit_params)
            terms = self.criterion_.terms(output, targets.y, targets.weight)
            loss = terms.sum()
            loss.backward()
        return {"loss": loss, "y_pred": output.logits, "cost_terms": terms.detach()}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Training computes its cost in train_step_single; this is only reached by
        # skorch's validation step, whose rows are labeled and outputs test-time ones.
        return self.criterion_.supervised_cost(y_pred, y_true)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if torch.device(self.device).type == "cpu":
            retain_freed_memory()
        # Each fit (or continuation) draws new noise from a generator of its own.
        generator = torch.Generator(device=self.device)
        self.module_.noise_generator = generator.manual_seed(
            self._seed(_NOISE, len(self.history)))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        self.module_.noise_generator = None
        self.set_test_statistics(self.get_dataset(X, y))

    def set_test_statistics(self, data: RowData) -> None:
        """Average the clean batch statistics over batches of the rows whose statistics
        normalised the labeled rows in training: the labeled rows (the paper), or every
        row when the module's ``labeled_statistics`` is "unlabeled".

        With at most ``B`` such rows this is exactly their statistics, the same ones the
        labeled rows were normalised with during training.
        """
        rows = (data.labeled if self.module_.labeled_statistics == "labeled"
                else np.arange(len(data)))
        size = rows_per_update(self.batch_size, len(data))
        if len(rows) <= size:
            batches = rows[None]
        else:
            n_batches = math.ceil(len(rows) / size)
            batches = np.resize(rows, n_batches * size).reshape(n_batches, size)
        index = torch.from_numpy(batches).to(data.X.device)
        total = None
        with self.training_precision():  # the statistics training normalised with
            for batch in index:
                stats = self.module_.clean_batch_statistics(data.X[batch])
                total = stats if total is None else [
                    (m0 + m1, v0 + v1) for (m0, v0), (m1, v1) in zip(total, stats)]
        self.module_.set_test_statistics([(m / len(index), v / len(index)) for m, v in total])
