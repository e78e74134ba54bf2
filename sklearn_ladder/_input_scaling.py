"""How the network's inputs are scaled: what ``input_scaling`` looks at in X, and the
scaler a fit keeps (``input_scaler_``).

The noise σ and the weights λ are absolute: they assume inputs of about unit scale, as
the paper's pixels in [0, 1] are, and features whose values spread over that range. Two
things in a user's X break the assumption: a scale far from one (raw measurements), and
a feature whose tail reaches far beyond the bulk of its values (skewed amounts, counts,
a mistyped row): mapped to [0, 1] by its minimum and maximum, such a feature's bulk
shrinks to a sliver the noise drowns. Each needs its own remedy; this module names both
and builds the scaler that applies them.
"""

import contextlib
import contextvars
import copy
import math
import weakref

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer
from sklearn.utils.validation import check_is_fitted

from ._warnings import warn_user

__all__ = ["InputScaleWarning", "InputScaler", "SmallValuesMinMaxScaler", "feature_spread",
           "fit_input_scaler", "root_mean_square", "scale_problem", "shared_fits",
           "warn_as_given"]

# X is of the unit scale that σ and λ assume when no feature's root mean square exceeds
# UNIT_FEATURE_RMS and X's as a whole is at least MIN_INPUT_RMS (or X is all zeros):
# inputs in [0, 1] (MNIST's pixels: 0.34; the small tables of the benchmarks page mapped
# to [0, 1]: 0.08 to 0.6), in [-1, 1], standardised (1 per feature) and whitened inputs
# are. input_scaling="auto" scales other inputs to [0, 1] (and, in a table, those
# beyond [0, 1] too: UNIT_RANGE_SLACK). Below the line are sparse rows of small
# values: TF-IDF rows of unit norm have a root mean square of 1/√d (0.032 on 1,000
# words). Taken as given, all but their few far-tailed columns, the mix left the ladder
# at 34.7 % test error (seed 0), mapped to [0, 1] at 3.9 % (seeds 0-4; both with σ_0
# capped at the inputs' root mean square, noise_std="auto"; the benchmarks page,
# "Sparse rows of small values").
UNIT_FEATURE_RMS = 2.0
MIN_INPUT_RMS = 0.1
# In a table, "auto" maps X to [0, 1] also where it is of unit scale but its values
# leave [0, 1] by more than UNIT_RANGE_SLACK (standardised, whitened, [-1, 1], Gaussian
# features as generated): every default (σ, λ, the network's width, the labeled rows'
# statistics) was chosen on tables scaled to [0, 1], and standardised tables as given did
# far worse (the benchmarks page, "Standardised tables": wine with 3 labels per class
# 24.4 % test error against 3.0 %, two moons 25.7 against 12.7; behind on 7 of 10
# tables, ahead on the three whose class is read from a radius, e.g. circles 5.3 against
# 17.7). The slack lets a MinMaxScaler's rounding count as inside.
UNIT_RANGE_SLACK = 1e-3
# A feature's tail is far when its extreme value lies more than FAR_TAIL times the width
# of the feature's middle 90 % beyond that middle: then a min-max map leaves the middle
# 90 % less than a third of [0, 1]. The median feature reaches (1,000 rows unless said):
# Gaussian 0.54 (at most 1.0 on 100,000 rows), exponential 1.5, Laplace 1.1 (2.0 on
# 50,000 rows: the line runs through it), Student's t with 3 degrees of freedom 3.0,
# log-normal (σ = 1) 3.7, a value mistyped a thousandfold hundreds. Missing a far tail
# costs much, mapping a moderate one by its distribution function little (the benchmarks
# page, "Far tails": log-normal amounts 18.9 % test error with this line, 27.9 with 3,
# 49.2 with 5, 56.5 min-max; breast cancer, whose largest tails reach 2.5 to 4.2, 8.0,
# 7.2, 6.6 and 6.6), hence a line on the low side. Yet every feature mapped so
# (input_scaling="quantile") did worse than min-max on 4 of 6 tables without far tails:
# "auto" maps the far-tailed features alone. A map that keeps a tail's reach (asinh
# around the median) did worse than the distribution function on counts and on mistyped
# values (same page).
FAR_TAIL = 2.0
# A feature's minimum shared by at least this fraction of the rows is a floor (zero
# counts, black pixels), not part of the tail: the tails are judged on the other values.
TIED_FLOOR = 0.05
# Rows looked at for a feature's middle (its extremes come from every row).
TAIL_SAMPLE_ROWS = 10_000
# Fewer values than this above a floor tell nothing about a tail.
MIN_TAIL_VALUES = 20
# Rows read at a time where a whole float64 copy of X is to be avoided.
CHUNK_ROWS = 4096
# A feature is constant to the min-max map when its range is within this many machine
# epsilons of its largest magnitude (of 1 where that is larger): its values differ by
# rounding alone. scikit-learn's MinMaxScaler draws the line at 10 epsilons absolute,
# which zeroes every float32 feature whose range is below 1.2e-6 (lengths in metres,
# rates of rare events): wine's features as float32 at a standard deviation of 1e-7,
# 30 labels, 10 epochs, were classified no better than by chance (23 % of its rows
# right, against 94 % at unit scale and with this line).
CONSTANT_RANGE_EPS = 10


class InputScaleWarning(UserWarning):
    """Warned by ``fit`` with ``input_scaling=None`` when X is far from the unit scale
    that the noise and λ assume, or some feature's tail reaches far beyond its bulk.

    The message names the fix: ``input_scaling="auto"`` (the default), or a
    ``MinMaxScaler``, ``StandardScaler`` or ``QuantileTransformer`` in a ``Pipeline``
    (and a smaller λ_0 with standardised inputs). Silence it with
    ``warnings.filterwarnings("ignore", category=InputScaleWarning)`` when the scale is
    intended.
    """


def _feature_mean_squares(X: np.ndarray, centre: np.ndarray | None = None,
                          chunk: int = CHUNK_ROWS) -> np.ndarray:
    """Each column's mean square (about ``centre``, else about 0), summed in float64 a
    chunk of rows at a time (no float64 copy of a large X)."""
    total = np.zeros(X.shape[1])
    for start in range(0, len(X), chunk):
        rows = X[start:start + chunk].astype(np.float64)
        if centre is not None:
            rows -= centre
        total += np.einsum("ij,ij->j", rows, rows)
    return total / max(len(X), 1)


def root_mean_square(X: np.ndarray) -> float:
    """X's root mean square over every entry (0 for an empty X)."""
    return math.sqrt(float(_feature_mean_squares(X).mean())) if X.size else 0.0


def feature_spread(X: np.ndarray) -> float:
    """The root mean square of X's feature standard deviations (0 for an empty X): how
    far the features' values spread, on average, about their means."""
    if not X.size:
        return 0.0
    means = np.mean(X, axis=0, dtype=np.float64)
    return math.sqrt(float(_feature_mean_squares(X, centre=means).mean()))


def scale_problem(X: np.ndarray) -> str | None:
    """What puts X far from the unit scale that σ and λ assume (a phrase for messages),
    or None when nothing does (see ``UNIT_FEATURE_RMS``, ``MIN_INPUT_RMS``)."""
    if X.size == 0:
        return None
    mean_squares = _feature_mean_squares(X)
    worst = int(np.argmax(mean_squares))
    rms = math.sqrt(float(mean_squares.mean()))
    if math.sqrt(mean_squares[worst]) > UNIT_FEATURE_RMS:
        return (f"feature {worst} of X has a root mean square of "
                f"{math.sqrt(mean_squares[worst]):.3g} (X as a whole {rms:.3g})")
    if 0 < rms < MIN_INPUT_RMS:
        return f"X has a root mean square of {rms:.3g}"
    return None


def within_unit_interval(X: np.ndarray) -> bool:
    """Whether every value of X lies in [0, 1] (up to ``UNIT_RANGE_SLACK``)."""
    return X.size == 0 or (X.min() >= -UNIT_RANGE_SLACK and X.max() <= 1 + UNIT_RANGE_SLACK)


def tail_ratios(X: np.ndarray) -> np.ndarray:
    """Each feature's farther tail (from its extreme value to its middle 90 %) in widths
    of that middle, judged above a tied floor (``TIED_FLOOR``); 0 where the middle has no
    width or too few values lie above the floor."""
    if X.size == 0:
        return np.zeros(X.shape[1])
    step = max(len(X) // TAIL_SAMPLE_ROWS, 1)
    sample = np.sort(X[::step].astype(np.float64), axis=0)
    m, columns = len(sample), np.arange(X.shape[1])
    floor = sample[0]
    tied = (sample == floor).sum(axis=0)
    above = np.where(tied >= TIED_FLOOR * m, tied, 0)  # rows of the floor left out
    n = m - above
    low = sample[np.minimum(above, m - 1), columns]
    q05 = sample[np.minimum(above + np.floor(0.05 * (n - 1)).astype(int), m - 1), columns]
    q95 = sample[np.minimum(above + np.ceil(0.95 * (n - 1)).astype(int), m - 1), columns]
    low = np.where(above > 0, low, X.min(axis=0))
    tail = np.maximum(X.max(axis=0) - q95, q05 - low)
    width = q95 - q05
    ratio = np.divide(tail, width, out=np.zeros_like(width), where=width > 0)
    return np.where(n >= MIN_TAIL_VALUES, ratio, 0.0)


def far_tailed_features(X: np.ndarray) -> np.ndarray:
    """The indices of the features whose tail reaches more than ``FAR_TAIL`` widths of
    their middle 90 % beyond it."""
    return np.flatnonzero(tail_ratios(X) > FAR_TAIL)


def tail_problem(X: np.ndarray) -> str | None:
    """The farthest tail of X when it is far (a phrase for messages), or None."""
    ratios = tail_ratios(X)
    worst = int(np.argmax(ratios)) if ratios.size else 0
    if not ratios.size or ratios[worst] <= FAR_TAIL:
        return None
    return (f"feature {worst} of X reaches {ratios[worst]:.3g} times the width of its "
            f"middle 90 % beyond it ({np.sum(ratios > FAR_TAIL)} feature(s) do more than "
            f"{FAR_TAIL:g})")


def warn_as_given(X: np.ndarray, problem: str | None, table: bool) -> None:
    """Warn where X, taken as given, is far from unit scale (``problem``, from
    :func:`scale_problem`) or, in a ``table``, far tailed."""
    if (problem := problem or (tail_problem(X) if table else None)) is None:
        return
    warn_user(
        f"{problem}: the ladder's noise (noise_std, σ) and denoising_costs (λ) assume "
        f"inputs of about unit scale whose values spread over it, so it may learn little. "
        f"Let the ladder scale X (input_scaling='auto', the default), or scale it first, "
        f"in a Pipeline: MinMaxScaler() (inputs in [0, 1], for which the default λ_0 = "
        f"1000 is meant; QuantileTransformer() for far tails) or StandardScaler() with a "
        f"smaller λ_0 (e.g. denoising_costs=[10, 10, 0.1, ...]).",
        InputScaleWarning,
    )


# The fits of fit_input_scaler within a shared_fits() block, by X and setting: (a weak
# reference to X, so that no later array with X's id is taken for it; the fit).
_SHARED_FITS = contextvars.ContextVar("sklearn_ladder_shared_fits", default=None)


@contextlib.contextmanager
def shared_fits():
    """Within the block, :func:`fit_input_scaler` looks at each X (array object) once
    per setting and hands every later call a copy of that fit (and warns, where X is
    taken as given, once): what lets a batch of estimators planned on one X (the
    candidates of a search, the seeds of a table) skip the work repeated for each."""
    token = _SHARED_FITS.set({})
    try:
        yield
    finally:
        _SHARED_FITS.reset(token)


def fit_input_scaler(X: np.ndarray, input_scaling: str | None,
                     table: bool) -> "InputScaler | None":
    """The map of X's features that ``input_scaling`` asks for, fitted on X, or None
    where the network takes X as given (then warns where X is far from unit scale or,
    in a ``table``, far tailed). Within :func:`shared_fits`, a copy of the fit made
    there for the same X and setting."""
    fits = _SHARED_FITS.get()
    if fits is None:
        return _fitted_scaler(X, input_scaling, table)
    key = (id(X), input_scaling, table)
    if key not in fits or fits[key][0]() is not X:
        fits[key] = (weakref.ref(X), _fitted_scaler(X, input_scaling, table))
    return copy.deepcopy(fits[key][1])


def _fitted_scaler(X: np.ndarray, input_scaling: str | None,
                   table: bool) -> "InputScaler | None":
    if input_scaling == "minmax":
        return InputScaler().fit(X)
    if input_scaling == "quantile":
        return InputScaler(minmax=False, quantile_features=np.arange(X.shape[1])).fit(X)
    problem = scale_problem(X)
    if input_scaling is None:
        warn_as_given(X, problem, table)
        return None
    far = far_tailed_features(X) if table else np.array([], dtype=np.intp)
    minmax = problem is not None or (table and not within_unit_interval(X))
    if not minmax and not far.size:
        return None
    return InputScaler(minmax=minmax, quantile_features=far).fit(X)


class SmallValuesMinMaxScaler(MinMaxScaler):
    """``MinMaxScaler`` that maps features of small values too: a feature counts as
    constant (and is mapped to 0) only when its range is within rounding of its values
    (``CONSTANT_RANGE_EPS``), not below an absolute line."""

    def partial_fit(self, X, y=None):
        super().partial_fit(X, y)
        limits = np.finfo(self.data_range_.dtype)
        magnitude = np.minimum(np.maximum(np.abs(self.data_min_), np.abs(self.data_max_)), 1)
        # A subnormal range would overflow its reciprocal: constant too.
        varies = self.data_range_ > np.maximum(CONSTANT_RANGE_EPS * limits.eps * magnitude,
                                               limits.tiny)
        low, high = self.feature_range
        self.scale_ = (high - low) / np.where(varies, self.data_range_, 1)
        self.min_ = low - self.data_min_ * self.scale_
        return self


class InputScaler(TransformerMixin, BaseEstimator):
    """The map from X's features to the network's inputs, fitted on the training rows.

    Each feature is mapped to [0, 1] by its minimum and maximum (``minmax``), by its
    empirical distribution function (the features in ``quantile_features``: the fraction
    of training values below a value, interpolated; monotone, so the order of the rows
    is kept), or left as given (neither).

    Parameters
    ----------
    minmax : bool
        Map the features not in ``quantile_features`` to [0, 1] by their minimum and
        maximum; else leave them as given.
    quantile_features : array-like of int
        The features mapped by their distribution function.
    """

    def __init__(self, minmax: bool = True, quantile_features=()):
        self.minmax = minmax
        self.quantile_features = quantile_features

    def fit(self, X, y=None):
        self.quantile_features_ = np.asarray(self.quantile_features, dtype=np.intp)
        self.n_features_in_ = X.shape[1]
        self.minmax_ = SmallValuesMinMaxScaler().fit(X) if self.minmax else None
        self.quantile_ = None
        if self.quantile_features_.size:
            self.quantile_ = QuantileTransformer(
                n_quantiles=min(1000, len(X)), subsample=None).fit(
                    X[:, self.quantile_features_])
        return self

    def kind(self) -> str:
        """The ``input_scaling`` this map is: "minmax" (every feature by its minimum and
        maximum), "quantile" (every feature by its distribution function), or "auto"
        (some other mix)."""
        check_is_fitted(self, "quantile_features_")
        if self.minmax_ is not None and not self.quantile_features_.size:
            return "minmax"
        if self.minmax_ is None and self.quantile_features_.size == self.n_features_in_:
            return "quantile"
        return "auto"

    def fitted_key(self) -> tuple:
        """What the fitted map is, as a hashable value: two scalers with equal keys map
        every X alike."""
        check_is_fitted(self, "quantile_features_")
        parts = [self.quantile_features_]
        if self.minmax_ is not None:
            parts += [self.minmax_.scale_, self.minmax_.min_]
        if self.quantile_ is not None:
            parts.append(self.quantile_.quantiles_)
        return (self.minmax_ is None, *(np.ascontiguousarray(p).tobytes() for p in parts))

    def transform(self, X):
        return self._map(X, "transform")

    def inverse_transform(self, X):
        return self._map(X, "inverse_transform")

    def network_inputs(self, X: np.ndarray) -> np.ndarray:
        """``transform(X)`` as float32, the network's dtype, mapped ``CHUNK_ROWS`` rows at
        a time in X's own precision (float64 X, kept so that a feature far from zero keeps
        its spread, gets no float64 copy)."""
        mapped = np.empty(X.shape, dtype=np.float32)
        for start in range(0, len(X), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            mapped[rows] = self.transform(X[rows])
        return mapped

    def _map(self, X, method: str):
        check_is_fitted(self, "quantile_features_")
        # X's own float precision (float32 rows stay float32: no float64 copy of X).
        result = (np.array(X, dtype=np.result_type(X, np.float32)) if self.minmax_ is None
                  else getattr(self.minmax_, method)(X))
        if self.quantile_ is not None:
            columns = self.quantile_features_
            result[:, columns] = getattr(self.quantile_, method)(
                np.asarray(X)[:, columns])
        return result
