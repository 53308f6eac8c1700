"""Generic FlatBuffers encoder and decoder driven by the table descriptions in `schema`.

Values are plain Python: a table is a dict of field -> value (absent fields are left out of the
buffer), a vector of tables a list of dicts, scalar vectors numpy arrays.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from flatbuffers import number_types as nt

from bibench_deploy.dabnn.schema import SCALAR_VECTORS, TABLES

_SCALAR_FLAGS = {"byte": nt.Int8Flags, "bool": nt.BoolFlags, "uint32": nt.Uint32Flags,
                 "int32": nt.Int32Flags}
_VECTOR_FLAGS = {"int32s": nt.Int32Flags, "uint32s": nt.Uint32Flags, "uint64s": nt.Uint64Flags,
                 "float32s": nt.Float32Flags}


def encode(root_table: str, values: dict) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(_write_table(builder, root_table, values))
    return bytes(builder.Output())


def decode(root_table: str, buffer: bytes) -> dict:
    buffer = bytearray(buffer)
    root = flatbuffers.encode.Get(flatbuffers.packer.uoffset, buffer, 0)
    return _read_table(buffer, root, root_table)


def _write_table(builder: flatbuffers.Builder, table: str, values: dict) -> int:
    fields = TABLES[table]
    children = {name: _write_child(builder, kind, values[name]) for name, kind in fields
                if values.get(name) is not None and kind not in _SCALAR_FLAGS}
    builder.StartObject(len(fields))
    for slot, (name, kind) in enumerate(fields):
        if name in children:
            builder.PrependUOffsetTRelativeSlot(slot, children[name], 0)
        elif values.get(name) is not None:
            _prepend_scalar(builder, kind, slot, values[name])
    return builder.EndObject()


def _prepend_scalar(builder: flatbuffers.Builder, kind: str, slot: int, value) -> None:
    prepend = {"byte": builder.PrependInt8Slot, "bool": builder.PrependBoolSlot,
               "uint32": builder.PrependUint32Slot, "int32": builder.PrependInt32Slot}[kind]
    prepend(slot, value, False if kind == "bool" else 0)


def _write_child(builder: flatbuffers.Builder, kind: str, value) -> int:
    if kind == "string":
        return builder.CreateString(value)
    if kind in SCALAR_VECTORS:
        return builder.CreateNumpyVector(np.asarray(value, dtype=SCALAR_VECTORS[kind]))
    if kind == "strings":
        return _offset_vector(builder, [builder.CreateString(item) for item in value])
    if kind.startswith("["):
        return _offset_vector(builder, [_write_table(builder, kind[1:-1], item) for item in value])
    return _write_table(builder, kind, value)


def _offset_vector(builder: flatbuffers.Builder, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _read_table(buffer: bytearray, position: int, table: str) -> dict:
    tab = flatbuffers.table.Table(buffer, position)
    values = {}
    for slot, (name, kind) in enumerate(TABLES[table]):
        field = tab.Offset(4 + 2 * slot)
        if field == 0:
            if kind in _SCALAR_FLAGS:
                values[name] = False if kind == "bool" else 0
            continue
        values[name] = _read_field(tab, field, kind)
    return values


def _read_field(tab: flatbuffers.table.Table, field: int, kind: str):
    if kind in _SCALAR_FLAGS:
        return tab.Get(_SCALAR_FLAGS[kind], field + tab.Pos)
    if kind == "string":
        return tab.String(field + tab.Pos).decode()
    if kind in _VECTOR_FLAGS:
        return tab.GetVectorAsNumpy(_VECTOR_FLAGS[kind], field).copy()
    if kind == "strings":
        start = tab.Vector(field)
        return [tab.String(start + 4 * i).decode() for i in range(tab.VectorLen(field))]
    if kind.startswith("["):
        start = tab.Vector(field)
        return [_read_table(tab.Bytes, tab.Indirect(start + 4 * i), kind[1:-1])
                for i in range(tab.VectorLen(field))]
    return _read_table(tab.Bytes, tab.Indirect(field + tab.Pos), kind)
