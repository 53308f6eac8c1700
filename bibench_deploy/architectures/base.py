"""An architecture: a named builder of a Keras functional model for any algorithm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from bibench_deploy.algorithms.base import Algorithm

# body(inputs, algo, deploy) -> features before the classifier
Body = Callable[[Any, Algorithm, bool], Any]


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    input_size: int
    body: Body
    # BasicBlocks per stage where the Keras form is BiBench's ResNet_CIFAR, whose checkpoints
    # `import` maps; None for every other architecture.
    bibench_depths: Optional[tuple[int, ...]] = None

    def build(self, algo: Algorithm, num_classes: int, deploy: bool = False) -> Any:
        """The model for `algo` (training form, or deploy form when `deploy`): logits out."""
        import tensorflow as tf
        inputs = tf.keras.Input((self.input_size, self.input_size, 3), name="image")
        features = self.body(inputs, algo, deploy)
        logits = tf.keras.layers.Dense(num_classes, name="classifier")(features)
        return tf.keras.Model(inputs, logits, name=f"{self.name}-{algo.name}")


def conv_bn(x: Any, filters: int, kernel_size: int, strides: int, name: str) -> Any:
    """A full-precision conv + BatchNorm (stems, shortcuts)."""
    import tensorflow as tf
    x = tf.keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               use_bias=False, kernel_initializer="he_normal", name=name)(x)
    return batch_norm(x, f"{name}_bn")


def batch_norm(x: Any, name: str) -> Any:
    import tensorflow as tf
    return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)(x)
