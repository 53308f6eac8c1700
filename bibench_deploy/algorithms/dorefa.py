"""DoReFa-Net (Zhou et al., 2016) as benchmarked by BiBench.

Activations: sign(a) with the clipped STE. Weights: alpha_c * sign(W) with alpha_c = mean|W| per
output channel, detached (BiBench's per-channel form; the paper uses one scalar per layer),
gradient clipSTE (BiBench keeps alpha inside the detached part, so the gradient is not scaled by
it; Larq's `magnitude_aware_sign` would scale it). LCE folds alpha_c into the binary conv's
output multiplier.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class DoReFa(Algorithm):
    name = "dorefa"
    title = "DoReFa-Net"
    paper = "Zhou et al., DoReFa-Net, arXiv:1606.06160"
    inference_operator = "alpha_c * (sign(a) (*) sign(W))"
    bibench_conv = "DoReFaConv"

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.quantizers import MeanScaledSign
        return MeanScaledSign()


ALGORITHMS.register(DoReFa.name, DoReFa())
