"""XNOR-Net (Rastegari et al., ECCV 2016) as benchmarked by BiBench.

Training: conv(beta * sign(a), alpha_c * sign(W)), beta = mean|a| over (H, W, C) per sample,
alpha_c = mean|W| per output channel, both detached, clipSTE on both operands. Because beta is
one number per sample it commutes with the conv, so both forms compute
beta * bconv(sign(a), alpha_c * sign(W)): the conv stays binary and ABS, MEAN and MUL run in float;
the following BatchNorm can no longer fold into the conv, its shift stays a float ADD.
The sign's gradient is divided by beta so the pair has BiBench's clipSTE gradient exactly.
`XNOR(naive=True)` keeps beta * sign(a) as the input quantizer: LCE then runs a float conv.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm, DabnnSupport


class XNOR(Algorithm):
    name = "xnor"
    title = "XNOR-Net"
    paper = "Rastegari et al., XNOR-Net, ECCV 2016"
    inference_operator = "beta(a) * alpha_c * (sign(a) (*) sign(W)), beta = mean|a| at run time"
    bibench_conv = "XNORConv"
    inference_float_ops = ("ABS", "MEAN", "MUL", "ADD")
    dabnn = DabnnSupport(False, "no runtime activation scale: beta = mean|a| per sample "
                                "needs a float ABS/MEAN/MUL after the binary conv")

    def __init__(self, naive: bool = False):
        self.naive = naive

    def input_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms import quantizers
        return quantizers.InputScaledSign() if self.naive else quantizers.OutputScaledSign()

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.quantizers import MeanScaledSign
        return MeanScaledSign()

    def binary_conv(self, x, filters, kernel_size, strides, name, deploy=False):
        from bibench_deploy.algorithms.layers import sample_scale
        y = self.quant_conv(x, filters, kernel_size, strides, name, deploy)
        return y if self.naive else sample_scale(y, x, f"{name}_beta")


ALGORITHMS.register(XNOR.name, XNOR())
