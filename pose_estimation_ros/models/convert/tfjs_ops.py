"""One function per TensorFlow op: the ONNX nodes for it, written through `tfjs.Converter`
(`c`). Semantics follow TensorFlow's op definitions: SAME padding puts the odd pixel after,
FloorDiv rounds towards −∞, StridedSlice's masks, ResizeBilinear's `align_corners` and
`half_pixel_centers`, Conv2DBackpropInput as the adjoint of a SAME convolution."""
from __future__ import annotations

import numpy as np

from .tfjs_graph import ConversionError, Node

_ONNX_TYPE = {np.float32: 1, np.uint8: 2, np.int8: 3, np.int32: 6, np.int64: 7, np.bool_: 9,
              np.float16: 10}
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def onnx_type(node: Node, dtype) -> int:
    try:
        return _ONNX_TYPE[dtype]
    except KeyError:
        raise ConversionError(f"node {node.name!r} ({node.op}): dtype {dtype} is not "
                              "supported") from None


def _const_to_nchw(value: np.ndarray) -> np.ndarray | None:
    """A constant broadcast against an NHWC tensor, for the same tensor held as NCHW."""
    if value.ndim == 0:
        return value
    if value.ndim > 4:
        return None
    return value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(0, 3, 1, 2)


def _operands(c, node: Node, refs: list[str]) -> tuple[list[str], bool]:
    """Element-wise inputs: all NCHW when one is held NCHW and the others are too or are
    constants (transposed here); else all in TensorFlow's layout."""
    held = [c.is_nchw(r) for r in refs]
    if any(held) and all(h or c.is_const(r) for h, r in zip(held, refs)):
        names = []
        for h, r in zip(held, refs):
            if h:
                names.append(c.raw(r))
                continue
            value = _const_to_nchw(c.const_value(node, r))
            if value is None:
                break
            names.append(c.g.const(value, "nchw_const"))
        else:
            return names, True
    return [c.value(r) for r in refs], False


def _elementwise(onnx_op: str):
    def convert(c, node: Node) -> None:
        names, nchw = _operands(c, node, node.inputs)
        c.define(node, [c.g.node(onnx_op, names)], nchw)
    return convert


def _unary(onnx_op: str):
    def convert(c, node: Node) -> None:
        nchw = c.is_nchw(node.inputs[0])
        c.define(node, [c.g.node(onnx_op, [c.raw(node.inputs[0])])], nchw)
    return convert


def _relu6(c, value: str) -> str:
    low, high = (c.g.const(np.array(v, np.float32), "clip") for v in (0.0, 6.0))
    return c.g.node("Clip", [value, low, high])


def _cast(c, node: Node) -> None:
    nchw = c.is_nchw(node.inputs[0])
    out = c.g.node("Cast", [c.raw(node.inputs[0])], to=onnx_type(node, node.get("DstT")))
    c.define(node, [out], nchw)


def _relu6_op(c, node: Node) -> None:
    nchw = c.is_nchw(node.inputs[0])
    c.define(node, [_relu6(c, c.raw(node.inputs[0]))], nchw)


def _identity(c, node: Node) -> None:
    c.define(node, [c.raw(node.inputs[0])], c.is_nchw(node.inputs[0]))


def _squared_difference(c, node: Node) -> None:
    names, nchw = _operands(c, node, node.inputs)
    diff = c.g.node("Sub", names)
    c.define(node, [c.g.node("Mul", [diff, diff])], nchw)


def _floor_div(c, node: Node) -> None:
    names, nchw = _operands(c, node, node.inputs)
    dtype = node.get("T", np.float32)
    if dtype in (np.float32, np.float16):
        out = c.g.node("Floor", [c.g.node("Div", names)])
    else:  # ONNX Div truncates integers: one less where the remainder and divisor differ in sign
        a, b = names
        q = c.g.node("Div", [a, b])
        r = c.g.node("Sub", [a, c.g.node("Mul", [q, b])])
        zero = c.g.const(np.array(0, dtype), "zero")
        inexact = c.g.node("Not", [c.g.node("Equal", [r, zero])])
        signs = c.g.node("Xor", [c.g.node("Less", [r, zero]), c.g.node("Less", [b, zero])])
        step = c.g.node("Cast", [c.g.node("And", [inexact, signs])], to=onnx_type(node, dtype))
        out = c.g.node("Sub", [q, step])
    c.define(node, [out], nchw)


def _add_n(c, node: Node) -> None:
    names, nchw = _operands(c, node, node.inputs)
    c.define(node, [c.g.node("Sum", names)], nchw)


# convolutions (NCHW inside)
def _pads(node: Node, kernel: list[int], strides: list[int], dilations: list[int]) -> dict:
    padding = node.get("padding")
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "EXPLICIT":
        p = node.get("explicit_paddings")
        return {"pads": [p[2], p[4], p[3], p[5]]}
    if padding != "SAME":
        raise ConversionError(f"node {node.name!r} ({node.op}): padding {padding!r}")
    if strides == [1, 1]:  # the same pads for every input size
        total = [(k - 1) * d for k, d in zip(kernel, dilations)]
        return {"pads": [t // 2 for t in total] + [t - t // 2 for t in total]}
    return {"auto_pad": "SAME_UPPER"}  # TensorFlow's SAME: the odd pixel after


def _window(node: Node, key: str) -> list[int]:
    if node.get("data_format", "NHWC") != "NHWC":
        raise ConversionError(f"node {node.name!r} ({node.op}): data_format "
                              f"{node.get('data_format')!r}; only NHWC is supported")
    values = node.get(key, [1, 1, 1, 1])
    return [int(values[1]), int(values[2])]


def _activation(c, node: Node, ops: list[str], value: str) -> str:
    for op in ops:
        if op == "Relu":
            value = c.g.node("Relu", [value])
        elif op == "Relu6":
            value = _relu6(c, value)
        elif op == "Elu":
            value = c.g.node("Elu", [value])
        elif op == "LeakyRelu":
            value = c.g.node("LeakyRelu", [value], alpha=node.get("leakyrelu_alpha", 0.2))
        else:
            raise ConversionError(f"node {node.name!r} ({node.op}): fused op {op!r} is not "
                                  "supported")
    return value


def _conv(depthwise: bool):
    def convert(c, node: Node) -> None:
        x = c.nchw(node.inputs[0])
        w = c.const_value(node, node.inputs[1]).astype(np.float32)
        strides, dilations = _window(node, "strides"), _window(node, "dilations")
        kh, kw = w.shape[:2]
        if depthwise:  # [kh, kw, C, M] -> [C*M, 1, kh, kw], one group per input channel
            group = w.shape[2]
            weight = w.transpose(2, 3, 0, 1).reshape(-1, 1, kh, kw)
        else:  # HWIO -> OIHW
            group = 1
            weight = w.transpose(3, 2, 0, 1)
        inputs = [x, c.g.const(np.ascontiguousarray(weight), "weight")]
        fused = list(node.get("fused_ops", []))
        if fused[:1] == ["BiasAdd"]:
            inputs.append(c.g.const(c.const_value(node, node.inputs[2]).astype(np.float32)
                                    .reshape(-1), "bias"))
            fused = fused[1:]
        out = c.g.node("Conv", inputs, kernel_shape=[kh, kw], strides=strides,
                       dilations=dilations, group=group,
                       **_pads(node, [kh, kw], strides, dilations))
        c.define(node, [_activation(c, node, fused, out)], nchw=True)
    return convert


def _conv_transpose(c, node: Node) -> None:
    """Conv2DBackpropInput(output size, filter [kh, kw, out, in], x): the output size is
    x's size × stride (SAME) or (size − 1) × stride + kernel (VALID); the size input is only
    checked when it is a constant."""
    w = c.const_value(node, node.inputs[1]).astype(np.float32)
    strides, dilations = _window(node, "strides"), _window(node, "dilations")
    kh, kw = w.shape[:2]
    padding = node.get("padding")
    effective = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilations)]
    if padding == "SAME":
        total = [max(e - s, 0) for e, s in zip(effective, strides)]
        extra = [max(s - e, 0) for e, s in zip(effective, strides)]
    elif padding == "VALID":
        total, extra = [0, 0], [0, 0]
    else:
        raise ConversionError(f"node {node.name!r} ({node.op}): padding {padding!r}")
    out = c.g.node("ConvTranspose", [c.nchw(node.inputs[2]),
                                     c.g.const(np.ascontiguousarray(w.transpose(3, 2, 0, 1)),
                                               "weight")],
                   kernel_shape=[kh, kw], strides=strides, dilations=dilations,
                   pads=[t // 2 for t in total] + [t - t // 2 for t in total],
                   output_padding=extra)
    c.define(node, [out], nchw=True)


def _max_pool(c, node: Node) -> None:
    kernel, strides = _window(node, "ksize"), _window(node, "strides")
    out = c.g.node("MaxPool", [c.nchw(node.inputs[0])], kernel_shape=kernel, strides=strides,
                   **_pads(node, kernel, strides, [1, 1]))
    c.define(node, [out], nchw=True)


def _resize_bilinear(c, node: Node) -> None:
    x = c.nchw(node.inputs[0])
    batch_channels = c.g.node("Slice", [c.g.node("Shape", [x]),
                                        c.g.const(np.array([0], np.int64), "start"),
                                        c.g.const(np.array([2], np.int64), "end")])
    sizes = c.g.node("Concat", [batch_channels, c.int64(node, node.inputs[1])], axis=0)
    if node.get("align_corners", False):
        mode = "align_corners"
    elif node.get("half_pixel_centers", False):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    out = c.g.node("Resize", [x, "", "", sizes], mode="linear",
                   coordinate_transformation_mode=mode)
    c.define(node, [out], nchw=True)


#: TensorFlow op -> its conversion (element-wise ops, convolutions, resizing)
OPS = {
    **{op: _elementwise(onnx) for op, onnx in (
        ("Add", "Add"), ("AddV2", "Add"), ("BiasAdd", "Add"), ("Sub", "Sub"), ("Mul", "Mul"),
        ("RealDiv", "Div"), ("Maximum", "Max"), ("Minimum", "Min"), ("Equal", "Equal"),
        ("Less", "Less"), ("Greater", "Greater"), ("GreaterEqual", "GreaterOrEqual"),
        ("LessEqual", "LessOrEqual"), ("LogicalAnd", "And"), ("LogicalOr", "Or"),
        ("Select", "Where"), ("SelectV2", "Where"))},
    **{op: _unary(onnx) for op, onnx in (
        ("Sigmoid", "Sigmoid"), ("Relu", "Relu"), ("Exp", "Exp"), ("Abs", "Abs"),
        ("Sqrt", "Sqrt"), ("Reciprocal", "Reciprocal"), ("Neg", "Neg"), ("Tanh", "Tanh"),
        ("Floor", "Floor"), ("LogicalNot", "Not"))},
    "Relu6": _relu6_op, "Cast": _cast, "Identity": _identity,
    "SquaredDifference": _squared_difference, "FloorDiv": _floor_div,
    "AddN": _add_n,
    "Conv2D": _conv(False), "_FusedConv2D": _conv(False),
    "DepthwiseConv2dNative": _conv(True), "FusedDepthwiseConv2dNative": _conv(True),
    "Conv2DBackpropInput": _conv_transpose, "MaxPool": _max_pool,
    "ResizeBilinear": _resize_bilinear,
}
