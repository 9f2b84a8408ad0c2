"""The node on a real ROS 2 graph (rclpy, Fast DDS): topics, parameters, markers, diagnostics,
namespaces, logging. No fakes: messages go through DDS."""

import numpy as np
from ros_graph import (  # noqa: F401
    RELIABLE,
    graph,
    image_msg,
    image_publisher,
    settled,
    video_frames,
    wait_for,
)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rcl_interfaces.msg import Log  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo  # noqa: E402
from visualization_msgs.msg import Marker, MarkerArray  # noqa: E402

from pose_estimation_ros.models.runtime import ModelPool  # noqa: E402
from pose_estimation_ros.msg import PersonPoseArray, Skeleton  # noqa: E402
from pose_estimation_ros.settings.table import BY_NAME  # noqa: E402

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def _diagnostics(graph, name_part: str, until=lambda d: True) -> dict:
    """The latest status of the node named like `name_part` once `until(status)` holds."""
    got = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", got.append, 10)

    def latest() -> dict:
        wanted = [s for m in got for s in m.status if name_part in s.name]
        if not wanted:
            return {}
        status = wanted[-1]
        return {"name": status.name, "hardware_id": status.hardware_id, "level": status.level,
                **{kv.key: kv.value for kv in status.values}}
    assert wait_for(lambda: bool(d := latest()) and until(d), 10), latest()
    return latest()


def test_stamps_frame_id_and_the_latched_skeleton_for_a_late_subscriber(graph):
    node = graph.pose_node()
    got = []
    graph.probe.create_subscription(PersonPoseArray, "poses", got.append, 10)
    pub = image_publisher(graph, node)
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1)[0]
    for i in range(5):
        msg = image_msg(frame, sec=100 + i, frame_id="camera_optical")
        msg.header.stamp.nanosec = 250_000 * i
        pub.publish(msg)
        assert wait_for(lambda: len(got) > i)
    assert [(m.header.stamp.sec, m.header.stamp.nanosec) for m in got] == \
        [(100 + i, 250_000 * i) for i in range(5)]
    assert {m.header.frame_id for m in got} == {"camera_optical"}
    assert any(m.people for m in got)
    skeletons = []  # subscribed long after the node published it, once
    graph.probe.create_subscription(Skeleton, "skeleton", skeletons.append, LATCHED)
    assert wait_for(lambda: skeletons)
    assert list(skeletons[0].keypoint_names) == list(got[0].keypoint_names)
    assert len(skeletons[0].edge_start) == len(skeletons[0].edge_end) > 0


def test_every_node_parameter_is_the_settings_table_s(graph):
    """The parameters the node declares are the table's node settings: the same names,
    defaults, descriptions (the CLI flags' help) and read-only flags, as rclpy reports them."""
    node = graph.pose_node(name="table", start=False)
    rclpy_own = {"use_sim_time", "start_type_description_service"}
    assert set(node._parameters) - rclpy_own == set(BY_NAME)
    for d in node.describe_parameters(list(BY_NAME)):
        p = BY_NAME[d.name]
        assert (d.description, d.read_only) == (p.help, p.read_only), p.name
        assert node.get_parameter(p.name).value == p.default, p.name


def test_parameters_accepted_rejected_with_a_reason_and_read_only(graph):
    node = graph.pose_node(det_score=1)  # an integer for a float (YAML `det_score: 1`)
    assert node.values["det_score"] == 1.0
    ok = node.set_parameters([Parameter("det_score", value=0.7)])[0]
    assert ok.successful and node.values["det_score"] == 0.7
    assert node.pipeline.pipeline.config.min_detection_confidence == 0.7
    as_int = node.set_parameters([Parameter("det_score", value=1)])[0]  # ros2 param set … 1
    assert as_int.successful and node.values["det_score"] == 1.0
    bad = node.set_parameters([Parameter("det_score", value=1.7)])[0]
    assert not bad.successful  # rclpy's range check from the descriptor, with the values
    assert all(part in bad.reason for part in ("det_score", "0.0", "1.0", "1.7"))
    wrong = node.set_parameters([Parameter("max_missing", value="ten")])[0]
    assert not wrong.successful and "max_missing must be an integer, not 'ten'" in wrong.reason
    ro = node.set_parameters([Parameter("pipeline", value="movenet")])[0]
    assert not ro.successful and "read-only" in ro.reason
    assert node.values["pipeline"] == "blazepose"


def test_max_people_change_applies_to_every_frame_of_tracked_topdown(graph):
    node = graph.pose_node(pipeline="topdown", pose="movenet-lightning", det_interval=5)
    got = []
    graph.probe.create_subscription(PersonPoseArray, "poses", got.append, 100)
    pub = image_publisher(graph, node)
    frames = video_frames("mmaction2_demo_skeleton.mp4", 40)  # two people throughout
    for i, frame in enumerate(frames[:10]):
        pub.publish(image_msg(frame, sec=10 + i, frame_id="cam"))
        got_now = len(got)
        assert wait_for(lambda: len(got) > got_now)
    assert max(len(m.people) for m in got) == 2
    assert node.set_parameters([Parameter("max_people", value=1)])[0].successful
    after = len(got)
    for i, frame in enumerate(frames[10:]):
        msg = image_msg(frame, sec=20 + i)
        pub.publish(msg)
        assert wait_for(lambda: len(got) > after + i)
    counts = [len(m.people) for m in got[after:]]
    assert max(counts) == 1 and len(counts) == 30


def test_camera_info_gives_valid_markers(graph):
    node = graph.pose_node()
    markers = []
    graph.probe.create_subscription(MarkerArray, "markers", markers.append, 10)
    pub = image_publisher(graph, node)
    info_pub = graph.probe.create_publisher(CameraInfo, "camera_info", RELIABLE)
    assert wait_for(lambda: info_pub.get_subscription_count() == 1)
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1)[0]
    h, w = frame.shape[:2]
    info = CameraInfo(width=w, height=h, k=[500.0, 0.0, w / 2, 0.0, 500.0, h / 2, 0.0, 0.0, 1.0])
    info.header.frame_id = "camera_optical"
    info_pub.publish(info)
    assert wait_for(lambda: node.stream.colour is not None)
    pub.publish(image_msg(frame, sec=5, frame_id="camera_optical"))
    assert wait_for(lambda: markers)
    array = markers[-1].markers
    assert array[0].action == Marker.DELETEALL
    drawn = [m for m in array[1:] if m.points]
    assert drawn and all(m.header.frame_id == "camera_optical" for m in drawn)
    points = np.array([[p.x, p.y, p.z] for m in drawn for p in m.points])
    assert np.all(np.isfinite(points)) and np.allclose(points[:, 2], 2.0)  # marker_depth
    assert {m.type for m in drawn} == {Marker.LINE_LIST, Marker.SPHERE_LIST}


def test_diagnostics_report_counts_state_and_hardware(graph):
    node = graph.pose_node(diagnostics_period=0.2)
    pub = image_publisher(graph, node)
    frame = np.zeros((120, 160, 3), np.uint8)
    for i in range(3):
        pub.publish(image_msg(frame, sec=1 + i))
        assert settled(node, i + 1)
    bad = image_msg(frame, sec=9)
    bad.encoding = "yuv422"
    pub.publish(bad)
    assert settled(node, 4)
    d = _diagnostics(graph, "/pose_estimation_node", lambda d: d["frames_received"] == "4")
    assert d["name"] == "/pose_estimation_node: pose estimation"
    assert d["state"] == "active" and d["frames_received"] == "4"
    assert 0 < float(d["compute_ms_median"]) < 60_000
    assert d["frames_published"] == "3" and d["frames_rejected"] == "1"
    assert d["frames_dropped"] == "1"
    assert d["hardware_id"].startswith("cpu: ") and d["hardware_id"] != "cpu: cpu"
    assert d["providers"] == "blazepose-detector=cpu, blazepose-landmark-full=cpu"
    assert d["image_reliability"] == "reliable"  # auto: matched the reliable probe publisher
    assert d["frames_missed"] == "0"


def test_two_nodes_in_two_namespaces(graph):
    """Two cameras in one process, as `--cameras front rear` runs them: one set of models
    (a ModelPool), a tracker and a worker each."""
    pool = ModelPool()
    nodes = {ns: graph.pose_node(namespace=ns, diagnostics_period=0.2, pool=pool)
             for ns in ("front", "rear")}
    front, rear = nodes["front"].pipeline, nodes["rear"].pipeline
    assert len(pool) == 2 and front is not rear and front.tracker is not rear.tracker
    assert all(a is b for a, b in zip(front.models, rear.models))
    got = {"front": [], "rear": []}
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1)[0]
    pubs = {}
    for ns in got:
        graph.probe.create_subscription(PersonPoseArray, f"/{ns}/poses", got[ns].append, 10)
        pubs[ns] = image_publisher(graph, nodes[ns], f"/{ns}/image")
    pubs["front"].publish(image_msg(frame, sec=1, frame_id="front_cam"))
    pubs["rear"].publish(image_msg(frame, sec=2, frame_id="rear_cam"))
    assert wait_for(lambda: got["front"] and got["rear"])
    assert [m.header.frame_id for m in got["front"]] == ["front_cam"]
    assert [m.header.frame_id for m in got["rear"]] == ["rear_cam"]
    names = {_diagnostics(graph, f"/{ns}/")["name"] for ns in got}
    assert names == {"/front/pose_estimation_node: pose estimation",
                     "/rear/pose_estimation_node: pose estimation"}


def test_core_warnings_reach_rosout_and_stamps_are_explicit(graph):
    logs = []
    graph.probe.create_subscription(Log, "/rosout", logs.append, QoSProfile(
        depth=100, reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL))
    node = graph.pose_node(name="fallback", provider="cuda")  # no CUDA here: CPU fallback
    assert wait_for(lambda: any("requested but" in m.msg for m in logs), 10)
    fallback = [m for m in logs if "requested but" in m.msg]
    assert fallback[0].name == "fallback" and fallback[0].level == Log.WARN
    got = []
    graph.probe.create_subscription(PersonPoseArray, "poses", got.append, 10)
    pub = image_publisher(graph, node)
    frame = np.zeros((120, 160, 3), np.uint8)
    future = graph.probe.get_clock().now().nanoseconds // 1_000_000_000 + 3600
    for i, sec in enumerate((0, future)):  # a driver that sets no stamp; a clock an hour ahead
        pub.publish(image_msg(frame, sec=sec))
        assert wait_for(lambda: len(got) == i + 1)
    assert all(m.latency.sec == 0 and m.latency.nanosec == 0 for m in got)  # unknown, not 57 y
    assert node.stream.stamps.counts["unknown"] == 1 and node.stream.stamps.counts["future"] == 1
    assert wait_for(lambda: any("stamp is 0" in m.msg for m in logs)
                    and any("ahead of this node's clock" in m.msg for m in logs))
