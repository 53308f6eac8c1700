"""The numerical verdict: does the flatbuffer compute the deploy graph, up to float32 rounding?

The reference is the deploy graph evaluated in float64 with the weights that were converted
(threshold centring included). A binarized network is not continuous: a sign input that sits
within float32 rounding of its threshold (0) may get the other bit in any float32 engine, and the
flip moves everything downstream. Such flips are explained; anything else is a conversion error.

Every image whose LCE top-1 or logits (beyond float32 rounding of the logits) differ from the
reference's is a disagreement, and each is attributed from LCE's own bits where they can be
read: the flatbuffer is run with the input of every LceQuantize added to its outputs
(`convert.interpret_with_sign_inputs`), which are the values LCE binarized, one per binarizing
quantizer of the reference in the same order and shape. The reference is then replayed in
float64 with LCE's bits forced at every quantizer (so everything downstream of a flip sees what
LCE saw). The disagreement is explained when the replay's logits equal LCE's up to float32
rounding of the logits (and the same top-1), and every bit where LCE differs from the replay's
own sign input lies within the rounding bound below; otherwise (a bit LCE binarized
differently far from its threshold, or logits that differ with the same bits) it is
unexplained.

Where LCE's sign inputs cannot be matched to the reference's quantizers (a quantizer LCE fused
away or added), the attribution searches instead: starting from the
reference, bits whose sign input is within the rounding bound are flipped one at a time
(greedily, the flip that brings the float64 logits closest to LCE's), with the sign inputs
recomputed after each flip (a flip changes what lies downstream); sign inputs of one quantizer
with the same float64 value flip together, as one step, or, where they lie on different edges
of the feature map (first or last row or column, or inside), one edge class of them at a time:
an engine computes a feature map's border through other float operations than its interior
(LCE's native zero padding adds a float correction to edge outputs), so equal float64 values
on the border and inside need not round alike. The disagreement is explained when some such
set of near-threshold flips makes the float64 logits equal LCE's up to float32 rounding of the
logits (and the same top-1). It is unexplained when no near-threshold bit is
left, no flip brings the logits closer, or MAX_FLIPS steps do not suffice. A greedy search can
miss the set LCE flipped (a deep network has many near-threshold bits, and the flip that brings
the logits closest first need not be one of them): on a toy-trained ResNet-34 it left one of
26 disagreements unexplained that LCE's own bits explain with one flipped bit.

Rounding bound of a sign input z of one quantizer in one image:
    |z| <= BOUND_ULPS * U * M,  M = max(max|z|, max|operands|)
(maxima over that image's tensors) with U = 2^-24, float32's unit roundoff; the operands are the
values whose operation formed z, found by `rounding_scale` (through clipping and padding): a
residual sum behind Hardtanh is rounded relative to its operands, which may be hundreds while
max|z| is 1. A float32 engine computes z through a chain of float
operations (float stem, BatchNorm folded one way or another, residual additions, XNOR-Net's mean,
ReActNet's shift), each rounding relative to the size of the values it combines; BOUND_ULPS
covers that chain with a wide margin (docs/algorithms.md has the measured deviations).
Logit tolerance: max |logits - LCE| <= LOGIT_ULPS * U * max(1, max|LCE logits|).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from bibench_deploy.rounding_scale import OperandScales

U = 2.0 ** -24
BOUND_ULPS = 2 ** 10
LOGIT_ULPS = 2 ** 10
MAX_FLIPS = 8          # greedy steps (one flipped group each) per disagreeing image
CANDIDATES = 16        # nearest-threshold groups tried per step (with their edge-class parts)
MAX_ATTRIBUTED = 100   # disagreeing images attributed; the rest count as not attributed


class _SignProbe:
    """Stands in for one binarizing input quantizer: records its input, flips chosen bits."""

    def __init__(self, quantizer: Any, border: tuple[int, int, int, int]):
        self.quantizer, self.border = quantizer, border
        self.operand_scale = 0.0  # max|operands| that formed this image's input (see module doc)
        self.record = False
        self.inputs: np.ndarray | None = None
        self.signs: np.ndarray | None = None  # +-1 multipliers, one row per batch element
        self.forced: np.ndarray | None = None  # bits to output (True: +1), whatever the input

    def __call__(self, z: Any) -> Any:
        if self.record:
            self.inputs = np.asarray(z)
        out = self.quantizer(z)
        if self.forced is not None:
            import tensorflow as tf
            agree = tf.equal(tf.greater_equal(z, 0), self.forced)
            out = out * tf.where(agree, tf.ones_like(out), -tf.ones_like(out))
        return out if self.signs is None else out * self.signs

    def candidates(self, z: np.ndarray) -> np.ndarray:
        """|z| / bound where z is within the rounding bound (inf elsewhere and in padding)."""
        scale = max(float(np.abs(z).max()), self.operand_scale)
        ratio = np.full(z.shape, np.inf)
        if scale == 0.0:
            return ratio
        bound = BOUND_ULPS * U * scale
        near = np.abs(z) <= bound
        if z.ndim == 3:  # an image (H, W, C); a binary dense layer's input has no border
            top, bottom, left, right = self.border  # zeros added by a ZeroPadding2D: exact
            near[:top] = near[z.shape[0] - bottom:] = False
            near[:, :left] = near[:, z.shape[1] - right:] = False
        ratio[near] = np.abs(z[near]) / bound
        return ratio

    def edge_classes(self, shape: tuple[int, ...]) -> np.ndarray:
        """Per flat position of an input of `shape`: which edges of the feature map (padding
        excluded) it lies on, as row class * 3 + column class (0 first, 1 inside, 2 last);
        one class for a binary dense layer's input."""
        if len(shape) != 3:
            return np.zeros(int(np.prod(shape)), dtype=int)
        top, bottom, left, right = self.border
        rows, cols = np.ones(shape[0], dtype=int), np.ones(shape[1], dtype=int)
        rows[top], rows[shape[0] - bottom - 1] = 0, 2
        cols[left], cols[shape[1] - right - 1] = 0, 2
        classes = rows[:, None] * 3 + cols[None, :]
        return np.repeat(classes[:, :, None], shape[2], axis=2).ravel()


def _is_binarizing(quantizer: Any) -> bool:
    """A +-c sign quantizer (larq's precision-1 quantizers, heaviside's {0, 1} aside)."""
    return (getattr(quantizer, "precision", None) == 1
            and type(quantizer).__name__ != "SteHeaviside")


def _border(layer: Any) -> tuple[int, int, int, int]:
    import tensorflow as tf
    nodes = layer._inbound_nodes
    inbound = nodes[0].inbound_layers if len(nodes) == 1 else None
    if isinstance(inbound, tf.keras.layers.ZeroPadding2D):
        (top, bottom), (left, right) = inbound.padding
        return top, bottom, left, right
    return 0, 0, 0, 0


def _probed_layers(model: Any) -> list[tuple[Any, str]]:
    """(layer, attribute) of every binarizing quantizer of `model`, in layer order: input
    quantizers of quantized layers, and quantizers used as layers of their own."""
    found = []
    for layer in model.layers:
        if _is_binarizing(getattr(layer, "input_quantizer", None)):
            found.append((layer, "input_quantizer"))
        elif _is_binarizing(layer):
            found.append((layer, "call"))
    return found


@contextlib.contextmanager
def sign_probes(model: Any) -> Iterator[list[_SignProbe]]:
    """Every binarizing quantizer of `model` replaced by a probe (see `_probed_layers`)."""
    hooks = [(layer, attribute, getattr(layer, attribute))  # (layer, attribute, original)
             for layer, attribute in _probed_layers(model)]
    probes = [_SignProbe(original, _border(layer)) for layer, _, original in hooks]
    for (layer, attribute, _), probe in zip(hooks, probes):
        setattr(layer, attribute, probe)
    try:
        yield probes
    finally:
        for layer, attribute, original in hooks:
            if attribute == "call":
                del layer.call  # back to the class's method
            else:
                setattr(layer, attribute, original)


# (probe index, flat positions in one image's input): a group of sign inputs with the same
# float64 value, which a float32 engine computes from the same operands and rounds alike (the
# uniform background of an image gives whole regions of equal values), or the part of them on
# one edge class of the feature map
Flips = tuple[tuple[int, tuple[int, ...]], ...]


def _evaluate(model: Any, probes: list[_SignProbe], image: np.ndarray,
              configs: list[Flips], shapes: list[tuple[int, ...]]) -> tuple[np.ndarray, list]:
    """float64 logits and sign inputs of `image` under each flip set, one batch row per set."""
    for p, (probe, shape) in enumerate(zip(probes, shapes)):
        signs = np.ones((len(configs), int(np.prod(shape))))
        for row, flips in enumerate(configs):
            for q, positions in flips:
                if q == p:
                    signs[row, list(positions)] = -1.0
        probe.signs, probe.record = signs.reshape((len(configs), *shape)), True
    try:
        logits = np.asarray(model(np.repeat(image[None], len(configs), 0), training=False))
        return logits, [probe.inputs for probe in probes]
    finally:
        for probe in probes:
            probe.signs, probe.record, probe.inputs = None, False, None


def _groups(positions: np.ndarray, edges: np.ndarray) -> list[tuple[int, ...]]:
    """Equal sign inputs at `positions`: all of them, and, when they lie on more than one edge
    class, the part on each edge class (the border may round apart from the interior)."""
    groups = [tuple(int(i) for i in positions)]
    classes = np.unique(edges[positions])
    if len(classes) > 1:
        groups += [tuple(int(i) for i in positions[edges[positions] == c]) for c in classes]
    return groups


def _nearest(probes: list[_SignProbe], inputs: list[np.ndarray], row: int,
             flipped: Flips) -> list[tuple[int, tuple[int, ...]]]:
    """The CANDIDATES groups of equal near-threshold sign inputs closest to the threshold,
    each followed by its edge-class parts (which do not count against CANDIDATES)."""
    found, done = [], {}
    for p, positions in flipped:
        done.setdefault(p, set()).update(positions)
    for p, probe in enumerate(probes):
        z = inputs[p][row].ravel()
        ratio = probe.candidates(inputs[p][row]).ravel()
        edges = probe.edge_classes(inputs[p][row].shape)
        near = np.flatnonzero(np.isfinite(ratio))
        for value in np.unique(z[near]):
            groups = [(p, positions) for positions in _groups(near[z[near] == value], edges)
                      if not set(positions) <= done.get(p, set())]  # not flipped already
            if groups:
                found.append((float(ratio[groups[0][1][0]]), groups))
    found.sort(key=lambda entry: entry[0])
    return [group for _, groups in found[:CANDIDATES] for group in groups]


def attribute(model: Any, probes: list[_SignProbe], image: np.ndarray,
              target: np.ndarray) -> int | None:
    """Number of near-threshold bits whose flips explain LCE's `target` logits, or None."""
    shapes = [tuple(np.asarray(probe.inputs).shape[1:]) for probe in probes]
    tolerance = LOGIT_ULPS * U * max(1.0, float(np.abs(target).max()))
    flips: Flips = ()
    logits, inputs = _evaluate(model, probes, image, [flips], shapes)
    distance = float(np.abs(logits[0] - target).max())
    for _ in range(MAX_FLIPS + 1):
        if distance <= tolerance and logits[0].argmax() == target.argmax():
            return len({(p, i) for p, positions in flips for i in positions})
        if len(flips) == MAX_FLIPS:
            return None
        candidates = _nearest(probes, inputs, 0, flips)
        if not candidates:
            return None
        configs = [flips + (c,) for c in candidates]
        all_logits, all_inputs = _evaluate(model, probes, image, configs, shapes)
        distances = np.abs(all_logits - target).max(axis=1)
        best = int(distances.argmin())
        if distances[best] >= distance:
            return None
        flips, distance = configs[best], float(distances[best])
        logits, inputs = all_logits[best:best + 1], [z[best:best + 1] for z in all_inputs]
    return None


def replay(model: Any, probes: list[_SignProbe], image: np.ndarray, target: np.ndarray,
           observed: list[np.ndarray]) -> int | None:
    """Number of LCE's bits (`observed`: its sign inputs for `image`, one per probe) that differ
    from the float64 replay's within the rounding bound, when forcing them reproduces LCE's
    `target` logits; None when a differing bit is beyond the bound or the logits differ."""
    for probe, z in zip(probes, observed):
        probe.forced, probe.record = (np.asarray(z) >= 0)[None], True
    try:
        logits = np.asarray(model(image[None], training=False))[0]
        inputs = [probe.inputs[0] for probe in probes]
    finally:
        for probe in probes:
            probe.forced, probe.record, probe.inputs = None, False, None
    tolerance = LOGIT_ULPS * U * max(1.0, float(np.abs(target).max()))
    if np.abs(logits - target).max() > tolerance or logits.argmax() != target.argmax():
        return None
    flipped = 0
    for probe, z64, z in zip(probes, inputs, observed):
        differs = (z64 >= 0) != (np.asarray(z) >= 0)
        if differs.any():
            if not np.all(np.isfinite(probe.candidates(z64)[differs])):
                return None  # LCE binarized a value beyond float32 rounding of its threshold
            flipped += int(differs.sum())
    return flipped


def _matches(probes: list[_SignProbe], sign_inputs: list[np.ndarray] | None) -> bool:
    """LCE's sign inputs stand one for one, in order and shape, for the probes' (recorded)."""
    return (sign_inputs is not None and len(sign_inputs) == len(probes)
            and all(tuple(z.shape[1:]) == tuple(np.asarray(probe.inputs).shape[1:])
                    for probe, z in zip(probes, sign_inputs)))


def rounding_verdict(model64: Any, x: np.ndarray, candidate: np.ndarray,
                     max_attributed: int = MAX_ATTRIBUTED,
                     sign_inputs: list[np.ndarray] | None = None) -> dict[str, Any]:
    """Compare `candidate` (LCE's outputs on `x`) with float64 `model64`; attribute disagreements.

    `sign_inputs`: LCE's LceQuantize inputs on `x` (`interpret_with_sign_inputs`); where they
    match the reference's quantizers every disagreement is attributed by replaying LCE's bits,
    otherwise the first `max_attributed` by the search (see the module docstring).
    An image disagrees when its top-1 differs from the reference's or its logits differ by more
    than the logit tolerance. Returns the reference outputs under "reference" and the counts:
    `disagreements` (`top1_disagreements` of them move the top-1), `explained_flips` (explained
    by near-threshold sign flips), `unexplained` (every other disagreement, the not attributed
    ones included) and `not_attributed` (beyond the first `max_attributed` disagreeing images
    of a search); `attribution` says which method attributed them.
    """
    x64 = x.astype(np.float64)
    operand_scales = OperandScales(model64, [layer for layer, _ in _probed_layers(model64)])
    with sign_probes(model64) as probes:
        reference = np.asarray(model64(x64, training=False))
        top1 = reference.argmax(-1) != candidate.argmax(-1)
        tolerance = LOGIT_ULPS * U * np.maximum(1.0, np.abs(candidate).max(-1))
        disagreeing = np.flatnonzero(top1 | (np.abs(reference - candidate).max(-1) > tolerance))
        flips_per_image, method = [], "none"
        for i in disagreeing:
            for probe, scale in zip(probes, operand_scales(x64[i:i + 1])):
                probe.operand_scale = float(scale[0])
            for probe in probes:  # one recorded pass gives each probe its input shape
                probe.record = True
            model64(x64[i:i + 1], training=False)
            for probe in probes:
                probe.record = False
            if _matches(probes, sign_inputs):
                method = "LCE's sign inputs replayed"
                flips_per_image.append(replay(model64, probes, x64[i], candidate[i],
                                              [z[i] for z in sign_inputs]))
            elif len(flips_per_image) < max_attributed:
                method = "search over near-threshold flips"
                flips_per_image.append(attribute(model64, probes, x64[i], candidate[i]))
            else:
                break
    explained = [n for n in flips_per_image if n is not None]
    return {"reference": reference,
            "disagreements": int(len(disagreeing)),
            "top1_disagreements": int(top1.sum()),
            "explained_flips": len(explained),
            "unexplained": int(len(disagreeing)) - len(explained),
            "not_attributed": int(len(disagreeing)) - len(flips_per_image),
            "flips_per_explained_image": explained,
            "sign_quantizers": len(probes),
            "attribution": method,
            "rounding_bound": f"|z| <= {BOUND_ULPS} * 2^-24 * max(max|z|, max|operands of z|) "
                              "per quantizer and image",
            "logit_tolerance": f"{LOGIT_ULPS} * 2^-24 * max(1, max|logits|) per image"}
