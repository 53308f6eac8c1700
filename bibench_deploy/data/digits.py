"""The embedded default dataset: scikit-learn's handwritten digits, shipped inside the package.

1,797 8x8 grey images of the digits 0-9 (UCI optical recognition set), scaled to 0-255 and
upsampled to 32x32x3 by pixel repetition so CIFAR-shaped networks take them unchanged. The split
is fixed: a stratified 80/20 train/test split with seed 0. It is small and easy; it shows that
training works offline, it is not a benchmark of accuracy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from bibench_deploy.data.base import DATASETS, Dataset

NAME = "sklearn-digits-32"


def load_digits32(data_dir: Optional[Path] = None) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)       # [N, 8, 8]
    images = np.kron(images, np.ones((1, 4, 4), dtype=np.uint8))               # [N, 32, 32]
    images = np.repeat(images[..., None], 3, axis=-1)                          # [N, 32, 32, 3]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, stratify=labels, random_state=0)
    return Dataset(NAME, "scikit-learn handwritten digits (8x8) upsampled to 32x32x3, "
                   "stratified 80/20 split, seed 0", x_train, y_train, x_test, y_test,
                   num_classes=10, flip_augment=False)


DATASETS.register(NAME, load_digits32)
