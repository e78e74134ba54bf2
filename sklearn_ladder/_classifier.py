"""The scikit-learn face of the ladder: parameters, validation, labels, fit and predict."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping

from ._combinators import COMBINATOR_NAMES
from ._ladder import Ladder, LadderCost
from ._training import CostTerms, HeldOutAccuracy, LadderNet, LinearDecayLR

__all__ = ["LadderClassifier"]

UNLABELED = -1
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


def unlabeled_mask(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows marked unlabeled (the number -1; never a string)."""
    y = np.asarray(y)
    if y.dtype.kind in "US":
        return np.zeros(len(y), bool)
    if y.dtype == object:
        return np.array([isinstance(v, Real) and not isinstance(v, bool) and v == UNLABELED
                         for v in y], dtype=bool)
    return y == UNLABELED


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


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was asked for but torch sees no CUDA device (torch "
            f"{torch.__version__}); use device='cpu' or device='auto'."
        )
    return device


class LadderClassifier(ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin,
                       BaseEstimator):
    """Semi-supervised Ladder network classifier (Rasmus et al., NIPS 2015).

    A fully connected encoder is trained on the labeled rows (cross-entropy of its
    corrupted pass) while a decoder learns to denoise every layer of it on all rows,
    so the unlabeled rows shape the representation. Unlabeled rows are marked by
    ``y == -1``, as in :class:`sklearn.semi_supervised.SelfTrainingClassifier`.

    Parameters
    ----------
    layers : sequence of int, default=(1000, 500, 250, 250, 250)
        Widths of the hidden layers. The input and output widths come from the data, so
        the default is the paper's 784-1000-500-250-250-250-10 network on MNIST. A network
        with ``len(layers) = L - 1`` hidden layers has layers 0..L (input to softmax).
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
        Non-linearity φ of the hidden layers (the output is always a softmax).
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
        Hold out a stratified ``validation_fraction`` of the labeled rows (they stay in
        the unlabeled pool), stop when their accuracy has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out when ``early_stopping`` is True; it must
        leave at least one row of every class on each side.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    tol : float, default=1e-4
        Smallest improvement of the validation accuracy that counts.
    feature_layer : int, default=None
        Layer whose clean activations ``transform`` returns: 1..L-1 are the hidden layers,
        L the logits; ``None`` is the last hidden layer (L - 1).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra :mod:`skorch.callbacks` run during training, after the ladder's own.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labeled rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ladder import LadderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> y_semi = np.where(np.arange(len(y)) < 200, y, -1)   # 200 labels, rest unlabeled
    >>> clf = LadderClassifier(layers=[100, 50], max_epochs=3, random_state=0).fit(X, y_semi)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "layers": ["array-like"],
        "mode": [StrOptions(set(_MODES))],
        "denoising_costs": ["array-like", None],
        "noise_std": [Interval(Real, 0, None, closed="left"), "array-like"],
        "combinator": [StrOptions(set(COMBINATOR_NAMES)), callable],
        "activation": [StrOptions({"relu", "leaky_relu", "tanh", "sigmoid"})],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_decay_start": [Interval(Real, 0, 1, closed="both")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
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
        mode="full",
        denoising_costs=None,
        noise_std=0.3,
        combinator="gauss",
        activation="relu",
        batch_size=100,
        max_epochs=150,
        learning_rate=0.002,
        lr_decay_start=0.67,
        device="cpu",
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
        self.mode = mode
        self.denoising_costs = denoising_costs
        self.noise_std = noise_std
        self.combinator = combinator
        self.activation = activation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.lr_decay_start = lr_decay_start
        self.device = device
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
    def _hidden_layer_sizes(self) -> list[int]:
        layers = np.asarray(self.layers)
        if (layers.ndim != 1 or len(layers) == 0 or not np.issubdtype(layers.dtype, np.integer)
                or np.any(layers < 1)):
            raise ValueError(
                f"layers must be a non-empty sequence of positive integers (hidden widths), "
                f"got {self.layers!r}."
            )
        return layers.tolist()

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        """Set ``classes_`` from the labeled rows; return indices into it, -1 if unlabeled."""
        if y.dtype.kind in "US":
            if np.any(y == str(UNLABELED)):
                raise ValueError(
                    "y holds the string '-1'. Mark unlabeled rows with the integer -1 in an "
                    "object array, e.g. y = np.array(labels, dtype=object); y[mask] = -1."
                )
        if y.dtype.kind == "f":
            if np.any(~np.isfinite(y)):
                raise ValueError("y contains NaN or infinity.")
            if np.any(y != np.round(y)):
                raise ValueError(
                    "y holds continuous values (floats that are not whole numbers); a "
                    "classifier needs class labels (ints, strings, or integral floats), "
                    "with -1 for unlabeled."
                )
        labeled = ~unlabeled_mask(y)
        if not labeled.any():
            raise ValueError(
                "y has no labeled row: every entry is -1. The ladder needs at least one "
                "labeled row per class."
            )
        y_labeled = y[labeled]
        if y.dtype == object and len({type(v) for v in y_labeled}) > 1:
            raise ValueError("y mixes label types (e.g. strings and ints) among labeled rows.")
        check_classification_targets(y_labeled)
        self.classes_ = np.unique(y_labeled)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The labeled rows hold only one class ({self.classes_[0]!r}); a classifier "
                f"needs labeled rows of at least 2 classes."
            )
        encoded = np.full(len(y), UNLABELED, dtype=np.int64)
        encoded[labeled] = np.searchsorted(self.classes_, y_labeled)
        return encoded

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the ladder on labeled and unlabeled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, all of them: labeled and unlabeled.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row (in an object array when the
            labels are strings).

        Returns
        -------
        self : LadderClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid parameters or data; the estimator is left as it was.
        FloatingPointError
            If a cost becomes NaN or infinite during training.
        """
        # Validation sets attributes (n_features_in_, classes_) before later checks can
        # fail; a failed fit must leave a fitted estimator exactly as it was.
        state = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit(self, X, y):
        hidden = self._hidden_layer_sizes()
        n_layers = len(hidden) + 1
        noise = _per_layer("noise_std", self.noise_std, n_layers + 1)
        if self.denoising_costs is None:
            costs = np.asarray(_default_denoising_costs(self.mode, n_layers))
        else:
            costs = _per_layer("denoising_costs", self.denoising_costs, n_layers + 1)
            _check_mode_structure(self.mode, costs)
        device = _resolve_device(self.device)
        warm = self.warm_start and hasattr(self, "net_")
        previous_classes = self.classes_ if warm else None
        X, y = validate_data(self, X, y, dtype=np.float32, accept_sparse=True,
                             reset=not warm)
        X = _densify(X)
        y_encoded = self._encode_targets(y)
        module_params = {
            "n_features": X.shape[1], "hidden_layer_sizes": hidden,
            "n_classes": len(self.classes_), "denoising_costs": costs.tolist(),
            "noise_std": noise.tolist(), "combinator": self.combinator,
            "activation": self.activation,
        }
        random_state = check_random_state(self.random_state)
        torch_seed, sampler_seed = random_state.randint(np.iinfo(np.int32).max, size=2)
        callbacks = [("lr_schedule", LinearDecayLR(self.lr_decay_start)),
                     ("cost_terms", CostTerms())]
        if self.early_stopping:
            y_encoded, held_out = self._hold_out(y_encoded, random_state)
            callbacks += [
                ("valid_acc", HeldOutAccuracy(X[held_out], y_encoded[held_out])),
                ("early_stopping", EarlyStopping(
                    monitor="valid_acc", lower_is_better=False, patience=self.n_iter_no_change,
                    threshold=self.tol, threshold_mode="abs", load_best=True)),
            ]
            y_encoded[held_out] = UNLABELED  # still in the unlabeled pool
        callbacks += list(self.callbacks or [])
        training = {"lr": self.learning_rate, "max_epochs": self.max_epochs,
                    "batch_size": self.batch_size, "verbose": self.verbose,
                    "callbacks": callbacks, "device": device}
        if warm:
            self._check_warm_start(module_params, previous_classes)
            net = self.net_
            net.set_params(**training)
            torch_seed += len(net.history)  # new noise for the new epochs
        else:
            net = LadderNet(
                module=Ladder,
                **{f"module__{key}": value for key, value in module_params.items()},
                criterion=LadderCost,
                criterion__denoising_costs=costs.tolist(),
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

    def _hold_out(self, y_encoded: np.ndarray, random_state) -> tuple[np.ndarray, np.ndarray]:
        """Indices of a stratified validation share of the labeled rows."""
        labeled = np.flatnonzero(y_encoded != UNLABELED)
        try:
            _, held_out = train_test_split(
                labeled, test_size=self.validation_fraction, stratify=y_encoded[labeled],
                random_state=random_state)
        except ValueError as exc:
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of "
                f"the {len(labeled)} labeled rows, which cannot keep a row of each of the "
                f"{len(self.classes_)} classes on both sides ({exc}). Raise "
                f"validation_fraction, label more rows, or set early_stopping=False."
            ) from exc
        return y_encoded.copy(), held_out

    def _check_warm_start(self, module_params: dict, previous_classes: np.ndarray) -> None:
        if not np.array_equal(previous_classes, self.classes_):
            self.classes_ = previous_classes
            raise ValueError(
                "warm_start=True continues training the same network, but the labeled classes "
                "changed; set warm_start=False to train anew."
            )
        fitted = self.net_.get_params_for("module")
        changed = sorted(k for k, v in module_params.items() if fitted[k] != v)
        if changed:
            raise ValueError(
                f"warm_start=True continues training the same network, but {changed} changed "
                f"since the last fit; set warm_start=False to train anew."
            )

    # ------------------------------------------------------------------ predict
    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        return _densify(validate_data(self, X, dtype=np.float32, accept_sparse=True,
                                      reset=False))

    def _logits(self, X) -> torch.Tensor:
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

    def _map_rows(self, fn, X: np.ndarray) -> np.ndarray:
        """Apply a row-wise tensor function to X in chunks on the net's device."""
        data = self.net_.get_dataset(X)
        chunks = [fn(rows).cpu() for rows, _ in self.net_.get_iterator(data)]
        return torch.cat(chunks).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the clean encoder with the test-time statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; each row sums to 1.
        """
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        best = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[best]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on the labeled rows; rows with ``y == -1`` are ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        y : array-like of shape (n_samples,)
            True labels, ``-1`` for rows that do not count.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        float
            Mean accuracy over the labeled rows.
        """
        y = np.asarray(y)
        keep = ~unlabeled_mask(y)
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        X_kept = X.iloc[keep] if hasattr(X, "iloc") else np.asarray(X)[keep]
        return accuracy_score(y[keep], self.predict(X_kept), sample_weight=weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = True  # densified, with a warning, up to MAX_DENSE_ENTRIES
        return tags
