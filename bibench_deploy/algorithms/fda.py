"""FDA (Xu et al., Learning Frequency Domain Approximation for BNNs, NeurIPS 2021), as in BiBench.

Training: sign(a) + lambda * NA_a(a) and alpha_c * (sign(W) + lambda * NA_w(W)), the signs with
the Fourier-series gradient (n terms), alpha_c = mean|W| (detached); n runs 9 -> 17 and lambda
0.1 -> 0 over the epochs. Inference (lambda = 0): alpha_c * (sign(a) (*) sign(W)); the
noise-adaptation MLPs are training-only and are not in the deploy graph.
"""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class FDA(Algorithm):
    name = "fda"
    title = "FDA"
    paper = "Xu et al., Learning Frequency Domain Approximation for BNNs, NeurIPS 2021"
    inference_operator = "alpha_c * (sign(a) (*) sign(W))"
    bibench_conv = "FDAConv"
    bibench_conv_state = ("fourier",)

    def input_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.fourier import FdaActivationSign
        return "ste_sign" if deploy else FdaActivationSign()

    def kernel_quantizer(self, deploy: bool):
        from bibench_deploy.algorithms.fourier import FdaKernelSign
        from bibench_deploy.algorithms.quantizers import MeanScaledSign
        return MeanScaledSign() if deploy else FdaKernelSign()

    def callbacks(self, epochs: int):
        from bibench_deploy.algorithms import schedules
        from bibench_deploy.algorithms.fourier import FourierQuantizer

        def apply(model, epoch):
            for quantizer in schedules.quantizers(model, FourierQuantizer):
                quantizer.fourier_n.assign(schedules.fda_terms(epoch, epochs))
                quantizer.noise_weight.assign(schedules.fda_noise_weight(epoch, epochs))
        return [schedules.epoch_callback(apply)]


ALGORITHMS.register(FDA.name, FDA())
