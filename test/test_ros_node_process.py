"""The node as a process, as `ros2 run` and `ros2 launch` start and stop it: signals, exit
codes, parameter files. Frames come from this test process over DDS."""
import signal
import time

import numpy as np
from ros_graph import NodeProcess, _no_node_process_outlives_its_test, graph, image_msg, wait_for  # noqa: F401


def test_ctrl_c_twice_exits_cleanly():
    for _ in range(3):
        node = NodeProcess()
        node.wait_started()
        node.proc.send_signal(signal.SIGINT)
        time.sleep(0.01)
        node.proc.send_signal(signal.SIGINT)  # what `ros2 launch` forwards on a terminal Ctrl-C
        code = node.finish()
        assert code == 0, node.output
        assert "Traceback" not in node.output and "KeyboardInterrupt" not in node.output
        assert "terminate called" not in node.output


def test_shutdown_while_frames_flow_publishes_nothing_after_the_context(graph):
    frame = (np.random.default_rng(0).integers(0, 255, (480, 640, 3))).astype(np.uint8)
    for name in ("under_load_a", "under_load_b"):
        node = NodeProcess("-p", "pipeline:=topdown", "-r", f"image:=/{name}/image",
                           name=name)
        node.wait_started()
        pub = graph.probe.create_publisher(type(image_msg(frame)), f"/{name}/image", 10)
        assert wait_for(lambda: pub.get_subscription_count() == 1, 20)
        stop = time.monotonic() + 2.0
        sec = 1
        while time.monotonic() < stop:  # 30 Hz, faster than top-down runs here
            pub.publish(image_msg(frame, sec=sec))
            sec += 1
            time.sleep(1 / 30)
        node.proc.send_signal(signal.SIGINT)
        for _ in range(10):  # frames keep coming during the shutdown
            pub.publish(image_msg(frame, sec=sec))
            time.sleep(1 / 30)
        code = node.finish()
        assert code == 0, node.output
        assert "frame dropped" not in node.output and "Failed to publish" not in node.output
        assert "Traceback" not in node.output


def test_bad_values_at_start_give_one_fatal_line_and_a_nonzero_exit():
    node = NodeProcess("-p", "provider:=gpu", "-p", "max_people:=0")
    code = node.finish()
    assert code == 1, node.output
    fatal = [line for line in node.lines if "[FATAL]" in line and "invalid parameter" in line]
    assert len(fatal) == 2, node.output
    assert "provider must be one of cpu, cuda, tensorrt, not 'gpu'" in fatal[0]
    assert "max_people must be in [1, 50], not 0" in fatal[1]
    assert "Traceback" not in node.output


def test_parameter_file_with_an_integer_float_and_a_misspelt_key(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("/**:\n  ros__parameters:\n    det_score: 1\n    max_peple: 3\n"
                      "    min_tracking_confidence: 0\n")
    node = NodeProcess("--params-file", str(params))
    node.wait_started()
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0, node.output
    assert "unknown parameter 'max_peple' is ignored; did you mean 'max_people'?" in node.output
    assert "InvalidParameterTypeException" not in node.output


def test_two_cameras_in_one_process(graph):
    """`--cameras front rear`: one process, a node per namespace, both publishing; a
    repeated namespace is refused before anything starts."""
    from pose_estimation_ros.msg import PersonPoseArray

    node = NodeProcess(args=("--cameras", "front", "rear"))
    assert wait_for(lambda: node.output.count("subscribed to") == 2
                    or node.proc.poll() is not None, 60), node.output
    frame = (np.random.default_rng(0).integers(0, 255, (240, 320, 3))).astype(np.uint8)
    got = {"front": [], "rear": []}
    pubs = {}
    for ns in got:
        graph.probe.create_subscription(PersonPoseArray, f"/{ns}/poses", got[ns].append, 10)
        pubs[ns] = graph.probe.create_publisher(type(image_msg(frame)), f"/{ns}/image", 10)
    # the nodes resubscribe once they see the publishers (qos_reliability auto): send until
    # each has published one result
    for attempt in range(60):
        for ns, pub in pubs.items():
            if not got[ns]:
                pub.publish(image_msg(frame, sec=7 + attempt, frame_id=f"{ns}_cam"))
        if wait_for(lambda: got["front"] and got["rear"], 0.5):
            break
    assert got["front"] and got["rear"], node.output
    assert got["front"][0].header.frame_id == "front_cam"
    assert got["rear"][0].header.frame_id == "rear_cam"
    assert node.output.count("configured: pipeline blazepose") == 2
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0 and "Traceback" not in node.output
    bad = NodeProcess(args=("--cameras", "front", "front"))
    assert bad.finish() == 2 and "--cameras repeats a namespace" in bad.output
