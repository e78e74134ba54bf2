import gzip
import os
import pickle

import numpy as np
import pytest

from sklearn_ladder.datasets import MNIST_FILES, load_cifar10, load_mnist, mask_labels, read_idx


def write_idx(path, array, type_code=0x08, gz=True, header=None, cut=0):
    array = np.asarray(array)
    raw = header if header is not None else (
        bytes([0, 0, type_code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes())
    raw += array.astype(array.dtype.newbyteorder(">")).tobytes()
    raw = raw[:len(raw) - cut]
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(raw)
    return path


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a-idx3.gz", images)), images)
    labels = np.array([3, 1, 4], np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "b", labels, gz=False)), labels)


def test_read_idx_reads_big_endian_int32(tmp_path):
    values = np.array([[1, -2], [70000, 5]], np.int32)
    out = read_idx(write_idx(tmp_path / "c.gz", values, type_code=0x0C))
    np.testing.assert_array_equal(out, values)
    assert out.dtype == np.int32


def test_truncated_file_is_reported(tmp_path):
    path = write_idx(tmp_path / "t.gz", np.zeros((5, 4, 4), np.uint8), cut=7)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(path)


def test_wrong_magic_is_reported(tmp_path):
    header = bytes([1, 2, 8, 1, 0, 0, 0, 3])
    path = write_idx(tmp_path / "m.gz", np.zeros(3, np.uint8), header=header)
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(path)


def test_forged_huge_header_is_refused_without_allocating(tmp_path):
    header = bytes([0, 0, 8, 3]) + np.array([2**31 - 1] * 3, ">u4").tobytes()
    path = write_idx(tmp_path / "h.gz", np.zeros(1, np.uint8), header=header)
    with pytest.raises(ValueError, match="implausible"):
        read_idx(path)


def test_not_gzip_is_reported(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(ValueError, match="cannot read"):
        read_idx(path)


def test_missing_mnist_names_files_and_place(tmp_path, monkeypatch):
    monkeypatch.delenv("SKLEARN_LADDER_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "download_if_missing=True" in message
    for name in MNIST_FILES.values():
        assert name in message


def test_data_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_LADDER_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="SKLEARN_LADDER_DATA"):
        load_mnist()


@pytest.mark.skipif(not os.environ.get("SKLEARN_LADDER_DATA"),
                    reason="real MNIST: set SKLEARN_LADDER_DATA to the IDX files' directory")
def test_real_mnist_loads():
    data = load_mnist()
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert data.X_train.dtype == np.float32
    assert 0.0 == data.X_train.min() and data.X_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(data.y_test)[:3], [980, 1135, 1032])


def test_mask_labels_keeps_exact_counts_per_class():
    y = np.repeat(np.arange(10), 50)
    masked = mask_labels(y, 100, random_state=0)
    kept = masked >= 0
    assert kept.sum() == 100
    np.testing.assert_array_equal(np.bincount(masked[kept]), [10] * 10)
    np.testing.assert_array_equal(masked[kept], y[kept])


def test_mask_labels_is_reproducible_and_seed_dependent():
    y = np.repeat(np.arange(3), 20)
    a, b = mask_labels(y, 6, random_state=1), mask_labels(y, 6, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, mask_labels(y, 6, random_state=2))


def test_mask_labels_marks_string_targets_with_integer_minus_one():
    y = np.array(["a", "b"] * 5)
    masked = mask_labels(y, 2, random_state=0)
    assert masked.dtype == object
    assert sum(v == -1 for v in masked) == 8 and "-1" not in set(masked)


def test_mask_labels_errors():
    y = np.array([0] * 10 + [1] * 3)
    with pytest.raises(ValueError, match="fewer rows"):
        mask_labels(y, 8)
    with pytest.raises(ValueError, match="multiple of the number of classes"):
        mask_labels(y, 3)
    with pytest.raises(ValueError, match="already holds -1"):
        mask_labels(np.array([0, 1, -1]), 2)


def test_idx_reader_survives_corruption_with_clean_errors(tmp_path):
    """Byte-flipping and truncation fuzzing: every damaged file either reads (with the
    shape its header declares) or raises ValueError; nothing else escapes, and a forged
    header never makes the reader allocate more than its limit."""
    images = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)
    good = bytes([0, 0, 8, 3]) + np.asarray(images.shape, ">u4").tobytes() + images.tobytes()
    rng = np.random.default_rng(0)
    variants = [good[:cut] for cut in range(len(good))]  # every truncation
    for _ in range(300):  # random byte flips, mostly in the header
        damaged = bytearray(good)
        for pos in rng.integers(0, 16 if rng.random() < 0.8 else len(good), rng.integers(1, 4)):
            damaged[pos] = int(rng.integers(0, 256))
        variants.append(bytes(damaged))
    outcomes = {"read": 0, "error": 0}
    for i, raw in enumerate(variants):
        for gz in (True, False):
            path = tmp_path / f"v{i}{'.gz' if gz else ''}"
            if gz:
                with gzip.open(path, "wb") as f:
                    f.write(raw)
            else:
                path.write_bytes(raw)
            try:
                out = read_idx(path)
            except ValueError:
                outcomes["error"] += 1
            else:
                outcomes["read"] += 1
                assert out.size * out.itemsize <= len(raw)
    assert outcomes["error"] > 0 and outcomes["read"] > 0


def test_corrupt_gzip_stream_is_a_clean_error(tmp_path):
    path = write_idx(tmp_path / "c.gz", np.zeros((4, 4), np.uint8))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw[:-6]))
    with pytest.raises(ValueError):
        read_idx(path)


def write_cifar(directory, n_per_batch=4, seed=0):
    """Six small batches in the CIFAR-10 python format; returns the training images."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch).tolist()
        with open(directory / name, "wb") as f:
            pickle.dump({b"batch_label": b"x", b"data": images, b"labels": labels}, f,
                        protocol=2)
        train.append((images, labels))
    return train


def test_load_cifar10_reads_the_python_batches(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    cifar = load_cifar10(tmp_path)  # the folder of the archive is found inside
    assert cifar.X_train.shape == (20, 3072) and cifar.X_test.shape == (4, 3072)
    assert cifar.X_train.dtype == np.float32
    np.testing.assert_allclose(cifar.X_train[:4] * 255, batches[0][0], atol=1e-4)
    assert cifar.y_train.tolist() == [k for _, labels in batches[:5] for k in labels]
    assert cifar.y_test.tolist() == batches[5][1]
    assert cifar.target_names[0] == "airplane"
    # Channel-major rows: the first 1024 values of a row are the red plane.
    red = cifar.X_train.reshape(-1, 3, 32, 32)[0, 0]
    np.testing.assert_allclose(red.ravel() * 255, batches[0][0][0, :1024], atol=1e-4)


def test_load_cifar10_names_missing_files(tmp_path, monkeypatch):
    write_cifar(tmp_path)
    os.remove(tmp_path / "data_batch_3")
    monkeypatch.setenv("SKLEARN_LADDER_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"data_batch_3.*SKLEARN_LADDER_DATA"):
        load_cifar10()


def test_load_cifar10_refuses_pickles_that_run_code(tmp_path):
    write_cifar(tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f)
    with pytest.raises(ValueError, match="refusing to load"):
        load_cifar10(tmp_path)


def test_load_cifar10_refuses_wrong_shapes(tmp_path):
    write_cifar(tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 784), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(ValueError, match=r"expected \(n, 3072\)"):
        load_cifar10(tmp_path)
