import numpy as np

from bibench_deploy.dabnn.bitpack import pack_weights
from bibench_deploy.dabnn.model import DabModel, DabTensor


def small_model() -> DabModel:
    model = DabModel("input", (1, 4, 4, 64))
    weights = np.where(np.arange(2 * 9 * 64).reshape(2, 3, 3, 64) % 3, 1.0, -1.0)
    model.add_tensor(DabTensor("w", weights.shape, bits=pack_weights(weights)))
    model.add_tensor(DabTensor("a", (2,), floats=np.array([-2, -2], np.float32)))
    model.add_tensor(DabTensor("b", (2,), floats=np.array([576, 576], np.float32)))
    model.add_layer("BinConv2D", "conv", input="input", weight="w", pads=[1, 1, 1, 1],
                    strides=[1, 1], dilations=[1, 1], output="conv_out")
    model.add_layer("Affine", input="conv_out", a="a", b="b", output="affine_out")
    model.add_layer("Concat", inputs=["affine_out", "conv_out"], axis=3, output="cat")
    return model


def test_bytes_round_trip():
    model = small_model()
    again = DabModel.from_bytes(model.to_bytes())
    assert again.input_name == "input" and again.input_shape == (1, 4, 4, 64)
    assert [(l.type, l.name) for l in again.layers] == [
        ("BinConv2D", "conv"), ("Affine", ""), ("Concat", "")]
    assert again.layers[0].params == model.layers[0].params
    assert again.layers[2].params["inputs"] == ["affine_out", "conv_out"]
    np.testing.assert_array_equal(again.tensors["w"].bits, model.tensors["w"].bits)
    np.testing.assert_array_equal(again.tensors["b"].floats, [576, 576])


def test_fields_sit_in_the_schema_slots():
    """Read the raw buffer with flatbuffers' own Table: Model.version is slot 3, and the first
    layer's type byte (slot 0) is BinConv2D = 8 with its parameters in slot 2."""
    import flatbuffers
    from flatbuffers import number_types as nt

    buffer = bytearray(small_model().to_bytes())
    model = flatbuffers.table.Table(buffer, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buffer, 0))
    assert model.Get(nt.Uint32Flags, model.Offset(4 + 2 * 3) + model.Pos) == 2
    layers = model.Vector(model.Offset(4))
    layer = flatbuffers.table.Table(buffer, model.Indirect(layers))
    assert layer.Get(nt.Int8Flags, layer.Offset(4) + layer.Pos) == 8
    assert layer.Offset(4 + 2 * 2) != 0 and layer.Offset(4 + 2 * 1) == 0
