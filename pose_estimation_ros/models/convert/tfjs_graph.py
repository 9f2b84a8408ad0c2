"""Reading a TF.js graph model: `model.json` (a TensorFlow GraphDef as JSON in
`modelTopology`, the weights' names, shapes and dtypes in `weightsManifest`) and its `.bin`
shards (the weights concatenated in manifest order, float16 or uint8/uint16 where quantised).

No TensorFlow: the JSON is GraphDef's protobuf JSON mapping (int64 as strings, bytes as
base64), read here with the standard library and numpy.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onnx_graph import ConversionError  # noqa: F401  (its users import it from here)

#: TensorFlow DataType enum names -> numpy
DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64,
          "DT_BOOL": np.bool_, "DT_HALF": np.float16, "DT_UINT8": np.uint8,
          "DT_INT8": np.int8}
#: manifest dtype names -> numpy
_MANIFEST = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16,
             "uint8": np.uint8, "uint16": np.uint16, "int64": np.int64}


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str]  # tensor references: "node" or "node:i" (control inputs dropped)
    attr: dict

    def get(self, key: str, default=None):
        """An attribute as a Python value: int, float, bool, str, dtype, list, or shape."""
        value = self.attr.get(key)
        if value is None:
            return default
        return _attr_value(value)


@dataclass
class TfjsModel:
    nodes: list[Node]
    weights: dict[str, np.ndarray]
    #: signature key -> (tensor reference, numpy dtype, shape with -1 for an unknown size,
    #: None for an unknown rank)
    inputs: dict[str, tuple[str, type, list[int] | None]]
    outputs: dict[str, tuple[str, type, list[int] | None]]


def _attr_value(value: dict):
    if "list" in value:
        items = value["list"]
        if "i" in items:
            return [int(i) for i in items["i"]]
        if "s" in items:
            return [base64.b64decode(s).decode() for s in items["s"]]
        if "f" in items:
            return [float(f) for f in items["f"]]
        return []
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "type" in value:
        return DTYPES.get(value["type"], value["type"])
    if "shape" in value:
        return [int(d.get("size", -1)) for d in value["shape"].get("dim", [])]
    return value


def tensor_ref(ref: str) -> str:
    """"node:0" and "node" name the same tensor."""
    return ref[:-2] if ref.endswith(":0") else ref


def _read_weights(manifest: list, folder: Path) -> dict[str, np.ndarray]:
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            quant = spec.get("quantization") or {}
            stored = _MANIFEST.get(quant.get("dtype") or spec["dtype"])
            if stored is None or spec["dtype"] not in _MANIFEST:
                raise ConversionError(f"weight {spec['name']}: dtype {spec['dtype']} "
                                      f"(stored as {quant.get('dtype')}) is not supported")
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape, dtype=np.int64))
            size = count * np.dtype(stored).itemsize
            if offset + size > len(data):
                raise ConversionError(f"weight {spec['name']}: the weight files end at "
                                      f"{len(data)} bytes, it needs {offset + size}")
            raw = np.frombuffer(data, dtype=np.dtype(stored).newbyteorder("<"), count=count,
                                offset=offset)
            offset += size
            if quant.get("dtype") in ("uint8", "uint16"):
                value = raw.astype(np.float32) * np.float32(quant["scale"]) + \
                    np.float32(quant["min"])
            else:
                value = raw.astype(_MANIFEST[spec["dtype"]])
            weights[spec["name"]] = value.reshape(shape)
        if offset != len(data):
            raise ConversionError(f"weight files {group['paths']}: {len(data)} bytes, the "
                                  f"manifest describes {offset}")
    return weights


def _dims(spec: dict) -> list[int] | None:
    """A signature entry's shape; None where it gives none (unknown rank, not a scalar)."""
    shape = spec.get("tensorShape")
    if shape is None or shape.get("unknownRank"):
        return None
    return [int(d.get("size", -1)) for d in shape.get("dim", [])]


def load(model_json: Path) -> TfjsModel:
    """The graph, its weights (read from the shards beside `model_json`) and signature."""
    model_json = Path(model_json)
    try:
        doc = json.loads(model_json.read_text())
        topology, manifest = doc["modelTopology"], doc["weightsManifest"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConversionError(f"{model_json}: not a TF.js graph model ({exc})") from None
    if doc.get("format", "graph-model") != "graph-model":
        raise ConversionError(f"{model_json}: format {doc.get('format')!r}, not graph-model")
    if topology.get("library", {}).get("function"):
        raise ConversionError(f"{model_json}: graph functions (control flow) are not supported")
    nodes = [Node(n["name"], n["op"], [i for i in n.get("input", []) if not i.startswith("^")],
                  n.get("attr", {})) for n in topology["node"]]
    signature = doc.get("signature") or {}
    inputs, outputs = {}, {}
    placeholders = {n.name: n.get("shape") for n in nodes if n.op == "Placeholder"}
    for key, spec in (signature.get("inputs") or {}).items():
        ref = tensor_ref(spec["name"])
        # the placeholder's shape: a signature may give an example size for a free one
        dims = placeholders.get(ref) or _dims(spec)
        inputs[key] = (ref, DTYPES[spec["dtype"]], dims)
    for key, spec in (signature.get("outputs") or {}).items():
        outputs[key] = (tensor_ref(spec["name"]), DTYPES.get(spec.get("dtype"), np.float32),
                        _dims(spec))
    if not inputs:  # no signature: the placeholders and the nodes nothing reads
        for n in nodes:
            if n.op == "Placeholder":
                inputs[n.name] = (n.name, n.get("dtype"), n.get("shape", []))
        read = {tensor_ref(i).split(":")[0] for n in nodes for i in n.inputs}
        outputs = {n.name: (n.name, n.get("T", np.float32), None) for n in nodes
                   if n.name not in read and n.op != "Const"}
    return TfjsModel(nodes, _read_weights(manifest, model_json.parent), inputs, outputs)
