import pickle

import numpy as np
import pytest

from bibench_deploy.data import load_dataset
from bibench_deploy.data.cifar10 import TEST_FILE, TRAIN_FILES
from bibench_deploy.errors import DatasetError


def write_cifar(directory, per_batch=4, seed=0):
    """A real CIFAR-10 python layout with few images per batch."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (*TRAIN_FILES, TEST_FILE):
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, per_batch).tolist(),
                 b"batch_label": name.encode()}
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f)
    return directory


def test_embedded_default_dataset():
    data = load_dataset("sklearn-digits-32")
    assert data.x_train.shape == (1437, 32, 32, 3) and data.x_test.shape == (360, 32, 32, 3)
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    assert sorted(set(data.y_test.tolist())) == list(range(10))
    assert data.summary()["name"] == "sklearn-digits-32"


def test_cifar10_reads_the_python_layout(tmp_path):
    write_cifar(tmp_path)
    data = load_dataset("cifar10", tmp_path)
    assert data.x_train.shape == (20, 32, 32, 3) and data.x_test.shape == (4, 32, 32, 3)
    with open(tmp_path / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")[b"data"][0]
    # channel-major row -> HWC: red plane first
    assert np.array_equal(data.x_train[0, :, :, 0].ravel(), first[:1024])
    assert np.array_equal(data.x_train[0, :, :, 2].ravel(), first[2048:])


def test_cifar10_needs_a_directory():
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset("cifar10", None)


def test_cifar10_missing_directory(tmp_path):
    with pytest.raises(DatasetError, match="is not a directory"):
        load_dataset("cifar10", tmp_path / "nope")


def test_cifar10_missing_file(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="data_batch_3 is missing"):
        load_dataset("cifar10", tmp_path)


def test_cifar10_not_a_pickle(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / TEST_FILE).write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="is not a CIFAR-10 python batch"):
        load_dataset("cifar10", tmp_path)


def test_cifar10_wrong_shape(tmp_path):
    write_cifar(tmp_path)
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}, f)
    with pytest.raises(DatasetError, match="expected N x 3072"):
        load_dataset("cifar10", tmp_path)
