"""The node on the real RealSense recording (../shared/data/rgbd), over real ROS with the
RealSense driver's topic names: fed one frame at a time, colour and depth in either order and
depth 5-30 ms after colour, it gives the frame step outputs `run` gives (to 1e-6) and the same
messages (to float32); under overload it skips frames but never pairs one wrongly; with a busy
CPU it still pairs the frames it processes."""
import subprocess
import sys
import time

import numpy as np
import rgbd
from ros_graph import RELIABLE, graph, image_publisher, settled, wait_for  # noqa: F401

from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402

REMAP = {"image": rgbd.COLOUR, "depth/image": rgbd.DEPTH, "camera_info": rgbd.COLOUR_INFO,
         "depth/camera_info": rgbd.DEPTH_INFO}


def _header(msg, i: int) -> None:
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(rgbd.stamp(i), 10**9)
    msg.header.frame_id = rgbd.FRAME_ID


def _colour(bgr, i):
    h, w = bgr.shape[:2]
    msg = Image(height=h, width=w, encoding="rgb8", step=w * 3,
                data=np.ascontiguousarray(bgr[:, :, ::-1]).tobytes())
    _header(msg, i)
    return msg


def _depth(depth, i):
    h, w = depth.shape
    msg = Image(height=h, width=w, encoding="16UC1", step=w * 2, data=depth.tobytes())
    _header(msg, i)
    return msg


class RealSense:
    """The driver's four topics, from the test's probe node; the node's step outputs."""

    def __init__(self, graph, node):
        self.node = node
        self.colour = image_publisher(graph, node, rgbd.COLOUR)
        self.depth = graph.probe.create_publisher(Image, rgbd.DEPTH, RELIABLE)
        infos = [graph.probe.create_publisher(CameraInfo, t, RELIABLE)
                 for t in (rgbd.COLOUR_INFO, rgbd.DEPTH_INFO)]
        k = rgbd.k_matrix().reshape(-1).tolist()

        def infos_arrived() -> bool:  # drivers publish CameraInfo with every frame
            for pub in infos:
                info = CameraInfo(width=640, height=480, k=k, distortion_model="plumb_bob")
                _header(info, 0)
                pub.publish(info)
            return node.stream.colour is not None and node.stream.depth_camera is not None
        assert wait_for(lambda: self.depth.get_subscription_count() == 1)
        assert wait_for(infos_arrived, step=0.2)
        self.poses = []
        graph.probe.create_subscription(PersonPoseArray, "/poses", self.poses.append, 100)
        assert wait_for(lambda: node.outputs.publishers["poses"].get_subscription_count() == 1)
        self.outputs = []
        publish = node.stream.publish

        def observe(out, colour, check):  # the frame step's own output, then the messages
            self.outputs.append(out)
            return publish(out, colour, check)
        node.stream.publish = observe


def test_one_frame_at_a_time_gives_run_s_answer(graph):
    reference = rgbd.run_outputs()
    node = graph.pose_node(pipeline="topdown", use_depth=True, remap=REMAP)
    camera = RealSense(graph, node)
    for i, (_, bgr, depth) in enumerate(rgbd.frames()):
        colour, depth = _colour(bgr, i), _depth(depth, i)
        if i % 3 == 0:  # depth first
            before = node.stream.sync.received
            camera.depth.publish(depth)
            assert wait_for(lambda: node.stream.sync.received > before)
            camera.colour.publish(colour)
        else:  # depth 5 or 30 ms after colour, the usual order of aligned depth
            camera.colour.publish(colour)
            time.sleep(0.005 if i % 3 == 1 else 0.030)
            camera.depth.publish(depth)
        assert wait_for(lambda: len(camera.poses) == i + 1, 30), f"frame {i} not published"
    rgbd.assert_same_outputs(camera.outputs, reference)
    figures = rgbd.check_following(camera.outputs)
    print(f"\nrgbd via the node: {figures}")
    for msg, ref in zip(camera.poses, reference):  # the messages: float32 fields
        assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == ref.stamp_ns
        rgbd.assert_message_matches(msg, ref)


def test_overload_skips_frames_but_never_pairs_one_wrongly(graph):
    """Every depth frame is a plane at its own distance, so a wrong pairing would show in
    every position of that frame."""
    node = graph.pose_node(pipeline="topdown", use_depth=True, remap=REMAP)
    camera = RealSense(graph, node)
    data = rgbd.frames()
    sent, start = 0, time.monotonic()
    for rounds in range(3):  # 120 frames at 50 Hz: several times what top-down processes
        for j, (_, bgr, depth) in enumerate(data):
            i = rounds * len(data) + j
            time.sleep(max(0.0, start + i / 50 - time.monotonic()))
            plane = np.full_like(depth, 1000 + 10 * i)
            if i % 2:
                camera.colour.publish(_colour(bgr, i))
                camera.depth.publish(_depth(plane, i))
            else:
                camera.depth.publish(_depth(plane, i))
                camera.colour.publish(_colour(bgr, i))
            sent += 1
    s = node.scheduler
    assert wait_for(lambda: s.stats.received >= 1 and s.stats.pending == 0
                    and s.stats.received == s.stats.published + s.stats.dropped, 60)
    assert wait_for(lambda: len(camera.poses) == s.stats.published)
    assert s.stats.replaced > 0 and s.stats.published < sent  # it skipped frames
    paired = 0
    for out in camera.outputs:
        i = (out.stamp_ns - rgbd.STAMP0) // rgbd.PERIOD
        z = [p.positions[:, 2] for p in out.result.people if p.positions is not None]
        if out.no_depth is None:
            paired += 1
            zs = np.concatenate(z) if z else np.zeros(0)
            zs = zs[np.isfinite(zs)]
            assert np.allclose(zs, (1000 + 10 * i) / 1000, atol=1e-3), (i, zs)
        else:
            assert all(not np.isfinite(v).any() for v in z)
    unpaired = {o.no_depth.key for o in camera.outputs if o.no_depth is not None}
    assert unpaired <= {"no_partner"}, unpaired  # a depth frame lost on the way, never more
    print(f"\noverload: {sent} frames sent at 50 Hz, {len(camera.outputs)} processed, "
          f"{paired} with their own depth, none with another's")


def test_a_busy_cpu_still_pairs_the_frames_processed(graph):
    node = graph.pose_node(pipeline="topdown", use_depth=True, remap=REMAP)
    camera = RealSense(graph, node)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        start = time.monotonic()
        for i, (_, bgr, depth) in enumerate(rgbd.frames()):  # at 10 Hz, as recorded
            time.sleep(max(0.0, start + i / rgbd.RATE - time.monotonic()))
            camera.colour.publish(_colour(bgr, i))
            time.sleep(0.005 + 0.025 * (i % 2))
            camera.depth.publish(_depth(depth, i))
        s = node.scheduler
        assert wait_for(lambda: s.stats.pending == 0 and s.stats.received >= 1
                        and s.stats.received == s.stats.published + s.stats.dropped, 60)
    finally:
        spinner.kill()
        spinner.wait()
    processed = camera.outputs
    paired = sum(out.no_depth is None for out in processed)
    print(f"\nbusy CPU: {len(processed)} of 40 frames processed, {paired} paired with depth")
    assert processed and paired >= 0.95 * len(processed)


def test_node_and_bag_send_the_same_messages_for_a_looped_recording(graph, tmp_path):
    """One output plan and one stamp rule: a recording played to the node and the same
    recording processed by `bag` give the same frames and byte-identical messages (CDR, the
    alignment padding written as zeros; the node's latency field zeroed, `bag` has none).
    The recording loops (its stamps start over, as `ros2 bag play --loop` sends them) and
    repeats one frame: both paths reject the duplicate and process the loop from its start."""
    from rclpy.serialization import serialize_message
    from rosbags.highlevel import AnyReader

    from builtin_interfaces.msg import Duration
    from geometry_msgs.msg import PoseStamped
    from pose_estimation_ros.bags.types import typestore
    from pose_estimation_ros.cli.main import main
    from visualization_msgs.msg import MarkerArray

    data = rgbd.frames()[:10]
    order = list(range(10)) + [9] + list(range(10))  # a duplicate, then the loop
    node = graph.pose_node(name="looped", pipeline="topdown", use_depth=True, remap=REMAP)
    camera = RealSense(graph, node)
    got = {"/target_pose": [], "/markers": []}
    graph.probe.create_subscription(PoseStamped, "/target_pose", got["/target_pose"].append,
                                    100)
    graph.probe.create_subscription(MarkerArray, "/markers", got["/markers"].append, 100)
    assert wait_for(lambda: node.outputs.publishers["markers"].get_subscription_count() == 1)
    for k, i in enumerate(order):
        _, bgr, depth = data[i]
        camera.colour.publish(_colour(bgr, i))
        camera.depth.publish(_depth(depth, i))
        assert settled(node, k + 1, 30), f"message {k} (frame {i}) not accounted for"
    s = node.scheduler.stats
    assert s.published == 20 and s.rejected == 1  # the duplicate, on both paths (below)
    assert wait_for(lambda: len(camera.poses) == 20)
    assert node.stream.stamps.counts["backwards"] == 1

    store = typestore()
    rgbd.write_bag(tmp_path / "looped", [data[i] for i in order], store,
                   stamps=[rgbd.stamp(i) for i in order])
    assert main(["bag", str(tmp_path / "looped"), "--output", str(tmp_path / "out"),
                 "--image-topic", rgbd.COLOUR, "--depth-topic", rgbd.DEPTH,
                 "--camera-info-topic", rgbd.COLOUR_INFO, "--markers", "--no-progress",
                 *rgbd.PIPELINE]) == 0
    with AnyReader([tmp_path / "out" / "looped.poses"], default_typestore=store) as reader:
        written = {c.topic: [raw for _, _, raw in reader.messages(connections=[c])]
                   for c in reader.connections}
    for msg in camera.poses:
        msg.latency = Duration()
    sent = {"/poses": camera.poses, **got}
    types = {"/poses": "pose_estimation_ros/msg/PersonPoseArray",
             "/target_pose": "geometry_msgs/msg/PoseStamped",
             "/markers": "visualization_msgs/msg/MarkerArray"}

    def cdr(msg, kind: str) -> bytes:  # rclpy's CDR with rosbags' (zero) padding
        return bytes(store.serialize_cdr(store.deserialize_cdr(serialize_message(msg), kind),
                                         kind))
    for topic, msgs in sent.items():
        assert len(msgs) == len(written[topic]) > 0, topic
        assert [cdr(m, types[topic]) for m in msgs] == [bytes(r) for r in written[topic]], topic
    stamps = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in camera.poses]
    assert stamps == [rgbd.stamp(i) for i in range(10)] * 2
