"""TensorFlow's shape, indexing and reduction ops as ONNX nodes (TensorFlow's layout: an NCHW
input is transposed back first, except for Shape, Size and channel concatenations)."""
from __future__ import annotations

import numpy as np

from .tfjs_graph import ConversionError, Node
from .tfjs_ops import NHWC_TO_NCHW_AXIS, onnx_type

_INT_MAX = np.iinfo(np.int64).max
_INT_MIN = np.iinfo(np.int64).min


def _axes(c, values) -> str:
    return c.g.const(np.asarray(values, np.int64).reshape(-1), "axes")


def _scalar_int(c, node: Node, ref: str) -> int:
    return int(c.const_value(node, ref).reshape(-1)[0])


def _shape(c, node: Node) -> None:
    raw = c.raw(node.inputs[0])
    shape = c.g.node("Shape", [raw])
    if raw in c.g.nchw:  # the dims in TensorFlow's order
        shape = c.g.node("Gather", [shape, c.g.const(np.array([0, 2, 3, 1], np.int64), "nhwc")],
                         axis=0)
    c.define(node, [c.g.node("Cast", [shape], to=onnx_type(node,
                                                             node.get("out_type", np.int32)))])


def _size(c, node: Node) -> None:
    size = c.g.node("Size", [c.raw(node.inputs[0])])
    c.define(node, [c.g.node("Cast", [size], to=onnx_type(node, node.get("out_type",
                                                                         np.int32)))])


def _reshape(c, node: Node) -> None:
    c.define(node, [c.g.node("Reshape", [c.value(node.inputs[0]),
                                         c.int64(node, node.inputs[1])])])


def _squeeze(c, node: Node) -> None:
    dims = node.get("squeeze_dims", [])
    inputs = [c.value(node.inputs[0])] + ([_axes(c, dims)] if dims else [])
    c.define(node, [c.g.node("Squeeze", inputs)])


def _expand_dims(c, node: Node) -> None:
    axis = _scalar_int(c, node, node.inputs[1])
    c.define(node, [c.g.node("Unsqueeze", [c.value(node.inputs[0]), _axes(c, [axis])])])


def _pack(c, node: Node) -> None:
    axis = node.get("axis", 0)
    parts = [c.g.node("Unsqueeze", [c.value(r), _axes(c, [axis])]) for r in node.inputs]
    c.define(node, [parts[0] if len(parts) == 1 else c.g.node("Concat", parts, axis=axis)])


def _unpack(c, node: Node) -> None:
    axis, num = node.get("axis", 0), node.get("num")
    value = c.value(node.inputs[0])
    parts = [value] if num == 1 else c.g.multi("Split", [value], num, axis=axis)
    c.define(node, [c.g.node("Squeeze", [p, _axes(c, [axis])]) for p in parts])


def _split(c, node: Node) -> None:
    axis = _scalar_int(c, node, node.inputs[0])
    c.define(node, c.g.multi("Split", [c.value(node.inputs[1])], node.get("num_split"),
                             axis=axis))


def _concat(c, node: Node) -> None:
    refs, axis = node.inputs[:-1], _scalar_int(c, node, node.inputs[-1])
    if all(c.is_nchw(r) for r in refs):  # e.g. feature maps joined along channels
        out = c.g.node("Concat", [c.raw(r) for r in refs], axis=NHWC_TO_NCHW_AXIS[axis % 4])
        c.define(node, [out], nchw=True)
        return
    c.define(node, [c.g.node("Concat", [c.value(r) for r in refs], axis=axis)])


def _arg_max(c, node: Node) -> None:
    axis = _scalar_int(c, node, node.inputs[1])
    index = c.g.node("ArgMax", [c.value(node.inputs[0])], axis=axis, keepdims=0)
    out_type = node.get("output_type", np.int64)
    c.define(node, [index if out_type is np.int64 else
                    c.g.node("Cast", [index], to=onnx_type(node, out_type))])


def _gather_nd(c, node: Node) -> None:
    c.define(node, [c.g.node("GatherND", [c.value(node.inputs[0]),
                                          c.int64(node, node.inputs[1])])])


def _top_k(c, node: Node) -> None:
    k = c.g.const(np.array([_scalar_int(c, node, node.inputs[1])], np.int64), "k")
    values, index = c.g.multi("TopK", [c.value(node.inputs[0]), k], 2, axis=-1, largest=1,
                              sorted=1)
    c.define(node, [values, c.g.node("Cast", [index], to=6)])  # TensorFlow's int32 indices


def _reduce(onnx_op: str):
    def convert(c, node: Node) -> None:
        axes = c.const_value(node, node.inputs[1]).reshape(-1).tolist()
        keep = int(node.get("keep_dims", False))
        value = c.value(node.inputs[0])
        if onnx_op == "ReduceSum":  # opset 13: axes as an input
            out = c.g.node(onnx_op, [value, _axes(c, axes)], keepdims=keep)
        else:
            out = c.g.node(onnx_op, [value], axes=axes, keepdims=keep)
        c.define(node, [out])
    return convert


def _range(c, node: Node) -> None:
    c.define(node, [c.g.node("Range", [c.value(r) for r in node.inputs[:3]])])


def _tile(c, node: Node) -> None:
    c.define(node, [c.g.node("Tile", [c.value(node.inputs[0]),
                                      c.int64(node, node.inputs[1])])])


def _fill(c, node: Node) -> None:
    c.define(node, [c.g.node("Expand", [c.value(node.inputs[1]),
                                        c.int64(node, node.inputs[0])])])


def _strided_slice(c, node: Node) -> None:
    """Constant begin, end and strides with begin/end/shrink/new-axis masks (no ellipsis)."""
    begin, end, strides = (c.const_value(node, r).reshape(-1).astype(np.int64)
                           for r in node.inputs[1:4])
    mask = {k: node.get(f"{k}_mask", 0) for k in ("begin", "end", "ellipsis", "new_axis",
                                                    "shrink_axis")}
    if mask["ellipsis"]:
        raise ConversionError(f"node {node.name!r} (StridedSlice): ellipsis_mask is not "
                              "supported")
    starts, ends, axes, steps, shrink, new_axes = [], [], [], [], [], []
    axis = out_axis = 0
    for i in range(len(begin)):
        bit = 1 << i
        if mask["new_axis"] & bit:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        step = int(strides[i])
        if mask["shrink_axis"] & bit:
            b = int(begin[i])
            starts.append(b)
            ends.append(b + 1 if b != -1 else _INT_MAX)
            steps.append(1)
            shrink.append(axis)
        else:
            starts.append((0 if step > 0 else -1) if mask["begin"] & bit else int(begin[i]))
            ends.append((_INT_MAX if step > 0 else _INT_MIN) if mask["end"] & bit
                        else int(end[i]))
            steps.append(step)
            out_axis += 1
        axes.append(axis)
        axis += 1
    value = c.value(node.inputs[0])
    if axes:
        value = c.g.node("Slice", [value, _axes(c, starts), _axes(c, ends), _axes(c, axes),
                                   _axes(c, steps)])
    if shrink:
        value = c.g.node("Squeeze", [value, _axes(c, shrink)])
    if new_axes:
        value = c.g.node("Unsqueeze", [value, _axes(c, new_axes)])
    c.define(node, [value])


#: TensorFlow op -> its conversion (shapes, indexing, reductions)
OPS = {
    "Shape": _shape, "Size": _size, "Reshape": _reshape,
    "Squeeze": _squeeze, "ExpandDims": _expand_dims,
    "Pack": _pack, "Unpack": _unpack, "Split": _split,
    "ConcatV2": _concat, "ArgMax": _arg_max,
    "GatherNd": _gather_nd, "TopKV2": _top_k,
    "Max": _reduce("ReduceMax"), "Sum": _reduce("ReduceSum"),
    "Range": _range, "Tile": _tile, "Fill": _fill,
    "StridedSlice": _strided_slice,
}
