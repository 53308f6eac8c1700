"""Write the `--reference` file of `bibench-deploy import`, in your own BiBench environment.

Standalone (torch and numpy; BiBench, mmcv and mmcls for `main`); it does not import
bibench_deploy, so copy it next to your BiBench checkout and run

    python bibench_reference_script.py CONFIG.py CHECKPOINT.pth --out ref.npz [--samples 100]

It builds the model from BiBench's config, loads the checkpoint, runs it in eval() mode in
float32 and in float64 on `--samples` seeded N(0, 1) inputs (the normalised tensors the model
takes), and saves `inputs` (NHWC float32), `logits` and `logits_float64`.
"""

from __future__ import annotations

import argparse

import numpy as np


def write_reference(model, inputs_nchw: np.ndarray, path) -> None:
    """Run `model` (eval mode, logits out) in float32 and float64 on `inputs_nchw`; save."""
    import copy
    import torch
    model = model.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(inputs_nchw, np.float32))
        logits = model(x).numpy()
        logits64 = copy.deepcopy(model).double()(x.double()).numpy()
    np.savez(path, inputs=np.ascontiguousarray(inputs_nchw.transpose(0, 2, 3, 1)),
             logits=logits.astype(np.float32), logits_float64=logits64)


class _Logits:
    """BiBench's SimpleArchitecture -> logits (backbone, neck, head.fc; no softmax)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        features = self.model.arch.extract_feat(x)
        features = features[-1] if isinstance(features, tuple) else features
        return self.model.arch.head.fc(features)

    def eval(self):
        self.model.eval()
        return self

    def double(self):
        self.model.double()
        return self


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("checkpoint")
    parser.add_argument("--out", default="reference.npz")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from mmcv import Config
    from mmcv.runner import load_checkpoint
    from bibench.models import build_architecture  # also registers BiBench's layers
    cfg = Config.fromfile(args.config)
    model = build_architecture(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location="cpu")
    x = np.random.default_rng(args.seed).normal(size=(args.samples, 3, 32, 32))
    write_reference(_Logits(model), x.astype(np.float32), args.out)
    print(f"wrote {args.out}: {args.samples} inputs and logits")


if __name__ == "__main__":
    main()
