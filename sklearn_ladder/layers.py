"""Layer specifications for convolutional ladders, and the paper's named architectures.

A ladder's encoder is a list of layers above the input (layer 0). With plain integers,
``LadderClassifier(layers=[1000, 500])`` builds fully connected hidden layers and adds
the output layer itself. For image input, describe the whole encoder, output layer
included, with the specifications of this module::

    from sklearn_ladder.layers import Conv, Dense, GlobalMeanPool, MaxPool

    layers = [Conv(32, 5), MaxPool(2), Conv(64, 3, "full"), GlobalMeanPool(), Dense(10)]
    LadderClassifier(layers, input_shape=(1, 28, 28))

or name one of the paper's architectures (:data:`PRESETS`): ``"conv-small"``,
``"conv-large"`` and ``"conv-fc"`` (Rasmus et al. 2015, Tables 2-3 and Appendix A).

Every layer, pooling included, is a ladder layer: its output is batch-normalised (per
channel for images, labeled and unlabeled rows apart), corrupted by noise in the corrupted
encoder, and may get a denoising cost. Convolutions and dense layers are followed by the
learned shift β (and scale γ where it is not redundant) and the activation; pooling
layers below the top have none of these. The top layer's output is the logits.

The specifications are plain frozen dataclasses: they compare equal by value, print as
they are written and pickle, so they work in ``get_params``, ``clone`` and grid searches.
"""

from dataclasses import dataclass
from numbers import Integral
from typing import Literal

__all__ = [
    "PRESETS",
    "Conv",
    "Dense",
    "GlobalMeanPool",
    "MaxPool",
    "as_specs",
    "conv_fc",
    "conv_large",
    "conv_small",
    "output_shapes",
]


def _check_positive(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class Dense:
    """Fully connected layer: ``z_pre = h @ W`` with ``units`` outputs (no bias; β follows).

    An image input is flattened first (channels, then rows, then columns).

    Parameters
    ----------
    units : int
        Width of the layer.
    """

    units: int

    def __post_init__(self):
        _check_positive("Dense units", self.units)


@dataclass(frozen=True)
class Conv:
    """2-D convolution, stride 1, no bias, with ``channels`` output maps.

    Parameters
    ----------
    channels : int
        Number of output maps.
    kernel_size : int
        Height and width of the square kernel.
    padding : {"valid", "full", "same"}, default="valid"
        ``"valid"`` (no padding: the maps shrink by ``kernel_size - 1``), ``"full"``
        (padding ``kernel_size - 1`` on every side: they grow by as much; the paper's
        two) or ``"same"`` (padding ``(kernel_size - 1) / 2`` on every side, for an odd
        ``kernel_size``: they keep their size). The decoder's mapping swaps valid and
        full, and is a same convolution for a same one, which restores the input's size.
    """

    channels: int
    kernel_size: int
    padding: Literal["valid", "full", "same"] = "valid"

    def __post_init__(self):
        _check_positive("Conv channels", self.channels)
        _check_positive("Conv kernel_size", self.kernel_size)
        if self.padding not in ("valid", "full", "same"):
            raise ValueError(
                f"Conv padding must be 'valid', 'full' or 'same', got {self.padding!r}")
        if self.padding == "same" and self.kernel_size % 2 == 0:
            raise ValueError(f"Conv padding 'same' needs an odd kernel_size (the same "
                             f"padding on every side), got {self.kernel_size}")

    @property
    def pad(self) -> int:
        """The zero padding on every side of the input maps."""
        return {"valid": 0, "full": self.kernel_size - 1,
                "same": (self.kernel_size - 1) // 2}[self.padding]


@dataclass(frozen=True)
class MaxPool:
    """Max-pooling over ``size`` × ``size`` windows with stride ``size`` (floor at the edges).

    The decoder inverts it by nearest-neighbour up-sampling to the size of the layer below.

    Parameters
    ----------
    size : int, default=2
        Window and stride.
    """

    size: int = 2

    def __post_init__(self):
        _check_positive("MaxPool size", self.size)


@dataclass(frozen=True)
class GlobalMeanPool:
    """Mean of every map over its spatial positions: ``(C, H, W)`` becomes ``(C,)``.

    The decoder inverts it by broadcasting each channel's value back to every position.
    """


LayerSpec = Dense | Conv | MaxPool | GlobalMeanPool


def output_shapes(input_shape, layers) -> list[tuple[int, ...]]:
    """The shape of every layer's output, from the input (layer 0) to the top.

    Parameters
    ----------
    input_shape : int or tuple of int
        Width of a flat input, or ``(channels, height, width)`` of an image.
    layers : sequence of layer specifications or int
        The layers 1..L; an int is a :class:`Dense` layer of that width.

    Returns
    -------
    list of tuple of int
        ``L + 1`` shapes without the batch axis: ``(units,)`` or ``(channels, height, width)``.

    Raises
    ------
    ValueError
        If a layer does not fit its input: a convolution or pooling on flat input, a
        kernel or window larger than the maps it slides over.

    Examples
    --------
    >>> output_shapes((1, 28, 28), conv_small(10))[1:4]
    [(32, 24, 24), (32, 12, 12), (64, 10, 10)]
    >>> output_shapes(784, [1000, 10])
    [(784,), (1000,), (10,)]
    """
    shape = ((int(input_shape),) if isinstance(input_shape, Integral)
             else tuple(int(n) for n in input_shape))
    shapes = [shape]
    for l, spec in enumerate(as_specs(layers), start=1):
        if isinstance(spec, Dense):
            shape = (spec.units,)
        else:
            if len(shape) != 3:
                raise ValueError(
                    f"layer {l} ({spec}) needs image maps (channels, height, width) but its "
                    f"input has shape {shape}; give input_shape=(channels, height, width) and "
                    f"put convolutions and pooling before the dense layers."
                )
            channels, height, width = shape
            if isinstance(spec, Conv):
                grow = 2 * spec.pad + 1 - spec.kernel_size
                shape = (spec.channels, height + grow, width + grow)
            elif isinstance(spec, MaxPool):
                shape = (channels, height // spec.size, width // spec.size)
            else:
                shape = (channels,)
            if min(shape) < 1:
                raise ValueError(f"layer {l} ({spec}) does not fit its {height}×{width} input maps")
        shapes.append(shape)
    return shapes


def as_specs(layers) -> list[LayerSpec]:
    """The layers as specifications: an int becomes a :class:`Dense` layer.

    Parameters
    ----------
    layers : sequence of int or layer specifications
        The layers 1..L.

    Returns
    -------
    list of layer specifications

    Raises
    ------
    ValueError
        If an element is neither an int nor a specification.

    Examples
    --------
    >>> as_specs([100, MaxPool()])
    [Dense(units=100), MaxPool(size=2)]
    """
    specs = []
    for spec in layers:
        if isinstance(spec, Integral) and not isinstance(spec, bool):
            spec = Dense(int(spec))
        if not isinstance(spec, LayerSpec):
            raise ValueError(
                f"a layer is an int (dense width) or one of Dense, Conv, MaxPool, "
                f"GlobalMeanPool from sklearn_ladder.layers, got {spec!r}"
            )
        specs.append(spec)
    return specs


def conv_small(n_classes: int = 10) -> list[LayerSpec]:
    """Conv-Small, the paper's MNIST convolutional network (Table 2; use it as a Γ-model).

    5×5 conv 32 (valid), 2×2 max-pool, 3×3 conv 64 (valid), 3×3 conv 64 (full), 2×2
    max-pool, 3×3 conv 128 (valid), 1×1 conv 10, global mean pool, fully connected
    ``n_classes``; ReLU. Paper: Γ-model, λ_top = 1, noise 0.3, 0.89 % error with 100 labels.
    """
    return [Conv(32, 5), MaxPool(2), Conv(64, 3), Conv(64, 3, "full"), MaxPool(2),
            Conv(128, 3), Conv(10, 1), GlobalMeanPool(), Dense(n_classes)]


def conv_large(n_classes: int = 10) -> list[LayerSpec]:
    """Conv-Large, the paper's CIFAR-10 network (Table 3; a Γ-model).

    3×3 conv 96 (valid), 3×3 conv 96 (full) twice, 2×2 max-pool, 3×3 conv 192 (valid),
    3×3 conv 192 (full), 3×3 conv 192 (valid), 2×2 max-pool, 3×3 conv 192 (valid), 1×1
    conv 192, 1×1 conv ``n_classes``, global mean pool (the top: its output is the
    logits). Paper: leaky ReLU 0.1, no γ on the top (``top_scale=False``), Γ-model with
    λ_top = 4, noise 0.3, 20.40 % error with 4000 labels.
    """
    return [Conv(96, 3), Conv(96, 3, "full"), Conv(96, 3, "full"), MaxPool(2),
            Conv(192, 3), Conv(192, 3, "full"), Conv(192, 3), MaxPool(2),
            Conv(192, 3), Conv(192, 1), Conv(n_classes, 1), GlobalMeanPool()]


def conv_fc(n_classes: int = 10) -> list[LayerSpec]:
    """Conv-FC: the MNIST MLP 1000-500-250-250-250 as convolutions (Table 2).

    A 26×26 valid conv with 1000 maps (3×3 outputs on 28×28 input), then 1×1 convs of 500,
    250, 250, 250 and ``n_classes`` maps, and a global mean pool at the top. Paper: full
    ladder with the MLP's 100-label λ, 0.99 % error with 100 labels.
    """
    return [Conv(1000, 26), *(Conv(width, 1) for width in (500, 250, 250, 250, n_classes)),
            GlobalMeanPool()]


#: The paper's architectures by name; each maps the number of classes to the layer list.
PRESETS = {"conv-small": conv_small, "conv-large": conv_large, "conv-fc": conv_fc}

