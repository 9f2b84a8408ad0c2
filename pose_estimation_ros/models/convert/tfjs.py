"""TF.js graph model → ONNX, with numpy and onnx only (no TensorFlow).

Converts the TensorFlow ops the MoveNet (single-pose, MultiPose) and EfficientPose graphs use.
The model keeps its NHWC inputs and outputs, named by the TF.js signature's keys; inside, 4-D
activations that feed convolutions are held as NCHW (`Graph.nchw`): a convolution's output stays
NCHW through element-wise ops, concatenations and further convolutions, and is transposed back
to NHWC once, where an op needs TensorFlow's layout (reshapes, gathers, slices, outputs).
Constants broadcast against an NCHW tensor are transposed at conversion time. An op the
converter does not know is a `ConversionError` naming the op and the node.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import tfjs_ops as ops
from . import tfjs_shape_ops as shape_ops
from .onnx_graph import Graph, write_model
from .tfjs_graph import ConversionError, Node, TfjsModel, load, tensor_ref

CONVERTER_VERSION = "tfjs-1"

TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]

#: TensorFlow op -> its conversion
OPS = {**ops.OPS, **shape_ops.OPS}


class Converter:
    """State of one conversion; the op functions in `tfjs_ops` call back into it."""

    def __init__(self, model: TfjsModel):
        self.model = model
        self.g = Graph()
        self.producers = {n.name: n for n in model.nodes}
        self.nhwc_of: dict[str, str] = {}  # NCHW value -> its NHWC transpose, made once

    # values
    def is_const(self, ref: str) -> bool:
        return tensor_ref(ref) in self.g.consts

    def const_value(self, node: Node, ref: str) -> np.ndarray:
        value = self.g.consts.get(tensor_ref(ref))
        if value is None:
            raise ConversionError(f"node {node.name!r} ({node.op}): input {ref!r} must be a "
                                  "constant")
        return value

    def value(self, ref: str) -> str:
        """The ONNX value of a tensor reference, in TensorFlow's layout (NHWC)."""
        name = self.raw(ref)
        if name not in self.g.nchw:
            return name
        if name not in self.nhwc_of:
            self.nhwc_of[name] = self.g.node("Transpose", [name], perm=TO_NHWC)
        return self.nhwc_of[name]

    def nchw(self, ref: str) -> str:
        """The ONNX value of a 4-D tensor reference, as NCHW."""
        name = self.raw(ref)
        return name if name in self.g.nchw else self.transposed_to_nchw(name)

    def transposed_to_nchw(self, name: str) -> str:
        out = self.g.node("Transpose", [name], perm=TO_NCHW)
        self.g.nchw.add(out)
        return out

    def raw(self, ref: str) -> str:
        """The ONNX value as it is held (NCHW where `g.nchw` says so)."""
        ref = tensor_ref(ref)
        if ref in self.g.names:
            return self.g.names[ref]
        if ref in self.g.consts:
            name = self.g.const(self.g.consts[ref], "const")
            self.g.names[ref] = name
            return name
        raise ConversionError(f"tensor {ref!r} is read before any node makes it")

    def is_nchw(self, ref: str) -> bool:
        return self.raw(ref) in self.g.nchw if not self.is_const(ref) else False

    def int64(self, node: Node, ref: str) -> str:
        """An integer input (shape, axes, multiples) as int64, folded when constant."""
        if self.is_const(ref):
            return self.g.const(self.const_value(node, ref).astype(np.int64), "i64")
        return self.g.node("Cast", [self.value(ref)], to=7)  # INT64

    def define(self, node: Node, outputs: list[str], nchw: bool = False) -> None:
        """Name the node's outputs ("node", "node:1", …)."""
        for i, name in enumerate(outputs):
            key = node.name if i == 0 else f"{node.name}:{i}"
            self.g.names[key] = name
            if nchw:
                self.g.nchw.add(name)

    def run(self, extra_outputs: tuple[str, ...] = ()):
        from onnx import TensorProto, helper

        onnx_types = {np.float32: TensorProto.FLOAT, np.int32: TensorProto.INT32,
                      np.int64: TensorProto.INT64, np.bool_: TensorProto.BOOL}
        for name, array in self.model.weights.items():
            self.g.consts[name] = array
        inputs = []
        for key, (ref, dtype, dims) in self.model.inputs.items():
            inputs.append(helper.make_tensor_value_info(key, onnx_types[dtype],
                                                        _shape(key, dims)))
            self.g.names[ref] = key
        for node in self.model.nodes:
            if node.op in ("Const", "Placeholder"):
                if node.op == "Const" and node.name not in self.g.consts:
                    raise ConversionError(f"constant {node.name!r} has no weight in the "
                                          "manifest")
                continue
            convert = OPS.get(node.op)
            if convert is None:
                raise ConversionError(f"op {node.op!r} (node {node.name!r}) is not supported "
                                      "by this converter")
            convert(self, node)
        outputs = []
        for key, (ref, dtype, dims) in self.model.outputs.items():
            self.g.node("Identity", [self.value(ref)], key)
            outputs.append(helper.make_tensor_value_info(key, onnx_types[dtype],
                                                         _shape(key, dims)))
        for ref in extra_outputs:  # inner tensors, for comparing with another conversion
            self.g.node("Identity", [self.value(ref)], ref)
            outputs.append(helper.make_tensor_value_info(ref, TensorProto.UNDEFINED, None))
        return self.g.model("converted_from_tfjs", inputs, outputs,
                            "pose_estimation_ros.models.tfjs_onnx", CONVERTER_VERSION)


def _shape(key: str, dims: list[int] | None) -> list | None:
    """An ONNX value's shape from a signature's: unknown sizes get a name, unknown rank None."""
    if dims is None:
        return None
    return [d if d >= 0 else f"{key.split(':')[0]}_{i}" for i, d in enumerate(dims)]


def _prune(model) -> None:
    """Drop the nodes and constants no output needs (shape arithmetic for sizes that the
    ONNX ops work out themselves), and give the outputs their inferred shapes."""
    from onnx import shape_inference

    graph = model.graph
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(keep))
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    inferred = shape_inference.infer_shapes(model).graph
    known = {v.name: v for v in list(inferred.value_info) + list(inferred.output)}
    for out in graph.output:
        if out.name in known and (known[out.name].type.tensor_type.HasField("shape")
                                   or not out.type.tensor_type.elem_type):
            out.type.CopyFrom(known[out.name].type)


def build(model_json: Path, extra_outputs: tuple[str, ...] = ()):
    """The ONNX model of a TF.js graph model (`model.json` and its shards beside it);
    `extra_outputs`: TensorFlow tensors ("node" or "node:i") also made outputs, in NHWC."""
    model = Converter(load(model_json)).run(tuple(extra_outputs))
    _prune(model)
    return model


def convert(model_json: Path, onnx_path: Path) -> None:
    """Convert a TF.js graph model to an ONNX file (checked by the ONNX checker)."""
    write_model(build(model_json), onnx_path)
