"""The depth path of the node on a real ROS 2 graph: colour + aligned depth + both CameraInfos
in, 3D keypoints and `target_pose` out; missing, stale, unregistered and bad depth handled."""
import numpy as np
from ros_graph import RELIABLE, graph, image_msg, image_publisher, video_frames, wait_for  # noqa

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PoseStamped  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402

FRAME_ID = "camera_color_optical_frame"


def _info(w, h, scale=1.0, frame_id=FRAME_ID):
    f = 0.9 * w
    info = CameraInfo(width=int(w * scale), height=int(h * scale),
                      k=[f * scale, 0.0, w * scale / 2, 0.0, f * scale, h * scale / 2, 0, 0, 1])
    info.header.frame_id = frame_id
    return info


def _depth(w, h, mm=2000, encoding="16UC1", frame_id=FRAME_ID, sec=1):
    if encoding == "32FC1":
        data = np.full((h, w), mm / 1000.0, np.float32)
    else:
        data = np.full((h, w), mm, np.uint16)
    msg = Image(height=h, width=w, encoding=encoding, step=data.strides[0], data=data.tobytes())
    msg.header.stamp.sec, msg.header.frame_id = sec, frame_id
    return msg


class Rig:
    """A colour camera and its aligned depth at half resolution, as a RealSense publishes."""

    def __init__(self, graph, node):
        self.graph, self.node = graph, node
        self.frames = video_frames("mmaction2_test_video_structuralize.mp4", 40, width=320)
        self.h, self.w = self.frames[0].shape[:2]
        self.colour = image_publisher(graph, node)
        self.depth = graph.probe.create_publisher(Image, "depth/image", RELIABLE)
        infos = [graph.probe.create_publisher(CameraInfo, t, RELIABLE)
                 for t in ("camera_info", "depth/camera_info")]
        assert wait_for(lambda: self.depth.get_subscription_count() == 1 and
                        all(p.get_subscription_count() == 1 for p in infos)), (
            self.depth.get_subscription_count(), [p.get_subscription_count() for p in infos])
        def infos_arrived() -> bool:  # cameras publish CameraInfo with every frame
            infos[0].publish(_info(self.w, self.h))
            infos[1].publish(_info(self.w, self.h, 0.5))
            return node.stream.colour is not None and node.stream.depth_camera is not None
        assert wait_for(infos_arrived, step=0.2)
        self.poses, self.targets = [], []
        graph.probe.create_subscription(PersonPoseArray, "poses", self.poses.append, 100)
        graph.probe.create_subscription(PoseStamped, "target_pose", self.targets.append, 100)
        assert wait_for(lambda: node.outputs.publishers["poses"].get_subscription_count() == 1 and
                        node.outputs.publishers["target_pose"].get_subscription_count() == 1)
        self.sent = 0

    def send(self, sec: int, depth: Image | None = None, frame_index: int | None = None):
        if depth is not None:
            before = self.node.stream.sync.received
            self.depth.publish(depth)
            assert wait_for(lambda: self.node.stream.sync.received > before)
        frame = self.frames[(frame_index if frame_index is not None else self.sent) % 40]
        self.colour.publish(image_msg(frame, sec=sec, frame_id=FRAME_ID))
        self.sent += 1
        assert wait_for(lambda: len(self.poses) == self.sent), "a frame was not published"
        return self.poses[-1]


def _valid(msg) -> int:
    return sum(k.position_valid for p in msg.people for k in p.keypoints)


def test_target_pose_from_colour_and_aligned_depth(graph):
    from tf2_msgs.msg import TFMessage  # CI: the test-only package of test/ros_packages

    node = graph.pose_node(use_depth=True, publish_tf=True)
    tf = []
    graph.probe.create_subscription(TFMessage, "/tf", tf.append, 100)
    rig = Rig(graph, node)
    h, w = rig.h // 2, rig.w // 2
    for i in range(8):
        msg = rig.send(100 + i, _depth(w, h, sec=100 + i))
        assert msg.people and _valid(msg) > 0
        z = [k.position.z for p in msg.people for k in p.keypoints if k.position_valid]
        assert np.allclose(z, 2.0, rtol=0.02)
        assert all(p.position_valid and abs(p.position.z - 2.0) < 0.04 for p in msg.people)
    assert wait_for(lambda: len(rig.targets) >= 6)  # from the frame the track is confirmed
    assert [t.header.stamp.sec for t in rig.targets] == list(range(108 - len(rig.targets), 108))
    assert {t.header.frame_id for t in rig.targets} == {FRAME_ID}
    target = rig.targets[-1].pose
    assert abs(target.position.z - 2.0) < 0.04
    assert abs(target.orientation.x ** 2 + target.orientation.y ** 2 + target.orientation.z ** 2
               + target.orientation.w ** 2 - 1) < 1e-6
    assert rig.poses[-1].target_track_id == rig.poses[-1].people[0].track_id >= 0
    assert wait_for(lambda: tf)  # body_<track id> at the hips, 2 m away, in the image's frame
    frames = [t for m in tf for t in m.transforms]
    last = rig.poses[-1].people[0].track_id
    mine = [t for t in frames if t.child_frame_id == f"body_{last}"]
    assert mine and all(t.header.frame_id == FRAME_ID for t in mine)
    assert abs(mine[-1].transform.translation.z - 2.0) < 0.05


def test_missing_stale_unregistered_and_bad_depth(graph, capfd):
    node = graph.pose_node(name="depth_faults", use_depth=True, diagnostics_period=0.2)
    rig = Rig(graph, node)
    h, w = rig.h // 2, rig.w // 2
    for i in range(4):  # a confirmed target first
        rig.send(10 + i, _depth(w, h, sec=10 + i))
    assert wait_for(lambda: len(rig.targets) >= 2)
    capfd.readouterr()
    cases = [
        ("stale", None, 30),  # colour far ahead of the last depth
        ("unregistered", _depth(w, h, frame_id="camera_depth_optical_frame", sec=31), 31),
        ("wrong encoding", _depth(w, h, encoding="bgr8", sec=32), 32),
        ("wrong shape", _depth(w // 2, h // 3, sec=33), 33),  # another picture
        ("all zero", _depth(w, h, mm=0, sec=34), 34),
    ]
    targets_before = len(rig.targets)
    for name, depth, sec in cases:
        msg = rig.send(sec, depth)
        assert msg.people, name  # still published
        assert _valid(msg) == 0 and not any(p.position_valid for p in msg.people), name
    assert len(rig.targets) == targets_before  # no target_pose without valid 3D
    err = capfd.readouterr().err
    for reason in ("stale, late or missing depth", "not registered to the colour image",
                   "unsupported depth encoding 'bgr8'",
                   "80×30 but its depth CameraInfo is for 160×90",
                   "no person has depth within [0.2, 10] m"):
        assert sum(reason in line for line in err.splitlines()) == 1, (reason, err)
    msg = rig.send(5, _depth(w, h, sec=5))  # stamps went back (bag looped): pairing restarts
    assert _valid(msg) > 0 and node.stream.sync.restarts == 1
    msg = rig.send(40, _depth(w, h, sec=40))
    assert _valid(msg) > 0
    diagnostics = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    assert wait_for(lambda: diagnostics)
    assert wait_for(lambda: diagnostics and {kv.key: kv.value for kv in diagnostics[-1]
                                             .status[0].values}["frames_with_3d"] == "6")
    values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
    assert values["frames_without_3d"] == "5" and values["frames_with_3d"] == "6"
    assert (values["without_3d_no_partner"], values["without_3d_unregistered"],
            values["without_3d_depth_rejected"], values["without_3d_size_mismatch"],
            values["without_3d_no_valid_depth"]) == ("1", "1", "1", "1", "1")
