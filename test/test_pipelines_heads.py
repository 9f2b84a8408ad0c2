"""RTMPose's official export contract, tested with a synthetic model built with onnx.helper.

The real weights cannot be obtained here, so the test builds a model with the official input and
output names and shapes (`input` [N,3,256,192] → `simcc_x` [N,17,384], `simcc_y` [N,17,512])
whose SimCC peaks are known: it sums each colour channel of the crop over rows (for x) and
columns (for y), upsamples the profiles ×2 (split ratio 2) and gives keypoint k the profiles of
channel k % 3. Every person in the test image carries one red, one green and one blue dot, so
through the real crop, normalisation (RGB order), batching and decoding each keypoint must land
on its dot. A BGR/RGB mix-up, a wrong crop, a batch-order error or a wrong inverse transform
moves keypoints by tens of pixels.
"""
from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pose_estimation_ros.core.timing import StageTimer
from pose_estimation_ros.models.runtime import RuntimeOptions
from pose_estimation_ros.models.specs import MODELS
from pose_estimation_ros.pipelines.heads import PoseHead, decode_simcc

W, H, K, SPLIT = 192, 256, 17, 2


def _upsample_matrix(n: int) -> np.ndarray:
    """[n, 2n]: bin i of the output is a Gaussian-weighted (σ 1 px) mean of the profile around
    crop coordinate i / 2. A Gaussian dot stays Gaussian, so the peak bin is the half-pixel
    bin nearest the dot's true centre (plain linear interpolation would peak on whole pixels).
    Weights are normalised per bin, so a uniform background stays uniform up to the edges."""
    j = np.arange(n)[:, None]
    i = np.arange(n * SPLIT)[None, :]
    m = np.exp(-0.5 * (i / SPLIT - j) ** 2)
    return (m / m.sum(axis=0, keepdims=True)).astype(np.float32)


def _axis_branch(axis_sum: int, n: int, name: str, nodes: list, inits: list) -> None:
    inits += [numpy_helper.from_array(np.array([axis_sum], np.int64), f"{name}_axes"),
              numpy_helper.from_array(_upsample_matrix(n), f"{name}_up"),
              numpy_helper.from_array(np.array([0, -1], np.int64), f"{name}_flat"),
              numpy_helper.from_array(
                  (np.arange(K)[:, None] % 3) * n * SPLIT + np.arange(n * SPLIT)[None, :],
                  f"{name}_idx")]
    nodes += [
        helper.make_node("ReduceSum", ["input", f"{name}_axes"], [f"{name}_p"], keepdims=0),
        helper.make_node("MatMul", [f"{name}_p", f"{name}_up"], [f"{name}_u"]),  # [N,3,2n]
        helper.make_node("Reshape", [f"{name}_u", f"{name}_flat"], [f"{name}_f"]),
        helper.make_node("Gather", [f"{name}_f", f"{name}_idx"], [f"{name}_g"], axis=1),
        helper.make_node("ReduceMin", [f"{name}_g"], [f"{name}_min"], axes=[-1], keepdims=1),
        helper.make_node("Sub", [f"{name}_g", f"{name}_min"], [f"simcc_{name}"]),
    ]


def build_synthetic_rtmpose(path) -> None:
    nodes, inits = [], []
    _axis_branch(2, W, "x", nodes, inits)  # sum over rows → a profile along x
    _axis_branch(3, H, "y", nodes, inits)
    graph = helper.make_graph(
        nodes, "synthetic_rtmpose",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, H, W])],
        [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, ["N", K, W * SPLIT]),
         helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, ["N", K, H * SPLIT])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              ir_version=8)  # readable by older onnxruntime releases
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _dot(image: np.ndarray, xy, channel_bgr: int, sigma: float = 1.5) -> None:
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    blob = 255.0 * np.exp(-((xx - xy[0]) ** 2 + (yy - xy[1]) ** 2) / (2 * sigma ** 2))
    image[..., channel_bgr] = np.maximum(image[..., channel_bgr], blob.astype(np.uint8))


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rtmpose")
    build_synthetic_rtmpose(folder / "rtmpose-s_body7_256x192.onnx")
    mp = pytest.MonkeyPatch()
    mp.setenv("POSE_ESTIMATION_MODELS", str(folder))
    # a stand-in for the official file (pinned by its sha256), which cannot be had here
    mp.setitem(MODELS, "rtmpose-s", replace(MODELS["rtmpose-s"], sha256=None))
    try:
        yield PoseHead("rtmpose-s", RuntimeOptions(threads=1))
    finally:
        mp.undo()


# Five people 200 px apart (their 1.25× crops do not overlap); the first and last boxes leave
# the image. Each has a red, a green and a blue dot inside the image.
BOXES = np.array([[-60, 40, 60, 240], [160, 100, 280, 300], [360, 20, 480, 220],
                  [560, 150, 680, 350], [790, 60, 910, 260]], np.float32)
DOTS = np.array([[[20.3, 100.0], [40.0, 180.6], [5.5, 60.2]],
                 [[200.0, 150.5], [250.7, 250.0], [180.2, 280.0]],
                 [[420.0, 60.0], [390.4, 200.2], [455.0, 120.8]],
                 [[600.6, 200.0], [650.0, 300.3], [575.0, 330.0]],
                 [[820.0, 100.0], [795.5, 230.0], [835.0, 190.5]]], np.float32)


def _scene() -> np.ndarray:
    image = np.zeros((420, 850, 3), np.uint8)
    for red, green, blue in DOTS:
        _dot(image, red, 2)  # BGR image: channel 2 is red
        _dot(image, green, 1)
        _dot(image, blue, 0)
    return image


@pytest.mark.parametrize("people", [[1], [0, 1, 2, 3, 4]])
def test_synthetic_rtmpose_keypoints_land_on_their_dots(head, people):
    calls = []
    run = head.model.run
    head.model.run = lambda x: calls.append(len(x)) or run(x)
    try:
        found = head(_scene(), BOXES[people], np.ones(len(people), np.float32), StageTimer())
    finally:
        head.model.run = run
    assert head.batched and calls == [len(people)]  # one call for all crops
    assert len(found) == len(people)
    for person, i in zip(found, people):
        expected = DOTS[i][np.arange(K) % 3]  # keypoint k follows model channel k % 3 (RGB)
        err = np.linalg.norm(person.keypoints - expected, axis=1)
        assert err.max() <= 0.5, (i, err.round(2))
        assert np.all(person.keypoint_scores > 0)


def test_simcc_decode_marks_unscored_keypoints():
    x = np.zeros((1, 2, 384), np.float32)
    y = np.zeros((1, 2, 512), np.float32)
    x[0, 0, 101], y[0, 0, 31] = 0.8, 0.6
    xy, scores = decode_simcc(x, y, 2.0)
    np.testing.assert_allclose(xy[0, 0], [50.5, 15.5])
    np.testing.assert_allclose(scores[0], [0.7, 0.0])
    np.testing.assert_array_equal(xy[0, 1], [-1, -1])  # score 0: location −1 (MMPose)
