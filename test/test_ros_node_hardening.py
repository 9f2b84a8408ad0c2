"""Inputs that crashed the node or passed silently, each on a real ROS graph: the node as its
own process where a crash would end it, the process alive afterwards and the next good frame
published; refusals say why."""
import math
import signal
import time

import cv2
import numpy as np
from ros_graph import (  # noqa: F401
    RELIABLE,
    NodeProcess,
    _no_node_process_outlives_its_test,
    graph,
    image_msg,
    video_frames,
    wait_for,
)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PoseStamped  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState  # noqa: E402
from rcl_interfaces.msg import ParameterType  # noqa: E402
from rcl_interfaces.srv import GetParameters, SetParameters  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, CompressedImage, Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402


class Probe:
    """The test's side of one node process: publishers, what came back, its services."""

    def __init__(self, graph, node: NodeProcess, name: str):
        self.graph, self.node, self.name = graph, node, name
        self.fqn = f"/{name}/{name}"  # the node `name` in the namespace `/name`
        node.wait_started()
        probe = graph.probe
        self.image = probe.create_publisher(Image, f"/{name}/image", RELIABLE)
        self.compressed = probe.create_publisher(CompressedImage, f"/{name}/image/compressed",
                                                 RELIABLE)
        self.depth = probe.create_publisher(Image, f"/{name}/depth/image", RELIABLE)
        self.info = probe.create_publisher(CameraInfo, f"/{name}/camera_info", RELIABLE)
        self.depth_info = probe.create_publisher(CameraInfo, f"/{name}/depth/camera_info",
                                                 RELIABLE)
        self.poses, self.targets, self.diagnostics = [], [], []
        probe.create_subscription(PersonPoseArray, f"/{name}/poses", self.poses.append, 100)
        probe.create_subscription(PoseStamped, f"/{name}/target_pose", self.targets.append, 100)
        probe.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 50)

    def alive(self) -> bool:
        return self.node.proc.poll() is None

    def status(self) -> dict:
        mine = [s for m in self.diagnostics for s in m.status
                if s.name.startswith(f"{self.fqn}:")]
        return {kv.key: kv.value for kv in mine[-1].values} if mine else {}

    def call(self, srv_type, service: str, request, timeout: float = 30.0):
        client = self.graph.probe.create_client(srv_type, f"{self.fqn}/{service}")
        assert client.wait_for_service(timeout_sec=timeout)
        future = client.call_async(request)
        assert wait_for(future.done, timeout)
        return future.result()

    def set(self, name: str, value):
        param = Parameter(name, value=value).to_parameter_msg()
        return self.call(SetParameters, "set_parameters",
                         SetParameters.Request(parameters=[param])).results[0]

    def type_of(self, name: str) -> int:
        return self.call(GetParameters, "get_parameters",
                         GetParameters.Request(names=[name])).values[0].type

    def send_until_published(self, msg_factory, timeout: float = 30.0) -> PersonPoseArray:
        """A good frame (resent with new stamps until the node's reliable subscription has
        matched the publisher) comes back."""
        before = len(self.poses)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sec = getattr(self, "sec", 999) + 1  # a new stamp each time (stamp rule)
            self.image.publish(msg_factory(self.sec))
            if wait_for(lambda: len(self.poses) > before, 2.0):
                return self.poses[-1]
        raise AssertionError(f"no frame published\n{self.node.output}")


def _info(w, h, fx=500.0):
    info = CameraInfo(width=w, height=h, k=[fx, 0.0, w / 2, 0.0, fx, h / 2, 0.0, 0.0, 1.0])
    info.header.frame_id = "cam"
    return info


def _depth(w, h, sec, mm=2000):
    data = np.full((h, w), mm, np.uint16)
    msg = Image(height=h, width=w, encoding="16UC1", step=w * 2, data=data.tobytes())
    msg.header.stamp.sec, msg.header.frame_id = sec, "cam"
    return msg


def test_strange_inputs_and_requests_never_stop_the_node(graph):
    node = NodeProcess("-p", "use_depth:=true", "-p", "diagnostics_period:=0.2",
                       "-r", "__ns:=/hard", name="hard")
    probe = Probe(graph, node, "hard")
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=320)[0]
    h, w = frame.shape[:2]

    def good(sec):
        probe.info.publish(_info(w, h))
        probe.depth.publish(_depth(w, h, sec))
        return image_msg(frame, sec=sec, frame_id="cam")
    assert probe.send_until_published(good).people
    # 1: a colour frame with a negative stamp is rejected, the worker lives on
    bad = image_msg(frame, sec=5, frame_id="cam")
    bad.header.stamp.sec = -5
    probe.image.publish(bad)
    assert wait_for(lambda: probe.status().get("frames_rejected") == "1", 10), probe.status()
    assert probe.send_until_published(good).people
    # 3: a depth image with a negative stamp is ignored and counted
    probe.depth.publish(_depth(w, h, -3))
    assert wait_for(lambda: probe.status().get("depth_frames_rejected") == "1", 10)
    msg = probe.send_until_published(good)
    assert probe.alive() and any(k.position_valid for p in msg.people for k in p.keypoints)
    # 4: min_depth 0 is allowed; min_depth at or above max_depth is refused with the reason
    assert probe.set("min_depth", 0.0).successful
    refused = probe.set("min_depth", 10.0)
    assert not refused.successful and refused.reason == (
        "min_depth must be below max_depth (and not negative), not min_depth 10.0, "
        "max_depth 10.0")
    assert probe.send_until_published(good).people and probe.alive()
    # 5: a transition that is not valid now is answered false, nothing else happens
    for transition in (Transition.TRANSITION_ACTIVATE, Transition.TRANSITION_CONFIGURE):
        response = probe.call(ChangeState, "change_state",
                              ChangeState.Request(transition=Transition(id=transition)))
        assert response.success is False and probe.alive()
    assert "lifecycle transition 3 refused in state active" in node.output
    # 12: a CameraInfo with an infinite focal length is refused; no 3D without a valid one
    targets = len(probe.targets)
    probe.info.publish(_info(w, h, fx=math.inf))
    assert wait_for(lambda: "CameraInfo on camera_info K has non-finite values" in node.output)
    probe.image.publish(image_msg(frame, sec=2000, frame_id="cam"))
    assert wait_for(lambda: probe.poses[-1].header.stamp.sec == 2000, 10)
    assert not any(k.position_valid for p in probe.poses[-1].people for k in p.keypoints)
    assert len(probe.targets) == targets  # no target_pose at (0, 0, z)
    # 20: an integer for a float stays a float; a float for an integer is refused clearly
    assert probe.set("det_score", 1).successful
    assert probe.type_of("det_score") == ParameterType.PARAMETER_DOUBLE
    refused = probe.set("max_people", 3.0)
    assert not refused.successful and "max_people must be an integer, not 3.0" in refused.reason
    # 13: NaN at run time is refused like NaN at start (here by rclpy's own range check)
    refused = probe.set("one_euro_beta", math.nan)
    assert not refused.successful and "nan" in refused.reason
    assert probe.alive() and probe.status()["state"] == "active"
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0 and "Traceback" not in node.output


def test_compressed_frames_opencv_cannot_decode_are_rejected(graph):
    node = NodeProcess("-p", "use_compressed:=true", "-p", "diagnostics_period:=0.2",
                       "-r", "__ns:=/packed", name="packed")
    probe = Probe(graph, node, "packed")
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=320)[0]
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    png = cv2.imencode(".png", frame)[1].tobytes()
    sof = jpeg.find(b"\xff\xc0")

    def compressed(data, sec):
        msg = CompressedImage(format="jpeg", data=data)
        msg.header.stamp.sec = sec
        return msg
    probe.image = probe.compressed  # send_until_published publishes on the compressed topic
    assert probe.send_until_published(lambda sec: compressed(jpeg, sec)) is not None
    bad = [png[:16] + (1 << 16).to_bytes(4, "big") + (1 << 15).to_bytes(4, "big") + png[24:],
           jpeg[:sof + 5] + (20000).to_bytes(2, "big") * 2 + jpeg[sof + 9:],  # 400 MP
           b"v/1\x01" + bytes(2000)]  # OpenEXR's magic
    for i, data in enumerate(bad):  # one at a time: a frame waiting would be replaced
        probe.compressed.publish(compressed(data, 50 + i))
        assert wait_for(lambda: probe.status().get("frames_rejected") == str(i + 1), 10), \
            (probe.status(), node.output)
    assert probe.send_until_published(lambda sec: compressed(jpeg, sec)) is not None
    assert "over the limit of 40,000,000 (max_image_pixels)" in node.output
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + jpeg  # a valid JPEG with a thumbnail
    with_thumbnail = jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]
    assert probe.send_until_published(lambda sec: compressed(with_thumbnail, sec)) is not None
    assert probe.status()["frames_rejected"] == "3" and probe.alive()


def test_nan_at_start_is_one_fatal_line_each():
    for name, value in (("one_euro_min_cutoff", ".nan"), ("diagnostics_period", ".nan")):
        node = NodeProcess("-p", f"{name}:={value}")
        assert node.finish() == 1, node.output
        fatal = [line for line in node.lines if "[FATAL]" in line and "invalid parameter" in line]
        assert fatal == [line for line in fatal if f"{name} must be a finite number, not nan"
                         in line] and len(fatal) == 1, node.output
        assert "Traceback" not in node.output


def test_a_publisher_of_another_type_does_not_choose_the_qos(graph, capfd):
    import rclpy

    node = graph.pose_node(name="typed")
    image = graph.probe.create_publisher(Image, "image", RELIABLE)
    assert wait_for(lambda: node.reliability == "reliable"
                    and image.get_subscription_count() == 1, 10), node.reliability
    other = rclpy.Context()  # DDS lets one participant have one type per topic name
    rclpy.init(context=other)
    try:
        stranger = rclpy.create_node("stranger", context=other)
        stranger.create_publisher(String, "image", QoSProfile(
            depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        assert wait_for(lambda: "a publisher of std_msgs/msg/String on /image is ignored"
                        in capfd.readouterr().err, 10)
        assert node.reliability == "reliable" and image.get_subscription_count() == 1
        stranger.destroy_node()
    finally:
        rclpy.try_shutdown(context=other)


def test_after_shutdown_diagnostics_say_finalized(graph):
    node = graph.pose_node(name="finished", diagnostics_period=0.2)
    node.trigger_shutdown()
    got = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", got.append, 10)
    assert wait_for(lambda: any(kv.key == "state" and kv.value == "finalized"
                                for m in got for s in m.status if "finished" in s.name
                                for kv in s.values), 10)


def test_a_fault_outside_any_frame_is_an_error_state_not_a_dead_thread(graph):
    """A bug in the processing loop itself (here: the pairing raising) stops no thread in
    silence: the diagnostics turn ERROR with the reason, the lifecycle goes through on_error
    to unconfigured, and configure + activate bring the node back."""
    from diagnostic_msgs.msg import DiagnosticStatus
    from lifecycle_msgs.msg import State

    node = graph.pose_node(name="faulty", diagnostics_period=0.2)
    got = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", got.append, 50)

    def broken(now, flush=False):
        raise RuntimeError("pairing bug")
    node.stream.sync.ready = broken
    pub = graph.probe.create_publisher(Image, "image", RELIABLE)
    frame = np.zeros((120, 160, 3), np.uint8)
    for i in range(50):  # frames wake the output thread, which meets the bug
        pub.publish(image_msg(frame, sec=10 + i))
        if wait_for(lambda: any(s.level == DiagnosticStatus.ERROR for m in got
                                for s in m.status if "faulty" in s.name), 0.2):
            break
    error = [s for m in got for s in m.status if "faulty" in s.name
             and s.level == DiagnosticStatus.ERROR][-1]
    assert error.message == "error: pose_output stopped: RuntimeError: pairing bug"
    assert wait_for(lambda: node._state_machine.current_state[0]
                    == State.PRIMARY_STATE_UNCONFIGURED, 10)
    assert node.stream is None
    assert node.start()  # a lifecycle manager would do the same
    pub.publish(image_msg(frame, sec=100))
    assert wait_for(lambda: node.scheduler.stats.published >= 1, 20)
