"""The pose budget (issue 35) over real ROS 2: set while the node runs, people left out of a
frame published as predicted, and /diagnostics reporting crops per frame and people
predicted."""
import sys
from pathlib import Path

from conftest import DATA
from ros_graph import graph, image_msg, image_publisher, node_status, wait_for  # noqa: F401

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402

from pose_estimation_ros.msg import PersonPose, PersonPoseArray  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import crowd  # noqa: E402  (the tiled clips of bench/crowd.py)


def test_the_pose_budget_is_set_at_run_time_and_reported(graph):
    node = graph.pose_node(name="crowd", pipeline="topdown", pose="movenet-lightning",
                           max_people=20, diagnostics_period=0.2)
    got, status = [], []
    graph.probe.create_subscription(PersonPoseArray, "poses", got.append, 100)
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", status.append, 10)
    pub = image_publisher(graph, node)
    clip = crowd.clip_frames(DATA / "videos" / "mmaction2_demo_skeleton.mp4")

    def send(k: int) -> None:
        pub.publish(image_msg(crowd.tiled(clip, 2, k), sec=10 + k, frame_id="cam"))
        assert wait_for(lambda: len(got) > k, 30), f"frame {k} not published"

    def reported() -> dict:
        return node_status(status, "/crowd:")
    for k in range(8):
        send(k)
    states = {p.track_state for m in got for p in m.people}
    assert PersonPose.TRACK_STATE_PREDICTED not in states  # no budget: everyone cropped
    assert wait_for(lambda: float(reported().get("crops_per_frame", 0)) > 5.0, 5), reported()
    assert reported()["people_predicted"] == "0"

    assert node.set_parameters([Parameter("max_crops_per_frame", value=2)])[0].successful
    assert node.pipeline.tracker.config.max_crops_per_frame == 2
    bad = node.set_parameters([Parameter("max_crops_per_frame", value=-1)])[0]
    assert not bad.successful and "max_crops_per_frame" in bad.reason
    for k in range(8, 24):
        send(k)
    after = got[8:]
    predicted = [sum(p.track_state == PersonPose.TRACK_STATE_PREDICTED for p in m.people)
                 for m in after]
    assert sum(predicted) > len(after)  # more than one person a frame left out, on average
    # left out of a crop, never out of the message: each frame still has its ~8 people
    assert min(len(m.people) for m in after[4:]) >= 6
    for m in after:
        for p in m.people:
            if p.track_state == PersonPose.TRACK_STATE_PREDICTED:
                assert all(k.score == 0.0 for k in p.keypoints)  # a prediction, not measured
    assert wait_for(lambda: int(reported().get("people_predicted", 0)) >= sum(predicted), 5)
    assert float(reported()["crops_per_frame"]) < 7.0
