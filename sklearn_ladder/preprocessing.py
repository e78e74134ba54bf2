"""Input preprocessing from the ladder paper: contrast normalisation and ZCA whitening.

Rasmus et al. (2015) preprocess CIFAR-10 with global contrast normalisation followed by
ZCA whitening before the ladder sees it. Both are plain scikit-learn transformers, so they
go in a :class:`~sklearn.pipeline.Pipeline` in front of
:class:`~sklearn_ladder.LadderClassifier`. Neither looks at ``y``: in such a pipeline they
are fitted on every row passed to ``fit``, the unlabeled ones (``y == -1``) included, which
is what a semi-supervised learner wants from its unsupervised preprocessing.
"""

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ContrastNormalization", "ZCAWhitening"]


class ZCAWhitening(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """ZCA whitening with a regularised covariance, as in the ladder paper's code.

    The data are centred and multiplied by the symmetric matrix
    ``U diag(1 / sqrt(S + regularization)) U^T``, where ``U diag(S) U^T`` is the
    eigendecomposition of the (biased, ``1/n``) covariance of the training data. Unlike
    PCA whitening, every component is kept and the result is rotated back into the input
    space, so whitened images still look like images (edges enhanced) and each output
    feature keeps the meaning, and the name, of the input feature it came from.

    ``y`` is ignored: the whitening is fitted on all rows given, labeled and unlabeled.
    A convolutional ladder (``input_shape``) takes whitened images as they are; in front
    of a dense ladder pass ``input_scaling=None``, since ``"auto"`` would map the
    whitened table to [0, 1], which did far worse on digits (44.3 against 14.1 % test
    error; ``examples/pipeline_whitening.py``).

    Parameters
    ----------
    regularization : float, default=0.1
        Added to every eigenvalue of the covariance before the inverse square root. It
        stops directions of tiny variance (mostly noise) from being blown up; 0.1 is the
        value of the paper's code, meaningful for contrast-normalised data (see
        :class:`ContrastNormalization`). With 0 the output covariance is the identity,
        except that directions of (numerically) zero variance are mapped to zero rather
        than divided by zero.
    copy : bool, default=True
        If False, ``transform`` centres a float array of the right type in place instead of
        copying it first.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data, float64.
    components_ : ndarray of shape (n_features, n_features)
        The symmetric whitening matrix, float64; ``transform(X)`` is
        ``(X - mean_) @ components_``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` had string column names.

    See Also
    --------
    ContrastNormalization : The per-sample normalisation the paper applies first.
    sklearn.decomposition.PCA : With ``whiten=True``, whitening that drops the rotation
        back and may drop components.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ladder.preprocessing import ZCAWhitening
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> zca = ZCAWhitening(regularization=0.0).fit(X)
    >>> zca.mean_
    array([1.5, 0.5])
    >>> X_white = zca.transform(X)
    >>> np.allclose(np.cov(X_white, rowvar=False, bias=True), np.eye(2))
    True
    >>> np.allclose(zca.inverse_transform(X_white), X)
    True
    """

    _parameter_constraints: dict = {
        "regularization": [Interval(Real, 0, None, closed="left")],
        "copy": ["boolean"],
    }

    def __init__(self, regularization: float = 0.1, copy: bool = True):
        self.regularization = regularization
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> "ZCAWhitening":
        """Compute the mean and the whitening matrix from all rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, labeled and unlabeled rows alike.
        y : None
            Ignored; present so the transformer fits in a pipeline whose ``y`` marks
            unlabeled rows with -1.

        Returns
        -------
        self : ZCAWhitening
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        # float64 throughout: the covariance of float32 images loses the small eigenvalues,
        # which are exactly the ones whitening amplifies most.
        X = X.astype(np.float64, copy=False)
        self.mean_ = X.mean(axis=0)
        X_centred = X - self.mean_
        covariance = X_centred.T @ X_centred / X.shape[0]
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        # eigh returns tiny negative values for a rank-deficient covariance; treat everything
        # below the rounding level as exactly zero variance.
        tol = max(eigenvalues.max(initial=0.0), 0.0) * X.shape[1] * np.finfo(np.float64).eps
        eigenvalues = np.where(eigenvalues > tol, eigenvalues, 0.0)
        scaled = eigenvalues + self.regularization
        # Only reachable with regularization=0: a direction with no variance carries nothing to
        # whiten, so it is dropped (pseudo-inverse) instead of producing inf/NaN.
        positive = scaled > 0
        safe = np.where(positive, scaled, 1.0)
        inv_sqrt = np.where(positive, 1.0 / np.sqrt(safe), 0.0)
        sqrt = np.where(positive, np.sqrt(safe), 0.0)
        self.components_ = (eigenvectors * inv_sqrt) @ eigenvectors.T
        # Kept so inverse_transform needs no matrix inversion (and no pinv of a singular one).
        self._dewhitening = (eigenvectors * sqrt) @ eigenvectors.T
        return self

    def transform(self, X: ArrayLike, copy: bool | None = None) -> np.ndarray:
        """Centre and whiten ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to whiten.
        copy : bool or None, default=None
            Overrides ``self.copy`` when not None.

        Returns
        -------
        X_white : ndarray of shape (n_samples, n_features)
            Whitened data, float32 if ``X`` was float32, float64 otherwise.
        """
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        X = validate_data(self, X, dtype=[np.float64, np.float32], copy=copy, reset=False)
        # Casting the fitted float64 statistics down keeps float32 input float32 (the ladder
        # trains in float32 anyway) instead of silently doubling the memory of the data.
        X -= self.mean_.astype(X.dtype, copy=False)
        return X @ self.components_.astype(X.dtype, copy=False)

    def inverse_transform(self, X: ArrayLike, copy: bool | None = None) -> np.ndarray:
        """Map whitened data back to the input space.

        Exact up to rounding when every direction was kept, i.e. always unless
        ``regularization=0`` and the training data were rank-deficient.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Whitened data.
        copy : bool or None, default=None
            Accepted for symmetry with ``transform``; the result is always a new array.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Data in the input space, with the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        # check_array, not validate_data: whitened data carry no input feature names to check.
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        dewhitening = self._dewhitening.astype(X.dtype, copy=False)
        return X @ dewhitening + self.mean_.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class ContrastNormalization(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Per-sample (global) contrast normalisation: centre each row, then rescale it.

    Each row has its own mean subtracted and is then scaled to Euclidean norm ``norm``.
    This removes per-image brightness and contrast, so that what follows (ZCA whitening)
    sees images on a common scale.

    Why ``norm=55``: the ladder paper's CIFAR-10 preprocessing scales each 3072-value image
    to norm 55, i.e. a per-value standard deviation of about 1 (55 ≈ sqrt(3072)). Only on that
    scale does the ``0.1`` added to the covariance's eigenvalues by :class:`ZCAWhitening`
    act as a mild regulariser: on data with a much smaller (larger) per-feature variance the
    same 0.1 would swamp (not touch) the signal. For inputs of another size, ``norm`` of
    about ``sqrt(n_features)`` keeps that meaning.

    The transformer is stateless: ``fit`` only validates ``X`` and records the number and
    names of its features.

    Parameters
    ----------
    norm : float, default=55.0
        Euclidean norm of every output row (except constant rows, see ``eps``).
    eps : float, default=1e-8
        A row whose centred norm is below ``eps`` (a constant row, up to rounding) has no
        contrast to normalise; it becomes all zeros instead of being divided by (almost)
        zero.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` had string column names.

    See Also
    --------
    ZCAWhitening : The whitening the paper applies afterwards.
    sklearn.preprocessing.Normalizer : Per-sample scaling to unit norm without centring.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ladder.preprocessing import ContrastNormalization
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]])
    >>> ContrastNormalization(norm=1.0).fit_transform(X).round(4)
    array([[-0.6708, -0.2236,  0.2236,  0.6708],
           [ 0.    ,  0.    ,  0.    ,  0.    ]])
    """

    _parameter_constraints: dict = {
        "norm": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, norm: float = 55.0, eps: float = 1e-8):
        self.norm = norm
        self.eps = eps

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> "ContrastNormalization":
        """Validate ``X`` and record its features; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : ContrastNormalization
            The transformer.
        """
        validate_data(self, X, dtype=[np.float64, np.float32])
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Centre each row and scale it to norm ``norm``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to normalise.

        Returns
        -------
        X_normalised : ndarray of shape (n_samples, n_features)
            Normalised rows, float32 if ``X`` was float32, float64 otherwise.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], copy=True, reset=False)
        X -= X.mean(axis=1, keepdims=True)
        row_norms = np.linalg.norm(X, axis=1, keepdims=True)
        flat = row_norms < self.eps
        # Dividing by 1 then zeroing keeps constant rows exactly zero: the centred values of a
        # constant row are rounding noise (e.g. 1e-17), not a direction worth scaling up.
        X *= self.norm / np.where(flat, 1.0, row_norms).astype(X.dtype, copy=False)
        X[flat[:, 0]] = 0.0
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
