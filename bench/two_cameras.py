"""Memory and CPU per extra camera: one node process serving two cameras with one set of
models (`--cameras front rear`) against two node processes sharing nothing, and one camera
alone. Each camera gets the same frames at the same rate over DDS; the node processes are
real (`python -m pose_estimation_ros.ros.main`). Run inside `source .ci/ros_env`:

    POSE_ESTIMATION_MODELS=../shared/models python bench/two_cameras.py [--pipeline topdown]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from pose_estimation_ros.msg import PersonPoseArray

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "videos" / "mmaction2_test_video_structuralize.mp4"
TICK = os.sysconf("SC_CLK_TCK")


def frames(count: int, width: int = 640) -> list[np.ndarray]:
    cap, out = cv2.VideoCapture(str(CLIP)), []
    while len(out) < count:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.resize(f, (width, width * f.shape[0] // f.shape[1])))
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start(cameras: list[str], pipeline: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pose_estimation_ros.ros.main"]
    if len(cameras) > 1:
        cmd += ["--cameras", *cameras]
    cmd += ["--ros-args", "-p", f"pipeline:={pipeline}"]
    if len(cameras) == 1:
        cmd += ["-r", f"__ns:=/{cameras[0]}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def run(layout: list[list[str]], pipeline: str, images, rate: float, node) -> dict:
    procs = [start(cams, pipeline) for cams in layout]
    cams = [c for cams in layout for c in cams]
    got = {c: 0 for c in cams}
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    subs = [node.create_subscription(PersonPoseArray, f"/{c}/poses",
                                     lambda m, c=c: got.__setitem__(c, got[c] + 1), qos)
            for c in cams]
    pubs = {c: node.create_publisher(Image, f"/{c}/image", qos) for c in cams}
    end = time.monotonic() + 90
    while time.monotonic() < end and not all(p.get_subscription_count() for p in pubs.values()):
        rclpy.spin_once(node, timeout_sec=0.1)
    time.sleep(1.0)
    rss0 = sum(rss_mb(p.pid) for p in procs)
    cpu0 = sum(cpu_s(p.pid) for p in procs)
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        for c in cams:
            msg = Image(height=h, width=w, encoding="bgr8", step=w * 3, data=image.tobytes())
            msg.header.stamp.sec, msg.header.frame_id = 100 + i, c
            pubs[c].publish(msg)
        stop = time.monotonic() + 1.0 / rate
        while time.monotonic() < stop:
            rclpy.spin_once(node, timeout_sec=0.005)
    stop = time.monotonic() + 5.0
    while time.monotonic() < stop:
        rclpy.spin_once(node, timeout_sec=0.05)
    out = {"rss_loaded_mb": rss0, "rss_mb": sum(rss_mb(p.pid) for p in procs),
           "cpu_s": sum(cpu_s(p.pid) for p in procs) - cpu0, "published": sum(got.values()),
           "per_camera": dict(got)}
    for p in procs:
        p.send_signal(2)
    for p in procs:
        p.wait(30)
    for s in subs:
        node.destroy_subscription(s)
    for p in pubs.values():
        node.destroy_publisher(p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", default="topdown")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--rate", type=float, default=4.0, help="frames per second per camera")
    args = ap.parse_args()
    images = frames(args.frames)
    rclpy.init()
    node = rclpy.create_node("two_cameras_bench")
    layouts = {"one camera": [["cam0"]], "two cameras, one process (shared models)":
               [["front", "rear"]], "two cameras, two processes": [["front"], ["rear"]]}
    print(f"{args.pipeline}, {len(images)} frames of 640 px per camera at {args.rate:g} fps")
    rows = {}
    for name, layout in layouts.items():
        r = run(layout, args.pipeline, images, args.rate, node)
        rows[name] = r
        print(f"{name:<42} RSS {r['rss_mb']:7.1f} MB (models loaded {r['rss_loaded_mb']:.1f}), "
              f"CPU {r['cpu_s']:.1f} s for {r['published']} results "
              f"({1000 * r['cpu_s'] / max(r['published'], 1):.1f} ms each) {r['per_camera']}")
    one = rows["one camera"]
    for name in list(layouts)[1:]:
        r = rows[name]
        print(f"extra camera, {name.split(', ')[1]}: +{r['rss_mb'] - one['rss_mb']:.1f} MB, "
              f"+{r['cpu_s'] - one['cpu_s']:.1f} CPU s")
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
