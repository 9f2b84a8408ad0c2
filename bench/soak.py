"""Soak: 10,000 frames through the node as its own process, people appearing and
disappearing, with the node's resident memory sampled along the way and every frame accounted
for at the end (received + missed in DDS = sent, received = published + dropped).

    source .ci/ros_env
    POSE_ESTIMATION_MODELS=../shared/models python bench/soak.py [--frames 10000] [--rate 60]
        [--pipeline blazepose]

The frames cycle through the basketball clip (1-2 people, moving) and blank stretches of 30
frames, so tracks are born, confirmed, predicted and lost over and over. Prints RSS in MB every
tenth of the run and, last, `frames=N published=N dropped=N missed=N rss_start_mb=X
rss_end_mb=X rss_max_mb=X`.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "videos" / "mmaction2_test_video_structuralize.mp4"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def frames(width: int = 320) -> list[np.ndarray]:
    capture, out = cv2.VideoCapture(str(CLIP)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return out
        h, w = frame.shape[:2]
        out.append(cv2.resize(frame, (width, round(h * width / w))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=60.0, help="frames per second sent")
    ap.add_argument("--pipeline", default="blazepose")
    args = ap.parse_args()
    clip = frames()
    blank = np.zeros_like(clip[0])
    node = subprocess.Popen(
        [sys.executable, "-m", "pose_estimation_ros.ros.main", "--ros-args", "-r",
         "__node:=soak", "-p", f"pipeline:={args.pipeline}", "-p", "diagnostics_period:=0.5",
         "-r", "image:=/soak/image"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    rclpy.init()
    probe = rclpy.create_node("soak_probe")
    executor = SingleThreadedExecutor()
    executor.add_node(probe)
    status: dict = {}

    def on_diagnostics(msg) -> None:
        for s in msg.status:
            if s.name.startswith("/soak:"):
                status.update({kv.key: kv.value for kv in s.values})
    probe.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    pub = probe.create_publisher(Image, "/soak/image",
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    end = time.monotonic() + 60
    while time.monotonic() < end and status.get("image_reliability") != "reliable":
        executor.spin_once(timeout_sec=0.1)
    rss = [rss_mb(node.pid)]
    start = time.monotonic()
    for i in range(args.frames):
        cycle = i % (len(clip) + 30)
        image = clip[cycle] if cycle < len(clip) else blank  # people, then nobody
        h, w = image.shape[:2]
        msg = Image(height=h, width=w, encoding="bgr8", step=w * 3, data=image.tobytes())
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(10**9 + i * 16_666_667, 10**9)
        msg.header.stamp.sec += 1000
        pub.publish(msg)
        executor.spin_once(timeout_sec=max(0.0, start + (i + 1) / args.rate - time.monotonic()))
        if (i + 1) % (args.frames // 10) == 0:
            rss.append(rss_mb(node.pid))
            print(f"{i + 1:6d} frames sent, node RSS {rss[-1]:.1f} MB, published "
                  f"{status.get('frames_published')}", flush=True)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
        c = {k: int(v) for k, v in status.items() if k.startswith("frames_") and v.isdigit()}
        if c and c["frames_received"] + c["frames_missed"] == args.frames \
                and c["frames_received"] == c["frames_published"] + c["frames_dropped"]:
            break
    node.send_signal(2)
    node.wait(30)
    probe.destroy_node()
    rclpy.try_shutdown()
    print(f"frames={args.frames} published={c.get('frames_published')} "
          f"dropped={c.get('frames_dropped')} missed={c.get('frames_missed')} "
          f"rss_start_mb={rss[1]:.1f} rss_end_mb={rss[-1]:.1f} rss_max_mb={max(rss):.1f}")
    accounted = c["frames_received"] + c["frames_missed"] == args.frames and \
        c["frames_received"] == c["frames_published"] + c["frames_dropped"]
    return 0 if accounted else 1


if __name__ == "__main__":
    sys.exit(main())
