"""A dataset in memory: uint8 NHWC images and integer labels, split into train and test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from bibench_deploy.registry import Registry


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    x_train: np.ndarray  # uint8 [N, H, W, 3]
    y_train: np.ndarray  # int64 [N]
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    flip_augment: bool  # horizontal flips keep the label (true for CIFAR, not for digits)

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images, on the 0..1 scale."""
        x = self.x_train.astype(np.float64) / 255.0
        return x.mean(axis=(0, 1, 2)).tolist(), (x.std(axis=(0, 1, 2)) + 1e-8).tolist()

    def summary(self) -> dict:
        return {"name": self.name, "description": self.description,
                "train_samples": int(len(self.y_train)), "test_samples": int(len(self.y_test)),
                "image_shape": list(self.x_train.shape[1:]), "num_classes": self.num_classes}


Loader = Callable[[Optional[Path]], Dataset]
DATASETS: Registry[Loader] = Registry("dataset")


def load_dataset(name: str, data_dir: Optional[Path] = None) -> Dataset:
    return DATASETS.get(name)(data_dir)
