"""The real RealSense recording of ../shared/data/rgbd (40 frames, two people, aligned 16-bit
depth) as every path takes it: frames and intrinsics, a rosbag2 MCAP with the RealSense
driver's topic names, the frame step's reference outputs, and the checks the paths share."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from conftest import DATA

RGBD = DATA / "rgbd"
STAMP0 = 1_700_000_000 * 10**9  # the first frame's stamp on every path
RATE = 10.0  # Hz: the recording's rate is not stored; about 10-15 Hz judging by the motion
PERIOD = round(1e9 / RATE)
COLOUR = "/camera/camera/color/image_raw"
DEPTH = "/camera/camera/aligned_depth_to_color/image_raw"
COLOUR_INFO = "/camera/camera/color/camera_info"
DEPTH_INFO = "/camera/camera/aligned_depth_to_color/camera_info"
FRAME_ID = "camera_color_optical_frame"
PIPELINE = ["--pipeline", "topdown"]  # rtmdet-nano + movenet-thunder: two people


def intrinsics() -> tuple[float, float, float, float]:
    """fx, fy, cx, cy: the JSON stores the matrix column-major."""
    k = np.array(json.loads((RGBD / "cam_params_realsense.json").read_text())
                 ["intrinsic_matrix"], np.float64).reshape(3, 3).T
    return k[0, 0], k[1, 1], k[0, 2], k[1, 2]


def k_matrix() -> np.ndarray:
    fx, fy, cx, cy = intrinsics()
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], np.float64)


def intrinsics_arg() -> str:
    return ",".join(repr(float(v)) for v in intrinsics())


def frames() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, BGR colour, uint16 depth in mm), in frame order."""
    out = []
    for path in sorted((RGBD / "color").glob("*.png")):
        depth = cv2.imread(str(RGBD / "depth" / path.name), cv2.IMREAD_UNCHANGED)
        out.append((path.name, cv2.imread(str(path), cv2.IMREAD_COLOR), depth))
    return out


def stamp(i: int) -> int:
    return STAMP0 + i * PERIOD


def compressed_depth(depth: np.ndarray) -> bytes:
    """image_transport's compressedDepth of a 16UC1 image: a 12-byte header (format 0 and
    two unused quantisation floats for 16-bit depth), then the PNG."""
    import struct

    return struct.pack("<iff", 0, 0.0, 0.0) + cv2.imencode(".png", depth)[1].tobytes()


def write_bag(path: Path, data, store, depth_delay_ns: int = 5_000_000,
              stamps: list[int] | None = None, compressed: bool = False,
              info_size: tuple[int, int] | None = None) -> None:
    """A RealSense-style recording: rgb8 colour, 16UC1 aligned depth with the colour stamp,
    both CameraInfos; logged when received (colour 30 ms after its stamp, depth later).
    `stamps`: each frame's (default: 10 Hz from STAMP0); the log times go on at 10 Hz
    whatever the stamps do (a looped recording's stamps start over, its log times not).
    `compressed`: depth as image_transport's compressedDepth (png), not a raw Image.
    `info_size`: the colour CameraInfo says this (width, height), its K scaled to it (a driver
    reconfigured, a resized republish); None: the image's own."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    from pose_estimation_ros.bags.types import BagMessages

    f = BagMessages(store)
    k = k_matrix().reshape(-1)
    with Writer(path, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        depth_type = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
        conns = {t: writer.add_connection(t, kind, typestore=store) for t, kind in (
            (COLOUR, "sensor_msgs/msg/Image"), (DEPTH, depth_type),
            (COLOUR_INFO, "sensor_msgs/msg/CameraInfo"),
            (DEPTH_INFO, "sensor_msgs/msg/CameraInfo"))}

        def write(topic: str, log_time: int, msg) -> None:
            writer.write(conns[topic], log_time, store.serialize_cdr(msg, conns[topic].msgtype))

        for i, (_, bgr, depth) in enumerate(data):
            h, w = bgr.shape[:2]
            t = stamps[i] if stamps is not None else stamp(i)
            header = f.new("std_msgs/msg/Header", frame_id=FRAME_ID, stamp=f.new(
                "builtin_interfaces/msg/Time", sec=t // 10**9, nanosec=t % 10**9))
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            received = stamp(i) + 30_000_000
            for topic in (COLOUR_INFO, DEPTH_INFO):
                iw, ih = info_size if info_size and topic == COLOUR_INFO else (w, h)
                scale = np.array([iw / w, 1, iw / w, 1, ih / h, ih / h, 1, 1, 1])
                write(topic, received, f.new("sensor_msgs/msg/CameraInfo", header=header,
                                             width=iw, height=ih, k=k * scale,
                                             distortion_model="plumb_bob"))
            write(COLOUR, received, f.new(
                "sensor_msgs/msg/Image", header=header, height=h, width=w, encoding="rgb8",
                step=w * 3, data=rgb.reshape(-1)))
            write(DEPTH, received + depth_delay_ns, f.new(
                "sensor_msgs/msg/CompressedImage", header=header,
                format="16UC1; compressedDepth png",
                data=np.frombuffer(compressed_depth(depth), np.uint8)) if compressed else f.new(
                "sensor_msgs/msg/Image", header=header, height=h, width=w, encoding="16UC1",
                step=w * 2, data=depth.view(np.uint8).reshape(-1)))


def run_outputs(data_dir: Path = RGBD, extra: tuple[str, ...] = ()) -> list:
    """The frame step's outputs of `run` on the colour and depth folders as a sequence
    (`extra`: more flags, e.g. --hands)."""
    from pose_estimation_ros.cli.commands import _options
    from pose_estimation_ros.cli.main import build_parser
    from pose_estimation_ros.cli.run import outputs, run_step
    from pose_estimation_ros.settings.cli import values_of

    args = build_parser().parse_args(
        ["run", str(data_dir / "color"), "--output", "unused", "--depth",
         str(data_dir / "depth"), "--intrinsics", intrinsics_arg(), "--fps", str(RATE),
         "--start-stamp", str(STAMP0 / 1e9), *PIPELINE, *extra])
    args.values = values_of(args, "run")
    step, run_input, depth = run_step(args, lambda static: _options(args, static))
    return [out for _, out in outputs(step, run_input, depth, STAMP0)]


def assert_same_outputs(got: list, want: list, atol: float = 1e-6) -> None:
    """Frame by frame: the same stamps, people, ids, keypoints, scores, 3D and target."""
    assert [o.stamp_ns for o in got] == [o.stamp_ns for o in want]
    for a, b in zip(got, want):
        where = f"frame {(a.stamp_ns - STAMP0) // PERIOD}"
        assert a.target.track_id == b.target.track_id, where
        assert (a.no_depth is None) == (b.no_depth is None), (where, a.no_depth, b.no_depth)
        pa = sorted(a.result.people, key=lambda p: p.track_id)
        pb = sorted(b.result.people, key=lambda p: p.track_id)
        assert [p.track_id for p in pa] == [p.track_id for p in pb], where
        for p, q in zip(pa, pb):
            np.testing.assert_allclose(p.keypoints, q.keypoints, atol=atol, err_msg=where)
            np.testing.assert_allclose(p.keypoint_scores, q.keypoint_scores, atol=atol)
            np.testing.assert_allclose(p.positions, q.positions, atol=atol, err_msg=where)
            np.testing.assert_allclose(p.position, q.position, atol=atol, err_msg=where)


def assert_message_matches(msg, ref) -> None:
    """A PersonPoseArray (rclpy's or rosbags') against the step output it was made from:
    target, people by track id, keypoints, 3D positions and their validity (float32 fields)."""
    assert msg.target_track_id == ref.target.track_id
    got = {p.track_id: p for p in msg.people}
    for person in ref.result.people:
        p = got[person.track_id]
        np.testing.assert_allclose([[k.x, k.y] for k in p.keypoints], person.keypoints,
                                   rtol=1e-6)
        np.testing.assert_allclose([[k.position.x, k.position.y, k.position.z]
                                    for k in p.keypoints], person.positions, rtol=1e-6)
        assert [k.position_valid for k in p.keypoints] == \
            list(np.all(np.isfinite(person.positions), axis=1))
        np.testing.assert_allclose([p.position.x, p.position.y, p.position.z],
                                   person.position, rtol=1e-6)


def check_following(outputs: list) -> dict:
    """The acceptance figures of the depth path on this recording; returns them."""
    from pose_estimation_ros.core.results import CONFIDENT

    per_track: dict[int, list] = {}
    for out in outputs:
        assert out.no_depth is None, out.no_depth  # every frame has its depth partner
        assert len(out.result.people) == 2
        for p in out.result.people:
            sure = p.keypoint_scores >= CONFIDENT
            valid = np.all(np.isfinite(p.positions), axis=1)
            assert (valid & sure).sum() >= 0.95 * sure.sum(), (out.stamp_ns, p.track_id)
            per_track.setdefault(p.track_id, []).append(p)
    assert len(per_track) == 2
    figures = {}
    for track_id, people in per_track.items():
        centres = np.array([p.position for p in people])
        distance = np.linalg.norm(centres, axis=1)
        step = np.linalg.norm(np.diff(centres, axis=0), axis=1)
        assert np.median(step) < 0.05 and 1.9 <= distance.min() and distance.max() <= 2.7
        figures[track_id] = (float(np.median(step)), float(distance.min()),
                             float(distance.max()))
    # the seated person (the lower head) points with the right hand, nearer than their body
    seated = max(per_track, key=lambda t: per_track[t][0].keypoints[0, 1])
    nearer = [np.linalg.norm(p.positions[10]) < np.linalg.norm(p.position)
              for p in per_track[seated] if np.all(np.isfinite(p.positions[10]))]
    assert sum(nearer) >= 0.9 * len(per_track[seated]), nearer
    targets = [o.target.track_id for o in outputs]
    chosen = [t for t in targets if t >= 0]
    assert chosen and len(set(chosen)) == 1 and targets[targets.index(chosen[0]):] == \
        [chosen[0]] * (len(targets) - targets.index(chosen[0]))
    figures["wrist_nearer"] = sum(nearer)
    return figures
