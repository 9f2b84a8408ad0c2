"""TFLite → ONNX conversion for the BlazePose and hand models.

The public converters cannot read these files (the detector stores its fp16 weights as sparse
tensors behind DENSIFY ops; tflite2onnx lacks DENSIFY, DEPTH_TO_SPACE and PAD, tf2onnx needs
TensorFlow). This module converts exactly the op set the BlazePose detector and landmark models
and the hand landmark and recrop models use (the hands' extra ops: `tflite_ops.py`). Constants
(DEQUANTIZE, DENSIFY) are folded at conversion time, activations are kept in NCHW inside the
graph, and the model keeps its NHWC inputs and outputs and its tensor names, so the ONNX file
is a drop-in replacement for the TFLite one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .onnx_graph import ConversionError, Graph, write_model
from .tflite_ops import HandOps

CONVERTER_VERSION = "1"

_NP_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}
_ACTIVATIONS = {0: None, 1: "Relu", 3: "Relu6"}


def _builtin_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _index_vector(dim, which: str) -> np.ndarray:
    """Read a SparseIndexVector union (segments or indices) of a TFLite DimensionMetadata."""
    import tflite

    kind = getattr(dim, f"Array{which}Type")()
    table = getattr(dim, f"Array{which}")()
    cls = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}.get(kind)
    if cls is None:
        raise ConversionError(f"unsupported sparse index vector type {kind}")
    vec = cls()
    vec.Init(table.Bytes, table.Pos)
    return vec.ValuesAsNumpy().astype(np.int64)


def densify(values: np.ndarray, shape: list[int], sparsity) -> np.ndarray:
    """Expand a TFLite sparse tensor (dense outer dims, CSR last dim, identity traversal)."""
    ndim = len(shape)
    order = sparsity.TraversalOrderAsNumpy()
    if sparsity.BlockMapLength() or list(order) != list(range(ndim)):
        raise ConversionError("block-sparse or reordered sparse tensors are not supported")
    formats = [sparsity.DimMetadata(d).Format() for d in range(ndim)]
    if formats[:-1] != [0] * (ndim - 1) or formats[-1] != 1:
        raise ConversionError(f"unsupported sparse layout {formats}")
    last = sparsity.DimMetadata(ndim - 1)
    segments = _index_vector(last, "Segments")
    indices = _index_vector(last, "Indices")
    rows = int(np.prod(shape[:-1]))
    dense = np.zeros((rows, shape[-1]), dtype=values.dtype)
    row_of_value = np.repeat(np.arange(rows), np.diff(segments))
    dense[row_of_value, indices] = values[: len(indices)]
    return dense.reshape(shape)


class _Converter(HandOps):
    def __init__(self, data: bytes, dynamic_batch: bool):
        import tflite

        self.tfl = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise ConversionError("only single-subgraph models are supported")
        self.sg = self.model.Subgraphs(0)
        self.g = Graph()
        self.dynamic_batch = dynamic_batch
        self.op_names = _builtin_names()

    # -- tensors -----------------------------------------------------------------------------
    def tensor(self, idx: int):
        return self.sg.Tensors(idx)

    def shape(self, idx: int) -> list[int]:
        return self.tensor(idx).ShapeAsNumpy().tolist()

    def buffer_value(self, idx: int) -> np.ndarray | None:
        t = self.tensor(idx)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        dtype = _NP_TYPES.get(t.Type())
        if dtype is None:
            raise ConversionError(f"tensor {t.Name()!r} has unsupported type {t.Type()}")
        raw = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=dtype)
        if t.Sparsity() is not None:
            return raw  # expanded by the DENSIFY op that reads it
        return raw.reshape(self.shape(idx))

    def value_name(self, idx: int) -> str:
        """ONNX name of a TFLite tensor, materialising folded constants on first use."""
        if idx not in self.g.names:
            if idx not in self.g.consts:
                raise ConversionError(f"tensor {self.tensor(idx).Name()!r} has no producer")
            self.g.names[idx] = self.g.const(self.g.consts[idx].astype(np.float32), "w")
        return self.g.names[idx]

    def const_of(self, idx: int) -> np.ndarray:
        if idx in self.g.consts:
            return self.g.consts[idx]
        value = self.buffer_value(idx)
        if value is None:
            raise ConversionError(f"tensor {self.tensor(idx).Name()!r} is not constant")
        return value

    # -- ops ---------------------------------------------------------------------------------
    def options(self, op, cls):
        opts = cls()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        return opts

    def activation(self, name: str, code: int, output: str) -> str:
        if code not in _ACTIVATIONS:
            raise ConversionError(f"unsupported fused activation {code}")
        act = _ACTIVATIONS[code]
        if act is None:
            return self.g.node("Identity", [name], output)
        if act == "Relu":
            return self.g.node("Relu", [name], output)
        lo = self.g.const(np.array(0.0, np.float32), "lo")
        hi = self.g.const(np.array(6.0, np.float32), "hi")
        return self.g.node("Clip", [name, lo, hi], output)

    @staticmethod
    def same_pads(size: list[int], kernel: list[int], stride: list[int], dilation: list[int]):
        begin, end = [], []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            out = -(-n // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            begin.append(total // 2)
            end.append(total - total // 2)
        return begin + end

    def conv(self, op, ins, out, depthwise: bool):
        cls = self.tfl.DepthwiseConv2DOptions if depthwise else self.tfl.Conv2DOptions
        o = self.options(op, cls)
        weight = self.const_of(ins[1]).astype(np.float32)
        in_shape = self.shape(ins[0])
        if depthwise:
            if o.DepthMultiplier() not in (0, 1):
                raise ConversionError("depth multiplier > 1 is not supported")
            weight = weight.transpose(3, 0, 1, 2)  # [1,kh,kw,C] -> [C,1,kh,kw]
            group = in_shape[3]
        else:
            weight = weight.transpose(0, 3, 1, 2)  # OHWI -> OIHW
            group = 1
        kernel = list(weight.shape[2:])
        stride = [o.StrideH(), o.StrideW()]
        dilation = [o.DilationHFactor(), o.DilationWFactor()]
        if o.Padding() == self.tfl.Padding.SAME:
            pads = self.same_pads(in_shape[1:3], kernel, stride, dilation)
        else:
            pads = [0, 0, 0, 0]
        inputs = [self.value_name(ins[0]), self.g.const(weight, "w")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.g.const(self.const_of(ins[2]).astype(np.float32), "b"))
        y = self.g.node("Conv", inputs, strides=stride, dilations=dilation, pads=pads,
                        group=group, kernel_shape=kernel)
        return self.activation(y, o.FusedActivationFunction(), out), True

    def convert_op(self, op, kind: str, ins: list[int], outs: list[int]):
        g = self.g
        out = g.fresh(self.tensor(outs[0]).Name().decode().replace("/", "_"))
        if kind in ("DEQUANTIZE", "DENSIFY"):  # constants: folded now
            value = self.const_of(ins[0])
            if kind == "DENSIFY":
                value = densify(value, self.shape(ins[0]), self.tensor(ins[0]).Sparsity())
            g.consts[outs[0]] = value.astype(np.float32).reshape(self.shape(outs[0]))
            return
        handler = getattr(self, f"op_{kind.lower()}", None)
        if handler is None:
            raise ConversionError(f"unsupported TFLite op {kind}")
        name, nchw = handler(op, ins, outs, out)
        g.names[outs[0]] = name
        if nchw:
            g.nchw.add(outs[0])

    # each op_<kind>: (the ONNX name of its output, whether that output is NCHW)
    def op_conv_2d(self, op, ins, outs, out):
        return self.conv(op, ins, out, False)

    def op_depthwise_conv_2d(self, op, ins, outs, out):
        return self.conv(op, ins, out, True)

    def op_add(self, op, ins, outs, out):
        o = self.options(op, self.tfl.AddOptions)
        if any(i in self.g.consts or self.buffer_value(i) is not None for i in ins):
            raise ConversionError("ADD with a constant operand is not supported")
        y = self.g.node("Add", [self.value_name(i) for i in ins])
        return self.activation(y, o.FusedActivationFunction(), out), ins[0] in self.g.nchw

    def op_pad(self, op, ins, outs, out):
        p = self.const_of(ins[1]).astype(np.int64)  # [[n0,n1],[h0,h1],[w0,w1],[c0,c1]]
        p = p[[0, 3, 1, 2]]
        pads = self.g.const(np.concatenate([p[:, 0], p[:, 1]]), "pads")
        return self.g.node("Pad", [self.value_name(ins[0]), pads], out), True

    def op_depth_to_space(self, op, ins, outs, out):
        o = self.options(op, self.tfl.DepthToSpaceOptions)
        return self.g.node("DepthToSpace", [self.value_name(ins[0])], out,
                           blocksize=o.BlockSize(), mode="DCR"), True

    def op_resize_bilinear(self, op, ins, outs, out):
        o = self.options(op, self.tfl.ResizeBilinearOptions)
        src, dst = self.shape(ins[0]), self.shape(outs[0])
        scales = np.array([1, 1, dst[1] / src[1], dst[2] / src[2]], np.float32)
        mode = ("align_corners" if o.AlignCorners() else
                "half_pixel" if o.HalfPixelCenters() else "asymmetric")
        empty = self.g.const(np.zeros(0, np.float32), "roi")
        return self.g.node("Resize", [self.value_name(ins[0]), empty,
                                      self.g.const(scales, "scales")],
                           out, mode="linear", coordinate_transformation_mode=mode), True

    def op_max_pool_2d(self, op, ins, outs, out):
        o = self.options(op, self.tfl.Pool2DOptions)
        kernel = [o.FilterHeight(), o.FilterWidth()]
        stride = [o.StrideH(), o.StrideW()]
        pads = (self.same_pads(self.shape(ins[0])[1:3], kernel, stride, [1, 1])
                if o.Padding() == self.tfl.Padding.SAME else [0, 0, 0, 0])
        y = self.g.node("MaxPool", [self.value_name(ins[0])], kernel_shape=kernel,
                        strides=stride, pads=pads)
        return self.activation(y, o.FusedActivationFunction(), out), True

    def op_logistic(self, op, ins, outs, out):
        return self.g.node("Sigmoid", [self.value_name(ins[0])], out), ins[0] in self.g.nchw

    def op_reshape(self, op, ins, outs, out):
        g = self.g
        src = self.value_name(ins[0])
        if ins[0] in g.nchw:
            src = g.node("Transpose", [src], perm=[0, 2, 3, 1])
        target = list(self.shape(outs[0]))
        target[0] = 0  # keep the batch dimension, whatever it is at run time
        name = g.node("Reshape", [src, g.const(np.array(target, np.int64), "shape")])
        if len(target) == 4:
            return g.node("Transpose", [name], perm=[0, 3, 1, 2]), True
        return name, False

    def op_concatenation(self, op, ins, outs, out):
        o = self.options(op, self.tfl.ConcatenationOptions)
        axis = o.Axis() % len(self.shape(outs[0]))
        nchw = all(i in self.g.nchw for i in ins)
        if nchw:
            axis = [0, 2, 3, 1][axis]
        y = self.g.node("Concat", [self.value_name(i) for i in ins], axis=axis)
        return self.activation(y, o.FusedActivationFunction(), out), nchw

    def run(self):
        from onnx import TensorProto, helper

        g = self.g
        inputs, outputs = [], []
        for i in range(self.sg.InputsLength()):
            idx = self.sg.Inputs(i)
            shape = self.shape(idx)
            name = self.tensor(idx).Name().decode()
            dims = ["batch" if self.dynamic_batch else shape[0]] + shape[1:]
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
            if len(shape) == 4:
                g.names[idx] = g.node("Transpose", [name], perm=[0, 3, 1, 2])
                g.nchw.add(idx)
            else:
                g.names[idx] = name
        for i in range(self.sg.OperatorsLength()):
            op = self.sg.Operators(i)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            kind = self.op_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
            ins = [int(j) for j in op.InputsAsNumpy()]
            outs = [int(j) for j in op.OutputsAsNumpy()]
            self.convert_op(op, kind, ins, outs)
        for i in range(self.sg.OutputsLength()):
            idx = self.sg.Outputs(i)
            name = self.tensor(idx).Name().decode()
            shape = self.shape(idx)
            src = g.names[idx]
            if idx in g.nchw:
                g.node("Transpose", [src], name, perm=[0, 2, 3, 1])
            else:
                g.node("Identity", [src], name)
            dims = ["batch" if self.dynamic_batch else shape[0]] + shape[1:]
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        model = g.model("converted_from_tflite", inputs, outputs,
                        "pose_estimation_ros.models.tflite_onnx", CONVERTER_VERSION)
        return model


def convert(tflite_path: Path, onnx_path: Path, dynamic_batch: bool = False,
            keep_outputs: list[str] | None = None) -> None:
    """Convert one TFLite model file to ONNX, checking the result with the ONNX checker.
    `keep_outputs`: prune the graph to these outputs (the nodes only the others need go)."""
    import onnx
    import onnx.utils

    model = _Converter(Path(tflite_path).read_bytes(), dynamic_batch).run()
    if keep_outputs is not None:
        names = [o.name for o in model.graph.output]
        missing = [n for n in keep_outputs if n not in names]
        if missing:
            raise ConversionError(f"{tflite_path}: no outputs {missing} to keep (it has {names})")
        inputs = [i.name for i in model.graph.input]
        pruned = onnx.utils.Extractor(model).extract_model(inputs, list(keep_outputs))
        pruned.ir_version, pruned.producer_name = model.ir_version, model.producer_name
        pruned.producer_version = model.producer_version
        del pruned.opset_import[:]
        pruned.opset_import.extend(model.opset_import)
        model = pruned
    write_model(model, onnx_path)
