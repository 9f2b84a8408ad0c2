"""Generated time and camera geometry for the node on a real ROS graph (issue 33's families):
simulated time with and without /clock (a bag not yet playing, playing, looping back, jumping,
stopping) under frames whose stamps follow it, repeat or go back; and colour CameraInfo
messages of other sizes, the same picture resized or another shape. After every case the node
is alive and reporting on /diagnostics; every frame received is published or dropped; 3D comes
exactly when the CameraInfo fits the image, at the positions its scaled matrix gives, and
every refusal is counted. Seeded (seed and case in each failure message)."""
import os
import random
import time

import numpy as np
from ros_graph import (  # noqa: F401
    RELIABLE,
    graph,
    image_msg,
    node_status,
    rgbd_publishers,
    video_frames,
    wait_for,
)

from builtin_interfaces.msg import Time  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from pose_estimation_ros.core.camera import same_aspect  # noqa: E402
from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402

SEED = int(os.environ.get("FUZZ_SEED", "2026"))
CASES = int(os.environ.get("FUZZ_CASES", "40"))
DEPTH_M = 2.0


def _counts(reports: list, prefix: str) -> dict:
    return {k: int(v) for k, v in node_status(reports, prefix).items()
            if (k.startswith("frames_") or k.startswith("without_3d")) and v.isdigit()}


def _balanced(reports: list, prefix: str, sent: int) -> bool:
    c = _counts(reports, prefix)
    return bool(c) and c["frames_received"] == sent == \
        c["frames_published"] + c["frames_dropped"]


def _time(t: float) -> Time:
    return Time(sec=int(t), nanosec=min(int(t % 1 * 1e9), 999_999_999))


def _clock(rng: random.Random, now: float) -> tuple[str, list[float]]:
    """A /clock action and the times it publishes."""
    action = rng.choice(["advance", "advance", "advance", "silent", "back", "jump", "burst"])
    if action == "advance":
        return action, [now + rng.uniform(0.01, 1.0)]
    if action == "back":  # a bag played with --loop starting over
        return action, [max(1.0, now - rng.uniform(0.5, 60.0))]
    if action == "jump":
        return action, [now + rng.uniform(100.0, 1e5)]
    if action == "burst":  # `ros2 bag play --rate 50`
        return action, list(now + np.cumsum(rng.choices([0.001, 0.01, -0.2], k=20)))
    return action, []  # no /clock: not playing yet, paused, or ended


def test_generated_simulated_time(graph):
    rng = random.Random(SEED + 3)
    prefix = "/fuzzclock:"
    node = graph.pose_node(name="fuzzclock", use_sim_time=True, diagnostics_period=0.2)
    reports, poses = [], []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 100)
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 100)
    image = graph.probe.create_publisher(Image, "image", RELIABLE)
    clock = graph.probe.create_publisher(Clock, "/clock", 10)
    assert wait_for(lambda: node.reliability == "reliable" and
                    image.get_subscription_count() == 1, 10)  # with no /clock yet
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=160)[0]
    now, stamp, sent, actions = 100.0, 100.0, 0, []
    for case in range(CASES):
        action, times = _clock(rng, now)
        actions.append(action)
        for t in times:
            clock.publish(Clock(clock=_time(t)))
        now = times[-1] if times else now
        stamp = rng.choice([now, now, stamp, stamp - rng.uniform(0.01, 5), stamp + 0.033])
        stamp = max(stamp, 0.001)
        msg = image_msg(frame)
        msg.header.stamp = _time(stamp)
        image.publish(msg)
        sent += 1
        where = f"seed {SEED + 3} case {case}: {action}, frame at {stamp:.3f}"
        assert wait_for(lambda: _counts(reports, prefix).get("frames_received") == sent and
                        _balanced(reports, prefix, sent), 20), (where, node_status(reports,
                                                                                prefix))
        count = len(reports)  # the report keeps coming whatever /clock does
        assert wait_for(lambda: len(reports) > count, 3), where
    c = _counts(reports, prefix)
    print(f"\nclock fuzz, seed {SEED + 3}: {sorted(set(actions))}, {c}")
    assert c["frames_published"] > 0 and len(poses) == c["frames_published"]


def test_generated_camera_info_sizes(graph):
    rng = random.Random(SEED + 4)
    prefix = "/fuzzinfo:"
    node = graph.pose_node(name="fuzzinfo", use_depth=True, diagnostics_period=0.2)
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=320)[0]
    h, w = frame.shape[:2]
    image, depth, info = rgbd_publishers(graph, node)
    poses, reports = [], []
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 100)
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 100)
    f, mismatched, fitted = 0.9 * w, 0, 0
    for case in range(CASES):
        scale = rng.choice([0.5, 1.0, 1.0, 2.0, 1.5, 3.0])
        stretch = rng.choice([1.0, 1.0, 1.0, 4 / 3, 0.75, 1.05, 1.003])
        width, height = round(w * scale), round(h * scale * stretch)
        if rng.random() < 0.1:
            width = height = 0  # a driver that leaves the size unset: refused, no 3D
        sx = sy = scale if width else 1.0
        k = [f * sx, 0.0, w / 2 * sx, 0.0, f * sy, h / 2 * sy, 0.0, 0.0, 1.0]
        info.publish(CameraInfo(width=width, height=height, k=k))
        time.sleep(0.1)
        d = Image(height=h, width=w, encoding="16UC1", step=w * 2,
                  data=np.full((h, w), int(DEPTH_M * 1000), np.uint16).tobytes())
        d.header.stamp.sec, d.header.frame_id = 10 + case, "camera"
        depth.publish(d)
        before = len(poses)
        image.publish(image_msg(frame, sec=10 + case))
        where = f"seed {SEED + 4} case {case}: CameraInfo {width}×{height} on {w}×{h}"
        assert wait_for(lambda: len(poses) == before + 1, 20), where
        fits = width and same_aspect((width, height), (w, h))
        points = [kp for p in poses[-1].people for kp in p.keypoints]
        if fits:
            fitted += 1
            valid = [kp for kp in points if kp.position_valid]
            assert valid, where
            rx, ry = w / width, h / height  # each axis scaled by its own ratio
            fx, cx, fy, cy = k[0] * rx, k[2] * rx, k[4] * ry, k[5] * ry
            for kp in valid:
                np.testing.assert_allclose(
                    [kp.position.x, kp.position.y, kp.position.z],
                    [(kp.x - cx) * DEPTH_M / fx, (kp.y - cy) * DEPTH_M / fy, DEPTH_M],
                    atol=1e-4, err_msg=where)
        else:
            mismatched += bool(width)
            assert not any(kp.position_valid for kp in points), where
        assert wait_for(lambda: _counts(reports, prefix).get("without_3d_size_mismatch", 0)
                        == mismatched, 5), (where, node_status(reports, prefix))
    print(f"\ncamera info fuzz, seed {SEED + 4}: {fitted} fitted, {mismatched} refused")
    assert fitted and mismatched  # the generator reaches both
