import numpy as np
import pytest
import torch
from _helpers import sparse_small_rows
from sklearn.base import clone
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_ladder import LadderClassifier, LadderRegressor
from sklearn_ladder._base import AUTO_WIDE_INPUT, MNIST_INPUT_SPREAD, PAPER_LAYERS
from sklearn_ladder._input_scaling import feature_spread

FAST = {"layers": [30, 20], "max_epochs": 2, "random_state": 0}


def test_fit_predict_shapes_and_probabilities(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(1)])
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.n_features_in_ == 64
    assert clf.denoising_costs_.tolist() == [1000, 10, 0.1, 0.1]


def test_log_probabilities_are_those_of_predict_proba_and_finite_where_they_underflow(
        digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(clf.predict_log_proba(X_test),
                               np.log(clf.predict_proba(X_test)), rtol=1e-9, atol=1e-12)
    far = X_test[:5] * 1e6  # logits far apart: some probabilities round to 0
    assert (clf.predict_proba(far) == 0).any()
    log_proba = clf.predict_log_proba(far)
    assert np.isfinite(log_proba).all()
    np.testing.assert_array_equal(log_proba.argmax(1), clf.predict_proba(far).argmax(1))


def test_same_random_state_gives_identical_predictions(digits_semi):
    X, y, X_test, _ = digits_semi
    a = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    b = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(a, b)
    c = LadderClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_random_state_alone(digits_semi):
    import torch

    X, y, _, _ = digits_semi
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LadderClassifier(**FAST).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_predictions_do_not_depend_on_batching(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    whole = clf.predict_proba(X_test)
    pieces = np.concatenate([clf.predict_proba(X_test[i:i + 7])
                             for i in range(0, len(X_test), 7)])
    np.testing.assert_allclose(whole, pieces, rtol=1e-12)


def test_string_labels_round_trip(digits_semi):
    X, y, X_test, _ = digits_semi
    # Names that sort like the digits, so that output unit k means the same class.
    names = np.array([f"digit {k}" for k in range(10)], dtype=object)
    y_str = np.where(y >= 0, names[np.maximum(y, 0)], -1).astype(object)
    clf = LadderClassifier(**FAST).fit(X, y_str)
    assert set(clf.classes_) == set(names)
    pred = clf.predict(X_test)
    assert set(pred) <= set(names)
    expected = LadderClassifier(**FAST).fit(X, y).predict(X_test)
    np.testing.assert_array_equal(pred, names[expected])


def test_numbers_in_an_object_array_are_labels(digits_semi):
    X, y, _, _ = digits_semi
    y_object = np.array([np.int64(v) if i % 2 else int(v) for i, v in enumerate(y)], dtype=object)
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}).fit(X, y_object)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


def test_all_rows_labeled_is_valid(digits):
    X, X_test, y, y_test = digits
    # Every row labeled: the labeled and unlabeled streams are the same rows.
    clf = LadderClassifier(**{**FAST, "max_epochs": 10}, denoising_costs=[10, 1, 0.1, 0.1])
    assert clf.fit(X, y).score(X_test, y_test) > 0.8  # 0.84-0.88 over seeds 0-4


def test_score_ignores_unlabeled_rows(digits_semi):
    X, y, X_test, y_test = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    y_partly = y_test.copy()
    y_partly[::2] = -1
    expected = np.mean(clf.predict(X_test[1::2]) == y_test[1::2])
    assert clf.score(X_test, y_partly) == pytest.approx(expected)


def test_dataframe_input_sets_feature_names(digits_semi):
    pd = pytest.importorskip("pandas")
    X, y, X_test, _ = digits_semi
    columns = [f"pixel{i}" for i in range(64)]
    clf = LadderClassifier(**FAST).fit(pd.DataFrame(X, columns=columns), y)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    assert clf.predict(pd.DataFrame(X_test, columns=columns)).shape == (len(X_test),)


@pytest.mark.parametrize("mode, n_decoders", [("full", 4), ("gamma", 1), ("bottom", 4),
                                             ("supervised", 0)])
def test_modes_build_their_decoders(digits_semi, mode, n_decoders):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}, mode=mode).fit(X, y)
    assert len(clf.net_.module_.combinators) == n_decoders


def test_explicit_lambda_overrides_the_mode_default(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 1}, mode="gamma",
                           denoising_costs=[0, 0, 0, 3.0]).fit(X, y)
    assert clf.denoising_costs_.tolist() == [0, 0, 0, 3.0]


def _fit_on_first_features(cls, digits_semi, n_features, **params):
    """A two-update fit of ``cls`` on the ``n_features`` busiest digits pixels,
    standardised and taken as given: outside [0, 1], so σ_0 does not follow their
    spread, and of a root mean square of 1, so their scale does not cap it."""
    X, y, _, _ = digits_semi
    if cls is LadderRegressor:
        y = np.where(y >= 0, y, np.nan)
    busiest = np.argsort(-X.std(axis=0))[:n_features]
    X = StandardScaler().fit_transform(X[:, busiest])
    return cls([20, 10], max_iter=2, random_state=0, input_scaling=None, **params).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 updates
@pytest.mark.parametrize("cls", [LadderClassifier, LadderRegressor])
def test_auto_noise_lowers_only_the_input_noise_and_only_on_few_features(digits_semi, cls):
    base = cls._auto_noise_std

    def noise(n_features, **params):
        model = _fit_on_first_features(cls, digits_semi, n_features, **params)
        assert model.noise_std_.tolist() == list(model.net_.module_.noise_std)  # trained
        return model.noise_std_.tolist()

    assert noise(64) == noise(10) == [base] * 4  # many features: the same σ everywhere
    assert noise(4) == pytest.approx([base * 0.4**0.5] + [base] * 3)
    assert noise(1) == pytest.approx([base * 0.1**0.5] + [base] * 3)
    assert noise(2, noise_std=0.3) == [0.3] * 4  # a number is used as given
    assert noise(2, noise_std=[0.3, 0, 0.1, 0.2]) == [0.3, 0, 0.1, 0.2]
    assert LadderRegressor._auto_noise_std < LadderClassifier._auto_noise_std


def _auto_input_noise(cls, X):
    """σ_0 of noise_std="auto" on inputs X in [0, 1] of 10 features or more, before the
    cap at their root mean square: the classifier's follows their spread."""
    spread = feature_spread(X) / MNIST_INPUT_SPREAD if cls is LadderClassifier else 1.0
    return cls._auto_noise_std * spread


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 updates
@pytest.mark.parametrize("cls", [LadderClassifier, LadderRegressor])
def test_auto_input_noise_follows_the_spread_of_inputs_in_the_unit_interval(cls):
    """The classifier's σ_0 = σ · spread / MNIST's spread on inputs in [0, 1]: below σ
    for Gaussian features mapped to [0, 1] (a spread of about 0.15), above it for even
    binary ones (0.5); σ itself on standardised inputs taken as given, and above σ_0
    unchanged. The regressor's σ_0 is σ on all of them."""
    rng = np.random.default_rng(0)
    gaussian = rng.normal(size=(300, 12))
    binary = (rng.random((300, 12)) < 0.5).astype(float)
    y = np.where(np.arange(300) < 40, gaussian[:, 0] > 0, -1)
    if cls is LadderRegressor:
        y = np.where(y >= 0, gaussian[:, 0], np.nan)
    sigma = cls._auto_noise_std

    def noise(X, **params):
        model = cls([20], max_iter=2, random_state=0, **params).fit(X, y)
        assert model.net_.module_.noise_std == tuple(model.noise_std_)  # trained with it
        return model.noise_std_

    for X, spread in [(MinMaxScaler().fit_transform(gaussian), (0.12, 0.2)),
                      (binary, (0.45, 0.5))]:
        assert spread[0] < feature_spread(X) < spread[1]
        np.testing.assert_allclose(noise(X), [_auto_input_noise(cls, X), sigma, sigma],
                                   rtol=1e-6)
    # raw Gaussian features: "auto" maps them to [0, 1] first, and σ_0 follows that
    np.testing.assert_allclose(noise(gaussian), noise(MinMaxScaler().fit_transform(gaussian)))
    standardised = StandardScaler().fit_transform(gaussian)
    assert noise(standardised, input_scaling=None).tolist() == [sigma] * 3
    assert noise(binary, noise_std=0.3).tolist() == [0.3] * 3  # a number: as given


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 updates
@pytest.mark.parametrize("cls", [LadderClassifier, LadderRegressor])
def test_auto_input_noise_is_never_above_the_inputs_root_mean_square(cls):
    """Sparse rows of small values (TF-IDF-like, 10 of 400 entries nonzero): the
    classifier's σ_0 is the network inputs' root mean square, below what their spread
    gives (the regressor's smaller σ stays below it); a number is used as given; a
    continued fit on other rows keeps the first fit's σ."""
    X, y = sparse_small_rows(10)
    if cls is LadderRegressor:
        y = np.where(y >= 0, y, np.nan)
    model = cls([20], max_iter=2, random_state=0).fit(X, y)
    inputs = np.asarray(model.input_scaler_.transform(X), dtype=np.float64)
    rms = np.sqrt(np.mean(inputs**2))
    assert rms < _auto_input_noise(cls, inputs)
    np.testing.assert_allclose(model.noise_std_, [rms] + [cls._auto_noise_std] * 2,
                               rtol=1e-6)
    assert model.net_.module_.noise_std[0] == model.noise_std_[0]  # trained with it
    model.set_params(warm_start=True).fit(X[:150] * 0.5, y[:150])
    np.testing.assert_allclose(model.noise_std_[0], rms, rtol=1e-6)
    given = cls([20], max_iter=2, random_state=0, noise_std=0.3).fit(X, y)
    assert given.noise_std_.tolist() == [0.3] * 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 updates
@pytest.mark.parametrize("cls", [LadderClassifier, LadderRegressor])
def test_default_lambda_on_few_features_decodes_the_input_alone(digits_semi, cls):
    def costs(n_features, **params):
        model = _fit_on_first_features(cls, digits_semi, n_features, **params)
        fitted = model.denoising_costs_
        assert model.net_.module_.decoded_layers == set(np.flatnonzero(fitted))  # trained
        return fitted.tolist()

    paper = [1000.0, 10.0, 0.1, 0.1]
    assert costs(10) == paper
    assert costs(9) == ([1000.0, 0, 0, 0] if cls is LadderClassifier else paper)
    assert costs(2, denoising_costs=paper) == paper  # λ given are used as given
    assert costs(2, mode="gamma") == [0, 0, 0, 0.5]  # other modes keep their defaults


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 1 epoch
@pytest.mark.parametrize("cls", [LadderClassifier, LadderRegressor])
def test_auto_layers_are_narrow_on_few_features_and_the_papers_on_many(digits_semi, cls):
    X, y, _, _ = digits_semi  # 64 features
    if cls is LadderRegressor:
        y = np.where(y >= 0, y, np.nan)
    n_outputs = 10 if cls is LadderClassifier else 1
    wide = np.hstack([X, X])[:, :AUTO_WIDE_INPUT]

    def widths(X, **params):
        model = cls(max_iter=1, random_state=0, feature_layer=1, **params).fit(X, y)
        assert model.transform(X[:2]).shape == (2, model.layers_[0].units)  # as built
        assert len(model.denoising_costs_) == len(model.layers_) + 1
        return [layer.units for layer in model.layers_]

    assert widths(X) == [500, 250, n_outputs]
    assert widths(wide[:, :-1]) == [500, 250, n_outputs]
    assert widths(wide) == [1000, 500, 250, 250, 250, n_outputs]
    assert widths(X, layers=[30]) == [30, n_outputs]  # given widths are used as given
    assert cls().layers == "auto"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 2 updates
def test_small_tables_with_few_labels_borrow_the_unlabeled_statistics(digits_semi):
    X, y, _, _ = digits_semi  # 1,257 rows of 64 features, 50 labeled (5 per class)
    table = X[:, 20:40]  # 20 features
    first_of_each_class = [np.flatnonzero(y == c)[0] for c in range(10)]
    few = np.where(np.isin(np.arange(len(y)), first_of_each_class), y, -1)  # 10 rows
    every = np.where(y >= 0, y, 0)

    def fitted(X, y, **params):
        clf = LadderClassifier([20], max_iter=2, random_state=0, **params).fit(X, y)
        assert clf.net_.module_.labeled_statistics == clf.labeled_statistics_
        return clf.labeled_statistics_

    assert fitted(table, few) == "unlabeled"
    assert fitted(X, few) == "labeled"  # 64 features
    assert fitted(table, y) == "labeled"  # 50 labeled rows
    assert fitted(table[:40], every[:40]) == "labeled"  # every row labeled
    assert fitted(table, few, mode="supervised") == "labeled"  # no unlabeled rows to borrow
    assert fitted(table, few, denoising_costs=[0, 0, 0]) == "labeled"  # nothing decoded
    assert fitted(table, few, labeled_statistics="labeled") == "labeled"
    assert fitted(X, y, labeled_statistics="unlabeled") == "unlabeled"
    with pytest.raises(ValueError, match="supervised baseline"):
        fitted(X, y, mode="supervised", labeled_statistics="unlabeled")
    # A continued fit keeps its network's statistics, however many rows are labeled now.
    clf = LadderClassifier([20], max_iter=2, warm_start=True, random_state=0).fit(table, few)
    clf.fit(table, every)
    assert clf.labeled_statistics_ == "unlabeled"


def test_clone_gives_an_unfitted_copy_with_equal_parameters(digits_semi):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_")


def test_ladder_beats_supervised_baseline_on_digits(digits_semi):
    # The paper's network with 50 labels: on seeds 0 and 1 the ladder's error was 3.2
    # points below its encoder trained alone (7.8 vs 10.9 %, 8.3 vs 11.5 %); a decoder
    # that does not help leaves them level.
    X, y, X_test, y_test = digits_semi
    ladder = LadderClassifier(PAPER_LAYERS, max_epochs=15, random_state=0).fit(X, y)
    baseline = LadderClassifier(PAPER_LAYERS, mode="supervised", noise_std=[0.3] + [0.5] * 6,
                                max_epochs=15, random_state=0).fit(X, y)
    assert 1 - ladder.score(X_test, y_test) < 1 - baseline.score(X_test, y_test) - 0.015


def test_same_random_state_is_deterministic_across_processes(digits_semi, tmp_path):
    import os
    import subprocess
    import sys

    import torch

    X, y, X_test, _ = digits_semi
    np.savez(tmp_path / "data.npz", X=X, y=y, X_test=X_test)
    script = (
        "import numpy as np, sys\n"
        "from sklearn_ladder import LadderClassifier\n"
        f"d = np.load({str(tmp_path / 'data.npz')!r})\n"
        f"clf = LadderClassifier(**{FAST!r}).fit(d['X'], d['y'])\n"
        f"np.save({str(tmp_path / 'proba.npy')!r}, clf.predict_proba(d['X_test']))\n"
    )
    threads = str(torch.get_num_threads())  # same thread count, same kernels
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    expected = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), expected)


def test_transform_gives_the_last_hidden_layer_with_feature_names(digits_semi):
    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST).fit(X, y)
    features = clf.transform(X_test)
    assert features.shape == (len(X_test), 20) and (features >= 0).all()  # ReLU outputs
    np.testing.assert_array_equal(features, clf.transform(X_test))
    whole, piece = clf.transform(X_test), clf.transform(X_test[:7])
    np.testing.assert_allclose(whole[:7], piece, rtol=1e-12)
    names = clf.get_feature_names_out()
    assert len(names) == 20 and names[0] == "ladderclassifier0"
    clf.set_params(feature_layer=3)  # the logits
    np.testing.assert_allclose(clf.transform(X_test).argmax(1), clf.predict(X_test))
    clf.set_params(feature_layer=4)
    with pytest.raises(ValueError, match=r"layers 1\.\.3"):
        clf.transform(X_test)


def test_ladder_features_feed_another_estimator_in_a_pipeline(digits_semi):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y, X_test, _ = digits_semi
    labeled = y >= 0
    ladder = LadderClassifier(**FAST).fit(X, y)
    head = make_pipeline(ladder, LogisticRegression(max_iter=500))
    head.steps[0] = ("ladder", ladder)  # already fitted: use it as a frozen feature map
    head[-1].fit(ladder.transform(X[labeled]), y[labeled])
    assert head.predict(X_test).shape == (len(X_test),)
    pd = pytest.importorskip("pandas")
    frame = ladder.set_output(transform="pandas").transform(X_test)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (len(X_test), 20)


@pytest.mark.parametrize("mode", ["full", "bottom"])
def test_reconstruct_denoises_the_input(digits_semi, mode):
    X, y, _, _ = digits_semi
    clf = LadderClassifier([100, 50], mode=mode, max_epochs=20, random_state=0).fit(X, y)
    rows = X[:200]
    clean = clf.reconstruct(rows)
    assert clean.shape == rows.shape and np.isfinite(clean).all()
    noisy = clf.reconstruct(rows, add_noise=True)
    rng = np.random.default_rng(0)
    corrupted = rows + 0.3 * rng.standard_normal(rows.shape)
    # The denoised reconstruction is much closer to the clean rows than noisy rows are.
    assert np.mean((noisy - rows) ** 2) < 0.5 * np.mean((corrupted - rows) ** 2)


@pytest.mark.parametrize("mode, says", [("gamma", "decodes only down to layer 3"),
                                        ("supervised", "has no decoder")])
def test_reconstruct_needs_a_decoder_down_to_the_input(digits_semi, mode, says):
    X, y, _, _ = digits_semi
    clf = LadderClassifier(**FAST, mode=mode).fit(X, y)
    with pytest.raises(ValueError, match=f"decoder down to the input.*{says}"):
        clf.reconstruct(X[:10])


@pytest.mark.parametrize("combinator", ["g1", "g2", "g3", "g4", "amlp"])
def test_every_combinator_trains(digits_semi, combinator):
    X, y, X_test, y_test = digits_semi
    clf = LadderClassifier(**{**FAST, "max_epochs": 8}, combinator=combinator).fit(X, y)
    denoising = clf.history_[:, "denoising_cost"]
    assert np.isfinite(denoising).all() and denoising[-1] < 0.8 * denoising[0]
    # Over seeds 0-2 after 8 short epochs: 0.55-0.71, AMLP 0.39-0.61; chance is 0.1.
    assert clf.score(X_test, y_test) > 0.3


class TinyCombinator(torch.nn.Module):
    """A user-supplied denoising function: ẑ = w z̃ + v u."""

    def __init__(self, n_units):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(n_units))
        self.v = torch.nn.Parameter(torch.zeros(n_units))

    def forward(self, z_tilde, u):
        return self.w * z_tilde + self.v * u


def test_user_supplied_combinator_module(digits_semi):
    import pickle

    X, y, X_test, _ = digits_semi
    clf = LadderClassifier(**FAST, combinator=TinyCombinator).fit(X, y)
    assert all(isinstance(c, TinyCombinator) for c in clf.net_.module_.combinators.values())
    assert clf.net_.module_.combinators["0"].w.abs().sum() > 0  # trained
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X_test), clf.predict(X_test))


def _imbalanced(seed=0):
    """95 / 5 classes that overlap, half the rows labeled."""
    rng = np.random.default_rng(seed)
    y = (rng.random(1000) < 0.05).astype(int)
    X = (rng.normal(size=(1000, 5)) + 0.5 * y[:, None]).astype(np.float32)
    y_semi = np.where(rng.random(1000) < 0.5, y, -1)
    return X, y, y_semi


# X as given (Gaussian, beyond [0, 1]): the margins of the class weights' tests below
# were measured on these inputs, not on "auto"'s [0, 1] map of them.
IMBALANCED = {"layers": [20], "max_epochs": 8, "denoising_costs": [1, 1, 0.1],
              "input_scaling": None, "random_state": 0}


def test_class_weight_balanced_lifts_the_minority_class():
    X, y, y_semi = _imbalanced()
    plain = LadderClassifier(**IMBALANCED).fit(X, y_semi)
    balanced = LadderClassifier(**IMBALANCED, class_weight="balanced").fit(X, y_semi)
    by_dict = LadderClassifier(**IMBALANCED, class_weight={0: 1, 1: 19}).fit(X, y_semi)
    minority = y == 1
    p_plain, p_balanced, p_dict = (m.predict_proba(X)[minority, 1].mean()
                                   for m in (plain, balanced, by_dict))
    # Seeds 0 and 1: probability 0.50-0.54 -> 0.64-0.68, recall 0.47-0.62 -> 0.74-0.80.
    assert p_balanced > p_plain + 0.1 and p_dict > p_plain + 0.08
    recall = [(m.predict(X)[minority] == 1).mean() for m in (plain, balanced)]
    assert recall[1] > recall[0] + 0.1


def test_sample_weight_weighs_the_supervised_cost_through_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, y_semi = _imbalanced()
    weights = np.where(y_semi == 1, 19.0, 1.0)
    pipe = make_pipeline(StandardScaler(), LadderClassifier(**IMBALANCED))
    pipe.fit(X, y_semi, ladderclassifier__sample_weight=weights)
    balanced = make_pipeline(StandardScaler(),
                             LadderClassifier(**IMBALANCED, class_weight="balanced"))
    balanced.fit(X, y_semi)
    # 19 : 1 is what "balanced" gives here, up to the exact class counts.
    minority = y == 1
    np.testing.assert_allclose(pipe.predict_proba(X)[minority, 1].mean(),
                               balanced.predict_proba(X)[minority, 1].mean(), atol=0.05)
    plain = make_pipeline(StandardScaler(), LadderClassifier(**IMBALANCED)).fit(X, y_semi)
    assert pipe.predict_proba(X)[minority, 1].mean() > plain.predict_proba(X)[minority, 1].mean()


def test_equal_sample_weights_change_nothing(digits_semi):
    X, y, X_test, _ = digits_semi
    plain = LadderClassifier(**FAST).fit(X, y).predict_proba(X_test)
    weighted = LadderClassifier(**FAST).fit(X, y, sample_weight=np.full(len(X), 3.0))
    np.testing.assert_array_equal(weighted.predict_proba(X_test), plain)


def test_weights_that_leave_no_labeled_row_are_refused(digits_semi):
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match="every labeled row weight 0"):
        LadderClassifier(**FAST).fit(X, y, sample_weight=np.where(y >= 0, 0.0, 1.0))
    with pytest.raises(ValueError, match="Negative values"):
        LadderClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(X)))


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf])
def test_a_class_weight_that_is_not_a_weight_is_refused(digits_semi, weight):
    X, y, _, _ = digits_semi
    # A negative weight would maximise that class's cross-entropy; before, -1 and 1
    # cancelled out and the message spoke of weight 0.
    with pytest.raises(ValueError, match="class_weight must give every class a finite"):
        LadderClassifier(**FAST, class_weight={0: weight, 1: 1.0}).fit(X, y)
