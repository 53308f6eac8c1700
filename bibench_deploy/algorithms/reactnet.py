"""ReActNet (Liu et al., ECCV 2020) as benchmarked by BiBench.

RSign: sign(a + b_c), b learnable per input channel (init 0), ApproxSign gradient of (a + b).
Weights: alpha_c * sign(W) (detached alpha, clipSTE). At inference b is one float ADD before the
quantize; the converter folds it only when the sign directly follows conv -> BatchNorm.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm, DabnnSupport


class ReActNet(Algorithm):
    name = "reactnet"
    title = "ReActNet"
    paper = "Liu et al., ReActNet, ECCV 2020"
    inference_operator = "alpha_c * (sign(a + b_c) (*) sign(W)), b_c a float add"
    bibench_conv = "ReActConv"
    inference_float_ops = ("ADD",)
    dabnn = DabnnSupport(False, "the per-channel threshold add needs a separate float layer "
                                "before the binarization")

    def input_quantizer(self, deploy: bool):
        return "approx_sign"

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.quantizers import MeanScaledSign
        return MeanScaledSign()

    def binary_conv(self, x, filters, kernel_size, strides, name, deploy=False):
        from bibench_deploy.algorithms.layers import channel_shift
        x = channel_shift(x, f"{name}_threshold")
        return self.quant_conv(x, filters, kernel_size, strides, name, deploy)


ALGORITHMS.register(ReActNet.name, ReActNet())
