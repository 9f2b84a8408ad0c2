"""Hands and gestures over real ROS 2 (the CI harness's rclpy), on the RealSense recording:
`hands:=true` gives every frame's people their hands (21 keypoints, side, presence, 3D from
depth) in `poses`, and `~/gestures` a GestureArray for every processed frame with the image's
stamp: the seated person's raised pointing arm points, with a 3D ray. `bag` with `--hands`
writes the same messages, byte for byte."""
import numpy as np
import rgbd
from ros_graph import graph, settled, wait_for  # noqa: F401
from test_ros_node_rgbd import REMAP, RealSense, _colour, _depth

from pose_estimation_ros.msg import GestureArray  # noqa: E402

FRAMES = 14


def test_hands_and_gestures_are_published_with_the_image_stamp_as_bag_writes_them(graph,
                                                                                  tmp_path):
    from rclpy.serialization import serialize_message
    from rosbags.highlevel import AnyReader

    from builtin_interfaces.msg import Duration
    from pose_estimation_ros.bags.types import typestore
    from pose_estimation_ros.cli.main import main

    data = rgbd.frames()[:FRAMES]
    node = graph.pose_node(name="handy", pipeline="topdown", use_depth=True, hands=True,
                           remap=REMAP)
    camera = RealSense(graph, node)
    gestures = []
    graph.probe.create_subscription(GestureArray, "/handy/gestures", gestures.append, 100)
    assert wait_for(lambda: node.outputs.publishers["~/gestures"].get_subscription_count() == 1)
    for i, (_, bgr, depth) in enumerate(data):
        camera.colour.publish(_colour(bgr, i))
        camera.depth.publish(_depth(depth, i))
        assert settled(node, i + 1, 30), f"frame {i} not accounted for"
    assert node.scheduler.stats.published == FRAMES
    assert wait_for(lambda: len(camera.poses) == FRAMES and len(gestures) == FRAMES)

    def stamp(msg) -> int:
        return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
    assert [stamp(m) for m in gestures] == [stamp(m) for m in camera.poses] == \
        [rgbd.stamp(i) for i in range(FRAMES)]
    for msg in camera.poses:
        assert msg.hand_topology == "hand21" and len(msg.hand_keypoint_names) == 21
        seated = next(p for p in msg.people if p.track_id == 0)
        assert [h.side for h in seated.hands] == ["left", "right"]
        for hand in seated.hands:
            assert len(hand.keypoints) == 21 and hand.presence > 0.5
            assert all(k.score == hand.presence for k in hand.keypoints)
            assert sum(k.position_valid for k in hand.keypoints) >= 19  # 3D from depth
            z = [k.position.z for k in hand.keypoints if k.position_valid]
            assert 1.5 < np.median(z) < 2.6  # the seated person is 2.1–2.5 m away
    pointing = [g for m in gestures for g in m.gestures if g.kind == "pointing"]
    assert len(pointing) >= FRAMES - 6  # from half a second (5 frames at 10 Hz) on
    for g in pointing:
        assert g.track_id == 0 and g.side == "right" and g.ray_valid and not g.floor_valid
        assert abs(np.linalg.norm([g.ray_direction.x, g.ray_direction.y,
                                   g.ray_direction.z]) - 1) < 1e-6
    raised = [m for m in gestures if any(g.kind == "hand_raised" for g in m.gestures)]
    assert stamp(raised[0]) - rgbd.stamp(0) >= 10**9  # held for gesture_hold (1 s) first

    store = typestore()
    rgbd.write_bag(tmp_path / "rs", data, store)
    for run in ("first", "second"):
        assert main(["bag", str(tmp_path / "rs"), "--output", str(tmp_path / run),
                     "--image-topic", rgbd.COLOUR, "--depth-topic", rgbd.DEPTH,
                     "--camera-info-topic", rgbd.COLOUR_INFO, "--hands", "--no-progress",
                     *rgbd.PIPELINE]) == 0
    files = [{p.relative_to(tmp_path / run): p.read_bytes()
              for p in sorted((tmp_path / run / "rs.poses").iterdir())}
             for run in ("first", "second")]
    assert files[0] == files[1]  # byte-identical on a second run
    import yaml

    side = yaml.safe_load((tmp_path / "first" / "rs.poses.yaml").read_text())
    assert [m["id"] for m in side["models"]][-2:] == ["hand-recrop", "hand-landmark-full"]
    assert side["hands_given"] + sum(side["hands_skipped"].values()) == 4 * FRAMES
    with AnyReader([tmp_path / "first" / "rs.poses"], default_typestore=store) as reader:
        written = {c.topic: [raw for _, _, raw in reader.messages(connections=[c])]
                   for c in reader.connections}
    for msg in camera.poses:
        msg.latency = Duration()
    types = {"/poses": "pose_estimation_ros/msg/PersonPoseArray",
             "/pose_estimation_node/gestures": "pose_estimation_ros/msg/GestureArray"}

    def cdr(msg, kind: str) -> bytes:  # rclpy's CDR with rosbags' (zero) padding
        return bytes(store.serialize_cdr(store.deserialize_cdr(serialize_message(msg), kind),
                                         kind))
    for topic, msgs in (("/poses", camera.poses), ("/pose_estimation_node/gestures", gestures)):
        assert [cdr(m, types[topic]) for m in msgs] == [bytes(r) for r in written[topic]], topic
