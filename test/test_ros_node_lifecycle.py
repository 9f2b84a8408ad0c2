"""The managed lifecycle, driven through the node's real lifecycle services, as a lifecycle
manager or `ros2 lifecycle set` would."""
import time
from pathlib import Path

import numpy as np
from ros_graph import graph, image_msg, image_publisher, wait_for  # noqa: F401

from lifecycle_msgs.msg import State, Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402


def _call(graph, client, request):
    assert client.wait_for_service(timeout_sec=30.0)
    future = client.call_async(request)
    assert wait_for(future.done, 60)
    return future.result()


def _thread_cpu_ticks(thread) -> int:
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1]
    utime, stime = fields.split()[11:13]
    return int(utime) + int(stime)


def test_transitions_through_the_lifecycle_services(graph):
    node = graph.pose_node(start=False, autostart=False)
    change = graph.probe.create_client(ChangeState, "/pose_estimation_node/change_state")
    get = graph.probe.create_client(GetState, "/pose_estimation_node/get_state")

    def state() -> int:
        return _call(graph, get, GetState.Request()).current_state.id

    def transition(tid: int) -> bool:
        return _call(graph, change, ChangeState.Request(
            transition=Transition(id=tid))).success

    assert state() == State.PRIMARY_STATE_UNCONFIGURED and node.pipeline is None
    assert graph.probe.count_publishers("/poses") == 0 or node.pipeline is None

    assert transition(Transition.TRANSITION_CONFIGURE)  # models load here
    assert state() == State.PRIMARY_STATE_INACTIVE and node.pipeline is not None
    assert graph.probe.count_subscribers("/image") == 0  # no input before activate

    assert transition(Transition.TRANSITION_ACTIVATE)
    assert state() == State.PRIMARY_STATE_ACTIVE
    got = []
    graph.probe.create_subscription(PersonPoseArray, "poses", got.append, 10)
    pub = image_publisher(graph, node)
    assert wait_for(lambda: node.outputs.publishers["poses"].get_subscription_count() == 1)
    frame = np.zeros((120, 160, 3), np.uint8)
    pub.publish(image_msg(frame, sec=1))
    assert wait_for(lambda: len(got) == 1)

    models = node.pipeline
    assert transition(Transition.TRANSITION_DEACTIVATE)
    assert state() == State.PRIMARY_STATE_INACTIVE
    assert wait_for(lambda: pub.get_subscription_count() == 0)  # unsubscribed
    assert node.pipeline is models  # models stay loaded
    ticks = [_thread_cpu_ticks(t) for t in node.stream.threads]
    for i in range(30):  # a camera still streams
        pub.publish(image_msg(frame, sec=2 + i))
        time.sleep(1 / 30)
    assert [_thread_cpu_ticks(t) for t in node.stream.threads] == ticks  # not one clock tick
    assert len(got) == 1

    assert transition(Transition.TRANSITION_ACTIVATE)  # back without reloading
    assert node.pipeline is models
    assert wait_for(lambda: pub.get_subscription_count() == 1)
    pub.publish(image_msg(frame, sec=40))
    assert wait_for(lambda: len(got) == 2)

    assert transition(Transition.TRANSITION_DEACTIVATE)
    assert transition(Transition.TRANSITION_CLEANUP)  # frees the models
    assert state() == State.PRIMARY_STATE_UNCONFIGURED and node.pipeline is None
    assert node.stream is None
    s = node.scheduler.stats
    assert s.received == s.published + s.dropped and s.published == 2

    assert transition(Transition.TRANSITION_CONFIGURE)  # a second life
    assert transition(Transition.TRANSITION_ACTIVATE)
    assert wait_for(lambda: pub.get_subscription_count() == 1)
    pub.publish(image_msg(frame, sec=50))
    assert wait_for(lambda: len(got) == 3)
    assert transition(Transition.TRANSITION_ACTIVE_SHUTDOWN)
    assert state() == State.PRIMARY_STATE_FINALIZED and node.pipeline is None


def test_configure_fails_cleanly_on_bad_parameters_and_missing_models(graph, tmp_path,
                                                                       monkeypatch):
    bad = graph.pose_node(start=False, provider="gpu")
    assert not bad.start() and bad.pipeline is None
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path))  # no models here
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "cache"))
    missing = graph.pose_node(namespace="other", start=False, variant="heavy")
    assert not missing.start() and missing.pipeline is None
    monkeypatch.undo()
    # the context is still usable: a good node starts in the same process
    assert graph.pose_node(namespace="third").pipeline is not None


def test_frames_waiting_at_deactivation_are_counted(graph):
    node = graph.pose_node(pipeline="topdown", pose="movenet-thunder")
    pub = image_publisher(graph, node)
    frame = (np.random.default_rng(0).integers(0, 255, (480, 640, 3))).astype(np.uint8)
    for i in range(20):
        pub.publish(image_msg(frame, sec=1 + i))
    assert wait_for(lambda: node.scheduler.stats.received >= 1)
    node.trigger_deactivate()
    node.trigger_cleanup()
    s = node.scheduler.stats
    assert s.received == s.published + s.dropped and s.pending == 0
    assert s.received > 0
