"""Straight-through estimators removed from an exported ONNX graph.

BiBench (and most PyTorch BNN code) writes a binarizer with a surrogate gradient as
`forward.detach() - surrogate.detach() + surrogate`; torch.onnx.export keeps the arithmetic as
Add(Sub(F, S), S). At inference its value is F, the binarized tensor (PyTorch's float32 adds
at most one rounding step to it), while S (Clip, or ApproxSign's Where/Less/Mul(x, x)
polynomial) only carries the gradient. Every such Add is replaced by F and nodes nothing reads
any more are dropped, so that Sign feeds the conv directly and the refusal checks see only what
inference computes.
"""

from __future__ import annotations


def _forward_value(add, producer) -> str | None:
    """F when `add` is Add(Sub(F, S), S) in either order of the Add's inputs, else None."""
    if add.op_type != "Add" or len(add.input) != 2:
        return None
    for difference, surrogate in (add.input, add.input[::-1]):
        sub = producer.get(difference)
        if sub is not None and sub.op_type == "Sub" and sub.input[1] == surrogate \
                and sub.input[0] != surrogate:
            return sub.input[0]
    return None


def strip_straight_through(model):
    """A copy of `model` (onnx.ModelProto) without straight-through arithmetic; the number of
    estimators removed."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    outputs = {output.name for output in graph.output}
    producer = {name: node for node in graph.node for name in node.output}
    forward = {}
    for node in graph.node:
        value = _forward_value(node, producer)
        if value is not None and node.output[0] not in outputs:
            forward[node.output[0]] = value
    if not forward:
        return model, 0

    def resolve(name: str) -> str:
        while name in forward:
            name = forward[name]
        return name

    for node in graph.node:
        for index, name in enumerate(node.input):
            node.input[index] = resolve(name)
    live, kept = set(outputs), []
    for node in reversed(graph.node):
        if any(name in live for name in node.output):
            kept.append(node)
            live.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    return model, len(forward)
