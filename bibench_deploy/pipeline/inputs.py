"""Input pipelines: normalisation, resizing to the architecture's size, augmentation."""

from __future__ import annotations

from typing import Any

import numpy as np

from bibench_deploy.data.base import Dataset

AUDIT_SAMPLES = 100  # the fixed audit batch: the first test images, in file order


class Preprocessing:
    """uint8 NHWC -> normalised float32 at `size` x `size`; its parameters go to the manifest."""

    def __init__(self, dataset: Dataset, size: int):
        self.mean, self.std = dataset.channel_stats()
        self.size = size

    def __call__(self, images: Any) -> Any:
        import tensorflow as tf
        x = (tf.cast(images, tf.float32) / 255.0 - self.mean) / self.std
        if x.shape[-2] != self.size:
            x = tf.image.resize(x, (self.size, self.size), method="bilinear")
        return x

    def numpy(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self(images), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {"scale": "x / 255", "mean": self.mean, "std": self.std, "size": self.size,
                "resize": "bilinear when the dataset's size differs"}


def _augment(images: Any, flip: bool) -> Any:
    import tensorflow as tf
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    images = tf.image.random_crop(padded, tf.shape(images))
    images = tf.ensure_shape(images, [None, height, width, 3])
    return tf.image.random_flip_left_right(images) if flip else images


def train_dataset(dataset: Dataset, prep: Preprocessing, batch_size: int, seed: int) -> Any:
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((dataset.x_train, dataset.y_train))
    ds = ds.shuffle(len(dataset.y_train), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(lambda x, y: (prep(_augment(tf.cast(x, tf.float32), dataset.flip_augment)), y),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def test_dataset(dataset: Dataset, prep: Preprocessing, batch_size: int) -> Any:
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((dataset.x_test, dataset.y_test)).batch(batch_size)
    return ds.map(lambda x, y: (prep(x), y)).prefetch(tf.data.AUTOTUNE)


def audit_batch(dataset: Dataset, prep: Preprocessing) -> np.ndarray:
    return prep.numpy(dataset.x_test[:AUDIT_SAMPLES])
