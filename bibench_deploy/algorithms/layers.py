"""Small Keras layers shared by algorithms and architectures, serialisable by registered name.

The learnable or runtime parts of an algorithm that sit around its binary conv live here. A layer
that costs float operations at inference says how many in `extra_flops()` (one FLOP per output
element, per input element for reductions: the convention of the flatbuffer audit).
"""

from __future__ import annotations

from math import prod
from typing import Any, Callable


def kernel_scale(x: Any, source: str, name: str) -> Any:
    """x * mean|W_source| per output channel, derived from the trained kernel of `source`."""
    return _layer_classes()["KernelScale"](source, name=name)(x)


def hardtanh(x: Any, name: str) -> Any:
    """clip(x, -1, 1), BiBench's activation."""
    return _layer_classes()["Hardtanh"](name=name)(x)


def symmetric_padding(x: Any, kernel_size: int, name: str) -> Any:
    """Zero-pad like PyTorch's `padding=k//2` (BiBench) in front of a strided binary conv.

    Deploy forms only, in front of an elementwise sign: zeros binarize to +1, so this is the
    +1 padding of the binarized input (what training computes with `PaddedInput`), as an
    explicit ZeroPadding2D -> QuantConv2D("valid") that the LCE converter runs as PAD +
    LceBconv2d and the daBNN export reads. TF's "same" would pad 0 before and 1 after with
    stride 2 on an even input, shifting the sampling grid against the 1x1 shortcut. Only for
    binary convs: LCE 0.16 fuses ZeroPadding2D -> float Conv2D(valid, stride 2) into a SAME
    CONV_2D, which computes something else.
    """
    import tensorflow as tf
    return tf.keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)


def max_pool_padding(x: Any, padding: int, name: str) -> Any:
    """Pad with -inf in front of a 'valid' max pool: PyTorch's `MaxPool2d(padding=p)`.

    A max pool never selects -inf (every window holds a real pixel), so the pooled values are
    those of a pool that ignores its padding, as PyTorch, TF 'same' and daBNN (-FLT_MAX) do,
    whatever the sign of the input. TFLite runs it as PADV2 + MAX_POOL_2D (LCE fuses padding
    into convolutions only).
    """
    return _layer_classes()["MaxPoolPadding2D"](padding, name=name)(x)


def padding_correction(y: Any, conv: Any, conv_input: Any, offset: float, name: str) -> Any:
    """y - offset * (what `conv`'s binary kernel sums over the padded taps of each output).

    `conv` reads its binarized input padded with +1; subtracting the constant conv(P, W_b),
    P = the padding alone (1 on padded pixels, 0 inside), gives the conv of the input padded
    with 1 - offset, exactly (integer sums of +-1 in float32). Derived from the trained
    kernel of `conv` with the deploy conv's kernel quantizer.
    """
    import larq as lq
    return _layer_classes()["PaddingCorrection"](
        source=conv.name, kernel_quantizer=lq.quantizers.serialize(conv.kernel_quantizer),
        input_size=[int(d) for d in conv_input.shape[1:3]], kernel_size=int(conv.kernel_size[0]),
        strides=int(conv.strides[0]), offset=float(offset), name=name)(y)


def channel_shift(x: Any, name: str) -> Any:
    """x + b, b learnable per channel, init 0 (ReActNet's RSign threshold)."""
    return _layer_classes()["ChannelShift"](name=name)(x)


def channel_scale(x: Any, name: str) -> Any:
    """x * alpha, alpha learnable per channel, init uniform(0, 1) (ReCU)."""
    return _layer_classes()["ChannelScale"](name=name)(x)


def sample_scale(conv_out: Any, conv_in: Any, name: str) -> Any:
    """conv_out * mean|conv_in| per sample, detached (XNOR-Net's beta on the conv output)."""
    return _layer_classes()["SampleScale"](name=name)([conv_out, conv_in])


def spatial_scale(x: Any, name: str) -> Any:
    """x * Gamma, Gamma[h, w, c] = h_scale[h] * w_scale[w] * o_scale[c], init 1 (XNOR-Net++)."""
    return _layer_classes()["SpatialScale"](name=name)(x)


_CLASSES: dict[str, Any] = {}


def _layer_classes() -> dict[str, Any]:
    """Define the layer classes on first use, so importing this module does not import TF."""
    if not _CLASSES:
        _define_classes()
    return _CLASSES


def _define_classes() -> None:
    import tensorflow as tf
    register = tf.keras.utils.register_keras_serializable(package="bibench")
    classes = [register(define(tf)) for define in _DEFINITIONS]
    _CLASSES.update({cls.__name__: cls for cls in classes})


# Each function below defines one class from the `tf` module it is given; `_define_classes`
# registers them (as "bibench>ClassName") in this order.
_DEFINITIONS: list[Callable[[Any], type]] = []


def _definition(define: Callable[[Any], type]) -> Callable[[Any], type]:
    _DEFINITIONS.append(define)
    return define


@_definition
def _hardtanh_class(tf: Any) -> type:
    class Hardtanh(tf.keras.layers.Layer):
        def call(self, inputs):
            return tf.clip_by_value(inputs, -1.0, 1.0)

    return Hardtanh


@_definition
def _kernel_scale_class(tf: Any) -> type:
    class KernelScale(tf.keras.layers.Layer):
        """alpha_c = mean|W| of a trained conv kernel, as a constant multiply after the conv.

        Deploy form of alpha_c * sign(W): the conv then sums +-1 exactly, as LCE's binary
        kernel does, and LCE folds this multiply into the output multiplier. Derived from the
        trained layer named `source` when weights are transferred.
        """

        def __init__(self, source: str, **kwargs):
            super().__init__(**kwargs)
            self.source = source

        def build(self, input_shape):
            self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],),
                                         initializer="ones", trainable=False)

        def call(self, inputs):
            return inputs * self.alpha

        def derive(self, source_layer) -> None:
            kernel = tf.convert_to_tensor(source_layer.kernel)
            self.alpha.assign(tf.cast(tf.reduce_mean(tf.abs(kernel), axis=[0, 1, 2]),
                                      self.alpha.dtype))

        def get_config(self):
            return {**super().get_config(), "source": self.source}

    return KernelScale


@_definition
def _channel_shift_class(tf: Any) -> type:
    class ChannelShift(tf.keras.layers.Layer):
        def build(self, input_shape):
            self.elements = prod(input_shape[1:])
            self.threshold = self.add_weight(name="threshold", shape=(input_shape[-1],),
                                             initializer="zeros")

        def call(self, inputs):
            return inputs + self.threshold

        def extra_flops(self) -> int:
            return self.elements  # one ADD per input element

    return ChannelShift


@_definition
def _channel_scale_class(tf: Any) -> type:
    class ChannelScale(tf.keras.layers.Layer):
        def build(self, input_shape):
            self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],),
                                         initializer=tf.keras.initializers.RandomUniform(0.0, 1.0))

        def call(self, inputs):
            return inputs * self.alpha

        def extra_flops(self) -> int:
            return 0  # per output channel: folds into the binary conv's output multiplier

    return ChannelScale


@_definition
def _sample_scale_class(tf: Any) -> type:
    class SampleScale(tf.keras.layers.Layer):
        def build(self, input_shape):
            out_shape, in_shape = input_shape
            self.out_elements, self.in_elements = prod(out_shape[1:]), prod(in_shape[1:])
            self.in_positions = prod(in_shape[1:3])

        def call(self, inputs):
            conv_out, conv_in = inputs
            # Mean over C, then over (H, W): the same value as one mean over (H, W, C), but
            # short float sums, so TF and TFLite round it alike (a 1e-5 relative difference in
            # beta flips bits at near-threshold positions, and flips compound with depth).
            per_position = tf.reduce_mean(tf.abs(conv_in), axis=-1, keepdims=True)
            beta = tf.reduce_mean(per_position, axis=[1, 2], keepdims=True)
            return conv_out * tf.stop_gradient(beta)

        def extra_flops(self) -> int:
            # ABS and the channel MEAN per input element, the spatial MEAN per position, MUL
            return 2 * self.in_elements + self.in_positions + self.out_elements

    return SampleScale


@_definition
def _spatial_scale_class(tf: Any) -> type:
    class SpatialScale(tf.keras.layers.Layer):
        def build(self, input_shape):
            height, width, channels = (int(d) for d in input_shape[1:])
            self.elements = height * width * channels
            self.h_scale = self.add_weight(name="h_scale", shape=(height, 1, 1), initializer="ones")
            self.w_scale = self.add_weight(name="w_scale", shape=(1, width, 1), initializer="ones")
            self.o_scale = self.add_weight(name="o_scale", shape=(channels,), initializer="ones")

        def call(self, inputs):
            # Flattened first: LCE 0.16 fuses any constant MUL that directly follows a binary
            # conv into its per-channel output multiplier without checking shapes, and the
            # interpreter then refuses the [H, W, C]-shaped multiplier. Values are unchanged.
            gamma = tf.reshape(self.h_scale * self.w_scale * self.o_scale, [-1])
            flat = tf.reshape(inputs, [-1, self.elements]) * gamma
            return tf.reshape(flat, tf.shape(inputs))

        def extra_flops(self) -> int:
            return self.elements  # one MUL per output element (the reshapes move no data)

    return SpatialScale


@_definition
def _padding_correction_class(tf: Any) -> type:
    class PaddingCorrection(tf.keras.layers.Layer):
        """A derived constant subtracted after a +1-padded binary conv (see padding_correction).

        Subtracted on the flattened tensor: LCE 0.16 fuses an [H, W, C]-shaped constant that
        directly follows a binary conv into its bias, and the interpreter then aborts.
        """

        def __init__(self, source: str, kernel_quantizer: Any, input_size: list[int],
                     kernel_size: int, strides: int, offset: float, **kwargs):
            super().__init__(**kwargs)
            self.source, self.kernel_quantizer = source, kernel_quantizer
            self.input_size, self.kernel_size = list(input_size), int(kernel_size)
            self.strides, self.offset = int(strides), float(offset)

        def build(self, input_shape):
            self.elements = prod(int(d) for d in input_shape[1:])
            self.correction = self.add_weight(name="correction", shape=(self.elements,),
                                              initializer="zeros", trainable=False)

        def call(self, inputs):
            flat = tf.reshape(inputs, [-1, self.elements]) - self.correction
            return tf.reshape(flat, tf.shape(inputs))

        def derive(self, source_layer) -> None:
            import larq as lq
            latent = tf.convert_to_tensor(source_layer.kernel)
            kernel = lq.quantizers.get(self.kernel_quantizer)(latent)
            pad = self.kernel_size // 2
            padding_only = tf.pad(tf.zeros([1, *self.input_size, latent.shape[2]], latent.dtype),
                                  [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=1.0)
            sums = tf.nn.conv2d(padding_only, tf.cast(kernel, latent.dtype), self.strides,
                                "VALID")
            self.correction.assign(tf.cast(tf.reshape(self.offset * sums, [-1]),
                                           self.correction.dtype))

        def extra_flops(self) -> int:
            return self.elements  # one SUB per output element (the reshapes move no data)

        def get_config(self):
            return {**super().get_config(), "source": self.source,
                    "kernel_quantizer": self.kernel_quantizer, "input_size": self.input_size,
                    "kernel_size": self.kernel_size, "strides": self.strides,
                    "offset": self.offset}

    return PaddingCorrection


@_definition
def _max_pool_padding2d_class(tf: Any) -> type:
    class MaxPoolPadding2D(tf.keras.layers.Layer):
        """-inf padding of H and W, `padding` as ZeroPadding2D's ((top, bottom), (left, right))
        or one int for all four (see max_pool_padding)."""

        def __init__(self, padding: Any = 1, **kwargs):
            super().__init__(**kwargs)
            if isinstance(padding, int):
                padding = ((padding, padding), (padding, padding))
            self.padding = tuple(tuple(int(p) for p in pair) for pair in padding)

        def call(self, inputs):
            (top, bottom), (left, right) = self.padding
            return tf.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]],
                          constant_values=float("-inf"))

        def get_config(self):
            return {**super().get_config(), "padding": self.padding}

    return MaxPoolPadding2D


def custom_objects() -> dict[str, Any]:
    """Everything needed to reload a saved model (registered objects load by name anyway)."""
    import bibench_deploy.algorithms.fourier  # noqa: F401  (registers the quantizers)
    import bibench_deploy.algorithms.quantizers  # noqa: F401
    return dict(_layer_classes())
