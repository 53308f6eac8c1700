"""The float-fallback line on the operator structure the LCE converter writes for larq-zoo's
XNOR-Net (its 6x6x256x4096 conv keeps a float kernel that `xnor_weight_scale` scales at run
time), and on a binary dense layer."""

from __future__ import annotations

import pytest

from bibench_deploy.lce.fallback import fallback_line, float_fallbacks
from bibench_deploy.lce.flatbuffer import Graph, Op

KERNEL = 6 * 6 * 256 * 4096


def _xnor_like_graph() -> Graph:
    """latent kernel -> RELU_N1_TO_1 (clip) -> ABS -> MEAN -> MUL -> TRANSPOSE -> CONV_2D."""
    t = dict(x=0, latent=1, clip=2, abs=3, axes=4, mean=5, scaled=6, perm=7, w=8, bias=9, out=10)
    ops = [Op("RELU_N1_TO_1", [t["latent"]], [t["clip"]]),
           Op("ABS", [t["clip"]], [t["abs"]]),
           Op("MEAN", [t["abs"], t["axes"]], [t["mean"]]),
           Op("MUL", [t["mean"], t["clip"]], [t["scaled"]]),
           Op("TRANSPOSE", [t["scaled"], t["perm"]], [t["w"]]),
           Op("CONV_2D", [t["x"], t["w"], t["bias"]], [t["out"]], macs=KERNEL)]
    names = {t["out"]: "xnornet/quant_conv2d_46/Conv2D;xnornet/batch_normalization_7/FusedBatchNorm"}
    const = {t["latent"]: 4 * KERNEL, t["axes"]: 12, t["perm"]: 16, t["bias"]: 4 * 4096}
    return Graph(ops, {}, names, const)


def _layer(name: str, kernel_quantizer: str = "ste_sign", **kwargs):
    import larq as lq
    import tensorflow as tf
    layer = lq.layers.QuantConv2D(4096, 6, input_quantizer="ste_sign", name=name,
                                  kernel_quantizer=kernel_quantizer, use_bias=False, **kwargs)
    layer.build((None, 6, 6, 256))
    return tf.keras.Sequential([tf.keras.Input((6, 6, 256)), layer])


def test_kernel_computed_at_run_time_is_named_with_its_float_weights():
    model = _layer("quant_conv2d_46", kernel_quantizer="magnitude_aware_sign")
    fallbacks = float_fallbacks(_xnor_like_graph(), model, ["quant_conv2d_46"])
    (entry,) = fallbacks["layers"]
    assert entry["kernel_computed_by"] == ["RELU_N1_TO_1", "ABS", "MEAN", "MUL", "TRANSPOSE"]
    assert fallbacks["bytes"] == 4 * KERNEL + 12 + 16 + 4 * 4096
    line = fallback_line(fallbacks, 170_150_000)
    assert line.startswith("float fallback: 1 binarized layer(s) run as float CONV_2D "
                           "(quant_conv2d_46): 37.7 M MACs, 151.0 MB of weights (89% of the file)")
    assert "kernel quantizer MagnitudeAwareSign unfolded over a 37.7 M-weight kernel" in line


def test_a_layer_that_is_not_binarized_is_not_a_fallback():
    model = _layer("quant_conv2d_46")
    assert float_fallbacks(_xnor_like_graph(), model, [])["layers"] == []
    assert fallback_line({"layers": []}, 1) == ("no float fallback: every binarized layer runs "
                                                "as a binary kernel")


@pytest.mark.parametrize("kwargs,expected", [
    ({"pad_values": 0.5, "padding": "same"}, "pad_values=0.5: use 1.0"),
    ({"input_quantizer": "ste_heaviside"}, "input quantizer SteHeaviside is not a sign"),
])
def test_advice_reads_the_layer_configuration(kwargs, expected):
    from bibench_deploy.lce.fallback import advice
    import larq as lq
    config = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign", **kwargs}
    layer = lq.layers.QuantConv2D(8, 3, **config)
    layer.build((None, 8, 8, 8))
    assert expected in advice(layer, [])
