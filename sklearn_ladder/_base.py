"""What every ladder estimator shares: parameters, validation, training, features.

:class:`BaseLadder` holds the scikit-learn machinery common to
:class:`~sklearn_ladder.LadderClassifier` and :class:`~sklearn_ladder.LadderRegressor`:
the parameter table, the network's derived settings (λ, σ, device), building and running
the skorch net, warm starts, early stopping, ``transform`` and ``reconstruct``. A subclass
supplies the head (``_output``, ``_supervised_cost``) and its targets
(``_prepare_targets``, ``_target_signature``, ``_held_out_score``).
"""

import inspect
import math
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.callbacks.scoring import ScoringBase

from ._graph import GPU_UPDATES, resolve_gpu_update
from ._input_scaling import (
    InputScaler,
    InputScaleWarning,
    feature_spread,
    fit_input_scaler,
    root_mean_square,
    scale_problem,
    warn_as_given,
    within_unit_interval,
)
from ._training import (
    HeldOutScore,
    LadderNet,
    RowData,
    autograd_enabled,
    precision_backends,
    updates_per_epoch,
)
from ._unlabeled import labeled_rows, mark_unlabeled
from ._warnings import warn_user
from .combinators import COMBINATOR_NAMES
from .layers import PRESETS, as_specs, output_shapes

__all__ = ["SHARED_PARAMETERS", "BaseLadder", "FitPlan", "InputScaleWarning", "make_init"]

# max_epochs="auto": the paper's 150 epochs, but at least this many updates (the
# classifier's; an estimator's _auto_min_updates), so that a small data set (few updates
# per epoch) trains as long as the data need; see the benchmarks page for the
# measurements behind the number.
AUTO_EPOCHS = 150
AUTO_MIN_UPDATES = 3000
# labeled_statistics="auto": the labeled rows borrow the unlabeled rows' batch statistics
# on a small table, fewer labeled rows and fewer features than this; the measurements
# behind the line are in the parameter's docstring (_docstrings.py) and on the
# benchmarks page.
AUTO_SMALL_TABLE = 50
# layers="auto": the paper's MNIST network on AUTO_WIDE_INPUT input features or more, the
# two hidden layers of SMALL_INPUT_LAYERS on fewer (the measurements: _docstrings.py's
# AUTO_LAYERS_WHY and the benchmarks page).
PAPER_LAYERS = (1000, 500, 250, 250, 250)
SMALL_INPUT_LAYERS = (500, 250)
AUTO_WIDE_INPUT = 100
# noise_std="auto": on fewer input features than this, the input's noise σ_0 shrinks as
# √(n_features / AUTO_FEW_FEATURES) (the reason and the measurements: _noise_std_why).
AUTO_FEW_FEATURES = 10
# noise_std="auto": on inputs in [0, 1], σ_0 follows the features' spread (the root mean
# square of their standard deviations, feature_spread) as the paper's σ_0 met MNIST's
# pixels, whose spread is this (0.2593 over the 60,000 training rows): σ_0 = σ · spread /
# MNIST_INPUT_SPREAD (why: _docstrings.SPREAD_NOISE).
MNIST_INPUT_SPREAD = 0.26
# Sparse input is densified up to this many entries (1 GiB of float32), refused above;
# a warning tells of the copy from WARN_DENSE_ENTRIES (64 MiB) on, where it costs memory
# a user may miss (below it, a text or one-hot pipeline would warn on every call).
MAX_DENSE_ENTRIES = 2**28
WARN_DENSE_ENTRIES = 2**24
# Default λ_0..λ_L per mode, from the paper's 100-label MNIST settings (Table 1); for a
# network of another depth the same pattern is stretched: full is λ_0, λ_1, then the
# hidden value everywhere above.
_MODES = ("full", "gamma", "bottom", "supervised")


def _default_denoising_costs(mode: str, n_layers: int) -> list[float]:
    if mode == "full":
        return [1000.0, 10.0] + [0.1] * (n_layers - 1)
    if mode == "bottom":
        return [5000.0] + [0.0] * n_layers
    if mode == "gamma":
        return [0.0] * n_layers + [0.5]
    return [0.0] * (n_layers + 1)


def _check_mode_structure(mode: str, costs: np.ndarray) -> None:
    """A mode names which layers are decoded; λ given by the user must agree with it."""
    allowed = {
        "full": np.ones(len(costs), bool),
        "bottom": np.arange(len(costs)) == 0,
        "gamma": np.arange(len(costs)) == len(costs) - 1,
        "supervised": np.zeros(len(costs), bool),
    }[mode]
    if np.any(costs[~allowed] > 0):
        raise ValueError(
            f"mode={mode!r} allows a nonzero λ only on layers "
            f"{np.flatnonzero(allowed).tolist()}, got denoising_costs={costs.tolist()}; "
            f"use mode='full' for an arbitrary λ vector."
        )


def _per_layer(name: str, value, n_values: int) -> np.ndarray:
    """A scalar or one value per layer 0..L, checked: finite, non-negative, right length."""
    values = np.asarray(value, dtype=float)
    if values.ndim == 0:
        values = np.full(n_values, float(values))
    if values.ndim != 1 or len(values) != n_values:
        raise ValueError(
            f"{name} needs one value per layer 0..{n_values - 1} ({n_values} values) for "
            f"this network, got {np.shape(value)}."
        )
    # Training runs in float32: a larger value would become inf there.
    if not np.all(np.abs(values) <= np.finfo(np.float32).max) or np.any(values < 0):
        raise ValueError(f"{name} must be finite (in float32) and non-negative, got "
                         f"{values.tolist()}.")
    return values


def _densify(X):
    """The ladder's batch normalisation needs dense rows: densify sparse input (with a
    warning when the copy is large; refused when it is huge)."""
    if not sp.issparse(X):
        return X
    n_entries = X.shape[0] * X.shape[1]
    if n_entries > MAX_DENSE_ENTRIES:
        raise ValueError(
            f"X is a sparse matrix of shape {X.shape}; densifying it would take "
            f"{4 * n_entries / 2**30:.1f} GiB. Reduce its dimension first (e.g. with "
            f"TruncatedSVD in a Pipeline) or pass a dense array."
        )
    if n_entries >= WARN_DENSE_ENTRIES:
        warn_user(f"X is sparse; it is converted to a dense float32 array of shape "
                  f"{X.shape} ({4 * n_entries / 2**20:.0f} MiB).", DataConversionWarning)
    return X.astype(np.float32).toarray()


def _same(a, b) -> bool:
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def _resolve_device(device) -> str:
    """The torch device to use, checked: "auto", "cpu", "cuda", "cuda:N" or a torch.device."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'cpu', 'cuda', "
                         "'cuda:N', a torch.device or 'auto'.") from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}: ladders train on 'cpu' or 'cuda' devices.")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but torch sees no CUDA device (torch "
            f"{torch.__version__}); use device='cpu' or device='auto'."
        )
    if resolved.index is not None and resolved.index >= max(torch.cuda.device_count(), 1):
        raise ValueError(f"device={device!r}, but torch sees {torch.cuda.device_count()} "
                         "CUDA device(s).")
    return str(resolved)


def _normalised_weights(weights: np.ndarray | None, labeled: np.ndarray) -> np.ndarray | None:
    """Row weights scaled to mean 1 over the labeled rows; None when they are all equal
    (the unweighted cost, computed exactly as without weights)."""
    if weights is None:
        return None
    mean = weights[labeled].mean()
    if not mean > 0:
        raise ValueError("sample_weight (and class_weight) give every labeled row weight 0; "
                         "the supervised cost would be empty.")
    if np.all(weights[labeled] == weights[labeled][0]):
        return None
    return weights / mean


# The constructor parameters both estimators share, with their defaults, in signature
# order; the estimators' __init__ are made from this one table by make_init.
SHARED_PARAMETERS = {
    "layers": "auto",
    "input_shape": None,
    "input_scaling": "auto",
    "mode": "full",
    "denoising_costs": None,
    "noise_std": "auto",
    "combinator": "gauss",
    "activation": "relu",
    "top_scale": True,
    "labeled_statistics": "auto",
    "batch_size": 100,
    "max_epochs": "auto",
    "max_iter": None,
    "learning_rate": 0.002,
    "lr_decay_start": 0.67,
    "device": "cpu",
    "fp32_precision": "ieee",
    "gpu_update": "auto",
    "random_state": None,
    "verbose": 0,
    "warm_start": False,
    "early_stopping": False,
    "validation_fraction": 0.1,
    "n_iter_no_change": 10,
    "tol": 1e-4,
    "feature_layer": None,
    "callbacks": None,
}


class FitPlan(NamedTuple):
    """A fit ready to train: the net (not trained yet), its data and the settings that
    the fitted estimator records."""

    net: LadderNet
    data: RowData
    warm: bool
    costs: np.ndarray
    noise: np.ndarray


def make_init(parameters: dict):
    """An ``__init__`` that stores ``parameters`` untouched, with the explicit signature
    ``(self, first=default, *, name=default, ...)`` that scikit-learn's ``get_params``,
    ``clone`` and ``repr`` read (they never see ``*args`` or ``**kwargs``)."""
    positional, keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature(
        [inspect.Parameter("self", positional)]
        + [inspect.Parameter(name, positional if i == 0 else keyword, default=default)
           for i, (name, default) in enumerate(parameters.items())])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name in parameters:
            setattr(self, name, bound.arguments[name])

    __init__.__signature__ = signature
    return __init__


def _user_callbacks(callbacks) -> list:
    """The user's skorch callbacks; refuses skorch's scoring callbacks, whose scores
    would be garbage: they score each training batch's predictions against its
    targets as skorch's own nets make them, and a ladder's batches are not those."""
    for entry in callbacks or []:
        callback = entry[1] if isinstance(entry, tuple) else entry
        if isinstance(callback, ScoringBase):
            raise ValueError(
                f"callbacks: {type(callback).__name__} cannot score a ladder: its training "
                f"batches hold labeled and unlabeled rows and its net predicts no classes. "
                f"Use early_stopping=True (the held-out rows' score is recorded as "
                f"'valid_score' in history_; each epoch's 'supervised_cost' and "
                f"'denoising_cost' are there too, for EarlyStopping or Checkpoint to "
                f"monitor), or a callback of your own.")
    return list(callbacks or [])


class BaseLadder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator,
                 metaclass=ABCMeta):
    """Base class of the ladder estimators; not for direct use."""

    _output = "softmax"
    _supervised_cost = "cross_entropy"
    # noise_std="auto": σ on every layer (σ_0 lowered on few features), and why: sentences
    # for the docstring (fill_docstring).
    _auto_noise_std = 0.3
    # noise_std="auto": σ_0 follows the spread of inputs in [0, 1] (measured for
    # classification; the regressor's measurements: _regressor.py).
    _input_noise_follows_spread = True
    # denoising_costs=None in mode "full" on fewer than AUTO_FEW_FEATURES features: λ_0
    # alone, no hidden layer's cost (measured for classification only).
    _input_cost_only_on_few_features = True
    # max_epochs="auto": the paper's 150 epochs but at least this many updates.
    _auto_min_updates = AUTO_MIN_UPDATES
    _auto_length_why = ("Small data sets have few updates per epoch (1,257 rows of digits "
                        "give 13). On the benchmark's small tables 1,000 updates raised the "
                        "test error in 8 of 10 cells, and 6,000 lowered it in 10 of 24 and "
                        "raised it in 11, at twice the time (benchmarks page).")
    _noise_std_why = (
        "0.3 is the paper's value on MNIST. On few features σ_0 = 0.3 drowns the input: "
        "each feature carries what no other repeats, while noise along the direction "
        "that separates two classes stays σ_0 whatever the number of features, and the "
        "distance between the classes grows about as its square root. With the rule the "
        "ladder's test error went from 34.1 to 19.1 % on two-feature circles and from "
        "13.4 to 9.3 % on two moons (10 labels per class), while on wine (13 features) "
        "a lower input noise raised it from 9 % to 18-44 % (benchmarks page).")

    _parameter_constraints: dict = {
        "layers": ["array-like", StrOptions({"auto", *PRESETS})],
        "input_shape": ["array-like", None],
        "input_scaling": [StrOptions({"auto", "minmax", "quantile"}), None],
        "mode": [StrOptions(set(_MODES))],
        "denoising_costs": ["array-like", None],
        "noise_std": [Interval(Real, 0, None, closed="left"), "array-like",
                      StrOptions({"auto"})],
        "combinator": [StrOptions(set(COMBINATOR_NAMES)), callable],
        "activation": [StrOptions({"relu", "leaky_relu", "tanh", "sigmoid"})],
        "top_scale": ["boolean"],
        "labeled_statistics": [StrOptions({"auto", "labeled", "unlabeled"})],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_decay_start": [Interval(Real, 0, 1, closed="both")],
        "device": [str, torch.device],
        "fp32_precision": [StrOptions({"ieee", "bf16", "tf32"})],
        "gpu_update": [StrOptions(set(GPU_UPDATES))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "feature_layer": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
    }

    __init__ = make_init(SHARED_PARAMETERS)

    # ------------------------------------------------------------------ validation
    def _input_shape(self, n_features: int) -> tuple[int, ...]:
        if self.input_shape is None:
            return (n_features,)
        shape = tuple(np.asarray(self.input_shape).tolist())
        if (len(shape) != 3 or not all(isinstance(n, int) and n >= 1 for n in shape)
                or np.prod(shape) != n_features):
            raise ValueError(
                f"input_shape must be (channels, height, width), positive integers whose "
                f"product is the number of features ({n_features}), got {self.input_shape!r}."
            )
        return shape

    def _encoder_layers(self, input_shape: tuple, n_outputs: int) -> list:
        """Every layer above the input as specifications, the output layer included."""
        if isinstance(self.layers, str) and self.layers == "auto":
            wide = math.prod(input_shape) >= AUTO_WIDE_INPUT
            layers = [*(PAPER_LAYERS if wide else SMALL_INPUT_LAYERS), n_outputs]
        elif isinstance(self.layers, str):
            layers = PRESETS[self.layers](n_outputs)
        else:
            layers = list(self.layers)
            if len(layers) == 0:
                raise ValueError(f"layers must be a non-empty sequence, got {self.layers!r}.")
            if all(isinstance(n, Integral) for n in layers):  # hidden widths only
                layers = [*layers, n_outputs]
        # The specifications check themselves (positive widths, no bools, fit to the input).
        try:
            layers = as_specs(layers)
            top = output_shapes(input_shape, layers)[-1]
        except ValueError as exc:
            raise ValueError(f"layers={self.layers!r}: {exc}") from exc
        if top != (n_outputs,):
            raise ValueError(
                f"the last of the layers must output one value per class (output), "
                f"{n_outputs}, but {layers[-1]} outputs shape {top}."
            )
        return layers

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the ladder on labeled and unlabeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, all of them: labeled and unlabeled. A sparse matrix is
            densified as float32: with a warning when the copy is large, an error
            when it is too large (reduce its dimension first, e.g. with ``TruncatedSVD``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; an unlabeled row is marked by -1, '-1', None, NaN or ``pandas.NA``
            (classifier) or NaN (regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the labeled rows in the supervised cost (weights of
            unlabeled rows are ignored: the denoising cost weighs every row alike).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid parameters or data; the estimator is left as it was.
        FloatingPointError
            If a cost becomes NaN or infinite during training; the estimator is left as
            it was (also a warm-started one).
        KeyboardInterrupt
            Raised again after a warning when training is interrupted: the estimator
            then holds the model trained so far, ready to predict.
        """
        # Validation sets attributes (n_features_in_, classes_, ...) before later checks
        # can fail; a failed fit must leave a fitted estimator exactly as it was.
        state = dict(self.__dict__)
        try:
            with autograd_enabled():
                return self._fit(X, y, sample_weight)
        except Exception:
            self._restore_state(state)
            raise

    def _restore_state(self, state: dict) -> None:
        """Put the estimator back as it was (its ``__dict__``) before a failed fit."""
        self.__dict__.clear()
        self.__dict__.update(state)

    def _fit(self, X, y, sample_weight):
        self._train(self._plan_fit(X, y, sample_weight))
        return self

    def _plan_fit(self, X, y, sample_weight) -> FitPlan:
        """Validate the parameters and data, and build the net that will train on them."""
        device = self._check_device()
        warm = self.warm_start and hasattr(self, "net_")
        X, y_encoded = self._validate_training_data(X, y, warm)
        input_shape = self._input_shape(X.shape[1])
        layers = self._encoder_layers(input_shape, self._n_outputs())
        self._check_feature_layer(len(layers))
        costs, noise = self._costs_and_noise(len(layers), X, warm)
        random_state = check_random_state(self.random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        callbacks, y_encoded = self._callbacks(X, y_encoded, random_state)
        weights = self._row_weights(X, y_encoded, sample_weight)
        module_params = {
            "input_shape": input_shape, "layers": layers, "denoising_costs": costs.tolist(),
            "noise_std": noise.tolist(), "combinator": self.combinator,
            "activation": self.activation, "output": self._output,
            "top_scale": self.top_scale,
            "labeled_statistics": self._labeled_statistics(X.shape[1], y_encoded, costs,
                                                           warm),
        }
        n_epochs = self._n_epochs(len(X))
        n_updates = n_epochs * updates_per_epoch(len(X), self.batch_size)
        training = {"lr": self.learning_rate, "max_epochs": n_epochs,
                    "batch_size": self.batch_size, "verbose": self.verbose,
                    "callbacks": callbacks, "device": device,
                    "callbacks__lr_schedule__decay_start": self.lr_decay_start,
                    "fp32_precision": self.fp32_precision,
                    "gpu_update": resolve_gpu_update(self.gpu_update, device, n_updates)}
        if warm:
            self._check_warm_start(module_params)
            # If training fails, the net puts its weights, optimiser state and history
            # back; the settings changed here are set anew by every fit.
            net = self.net_.set_params(**training)
        else:
            net = LadderNet(
                **{f"module__{key}": value for key, value in module_params.items()},
                criterion__denoising_costs=costs.tolist(),
                criterion__supervised=self._supervised_cost,
                random_state=seed, **training,
            )
        return FitPlan(net, net.get_dataset(X, y_encoded, weights), warm, costs, noise)

    def _n_epochs(self, n_rows: int) -> int:
        """Epochs to train: ``max_epochs``, or enough for ``max_iter`` updates, or "auto"."""
        per_epoch = updates_per_epoch(n_rows, self.batch_size)
        if self.max_iter is not None:
            if self.max_epochs != "auto":
                raise ValueError(
                    f"max_epochs={self.max_epochs} and max_iter={self.max_iter} both set the "
                    f"training length; set one of them (the other to its default)."
                )
            return math.ceil(self.max_iter / per_epoch)
        if self.max_epochs == "auto":
            return max(AUTO_EPOCHS, math.ceil(self._auto_min_updates / per_epoch))
        return self.max_epochs

    def _labeled_statistics(self, n_features: int, y_encoded: np.ndarray, costs: np.ndarray,
                            warm: bool) -> str:
        """The batch statistics of the labeled rows in training, "auto" resolved: the
        unlabeled rows' on a small table with few labeled rows (and some unlabeled ones)
        when something is decoded, else their own, the paper's (a continued fit keeps its
        net's)."""
        if self.labeled_statistics != "auto":
            return self.labeled_statistics
        if warm:
            return self.net_.module_.labeled_statistics
        n_labeled = len(labeled_rows(y_encoded))
        borrow = (n_features < AUTO_SMALL_TABLE and n_labeled < AUTO_SMALL_TABLE
                  and n_labeled < len(y_encoded) and np.any(costs > 0))
        return "unlabeled" if borrow else "labeled"

    def _check_device(self) -> str:
        device = _resolve_device(self.device)
        needs = {"bf16": ("cpu", "oneDNN's precision for CPU"),
                 "tf32": ("cuda", "the TF32 tensor cores of CUDA")}.get(self.fp32_precision)
        if needs is not None and torch.device(device).type != needs[0]:
            raise ValueError(
                f"fp32_precision={self.fp32_precision!r} sets {needs[1]} training; with "
                f"device={device!r} use fp32_precision='ieee'."
            )
        if needs is not None and not precision_backends(device):
            raise ValueError(
                f"fp32_precision={self.fp32_precision!r} needs torch's per-backend "
                f"fp32_precision settings, which torch {torch.__version__} lacks; use a "
                f"newer torch or fp32_precision='ieee'.")
        return device

    def _validate_training_data(self, X, y, warm: bool):
        """Checked float32 rows and the training targets (see :mod:`._unlabeled`)."""
        previous_targets = self._target_signature() if warm else None
        X = self._checked(X, reset=not warm)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None.")
        check_consistent_length(X, y)
        self.input_scaler_ = self._fit_input_scaler(X, warm)
        X = self._scaled(X)
        y_encoded = self._prepare_targets(y)
        if warm and not _same(previous_targets, self._target_signature()):
            raise ValueError(
                "warm_start=True continues training the same network, but the targets "
                "(classes or outputs) changed; set warm_start=False to train anew."
            )
        return X, y_encoded

    def _fit_input_scaler(self, X: np.ndarray, warm: bool) -> InputScaler | None:
        """The scaler of the inputs (fitted on every training row, labeled or not), or
        None: ``input_scaling`` resolved; warns when X stays far from unit scale or far
        tailed. A continued fit keeps the first fit's (its network's inputs)."""
        if warm:
            return self._kept_input_scaler(X)
        return fit_input_scaler(X, self.input_scaling, self._is_table())

    def _kept_input_scaler(self, X: np.ndarray) -> InputScaler | None:
        scaler = self.input_scaler_
        kept = None if scaler is None else scaler.kind()
        if self.input_scaling not in ("auto", kept):
            raise ValueError(
                f"warm_start=True continues training the same network, fitted on inputs "
                f"{'as given' if kept is None else 'mapped as ' + repr(kept) + ' maps'}, "
                f"but input_scaling={self.input_scaling!r} asks otherwise; set "
                f"warm_start=False to train anew.")
        if scaler is None:
            warn_as_given(X, scale_problem(X), self._is_table())
        return scaler

    def _is_table(self) -> bool:
        """Whether X is a table (no ``input_shape``), whose features each have their own
        scale and tails, rather than images, whose pixels share one scale that a per-pixel
        judgement would distort."""
        return self.input_shape is None

    def _checked(self, X, reset: bool) -> np.ndarray:
        """X validated and dense: float32 rows as given, any other dense X in float64
        until ``_scaled``, so that a feature far from zero beside its spread (a timestamp
        in seconds, 1.7e9 ± 1e3) is mapped before float32 would round it to a few values.
        Sparse X is densified as float32 (``_densify``): a dense float64 copy would take
        twice the memory."""
        return _densify(validate_data(self, X, dtype=[np.float64, np.float32],
                                      accept_sparse=True, reset=reset))

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        """X as the network takes it (``input_scaler_`` applied), float32."""
        if self.input_scaler_ is None:
            return X.astype(np.float32, copy=False)
        return self.input_scaler_.network_inputs(X)

    def _check_feature_layer(self, n_layers: int) -> None:
        if self.feature_layer is not None and self.feature_layer > n_layers:
            raise ValueError(
                f"feature_layer={self.feature_layer} but this ladder has layers 1..{n_layers} "
                f"({n_layers - 1} hidden layers, then the logits)."
            )

    def _auto_input_noise(self, X: np.ndarray) -> float:
        """σ_0 of noise_std="auto" for the network's inputs ``X`` (the reasons: the
        docstring's)."""
        sigma = self._auto_noise_std * min(1.0, math.sqrt(X.shape[1] / AUTO_FEW_FEATURES))
        if self._input_noise_follows_spread and within_unit_interval(X):
            # the scale of MNIST's pixels, where σ was set
            sigma *= feature_spread(X) / MNIST_INPUT_SPREAD
        # Never above the inputs' own root mean square: sparse rows of small values
        # (TF-IDF's) drowned under σ_0 = 0.3 (why: _docstrings.SMALL_INPUTS_NOISE).
        return min(sigma, root_mean_square(X))

    def _costs_and_noise(self, n_layers: int, X: np.ndarray,
                         warm: bool) -> tuple[np.ndarray, np.ndarray]:
        """λ_0..λ_L (the mode's default or the user's, checked) and σ_0..σ_L ("auto"
        resolved for the network's inputs ``X``; a continued fit keeps the first's)."""
        n_features = X.shape[1]
        if isinstance(self.noise_std, str) and warm:
            noise = self.noise_std_
        elif isinstance(self.noise_std, str):  # "auto"
            noise = np.full(n_layers + 1, self._auto_noise_std)
            noise[0] = self._auto_input_noise(X)
        else:
            noise = _per_layer("noise_std", self.noise_std, n_layers + 1)
        if self.denoising_costs is None:
            costs = np.asarray(_default_denoising_costs(self.mode, n_layers))
            if (self._input_cost_only_on_few_features and self.mode == "full"
                    and n_features < AUTO_FEW_FEATURES):
                costs[1:] = 0.0  # why: _docstrings.FEW_FEATURES_COSTS
            return costs, noise
        costs = _per_layer("denoising_costs", self.denoising_costs, n_layers + 1)
        _check_mode_structure(self.mode, costs)
        return costs, noise

    def _callbacks(self, X, y_encoded, random_state) -> tuple[list, np.ndarray]:
        """Early stopping (with its held-out rows, then unlabeled) and the user's callbacks."""
        callbacks = []
        if self.early_stopping:
            held_out = self._hold_out(y_encoded, random_state)
            callbacks += [
                ("valid_score", HeldOutScore(X[held_out], y_encoded[held_out],
                                             self._held_out_score)),
                ("early_stopping", EarlyStopping(
                    monitor="valid_score", lower_is_better=False,
                    patience=self.n_iter_no_change, threshold=self.tol, threshold_mode="abs",
                    load_best=True)),
            ]
            y_encoded = mark_unlabeled(y_encoded, held_out)  # still in the unlabeled pool
        return callbacks + _user_callbacks(self.callbacks), y_encoded

    def _row_weights(self, X, y_encoded, sample_weight) -> np.ndarray | None:
        """Weights of the rows in the supervised cost: sample_weight × class weight."""
        weights = self._class_weights(y_encoded)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            weights = sample_weight if weights is None else weights * sample_weight
        return _normalised_weights(weights, labeled_rows(y_encoded))

    def _train(self, plan: FitPlan) -> None:
        """Run the net and keep it; on Ctrl-C keep what was trained, warn, and raise the
        interrupt again, so that scripts and searches stop."""
        net = plan.net
        first_epoch = len(net.history) if plan.warm else 0
        try:
            if plan.warm:
                net.partial_fit(plan.data, None)
            else:
                net.fit(plan.data, None)
        except KeyboardInterrupt:
            self._set_fitted(net, plan.costs, plan.noise)
            warn_user(
                f"{type(self).__name__}.fit was interrupted in epoch "
                f"{len(net.history) - first_epoch} of {net.max_epochs}; the estimator keeps "
                f"the model trained so far (ready to predict) and the interrupt is raised "
                f"again.", UserWarning,
            )
            raise
        self._finish_fit(plan, first_epoch)

    def _finish_fit(self, plan: FitPlan, first_epoch: int = 0) -> None:
        """Keep the trained net; warn if it learned nothing."""
        self._set_fitted(plan.net, plan.costs, plan.noise)
        self._warn_if_not_learning(plan.net, plan.data, first_epoch)

    def _warn_if_not_learning(self, net: LadderNet, data, first_epoch: int) -> None:
        """ConvergenceWarning when the supervised cost did not go down or the labeled rows
        are predicted no better than by chance."""
        costs = [epoch["supervised_cost"] for epoch in net.history[first_epoch:]]
        labeled = data.labeled
        outputs = net.forward(data.X[labeled], training=False).numpy()
        score = self._score_above_chance(outputs, data.y[labeled].cpu().numpy())
        problems = []
        # Over fewer epochs, the noise and the batches can hide a real decrease.
        if len(costs) >= 3 and not costs[-1] < costs[0]:
            problems.append(f"the supervised cost did not go down ({costs[0]:.4g} in the "
                            f"first epoch, {costs[-1]:.4g} in the last)")
        if score <= 0:
            problems.append(f"the labeled rows are predicted no better than by chance "
                            f"(training score above chance {score:.3g})")
        if problems:
            warn_user(
                f"{type(self).__name__} did not learn: {' and '.join(problems)}. Lower "
                f"learning_rate or denoising_costs (λ), train longer (max_iter), or scale "
                f"X (input_scaling='minmax', or a scaler in a Pipeline).",
                ConvergenceWarning,
            )

    def _set_fitted(self, net: LadderNet, costs: np.ndarray, noise: np.ndarray) -> None:
        self.layers_ = list(net.get_params_for("module")["layers"])
        self.denoising_costs_ = costs
        self.noise_std_ = noise
        self.labeled_statistics_ = net.module_.labeled_statistics
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self.n_updates_ = sum(len(epoch["batches"]) for epoch in net.history)

    def _hold_out(self, y_encoded: np.ndarray, random_state) -> np.ndarray:
        """Indices of a validation share of the labeled rows (stratified for classes)."""
        labeled = labeled_rows(y_encoded)
        classes = y_encoded[labeled] if is_classifier(self) else None
        try:
            _, held_out = train_test_split(labeled, test_size=self.validation_fraction,
                                           stratify=classes, random_state=random_state)
        except ValueError as exc:
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of "
                f"the {len(labeled)} labeled rows, which leaves too few rows (or not every "
                f"class) on one side ({exc}). Raise validation_fraction, label more rows, or "
                f"set early_stopping=False."
            ) from exc
        return held_out

    def _check_warm_start(self, module_params: dict) -> None:
        fitted = self.net_.get_params_for("module")
        changed = sorted(k for k, v in module_params.items() if fitted[k] != v)
        if changed:
            raise ValueError(
                f"warm_start=True continues training the same network, but {changed} changed "
                f"since the last fit; set warm_start=False to train anew."
            )

    # ------------------------------------------------------------------ for subclasses
    @abstractmethod
    def _prepare_targets(self, y) -> np.ndarray:
        """Validate ``y``, set the target attributes, return the targets the net trains on.

        Unlabeled rows are -1 in an integer array or NaN in a float array.
        """

    @abstractmethod
    def _target_signature(self):
        """What must not change across a warm start (classes, number of outputs)."""

    @abstractmethod
    def _n_outputs(self) -> int:
        """Width of the top layer."""

    def _class_weights(self, y_encoded: np.ndarray) -> np.ndarray | None:
        """Per-row weights from the targets' classes, or None (no class weighting)."""
        return None

    @staticmethod
    @abstractmethod
    def _held_out_score(outputs: np.ndarray, y: np.ndarray) -> float:
        """Score of the net's outputs on held-out targets, higher is better."""

    @staticmethod
    @abstractmethod
    def _score_above_chance(outputs: np.ndarray, y: np.ndarray) -> float:
        """A score of the outputs that is 0 for predictions that ignore X (balanced
        accuracy adjusted for chance, or R²) and positive when they do better."""

    # ------------------------------------------------------------------ predict
    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._scaled(self._checked(X, reset=False))

    def _outputs(self, X) -> torch.Tensor:
        """The clean encoder's top outputs (logits or regression values), float64."""
        X = self._validated(X)  # first: it raises NotFittedError before net_ is touched
        return self.net_.forward(X, training=False)

    def _feature_layer(self) -> int:
        n_layers = self.net_.module_.n_layers
        self._check_feature_layer(n_layers)  # it may have been set after fit
        return n_layers - 1 if self.feature_layer is None else self.feature_layer

    @property
    def _n_features_out(self) -> int:
        return self.net_.module_.widths[self._feature_layer()]

    def transform(self, X) -> np.ndarray:
        """Clean encoder activations of layer ``feature_layer``, as features for other models.

        Computed with the test-time statistics, row by row (independent of batching).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        ndarray of shape (n_samples, width of the layer)
            Activations ``h_l`` (ReLU outputs by default), float64; names from
            ``get_feature_names_out``.
        """
        X = self._validated(X)
        layer = self._feature_layer()
        return self._map_rows(lambda rows: self.net_.module_.features(rows, layer), X)

    def reconstruct(self, X, *, add_noise: bool = False) -> np.ndarray:
        """The decoder's denoised reconstruction of the input rows (ẑ_0 in the paper).

        Needs a decoder down to the input (``mode="full"`` or ``"bottom"``). The encoder
        runs with the test-time statistics, corrupted by the training noise when
        ``add_noise``; the decoder normalises its top-down signal over the rows given, as
        in training, so pass batches of a typical size (e.g. ``batch_size`` rows or more).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to reconstruct.
        add_noise : bool, default=False
            Corrupt the rows with the encoder's noise first (seeded by ``random_state``),
            to see the denoising at work.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The reconstruction, float64, in the units of ``X`` (``input_scaler_``
            undone).
        """
        X = self._validated(X)
        module = self.net_.module_
        rows = torch.as_tensor(X, device=self.net_.device)
        generator = torch.Generator(device=self.net_.device)
        generator.manual_seed(int(check_random_state(self.random_state).randint(2**31 - 1)))
        result = module.reconstruct(rows, noisy=add_noise, generator=generator).cpu().numpy()
        # In X's own units, not the network's: undo input_scaler_.
        return result if self.input_scaler_ is None else self.input_scaler_.inverse_transform(
            result)

    def _score_kept_rows(self, metric, X, y, keep: np.ndarray, sample_weight) -> float:
        """``metric(y, predict(X))`` over the rows in ``keep`` (the labeled ones)."""
        rows = np.flatnonzero(keep)
        if len(rows) == 0:
            raise ValueError(
                f"{type(self).__name__}.score got no labeled row: every target marks an "
                f"unlabeled row, so there is nothing to score. Score on rows with labels."
            )
        weights = None if sample_weight is None else _safe_indexing(sample_weight, rows)
        return metric(_safe_indexing(y, rows), self.predict(_safe_indexing(X, rows)),
                      sample_weight=weights)

    def _map_rows(self, fn, X: np.ndarray) -> np.ndarray:
        """Apply a row-wise tensor function to X in chunks on the net's device."""
        data = self.net_.get_dataset(X)
        chunks = [fn(rows).cpu() for rows, _ in self.net_.get_iterator(data)]
        return torch.cat(chunks).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified, up to MAX_DENSE_ENTRIES
        return tags
