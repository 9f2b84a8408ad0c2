"""config/fastdds_large_images.xml with the Fast DDS of CI's Jazzy harness: the profile is read
(the camera process sends from a 16 MB shared-memory segment, not the built-in 512 KB one), and
1080p frames flow from a camera process that uses it to the node that uses it and on to a probe
on Fast DDS's defaults."""
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import DATA, ROOT
from ros_graph import NodeProcess, _no_node_process_outlives_its_test, graph, wait_for  # noqa: F401

from pose_estimation_ros.msg import PersonPoseArray
from pose_estimation_ros.settings.launch import FASTDDS_PROFILE_VARIABLES

PROFILE = ROOT / "config" / "fastdds_large_images.xml"
SHM = Path("/dev/shm")

CAMERA = '''
import sys, time, cv2, numpy as np, rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
frame = cv2.resize(cv2.VideoCapture(sys.argv[1]).read()[1], (1920, 1080))
rclpy.init()
node = rclpy.create_node("profile_camera")
pub = node.create_publisher(Image, "/profile_cam/image",
                            QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
print("ready", flush=True)
sys.stdin.readline()
end = time.monotonic() + 20
while pub.get_subscription_count() < 1 and time.monotonic() < end:
    time.sleep(0.05)
time.sleep(0.5)
for i in range(20):
    msg = Image(height=1080, width=1920, encoding="bgr8", step=1920 * 3, data=frame.tobytes())
    msg.header.stamp = node.get_clock().now().to_msg()
    pub.publish(msg)
    time.sleep(0.1)
print("sent", flush=True)
sys.stdin.readline()
'''


def _lines(proc) -> queue.Queue:
    """The process's stdout lines, read by a thread (a test never blocks on a silent pipe)."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.strip()) for x in proc.stdout],
                     daemon=True).start()
    return lines


def _until(lines: queue.Queue, wanted: str, seen: list, timeout: float = 60.0) -> bool:
    """Wait for the line `wanted`, keeping the others (Fast DDS logs on stdout) in `seen`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            return False
        if line == wanted:
            return True
        seen.append(line)
    return False


def _segments() -> dict[str, int]:
    """Fast DDS's shared-memory files by name and size (2.x names them fastrtps_*)."""
    sizes = {}
    for pattern in ("fastrtps_*", "fastdds_*"):
        for path in SHM.glob(pattern) if SHM.is_dir() else ():
            try:
                sizes[path.name] = path.stat().st_size
            except FileNotFoundError:  # a starting participant removes stale segments
                pass
    return sizes


def test_the_profile_is_read_and_1080p_frames_reach_the_node(graph, tmp_path):
    env = dict(os.environ, **{v: str(PROFILE) for v in FASTDDS_PROFILE_VARIABLES})
    before = _segments()
    log = tmp_path / "camera.log"
    with open(log, "w") as err_file:
        camera = subprocess.Popen([sys.executable, "-c", CAMERA,
                                   str(DATA / "videos" / "mmaction2_demo_skeleton.mp4")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=err_file, text=True, env=env)
    said, camera_said = _lines(camera), []
    node = NodeProcess("-r", "image:=/profile_cam/image", "-r", "poses:=/profile_cam/poses",
                       "-p", "pipeline:=blazepose", "-p", "qos_reliability:=reliable",
                       name="profile_node", env=env)
    try:
        poses = []
        graph.probe.create_subscription(PersonPoseArray, "/profile_cam/poses", poses.append, 50)
        assert _until(said, "ready", camera_said), camera_said
        node.wait_started()
        assert wait_for(lambda: graph.probe.count_publishers("/profile_cam/poses") >= 1, 20)
        time.sleep(1.0)  # discovery done: the probe's subscription matches the node's publisher
        if SHM.is_dir():  # Linux: Fast DDS's shared-memory segments are files there
            new = {n: s for n, s in _segments().items() if n not in before}
            assert any(s >= 16 * 2**20 for s in new.values()), \
                f"no 16 MB segment: the profile was not read ({new})"
        camera.stdin.write("go\n")
        camera.stdin.flush()
        assert _until(said, "sent", camera_said), camera_said
        assert wait_for(lambda: len(poses) >= 10, 20), (len(poses), node.output)
        assert len(poses[-1].people) == 1  # BlazePose found the person in the 1080p frames
    finally:
        camera.kill()
        camera.wait(10)
        node.proc.send_signal(2)
        node.finish()
    # Fast DDS logs "[XMLPARSER Error] …" and the like, on stdout
    for text in ("\n".join(camera_said), log.read_text(), node.output):
        assert "XMLPARSER" not in text and "Error]" not in text, text
