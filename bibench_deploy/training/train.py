"""Training with Keras: optimiser, cosine learning-rate schedule, per-epoch history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.training.inputs import (Preprocessing, steps_per_epoch, test_dataset,
                                            train_dataset)
from bibench_deploy.data.base import Dataset
from bibench_deploy.tracing import keras_without_autograph


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"  # adam | sgd (momentum 0.9)
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "optimizer": self.optimizer, "lr_schedule": "cosine decay to 0 over all steps",
                "seed": self.seed}


def make_optimizer(config: TrainConfig, steps: int) -> Any:
    import tensorflow as tf
    schedule = tf.keras.optimizers.schedules.CosineDecay(config.lr, max(steps, 1))
    if config.optimizer == "sgd":
        return tf.keras.optimizers.SGD(schedule, momentum=0.9)
    return tf.keras.optimizers.Adam(schedule)


def compile_model(model: Any, optimizer: Any = "adam") -> None:
    import tensorflow as tf
    keras_without_autograph()
    model.compile(optimizer=optimizer,
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


class _EpochProgress:
    """Adapts a `progress(done, total, text)` function to a Keras callback."""

    def __new__(cls, report: Callable[[int, int, str], None], epochs: int, steps: int,
                epoch_end: Optional[Callable[[dict[str, float], int], None]] = None):
        import tensorflow as tf

        class Callback(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch_end is not None:
                    epoch_end(_epoch_record(epoch, logs or {}), epochs)

            def on_train_batch_end(self, batch, logs=None):
                report(self.epoch * steps + batch + 1, epochs * steps,
                       f"epoch {self.epoch + 1}/{epochs} loss {logs.get('loss', 0):.3f}")

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

        return Callback()


def train(model: Any, algo: Algorithm, dataset: Dataset, prep: Preprocessing,
          config: TrainConfig, progress: Optional[Callable[[int, int, str], None]] = None,
          epoch_end: Optional[Callable[[dict[str, float], int], None]] = None,
          ) -> list[dict[str, float]]:
    """Train in place; return one {epoch, loss, train_accuracy, test_accuracy} per epoch."""
    import tensorflow as tf
    tf.keras.utils.set_random_seed(config.seed)
    train_ds = train_dataset(dataset, prep, config.batch_size, config.seed, config.epochs)
    steps = steps_per_epoch(dataset, config.batch_size)
    compile_model(model, make_optimizer(config, steps * config.epochs))
    callbacks = list(algo.callbacks(config.epochs))
    if progress is not None:
        callbacks.append(_EpochProgress(progress, config.epochs, steps, epoch_end))
    history = model.fit(train_ds, epochs=config.epochs, steps_per_epoch=steps, verbose=0,
                        callbacks=callbacks,
                        validation_data=test_dataset(dataset, prep, 256))
    h = history.history
    return [_epoch_record(i, {k: v[i] for k, v in h.items()}) for i in range(config.epochs)]


def _epoch_record(index: int, logs: dict[str, Any]) -> dict[str, float]:
    return {"epoch": index + 1, "loss": float(logs["loss"]),
            "train_accuracy": float(logs["accuracy"]), "test_accuracy": float(logs["val_accuracy"])}


def weights_sha256(model: Any) -> str:
    """sha256 over every weight of `model` (shape, dtype and bytes, in layer order)."""
    import hashlib
    import numpy as np
    digest = hashlib.sha256()
    for weight in model.get_weights():
        array = np.ascontiguousarray(weight)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
