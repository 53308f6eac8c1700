"""The `.dab` FlatBuffers format (namespace `flatbnn`, root `Model`, no file identifier).

Every table is described by its fields in declaration order; a field's position is its slot in
the vtable. Field kinds: `byte`, `bool`, `uint32`, `int32`, `string`, `strings` (vector of
strings), `int32s`, `uint32s`, `uint64s`, `float32s` (vectors of scalars), a table name (a nested
table) or `[Table]` (a vector of tables). The writer and the reader are both driven by this table.
"""

from __future__ import annotations

MODEL_VERSION = 2  # the runtime aborts on any other version

DATA_TYPES = ("Float32", "Bit")
LAYER_TYPES = ("FpConv2D", "AvePool", "MaxPool", "Relu", "Softmax", "FC", "Add", "Concat",
               "BinConv2D", "Affine", "Binarize", "Split", "Shuffle", "PRelu")

_CONV = (("input", "string"), ("weight", "string"), ("bias", "string"), ("pads", "int32s"),
         ("strides", "int32s"), ("dilations", "int32s"), ("output", "string"))
_POOL = (("input", "string"), ("kernel_shape", "int32s"), ("pads", "int32s"),
         ("strides", "int32s"), ("output", "string"))
_UNARY = (("input", "string"), ("output", "string"))

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "Tensor": (("data_type", "byte"), ("bin_data", "uint64s"), ("float32_data", "float32s"),
               ("shape", "uint32s"), ("name", "string"), ("align_hwc_to_128", "bool")),
    "Input": (("shape", "uint32s"), ("name", "string")),
    "Binarize": _UNARY,
    "BinConv2D": _CONV,
    "FpConv2D": _CONV,
    "AvePool": _POOL,
    "MaxPool": _POOL,
    "Relu": _UNARY,
    "Softmax": _UNARY,
    "FC": (("input", "string"), ("weight", "string"), ("bias", "string"), ("output", "string")),
    "Add": (("input1", "string"), ("input2", "string"), ("output", "string")),
    "Concat": (("inputs", "strings"), ("axis", "int32"), ("output", "string")),
    "Shuffle": _UNARY,
    "Split": (("input", "string"), ("outputs", "strings")),
    "Affine": (("input", "string"), ("a", "string"), ("b", "string"), ("output", "string")),
    "PRelu": (("input", "string"), ("slope", "string"), ("output", "string")),
    "Layer": (("type", "byte"), ("fp_conv2d_param", "FpConv2D"),
              ("bin_conv2d_param", "BinConv2D"), ("avepool_param", "AvePool"),
              ("maxpool_param", "MaxPool"), ("relu_param", "Relu"),
              ("softmax_param", "Softmax"), ("fc_param", "FC"), ("add_param", "Add"),
              ("concat_param", "Concat"), ("affine_param", "Affine"),
              ("binarize_param", "Binarize"), ("split_param", "Split"),
              ("shuffle_param", "Shuffle"), ("name", "string"), ("prelu_param", "PRelu")),
    "Model": (("layers", "[Layer]"), ("initializers", "[Tensor]"), ("inputs", "[Input]"),
              ("version", "uint32")),
}

# The Layer field that holds each layer type's parameters (exactly one is set per layer).
PARAM_FIELD = {layer_type: field for layer_type, field in zip(
    LAYER_TYPES, ("fp_conv2d_param", "avepool_param", "maxpool_param", "relu_param",
                  "softmax_param", "fc_param", "add_param", "concat_param",
                  "bin_conv2d_param", "affine_param", "binarize_param", "split_param",
                  "shuffle_param", "prelu_param"))}

SCALAR_VECTORS = {"int32s": "int32", "uint32s": "uint32", "uint64s": "uint64",
                  "float32s": "float32"}
