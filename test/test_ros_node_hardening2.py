"""Hardening, round 2, over real ROS 2 (issue 33's rows that involve the node): simulated time
without /clock, a colour CameraInfo of another size, rclpy's own parameter of the wrong type,
REP-155 whose type support cannot load, one FATAL line for a missing model, and a node whose
launching process is gone."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import ROOT
from ros_graph import (  # noqa: F401
    RELIABLE,
    NodeProcess,
    graph,
    image_msg,
    node_status,
    rgbd_publishers,
    video_frames,
    wait_for,
)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402


def test_simulated_time_without_clock_keeps_diagnostics_and_the_qos_check(graph):
    """use_sim_time and no /clock (a bag not playing yet, or ended): the ROS clock stands
    still, the steady clock does not: /diagnostics keeps coming and balancing, and a reliable
    publisher appearing later is matched (the QoS re-check runs)."""
    node = graph.pose_node(name="simtime", use_sim_time=True, diagnostics_period=0.2)
    reports = []
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 50)
    assert wait_for(lambda: len([m for m in reports
                                 if node_status([m], "/simtime:")]) >= 3, 5)
    poses = []
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 50)
    pub = graph.probe.create_publisher(Image, "image", RELIABLE)
    assert wait_for(lambda: node.reliability == "reliable", 5)  # re-checked on steady time
    clock = graph.probe.create_publisher(Clock, "/clock", 10)
    frames = video_frames("mmaction2_test_video_structuralize.mp4", 6, width=320)
    for i, frame in enumerate(frames):
        if i < 3:  # /clock runs for a while, then stops (the bag ended)
            clock.publish(Clock(clock=image_msg(frame, sec=100 + i).header.stamp))
        pub.publish(image_msg(frame, sec=100 + i))
        assert wait_for(lambda: len(poses) == i + 1, 20)
    count = len(reports)
    assert wait_for(lambda: len(reports) >= count + 3, 5)  # still reporting
    s = node_status(reports, "/simtime:")
    assert int(s["frames_received"]) == 6 == int(s["frames_published"]) + \
        int(s["frames_dropped"])


def test_a_colour_camera_info_of_another_size_is_scaled_or_refused(graph):
    """A CameraInfo for 640×360 on 320×180 images (a driver reconfigured, a resized
    republish) is the same picture halved: positions as with the right one. One for another
    shape gives no 3D, counted as size_mismatch."""
    node = graph.pose_node(name="infosize", use_depth=True, diagnostics_period=0.2)
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=320)[0]
    h, w = frame.shape[:2]
    image, depth, info = rgbd_publishers(graph, node)
    poses, reports = [], []
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 50)
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 50)
    f = 0.9 * w

    def send(sec: int, scale: float, aspect_h: float) -> PersonPoseArray:
        width, height = int(w * scale), int(aspect_h * scale)
        k = [f * scale, 0.0, width / 2, 0.0, f * scale, height / 2, 0.0, 0.0, 1.0]
        for _ in range(3):
            msg = CameraInfo(width=width, height=height, k=k)
            info.publish(msg)
        time.sleep(0.2)
        d = np.full((h, w), 2000, np.uint16)
        dm = Image(height=h, width=w, encoding="16UC1", step=w * 2, data=d.tobytes())
        dm.header.stamp.sec = sec
        depth.publish(dm)
        before = len(poses)
        image.publish(image_msg(frame, sec=sec))
        assert wait_for(lambda: len(poses) == before + 1, 20)
        return poses[-1]
    assert wait_for(lambda: node.stream is not None and node.active, 10)
    right = send(10, 1.0, h)
    halved = send(11, 2.0, h)
    for a, b in zip(right.people[0].keypoints, halved.people[0].keypoints):
        assert a.position_valid == b.position_valid
        if a.position_valid:
            np.testing.assert_allclose([a.position.x, a.position.y, a.position.z],
                                       [b.position.x, b.position.y, b.position.z], atol=1e-5)
    other = send(12, 2.0, h * 4 / 3)  # 640×240: another aspect ratio
    assert not any(k.position_valid for p in other.people for k in p.keypoints)
    assert wait_for(lambda: node_status(reports, "/infosize:").get("without_3d_size_mismatch")
                    == "1", 5)


def _fatal(node: NodeProcess) -> list[str]:
    return [line for line in node.lines if "[FATAL]" in line]


def test_rclpy_s_own_parameter_of_the_wrong_type_is_one_fatal_line(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("/**:\n  ros__parameters:\n    use_sim_time: 'yes'\n")
    node = NodeProcess("--params-file", str(params), name="wrongtype")
    assert node.finish() == 1, node.output
    fatal = _fatal(node)
    assert len(fatal) == 1 and "invalid parameter" in fatal[0] and "use_sim_time" in \
        fatal[0], node.output
    assert "Traceback" not in node.output


def test_a_missing_model_is_one_fatal_line(tmp_path):
    env = os.environ | {"POSE_ESTIMATION_MODELS": str(tmp_path / "none"),
                        "POSE_ESTIMATION_CACHE": str(tmp_path / "cache")}
    node = NodeProcess("-p", "pipeline:=topdown", name="nomodel", env=env)
    assert node.finish() == 1, node.output
    fatal = _fatal(node)
    assert len(fatal) == 1 and "cannot load the topdown pipeline" in fatal[0] and \
        "models prepare" in fatal[0], node.output


def test_rep155_whose_type_support_cannot_load_turns_itself_off(tmp_path, graph):
    """An hri_msgs whose Python classes import but whose type support libraries do not
    load (here: removed from a copy; in the field, a broken or mismatched install): the node
    starts, says why REP-155 is off, and runs the rest."""
    built = next(Path(p) for p in os.environ["PYTHONPATH"].split(os.pathsep)
                 if (Path(p) / "hri_msgs").is_dir())
    broken = tmp_path / "site"
    shutil.copytree(built / "hri_msgs", broken / "hri_msgs")
    for lib in (broken / "hri_msgs").glob("*.so"):
        lib.unlink()
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(broken),
                                                       os.environ["PYTHONPATH"]])}
    node = NodeProcess("-p", "hri.enable:=true", name="brokenhri", env=env)
    node.wait_started()
    rep = [line for line in node.lines if "REP-155 output off" in line]
    assert len(rep) == 1 and "type support cannot be loaded" in rep[0], node.output
    assert not _fatal(node)
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0


def _exited(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # a zombie: exited
    except OSError:
        return True


def test_the_node_shuts_down_when_the_process_that_started_it_is_gone(tmp_path):
    """`ros2 launch` killed by SIGTERM leaves its nodes running (ros2/launch#666): a node
    whose parent is gone shuts down cleanly by itself."""
    script = ("import subprocess, sys, time\n"
              "p = subprocess.Popen([sys.executable, '-m', 'pose_estimation_ros.ros.main', "
              "'--ros-args', '-r', '__node:=orphan'])\n"
              "print(p.pid, flush=True)\n"
              "time.sleep(600)\n")
    launcher = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid = int(launcher.stdout.readline())
    lines = []
    end = time.monotonic() + 60
    while time.monotonic() < end and not any("subscribed to" in x for x in lines):
        lines.append(launcher.stdout.readline())
    launcher.send_signal(signal.SIGTERM)  # the launcher dies; its node is re-parented
    launcher.wait(10)
    gone = wait_for(lambda: _exited(pid), 30)
    if not gone:
        os.kill(pid, signal.SIGKILL)  # (the pipe's other end: read() returns)
    rest = launcher.stdout.read()  # EOF once the node, holding the pipe too, has exited
    assert gone, "the orphaned node kept running\n" + "".join(lines) + rest
    assert "is gone: shutting down" in rest, "".join(lines) + rest
    assert "Traceback" not in rest
