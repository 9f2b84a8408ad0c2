"""The project's TFLite→ONNX conversion against LiteRT, the models' own runtime."""
import numpy as np
import pytest
from conftest import needs_shared

from pose_estimation_ros.core.timing import StageTimer
from pose_estimation_ros.models import store as model_store
from pose_estimation_ros.models.runtime import open_model
from pose_estimation_ros.models.specs import get_spec
from pose_estimation_ros.pipelines.blazepose_decode import ANCHORS
from pose_estimation_ros.vision.crops import to_input, warp_crop, whole_image_rect
from pose_estimation_ros.vision.imaging import read_image

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (LiteRT) is needed as the reference")
pytestmark = needs_shared


def _litert(model_id):
    spec = get_spec(model_id)
    interp = litert.Interpreter(str(model_store.find_file(spec.convert_from)))
    interp.allocate_tensors()

    def run(x):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        return {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}
    return run


def test_anchor_count_matches_the_detector_output():
    assert ANCHORS.shape == (2254, 2)


def test_detector_boxes_match_litert(coco_images):
    onnx, ref = open_model("blazepose-detector"), _litert("blazepose-detector")
    spec = onnx.spec
    for path in coco_images:
        image = read_image(path)
        rect = whole_image_rect(image.shape[1], image.shape[0])
        x = to_input(warp_crop(image, rect, 224, 224, "zero")[None], spec)
        out = onnx.run(x)
        boxes, logits = out["boxes"], out["scores"]
        expected = ref(x)
        # Box and keypoint offsets are in detector-input pixels (scale 224).
        confident = expected["Identity_1"][0, :, 0] > 0  # score > 0.5
        assert confident.any()
        diff = np.abs(boxes[0][confident] - expected["Identity"][0][confident]).max()
        assert diff <= 0.05, f"{path.name}: detector boxes differ by {diff:.4f} px"
        assert np.abs(logits - expected["Identity_1"]).max() < 0.05


@pytest.mark.parametrize("variant", ["lite", "full", "heavy"])
def test_landmarks_match_litert(variant, coco_images, blazepose_static):
    model_id = f"blazepose-landmark-{variant}"
    onnx, ref = open_model(model_id), _litert(model_id)
    pipeline = blazepose_static
    for path in coco_images:
        image = read_image(path)
        rect = pipeline.detect_region(image, StageTimer())
        assert rect is not None
        x = to_input(warp_crop(image, rect, 256, 256, "replicate")[None], onnx.spec)
        out = onnx.run(x)
        raw, flag, heatmap, world = (out[k] for k in ("landmarks", "pose_flag", "heatmap",
                                                      "world"))
        expected = ref(x)
        lm = raw.reshape(39, 5)[:, :2]
        lm_ref = expected["Identity"].reshape(39, 5)[:, :2]
        diff = np.abs(lm - lm_ref).max()
        assert diff <= 0.05, f"{variant} {path.name}: landmarks differ by {diff:.4f} px"
        assert abs(flag.item() - expected["Identity_1"].item()) < 1e-3
        assert np.abs(heatmap - expected["Identity_3"]).max() < 0.05
        assert np.abs(world - expected["Identity_4"]).max() < 1e-3


def _hand_crops() -> list:
    """The FreiHAND hand crops (224×224 RGB), as the hand landmark model takes them."""
    from conftest import DATA

    return [read_image(p) for p in sorted((DATA / "mmpose_tests" / "hands" / "freihand")
                                          .glob("*.jpg"))]


@pytest.mark.parametrize("variant", ["lite", "full"])
def test_hand_landmarks_match_litert_one_by_one_and_in_a_batch(variant):
    """The hand models' extra ops (MEAN, FULLY_CONNECTED) convert exactly; the batch axis
    gives each hand what it gets alone."""
    model_id = f"hand-landmark-{variant}"
    onnx, ref = open_model(model_id), _litert(model_id)
    crops = np.stack(_hand_crops())
    batch = to_input(crops, onnx.spec)
    together = onnx.run(batch)
    for i, x in enumerate(batch):
        expected = ref(x[None])
        alone = onnx.run(x[None])
        assert np.abs(alone["landmarks"] - expected["Identity"]).max() <= 0.05  # crop px
        assert abs(alone["presence"].item() - expected["Identity_1"].item()) < 1e-3
        assert abs(alone["handedness"].item() - expected["Identity_2"].item()) < 1e-3
        assert np.abs(alone["world"] - expected["Identity_3"]).max() < 1e-3
        assert np.abs(together["landmarks"][i] - alone["landmarks"][0]).max() < 1e-3
    assert together["presence"].max() > 0.5  # real hands


def test_hand_recrop_matches_litert():
    """The recrop model's PRELU, channel PAD and STRIDED_SLICE convert exactly."""
    onnx, ref = open_model("hand-recrop"), _litert("hand-recrop")
    for crop in _hand_crops():
        x = to_input(warp_crop(crop, whole_image_rect(224, 224), 256, 256,
                               "replicate")[None], onnx.spec)
        got, expected = onnx.run(x)["crop"], ref(x)["output_crop"]
        assert np.abs(got - expected).max() <= 0.05  # crop pixels
