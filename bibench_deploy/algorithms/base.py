"""What a binarization algorithm is to the rest of the project.

An `Algorithm` builds one binarized convolution (training form and deploy form) and may add
per-epoch schedules. Architectures call `algo.binary_conv(...)` and never know which algorithm
they got; the FP32 baseline is the same interface with float convolutions.

The *training form* is what Keras trains. The *deploy form* is the inference operator the engines
run: numerically equal to the training form in inference mode, and shaped so that the LCE
converter turns every binarized convolution into `LceBconv2d`. Both forms share layer names and
weight names, so trained weights move from one to the other by name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar, Optional

# Padding policies of binary convs: the value their binarized input is padded with.
# "one": +1, LCE's fast same-one padding, what daBNN can run (it pads with -1 after negation).
# "zero": 0, BiBench's semantics (`F.conv2d(padding=k//2)` on the binarized input).
PADDING_VALUES = {"one": 1.0, "zero": 0.0}
ZERO_PADDING_DABNN = ("daBNN pads binary convs with -1 only, so a zero-padded model has no "
                      "exact .dab; build or import with --padding one for daBNN")


@dataclass(frozen=True)
class DabnnSupport:
    supported: bool
    reason: str = ""


class Algorithm:
    """Base class: a plain binary convolution with `ste_sign` on activations and weights.

    Registered instances pad binary convs with +1; `with_padding("zero")` gives the same
    algorithm with BiBench's zero padding.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    paper: ClassVar[str]
    inference_operator: ClassVar[str]
    binarized: ClassVar[bool] = True
    dabnn: ClassVar[DabnnSupport] = DabnnSupport(True)
    # Float operator types the inference operator adds around its binary convs in LCE.
    inference_float_ops: ClassVar[tuple[str, ...]] = ()
    # For `import`: BiBench's `conv_cfg` type of this binary conv (its configs name it), None
    # where BiBench has none; and what its checkpoints store per binary conv beside the weight:
    # "tau" (ReCU's schedule), "fourier" (FDA's schedule and noise MLPs), "alpha" (the scale
    # layer `<conv>_alpha` after the conv).
    bibench_conv: ClassVar[Optional[str]] = None
    bibench_conv_state: ClassVar[tuple[str, ...]] = ()
    padding: str = "one"

    def with_padding(self, padding: str) -> "Algorithm":
        """This algorithm with binary convs padded by policy `padding` ("one" or "zero")."""
        if padding not in PADDING_VALUES:
            from bibench_deploy.errors import UnknownNameError
            raise UnknownNameError(f"unknown padding {padding!r}: use --padding one or zero")
        if padding == self.padding:
            return self
        twin = copy.copy(self)
        twin.padding = padding
        twin.dabnn = (DabnnSupport(False, ZERO_PADDING_DABNN)
                      if padding == "zero" and self.dabnn.supported else type(self).dabnn)
        return twin

    @property
    def pad_value(self) -> float:
        return PADDING_VALUES[self.padding]

    # Activation used by the architectures between blocks (BiBench: Hardtanh everywhere).
    def activation(self, x: Any, name: str) -> Any:
        from bibench_deploy.algorithms.layers import hardtanh
        return hardtanh(x, name)

    def input_quantizer(self, deploy: bool) -> Any:
        return "ste_sign"

    def kernel_quantizer(self, deploy: bool) -> Any:
        return "ste_sign"

    def binary_conv(self, x: Any, filters: int, kernel_size: int, strides: int, name: str,
                    deploy: bool = False) -> Any:
        """One binarized conv; the architecture adds BatchNorm after it."""
        return self.quant_conv(x, filters, kernel_size, strides, name, deploy)

    def quant_conv(self, x: Any, filters: int, kernel_size: int, strides: int, name: str,
                   deploy: bool) -> Any:
        """The `QuantConv2D` with this algorithm's quantizers (no bias).

        The binarized input is padded with `pad_value` (+1 or 0) after quantizing, at every
        stride. Stride 1 is TF "same" padding, symmetric for odd kernels (larq quantizes, then
        pads; LCE runs both values natively). Other strides
        pad like PyTorch's `padding=k//2` (BiBench): the input quantizer pads its output
        (`PaddedInput`) in front of a "valid" conv. A deploy form whose input quantizer maps 0
        to +1 pads the float input with zeros instead: the same operand (deploy quantizers are
        elementwise; XNOR-Net's naive beta * sign(a) maps 0 to 0), in the form the LCE
        converter and the daBNN export run (see `symmetric_padding`); for zero padding an
        exact constant then removes what the +1 padding added (`padding_correction`).
        """
        import larq as lq
        from bibench_deploy.algorithms.layers import symmetric_padding
        from bibench_deploy.algorithms.quantizers import MeanScaledSign, PaddedInput
        _quiet_starved_weights_warning()
        input_quantizer, padding = self.input_quantizer(deploy), "same"
        corrected_input = None
        if strides != 1:
            padding = "valid"
            if deploy and _binarizes_zero_to_plus_one(input_quantizer):
                corrected_input = x if self.pad_value != 1.0 else None
                x = symmetric_padding(x, kernel_size, name)
            else:
                input_quantizer = PaddedInput(input_quantizer, kernel_size // 2, self.pad_value)
        kernel_quantizer = self.kernel_quantizer(deploy)
        scale_after = deploy and isinstance(kernel_quantizer, MeanScaledSign)
        conv = lq.layers.QuantConv2D(
            filters, kernel_size, strides=strides, padding=padding, pad_values=self.pad_value,
            use_bias=False, input_quantizer=input_quantizer,
            kernel_quantizer="ste_sign" if scale_after else kernel_quantizer,
            kernel_initializer="glorot_normal", name=name)
        y = conv(x)
        if corrected_input is not None:
            from bibench_deploy.algorithms.layers import padding_correction
            y = padding_correction(y, conv, corrected_input, 1.0 - self.pad_value,
                                   name=f"{name}_padding")
        if scale_after:  # alpha_c out of the conv: exact +-1 sums, as in LCE's binary kernel
            from bibench_deploy.algorithms.layers import kernel_scale
            y = kernel_scale(y, source=name, name=f"{name}_alpha")
        return y

    def callbacks(self, epochs: int) -> list[Any]:
        """Keras callbacks that run the algorithm's per-epoch schedules."""
        return []

    def __repr__(self) -> str:
        return f"<Algorithm {self.name}>"


class FullPrecision(Algorithm):
    """The FP32 baseline: the same architecture (Hardtanh included) with float convolutions."""

    name = "fp32"
    title = "FP32 baseline"
    paper = ""
    inference_operator = "float conv"
    binarized = False

    def binary_conv(self, x: Any, filters: int, kernel_size: int, strides: int, name: str,
                    deploy: bool = False) -> Any:
        import tensorflow as tf
        # TF "same" padding: LCE 0.16's converter fuses an explicit ZeroPadding2D into a float
        # CONV_2D as SAME padding, which is wrong for stride 2 (the audit catches it).
        return tf.keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                                      use_bias=False, kernel_initializer="he_normal", name=name)(x)


FP32 = FullPrecision()


def _quiet_starved_weights_warning() -> None:
    """BiBench trains without a weight clip constraint; larq warns about that on every layer."""
    import logging
    logging.getLogger("larq.layers_base").setLevel(logging.ERROR)


def _binarizes_zero_to_plus_one(quantizer: Any) -> bool:
    """quantizer(0) == +1, probed on a fresh instance (zeros padded before it become +1)."""
    import larq as lq
    import tensorflow as tf
    probe = lq.quantizers.get(lq.quantizers.serialize(lq.quantizers.get(quantizer)))
    return bool(tf.reduce_all(probe(tf.zeros((1, 1, 1, 1))) == 1.0))
