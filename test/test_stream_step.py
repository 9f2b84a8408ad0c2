"""stream/step.py: the frame step on a real RGB-D frame: 3D from the depth partner, every
reason a frame has none, the counts, the target."""
import numpy as np
import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.core.camera import Intrinsics, scaled
from pose_estimation_ros.pipelines.registry import PipelineOptions
from pose_estimation_ros.stream.depth import DepthFrame, NoDepth, NoDepthReason
from pose_estimation_ros.stream.step import StepConfig, create_step

pytestmark = needs_shared


@pytest.fixture(scope="module")
def step():
    return create_step(PipelineOptions(pipeline="topdown"), StepConfig(use_depth=True))


def test_depth_partner_gives_3d_and_each_missing_reason_is_counted(step):
    step.reset()
    data = rgbd.frames()[:11]
    k = Intrinsics(rgbd.k_matrix(), (640, 480))
    half = np.ascontiguousarray(data[0][2][::2, ::2])
    cases = [
        (DepthFrame(data[0][2]), k, None),  # aligned at the colour size: the colour K
        (DepthFrame(half), k, None),  # half size, no CameraInfo: the colour K scaled
        (DepthFrame(half, Intrinsics(scaled(k.k, (640, 480), (320, 240)), (320, 240))), k,
         None),
        (DepthFrame(half, Intrinsics(k.k, (640, 480))), k, None),  # its own, scaled
        (DepthFrame(half, Intrinsics(k.k, (640, 360))), k, "size_mismatch"),  # other shape
        (DepthFrame(np.zeros((4, 4, 3), np.float64)), k, "depth_rejected"),
        (DepthFrame(data[0][2]), None, "no_camera_info"),
        (NoDepth.of(NoDepthReason.NO_PARTNER, tolerance_ms=20, nearest_ms=40), k, "no_partner"),
        (None, k, "no_depth_yet"),
        (DepthFrame(data[0][2]), Intrinsics(k.k, (1280, 720)), "size_mismatch"),  # colour
        (DepthFrame(np.zeros_like(data[0][2])), k, "no_valid_depth"),  # no data anywhere
    ]
    outs = []
    for (_, bgr, _), (depth, colour_k, reason) in zip(data, cases):
        out = step.step(bgr, rgbd.STAMP0 + len(outs) * rgbd.PERIOD, "cam", depth, colour_k)
        outs.append(out)
        assert (out.no_depth.key if out.no_depth else None) == reason
        valid = [np.isfinite(p.positions).all(axis=1).sum() if p.positions is not None else 0
                 for p in out.result.people]
        assert (min(valid) > 10) == (reason is None), (reason, valid)
    assert outs[4].no_depth.reason.setup and "320×240 but its depth CameraInfo is for 640×360" in \
        outs[4].no_depth.detail
    assert "640×480 but its colour CameraInfo is for 1280×720" in outs[9].no_depth.detail
    z_full = outs[0].result.people[0].position[2]
    assert abs(outs[1].result.people[0].position[2] - z_full) < 0.05  # same scene at half size
    assert step.counts["with_3d"] == 4
    assert step.without_3d == {"depth_rejected": 1, "no_camera_info": 1, "no_depth_yet": 1,
                               "no_partner": 1, "no_valid_depth": 1, "size_mismatch": 2}
    targets = [o.target.track_id for o in outs]  # closest needs 3D: chosen on a frame with it
    assert targets[:2] == [-1, -1] and targets[2] >= 0 and set(targets[2:]) == {targets[2]}
    assert outs[2].target_person.track_id == targets[2]


def test_without_depth_input_nothing_is_counted(step):
    plain = create_step(PipelineOptions(pipeline="topdown"), StepConfig())
    out = plain.step(rgbd.frames()[0][1], rgbd.STAMP0)
    assert out.no_depth is None and plain.counts == {}
    assert all(p.positions is None for p in out.result.people)
