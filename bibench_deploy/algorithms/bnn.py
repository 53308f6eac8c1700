"""BNN (Courbariaux et al., 2016): sign on activations and weights, clipped STE on both."""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.algorithms.base import Algorithm


class BNN(Algorithm):
    name = "bnn"
    title = "BNN"
    paper = "Courbariaux et al., Binarized Neural Networks, NeurIPS 2016"
    inference_operator = "sign(a) (*) sign(W)"
    bibench_conv = "BNNConv"


ALGORITHMS.register(BNN.name, BNN())
