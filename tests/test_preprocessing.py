import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ladder import LadderClassifier
from sklearn_ladder.preprocessing import ContrastNormalization, ZCAWhitening


def _cov(X):
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / X.shape[0]


@pytest.fixture
def correlated():
    """Full-rank data with correlated features whose variances span well around 0.1."""
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6)) * np.array([0.05, 0.1, 0.3, 1.0, 3.0, 10.0])[:, None]
    return rng.normal(size=(400, 6)) @ mixing + rng.normal(size=6)


def test_zca_unregularized_whitens_to_identity(correlated):
    zca = ZCAWhitening(regularization=0.0).fit(correlated)
    assert_allclose(_cov(zca.transform(correlated)), np.eye(6), atol=1e-10)
    # ZCA, not PCA whitening: the matrix is symmetric (rotation back into input space).
    assert_allclose(zca.components_, zca.components_.T, atol=1e-12)


def test_zca_regularized_output_spectrum(correlated):
    S = np.linalg.eigh(_cov(correlated))[0]
    zca = ZCAWhitening(regularization=0.1).fit(correlated)
    out_eigenvalues = np.linalg.eigvalsh(_cov(zca.transform(correlated)))
    assert_allclose(np.sort(out_eigenvalues), np.sort(S / (S + 0.1)), rtol=1e-8, atol=1e-12)
    # The 0.1 must actually bite on this data, or the check above would not see it.
    assert (S / (S + 0.1)).min() < 0.9


def test_zca_unregularized_rank_deficient_gives_no_nan():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(50, 3)), np.zeros((50, 1))])
    Xw = ZCAWhitening(regularization=0.0).fit_transform(X)
    assert np.isfinite(Xw).all()
    assert_allclose(Xw[:, 3], 0.0, atol=1e-12)


def test_zca_float32_mean_and_round_trip(correlated):
    X32 = correlated.astype(np.float32)
    zca = ZCAWhitening().fit(X32)
    Xw = zca.transform(X32)
    assert Xw.dtype == np.float32
    assert_allclose(Xw.mean(axis=0), 0.0, atol=1e-4)
    back = zca.inverse_transform(Xw)
    assert back.dtype == np.float32
    assert_allclose(back, X32, rtol=1e-4, atol=1e-3)

    zca64 = ZCAWhitening().fit(correlated)
    assert_allclose(zca64.transform(correlated).mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(zca64.inverse_transform(zca64.transform(correlated)), correlated, atol=1e-10)


def test_zca_copy(correlated):
    expected = ZCAWhitening().fit(correlated).transform(correlated)
    X = correlated.copy()
    ZCAWhitening().fit(X).transform(X)
    assert_array_equal(X, correlated)
    # copy=False centres in place but must give the same result.
    X = correlated.copy()
    assert_allclose(ZCAWhitening(copy=False).fit(X).transform(X), expected, atol=1e-12)
    assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("transformer", [ZCAWhitening(), ContrastNormalization(norm=1.0)])
def test_feature_names_and_pandas_output(transformer, correlated):
    columns = [f"f{i}" for i in range(correlated.shape[1])]
    df = pd.DataFrame(correlated, columns=columns)
    transformer.fit(df)
    assert_array_equal(transformer.get_feature_names_out(), columns)
    out = transformer.set_output(transform="pandas").transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == columns
    assert_allclose(out.to_numpy(), transformer.set_output(transform="default").transform(df))


def test_contrast_normalization_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=2.0, size=(20, 12))
    X[5] = 0.1  # constant row whose centred values are rounding noise, not exactly zero
    X[7] = 0.0
    Xn = ContrastNormalization(norm=55.0).fit_transform(X)
    assert np.isfinite(Xn).all()
    assert_array_equal(Xn[5], 0.0)
    assert_array_equal(Xn[7], 0.0)
    others = np.setdiff1d(np.arange(20), [5, 7])
    assert_allclose(Xn[others].mean(axis=1), 0.0, atol=1e-12)
    assert_allclose(np.linalg.norm(Xn[others], axis=1), 55.0, rtol=1e-12)
    # The input is not modified.
    assert X[0, 0] != Xn[0, 0]
    assert_array_equal(ContrastNormalization().fit(X).transform(X[:3]), Xn[:3])


def test_contrast_normalization_float32():
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    Xn = ContrastNormalization(norm=2.0).fit_transform(X)
    assert Xn.dtype == np.float32
    assert_allclose(np.linalg.norm(Xn, axis=1), 2.0, rtol=1e-5)


@pytest.mark.parametrize(
    "estimator",
    [
        ZCAWhitening(regularization=-0.1),
        ZCAWhitening(copy="yes"),
        ContrastNormalization(norm=0.0),
        ContrastNormalization(norm=-1.0),
        ContrastNormalization(eps=-1.0),
    ],
)
def test_bad_parameters_raise(estimator):
    with pytest.raises(ValueError):
        estimator.fit(np.ones((4, 3)))


@pytest.mark.parametrize(
    "front",
    [
        [ContrastNormalization(norm=1.0), ZCAWhitening()],
        [StandardScaler()],
        [PCA(whiten=True, n_components=20)],
    ],
    ids=["cn-zca", "standard-scaler", "pca-whiten"],
)
def test_pipeline_with_ladder(front, digits_50_labels):
    X, y = digits_50_labels
    pipe = make_pipeline(*front, LadderClassifier(layers=[30], max_epochs=2, random_state=0))
    pipe.fit(X, y)
    pred = pipe.predict(X[:40])
    assert pred.shape == (40,)
    assert set(pred) <= set(range(10))


def test_zca_in_pipeline_fits_on_unlabeled_rows_too(digits_50_labels):
    X, y = digits_50_labels
    pipe = make_pipeline(
        ContrastNormalization(norm=1.0),
        ZCAWhitening(),
        LadderClassifier(layers=[30], max_epochs=1, random_state=0),
    )
    pipe.fit(X, y)
    X_cn = ContrastNormalization(norm=1.0).fit_transform(X)
    zca = pipe.named_steps["zcawhitening"]
    assert_allclose(zca.mean_, X_cn.astype(np.float64).mean(axis=0), atol=1e-12)
    # Guards the check above: the labeled-only mean is measurably different.
    assert not np.allclose(zca.mean_, X_cn[y != -1].mean(axis=0), atol=1e-3)
