"""The ONNX graph both converters build (TFLite: `tflite`, TF.js: `tfjs`): fresh
value names, constants as initializers, nodes, and the file written whole or not at all."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

OPSET = 13
#: readable by every onnxruntime since 1.6
IR_VERSION = 7


class ConversionError(RuntimeError):
    """The model file is malformed or uses something the converters do not handle."""


@dataclass
class Graph:
    """ONNX graph under construction; `nchw` marks 4-D activations held as NCHW."""

    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    consts: dict = field(default_factory=dict)  # source tensor -> folded numpy value
    names: dict = field(default_factory=dict)  # source tensor -> ONNX value name
    nchw: set = field(default_factory=set)
    counter: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}__{self.counter}"

    def const(self, value: np.ndarray, stem: str) -> str:
        from onnx import numpy_helper

        name = self.fresh(stem)
        # np.array, not np.ascontiguousarray: that makes a 0-d constant 1-d
        self.inits.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        from onnx import helper

        output = output or self.fresh(op)
        self.nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def multi(self, op: str, inputs: list[str], count: int, **attrs) -> list[str]:
        """A node with `count` outputs."""
        from onnx import helper

        outputs = [self.fresh(op) for _ in range(count)]
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs

    def model(self, name: str, inputs: list, outputs: list, producer: str, version: str):
        from onnx import helper

        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=producer, producer_version=version)
        model.ir_version = IR_VERSION
        return model


def write_model(model, onnx_path: Path) -> None:
    """Check `model` with the ONNX checker and write it; a reader never sees half a file."""
    import onnx

    onnx.checker.check_model(model)
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    # a new file of its own, written through its descriptor: a link planted in a cache
    # others can write to is never followed
    fd, tmp = tempfile.mkstemp(dir=onnx_path.parent, prefix=f".{onnx_path.name}.",
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(model.SerializeToString())
        os.replace(tmp, onnx_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
