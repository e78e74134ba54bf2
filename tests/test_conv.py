"""Convolutional ladders: layer specifications, presets, shapes both ways, training."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.nn import functional as F

from sklearn_ladder import LadderClassifier
from sklearn_ladder._ladder import Ladder, LadderCost
from sklearn_ladder._mappings import make_mapping
from sklearn_ladder.layers import (
    PRESETS,
    Conv,
    Dense,
    GlobalMeanPool,
    MaxPool,
    as_specs,
    output_shapes,
)

# A small image network for 1×8×8 digits: every kind of layer, both paddings.
SMALL = [Conv(8, 3), MaxPool(2), Conv(8, 3, "full"), Conv(10, 1), GlobalMeanPool(), Dense(10)]
SMALL_SHAPES = [(1, 8, 8), (8, 6, 6), (8, 3, 3), (8, 5, 5), (10, 5, 5), (10,), (10,)]
# Wide enough to learn digits in a few epochs (SMALL is too narrow for that).
DIGITS_NET = [Conv(32, 3), Conv(32, 3, "full"), MaxPool(2), Conv(64, 3), Conv(10, 1),
              GlobalMeanPool(), Dense(10)]


def test_presets_are_the_papers_layer_lists():
    assert PRESETS["conv-small"](10) == [
        Conv(32, 5, "valid"), MaxPool(2), Conv(64, 3, "valid"), Conv(64, 3, "full"),
        MaxPool(2), Conv(128, 3, "valid"), Conv(10, 1, "valid"), GlobalMeanPool(), Dense(10)]
    assert PRESETS["conv-large"](10) == [
        Conv(96, 3, "valid"), Conv(96, 3, "full"), Conv(96, 3, "full"), MaxPool(2),
        Conv(192, 3, "valid"), Conv(192, 3, "full"), Conv(192, 3, "valid"), MaxPool(2),
        Conv(192, 3, "valid"), Conv(192, 1, "valid"), Conv(10, 1, "valid"), GlobalMeanPool()]
    assert PRESETS["conv-fc"](10) == [
        Conv(1000, 26), Conv(500, 1), Conv(250, 1), Conv(250, 1), Conv(250, 1), Conv(10, 1),
        GlobalMeanPool()]
    assert PRESETS["conv-large"](7)[-2] == Conv(7, 1)


def test_output_shapes_of_the_presets():
    assert output_shapes((1, 28, 28), PRESETS["conv-small"](10)) == [
        (1, 28, 28), (32, 24, 24), (32, 12, 12), (64, 10, 10), (64, 12, 12), (64, 6, 6),
        (128, 4, 4), (10, 4, 4), (10,), (10,)]
    assert output_shapes((3, 32, 32), PRESETS["conv-large"](10)) == [
        (3, 32, 32), (96, 30, 30), (96, 32, 32), (96, 34, 34), (96, 17, 17), (192, 15, 15),
        (192, 17, 17), (192, 15, 15), (192, 7, 7), (192, 5, 5), (192, 5, 5), (10, 5, 5), (10,)]
    assert output_shapes((1, 28, 28), PRESETS["conv-fc"](10))[1:3] == [(1000, 3, 3),
                                                                      (500, 3, 3)]


@pytest.mark.parametrize("shape, layers, match", [
    ((64,), [Conv(4, 3)], "needs image maps"),               # conv on flat input
    ((1, 8, 8), [Dense(5), Conv(4, 3)], "needs image maps"),
    ((1, 8, 8), [Conv(4, 9)], "does not fit"),               # kernel larger than 8×8
    ((1, 8, 8), [MaxPool(16)], "does not fit"),
])
def test_layers_that_do_not_fit_their_input_are_refused(shape, layers, match):
    with pytest.raises(ValueError, match=match):
        output_shapes(shape, layers)


@pytest.mark.parametrize("make", [lambda: Conv(0, 3), lambda: Conv(4, 3, "circular"),
                                  lambda: Conv(4, 2, "same"), lambda: MaxPool(0),
                                  lambda: Dense(2.5)])
def test_bad_specifications_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_ints_and_specs_mix():
    assert as_specs([5, np.int64(3), MaxPool()]) == [Dense(5), Dense(3), MaxPool(2)]
    with pytest.raises(ValueError, match="one of Dense, Conv"):
        as_specs(["conv"])


def _ladder(layers, shape, costs, **kwargs):
    torch.manual_seed(0)
    n = len(layers) + 1
    return Ladder(shape, layers, costs if len(costs) == n else costs * n, [0.3] * n, **kwargs)


def test_encoder_and_decoder_shapes_of_every_layer():
    ladder = _ladder(SMALL, (1, 8, 8), [1.0]).train()
    B = 5
    x = torch.rand(B, 2, 1, 8, 8)
    encoded = ladder._encode(x, ladder.draw_noise(B, 2, 2, None))
    assert [tuple(z.shape) for z in encoded.z] == [(B, 2, *s) for s in SMALL_SHAPES]
    z_hats = ladder._denoise([z[:, 1] for z in encoded.z], encoded.logits[:, 1])
    assert [tuple(z_hats[l].shape) for l in range(len(SMALL_SHAPES))] == [
        (B, *s) for s in SMALL_SHAPES]


@pytest.mark.parametrize("preset, input_shape", [
    ("conv-small", (1, 28, 28)), ("conv-large", (3, 32, 32)), ("conv-fc", (1, 28, 28))])
def test_preset_decoders_reconstruct_every_layer_at_its_shape(preset, input_shape):
    layers = PRESETS[preset](10)
    ladder = _ladder(layers, input_shape, [1.0], activation="leaky_relu").train()
    shapes = output_shapes(input_shape, layers)
    encoded = ladder._encode(torch.rand(2, 2, *input_shape), ladder.draw_noise(2, 2, 2, None))
    assert [tuple(z.shape[2:]) for z in encoded.z] == shapes
    z_hats = ladder._denoise([z[:, 1] for z in encoded.z], encoded.logits[:, 1])
    assert [tuple(z_hats[l].shape[1:]) for l in range(len(shapes))] == shapes


def test_each_group_and_channel_has_its_own_statistics():
    ladder = _ladder(SMALL, (1, 8, 8), [0.0]).train()
    x = torch.rand(6, 2, 1, 8, 8)
    x[:, 0] *= 5.0  # the labeled group on another scale
    z = ladder._encode(x).z[1].double()  # (6, 2, 8, 6, 6)
    torch.testing.assert_close(z.mean(dim=(0, 3, 4)), torch.zeros(2, 8, dtype=torch.double),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(z.var(dim=(0, 3, 4), unbiased=False),
                               torch.ones(2, 8, dtype=torch.double), atol=1e-4, rtol=0)


def test_pooling_layers_have_no_beta_gamma_and_the_top_scale_is_optional():
    ladder = _ladder(SMALL, (1, 8, 8), [1.0])
    assert sorted(ladder.betas, key=int) == ["1", "3", "4", "6"]  # not the pools 2 and 5
    assert list(ladder.gammas) == ["6"]
    assert ladder.betas["1"].shape == (8,)  # per channel
    assert list(_ladder(SMALL, (1, 8, 8), [1.0], top_scale=False).gammas) == []
    top_pool = _ladder(PRESETS["conv-fc"](10)[1:], (1000, 3, 3), [1.0])
    assert str(top_pool.n_layers) in top_pool.betas  # a top pool still gets β


def test_combinator_parameters_are_per_channel():
    ladder = _ladder(SMALL, (1, 8, 8), [1.0])
    assert ladder.combinators["1"].a.shape == (10, 8)
    assert ladder.combinators["0"].a.shape == (10, 1)
    assert sorted(ladder.decoder_weights, key=int) == ["1", "3", "4", "6"]  # pools: none


def test_gamma_model_builds_only_the_top():
    ladder = _ladder(SMALL, (1, 8, 8), [0.0] * 6 + [1.0])
    assert list(ladder.combinators) == ["6"]
    assert len(ladder.decoder_weights) == 0


@pytest.mark.parametrize("spec, in_shape", [
    (Conv(4, 3), (3, 9, 9)), (Conv(4, 3, "full"), (3, 9, 9)), (Conv(4, 5, "same"), (3, 9, 9)),
    (MaxPool(2), (3, 15, 15)),
    (GlobalMeanPool(), (3, 5, 7)), (Dense(6), (3, 4, 4)), (Dense(6), (12,)),
])
def test_each_map_goes_down_and_back_up_to_its_input_shape(spec, in_shape):
    out_shape = output_shapes(in_shape, [spec])[1]
    mapping = make_mapping(spec, in_shape)
    weight, v = mapping.encoder_weight(), mapping.decoder_weight()
    z = mapping.encode(torch.rand(4, 2, *in_shape), weight)
    assert z.shape == (4, 2, *out_shape)
    assert mapping.decode(torch.rand(4, *out_shape), v).shape == (4, *in_shape)


def test_decoder_of_a_valid_conv_is_the_full_convolution():
    # Computed as a transposed convolution: the full convolution with the kernel flipped.
    mapping = make_mapping(Conv(4, 3), (3, 9, 9))
    v = mapping.decoder_weight()
    z = torch.rand(2, 4, 7, 7, dtype=torch.double)
    full = F.conv2d(z, v.double().flip(-1, -2).transpose(0, 1), padding=2)
    torch.testing.assert_close(mapping.decode(z, v.double()), full)


def test_a_same_conv_keeps_the_maps_size_both_ways():
    mapping = make_mapping(Conv(4, 5, "same"), (3, 9, 9))
    w, v = mapping.encoder_weight().double(), mapping.decoder_weight().double()
    h = torch.rand(2, 1, 3, 9, 9, dtype=torch.double)
    torch.testing.assert_close(mapping.encode(h, w)[:, 0], F.conv2d(h[:, 0], w, padding=2))
    z = torch.rand(2, 4, 9, 9, dtype=torch.double)
    torch.testing.assert_close(mapping.decode(z, v), F.conv2d(z, v, padding=2))
    assert output_shapes((3, 9, 9), [Conv(4, 5, "same")])[1] == (4, 9, 9)


def test_global_pool_is_inverted_by_broadcasting_and_max_pool_by_nearest_upsampling():
    pool = make_mapping(GlobalMeanPool(), (2, 3, 3))
    up = pool.decode(torch.tensor([[1.0, 2.0]]), None)
    assert torch.equal(up[0, 1], torch.full((3, 3), 2.0))
    maxpool = make_mapping(MaxPool(2), (1, 4, 4))
    up = maxpool.decode(torch.arange(4.0).view(1, 1, 2, 2), None)[0, 0]
    assert torch.equal(up[:2, :2], torch.zeros(2, 2)) and torch.equal(up[2:, 2:],
                                                                      torch.full((2, 2), 3.0))


def test_weight_init_scale_is_one_over_sqrt_fan_in():
    torch.manual_seed(0)
    conv = make_mapping(Conv(64, 5), (32, 20, 20))
    assert conv.encoder_weight().std().item() == pytest.approx((32 * 25) ** -0.5, rel=0.05)
    assert conv.decoder_weight().std().item() == pytest.approx((64 * 25) ** -0.5, rel=0.05)


# SMALL with same convolutions: the maps keep their size through them.
SAME = [Conv(8, 3, "same"), MaxPool(2), Conv(8, 3, "same"), Conv(10, 1), GlobalMeanPool(),
        Dense(10)]


@pytest.mark.parametrize("layers", [SMALL, SAME], ids=["valid-full", "same"])
def test_a_few_updates_lower_the_cost(layers):
    costs = [10.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1]
    ladder = _ladder(layers, (1, 8, 8), costs).train()
    cost = LadderCost(costs)
    optimizer = torch.optim.Adam(ladder.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 64, generator=g), torch.randint(0, 10, (32,), generator=g)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = cost(ladder(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


@pytest.fixture(scope="module")
def conv_clf(digits_semi):
    X, y, _, _ = digits_semi
    return LadderClassifier(DIGITS_NET, input_shape=(1, 8, 8), max_epochs=6, random_state=0,
                            batch_size=32).fit(X, y)


def test_conv_classifier_learns_digits(conv_clf, digits):
    _, X_test, _, y_test = digits
    losses = conv_clf.history_[:, "train_loss"]
    assert losses[-1] < losses[0]
    assert conv_clf.score(X_test, y_test) > 0.8  # 50 labels, 6 short epochs; chance is 0.1
    assert conv_clf.denoising_costs_.tolist() == [1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]


def test_conv_predictions_do_not_depend_on_batching(conv_clf, digits):
    _, X_test, _, _ = digits
    whole = conv_clf.predict_proba(X_test[:40])
    pieces = np.concatenate([conv_clf.predict_proba(X_test[i:min(i + 3, 40)])
                             for i in range(0, 40, 3)])
    np.testing.assert_allclose(whole, pieces, rtol=1e-12)


def test_conv_transform_reconstruct_and_pickle(conv_clf, digits):
    _, X_test, _, _ = digits
    features = conv_clf.set_params(feature_layer=1).transform(X_test[:5])
    assert features.shape == (5, 32 * 6 * 6)
    assert len(conv_clf.get_feature_names_out()) == 32 * 6 * 6
    assert conv_clf.reconstruct(X_test[:20]).shape == (20, 64)
    conv_clf.set_params(feature_layer=None)
    restored = pickle.loads(pickle.dumps(conv_clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), conv_clf.predict_proba(X_test))


def test_conv_classifier_in_a_pipeline(digits_semi, digits):
    X, y, _, _ = digits_semi
    _, X_test, _, _ = digits
    pipe = make_pipeline(StandardScaler(), LadderClassifier(
        SMALL, input_shape=(1, 8, 8), denoising_costs=[1, 1, 0.1, 0.1, 0.1, 0.1, 0.1],
        max_epochs=1, random_state=0))
    assert pipe.fit(X, y).predict(X_test).shape == (len(X_test),)


@pytest.mark.parametrize("params, match", [
    ({"layers": SMALL}, "needs image maps"),                               # no input_shape
    ({"layers": SMALL, "input_shape": (1, 8, 9)}, "product is the number of features"),
    ({"layers": SMALL, "input_shape": (1, 8)}, r"\(channels, height, width\)"),
    ({"layers": [*SMALL[:-1], Dense(3)], "input_shape": (1, 8, 8)}, "one value per class"),
    ({"layers": "conv-small", "input_shape": (1, 8, 8)}, "does not fit"),
    ({"layers": SMALL, "input_shape": (1, 8, 8), "denoising_costs": [1, 1, 1]},
     "one value per layer"),
])
def test_bad_image_settings_raise_clear_errors(digits_semi, params, match):
    X, y, _, _ = digits_semi
    with pytest.raises(ValueError, match=match):
        LadderClassifier(max_epochs=1, **params).fit(X, y)
