"""DoReFa-Net (Zhou et al., 2016) as benchmarked by BiBench.

Activations: sign(a) with the clipped STE. Weights: alpha_c * sign(W) with alpha_c = mean|W| per
output channel, detached (BiBench's per-channel form; the paper uses one scalar per layer),
gradient alpha_c * clipSTE. Larq's `magnitude_aware_sign` is exactly this quantizer. LCE folds
alpha_c into the binary conv's output multiplier.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class DoReFa(Algorithm):
    name = "dorefa"
    title = "DoReFa-Net"
    paper = "Zhou et al., DoReFa-Net, arXiv:1606.06160"
    inference_operator = "alpha_c * (sign(a) (*) sign(W))"

    def kernel_quantizer(self, deploy: bool):
        return "magnitude_aware_sign"


ALGORITHMS.register(DoReFa.name, DoReFa())
