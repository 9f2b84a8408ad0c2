"""The node's REP-155 output on a real ROS graph, read as libhri reads it: `/humans/bodies/
tracked` subscribed reliably, each body's topics subscribed when its id appears. The messages
come from the test-only hri_msgs of test/ros_packages, whose type hashes are the released
package's; tf2_msgs likewise."""
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import rgbd
from ros_graph import RELIABLE, NodeProcess, _no_node_process_outlives_its_test, graph  # noqa
from ros_graph import image_msg, image_publisher, video_frames, wait_for  # noqa: F401

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from hri_msgs.msg import IdsList, NormalizedRegionOfInterest2D, Skeleton2D  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from tf2_msgs.msg import TFMessage  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402

#: RIHS01 hashes of the released packages, from colcon builds of ros4hri/hri_msgs 2.0.0
#: (humble-devel; the four messages are unchanged through 2.3.x) and ros2/geometry2's jazzy
#: tf2_msgs, in this project's ROS venv
RELEASED = {
    "hri_msgs/msg/IdsList":
        "RIHS01_7e0812d1ac945c98fd3e393568d581ad0ab567f37b24eff633eab778c1bfe62d",
    "hri_msgs/msg/NormalizedPointOfInterest2D":
        "RIHS01_cc1d2f720c82afeb850ff1dbf66f41ecb7caf19f842987f1247e66160cf03953",
    "hri_msgs/msg/NormalizedRegionOfInterest2D":
        "RIHS01_2e50c93f1ca166ee77af9a5424dc951ae4e452b740162a7f83c082d917dcaff5",
    "hri_msgs/msg/Skeleton2D":
        "RIHS01_1cb61f012db6ca43c48fa0097ccab9a00108ea39323c13f01bb983323c1e3420",
    "tf2_msgs/msg/TFMessage":
        "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087",
}


def test_type_hashes_equal_the_released_packages():
    from pose_estimation_ros.bags.types import typestore

    store = typestore()
    for typename, released in RELEASED.items():
        package, _, name = typename.split("/")
        share = next(Path(p) / "share" / package / "msg"
                     for p in os.environ["AMENT_PREFIX_PATH"].split(os.pathsep)
                     if (Path(p) / "share" / package / "msg" / f"{name}.json").is_file())
        built = json.loads((share / f"{name}.json").read_text())["type_hashes"]
        assert {h["type_name"]: h["hash_string"] for h in built}[typename] == released
        assert store.hash_rihs01(typename) == released  # what `bag --rep155` writes


class LibhriProbe:
    """/humans/bodies/tracked, and each body's roi, cropped and skeleton2d from the moment
    its id appears, as libhri subscribes them."""

    def __init__(self, graph):
        self.graph = graph
        self.tracked, self.bodies = [], {}
        graph.probe.create_subscription(IdsList, "/humans/bodies/tracked", self._on_tracked,
                                        RELIABLE)

    def _on_tracked(self, msg: IdsList) -> None:
        self.tracked.append(msg)
        for body in msg.ids:
            if body not in self.bodies:
                got = self.bodies[body] = {"roi": [], "cropped": [], "skeleton2d": []}
                for suffix, kind in (("roi", NormalizedRegionOfInterest2D),
                                     ("cropped", Image), ("skeleton2d", Skeleton2D)):
                    self.graph.probe.create_subscription(
                        kind, f"/humans/bodies/{body}/{suffix}", got[suffix].append, RELIABLE)


def _key(msg) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def test_bodies_tracked_roi_cropped_and_skeleton_like_libhri_reads_them(graph, capfd):
    node = graph.pose_node(name="hri", pipeline="topdown", **{"hri.enable": True})
    probe = LibhriProbe(graph)
    poses = []
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 100)
    pub = image_publisher(graph, node)
    hug = video_frames("mmaction2_demo_skeleton.mp4", 72)
    blank = np.zeros_like(hug[0])
    frames = hug + [blank] * 15
    for i, frame in enumerate(frames):
        pub.publish(image_msg(frame, sec=100 + i, frame_id="cam"))
        assert wait_for(lambda: len(poses) == i + 1 and len(probe.tracked) == i + 1, 30), i
    assert [_key(m) for m in probe.tracked] == [_key(m) for m in poses]  # every frame
    bodies = node.outputs.plan.bodies
    for msg, ids in zip(poses, probe.tracked):
        confirmed = {bodies.body_id(p.track_id) for p in msg.people if p.track_state == 2}
        assert confirmed <= set(ids.ids)  # confirmed, and those briefly missing
        assert all(i[0].isalpha() for i in ids.ids)
    ever = {bodies.body_id(t) for t in (0, 1)}
    assert {i for m in probe.tracked for i in m.ids} == ever  # the hug's two people only
    empty = [len(m.ids) == 0 for m in probe.tracked[72:]]
    assert empty[-4:] == [True] * 4 and empty[:5] == [False] * 5  # predicted, then lost
    assert "REP-155 body " in capfd.readouterr().err
    by_stamp = {_key(m): m for m in poses}
    compared = 0
    for body, got in probe.bodies.items():
        track = next(t for t in (0, 1) if bodies.body_id(t) == body)
        assert got["roi"] and got["cropped"] and got["skeleton2d"], body
        for skeleton in got["skeleton2d"]:
            person = next(p for p in by_stamp[_key(skeleton)].people if p.track_id == track)
            names = list(by_stamp[_key(skeleton)].keypoint_names)
            w, h = by_stamp[_key(skeleton)].image_width, by_stamp[_key(skeleton)].image_height
            for slot, point in enumerate(skeleton.skeleton):
                name = Skeleton2D_SLOTS[slot]
                if name == "neck":
                    a, b = (person.keypoints[names.index(f"{s}_shoulder")] for s in ("left",
                                                                                     "right"))
                    want = ((a.x + b.x) / 2, (a.y + b.y) / 2, min(a.score, b.score))
                else:
                    k = person.keypoints[names.index(name)]
                    want = (k.x, k.y, k.score)
                if point.c > 0:  # within 1 px of our own message, once de-normalised
                    assert abs(point.x * w - want[0]) < 1 and abs(point.y * h - want[1]) < 1
                    assert abs(point.c - want[2]) < 1e-6
                    compared += 1
        for roi in got["roi"]:
            person = next(p for p in by_stamp[_key(roi)].people if p.track_id == track)
            assert abs(roi.xmin * w - max(person.x_min, 0)) < 1 and abs(roi.c - person.score) \
                < 1e-6
        assert all(_key(c) in by_stamp and c.encoding == "bgr8" for c in got["cropped"])
    assert compared > 500


Skeleton2D_SLOTS = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
                    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
                    "right_ankle", "left_hip", "left_knee", "left_ankle", "left_eye",
                    "right_eye", "left_ear", "right_ear")


def test_body_and_head_frames_at_the_people_with_depth(graph):
    from test_ros_node_rgbd import REMAP, RealSense, _colour, _depth

    node = graph.pose_node(name="hri3d", pipeline="topdown", use_depth=True, remap=REMAP,
                           **{"hri.enable": True})
    tf = []
    graph.probe.create_subscription(TFMessage, "/tf", tf.append, 100)
    camera = RealSense(graph, node)
    for i, (_, bgr, depth) in enumerate(rgbd.frames()[:8]):
        camera.colour.publish(_colour(bgr, i))
        camera.depth.publish(_depth(depth, i))
        assert wait_for(lambda: len(camera.poses) == i + 1, 30)
    bodies = node.outputs.plan.bodies
    last = camera.outputs[-1]

    def frames() -> dict:
        return {t.child_frame_id: t for m in tf for t in m.transforms
                if (t.header.stamp.sec * 10**9 + t.header.stamp.nanosec) == last.stamp_ns}
    wanted = {f"{kind}_{bodies.body_id(p.track_id)}" for p in last.result.people
              for kind in ("body", "head")}
    assert wait_for(lambda: wanted <= set(frames()), 10), (wanted, set(frames()))
    frames = frames()
    for person in last.result.people:
        body = bodies.body_id(person.track_id)
        hips = person.positions[[11, 12]].mean(axis=0)
        face = person.positions[:5][np.all(np.isfinite(person.positions[:5]), axis=1)]
        for child, where in ((f"body_{body}", hips), (f"head_{body}", face.mean(axis=0))):
            t = frames[child].transform.translation
            np.testing.assert_allclose([t.x, t.y, t.z], where, atol=1e-5)
            assert frames[child].header.frame_id == rgbd.FRAME_ID
        assert frames[f"head_{body}"].transform.translation.y < \
            frames[f"body_{body}"].transform.translation.y  # the head above (optical y down)


def _hri_status(graph, name: str) -> dict:
    got = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", got.append, 10)
    assert wait_for(lambda: any(s.name.startswith(f"/{name}:") for m in got for s in m.status))
    status = [s for m in got for s in m.status if s.name.startswith(f"/{name}:")][-1]
    return {kv.key: kv.value for kv in status.values}


def test_without_hri_msgs_or_tracking_the_node_runs_and_says_why(graph):
    paths = [p for p in os.environ["PYTHONPATH"].split(os.pathsep) if "hri_msgs" not in p]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(paths)}
    import subprocess

    assert subprocess.run([sys.executable, "-c", "import hri_msgs"], env=env,
                          capture_output=True).returncode != 0  # really gone
    without = NodeProcess("-p", "hri.enable:=true", "-p", "diagnostics_period:=0.2",
                          name="nohri", env=env)
    without.wait_started()
    lines = [line for line in without.lines if "REP-155" in line]
    assert len(lines) == 1 and "off: hri_msgs is not installed or cannot be loaded " \
        "(ModuleNotFoundError: No module named 'hri_msgs'; apt install " \
        "ros-$ROS_DISTRO-hri-msgs); everything else runs" in lines[0]
    assert _hri_status(graph, "nohri")["hri"].startswith("off: hri_msgs is not installed")
    untracked = NodeProcess("-p", "hri.enable:=true", "-p", "tracking:=false",
                            "-p", "diagnostics_period:=0.2", name="untracked")
    untracked.wait_started()
    assert _hri_status(graph, "untracked")["hri"] == \
        "off: tracking is false, so there are no body ids"
    for node in (without, untracked):
        node.proc.send_signal(signal.SIGINT)
        assert node.finish() == 0 and "Traceback" not in node.output
