"""Checkpoints in BiBench's layout, trained for a few steps with the PyTorch reimplementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.importer.bibench_torch import bibench_resnet, set_epoch

HARDTANH_CONFIG = ("model = dict(arch=dict(backbone=dict(type='BiBench_ResNet_CIFAR', "
                   "conv_cfg=dict(type='{conv}'), first_act_cfg=dict(type='Hardtanh', "
                   "inplace=True), act_cfg=dict(type='Hardtanh', inplace=True))))")
CONV_TYPES = {"bnn": "BNNConv", "xnor": "XNORConv", "dorefa": "DoReFaConv",
              "bireal": "BiRealConv", "xnorpp": "XNORPlusPlusConv", "reactnet": "ReActConv",
              "recu": "ReCUConv", "fda": "FDAConv"}


def trained_model(arch, algo, steps=3, epochs=2, seed=0):
    """A few Adam steps per epoch, BiBench's schedules applied per epoch, on a learnable toy
    task (noise plus one fixed pattern per class), so that the network develops margins."""
    torch.manual_seed(seed)
    model = bibench_resnet(arch, algo)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(10, 3, 32, 32)).astype("float32")
    for epoch in range(epochs):
        set_epoch(model, epoch, epochs)
        model.train()
        for _ in range(steps):
            labels = rng.integers(0, 10, 32)
            x = torch.from_numpy(rng.normal(size=(32, 3, 32, 32)).astype("float32")
                                 + patterns[labels])
            y = torch.from_numpy(labels)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def save_checkpoint(model, path, algo, config=True, prefix=""):
    state = {prefix + k: v for k, v in model.state_dict().items()}
    checkpoint = {"state_dict": state}
    if config:
        checkpoint["meta"] = {"config": HARDTANH_CONFIG.format(conv=CONV_TYPES[algo])}
    torch.save(checkpoint, path)
    return path


def reference_file(model, path, n=100, seed=1):
    """What bibench_reference_script.py writes, from the PyTorch model itself."""
    from bibench_deploy.sources.bibench_reference_script import write_reference
    x = np.random.default_rng(seed).normal(size=(n, 3, 32, 32)).astype("float32")
    write_reference(model, x, path)
    return path


@pytest.fixture(scope="session")
def bnn_checkpoint(tmp_path_factory, trains):
    model = trained_model("resnet20_bibench", "bnn")
    directory = tmp_path_factory.mktemp("bnn")
    return (save_checkpoint(model, directory / "bnn.pth", "bnn"),
            reference_file(model, directory / "ref.npz"), model)
