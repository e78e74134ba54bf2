"""Training glue for many ladders at once: K nets of one structure as one computation.

Each model keeps its own :class:`~._training.LadderNet` (its λ, σ, learning rate and
schedule, random streams, rows, callbacks and history), and each update runs the K
forward and backward passes as one batched computation: the models' parameters are
stacked on a leading axis, :func:`torch.func.vmap` maps the ladder's own forward pass
(:class:`~._ladder.Ladder`, unchanged) over that axis, so every matrix product becomes a
batched one; then each model's own optimiser (its fused Adam, its learning rate) steps
its slice of the stacked parameters. A model's noise and batches are drawn from its own
generators, in the order of a fit of its own, so each model follows the same computation
as its own fit (up to float rounding).

The nets' modules hold views of the stacked parameters while training, so callbacks
(early stopping, held-out scores) and optimisers act on the current weights; at the end
each module gets its own copy, and each optimiser holds the Adam state of a fit of its own.

On a GPU with graphed updates (``gpu_update``, see :mod:`._graph`) the batched update
(noise, forward, backward and every model's Adam step) is captured as one CUDA graph and
replayed (``"compiled"``: its forward pass and cost compiled first, as a single fit's
are, which fuses their element-wise work), and the batches of different structures train
side by side, each in a thread and on a CUDA stream of its own, so that the GPU fills its
multiprocessors with the kernels of several batches. A batch of one model is that
model's own fit (graphed or compiled).
"""

import os
import threading

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.func import functional_call, vmap

from ._graph import CapturedStep, compiled_for_structure
from ._input_scaling import shared_fits
from ._training import RowData, Targets, _SigintRecorder, autograd_enabled, rows_per_update

__all__ = ["batch_groups", "fit_batched", "models_per_batch", "train_batched"]

# Share of the free device memory a batch of models may plan to use.
MEMORY_SHARE = 0.5


def _bytes_per_model(net, n_rows: int) -> int:
    """A generous estimate of one model's memory in a batch: parameters with their
    gradient and Adam state, and the activations a training update keeps for backward."""
    module = net.module_
    n_parameters = sum(p.numel() for p in module.parameters())
    rows = 2 * rows_per_update(net.batch_size, n_rows) * 3  # up to three groups of B rows
    n_activations = rows * sum(module.widths)
    return 4 * (4 * n_parameters + 12 * n_activations)


def _free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume 8 GiB
        return 8 * 2**30


def _batch_key(net, n_rows: int) -> tuple:
    """What nets must share to train in one batch: their structure, and the rows of an
    update, which a net with fewer rows than its batch size takes from its own row count
    (cross-validation folds of a small table differ by a row or two)."""
    return net.structure_key(), rows_per_update(net.batch_size, n_rows)


def models_per_batch(net, n_rows: int) -> int:
    """How many models like ``net`` (initialised) fit in one batch on its device."""
    free = _free_bytes(torch.device(net.device))
    return max(1, int(MEMORY_SHARE * free // _bytes_per_model(net, n_rows)))


class _Run:
    """One model's progress through its own epochs, as ``LadderNet.fit`` would run them:
    its callbacks, history, learning-rate schedule and the rows of its updates (drawn
    per epoch by its own batch stream, as its own fit draws them)."""

    def __init__(self, net, data: RowData):
        if not net.initialized_:
            net.initialize()
        self.net, self.data = net, data
        self.error = None
        self.finished = False
        self.epochs = 0
        self.losses = []
        net.notify("on_train_begin", X=data, y=None)
        self.iterator = net.get_iterator(data, training=True)
        self.rows = self.batch = None
        self._begin_epoch()

    def _begin_epoch(self) -> None:
        self.net.notify("on_epoch_begin", dataset_train=self.data, dataset_valid=None)
        self.epoch_rows = iter(self.iterator.epoch_index())
        self.losses = []

    def _end_epoch(self) -> None:
        self.net.end_training_epoch(self.losses)
        self.net.notify("on_epoch_end", dataset_train=self.data, dataset_valid=None)
        self.epochs += 1

    def next_rows(self) -> torch.Tensor:
        """The next update's rows, shape (2, B) (the last ones again once finished),
        ending and beginning epochs on the way; a callback's KeyboardInterrupt (early
        stopping) finishes the run, any other exception fails it."""
        while not self.finished:
            rows = next(self.epoch_rows, None)
            if rows is not None:
                self.rows = rows
                return rows
            self._guarded(self._end_epoch)
            if not self.finished and self.epochs >= self.net.max_epochs:
                self.finished = True
            if not self.finished:
                self._guarded(self._begin_epoch)
        return self.rows

    def begin_batch(self, batch) -> None:
        self.batch = batch
        self.net.notify("on_batch_begin", batch=batch, training=True)

    def end_batch(self, step: dict) -> None:
        self.losses.append(step["loss"])
        self._guarded(self.net.end_training_batch, self.batch, step)

    def _guarded(self, function, *args) -> None:
        try:
            function(*args)
        except KeyboardInterrupt:
            self.finished = True
        except Exception as exc:  # kept, and reported for this model only
            self.error, self.finished = exc, True


def _stack_noise(noises: list) -> list:
    """Per layer, the models' noise stacked (zeros for a model without noise there), or
    None where no model has any."""
    stacked = []
    for layer in zip(*noises):
        present = next((n for n in layer if n is not None), None)
        stacked.append(None if present is None else torch.stack(
            [torch.zeros_like(present) if n is None else n for n in layer]))
    return stacked


class _RowGather:
    """Every model's batch of an update gathered at once, rather than one gather per
    model and array (on a GPU each is a kernel launch, for every model and update): the
    rows from each distinct X (one gather where the models share their X), the targets
    and weights from all models' own put end to end (one gather each).

    Called with each model's rows, shape (2, B), it returns the stacked rows (K, 2B,
    n_features), targets (K, B, ...) and weights (K, B), or None where no model has any.
    """

    def __init__(self, datasets: list):
        device = datasets[0].X.device
        groups = {}
        for k, data in enumerate(datasets):
            groups.setdefault(id(data.X), (data.X, []))[1].append(k)
        self.groups = [(X, torch.tensor(ks, device=device)) for X, ks in groups.values()]
        starts = np.cumsum([0] + [len(data) for data in datasets[:-1]])
        self.starts = torch.as_tensor(starts, device=device).view(-1, 1)
        self.y = torch.cat([data.y for data in datasets])
        self.weight = None
        if any(data.weight is not None for data in datasets):
            self.weight = torch.cat([
                data.X.new_ones(len(data)) if data.weight is None else data.weight
                for data in datasets])

    def __call__(self, rows: list) -> tuple:
        index = torch.stack(rows)
        if len(self.groups) == 1:
            x = self.groups[0][0][index.flatten(1)]
        else:
            first = self.groups[0][0]
            x = first.new_empty((len(rows), index[0].numel(), first.shape[1]))
            for X, ks in self.groups:
                x[ks] = X[index[ks].flatten(1)]
        labeled = index[:, 0] + self.starts
        return x, self.y[labeled], None if self.weight is None else self.weight[labeled]


def _vmapped_terms(template, criterion, in_dims, params, lambdas, x, y, weight, noise):
    """The K models' cost terms and top outputs: the ladder's own forward pass and cost
    (``template``'s, with each model's parameters) vmapped over the stacked ones."""

    def terms(params, lambdas, x, y, weight, noise):
        output = functional_call(template, params, (x,), {"noise": noise})
        return criterion.terms(output, y, weight, lambdas), output.logits

    return vmap(terms, in_dims=in_dims)(params, lambdas, x, y, weight, noise)


def _batched_terms(template, criterion, precision, structure=None):
    """``(in_dims, params, λ, x, y, weight, noise) -> (cost terms, logits)`` of K models
    at once, their gradients computed (the products at the nets' float32 ``precision``,
    a context as ``LadderNet.training_precision``); the forward pass and the cost
    through ``torch.compile`` where a ``structure`` is given (the key under which
    batches share compiled code: see :func:`~._graph.compiled_for_structure`)."""
    terms_fn = (_vmapped_terms if structure is None
                else compiled_for_structure(_vmapped_terms, structure))

    def forward_backward(in_dims, *args):
        with precision():
            cost_terms, logits = terms_fn(template, criterion, in_dims, *args)
            cost_terms.sum().backward()
        return cost_terms.detach(), logits.detach()

    return forward_backward


class _BatchedUpdate:
    """One training update of K models as one computation: their batches stacked, each
    model's noise drawn from its own generator, the forward and backward passes vmapped
    over the stacked parameters, then each training model's own optimiser (its fused
    Adam, its learning rate) stepping its slice. Called with the K models' stacked
    batch (rows, targets, weights), it returns their cost terms and logits.

    The update is a :class:`~._graph.CapturedStep`: for ``graphed`` nets on a GPU,
    replayed as one CUDA graph, and captured anew when a model finishes (a finished model
    still rides along, but no longer steps). Nets with ``gpu_update="compiled"`` run the
    batched forward pass and cost through ``torch.compile`` (fused element-wise work).
    """

    def __init__(self, runs: list, params: dict, views: list, graphed: bool):
        self.runs, self.params, self.views, self.graphed = runs, params, views, graphed
        net = runs[0].net
        self.lambdas = torch.stack([run.net.criterion_.lambdas for run in runs])
        compiled = graphed and net.gpu_update == "compiled"
        self.terms_fn = _batched_terms(net.module_, net.criterion_, net.training_precision,
                                       (net.structure_key(), len(runs)) if compiled else None)
        self.active = self.step = None

    def __call__(self, x, y, weight) -> tuple:
        active = [k for k, run in enumerate(self.runs) if not run.finished]
        if active != self.active:
            self.release()
            generators = [self.runs[k].net.module_.noise_generator for k in active]
            self.step = CapturedStep(self._body, [g for g in generators if g is not None],
                                     self.graphed)
            self.active = active
        terms, logits = self.step(x, y, weight)
        return terms.clone(), logits.clone()  # a replay overwrites them

    def _body(self, x, y, weight) -> tuple:
        params = self.params
        for parameter in params.values():
            parameter.grad = None
        noise = _stack_noise([
            run.net.module_.draw_noise(y.shape[1], *run.net.module_.training_layout(),
                                       run.net.module_.noise_generator, x.dtype, x.device)
            if k in self.active else [None] * len(run.net.module_.shapes)
            for k, run in enumerate(self.runs)])
        # A layer none of the training models adds noise to has None, mapped over nothing.
        in_dims = (0, 0, 0, 0, None if weight is None else 0,
                   [None if n is None else 0 for n in noise])
        terms, logits = self.terms_fn(in_dims, params, self.lambdas, x, y, weight, noise)
        grads = [parameter.grad for parameter in params.values()]
        for parameter in params.values():
            parameter.grad = None
        for k in self.active:
            optimizer = self.runs[k].net.optimizer_
            for parameter, grad in zip(self.views[k], grads):
                parameter.grad = grad[k]
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return terms, logits

    def release(self) -> None:
        if self.step is not None:
            self.step.release()
        self.step = self.active = None


def train_batched(nets: list, datasets: list, stop: threading.Event | None = None) -> list:
    """Train ``nets`` (:class:`~._training.LadderNet`, fresh, one structure) on their
    ``datasets`` (:class:`~._training.RowData`) as one batched computation.

    Returns one entry per net: None, or the exception that ended its training (e.g. a
    FloatingPointError when it diverged); the others train on. A Ctrl-C stops them all,
    as does ``stop`` once set (how fits in other threads are stopped). A batch of one is
    a plain fit: the same computation, without vmap's overhead.

    Raises MemoryError, naming the fix, when the batch does not fit in memory.
    """
    if len({_batch_key(net, len(data)) for net, data in zip(nets, datasets)}) > 1:
        raise ValueError("nets of different structures (layers, mode, combinator, rows "
                         "per update, device, ...) cannot train in one batch; group them "
                         "first.")
    if len(nets) == 1:
        error = _fit_alone(nets[0], datasets[0], stop)
        if isinstance(error, torch.OutOfMemoryError):
            raise _out_of_memory(nets, error) from error
        return [error]
    runs = [_Run(net, data) for net, data in zip(nets, datasets)]
    template = nets[0].module_
    names = [name for name, _ in template.named_parameters()]
    params = {name: torch.stack([net.module_.get_parameter(name).detach() for net in nets])
              .requires_grad_() for name in names}
    views = [[net.module_.get_parameter(name) for name in names] for net in nets]
    for k, parameters in enumerate(views):
        for name, parameter in zip(names, parameters):
            parameter.data = params[name].detach()[k]
    graphed = nets[0]._uses_graphs()
    for net in nets if graphed else []:
        net._capturable_optimizer()
    update, gather = _BatchedUpdate(runs, params, views, graphed), _RowGather(datasets)
    with _SigintRecorder() as sigint:
        try:
            while not all(run.finished for run in runs) and not (stop and stop.is_set()):
                _update(runs, update, gather)
        except (torch.OutOfMemoryError, MemoryError) as exc:
            raise _out_of_memory(nets, exc) from exc
        finally:
            update.release()
    _unstack(runs)
    if sigint.received:
        raise KeyboardInterrupt
    return [run.error for run in runs]


def _fit_alone(net, data: RowData, stop: threading.Event | None):
    """A batch of one: the net's own fit, ended at its next update once ``stop`` is set.
    Returns None, or the exception that ended the fit."""
    try:
        net.initialize()
        if stop is not None:
            net.callbacks_.append(("stop_when_set", _StopWhenSet(stop)))
        try:
            net.partial_fit(data, None)
        finally:
            if stop is not None:
                net.callbacks_.pop()
    except Exception as exc:  # kept, and reported for this model only
        return exc
    return None


class _StopWhenSet(Callback):
    """Ends a fit (as skorch's callbacks do: KeyboardInterrupt) once ``event`` is set."""

    def __init__(self, event: threading.Event):
        self.event = event

    def on_batch_begin(self, net, **kwargs):
        if self.event.is_set():
            raise KeyboardInterrupt


def _train_side_by_side(groups: list) -> list:
    """CUDA graphs: each group's ``(nets, datasets)`` trained by :func:`train_batched`
    in a thread of its own, on a CUDA stream of its own. A graphed update is one launch,
    so the threads barely contend for the interpreter, and the GPU runs the batches'
    kernels side by side. Returns each group's errors; a Ctrl-C stops every group.

    Each model computes what it would alone, to rounding: fits side by side matched
    their own fits exactly over the first updates, then drifted apart (0.5 % in the
    loss after 130 updates on an H100, 1.6 % on an H200), since cuBLAS may pick other
    kernels while several streams are active.
    """
    results, raised = [None] * len(groups), [None] * len(groups)
    stop = threading.Event()
    # No streams off CUDA (the threads then run eager updates, for tests).
    streams = [torch.cuda.Stream(nets[0].device)
               if torch.device(nets[0].device).type == "cuda" else None
               for nets, _ in groups]
    for stream in filter(None, streams):
        stream.wait_stream(torch.cuda.current_stream())  # the data's copies to the GPU
    finished = [threading.Event() for _ in groups]

    def train(i: int) -> None:
        try:
            with torch.cuda.stream(streams[i]):  # no-op for None
                results[i] = train_batched(*groups[i], stop)
            if streams[i] is not None:
                streams[i].synchronize()
        except BaseException as exc:  # raised again in the calling thread
            raised[i] = exc
        finally:
            finished[i].set()

    threads = [threading.Thread(target=train, args=(i,), daemon=True)
               for i in range(len(groups))]
    try:
        for thread in threads:
            thread.start()
        _wait_for_all(finished)
    except KeyboardInterrupt:
        stop.set()  # each group ends at its next update
        _wait_for_all([done for done, thread in zip(finished, threads) if thread.ident],
                      interruptible=False)
        raise
    for thread in threads:
        thread.join()
    if error := next((e for e in raised if e is not None), None):
        raise error
    return results


def _out_of_memory(nets: list, exc: BaseException) -> MemoryError:
    """The error for a batch that ran out of memory: it names the fix."""
    return MemoryError(f"{len(nets)} models did not fit in the memory of {nets[0].device} "
                       f"({exc}); pass a smaller max_models (models per batch).")


def _wait_for_all(events: list, interruptible: bool = True) -> None:
    """Wait until every event is set, in short waits that let Ctrl-C through (an
    interrupted ``Thread.join`` may leave its thread looking finished when it is not);
    ``interruptible=False`` waits on through further Ctrl-Cs."""
    for event in events:
        while not event.is_set():
            try:
                event.wait(0.2)
            except KeyboardInterrupt:
                if interruptible:
                    raise


def _update(runs: list, update: _BatchedUpdate, gather: _RowGather) -> None:
    """One batched training update of every model that has not finished, then each
    model's end of batch (its history and callbacks)."""
    rows = [run.next_rows() for run in runs]
    if all(run.finished for run in runs):
        return
    # The first model's module is the template every model's forward pass runs through;
    # its epoch-end callbacks (early stopping's held-out score) may just have evaluated it.
    runs[0].net.module_.train()
    x, y, weight = gather(rows)
    for k, run in enumerate(runs):
        if not run.finished:  # its batch as its own fit would see it (views, no copies)
            run.begin_batch((x[k], Targets(
                y[k], None if run.data.weight is None else weight[k])))
    terms, logits = update(x, y, weight)
    losses = terms.sum(1)  # one kernel for all models, not one each (a GPU's host time)
    for k, run in enumerate(runs):
        if not run.finished:
            run.end_batch({"loss": losses[k], "y_pred": logits[k], "cost_terms": terms[k]})


def _unstack(runs) -> None:
    """Give each module its own parameters (no view of the stacked ones), then end the
    training of the runs that did not fail (test-time statistics, best weights)."""
    for run in runs:
        for parameter in run.net.module_.parameters():
            parameter.data = parameter.data.clone()
        if run.error is None:
            run.net.notify("on_train_end", X=run.data, y=None)


def _per_estimator(value, n: int, name: str, ndim: int, none: bool = False) -> list:
    """One array for every estimator, or a list of arrays (objects with a ``shape`` of at
    least ``ndim`` dimensions, or None where ``none``; a list of rows or labels is one
    array) one per estimator."""
    arrays = isinstance(value, (list, tuple)) and len(value) > 0 and all(
        (none and v is None) or (hasattr(v, "shape") and len(v.shape) >= ndim)
        for v in value)
    if not arrays:
        return [value] * n
    if len(value) != n:
        raise ValueError(f"{name} is a list of {len(value)} arrays for {n} estimators.")
    return list(value)


def _plan_all(estimators, X, y, sample_weight) -> list:
    """Each estimator's plan; those given the same X object (and device, and the same
    fitted ``input_scaler_`` or none) share one tensor of its rows (validation converts
    X the same way for every estimator), so that a batch holds one copy of the rows per
    distinct X on the device, not one per model, and look at its features once."""
    n = len(estimators)
    plans, rows = [], {}
    with shared_fits():
        for estimator, X_k, y_k, w_k in zip(
                estimators, _per_estimator(X, n, "X", 2), _per_estimator(y, n, "y", 1),
                _per_estimator(sample_weight, n, "sample_weight", 1, none=True)):
            plan = estimator._plan_fit(X_k, y_k, w_k)
            # The X_k outlive this loop, so an id names one array here.
            scaler = estimator.input_scaler_
            scaling = None if scaler is None else scaler.fitted_key()
            plan.data.X = rows.setdefault((id(X_k), plan.data.X.device, scaling),
                                          plan.data.X)
            plans.append(plan)
    return plans


def batch_groups(nets: list, n_rows: list, max_models: int | None = None) -> list[list[int]]:
    """Indices of the nets (planned, not trained; ``n_rows`` training rows each) that
    train together: one structure and one number of rows per update per group, and at
    most ``max_models`` (or as many as half the device's free memory holds) per group."""
    groups = {}
    for i, (net, rows) in enumerate(zip(nets, n_rows)):
        groups.setdefault(_batch_key(net, rows), []).append(i)
    chunks = []
    for members in groups.values():
        size = max_models
        if size is None:  # the group's first net, initialised as its training would
            first = nets[members[0]]
            size = models_per_batch(first if first.initialized_ else first.initialize(),
                                    n_rows[members[0]])
        chunks += [members[i:i + size] for i in range(0, len(members), size)]
    return chunks


def _train_groups(plans: list, max_models) -> tuple[list, list]:
    """Each batch's errors, and the batches (lists of indices into ``plans``)."""
    groups = batch_groups([p.net for p in plans], [len(p.data) for p in plans], max_models)
    members = [([plans[i].net for i in group], [plans[i].data for i in group])
               for group in groups]
    if len(members) > 1 and all(nets[0]._uses_graphs() for nets, _ in members):
        return _train_side_by_side(members), groups
    return [train_batched(nets, data) for nets, data in members], groups


def _fit_all(estimators: list, X, y, sample_weight, max_models) -> list:
    """fit_batched's fits: each estimator fitted, or left as it was with its error."""
    states = [dict(est.__dict__) for est in estimators]
    errors = [None] * len(estimators)
    try:
        plans = _plan_all(estimators, X, y, sample_weight)
        results, groups = _train_groups(plans, max_models)
        for group, group_errors in zip(groups, results):
            for i, error in zip(group, group_errors):
                errors[i] = error
    except BaseException:  # invalid data, out of memory, Ctrl-C: none left half fitted
        for est, state in zip(estimators, states):
            est._restore_state(state)
        raise
    for est, plan, state, error in zip(estimators, plans, states, errors):
        if error is None:
            est._finish_fit(plan)
        else:
            est._restore_state(state)
    return errors


def fit_batched(estimators: list, X, y, sample_weight=None, *, max_models=None,
                raise_errors: bool = True) -> list:
    """Fit ladder estimators together, as one batched computation per structure.

    Each estimator is fitted as by its own ``fit`` (its parameters, ``random_state``
    and rows; the same computation up to float rounding), but the models that share a
    structure (layers, mode, combinator, rows per update: ``batch_size`` or, on fewer
    rows, all of them; device) train as one: their
    forward and backward passes run as batched products. λ (``denoising_costs``), σ
    (``noise_std``), the learning rate and its schedule, the seed and the rows may differ
    between them. On a GPU with graphed updates (``gpu_update``) each batch's update is
    replayed as one CUDA graph (``"compiled"``: its forward pass and cost compiled
    first), and the batches of different structures train side by side, each in a
    thread and on a CUDA stream of its own (``max_models=1``: every model's own fit,
    graphed or compiled, side by side).

    Parameters
    ----------
    estimators : list of LadderClassifier or LadderRegressor
        Estimators to fit, in place (not warm-started: each fit starts anew).
    X : array-like of shape (n_samples, n_features), or a list of arrays
        The training rows of every estimator, or a list of one array (or DataFrame) per
        estimator (a list of lists is read as one X, its rows). The estimators given the
        same array object share one copy of its rows on the device.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or a list of arrays
        Targets, unlabeled rows marked as for ``fit``; or one array per estimator.
    sample_weight : array-like of shape (n_samples,), or a list of arrays, default=None
        Weights of the labeled rows, as for ``fit``; or one array (or None) per estimator.
    max_models : int, default=None
        Most models per batch; None: as many as half the device's free memory holds
        (a batch that does not fit is split into several); 1: every model its own fit.
    raise_errors : bool, default=True
        Raise the first estimator's error after every other estimator has been fitted;
        if False, return the errors instead.

    Returns
    -------
    errors : list of (Exception or None)
        One entry per estimator: None when it was fitted, else the exception that
        stopped its fit (the estimator is then left as it was).

    Raises
    ------
    ValueError
        For invalid parameters or data (before any training), or warm-started estimators.
    MemoryError
        If a batch does not fit in the device's memory (pass a smaller ``max_models``).
    KeyboardInterrupt
        On Ctrl-C, which stops every fit; the estimators are then left as they were.

    See Also
    --------
    sklearn_ladder.model_selection.LadderGridSearchCV : A grid search that fits its
        candidates × folds this way.

    Examples
    --------
    Three seeds and two noise levels of one ladder, fitted as one batch of six models:

    >>> import numpy as np
    >>> from sklearn_ladder import LadderClassifier, fit_batched
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(300, 10))
    >>> y = np.full(300, -1)
    >>> y[:40] = (X[:40, 0] > 0.5).astype(int)   # 40 labeled rows, 260 unlabeled
    >>> models = [LadderClassifier(layers=[20], noise_std=noise, max_epochs=2,
    ...                            random_state=seed)
    ...           for seed in range(3) for noise in (0.2, 0.3)]
    >>> fit_batched(models, X, y)
    [None, None, None, None, None, None]
    >>> models[0].predict(X[:3]).shape
    (3,)
    """
    if any(getattr(est, "warm_start", False) and hasattr(est, "net_") for est in estimators):
        raise ValueError("fit_batched fits anew; set warm_start=False (or fit the "
                         "warm-started estimator on its own).")
    with autograd_enabled():
        errors = _fit_all(estimators, X, y, sample_weight, max_models)
    if raise_errors and (first := next((e for e in errors if e is not None), None)):
        raise first
    return errors
