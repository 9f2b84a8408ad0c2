"""The follow target over real ROS 2: `~/target_state` on every processed frame with the states
of the hidden-target sequence (test/scenes.py: the standing person hidden for 3 s, back
farther away), `/diagnostics` saying the same, `~/select_target` choosing another person, and
`bag` writing the same states, byte-identical on a second run."""
import rgbd
import scenes
from ros_graph import graph, node_status, settled, wait_for  # noqa: F401
from test_ros_node_rgbd import REMAP, RealSense, _colour, _depth

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402

from pose_estimation_ros.msg import FollowTarget  # noqa: E402
from pose_estimation_ros.srv import SelectTarget  # noqa: E402

STATES = ["none", "tracking", "occluded", "reacquired", "lost"]


def _changes(msgs) -> list[tuple[str, int]]:
    out = []
    for m in msgs:
        state = (STATES[m.state], m.track_id)
        if not out or out[-1] != state:
            out.append(state)
    return out


def _call(graph, client, track_id: int):
    future = client.call_async(SelectTarget.Request(track_id=track_id))
    assert wait_for(future.done, 10)
    return future.result()


def test_target_state_every_frame_select_target_and_the_same_states_in_a_bag(graph, tmp_path):
    frames = scenes.hidden_target(3.0, 3.0, 3.0)
    node = graph.pose_node(name="target", pipeline="topdown", use_depth=True, remap=REMAP,
                           diagnostics_period=0.2)
    camera = RealSense(graph, node)
    states, status = [], []
    graph.probe.create_subscription(FollowTarget, "/target/target_state", states.append, 200)
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", status.append, 10)
    client = graph.probe.create_client(SelectTarget, "/target/select_target")
    assert client.wait_for_service(timeout_sec=10)
    for k, (colour, depth) in enumerate(frames):
        camera.colour.publish(_colour(colour, k))
        camera.depth.publish(_depth(depth, k))
        assert settled(node, k + 1, 30), f"frame {k} not accounted for"
    assert wait_for(lambda: len(states) == len(camera.poses) == len(frames))
    assert [(m.header.stamp.sec, m.header.stamp.nanosec) for m in states] == \
        [(m.header.stamp.sec, m.header.stamp.nanosec) for m in camera.poses]
    changes = _changes(states)
    target = changes[1][1]
    assert changes == [("none", -1), ("tracking", target), ("occluded", target),
                       ("lost", target), ("reacquired", target), ("tracking", target)]
    occluded = [m for m in states if m.state == FollowTarget.STATE_OCCLUDED]
    assert occluded[0].position_valid and occluded[0].position_predicted
    lost = [m for m in states if m.state == FollowTarget.STATE_LOST]
    assert all(m.seconds_since_seen > 2.0 for m in lost)
    followed = {p.target_track_id for p, s in zip(camera.poses, states)
                if s.state == FollowTarget.STATE_LOST}
    assert followed == {-1}  # lost: nobody is followed

    def reported() -> dict:
        return node_status(status, "/target:")
    assert wait_for(lambda: reported().get("target_state") == "tracking", 5)
    assert reported()["target_track_id"] == str(target)

    other = next(p.track_id for p in camera.poses[-1].people if p.track_id != target)
    answer = _call(graph, client, other)
    assert answer.success and answer.track_id == other, answer.message
    refused = _call(graph, client, 999)
    assert not refused.success and "track 999 is not a confirmed person now" in refused.message
    k = len(frames)
    camera.colour.publish(_colour(frames[-1][0], k))
    camera.depth.publish(_depth(frames[-1][1], k))
    assert wait_for(lambda: len(states) == k + 1, 30)
    assert (states[-1].track_id, states[-1].reason) == (other, f"selected: track {other}")

    from rosbags.highlevel import AnyReader

    from pose_estimation_ros.bags.types import typestore
    from pose_estimation_ros.cli.main import main

    store = typestore()
    rgbd.write_bag(tmp_path / "hidden", [("", c, d) for c, d in frames], store,
                   stamps=[rgbd.stamp(k) for k in range(len(frames))])
    from pose_estimation_ros.transport.rep155 import Bodies, session_prefix

    written = []
    body = Bodies(session_prefix("hidden")).body_id(target)
    for run in ("a", "b"):
        assert main(["bag", str(tmp_path / "hidden"), "--output", str(tmp_path / run),
                     "--image-topic", rgbd.COLOUR, "--depth-topic", rgbd.DEPTH,
                     "--camera-info-topic", rgbd.COLOUR_INFO, "--rep155", "--no-progress",
                     *rgbd.PIPELINE]) == 0
        with AnyReader([tmp_path / run / "hidden.poses"], default_typestore=store) as reader:
            conn = [c for c in reader.connections
                    if c.topic == "/pose_estimation_node/target_state"]
            written.append([(bytes(raw), reader.deserialize(raw, c.msgtype))
                            for c, _, raw in reader.messages(connections=conn)])
            roi = [c for c in reader.connections if c.topic == f"/humans/bodies/{body}/roi"]
            seen = [reader.deserialize(raw, c.msgtype).header.stamp.sec * 10**9
                    + reader.deserialize(raw, c.msgtype).header.stamp.nanosec
                    for c, _, raw in reader.messages(connections=roi)]
        # the re-identified person keeps their REP-155 body id: before hiding and after
        assert min(seen) < rgbd.stamp(30) and max(seen) > rgbd.stamp(70), body
    assert [raw for raw, _ in written[0]] == [raw for raw, _ in written[1]]
    assert [(STATES[m.state], m.track_id) for _, m in written[0]] == \
        [(STATES[m.state], m.track_id) for m in states[:len(frames)]]
