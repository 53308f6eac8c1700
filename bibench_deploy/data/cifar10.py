"""CIFAR-10 from a local directory in its standard python-pickle layout.

Expected files (the extracted `cifar-10-python.tar.gz`, i.e. `cifar-10-batches-py/`):
`data_batch_1` .. `data_batch_5` and `test_batch`, each a pickle with `data` (10000 x 3072 uint8,
channel-major rows) and `labels`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Optional

import numpy as np

from bibench_deploy.data.base import DATASETS, Dataset
from bibench_deploy.errors import DatasetError

NAME = "cifar10"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
_HINT = "pass --data-dir pointing at the extracted cifar-10-batches-py directory"


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(f"CIFAR-10: {path} is missing; {_HINT}")
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:  # any unpickling or key error means the file is not a CIFAR batch
        raise DatasetError(f"CIFAR-10: {path} is not a CIFAR-10 python batch "
                           f"({type(exc).__name__}); {_HINT}") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DatasetError(f"CIFAR-10: {path} has data of shape {data.shape} and "
                           f"{len(labels)} labels, expected N x 3072 and N; {_HINT}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"CIFAR-10: {path} has labels outside 0..9; {_HINT}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def load_cifar10(data_dir: Optional[Path]) -> Dataset:
    if data_dir is None:
        raise DatasetError(f"CIFAR-10 needs a local copy: {_HINT}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DatasetError(f"CIFAR-10: {data_dir} is not a directory; {_HINT}")
    train = [read_batch(data_dir / name) for name in TRAIN_FILES]
    x_test, y_test = read_batch(data_dir / TEST_FILE)
    return Dataset(NAME, f"CIFAR-10 from {data_dir}", np.concatenate([x for x, _ in train]),
                   np.concatenate([y for _, y in train]), x_test, y_test,
                   num_classes=10, flip_augment=True)


DATASETS.register(NAME, load_cifar10)
