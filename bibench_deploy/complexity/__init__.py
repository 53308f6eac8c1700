"""Theoretical complexity of a Keras model, one convention for the whole project.

Convention (BiBench, Bi-Real Net, ReActNet):
- BOPs = multiply-accumulates (MACs) of binarized conv, depthwise conv and dense layers (binary
  activations *and* binary weights); FLOPs = MACs of every full-precision such layer, plus the
  extra float operations an algorithm adds at inference (a layer that defines `extra_flops()`).
- OPs = BOPs / 64 + FLOPs. Speedup r_s = FLOPs of the FP32 model / OPs.
- Params counted: conv, depthwise conv and dense weights and biases. Binary weights count 1/32 in
  `params_equiv = binary_params / 32 + fp_params`. Compression r_c = FP32 params / params_equiv.
- BatchNorm, activations, additions (also `x + y` of a functional model) and pooling count 0 FLOPs and 0 params: BatchNorm folds
  into the preceding conv at inference, and the others are not MACs. Any other layer type is
  listed in `uncounted` and never guessed.
"""

from bibench_deploy.complexity.counting import count_model, compare_to_fp32

__all__ = ["count_model", "compare_to_fp32"]
