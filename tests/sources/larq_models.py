"""Small Larq models for `add`: a QuickNet-like network (larq-zoo's block structure at 32x32),
one with a binary dense layer (LCE runs it as a float FULLY_CONNECTED), one without quantizers.

The QuickNet-like model follows larq-zoo 2.4.0's QuickNet: a float stem (strided conv,
depthwise conv, 1x1 conv), sections of residual blocks `x + BN(QuantConv2D(sign(x), sign(W)))`
(3x3, `pad_values=1.0`, ReLU, SteSign with clip 1.25 and a WeightClip constraint), pointwise
transitions (ReLU, max pool, strided depthwise conv, float 1x1 conv, BatchNorm) and a ReLU,
average pool over the whole map, float dense, softmax head.
"""

from __future__ import annotations

from typing import Any


def _sign() -> Any:
    import larq as lq
    return lq.quantizers.SteSign(clip_value=1.25)


def _residual_block(x: Any) -> Any:
    import larq as lq
    import tensorflow as tf
    residual = x
    x = lq.layers.QuantConv2D(int(x.shape[-1]), 3, activation="relu", input_quantizer=_sign(),
                              kernel_quantizer=_sign(),
                              kernel_constraint=lq.constraints.WeightClip(clip_value=1.25),
                              padding="same", pad_values=1.0, use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    return x + residual


def _transition(x: Any, filters: int) -> Any:
    import larq as lq
    import tensorflow as tf
    x = tf.keras.layers.Activation("relu")(x)
    x = tf.keras.layers.MaxPool2D(pool_size=2, strides=1)(x)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", strides=2, use_bias=False,
                                        trainable=False)(x)
    x = lq.layers.QuantConv2D(filters, 1, use_bias=False)(x)
    return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)


def quicknet_like(size: int = 32, classes: int = 10, blocks: int = 2,
                  filters: tuple[int, ...] = (32, 64)) -> Any:
    import larq as lq
    import tensorflow as tf
    inputs = tf.keras.Input((size, size, 3))
    x = lq.layers.QuantConv2D(filters[0] // 4, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.Activation("relu")(x)
    x = lq.layers.QuantDepthwiseConv2D(3, padding="same", strides=2, use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization(scale=False, center=False)(x)
    x = lq.layers.QuantConv2D(filters[0], 1, use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    for i, width in enumerate(filters):
        if i:
            x = _transition(x, width)
        for _ in range(blocks):
            x = _residual_block(x)
    x = tf.keras.layers.Activation("relu")(x)
    x = tf.keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)  # as larq-zoo pools
    x = tf.keras.layers.Flatten()(x)
    x = lq.layers.QuantDense(classes)(x)
    outputs = tf.keras.layers.Activation("softmax")(x)
    return tf.keras.Model(inputs, outputs, name="quicknet_like")


def binary_dense_net(size: int = 16, classes: int = 10) -> Any:
    """A binary conv, then a binary dense layer: LCE has no binary dense kernel."""
    import larq as lq
    import tensorflow as tf
    inputs = tf.keras.Input((size, size, 3))
    x = tf.keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    x = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign", use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.MaxPool2D(4)(x)
    x = tf.keras.layers.Flatten()(x)
    x = lq.layers.QuantDense(64, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                             use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    outputs = tf.keras.layers.Dense(classes)(x)
    return tf.keras.Model(inputs, outputs, name="binary_dense_net")


def float_net(size: int = 16, classes: int = 10) -> Any:
    import tensorflow as tf
    inputs = tf.keras.Input((size, size, 3))
    x = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(classes)(x), name="float_net")


def randomise_batchnorm(model: Any, seed: int = 0) -> Any:
    """Trained-looking BatchNorm statistics, so outputs do not sit on sign thresholds."""
    import numpy as np
    from bibench_deploy.training.untrained import randomize_batchnorm
    randomize_batchnorm(model, np.random.default_rng(seed))
    return model
