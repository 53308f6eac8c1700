"""Binary quantizers of the BiBench algorithms that Larq does not ship in exact form.

Each is a `tf.custom_gradient` function (forward + pseudo-gradient) and a serialisable
`lq.quantizers.Quantizer` with `precision = 1`, registered by class name and alias so saved models
reload without `custom_objects`. Forwards use `lq.math.sign` (0 -> +1), the sign the LCE converter
recognises. Scales computed from statistics are wrapped in `tf.stop_gradient` (BiBench detaches
them). Kernels are Keras-shaped [kh, kw, C_in, C_out]: "per output channel" reduces every axis
but the last. Importing this module imports TensorFlow.
"""

from __future__ import annotations

import math

import larq as lq
import tensorflow as tf

CLIP = 1.0
RECU_EPS = 1e-5


def register_quantizer(alias: str):
    def wrap(cls):
        return lq.utils.register_alias(alias)(lq.utils.register_keras_custom_object(cls))
    return wrap


def clip_ste(x: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    """dy where |x| <= 1, else 0 (the gradient of clamp(x, -1, 1))."""
    return tf.where(tf.abs(x) <= CLIP, dy, tf.zeros_like(dy))


def per_channel_mean_abs(w: tf.Tensor) -> tf.Tensor:
    """alpha_c = mean|W| over every axis but the last, detached."""
    return tf.stop_gradient(tf.reduce_mean(tf.abs(w), axis=list(range(w.shape.rank - 1))))


def per_sample_mean_abs(a: tf.Tensor) -> tf.Tensor:
    """beta_n = mean|a| over (H, W, C) of each sample, shape [N, 1, 1, 1], detached."""
    return tf.stop_gradient(tf.reduce_mean(tf.abs(a), axis=[1, 2, 3], keepdims=True))


# --- functions -----------------------------------------------------------------------------

def mean_scaled_sign(w: tf.Tensor) -> tf.Tensor:
    """alpha_c * sign(W); gradient clipSTE(W), not scaled by alpha (alpha is detached)."""
    @tf.custom_gradient
    def _call(w):
        return per_channel_mean_abs(w) * lq.math.sign(w), lambda dy: clip_ste(w, dy)
    return _call(w)


def output_scaled_sign(a: tf.Tensor) -> tf.Tensor:
    """sign(a) whose gradient is clipSTE(a) * dy / beta(a).

    XNOR-Net's beta is applied to the conv output (`layers.OutputScale`), which multiplies the
    gradient reaching this sign by beta; dividing it out gives BiBench's clipSTE exactly.
    """
    @tf.custom_gradient
    def _call(a):
        def grad(dy):
            return clip_ste(a, tf.math.divide_no_nan(dy, per_sample_mean_abs(a)))
        return lq.math.sign(a), grad
    return _call(a)


def input_scaled_sign(a: tf.Tensor) -> tf.Tensor:
    """beta_n * sign(a) with beta_n = mean|a| per sample (detached); gradient clipSTE(a)."""
    @tf.custom_gradient
    def _call(a):
        return per_sample_mean_abs(a) * lq.math.sign(a), lambda dy: clip_ste(a, dy)
    return _call(a)


def recu_sign(a_hat: tf.Tensor) -> tf.Tensor:
    """sign(a_hat); gradient max(0, 2 - 2|a_hat|) * dy (ReCU's activation estimator)."""
    @tf.custom_gradient
    def _call(x):
        return lq.math.sign(x), lambda dy: tf.maximum(0.0, 2.0 - 2.0 * tf.abs(x)) * dy
    return _call(a_hat)


def identity_sign(x: tf.Tensor) -> tf.Tensor:
    """sign(x); gradient dy everywhere (ReCU's weight estimator: the clamp before it masks)."""
    @tf.custom_gradient
    def _call(x):
        return lq.math.sign(x), lambda dy: dy
    return _call(x)


def recu_standardise_kernel(w: tf.Tensor) -> tf.Tensor:
    """W_hat = 2 sqrt(2) (W - mu_c) / sqrt(var_c + 1e-5), var_c unbiased (torch.var), with grad."""
    axes = list(range(w.shape.rank - 1))
    centred = w - tf.reduce_mean(w, axis=axes)
    count = tf.cast(tf.reduce_prod(tf.shape(w)[:-1]), w.dtype)
    var = tf.reduce_sum(tf.square(centred), axis=axes) / (count - 1.0)
    return centred / (tf.sqrt(var + RECU_EPS) / 2.0 / math.sqrt(2.0))


def recu_standardise_activation(a: tf.Tensor) -> tf.Tensor:
    """a / sqrt(var(a) + 1e-5) per sample over (H, W, C), var unbiased; the gradient flows."""
    count = tf.cast(tf.reduce_prod(tf.shape(a)[1:]), a.dtype)
    mean = tf.reduce_mean(a, axis=[1, 2, 3], keepdims=True)
    var = tf.reduce_sum(tf.square(a - mean), axis=[1, 2, 3], keepdims=True) / (count - 1.0)
    return a / tf.sqrt(var + RECU_EPS)


def recu_clip_value(w_hat: tf.Tensor, tau: tf.Tensor) -> tf.Tensor:
    """Q = -mean|W_hat| * ln(2 - 2 tau) over the whole layer, detached (+inf at tau = 1)."""
    return tf.stop_gradient(-tf.reduce_mean(tf.abs(w_hat)) * tf.math.log(2.0 - 2.0 * tau))


# --- serialisable quantizers ---------------------------------------------------------------

class BinaryQuantizer(lq.quantizers.Quantizer):
    """Base of this project's quantizers: binary output (for counting and Larq's summaries).

    Larq's private `_BaseQuantizer` hides non-trainable weights; schedule state (ReCU's tau,
    FDA's n and lambda) must be saved with the model, so this derives from `Quantizer`.
    """

    precision = 1


@register_quantizer("mean_scaled_sign")
class MeanScaledSign(BinaryQuantizer):
    r"""alpha_c * sign(W), alpha_c = mean|W| per output channel (detached).

    Pseudo-gradient: clipSTE(W) = 1 where |W| <= 1, unscaled (BiBench puts alpha in the detached
    part of its straight-through expression, unlike Larq's `magnitude_aware_sign`).
    Kernel quantizer of XNOR-Net (Rastegari et al., ECCV 2016), DoReFa-Net as benchmarked by
    BiBench, Bi-Real Net (Liu et al., ECCV 2018) and ReActNet (Liu et al., ECCV 2020).
    """

    def call(self, inputs):
        return mean_scaled_sign(inputs)


@register_quantizer("output_scaled_sign")
class OutputScaledSign(BinaryQuantizer):
    r"""sign(a) for XNOR-Net when beta = mean|a| is applied to the conv output.

    Pseudo-gradient: clipSTE(a) / beta(a): together with the output scale this is exactly the
    gradient of beta * sign(a) with clipSTE (Rastegari et al., XNOR-Net, ECCV 2016; BiBench).
    """

    def call(self, inputs):
        return output_scaled_sign(inputs)


@register_quantizer("input_scaled_sign")
class InputScaledSign(BinaryQuantizer):
    r"""beta_n * sign(a), beta_n = mean|a| over (H, W, C) per sample (detached); grad clipSTE.

    XNOR-Net's activation quantizer written literally (Rastegari et al., ECCV 2016). The LCE
    converter cannot run a conv fed by it as a binary kernel: it becomes a float CONV_2D.
    """

    def call(self, inputs):
        return input_scaled_sign(inputs)


@register_quantizer("recu_activation_sign")
class RecuActivationSign(BinaryQuantizer):
    r"""ReCU activations (Xu et al., ReCU, ICCV 2021, as in BiBench).

    Training: sign(a_hat), a_hat = a / sqrt(var(a) + 1e-5) per sample; pseudo-gradient
    max(0, 2 - 2|a_hat|), flowing through the standardisation. Inference: sign(a) (same values).
    """

    def call(self, inputs, training=None):
        return recu_sign(recu_standardise_activation(inputs) if training else inputs)


@register_quantizer("recu_kernel_sign")
class RecuKernelSign(BinaryQuantizer):
    r"""ReCU weights: sign(clamp(W_hat, -Q, Q)), W_hat = 2 sqrt(2) (W - mu_c) / sigma_c.

    Q = -mean|W_hat| * ln(2 - 2 tau) (detached) with tau set per epoch by the ReCU schedule
    (1.0 until set: no clamp). Pseudo-gradient: 1 inside [-Q, Q], 0 outside, flowing through the
    standardisation (Xu et al., ReCU, ICCV 2021, as in BiBench). The sign equals sign(W - mu_c).
    """

    def build(self, input_shape):
        self.tau = self.add_weight(name="tau", shape=(), initializer=tf.keras.initializers.Ones(),
                                   trainable=False)
        super().build(input_shape)

    def call(self, inputs):
        w_hat = recu_standardise_kernel(inputs)
        q = recu_clip_value(w_hat, self.tau)
        return identity_sign(tf.clip_by_value(w_hat, -q, q))


@register_quantizer("mean_centred_sign")
class MeanCentredSign(BinaryQuantizer):
    r"""sign(W - mu_c), mu_c = mean of W per output channel: ReCU's kernel at inference.

    Pseudo-gradient: identity (an inference form; training uses `RecuKernelSign`).
    """

    def call(self, inputs):
        axes = list(range(inputs.shape.rank - 1))
        return identity_sign(inputs - tf.reduce_mean(inputs, axis=axes))


@register_quantizer("padded_input")
class PaddedInput(lq.quantizers.Quantizer):
    r"""The input operand of a 'valid' binary conv: `quantizer(a)`, then padded with `value`.

    Quantize first, then pad, as BiBench does (`F.conv2d(padding=k // 2)` on the binarized
    input): statistics a quantizer takes over its input (XNOR-Net's beta, ReCU's per-sample
    variance) never see the padding, and neither do gradients. The padding is PyTorch's
    symmetric `pad` pixels on each side, with the binary conv's padding value (+1 or 0).
    """

    def __init__(self, quantizer, pad: int, value: float, **kwargs):
        super().__init__(**kwargs)
        self.quantizer = lq.quantizers.get(quantizer)
        self.pad, self.value = int(pad), float(value)

    @property
    def precision(self):
        return getattr(self.quantizer, "precision", None)

    def call(self, inputs, training=None):
        quantized = self.quantizer(inputs, training=training)
        pads = [[0, 0], [self.pad, self.pad], [self.pad, self.pad], [0, 0]]
        return tf.pad(quantized, pads, constant_values=self.value)

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        for axis in (1, 2):
            shape[axis] = None if shape[axis] is None else shape[axis] + 2 * self.pad
        return tf.TensorShape(shape)

    def get_config(self):
        return {**super().get_config(), "quantizer": lq.quantizers.serialize(self.quantizer),
                "pad": self.pad, "value": self.value}
