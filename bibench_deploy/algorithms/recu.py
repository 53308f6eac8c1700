"""ReCU (Xu et al., ICCV 2021) as benchmarked by BiBench.

Training: sign(a / std(a)) per sample with gradient max(0, 2 - 2|a_hat|); weights
sign(clamp(W_hat, -Q, Q)), W_hat = 2 sqrt(2) (W - mu_c) / sigma_c, Q from tau (schedule
0.85 -> 0.99 per epoch); the conv output is multiplied by a learnable alpha_c (init uniform(0, 1)).
Inference: alpha_c * (sign(a) (*) sign(W - mu_c)): the mean-centring is constant-folded and
alpha_c folds into the binary conv's output multiplier.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class ReCU(Algorithm):
    name = "recu"
    title = "ReCU"
    paper = "Xu et al., ReCU: Reviving the Dead Weights in BNNs, ICCV 2021"
    inference_operator = "alpha_c * (sign(a) (*) sign(W - mu_c))"
    bibench_conv = "ReCUConv"
    bibench_conv_state = ("tau", "alpha")

    def input_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.quantizers import RecuActivationSign
        return "ste_sign" if deploy else RecuActivationSign()

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms import quantizers
        return quantizers.MeanCentredSign() if deploy else quantizers.RecuKernelSign()

    def binary_conv(self, x, filters, kernel_size, strides, name, deploy=False):
        from bibench_deploy.algorithms.layers import channel_scale
        y = self.quant_conv(x, filters, kernel_size, strides, name, deploy)
        return channel_scale(y, f"{name}_alpha")

    def callbacks(self, epochs: int):
        from bibench_deploy.algorithms import schedules
        from bibench_deploy.algorithms.quantizers import RecuKernelSign

        def apply(model, epoch):
            for quantizer in schedules.quantizers(model, RecuKernelSign):
                quantizer.tau.assign(schedules.recu_tau(epoch, epochs))
        return [schedules.epoch_callback(apply)]


ALGORITHMS.register(ReCU.name, ReCU())
