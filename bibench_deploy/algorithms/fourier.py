"""FDA's quantizers: the Fourier-series gradient estimator and the noise-adaptation modules.

Xu et al., Learning Frequency Domain Approximation for Binary Neural Networks, NeurIPS 2021, as
implemented by BiBench. Importing this module imports TensorFlow.
"""

from __future__ import annotations

import math

import larq as lq
import tensorflow as tf

from bibench_deploy.algorithms.quantizers import (BinaryQuantizer, clip_ste,
                                                  per_channel_mean_abs, register_quantizer)

OMEGA = 0.1


def fourier_series_sum(x: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
    """sum_{i=0..n} cos((2i+1) w x), w = 0.1, as sin(2(n+1) w x) / (2 sin(w x)); n+1 at x = 0."""
    theta = OMEGA * x
    terms = tf.cast(n + 1, x.dtype)
    sin_theta = tf.sin(theta)
    safe = tf.where(sin_theta == 0.0, tf.ones_like(sin_theta), sin_theta)
    ratio = tf.sin(2.0 * terms * theta) / (2.0 * safe)
    return tf.where(sin_theta == 0.0, terms * tf.ones_like(x), ratio)


def fourier_sign(x: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
    """sign(x); gradient (4w/pi) * sum_{i=0..n} cos((2i+1) w x) * dy, zero where |x| > 1."""
    @tf.custom_gradient
    def _call(x):
        def grad(dy):
            return clip_ste(x, 4.0 * OMEGA / math.pi * fourier_series_sum(x, n) * dy)
        return lq.math.sign(x), grad
    return _call(x)


def _torch_linear_init():
    """PyTorch nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return tf.keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


class FourierQuantizer(BinaryQuantizer):
    """Holds FDA's schedule (n Fourier terms, noise weight lambda) and a noise-adaptation MLP.

    The MLP maps d -> d // 64 -> d (no bias, ReLU), d = the features it mixes; BiBench keeps a
    zero-width MLP when d < 64 (its output is then 0), so only 0.1 sin(x) remains. Training only:
    at inference lambda = 0 and the quantizer is sign(x).
    """

    def _build_schedule_and_mlp(self, features: int) -> None:
        self.fourier_n = self.add_weight(name="fourier_n", shape=(), dtype=tf.int32,
                                         initializer=tf.keras.initializers.Constant(9),
                                         trainable=False)
        self.noise_weight = self.add_weight(name="noise_weight", shape=(),
                                            initializer=tf.keras.initializers.Constant(0.1),
                                            trainable=False)
        hidden = features // 64
        self.fc1 = self.fc2 = None
        if hidden:
            self.fc1 = self.add_weight(name="fc1", shape=(features, hidden),
                                       initializer=_torch_linear_init())
            self.fc2 = self.add_weight(name="fc2", shape=(hidden, features),
                                       initializer=_torch_linear_init())

    def noise(self, rows: tf.Tensor) -> tf.Tensor:
        """NA(x) = fc2(relu(fc1(x))) + 0.1 sin(x) on the last axis."""
        out = 0.1 * tf.sin(rows)
        if self.fc1 is not None:
            out += tf.matmul(tf.nn.relu(tf.matmul(rows, self.fc1)), self.fc2)
        return out


@register_quantizer("fda_activation_sign")
class FdaActivationSign(FourierQuantizer):
    r"""FDA activations (Xu et al., Learning Frequency Domain Approximation, NeurIPS 2021).

    Training: sign(a) + lambda * NA_a(a), NA_a mixing channels at every position; pseudo-gradient
    of the sign: (4w/pi) sum_{i=0..n} cos((2i+1) w a), w = 0.1, zero where |a| > 1.
    Inference: sign(a).
    """

    def build(self, input_shape):
        self._build_schedule_and_mlp(int(input_shape[-1]))
        super().build(input_shape)

    def call(self, inputs, training=None):
        out = fourier_sign(inputs, self.fourier_n)
        return out + self.noise_weight * self.noise(inputs) if training else out


@register_quantizer("fda_kernel_sign")
class FdaKernelSign(FourierQuantizer):
    r"""FDA weights: alpha_c * (sign(W) + lambda * NA_w(W)), alpha_c = mean|W| (detached).

    NA_w mixes the d = kh*kw*C_in weights of each output channel; the sign's pseudo-gradient is
    the Fourier estimator of `FdaActivationSign`, scaled by alpha_c. Inference: alpha_c * sign(W).
    """

    def build(self, input_shape):
        self._build_schedule_and_mlp(int(math.prod(input_shape[:-1])))
        super().build(input_shape)

    def call(self, inputs, training=None):
        out = fourier_sign(inputs, self.fourier_n)
        if training:
            out += self.noise_weight * self._kernel_noise(inputs)
        return per_channel_mean_abs(inputs) * out

    def _kernel_noise(self, w: tf.Tensor) -> tf.Tensor:
        rows = tf.reshape(tf.transpose(w, [3, 0, 1, 2]), [w.shape[-1], -1])
        noise = tf.reshape(self.noise(rows), [w.shape[-1], *w.shape[:-1]])
        return tf.transpose(noise, [1, 2, 3, 0])
