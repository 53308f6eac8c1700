"""Small Keras/Larq models with the layers of BiBench's CIFAR ResNets, built in the tests."""

from __future__ import annotations

import numpy as np


def hardtanh_class():
    import tensorflow as tf

    class Hardtanh(tf.keras.layers.Layer):
        def call(self, inputs):
            return tf.clip_by_value(inputs, -1.0, 1.0)

    return Hardtanh


def scaled_sign(kernel):
    """alpha * sign(W), alpha = mean |W| per output channel (Larq's sign: sign(0) = +1)."""
    import larq as lq
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(kernel), axis=[0, 1, 2]) * lq.math.sign(kernel)


def resnet_like(size: int = 8, seed: int = 0, binary_stride: int = 1, pad_values: float = 1.0,
                relu_on_block_input: bool = False, explicit_padding: bool = False,
                width: int | None = None):
    """Stem conv + BN + Hardtanh, two residual blocks (binary 3x3 conv + BN, the second with a
    1x1 conv + BN shortcut and alpha * sign weights), global pooling, Dense. With
    `explicit_padding` the binary convs read a symmetric ZeroPadding2D and are 'valid'; the
    input is size x size, or size x width."""
    import larq as lq
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    layers, hardtanh = tf.keras.layers, hardtanh_class()

    def binary_conv(x, filters, kernel_quantizer="ste_sign", strides=1):
        if explicit_padding:
            x = layers.ZeroPadding2D(1)(x)
        return lq.layers.QuantConv2D(filters, 3, strides=strides,
                                     padding="valid" if explicit_padding else "same",
                                     pad_values=pad_values, use_bias=False,
                                     input_quantizer="ste_sign",
                                     kernel_quantizer=kernel_quantizer)(x)

    inputs = tf.keras.Input((size, width or size, 3))
    x = hardtanh()(layers.BatchNormalization()(layers.Conv2D(32, 3, padding="same")(inputs)))
    if relu_on_block_input:
        x = layers.Activation("relu")(x)
    y = layers.BatchNormalization()(binary_conv(x, 32))
    x = hardtanh()(layers.Add()([y, x]))
    shortcut = layers.BatchNormalization()(layers.Conv2D(64, 1, strides=binary_stride,
                                                         use_bias=False)(x))
    y = layers.BatchNormalization()(binary_conv(x, 64, scaled_sign, binary_stride))
    x = hardtanh()(layers.Add()([y, shortcut]))
    logits = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    model = tf.keras.Model(inputs, logits)
    _randomize_batchnorm(model, np.random.default_rng(seed))
    return model


def _randomize_batchnorm(model, rng) -> None:
    import tensorflow as tf

    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, channels), rng.uniform(-0.5, 0.5, channels),
                               rng.uniform(-3, 3, channels), rng.uniform(1, 9, channels)])


def imagenet_stem_like(size: int = 29, seed: int = 0):
    """ResNet-18's ImageNet stem (7x7/2 conv + BN + Hardtanh + 3x3/2 max pool, TF 'same': on
    an odd input both pad symmetrically) into a basic block whose +1-padded binary conv and
    identity shortcut read the max pool's output, global pooling, Dense."""
    import larq as lq
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    layers, hardtanh = tf.keras.layers, hardtanh_class()
    inputs = tf.keras.Input((size, size, 3))
    x = hardtanh()(layers.BatchNormalization()(layers.Conv2D(32, 7, 2, padding="same")(inputs)))
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    y = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, use_bias=False,
                              input_quantizer="ste_sign", kernel_quantizer="ste_sign")(x)
    x = hardtanh()(layers.Add()([layers.BatchNormalization()(y), x]))
    logits = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    model = tf.keras.Model(inputs, logits)
    _randomize_batchnorm(model, np.random.default_rng(seed))
    return model


def vgg_like(size: int = 8, seed: int = 0):
    """VGG-Small's form: FP conv, binary conv -> max pool -> BN -> Hardtanh, a second binary
    conv, Flatten of the 4x4 map into a Dense classifier."""
    import larq as lq
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    layers, hardtanh = tf.keras.layers, hardtanh_class()

    def binary_conv(x):
        return lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, use_bias=False,
                                     input_quantizer="ste_sign", kernel_quantizer="ste_sign")(x)

    inputs = tf.keras.Input((size, size, 3))
    x = hardtanh()(layers.BatchNormalization()(layers.Conv2D(32, 3, padding="same")(inputs)))
    x = hardtanh()(layers.BatchNormalization()(layers.MaxPool2D(2)(binary_conv(x))))
    x = hardtanh()(layers.BatchNormalization()(binary_conv(x)))
    logits = layers.Dense(10)(layers.Flatten()(x))
    model = tf.keras.Model(inputs, logits)
    _randomize_batchnorm(model, np.random.default_rng(seed))
    return model
