"""The ROS 2 interface without ROS: .msg files through the real rosidl tooling and a rosbags
typestore, the result → message conversion, markers, package.xml, launch file and node source."""
import math
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from pose_estimation_ros.bags.types import BagMessages, typestore
from pose_estimation_ros.core.camera import deproject
from pose_estimation_ros.core.results import FrameResult, Person
from pose_estimation_ros.core.topology import BLAZEPOSE33, COCO17
from pose_estimation_ros.transport.convert import (
    body_transforms,
    marker_array,
    marker_specs,
    pose_array,
    skeleton,
    target_pose,
)

MSG_DIR = ROOT / "msg"
MSG_NAMES = ["Keypoint", "PersonPose", "PersonPoseArray", "Skeleton", "FollowTarget"]


def _rosidl_python() -> str | None:
    """An interpreter with the real rosidl tooling: this one (the ROS 2 venv of .ci/ros_env, a
    sourced ROS install), else Debian's python3-rosidl for /usr/bin/python3."""
    for python in (sys.executable, "/usr/bin/python3"):
        if Path(python).is_file() and subprocess.run(
                [python, "-c", "import rosidl_adapter.msg, em"], capture_output=True
        ).returncode == 0:
            return python
    return None


ROSIDL_PYTHON = _rosidl_python()


@pytest.mark.skipif(ROSIDL_PYTHON is None, reason="rosidl_adapter is not importable (source "
                    ".ci/ros_env, a ROS 2 install, or apt-get install python3-rosidl "
                    "python3-empy)")
def test_every_msg_file_converts_to_idl_with_the_real_rosidl_tooling(tmp_path):
    pkg = tmp_path / "pose_estimation_ros"
    shutil.copytree(MSG_DIR, pkg / "msg")
    script = (
        "import pathlib, sys\n"
        "from rosidl_adapter.msg import convert_msg_to_idl\n"
        "pkg = pathlib.Path(sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    convert_msg_to_idl(pkg, 'pose_estimation_ros', pathlib.Path('msg') / (name + "
        "'.msg'), pkg / 'idl')\n")
    done = subprocess.run([ROSIDL_PYTHON, "-c", script, str(pkg), *MSG_NAMES],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    idl = (pkg / "idl" / "PersonPoseArray.idl").read_text()
    assert "sequence<pose_estimation_ros::msg::PersonPose> people;" in idl
    assert "builtin_interfaces::msg::Duration latency;" in idl
    pose = (pkg / "idl" / "PersonPose.idl").read_text()
    assert "TRACK_STATE_CONFIRMED = 2" in pose
    assert sorted(p.stem for p in (pkg / "idl").glob("*.idl")) == sorted(MSG_NAMES)


def _typestore(store_name: str):
    return typestore(store_name)


def _types(store) -> BagMessages:
    return BagMessages(store)


def _person(k: int, seed: int, track_id: int, state: str, visibility: bool) -> Person:
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, 600, (k, 2)).astype(np.float32)
    scores = rng.uniform(0, 1, k).astype(np.float32)
    scores[3] = 0.0  # a keypoint the model did not see stays in its slot
    return Person(bbox=np.array([10, 20, 300, 400], np.float32), score=0.87, keypoints=kps,
                  keypoint_scores=scores, visibility=scores.copy() if visibility else
                  np.full(k, np.nan, np.float32), track_id=track_id, track_state=state)


def _header(store):
    t = store.types
    return t["std_msgs/msg/Header"](stamp=t["builtin_interfaces/msg/Time"](
        sec=1700000000, nanosec=123456789), frame_id="camera_color_optical_frame")


@pytest.mark.parametrize("store_name", ["ROS2_JAZZY", "ROS2_HUMBLE"])
@pytest.mark.parametrize("topology,people", [
    (COCO17, [(1, 0, "confirmed", False), (2, 5, "tentative", False), (3, -1, "", False)]),
    (BLAZEPOSE33, [(4, 0, "confirmed", True)]),
], ids=["3x17", "1x33"])
def test_pose_array_round_trips_through_cdr(store_name, topology, people):
    store = _typestore(store_name)
    types = _types(store)
    result = FrameResult(1700000000.123, (640, 480), topology,
                         [_person(topology.num_keypoints, *p) for p in people])
    first_person = result.people[0]
    first_person.positions = np.where(np.arange(topology.num_keypoints)[:, None] % 2 == 0, 1.5,
                                      np.nan) * np.ones((1, 3))
    first_person.position = np.array([0.1, -0.2, 1.5], np.float32)
    msg = pose_array(types, result, _header(store), 0.0421,
                     target_track_id=first_person.track_id)
    name = "pose_estimation_ros/msg/PersonPoseArray"
    wire = store.serialize_cdr(msg, name)
    back = store.deserialize_cdr(wire, name)
    assert bytes(store.serialize_cdr(back, name)) == bytes(wire)
    assert back.header.stamp.nanosec == 123456789
    assert back.header.frame_id == "camera_color_optical_frame"
    assert back.topology == topology.name and list(back.keypoint_names) == list(topology.keypoints)
    assert (back.image_width, back.image_height) == (640, 480)
    assert (back.latency.sec, back.latency.nanosec) == (0, 42100000)
    assert len(back.people) == len(people)
    for src, out in zip(result.people, back.people):
        assert len(out.keypoints) == topology.num_keypoints  # dense, topology order
        assert out.track_id == src.track_id
        np.testing.assert_allclose([(k.x, k.y) for k in out.keypoints], src.keypoints)
        np.testing.assert_allclose([k.score for k in out.keypoints], src.keypoint_scores)
        assert out.keypoints[3].score == 0.0
        vis = [k.visibility for k in out.keypoints]
        assert all(math.isnan(v) for v in vis) == (topology is COCO17)
    states = [p.track_state for p in back.people]
    PersonPose = store.types["pose_estimation_ros/msg/PersonPose"]
    expected = {"confirmed": PersonPose.TRACK_STATE_CONFIRMED,
                "tentative": PersonPose.TRACK_STATE_TENTATIVE,
                "": PersonPose.TRACK_STATE_UNTRACKED}
    assert states == [expected[p[2]] for p in people]
    assert back.target_track_id == result.people[0].track_id
    assert back.people[0].position_valid and back.people[0].position.z == pytest.approx(1.5)
    assert all(not p.position_valid and math.isnan(p.position.z) for p in back.people[1:])
    first = back.people[0].keypoints
    assert first[0].position_valid and first[0].position.z == 1.5
    assert not first[1].position_valid and math.isnan(first[1].position.x)  # never a fake 0
    if len(back.people) > 1:
        assert not any(k.position_valid for k in back.people[1].keypoints)


def test_skeleton_message_carries_the_edges():
    store = _typestore("ROS2_JAZZY")
    msg = skeleton(_types(store), COCO17)
    back = store.deserialize_cdr(store.serialize_cdr(msg, "pose_estimation_ros/msg/Skeleton"),
                                 "pose_estimation_ros/msg/Skeleton")
    assert list(zip(back.edge_start, back.edge_end)) == list(COCO17.edges)
    assert list(back.keypoint_names) == list(COCO17.keypoints)


def test_markers_deproject_with_camera_info_and_prefer_depth():
    k = np.array([[500, 0, 320], [0, 500, 240], [0, 0, 1]], np.float64)
    np.testing.assert_allclose(deproject(np.array([[320, 240], [820, 240]]), 2.0, k),
                               [[0, 0, 2], [2, 0, 2]])
    person = _person(17, 1, 7, "confirmed", False)
    person.keypoint_scores[:] = 0.9
    result = FrameResult(0.0, (640, 480), COCO17, [person])
    depth = np.full((17, 3), np.nan)
    depth[0] = (0.1, 0.2, 3.0)
    person.positions = depth
    specs = marker_specs(result, k, 2.0)
    assert [s.kind for s in specs] == ["LINE_LIST", "SPHERE_LIST"]
    lines, joints = specs
    assert len(lines.points) == 2 * len(COCO17.edges) and len(joints.points) == 17
    assert joints.points[0] == (0.1, 0.2, 3.0)  # from depth
    assert joints.points[1][2] == 2.0  # on the marker_depth plane
    assert all(0.0 <= c <= 1.0 for c in lines.color) and lines.color == joints.color
    store = _typestore("ROS2_JAZZY")
    header = _header(store)
    name = "visualization_msgs/msg/MarkerArray"
    msg = marker_array(_types(store), header, result, k, 2.0)
    back = store.deserialize_cdr(store.serialize_cdr(msg, name), name)
    assert [m.action for m in back.markers] == [3, 0, 0]  # DELETEALL, then ADD
    assert [m.type for m in back.markers[1:]] == [5, 7]  # LINE_LIST, SPHERE_LIST
    assert back.markers[2].points[0].z == 3.0 and back.markers[1].frame_locked


def test_target_pose_and_body_frames():
    store = _typestore("ROS2_JAZZY")
    f = _types(store)
    person = _person(17, 1, 9, "confirmed", False)
    person.positions = np.full((17, 3), np.nan)
    person.positions[[11, 12]] = [[0.2, 0.1, 2.0], [0.4, 0.1, 2.2]]  # the hips
    result = FrameResult(0.0, (640, 480), COCO17, [person, _person(17, 2, 4, "", False)])
    frames = body_transforms(f, _header(store), result)
    assert [t.child_frame_id for t in frames] == ["body_9"]  # the other has no 3D
    t = frames[0].transform.translation
    assert (t.x, t.y, t.z) == pytest.approx((0.3, 0.1, 2.1))
    name = "geometry_msgs/msg/PoseStamped"
    pose = store.deserialize_cdr(store.serialize_cdr(
        target_pose(f, _header(store), np.array([0.0, 0.0, 2.0])), name), name)
    assert (pose.pose.position.z, pose.header.frame_id) == (2.0, "camera_color_optical_frame")
    q = pose.pose.orientation  # facing the camera: x axis turned to point back along -z
    assert (q.x, q.z) == (0.0, 0.0) and q.y ** 2 + q.w ** 2 == pytest.approx(1.0)


def test_package_xml_parses_as_format_3_with_catkin_pkg():
    from catkin_pkg.package import parse_package

    pkg = parse_package(str(ROOT / "package.xml"))
    assert pkg.package_format == 3 and pkg.name == "pose_estimation_ros"
    assert "rosidl_interface_packages" in [g.name for g in pkg.member_of_groups]
    build = {d.name for d in pkg.build_depends + pkg.buildtool_depends}
    run = {d.name for d in pkg.exec_depends}
    assert {"rosidl_default_generators", "std_msgs", "geometry_msgs",
            "builtin_interfaces"} <= build
    assert {"rclpy", "sensor_msgs", "visualization_msgs", "diagnostic_msgs", "launch_ros",
            "rosidl_default_runtime", "tf2_msgs"} <= run
    hri = next(d for d in pkg.exec_depends if d.name == "hri_msgs")  # optional: a condition
    hri.evaluate_condition({})
    assert hri.evaluated_condition is False
    hri.evaluate_condition({"POSE_ESTIMATION_HRI": "1"})
    assert hri.evaluated_condition is True
    rviz = next(d for d in pkg.exec_depends if d.name == "rviz2")  # optional too (README)
    rviz.evaluate_condition({})
    assert rviz.evaluated_condition is False
    rviz.evaluate_condition({"POSE_ESTIMATION_RVIZ": "1"})
    assert rviz.evaluated_condition is True
    # what `colcon test` needs (rosdep keys of rosdistro's python.yaml)
    assert {"python3-pytest", "python3-hypothesis", "python3-skimage", "python3-catkin-pkg",
            "python3-rosbags-pip"} <= {d.name for d in pkg.test_depends}


def test_launch_file_node_and_entry_point_compile():
    for path in [ROOT / "launch" / "pose_estimation.launch.py",
                 ROOT / "launch" / "follow.launch.py",
                 ROOT / "pose_estimation_ros" / "ros" / "node.py",
                 ROOT / "scripts" / "pose_estimation_node"]:
        py_compile.compile(str(path), doraise=True, cfile=str(Path("/tmp") / (path.name + ".c")))
    assert (ROOT / "scripts" / "pose_estimation_node").stat().st_mode & 0o111
    cmake = (ROOT / "CMakeLists.txt").read_text()
    for name in MSG_NAMES:
        assert f'"msg/{name}.msg"' in cmake
    assert "DESTINATION lib/${PROJECT_NAME}" in cmake
