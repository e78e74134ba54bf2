"""Data loading: MNIST and CIFAR-10 from their original files, and semi-supervised targets.

Nothing is downloaded silently: :func:`load_mnist` and :func:`load_cifar10` read files
from a directory you name (or ``$SKLEARN_LADDER_DATA``, or scikit-learn's data home) and
say exactly what is missing; ``download_if_missing=True`` fetches MNIST from OpenML
through scikit-learn.
"""

import gzip
import os
import pickle
import zlib
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch, check_random_state

from ._unlabeled import unlabeled_labels

__all__ = ["load_cifar10", "load_mnist", "mask_labels", "read_idx"]

DATA_ENV_VAR = "SKLEARN_LADDER_DATA"

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# IDX type codes (third magic byte) and the numpy dtypes they hold, big-endian.
_IDX_DTYPES = {
    0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
# A forged header must not make us allocate more than this (MNIST's largest file: 47 MB).
_MAX_IDX_BYTES = 2**31


def read_idx(path) -> np.ndarray:
    """Read one IDX file (the format of the original MNIST files), gzipped or not.

    Parameters
    ----------
    path : str or path-like
        File to read; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    ndarray
        The array, with the shape and type the header declares.

    Raises
    ------
    ValueError
        If the magic number is wrong, the header declares an unknown type or an
        implausible size, or the file is shorter or longer than its header says.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            header = f.read(4)
            if len(header) < 4 or header[0] != 0 or header[1] != 0:
                raise ValueError(f"{path}: not an IDX file (bad magic number {header.hex()}).")
            dtype = _IDX_DTYPES.get(header[2])
            n_dims = header[3]
            if dtype is None or not 1 <= n_dims <= 4:
                raise ValueError(
                    f"{path}: IDX header declares type 0x{header[2]:02x} and {n_dims} "
                    f"dimensions; expected a known type and 1-4 dimensions."
                )
            dims_raw = f.read(4 * n_dims)
            if len(dims_raw) < 4 * n_dims:
                raise ValueError(f"{path}: truncated IDX header.")
            shape = tuple(int(d) for d in np.frombuffer(dims_raw, ">u4"))
            n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if n_bytes > _MAX_IDX_BYTES:
                raise ValueError(f"{path}: IDX header declares an implausible shape {shape}.")
            data = f.read(n_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read the file ({exc}); is it truncated or corrupt?") \
            from exc
    if len(data) != n_bytes:
        raise ValueError(
            f"{path}: the header declares shape {shape} ({n_bytes} bytes of data) but the file "
            f"holds {'more' if len(data) > n_bytes else len(data)} bytes; it is truncated or "
            f"corrupt."
        )
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _data_directory(data_home, default: str) -> tuple[Path, str]:
    if data_home is not None:
        return Path(data_home), "the data_home argument"
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]), f"${DATA_ENV_VAR}"
    return Path(get_data_home()) / default, "scikit-learn's data home"


def load_mnist(data_home=None, *, download_if_missing: bool = False) -> Bunch:
    """Load MNIST (the standard 60,000 / 10,000 split) from the four original IDX files.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Directory holding ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``. When ``None``,
        the environment variable ``SKLEARN_LADDER_DATA``, else ``<sklearn data
        home>/mnist``.
    download_if_missing : bool, default=False
        When the files are missing, fetch ``mnist_784`` from OpenML with
        :func:`sklearn.datasets.fetch_openml` (needs internet) instead of raising.

    Returns
    -------
    Bunch
        ``X_train`` (60000, 784) and ``X_test`` (10000, 784) float32 pixels in [0, 1];
        ``y_train`` and ``y_test`` int64 labels 0-9.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False; the message lists the
        files looked for, where, and how to get them.

    Examples
    --------
    With the files in ``$SKLEARN_LADDER_DATA``:

    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.X_train.shape, mnist.X_test.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))

    Without them, the error says what is missing and where it looked:

    >>> import tempfile
    >>> load_mnist(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST files missing in ... (from the data_home argument): ...
    """
    directory, source = _data_directory(data_home, "mnist")
    paths = {key: directory / name for key, name in MNIST_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing and download_if_missing:
        return _fetch_mnist_openml()
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing in {directory} (from {source}): {', '.join(missing)}. "
            f"Put the four original IDX files ({', '.join(MNIST_FILES.values())}) in a "
            f"directory and pass it as data_home or set {DATA_ENV_VAR}; or, when online, "
            f"call load_mnist(download_if_missing=True) to fetch mnist_784 from OpenML."
        )
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape != (n, 28, 28) or labels.shape != (n,):
            raise ValueError(
                f"MNIST {split} files hold images {images.shape} and labels {labels.shape}; "
                f"expected ({n}, 28, 28) and ({n},)."
            )
    return Bunch(
        X_train=_scale_pixels(arrays["train_images"]),
        y_train=arrays["train_labels"].astype(np.int64),
        X_test=_scale_pixels(arrays["test_images"]),
        y_test=arrays["test_labels"].astype(np.int64),
    )


CIFAR10_DIRECTORY = "cifar-10-batches-py"
CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only.

    The CIFAR-10 batches are pickles; a pickle can run any code when loaded, so a file
    that asks for anything but numpy's array reconstruction is refused.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),  # numpy 1 wrote this name
        ("numpy._core.multiarray", "_reconstruct"),  # numpy 2
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 writes bytes into protocol-2 pickles
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        if name == "_reconstruct":
            # The archive's numpy-1 name is deprecated under numpy 2: take whichever exists.
            try:
                return super().find_class("numpy._core.multiarray", name)
            except ImportError:
                return super().find_class("numpy.core.multiarray", name)
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
        images = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError,
            AttributeError, IndexError) as exc:
        raise ValueError(f"{path} is not a CIFAR-10 python batch: {exc!r}") from exc
    if images.ndim != 2 or images.shape[1] != 3072 or labels.shape != (len(images),):
        raise ValueError(
            f"{path} holds images {images.shape} and labels {labels.shape}; expected "
            f"(n, 3072) and (n,)."
        )
    return images, labels


def load_cifar10(data_home=None) -> Bunch:
    """Load CIFAR-10 (50,000 training and 10,000 test images) from its python batches.

    Reads ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` of the standard
    "CIFAR-10 python version" archive (``cifar-10-python.tar.gz``, unpacked). Nothing is
    downloaded. The batches are pickles; only numpy arrays and plain containers are
    accepted from them.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Directory holding the six batch files, or holding the archive's
        ``cifar-10-batches-py`` folder. When ``None``, the environment variable
        ``SKLEARN_LADDER_DATA``, else ``<sklearn data home>/cifar10``.

    Returns
    -------
    Bunch
        ``X_train`` (50000, 3072) and ``X_test`` (10000, 3072) float32 pixels in [0, 1],
        each row an image of shape (3, 32, 32) flattened channel by channel (use
        ``input_shape=(3, 32, 32)``); ``y_train`` and ``y_test`` int64 labels 0-9;
        ``target_names`` the class names.

    Raises
    ------
    FileNotFoundError
        If a batch file is missing; the message lists the files, where it looked and how
        to get them.
    ValueError
        If a file is not a CIFAR-10 batch (or asks to load anything but arrays).

    See Also
    --------
    sklearn_ladder.preprocessing.ContrastNormalization, sklearn_ladder.preprocessing.ZCAWhitening :
        The paper's preprocessing for CIFAR-10, as pipeline steps.

    Examples
    --------
    >>> cifar = load_cifar10()  # doctest: +SKIP
    >>> cifar.X_train.shape, cifar.target_names[:3]  # doctest: +SKIP
    ((50000, 3072), ['airplane', 'automobile', 'bird'])
    >>> import tempfile
    >>> load_cifar10(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: CIFAR-10 files missing in ... (from the data_home argument): ...
    """
    directory, source = _data_directory(data_home, "cifar10")
    if (directory / CIFAR10_DIRECTORY).is_dir():
        directory = directory / CIFAR10_DIRECTORY
    missing = [name for name in CIFAR10_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 files missing in {directory} (from {source}): {', '.join(missing)}. "
            f"Unpack the 'CIFAR-10 python version' archive (cifar-10-python.tar.gz from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html) and pass the directory holding "
            f"{CIFAR10_DIRECTORY}/ (or its files) as data_home, or set {DATA_ENV_VAR}."
        )
    train = [_read_cifar_batch(directory / name) for name in CIFAR10_FILES[:-1]]
    test_images, test_labels = _read_cifar_batch(directory / "test_batch")
    return Bunch(
        X_train=_scale_pixels(np.concatenate([images for images, _ in train])),
        y_train=np.concatenate([labels for _, labels in train]),
        X_test=_scale_pixels(test_images),
        y_test=test_labels,
        target_names=["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                      "horse", "ship", "truck"],
    )


def _scale_pixels(images: np.ndarray) -> np.ndarray:
    # The paper's input scale; raw 0-255 pixels cost the ladder most of its accuracy.
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def _fetch_mnist_openml() -> Bunch:  # pragma: no cover - needs internet
    from sklearn.datasets import fetch_openml

    X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False,
                        parser="liac-arff")
    X = (X / 255.0).astype(np.float32)
    y = y.astype(np.int64)
    return Bunch(X_train=X[:60000], y_train=y[:60000], X_test=X[60000:], y_test=y[60000:])


def mask_labels(y, n_labeled: int, *, random_state=None) -> np.ndarray:
    """Keep ``n_labeled`` class-balanced labels and mark every other row unlabeled (-1).

    Each class keeps ``n_labeled / n_classes`` rows, chosen at random, as in the
    paper's experiments. The result is the ``y`` to pass to ``fit``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Fully labeled integer targets (no -1).
    n_labeled : int
        Number of labels to keep; a multiple of the number of classes.
    random_state : int, RandomState instance or None, default=None
        Chooses which rows keep their label.

    Returns
    -------
    ndarray of shape (n_samples,)
        ``y`` with all but the chosen rows set to -1.

    Raises
    ------
    ValueError
        If ``n_labeled`` is not a positive multiple of the number of classes, or a class
        has fewer rows than it must keep.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> y_semi = mask_labels(y, 2, random_state=0)
    >>> np.bincount(y_semi[y_semi >= 0]).tolist()
    [1, 1]
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if unlabeled_labels(y).any():
        raise ValueError("y already holds -1 (unlabeled) rows; pass the fully labeled target.")
    n_classes = len(classes)
    if n_labeled < n_classes or n_labeled % n_classes:
        raise ValueError(
            f"n_labeled={n_labeled} must be a positive multiple of the number of classes "
            f"({n_classes}) so that every class keeps as many labels."
        )
    per_class = n_labeled // n_classes
    short = {c: int(n) for c, n in zip(classes.tolist(), counts) if n < per_class}
    if short:
        raise ValueError(
            f"{per_class} labels per class were asked for, but these classes have fewer rows: "
            f"{short}."
        )
    rng = check_random_state(random_state)
    keep = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                           for c in classes])
    # Unsigned labels cannot hold -1 and string labels must hold the number -1, not '-1'.
    dtype = {"u": np.int64, "i": y.dtype, "f": y.dtype}.get(y.dtype.kind, object)
    masked = np.full(len(y), -1, dtype=dtype)
    masked[keep] = y[keep]
    return masked
