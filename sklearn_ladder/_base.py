"""What every ladder estimator shares: parameters, validation, training, features.

:class:`BaseLadder` holds the scikit-learn machinery common to
:class:`~sklearn_ladder.LadderClassifier` and :class:`~sklearn_ladder.LadderRegressor`:
the parameter table, the network's derived settings (λ, σ, device), building and running
the skorch net, warm starts, early stopping, ``transform`` and ``reconstruct``. A subclass
supplies the head (``_output``, ``_supervised_cost``) and its targets
(``_prepare_targets``, ``_target_signature``, ``_held_out_score``).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping

from ._combinators import COMBINATOR_NAMES
from ._ladder import Ladder, LadderCost
from ._training import (
    CostTerms,
    HeldOutScore,
    LadderNet,
    LinearDecayLR,
    labeled_rows,
    mark_unlabeled,
)
from .layers import PRESETS, as_specs, output_shapes

__all__ = ["ATTRIBUTES_DOC", "PARAMETERS_DOC", "BaseLadder", "fill_docstring"]

# Sparse input is densified up to this many entries (1 GiB of float32), refused above.
MAX_DENSE_ENTRIES = 2**28
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
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {values.tolist()}.")
    return values


def _densify(X):
    """The ladder's batch normalisation needs dense rows: densify small sparse input."""
    if not sp.issparse(X):
        return X
    n_entries = X.shape[0] * X.shape[1]
    if n_entries > MAX_DENSE_ENTRIES:
        raise ValueError(
            f"X is a sparse matrix of shape {X.shape}; densifying it would take "
            f"{4 * n_entries / 2**30:.1f} GiB. Reduce its dimension first (e.g. with "
            f"TruncatedSVD in a Pipeline) or pass a dense array."
        )
    warnings.warn(
        f"X is sparse; it is converted to a dense float32 array of shape {X.shape}.",
        DataConversionWarning, stacklevel=3,
    )
    return X.toarray()


def _same(a, b) -> bool:
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was asked for but torch sees no CUDA device (torch "
            f"{torch.__version__}); use device='cpu' or device='auto'."
        )
    return device



# The parameters' documentation, shared by the estimators' docstrings.
PARAMETERS_DOC = """    Parameters
    ----------
    layers : sequence of int, str or sequence of layer specifications, \
            default=(1000, 500, 250, 250, 250)
        The encoder. A sequence of int gives the widths of fully connected hidden layers;
        the input and output widths come from the data, so the default is the paper's
        784-1000-500-250-250-250-10 network on MNIST, and ``len(layers) = L - 1`` hidden
        layers make layers 0..L (input to softmax). For images, a preset name
        (``"conv-small"``, ``"conv-large"``, ``"conv-fc"``: the paper's Tables 2-3) or a
        list of :mod:`sklearn_ladder.layers` specifications (``Conv``, ``MaxPool``,
        ``GlobalMeanPool``, ``Dense``) describes every layer above the input, the output
        layer included: its width must equal the number of classes (outputs). Every
        layer, pooling included, counts in ``denoising_costs`` and ``noise_std``.
    input_shape : tuple of int (channels, height, width), default=None
        Shape of one image, for convolutional layers: each row of ``X`` holds
        ``channels * height * width`` values, channel after channel, each row-major (as
        ``images.reshape(n, -1)`` gives for an ``(n, channels, height, width)`` array).
        ``None`` for flat feature vectors.
    mode : {"full", "gamma", "bottom", "supervised"}, default="full"
        Which layers get a denoising cost: every layer (the full ladder), the top layer
        only (the paper's Γ-model), the input only, or none (the encoder alone, the
        paper's supervised baseline, which builds no decoder).
    denoising_costs : array-like of shape (L + 1,), default=None
        λ_0..λ_L, the weight of each layer's denoising cost C_l. ``None`` takes the
        mode's default from the paper's 100-label MNIST settings: full
        ``(1000, 10, 0.1, ...)``, bottom ``(5000, 0, ...)``, gamma ``(0, ..., 0, 0.5)``,
        supervised all 0. Nonzero values must lie on the layers the mode decodes.
    noise_std : float or array-like of shape (L + 1,), default=0.3
        σ, the standard deviation of the Gaussian noise added to the input (σ_0) and to
        every normalised pre-activation (σ_1..σ_L) of the corrupted encoder.
    combinator : {"gauss", "g1", "g2", "g3", "g4", "amlp"} or callable, default="gauss"
        The denoising function g of the decoder: ``"gauss"`` is the paper's eq. 2;
        ``"g1"``..``"g4"`` its Appendix B comparisons (miniature MLP with and without the
        z̃u term, linear, additive); ``"amlp"`` the per-unit MLP on (z̃, u, z̃u) of
        Pezeshki et al. (2016). A callable ``factory(n_units) -> torch.nn.Module`` (e.g.
        an importable ``nn.Module`` subclass) supplies your own, mapping ``(z_tilde, u)``
        to ``z_hat`` element-wise; see :func:`sklearn_ladder._combinators.make_combinator`.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Non-linearity φ of the hidden layers (the output is always a softmax);
        ``"leaky_relu"`` has slope 0.1, as in the paper's CIFAR-10 network.
    top_scale : bool, default=True
        Whether the top layer has the learned scale γ of its logits (the paper drops it
        for CIFAR-10's Conv-Large).
    batch_size : int, default=100
        Rows of each kind per update: every update sees ``batch_size`` labeled and
        ``batch_size`` unlabeled rows (capped at the number of rows). At least 2, since
        batch normalisation needs two rows.
    max_epochs : int, default=150
        Epochs of training; an epoch is one pass over all rows (the unlabeled pool).
    learning_rate : float, default=0.002
        Adam's initial learning rate.
    lr_decay_start : float, default=0.67
        Fraction of the epochs after which the learning rate decays linearly to 0.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Torch device to train and predict on; ``"auto"`` takes CUDA when available.
    fp32_precision : {"ieee", "bf16"}, default="ieee"
        Internal precision of the float32 matrix products and convolutions of training on
        the CPU (oneDNN's ``fp32_precision``, set during each update and restored after).
        ``"bf16"`` lets them compute with bfloat16 arithmetic where the CPU has it
        (AVX512-BF16 or AMX): on such a CPU an update of the paper's MLP is about 1.4x
        faster, with the same MNIST test error after a shortened schedule (see the
        benchmarks page); convolutional ladders do not gain. It changes the arithmetic,
        so it is off by default; parameters, the element-wise work and predictions stay in
        float32 / float64. CPU training only.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the noise and the batch sampling. The global
        torch random state is left untouched. On CPU an int gives identical predictions
        across fits and processes (same torch build and thread count). On CUDA, some
        kernels (atomic adds in reductions and index backward) are not deterministic, so
        results vary slightly between runs unless
        ``torch.use_deterministic_algorithms(True)`` is set by the caller.
    verbose : int, default=0
        ``1`` prints one line of costs per epoch.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted network for ``max_epochs`` more
        epochs (with a fresh learning-rate schedule) instead of starting anew. The
        network's structure and the classes must stay the same.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows (stratified by class for the
        classifier; they stay in the unlabeled pool), stop when their score (accuracy, or
        R² for the regressor) has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        and keep the best epoch's weights. The score is in ``history_`` as
        ``valid_score``.
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out when ``early_stopping`` is True; it must
        leave at least one row of every class on each side.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    tol : float, default=1e-4
        Smallest improvement of the validation score that counts.
    feature_layer : int, default=None
        Layer whose clean activations ``transform`` returns: 1..L-1 are the hidden layers,
        L the logits; ``None`` is the last hidden layer (L - 1).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra :mod:`skorch.callbacks` run during training, after the ladder's own.

"""

# The fitted attributes every ladder estimator has, for the estimators' docstrings.
ATTRIBUTES_DOC = """    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    denoising_costs_ : ndarray of shape (L + 1,)
        The λ values used.
    noise_std_ : ndarray of shape (L + 1,)
        The σ values used.
    net_ : LadderNet
        The trained skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``supervised_cost``, ``denoising_cost``,
        ``denoising_cost_<l>`` (λ_l C_l), ``lr`` and ``dur``.
    n_iter_ : int
        Number of epochs trained.
"""


def fill_docstring(cls):
    """Put the shared parameter and attribute documentation into ``cls.__doc__``."""
    cls.__doc__ = (cls.__doc__.replace("    %(parameters)s\n", PARAMETERS_DOC)
                   .replace("    %(attributes)s\n", ATTRIBUTES_DOC))
    return cls


class BaseLadder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the ladder estimators; not for direct use."""

    _output = "softmax"
    _supervised_cost = "cross_entropy"

    _parameter_constraints: dict = {
        "layers": ["array-like", StrOptions(set(PRESETS))],
        "input_shape": ["array-like", None],
        "mode": [StrOptions(set(_MODES))],
        "denoising_costs": ["array-like", None],
        "noise_std": [Interval(Real, 0, None, closed="left"), "array-like"],
        "combinator": [StrOptions(set(COMBINATOR_NAMES)), callable],
        "activation": [StrOptions({"relu", "leaky_relu", "tanh", "sigmoid"})],
        "top_scale": ["boolean"],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_decay_start": [Interval(Real, 0, 1, closed="both")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "fp32_precision": [StrOptions({"ieee", "bf16"})],
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

    def __init__(
        self,
        layers=(1000, 500, 250, 250, 250),
        *,
        input_shape=None,
        mode="full",
        denoising_costs=None,
        noise_std=0.3,
        combinator="gauss",
        activation="relu",
        top_scale=True,
        batch_size=100,
        max_epochs=150,
        learning_rate=0.002,
        lr_decay_start=0.67,
        device="cpu",
        fp32_precision="ieee",
        random_state=None,
        verbose=0,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        feature_layer=None,
        callbacks=None,
    ):
        self.layers = layers
        self.input_shape = input_shape
        self.mode = mode
        self.denoising_costs = denoising_costs
        self.noise_std = noise_std
        self.combinator = combinator
        self.activation = activation
        self.top_scale = top_scale
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.lr_decay_start = lr_decay_start
        self.device = device
        self.fp32_precision = fp32_precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.feature_layer = feature_layer
        self.callbacks = callbacks

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
        if isinstance(self.layers, str):
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
    def fit(self, X, y):
        """Fit the ladder on labeled and unlabeled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, all of them: labeled and unlabeled.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; an unlabeled row is marked by ``-1`` (classifier) or NaN (regressor).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid parameters or data; the estimator is left as it was.
        FloatingPointError
            If a cost becomes NaN or infinite during training.
        """
        # Validation sets attributes (n_features_in_, classes_, ...) before later checks
        # can fail; a failed fit must leave a fitted estimator exactly as it was.
        state = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit(self, X, y):
        device = _resolve_device(self.device)
        if device != "cpu" and self.fp32_precision != "ieee":
            raise ValueError(
                f"fp32_precision={self.fp32_precision!r} sets oneDNN's precision for CPU "
                f"training; with device={device!r} use fp32_precision='ieee'."
            )
        warm = self.warm_start and hasattr(self, "net_")
        previous_targets = self._target_signature() if warm else None
        X = _densify(validate_data(self, X, dtype=np.float32, accept_sparse=True,
                                   reset=not warm))
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None.")
        check_consistent_length(X, y)
        input_shape = self._input_shape(X.shape[1])
        y_encoded = self._prepare_targets(y)
        if warm and not _same(previous_targets, self._target_signature()):
            raise ValueError(
                "warm_start=True continues training the same network, but the targets "
                "(classes or outputs) changed; set warm_start=False to train anew."
            )
        layers = self._encoder_layers(input_shape, self._n_outputs())
        n_layers = len(layers)
        noise = _per_layer("noise_std", self.noise_std, n_layers + 1)
        if self.denoising_costs is None:
            costs = np.asarray(_default_denoising_costs(self.mode, n_layers))
        else:
            costs = _per_layer("denoising_costs", self.denoising_costs, n_layers + 1)
            _check_mode_structure(self.mode, costs)
        module_params = {
            "input_shape": input_shape, "layers": layers, "denoising_costs": costs.tolist(),
            "noise_std": noise.tolist(), "combinator": self.combinator,
            "activation": self.activation, "output": self._output,
            "top_scale": self.top_scale,
        }
        random_state = check_random_state(self.random_state)
        torch_seed, sampler_seed = random_state.randint(np.iinfo(np.int32).max, size=2)
        callbacks = [("lr_schedule", LinearDecayLR(self.lr_decay_start)),
                     ("cost_terms", CostTerms())]
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
        callbacks += list(self.callbacks or [])
        training = {"lr": self.learning_rate, "max_epochs": self.max_epochs,
                    "batch_size": self.batch_size, "verbose": self.verbose,
                    "callbacks": callbacks, "device": device,
                    "fp32_precision": self.fp32_precision}
        if warm:
            self._check_warm_start(module_params)
            net = self.net_
            net.set_params(**training)
            torch_seed += len(net.history)  # new noise for the new epochs
        else:
            net = LadderNet(
                module=Ladder,
                **{f"module__{key}": value for key, value in module_params.items()},
                criterion=LadderCost,
                criterion__denoising_costs=costs.tolist(),
                criterion__supervised=self._supervised_cost,
                optimizer=torch.optim.Adam,
                optimizer__betas=(0.9, 0.999),
                optimizer__eps=1e-8,
                # One fused kernel per step instead of a dozen passes over every weight.
                optimizer__fused=True,
                train_split=None,
                callbacks__print_log__keys_ignored=[f"denoising_cost_{l}"
                                                    for l in range(n_layers + 1)],
                sampler_seed=int(sampler_seed),
                **training,
            )
        cuda_devices = [torch.device(device)] if device.startswith("cuda") else []
        # Seed torch for this fit only: the caller's global random state is restored after.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(int(torch_seed))
            if warm:
                net.partial_fit(X, y_encoded)
            else:
                net.fit(X, y_encoded)

        self.denoising_costs_ = costs
        self.noise_std_ = noise
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        return self

    def _hold_out(self, y_encoded: np.ndarray, random_state) -> np.ndarray:
        """Indices of a validation share of the labeled rows (stratified for classes)."""
        labeled = labeled_rows(y_encoded)
        classes = y_encoded[labeled] if y_encoded.dtype.kind in "iu" else None
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
    def _prepare_targets(self, y) -> np.ndarray:
        """Validate ``y``, set the target attributes, return the targets the net trains on.

        Unlabeled rows are -1 in an integer array or NaN in a float array.
        """
        raise NotImplementedError

    def _target_signature(self):
        """What must not change across a warm start (classes, number of outputs)."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    @staticmethod
    def _held_out_score(outputs: np.ndarray, y: np.ndarray) -> float:
        """Score of the net's outputs on held-out targets, higher is better."""
        raise NotImplementedError

    # ------------------------------------------------------------------ predict
    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        return _densify(validate_data(self, X, dtype=np.float32, accept_sparse=True,
                                      reset=False))

    def _outputs(self, X) -> torch.Tensor:
        """The clean encoder's top outputs (logits or regression values), float64."""
        X = self._validated(X)  # first: it raises NotFittedError before net_ is touched
        return self.net_.forward(X, training=False)

    def _feature_layer(self) -> int:
        n_layers = self.net_.module_.n_layers
        layer = n_layers - 1 if self.feature_layer is None else self.feature_layer
        if layer > n_layers:
            raise ValueError(
                f"feature_layer={self.feature_layer} but this ladder has layers 1..{n_layers} "
                f"({n_layers - 1} hidden layers, then the logits)."
            )
        return layer

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
            The reconstruction, float64.
        """
        X = self._validated(X)
        module = self.net_.module_
        rows = torch.as_tensor(X, device=self.net_.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(check_random_state(self.random_state).randint(2**31 - 1))
            return module.reconstruct(rows, noisy=add_noise).cpu().numpy()

    def _score_kept_rows(self, metric, X, y, keep: np.ndarray, sample_weight) -> float:
        """``metric(y, predict(X))`` over the rows in ``keep`` (the labeled ones)."""
        rows = np.flatnonzero(keep)
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
        tags.input_tags.sparse = True  # densified, with a warning, up to MAX_DENSE_ENTRIES
        return tags
