"""`bag`: recorded bags processed offline, built here with rosbags from the shared clips."""
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import DATA, ROOT, needs_shared

from pose_estimation_ros.bags.types import typestore
from pose_estimation_ros.cli.main import main

pytestmark = needs_shared
CLIP = DATA / "videos" / "mmaction2_test_video_structuralize.mp4"
STAMP0 = 1_700_000_000 * 10**9


def frames(count: int, path: Path = CLIP) -> list[np.ndarray]:
    capture, out = cv2.VideoCapture(str(path)), []
    while len(out) < count:
        ok, frame = capture.read()
        if not ok:
            break
        out.append(frame)
    return out


def _header(store, stamp_ns: int, frame_id: str = "camera"):
    t = store.types
    return t["std_msgs/msg/Header"](stamp=t["builtin_interfaces/msg/Time"](
        sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=frame_id)


def make_bag(path: Path, images: list[np.ndarray], storage: str = "sqlite3",
             compressed: bool = False, depth_m: float | None = None, stamps=None,
             encodings=None, corrupt=()) -> list[int]:
    """A rosbag2 bag of the images received at 30 Hz, stamped at 30 Hz (or `stamps`); with
    `depth_m` also CameraInfo and an aligned 16UC1 depth image. Returns the stamps."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    store = typestore()
    t = store.types
    stamps = stamps or [STAMP0 + i * 33_333_333 for i in range(len(images))]
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(path, version=8, storage_plugin=plugin) as writer:
        kind = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
        image_conn = writer.add_connection("/camera/image", kind, typestore=store)
        if depth_m is not None:
            info_conn = writer.add_connection("/camera/camera_info", "sensor_msgs/msg/CameraInfo",
                                              typestore=store)
            depth_conn = writer.add_connection("/camera/depth", "sensor_msgs/msg/Image",
                                               typestore=store)
        for i, (image, stamp) in enumerate(zip(images, stamps)):
            h, w = image.shape[:2]
            header = _header(store, stamp)
            if compressed:
                data = cv2.imencode(".jpg", image)[1].reshape(-1)
                if i in corrupt:
                    data = data[: len(data) // 2]
                msg = t[kind](header=header, format="jpeg", data=data)
            else:
                encoding = (encodings or {}).get(i, "bgr8")
                msg = t[kind](header=header, height=h, width=w, encoding=encoding,
                              is_bigendian=0, step=w * 3, data=image.reshape(-1))
            if depth_m is not None:
                f = 0.9 * w
                info = _info(store, header, w, h, f)
                writer.write(info_conn, stamp + 500, store.serialize_cdr(info, info_conn.msgtype))
                depth = np.full((h, w), int(depth_m * 1000), np.uint16)
                depth_msg = t["sensor_msgs/msg/Image"](
                    header=header, height=h, width=w, encoding="16UC1", is_bigendian=0,
                    step=w * 2, data=depth.view(np.uint8).reshape(-1))
                writer.write(depth_conn, stamp + 500,
                             store.serialize_cdr(depth_msg, depth_conn.msgtype))
            arrival = STAMP0 + i * 33_333_333 + 1000  # log time: when it was received
            writer.write(image_conn, arrival, store.serialize_cdr(msg, kind))
    return stamps


def _info(store, header, w, h, f):
    from pose_estimation_ros.bags.types import default_message

    return default_message(store, "sensor_msgs/msg/CameraInfo", header=header, width=w,
                           height=h, k=np.array([f, 0, w / 2, 0, f, h / 2, 0, 0, 1], float))


def read_topic(bag: Path, topic: str):
    from rosbags.highlevel import AnyReader

    with AnyReader([bag], default_typestore=typestore()) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        return [(t, raw, reader.deserialize(raw, c.msgtype))
                for c, t, raw in reader.messages(connections=conns)], conns


def _tracked_reference(images, stamps):
    """What `run` computes on the same frames: the same pipeline and tracker, same clock."""
    from pose_estimation_ros.pipelines.registry import (
        PipelineOptions,
        create_pipeline,
    )
    from pose_estimation_ros.pipelines.video import VideoPipeline

    pipeline = VideoPipeline(create_pipeline(PipelineOptions()))
    return [pipeline.process(im, s / 1e9) for im, s in zip(images, stamps)]


@pytest.fixture(scope="module")
def images():
    return frames(24)


def test_raw_sqlite3_bag_gives_one_pose_array_per_frame(tmp_path, images, capsys):
    stamps = make_bag(tmp_path / "in", images)
    out = tmp_path / "out"
    assert main(["bag", str(tmp_path / "in"), "--output", str(out), "--csv",
                 str(tmp_path / "table.csv"), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().endswith("bags=1 processed=1 skipped=0 failed=0")
    poses, _ = read_topic(out / "in.poses", "/poses")
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for _, _, m in poses] == stamps
    assert [t for t, _, _ in poses] == [s + 1000 for s in stamps]  # at the input's log times
    skeleton, conns = read_topic(out / "in.poses", "/skeleton")
    assert len(skeleton) == 1 and len(skeleton[0][2].keypoint_names) == 33
    assert conns[0].ext.offered_qos_profiles[0].durability.name == "TRANSIENT_LOCAL"
    reference = _tracked_reference(images, stamps)
    for (_, _, msg), ref in zip(poses, reference):
        assert [p.track_id for p in msg.people] == [p.track_id for p in ref.people]
        np.testing.assert_allclose([[k.x, k.y] for p in msg.people for k in p.keypoints],
                                   [xy for p in ref.people for xy in p.keypoints], atol=1e-3)
    rows = list(csv.DictReader(open(tmp_path / "table.csv")))
    # a row per person and keypoint, one for a frame with nobody
    assert len(rows) == sum(len(m.people) * len(m.keypoint_names) or 1 for _, _, m in poses)
    assert tuple(rows[0]) == ("bag", "stamp_ns", "frame", "people", "track_id", "track_state",
                              "target", "person_score", "keypoint", "x", "y", "score",
                              "visibility", "presence", "x3d", "y3d", "z3d", "valid3d",
                              "depth_status", "target_state", "target_track_id")
    assert {r["depth_status"] for r in rows} == {"off"}  # no depth topic
    states, _ = read_topic(out / "in.poses", "/pose_estimation_node/target_state")
    assert len(states) == len(poses)  # every frame (closest without depth: nobody)
    assert {(r["target_state"], r["target_track_id"]) for r in rows} == {("none", "-1")}
    with_people = [r for r in rows if r["people"] != "0"]
    assert with_people and all(r["presence"] != "nan" for r in with_people)  # BlazePose
    side = yaml.safe_load((out / "in.poses.yaml").read_text())
    assert side["complete"] and side["frames_processed"] == 24 and side["frames_rejected"] == {}
    assert side["first_stamp_ns"] == stamps[0] and side["last_stamp_ns"] == stamps[-1]
    assert {m["id"] for m in side["models"]} == {"blazepose-detector", "blazepose-landmark-full"}
    assert all(len(m["sha256"]) == 64 for m in side["models"])
    assert side["topics"]["/camera/image"]["messages"] == 24


def test_compressed_mcap_bag_with_depth_markers_and_annotated(tmp_path, images):
    make_bag(tmp_path / "rgbd", images[:12], storage="mcap", compressed=True, depth_m=2.5)
    out = tmp_path / "out"
    assert main(["bag", str(tmp_path / "rgbd"), "--output", str(out), "--image-topic",
                 "/camera/image", "--depth-topic", "/camera/depth", "--camera-info-topic",
                 "/camera/camera_info", "--markers", "--annotated", "--namespace", "/pose",
                 "--copy-input", "--no-progress"]) == 0
    assert (out / "rgbd.poses" / "metadata.yaml").is_file()
    assert "mcap" in (out / "rgbd.poses" / "metadata.yaml").read_text()
    poses, _ = read_topic(out / "rgbd.poses", "/pose/poses")
    assert len(poses) == 12
    z = [k.position.z for _, _, m in poses for p in m.people for k in p.keypoints
         if k.position_valid]
    assert z and np.allclose(z, 2.5, rtol=0.02)
    assert poses[-1][2].target_track_id == poses[-1][2].people[0].track_id
    markers, _ = read_topic(out / "rgbd.poses", "/pose/markers")
    annotated, _ = read_topic(out / "rgbd.poses", "/pose/annotated_image")
    copied, _ = read_topic(out / "rgbd.poses", "/camera/depth")
    assert len(markers) == len(annotated) == len(copied) == 12


def test_two_runs_give_identical_bytes_and_resume_skips(tmp_path, images, capsys):
    make_bag(tmp_path / "a", images[:16])
    for run in ("one", "two"):
        assert main(["bag", str(tmp_path / "a"), "--output", str(tmp_path / run),
                     "--no-progress"]) == 0
    first, _ = read_topic(tmp_path / "one" / "a.poses", "/poses")
    second, _ = read_topic(tmp_path / "two" / "a.poses", "/poses")
    assert [bytes(r) for _, r, _ in first] == [bytes(r) for _, r, _ in second]
    capsys.readouterr()
    assert main(["bag", str(tmp_path / "a"), "--output", str(tmp_path / "two"), "--resume",
                 "--no-progress"]) == 0
    assert "skipped=1" in capsys.readouterr().out
    assert main(["bag", str(tmp_path / "a"), "--output", str(tmp_path / "two"), "--resume",
                 "--det-score", "0.6", "--no-progress"]) == 0  # other parameters: redone
    assert "processed=1 skipped=0" in capsys.readouterr().out


def test_message_definitions_match_the_ros_build():
    """The definition text and RIHS01 hash rosbags writes equal rosidl's (CI's colcon
    build installs its type descriptions next to the .msg files)."""
    import os

    store = typestore()
    share = [Path(p) / "share" / "pose_estimation_ros" / "msg"
             for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    built = next((d for d in share if (d / "PersonPoseArray.json").is_file()), None)
    if built is None:
        from ros_graph import REQUIRE_ROS  # noqa: F401  (fails under CI's REQUIRE_ROS)
        pytest.skip("no colcon build of this package on AMENT_PREFIX_PATH (source .ci/ros_env)")
    from pose_estimation_ros.bags.types import MSG_NAMES

    for name in MSG_NAMES:
        typename = f"pose_estimation_ros/msg/{name}"
        hashes = {h["type_name"]: h["hash_string"] for h in
                  json.loads((built / f"{name}.json").read_text())["type_hashes"]}
        assert store.hash_rihs01(typename) == hashes[typename]
        assert (built / f"{name}.msg").read_text() == (ROOT / "msg" / f"{name}.msg").read_text()


def test_bad_bags_are_clear_errors(tmp_path, images, capsys):
    make_bag(tmp_path / "two", images[:2])
    cases = []
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "metadata.yaml").write_text("rosbag2_bagfile_information: {version: 8, "
                                           "storage_identifier: floppy}\n")
    cases.append(([str(garbage)], "cannot read the bag"))
    truncated = tmp_path / "truncated"
    make_bag(truncated, images[:4], storage="mcap")
    mcap = next(truncated.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[:2000])
    cases.append(([str(truncated)], "truncated"))
    cut = tmp_path / "cut"  # recording stopped by a crash: the file ends mid-message
    make_bag(cut, images[:8])
    db3 = next(cut.glob("*.db3"))
    db3.write_bytes(db3.read_bytes()[: int(db3.stat().st_size * 0.6)])
    cases.append(([str(cut)], "database disk image is malformed"))
    cases.append(([str(tmp_path / "two"), "--image-topic", "/nope"],
                  "no topic '/nope'; the bag has /camera/image "
                  "(sensor_msgs/msg/Image, 2 messages)"))
    cases.append(([str(tmp_path / "missing")], "no such bag"))
    make_bag(tmp_path / "rgbd", images[:2], depth_m=2.0)  # /camera/image and /camera/depth
    cases.append(([str(tmp_path / "rgbd"), "--image-topic", "/camera/camera_info"],
                  "/camera/camera_info is sensor_msgs/msg/CameraInfo, not sensor_msgs/Image"))
    cases.append(([str(tmp_path / "rgbd")], "several image topics; choose one with "
                  "--image-topic. The bag has /camera/camera_info (sensor_msgs/msg/CameraInfo, "
                  "2 messages), /camera/depth (sensor_msgs/msg/Image, 2 messages)"))
    for args, expected in cases:
        capsys.readouterr()
        code = main(["bag", *args, "--output", str(tmp_path / "out"), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (args, err)
        assert "Traceback" not in err
    assert not list((tmp_path / "out").glob("*.yaml"))  # nothing that looks complete


def test_bad_frames_and_stamps_are_counted_in_the_sidecar(tmp_path):
    """The node's stamp rule (stream/stamps.py), frames in the order they were recorded: a
    duplicate is rejected, a step back is processed as the stream's time restarting; bad
    frames are counted by their typed reason, with the first detail of each."""
    images = frames(40)
    stamps = [STAMP0 + i * 33_333_333 for i in range(40)]
    stamps[7] = stamps[6]  # duplicated
    stamps[12], stamps[13] = stamps[13], stamps[12]  # swapped: 13 steps back
    stamps[38] = stamps[2] + 1  # far back
    make_bag(tmp_path / "bad", images, stamps=stamps, encodings={3: "yuv422", 5: "rgb9"})
    make_bag(tmp_path / "jpeg", images[:6], compressed=True, corrupt={2})
    for name in ("bad", "jpeg"):
        assert main(["bag", str(tmp_path / name), "--output", str(tmp_path / "out"),
                     "--no-progress"]) == 0
    side = yaml.safe_load((tmp_path / "out" / "bad.poses.yaml").read_text())
    assert side["frames_in"] == 40 and side["frames_processed"] == 37
    assert side["frames_rejected"] == {"duplicate_stamp": 1, "unsupported_format": 2}
    assert "unsupported image encoding 'yuv422'" in \
        side["rejection_examples"]["unsupported_format"]
    assert side["stamps"] == {"backwards": 2, "duplicate": 1, "ok": 37}
    poses, _ = read_topic(tmp_path / "out" / "bad.poses", "/poses")
    got = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for _, _, m in poses]
    assert got == [t for i, t in enumerate(stamps) if i not in (3, 5, 7)]  # recorded order
    side = yaml.safe_load((tmp_path / "out" / "jpeg.poses.yaml").read_text())
    assert side["frames_processed"] == 5
    assert side["frames_rejected"] == {"corrupt": 1}
    assert side["rejection_examples"]["corrupt"].startswith("corrupt JPEG (")


def test_an_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, images, monkeypatch):
    from pose_estimation_ros.pipelines.video import VideoPipeline

    make_bag(tmp_path / "in", images[:8])
    calls = {"n": 0}
    real = VideoPipeline.process

    def dies(self, image, stamp=0.0, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(self, image, stamp, **kwargs)
    monkeypatch.setattr(VideoPipeline, "process", dies)
    assert main(["bag", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--no-progress"]) == 130  # 128 + SIGINT, as a shell reports Ctrl-C
    assert not (tmp_path / "out" / "in.poses").exists()
    assert not (tmp_path / "out" / "in.poses.yaml").exists()


def test_a_ros1_bag(tmp_path, images):
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    image_type = store.types["sensor_msgs/msg/Image"]
    with Writer(tmp_path / "old.bag") as writer:
        conn = writer.add_connection("/usb_cam/image_raw", "sensor_msgs/msg/Image",
                                     typestore=store)
        for i, image in enumerate(images[:6]):
            h, w = image.shape[:2]
            stamp = STAMP0 + i * 33_333_333
            header = store.types["std_msgs/msg/Header"](
                seq=i, stamp=store.types["builtin_interfaces/msg/Time"](
                    sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="usb_cam")
            msg = image_type(header=header, height=h, width=w, encoding="bgr8", is_bigendian=0,
                             step=w * 3, data=image.reshape(-1))
            writer.write(conn, stamp, store.serialize_ros1(msg, "sensor_msgs/msg/Image"))
    assert main(["bag", str(tmp_path / "old.bag"), "--output", str(tmp_path / "out"),
                 "--copy-input", "--no-progress"]) == 0
    poses, _ = read_topic(tmp_path / "out" / "old.poses", "/poses")
    copied, _ = read_topic(tmp_path / "out" / "old.poses", "/usb_cam/image_raw")
    assert len(poses) == len(copied) == 6 and poses[0][2].header.frame_id == "usb_cam"


def test_a_ros1_bag_with_early_stamped_float_depth_and_only_a_colour_camera_info(tmp_path,
                                                                                capsys):
    """A service robot's ROS 1 recording: rgb8 colour, 32FC1 depth stamped 130-340 ms before
    its colour frame, CameraInfo (`K`, ROS 1 spelling) of the colour camera only. A tolerance
    that covers the gap gives 3D; the default gives none, counted with the reason."""
    import rgbd
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    t = store.types
    k = rgbd.k_matrix().reshape(-1)
    with Writer(tmp_path / "robot.bag") as writer:
        conns = {name: writer.add_connection(topic, kind, typestore=store)
                 for name, topic, kind in (
                     ("colour", "/camera/rgb/image_raw", "sensor_msgs/msg/Image"),
                     ("depth", "/camera/depth_registered/image", "sensor_msgs/msg/Image"),
                     ("info", "/camera/rgb/camera_info", "sensor_msgs/msg/CameraInfo"))}
        for i, (_, bgr, depth_mm) in enumerate(rgbd.frames()):
            h, w = bgr.shape[:2]
            colour_stamp = rgbd.stamp(i)
            # never within 20 ms of another frame's colour stamp (10 Hz) either
            depth_stamp = colour_stamp - (130, 170, 240, 270, 340)[i % 5] * 1_000_000
            metres = np.where(depth_mm > 0, depth_mm / 1000.0, np.nan).astype(np.float32)

            def header(stamp, seq=i):
                return t["std_msgs/msg/Header"](seq=seq, stamp=t["builtin_interfaces/msg/Time"](
                    sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="camera_rgb_optical_frame")
            logged = colour_stamp + 30_000_000
            info = t["sensor_msgs/msg/CameraInfo"](
                header=header(colour_stamp), height=h, width=w, distortion_model="plumb_bob",
                D=np.zeros(5), K=k, R=np.eye(3).reshape(-1), P=np.zeros(12), binning_x=0,
                binning_y=0, roi=t["sensor_msgs/msg/RegionOfInterest"](
                    x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
            colour = t["sensor_msgs/msg/Image"](
                header=header(colour_stamp), height=h, width=w, encoding="rgb8", is_bigendian=0,
                step=w * 3, data=np.ascontiguousarray(bgr[:, :, ::-1]).reshape(-1))
            depth = t["sensor_msgs/msg/Image"](
                header=header(depth_stamp), height=h, width=w, encoding="32FC1",
                is_bigendian=0, step=w * 4, data=metres.view(np.uint8).reshape(-1))
            for name, msg in (("info", info), ("depth", depth), ("colour", colour)):
                writer.write(conns[name], logged, store.serialize_ros1(msg, conns[name].msgtype))
    topics = ["--image-topic", "/camera/rgb/image_raw", "--depth-topic",
              "/camera/depth_registered/image", "--camera-info-topic", "/camera/rgb/camera_info",
              "--pipeline", "topdown", "--no-progress"]
    assert main(["bag", str(tmp_path / "robot.bag"), "--output", str(tmp_path / "covered"),
                 "--depth-tolerance", "0.4", *topics]) == 0
    side = yaml.safe_load((tmp_path / "covered" / "robot.poses.yaml").read_text())
    assert side["frames_processed"] == 40 and side["frames_with_3d"] == 40
    assert side["frames_without_3d"] == {}
    poses, _ = read_topic(tmp_path / "covered" / "robot.poses", "/poses")
    z = [k.position.z for _, _, m in poses for p in m.people for k in p.keypoints
         if k.position_valid]
    assert len(z) > 40 * 2 * 10 and 1.9 < np.median(z) < 2.7
    capsys.readouterr()
    assert main(["bag", str(tmp_path / "robot.bag"), "--output", str(tmp_path / "default"),
                 *topics]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    side = yaml.safe_load((tmp_path / "default" / "robot.poses.yaml").read_text())
    assert side["frames_processed"] == 40 and side["frames_with_3d"] == 0
    assert side["frames_without_3d"] == {"no_partner": 40}
    assert lines[-2] == ("warning: robot.bag: 40 of 40 frames have no 3D (no_partner 40); "
                         "check --depth-topic, --camera-info-topic and --depth-tolerance")
    poses, _ = read_topic(tmp_path / "default" / "robot.poses", "/poses")
    assert len(poses) == 40 and not any(k.position_valid for _, _, m in poses
                                        for p in m.people for k in p.keypoints)
