"""XNOR-Net++ (Bulat and Tzimiropoulos, BMVC 2019) as benchmarked by BiBench.

sign(a) and sign(W) with clipSTE on both; the conv output is multiplied by a learnable
Gamma = o[C_out] (x) h[H_out] (x) w[W_out] (init 1). At inference Gamma is a constant [H, W, C]
tensor: one float MUL per output element after the binary conv, which cannot fold per channel;
the BatchNorm after it stays a float MUL + ADD. The multiply runs on the flattened tensor (two
RESHAPEs) so that LCE does not fuse it into the conv's per-channel multiplier (see SpatialScale).
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm, DabnnSupport


class XNORPlusPlus(Algorithm):
    name = "xnorpp"
    title = "XNOR-Net++"
    paper = "Bulat and Tzimiropoulos, XNOR-Net++, BMVC 2019"
    inference_operator = "Gamma[h, w, c] * (sign(a) (*) sign(W)), Gamma a constant MUL"
    bibench_conv = "XNORPlusPlusConv"
    inference_float_ops = ("RESHAPE", "MUL", "ADD")
    dabnn = DabnnSupport(False, "no spatial (h, w, c) output scale: Gamma needs a float MUL "
                                "and cannot fold into the per-channel BatchNorm")

    def binary_conv(self, x, filters, kernel_size, strides, name, deploy=False):
        from bibench_deploy.algorithms.layers import spatial_scale
        y = self.quant_conv(x, filters, kernel_size, strides, name, deploy)
        return spatial_scale(y, f"{name}_gamma")


ALGORITHMS.register(XNORPlusPlus.name, XNORPlusPlus())
