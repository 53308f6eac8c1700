"""Theoretical complexity of a Keras model, one convention for the whole project.

Convention (BiBench, Bi-Real Net, ReActNet), counting what the deployed graph computes:
- BOPs = multiply-accumulates (MACs) of binarized conv, depthwise conv and dense layers (binary activations *and*
  binary weights); FLOPs = MACs of every full-precision such layer, plus the extra
  float operations an algorithm adds at inference (a layer that defines `extra_flops()`), plus
  2 FLOPs (a MUL and an ADD) per output element of a BatchNorm that cannot fold into the layer
  before it (`unfolded_batchnorm_flops`: after XNOR-Net's runtime beta, XNOR-Net++'s spatial
  Gamma, a max pool; the LCE flatbuffer keeps those MULs and ADDs).
- OPs = BOPs / 64 + FLOPs. Speedup r_s = FLOPs of the FP32 model / OPs.
- Params counted: conv, depthwise conv and dense weights and biases, and the learnable weights of layers with
  `extra_flops()`. Binary weights count 1/32 in `params_equiv = binary_params / 32 + fp_params`.
  Compression r_c = FP32 params / params_equiv.
- Not counted in r_c: BatchNorm (`batchnorm_params`: its folded per-channel scale and shift, 2
  per channel) and statistics-based scales (`derived_scale_params`: alpha_c = mean|W| of the
  deploy graph). larq's `lq.models.summary` counts both; `r_c_all_params` is r_c under that
  convention (both sides, with the FP32 model's `fp32_batchnorm_params`), so either can be
  reported.
- Activations, additions (also `x + y` of a functional model) and pooling count 0 FLOPs and 0 params; a BatchNorm that folds into
  the conv or dense layer before it (directly or through a per-channel constant scale) counts 0
  FLOPs. Any other layer type is listed in `uncounted` and never guessed.
"""

from bibench_deploy.complexity.counting import count_model, compare_to_fp32

__all__ = ["count_model", "compare_to_fp32"]
