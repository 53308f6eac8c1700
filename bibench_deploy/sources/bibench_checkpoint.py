"""BiBench / mmcls PyTorch checkpoints: read the state dict, map every tensor onto Keras layers.

The mapping is strict: every tensor of the checkpoint is used exactly once, every weight of the
Keras training form receives one, shapes must agree; anything else is refused with the tensor's
name. Layouts: conv OIHW -> HWIO, linear [out, in] -> [in, out], BatchNorm weight/bias/running
statistics -> gamma/beta/moving_mean/moving_variance (eps 1e-5 on both sides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from bibench_deploy.errors import BibenchError

PREFIXES = ("module.", "arch.")


class CheckpointError(BibenchError):
    """A checkpoint cannot be imported as asked."""


@dataclass
class Checkpoint:
    path: Path
    tensors: dict[str, np.ndarray]
    config: Optional[str] = None
    notes: list[str] = field(default_factory=list)


def read_checkpoint(path: Path) -> Checkpoint:
    """The state dict of a BiBench/mmcls checkpoint, `module.` / `arch.` prefixes removed."""
    import torch
    if not Path(path).is_file():
        raise CheckpointError(f"{path}: no such checkpoint file; pass the .pth file BiBench wrote")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign files
        raise CheckpointError(f"{path}: not a PyTorch checkpoint that loads without executing "
                              f"code ({type(exc).__name__}); pass BiBench's .pth file") from None
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{path}: no state_dict of tensors in the checkpoint")
    tensors = {}
    for key, value in state.items():
        name = key
        while name.startswith(PREFIXES):
            name = name.split(".", 1)[1]
        tensors[name] = value.detach().cpu().numpy()
    meta = raw.get("meta") if isinstance(raw, dict) else None
    config = meta.get("config") if isinstance(meta, dict) else None
    return Checkpoint(Path(path), tensors, config if isinstance(config, str) else None)


def conv_types() -> dict[str, str]:
    """BiBench's conv_cfg type -> the algorithm of this project that declares it."""
    from bibench_deploy.algorithms import ALGORITHMS
    return {ALGORITHMS.get(name).bibench_conv: name for name in ALGORITHMS
            if ALGORITHMS.get(name).bibench_conv}


def check_config(checkpoint: Checkpoint, algo: str) -> None:
    """Refuse what BiBench's config says cannot be imported; note what it says about the model."""
    config = checkpoint.config
    if config is None:
        checkpoint.notes.append("no config in the checkpoint: Hardtanh activations assumed "
                                "(BiBench's binarized configs)")
        return
    conv = re.search(r"\bconv_cfg\s*=\s*dict\(\s*type\s*=\s*'(\w+?)(?:2d)?'", config)
    trained_as = conv_types().get(conv.group(1)) if conv else None
    if trained_as not in (None, algo):
        raise CheckpointError(f"{checkpoint.path}: trained with {conv.group(1)} "
                              f"(--algo {trained_as}), not --algo {algo}")
    acts = {key: re.search(rf"\b{key}\s*=\s*dict\(\s*type\s*=\s*'(\w+)'", config)
            for key in ("first_act_cfg", "act_cfg")}
    for key, match in acts.items():
        kind = match.group(1) if match else "ReLU"  # BiBench's ResNet default
        if kind != "Hardtanh":
            raise CheckpointError(
                f"{checkpoint.path}: {key} is {kind} ({'set' if match else 'BiBench default'}): "
                f"{kind} in front of a binarized conv gives torch.sign values {{0, 1}}, not "
                "binary +-1, which no binary kernel computes; train with Hardtanh")
    if re.search(r"\bbireal_cut\s*=\s*True", config):
        checkpoint.notes.append("bireal_cut=True in the config is never passed to BiBench's "
                                "blocks: the network is a ResNet-18 and is imported as one")


class Mapper:
    """Assigns checkpoint tensors to Keras variables, keeping account of both sides."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint, self.used = checkpoint, set()
        self.assigned: list[Any] = []

    def take(self, key: str) -> np.ndarray:
        if key not in self.checkpoint.tensors:
            raise CheckpointError(f"{self.checkpoint.path}: tensor {key!r} is missing; is this "
                                  "checkpoint of the --arch and --algo given?")
        if key in self.used:
            raise CheckpointError(f"{self.checkpoint.path}: tensor {key!r} mapped twice")
        self.used.add(key)
        return self.checkpoint.tensors[key]

    def assign(self, variable: Any, key: str, convert: Callable[[np.ndarray], np.ndarray] = None):
        value = self.take(key)
        value = convert(value) if convert is not None else value
        expected = tuple(variable.shape)
        if tuple(value.shape) != expected:
            raise CheckpointError(f"{self.checkpoint.path}: tensor {key!r} has shape "
                                  f"{tuple(self.checkpoint.tensors[key].shape)}, the {expected} "
                                  "layer of --arch expects another; wrong --arch?")
        variable.assign(value.astype(np.float32) if value.dtype.kind == "f" else value)
        self.assigned.append(variable)

    def finish(self, model: Any) -> None:
        unused = sorted(set(self.checkpoint.tensors) - self.used)
        if unused:
            more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
            raise CheckpointError(f"{self.checkpoint.path}: tensors not used by --arch/--algo: "
                                  f"{', '.join(unused[:5])}{more}; wrong --arch or --algo?")
        ids = {id(v) for v in self.assigned}
        missing = [w.name for w in model.weights if int(np.prod(w.shape))
                   and id(getattr(w, "latent_variable", w)) not in ids]
        if missing:
            raise CheckpointError(f"{self.checkpoint.path}: no tensor for Keras weights "
                                  f"{', '.join(missing[:5])}")


def oihw_to_hwio(w: np.ndarray) -> np.ndarray:
    return w.transpose(2, 3, 1, 0)


def kernel_rows_to_keras(fc1: np.ndarray, cin: int, k: int) -> np.ndarray:
    """FDA's weight-noise fc1 [hidden, C_in*k*k] (rows (C_in, kh, kw)) -> [(kh, kw, C_in), hidden]."""
    hidden = fc1.shape[0]
    return fc1.reshape(hidden, cin, k, k).transpose(2, 3, 1, 0).reshape(k * k * cin, hidden)


def kernel_cols_to_keras(fc2: np.ndarray, cin: int, k: int) -> np.ndarray:
    hidden = fc2.shape[1]
    return fc2.reshape(cin, k, k, hidden).transpose(3, 1, 2, 0).reshape(hidden, k * k * cin)


def torch_name(keras_name: str) -> str:
    """This project's ResNet layer names -> BiBench's module names."""
    if keras_name == "stem":
        return "backbone.conv1"
    if keras_name == "stem_bn":
        return "backbone.bn1"
    if keras_name == "classifier":
        return "head.fc"
    match = re.fullmatch(r"stage(\d+)_block(\d+)_(conv1|conv2|downsample)(_bn)?", keras_name)
    if not match:
        raise CheckpointError(f"layer {keras_name!r} has no BiBench counterpart")
    stage, block, conv, bn = match.groups()
    prefix = f"backbone.layer{stage}.{int(block) - 1}"
    if conv == "downsample":
        return f"{prefix}.downsample.{1 if bn else 0}"
    return f"{prefix}.{'bn' if bn else 'conv'}{conv[-1]}"


def map_checkpoint(checkpoint: Checkpoint, model: Any, algo: str) -> None:
    """Load every tensor into the Keras training form `model` of a BiBench CIFAR ResNet."""
    import tensorflow as tf
    mapper = Mapper(checkpoint)
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            prefix = torch_name(layer.name)
            for variable, key in ((layer.gamma, "weight"), (layer.beta, "bias"),
                                  (layer.moving_mean, "running_mean"),
                                  (layer.moving_variance, "running_var")):
                mapper.assign(variable, f"{prefix}.{key}")
            mapper.take(f"{prefix}.num_batches_tracked")
        elif isinstance(layer, tf.keras.layers.Dense):
            mapper.assign(layer.kernel, "head.fc.weight", np.transpose)
            mapper.assign(layer.bias, "head.fc.bias")
        elif isinstance(layer, tf.keras.layers.Conv2D):
            prefix = torch_name(layer.name)
            kernel = getattr(layer.kernel, "latent_variable", layer.kernel)
            mapper.assign(kernel, f"{prefix}.weight", oihw_to_hwio)
            if "_conv" in layer.name:
                _map_conv_state(mapper, layer, prefix, algo)
        else:
            _map_extra(mapper, layer, algo)
    mapper.finish(model)


def _map_conv_state(mapper: Mapper, conv: Any, prefix: str, algo: str) -> None:
    """Quantizer state of a binarized conv, as the algorithm declares it (`bibench_conv_state`)."""
    from bibench_deploy.algorithms import get_algorithm
    for state in get_algorithm(algo).bibench_conv_state:
        if state in CONV_STATE:
            CONV_STATE[state](mapper, conv, prefix)


def _map_tau(mapper: Mapper, conv: Any, prefix: str) -> None:
    """ReCU's tau."""
    tau = conv.kernel_quantizer.tau
    mapper.assign(tau, f"{prefix}.tau", lambda t: np.asarray(t, np.float32).reshape(()))


def _map_fourier(mapper: Mapper, conv: Any, prefix: str) -> None:
    """FDA's schedule (terms n, noise weight) and noise MLPs."""
    noise_weight = mapper.checkpoint.tensors.get(f"{prefix}.alpha")
    if noise_weight is not None and float(np.asarray(noise_weight).reshape(-1)[0]) != 0.0:
        raise CheckpointError(
            f"{mapper.checkpoint.path}: {prefix}.alpha (FDA's noise weight) is "
            f"{float(np.asarray(noise_weight).reshape(-1)[0]):.4g}, not 0: BiBench's eval "
            "forward then adds lambda * noise to the signs, which no binary kernel computes; "
            "import the checkpoint of the last epoch (lambda = 0)")
    activation, kernel = conv.input_quantizer, conv.kernel_quantizer
    activation = getattr(activation, "quantizer", activation)  # inside a PaddedInput
    k, cin = int(conv.kernel_size[0]), int(conv.kernel.shape[2])
    n = mapper.take(f"{prefix}.n")
    alpha = mapper.take(f"{prefix}.alpha")
    for quantizer in (activation, kernel):
        quantizer.fourier_n.assign(int(np.asarray(n).reshape(-1)[0]))
        quantizer.noise_weight.assign(float(np.asarray(alpha).reshape(-1)[0]))
        mapper.assigned += [quantizer.fourier_n, quantizer.noise_weight]
    _map_noise(mapper, kernel, f"{prefix}.weight_noise",
               lambda w: kernel_rows_to_keras(w, cin, k),
               lambda w: kernel_cols_to_keras(w, cin, k))
    _map_noise(mapper, activation, f"{prefix}.act_noise", np.transpose, np.transpose)


# Mappers of the per-conv state an algorithm declares; "alpha" is a layer (`_map_extra`).
CONV_STATE = {"tau": _map_tau, "fourier": _map_fourier}


def _map_noise(mapper: Mapper, quantizer: Any, prefix: str, rows, cols) -> None:
    if quantizer.fc1 is None:  # zero-width MLP: BiBench stores [0, d] tensors
        for key in ("fc1", "fc2"):
            if mapper.take(f"{prefix}.{key}.weight").size:
                raise CheckpointError(f"{mapper.checkpoint.path}: {prefix}.{key}.weight is not "
                                      "empty where BiBench's noise MLP has no hidden units")
        return
    mapper.assign(quantizer.fc1, f"{prefix}.fc1.weight", rows)
    mapper.assign(quantizer.fc2, f"{prefix}.fc2.weight", cols)


def _map_extra(mapper: Mapper, layer: Any, algo: str) -> None:
    """An algorithm's layer around a binary conv: `<conv>_threshold`, `_gamma` or `_alpha`."""
    from bibench_deploy.algorithms import get_algorithm
    conv, _, role = layer.name.rpartition("_")
    prefix = torch_name(conv)
    if role == "threshold":
        mapper.assign(layer.threshold, f"{prefix}.channel_threshold", lambda t: t.reshape(-1))
    elif role == "gamma":
        height, width = int(layer.h_scale.shape[0]), int(layer.w_scale.shape[1])
        mapper.assign(layer.o_scale, f"{prefix}.o_scale", lambda t: t.reshape(-1))
        mapper.assign(layer.h_scale, f"{prefix}.h_scale",
                      lambda t: t[0, 0, :height, 0].reshape(height, 1, 1))
        mapper.assign(layer.w_scale, f"{prefix}.w_scale",
                      lambda t: t[0, 0, 0, :width].reshape(1, width, 1))
    elif role == "alpha" and "alpha" in get_algorithm(algo).bibench_conv_state:
        mapper.assign(layer.alpha, f"{prefix}.alpha", lambda t: t.reshape(-1))
    else:
        raise CheckpointError(f"layer {layer.name!r} has no BiBench counterpart")
