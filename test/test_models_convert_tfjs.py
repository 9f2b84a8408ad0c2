"""The TF.js → ONNX converter on the four shared TF.js originals, against the tf2onnx
conversions beside them (`*_from_tfjs.onnx`), on real crops from ../shared/data: outputs and,
for MoveNet, the heatmaps and offsets before its in-graph ArgMax/TopK, to ≤ 1e-4. Then the
op semantics a real graph may not reach (negative FloorDiv, StridedSlice masks, SAME padding on
an odd size) on small hand-written graphs, and the errors."""
import base64
import json
import shutil

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import DATA, SHARED, needs_shared

from pose_estimation_ros.models.convert.tfjs import build, convert
from pose_estimation_ros.models.convert.tfjs_graph import ConversionError

TOLERANCE = 1e-4
CASES = {  # TF.js original, tf2onnx reference, input size, input dtype
    "movenet-lightning": ("movenet_singlepose_lightning_4_from_tfjs.onnx", 192, np.int32),
    "movenet-thunder": ("movenet_singlepose_thunder_4_from_tfjs.onnx", 256, np.int32),
    "movenet-multipose": ("movenet_multipose_lightning_1_from_tfjs.onnx", 256, np.int32),
    "efficientpose": ("efficientpose_ii_lite_from_tfjs.onnx", 368, np.float32),
}


def crops(size: int) -> list[np.ndarray]:
    """RGB crops: every annotated person of the COCO-17 set (1.25 × the longer box side,
    square) and 10 frames of the basketball clip (whole, squashed to a square)."""
    doc = json.loads((DATA / "coco17_eval_merged.json").read_text())
    files = {im["id"]: DATA / "mmpose_tests" / im["file_name"] for im in doc["images"]}
    out = []
    for ann in doc["annotations"]:
        x, y, w, h = ann["bbox"]
        if min(w, h) < 8:
            continue
        image = cv2.imread(str(files[ann["image_id"]]))
        side = 1.25 * max(w, h)
        scale = size / side
        warp = np.array([[scale, 0, size / 2 - scale * (x + w / 2)],
                         [0, scale, size / 2 - scale * (y + h / 2)]], np.float32)
        out.append(cv2.warpAffine(image, warp, (size, size))[:, :, ::-1])
    capture = cv2.VideoCapture(str(DATA / "videos" / "mmaction2_test_video_structuralize.mp4"))
    for i in range(100):
        ok, frame = capture.read()
        if ok and i % 10 == 0:
            out.append(cv2.resize(frame, (size, size))[:, :, ::-1])
    return out


def _inner_tensors(reference) -> list[tuple[str, str]]:
    """(reference tensor, TensorFlow tensor) read by the reference's ArgMax/TopK and GatherND
    (heatmaps, offsets), where tf2onnx's name says which TensorFlow tensor it is ("node:0",
    or "node_BiasAdd__N…" for a convolution's output)."""
    pairs = []
    for node in reference.graph.node:
        if node.op_type in ("ArgMax", "TopK", "GatherND"):
            name = node.input[0]
            if "_BiasAdd__" in name:
                pairs.append((name, name.split("_BiasAdd__")[0]))
            elif name.endswith(":0") and "__" not in name:
                pairs.append((name, name[:-2]))
    return list(dict.fromkeys(pairs))


def _session(model):
    return ort.InferenceSession(model.SerializeToString() if isinstance(model, onnx.ModelProto)
                                else str(model), providers=["CPUExecutionProvider"])


@needs_shared
@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_the_tf2onnx_reference_on_real_crops(name, tmp_path):
    reference_file, size, dtype = CASES[name]
    if not (SHARED / "models" / reference_file).is_file():
        pytest.skip(f"{reference_file} (tf2onnx's conversion, the reference) is in ../shared "
                    "only: test/fetch_test_data.py fetches the public sources, not it")
    reference = onnx.load(str(SHARED / "models" / reference_file))
    inner = _inner_tensors(reference) if name.startswith("movenet") else []
    assert len(inner) >= 5 or not name.startswith("movenet")  # heatmaps and offsets found
    for tensor, _ in inner:  # exposed as outputs of both models
        reference.graph.output.append(onnx.helper.make_empty_tensor_value_info(tensor))
    ours = _session(build(SHARED / "models" / f"{name}.json", [t for _, t in inner]))
    theirs = _session(reference)
    ours_in, theirs_in = ours.get_inputs()[0].name, theirs.get_inputs()[0].name
    out_names = [o.name for o in theirs.get_outputs()]
    assert [o.name for o in ours.get_outputs()][:1] == out_names[:1]
    images = crops(size)
    assert len(images) >= 20
    worst, keypoints, moved = 0.0, 0, 0
    for image in images:
        x = image[None].astype(np.int32) if dtype is np.int32 else \
            image[None].astype(np.float32) / 127.5 - 1
        a = ours.run(None, {ours_in: x})
        b = theirs.run(None, {theirs_in: x})
        for va, vb in zip(a[1:], b[1:]):  # heatmaps and offsets: no tie can move them
            va, vb = np.squeeze(va), np.squeeze(vb)  # tf2onnx may have dropped the batch axis
            assert va.shape == vb.shape
            worst = max(worst, float(np.abs(va - vb).max()))
        if name.startswith("movenet"):  # keypoints (y, x, score) after the in-graph ArgMax
            ka, kb = a[0][..., :51].reshape(-1, 17, 3), b[0][..., :51].reshape(-1, 17, 3)
            off = np.abs(ka - kb).max(axis=2) > TOLERANCE
            keypoints += off.size
            moved += int(off.sum())
        else:
            worst = max(worst, float(np.abs(a[0] - b[0]).max()))
    assert worst <= TOLERANCE, worst
    assert moved <= keypoints // 1000, f"{moved} of {keypoints} keypoints differ"


# small graphs written by hand: (name, op, inputs, attr) nodes and constant weights
def _graph(tmp_path, nodes, weights, inputs, outputs):
    manifest, blob = [], b""
    for name, value in weights.items():
        manifest.append({"name": name, "shape": list(value.shape),
                         "dtype": {np.dtype(np.float32): "float32",
                                   np.dtype(np.int32): "int32"}[value.dtype]})
        blob += value.tobytes()
    graph = [{"name": n, "op": "Const", "attr": {}} for n in weights]
    graph += [{"name": name, "op": "Placeholder", "attr": {
        "dtype": {"type": dt}, "shape": {"shape": {"dim": [{"size": str(d)} for d in dims]}}}}
        for name, dt, dims in inputs]
    graph += [{"name": n, "op": op, "input": ins, "attr": attr} for n, op, ins, attr in nodes]
    doc = {"format": "graph-model", "modelTopology": {"node": graph, "library": {}},
           "weightsManifest": [{"paths": ["g.bin"], "weights": manifest}],
           "signature": {
               "inputs": {n: {"name": f"{n}:0", "dtype": dt} for n, dt, _ in inputs},
               "outputs": {o: {"name": f"{o}:0", "dtype": dt} for o, dt in outputs}}}
    (tmp_path / "g.json").write_text(json.dumps(doc))
    (tmp_path / "g.bin").write_bytes(blob)
    convert(tmp_path / "g.json", tmp_path / "g.onnx")
    return _session(tmp_path / "g.onnx")


def _s(text: str) -> dict:
    return {"s": base64.b64encode(text.encode()).decode()}


def test_floor_div_rounds_integers_towards_minus_infinity(tmp_path):
    sess = _graph(tmp_path, [("q", "FloorDiv", ["a", "b"], {"T": {"type": "DT_INT32"}})], {},
                  [("a", "DT_INT32", [6]), ("b", "DT_INT32", [6])], [("q", "DT_INT32")])
    a = np.array([7, -7, 7, -7, 6, -6], np.int32)
    b = np.array([2, 2, -2, -2, 3, 3], np.int32)
    assert sess.run(None, {"a": a, "b": b})[0].tolist() == (a // b).tolist()


def test_strided_slice_masks_match_numpy(tmp_path):
    weights = {"begin": np.array([1, 0, 0, 2], np.int32), "end": np.array([3, 0, 0, 3], np.int32),
               "strides": np.array([1, 1, 1, 1], np.int32)}
    # dim 0 sliced 1:3, new axis, dim 1 whole (begin and end masks), dim 2 index 2 (shrink)
    attr = {"begin_mask": {"i": "4"}, "end_mask": {"i": "4"}, "new_axis_mask": {"i": "2"},
            "shrink_axis_mask": {"i": "8"}, "ellipsis_mask": {"i": "0"}}
    sess = _graph(tmp_path, [("y", "StridedSlice", ["x", "begin", "end", "strides"], attr)],
                  weights, [("x", "DT_FLOAT", [4, 5, 6])], [("y", "DT_FLOAT")])
    x = np.arange(120, dtype=np.float32).reshape(4, 5, 6)
    np.testing.assert_array_equal(sess.run(None, {"x": x})[0], x[1:3, None, :, 2])


def test_same_padding_on_an_odd_size_puts_the_odd_pixel_after(tmp_path):
    w = np.zeros((3, 3, 1, 1), np.float32)
    w[0, 0] = 1.0  # picks the top-left neighbour: shows where the padding went
    attr = {"strides": {"list": {"i": ["1", "2", "2", "1"]}}, "padding": _s("SAME"),
            "data_format": _s("NHWC"), "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}
    sess = _graph(tmp_path, [("y", "Conv2D", ["x", "w"], attr)], {"w": w},
                  [("x", "DT_FLOAT", [1, 5, 5, 1])], [("y", "DT_FLOAT")])
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5, 1)
    # TensorFlow: out 3×3, total padding 2 per axis, 1 before and 1 after
    expected = np.pad(x[0, :, :, 0], 1)[0:5:2, 0:5:2]
    np.testing.assert_array_equal(sess.run(None, {"x": x})[0][0, :, :, 0], expected)


@needs_shared
def test_an_unknown_op_is_an_error_naming_op_and_node(tmp_path):
    doc = json.loads((SHARED / "models" / "efficientpose.json").read_text())
    node = next(n for n in doc["modelTopology"]["node"] if n["op"] == "AddV2")
    node["op"] = "Erf"
    (tmp_path / "m.json").write_text(json.dumps(doc))
    shutil.copy(SHARED / "models" / "efficientpose.bin", tmp_path / "efficientpose.bin")
    with pytest.raises(ConversionError, match=f"op 'Erf' \\(node '{node['name']}'\\)"):
        convert(tmp_path / "m.json", tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@needs_shared
def test_truncated_weights_are_an_error(tmp_path):
    shutil.copy(SHARED / "models" / "movenet-lightning.json", tmp_path / "m.json")
    data = (SHARED / "models" / "movenet-lightning.bin").read_bytes()
    (tmp_path / "movenet-lightning.bin").write_bytes(data[:-100])
    with pytest.raises(ConversionError, match="weight files end at"):
        convert(tmp_path / "m.json", tmp_path / "m.onnx")
