"""An in-memory daBNN model and its `.dab` bytes.

Activations are float32 NHWC with batch 1 and are referenced by name; layers run in list order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bibench_deploy.dabnn import flatbuf
from bibench_deploy.dabnn.schema import DATA_TYPES, LAYER_TYPES, MODEL_VERSION, PARAM_FIELD

IN_PLACE_TYPES = frozenset({"Relu", "Affine", "Add", "PRelu"})  # they overwrite their input


@dataclass
class DabTensor:
    """A constant: float32 data (`floats`) or bit-packed binary weights (`bits`, uint64 words)."""
    name: str
    shape: tuple[int, ...]
    floats: np.ndarray | None = None
    bits: np.ndarray | None = None
    align_hwc_to_128: bool = False


@dataclass
class DabLayer:
    type: str  # one of schema.LAYER_TYPES
    params: dict  # the fields of the layer type's parameter table
    name: str = ""


@dataclass
class DabModel:
    input_name: str
    input_shape: tuple[int, int, int, int]  # (1, H, W, C)
    layers: list[DabLayer] = field(default_factory=list)
    tensors: dict[str, DabTensor] = field(default_factory=dict)

    def add_tensor(self, tensor: DabTensor) -> str:
        self.tensors[tensor.name] = tensor
        return tensor.name

    def add_layer(self, layer_type: str, name: str = "", **params) -> DabLayer:
        layer = DabLayer(layer_type, params, name)
        self.layers.append(layer)
        return layer

    def to_bytes(self) -> bytes:
        return flatbuf.encode("Model", {
            "layers": [_layer_values(layer) for layer in self.layers],
            "initializers": [_tensor_values(tensor) for tensor in self.tensors.values()],
            "inputs": [{"shape": np.asarray(self.input_shape), "name": self.input_name}],
            "version": MODEL_VERSION,
        })

    @classmethod
    def from_bytes(cls, buffer: bytes) -> "DabModel":
        values = flatbuf.decode("Model", buffer)
        if values.get("version") != MODEL_VERSION:
            raise ValueError(f"model version {values.get('version')}, expected {MODEL_VERSION}")
        first_input = values["inputs"][0]
        model = cls(first_input["name"], tuple(int(d) for d in first_input["shape"]))
        for tensor in values.get("initializers", []):
            model.add_tensor(_tensor_from_values(tensor))
        for layer in values.get("layers", []):
            layer_type = LAYER_TYPES[layer["type"]]
            params = {key: value.tolist() if isinstance(value, np.ndarray) else value
                      for key, value in layer[PARAM_FIELD[layer_type]].items()}
            model.add_layer(layer_type, layer.get("name", ""), **params)
        return model


def _layer_values(layer: DabLayer) -> dict:
    values = {"type": LAYER_TYPES.index(layer.type), PARAM_FIELD[layer.type]: layer.params}
    if layer.name:
        values["name"] = layer.name
    return values


def _tensor_values(tensor: DabTensor) -> dict:
    is_bit = tensor.bits is not None
    return {"data_type": DATA_TYPES.index("Bit" if is_bit else "Float32"),
            "bin_data": tensor.bits if is_bit else None,
            "float32_data": None if is_bit else np.asarray(tensor.floats, np.float32).ravel(),
            "shape": np.asarray(tensor.shape), "name": tensor.name,
            "align_hwc_to_128": tensor.align_hwc_to_128}


def _tensor_from_values(values: dict) -> DabTensor:
    shape = tuple(int(d) for d in values["shape"])
    if DATA_TYPES[values["data_type"]] == "Bit":
        return DabTensor(values["name"], shape, bits=values["bin_data"].astype(np.uint64),
                         align_hwc_to_128=bool(values["align_hwc_to_128"]))
    floats = values["float32_data"].astype(np.float32).reshape(shape)
    return DabTensor(values["name"], shape, floats=floats)
