"""Bi-Real Net (Liu et al., ECCV 2018) as benchmarked by BiBench.

Activations: sign(a) with the ApproxSign gradient (2 + 2a on [-1, 0), 2 - 2a on [0, 1), 0
elsewhere): Larq's `approx_sign` is exactly this. Weights: alpha_c * sign(W), alpha_c = mean|W|
per output channel (detached), clipSTE gradient. LCE folds alpha_c into the output multiplier.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class BiReal(Algorithm):
    name = "bireal"
    title = "Bi-Real Net"
    paper = "Liu et al., Bi-Real Net, ECCV 2018"
    inference_operator = "alpha_c * (sign(a) (*) sign(W))"
    bibench_conv = "BiRealConv"

    def input_quantizer(self, deploy: bool):
        return "approx_sign"

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.quantizers import MeanScaledSign
        return MeanScaledSign()


ALGORITHMS.register(BiReal.name, BiReal())
