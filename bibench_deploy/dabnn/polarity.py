"""Which tensors of a Keras graph are exported negated, so that +1 padding becomes daBNN's -1.

Larq pads binary convs with +1 (pad_values=1.0) and binarizes 0 to +1; daBNN pads with -1 and
binarizes 0 to -1. Both differences vanish if the binary conv reads the negated tensor -x with
negated weights: sign(-x) . (-w) = sign(x) . w inside the image, the -1 padding of -x is the
+1 padding of x, and bit(-x > 0) = -sign_larq(x) also at x = 0.

Negation costs nothing at run time when it is folded into the ops that produce a tensor (float
convs, BatchNorm, binary convs: all linear in their output) and passed through ops that commute
with it (Add, Hardtanh, pooling averages, flatten). Tensors joined by such ops form one class
with one polarity; the model's input and output are positive, and a +1-padded binary conv
requires a negated input. MaxPool does not commute with negation: it requires a positive input,
and its output starts a class of its own; where that class is negated, the exporter negates the
pooled tensor explicitly (one Neg, an Affine in daBNN), e.g. after ResNet's ImageNet stem. ReLU
requires a positive class, input and output: its output holds exact zeros, which ONNX's Sign maps
to 0 (no binarization), so a negated copy of it would not be exact in ONNX.
"""

from __future__ import annotations

from bibench_deploy.errors import ConversionError

POSITIVE, NEGATED = 1, -1


class Polarity:
    def __init__(self):
        self._parent: dict[str, str] = {}
        self._required: dict[str, dict[int, str]] = {}

    def _root(self, tensor: str) -> str:
        self._parent.setdefault(tensor, tensor)
        while self._parent[tensor] != tensor:
            tensor = self._parent[tensor]
        return tensor

    def join(self, first: str, second: str) -> None:
        """`first` and `second` are linked by an op that commutes with negation."""
        a, b = self._root(first), self._root(second)
        if a != b:
            self._parent[b] = a
            for polarity, reason in self._required.pop(b, {}).items():
                self.require(a, polarity, reason)

    def require(self, tensor: str, polarity: int, reason: str) -> None:
        required = self._required.setdefault(self._root(tensor), {})
        required.setdefault(polarity, reason)
        if len(required) == 2:
            raise ConversionError(
                f"no sign convention fits tensor {tensor!r}: {required[POSITIVE]} needs it "
                f"positive, {required[NEGATED]} needs it negated")

    def of(self, tensor: str) -> int:
        required = self._required.get(self._root(tensor), {})
        return NEGATED if NEGATED in required else POSITIVE
