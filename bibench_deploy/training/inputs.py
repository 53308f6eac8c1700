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


def _augment(images: Any, flip: bool, seed: Any) -> Any:
    """Random crop (reflect-padded by 4) and, where allowed, horizontal flip.

    Stateless ops keyed by `seed` (a [2] int tensor): the same seed gives the same augmentation
    whatever the thread interleaving of the input pipeline.
    """
    import tensorflow as tf
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    images = tf.image.stateless_random_crop(padded, tf.shape(images), crop_seed)
    images = tf.ensure_shape(images, [None, height, width, 3])
    return tf.image.stateless_random_flip_left_right(images, flip_seed) if flip else images


def epoch_orders(num_samples: int, epochs: int, seed: int) -> np.ndarray:
    """[epochs, num_samples]: the sample order of every epoch, drawn from `seed` alone."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(num_samples) for _ in range(max(epochs, 1))])


def train_dataset(dataset: Dataset, prep: Preprocessing, batch_size: int, seed: int,
                  epochs: int) -> Any:
    """All `epochs` epochs as one deterministic dataset of batches (`fit` with steps_per_epoch).

    Shuffling comes from `epoch_orders`, augmentation from stateless ops keyed by
    (seed, global batch index): the batches depend on the seed and the data only.
    """
    import tensorflow as tf
    images, labels = tf.constant(dataset.x_train), tf.constant(dataset.y_train)
    orders = tf.constant(epoch_orders(len(dataset.y_train), epochs, seed))
    ds = tf.data.Dataset.range(len(orders)).flat_map(
        lambda epoch: tf.data.Dataset.from_tensor_slices(orders[epoch]).batch(batch_size))
    ds = ds.enumerate()

    def load(step: Any, index: Any) -> Any:
        x = tf.cast(tf.gather(images, index), tf.float32)
        key = tf.stack([tf.cast(seed, tf.int64), step])
        return prep(_augment(x, dataset.flip_augment, key)), tf.gather(labels, index)
    return _prefetched(ds.map(load))


def _prefetched(ds: Any) -> Any:
    """`ds` with two batches prefetched and tf.data's autotuning off.

    With autotuning (AUTOTUNE buffers or parallel maps) and TensorFlow's op determinism on, the
    iterators `fit` leaves behind hold it for 9-28 s after the last step of a resnet18 epoch
    while their tuning thread winds down (measured: `fit` returned 9-12 s after its last
    callback, at once without autotuning). One batch's augmentation is far cheaper than a
    training step, so a fixed buffer of two keeps the input pipeline ahead.
    """
    import tensorflow as tf
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def steps_per_epoch(dataset: Dataset, batch_size: int) -> int:
    return -(-len(dataset.y_train) // batch_size)


def test_dataset(dataset: Dataset, prep: Preprocessing, batch_size: int) -> Any:
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((dataset.x_test, dataset.y_test)).batch(batch_size)
    return _prefetched(ds.map(lambda x, y: (prep(x), y)))


def audit_batch(dataset: Dataset, prep: Preprocessing) -> np.ndarray:
    return prep.numpy(dataset.x_test[:AUDIT_SAMPLES])
