"""How much of a camera's stream the node takes in, and how promptly it answers, at camera
resolutions: 640×480, 1280×720 and 1920×1080 rgb8 at 30 Hz (the hug clip, resized), each with
the machine idle and with a second process spinning.

    source .ci/ros_env
    POSE_ESTIMATION_MODELS=../shared/models python bench/node_intake.py [--pipeline blazepose]
        [--variant lite] [--seconds 10] [--sizes 1280x720,1920x1080] [--busy both|no|yes]
        [--fastdds-profile none|PATH]

Per row, all in one run with the same publisher: frames sent, frames a bare subscriber (a
process that only counts them and notes their latency, the transport's: image stamp → its
callback; the node's QoS: reliable, depth 1) received, frames the node received
(its `/diagnostics`), processed (published + dropped other than replaced) and published, the
latency median and p95 (image stamp → publish, the messages' own `latency` field) and the
node's median per-frame compute (`compute_ms_median`), and the bound the p95 is held to:
1.5 × that compute + one frame interval. Every process is its own: publisher, bare subscriber,
node, and this one, which reads the poses and diagnostics. All of them use the Fast DDS profile
the launch file gives (config/fastdds_large_images.xml, unless FASTRTPS_DEFAULT_PROFILES_FILE
names another; `--fastdds-profile none`: Fast DDS's defaults).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "videos" / "mmaction2_demo_skeleton.mp4"

PUBLISHER = textwrap.dedent('''
    import sys, time, cv2, numpy as np, rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    w, h, seconds, clip = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    cap, frames = cv2.VideoCapture(clip), []
    while len(frames) < 30:
        ok, f = cap.read()
        if not ok: break
        frames.append(np.ascontiguousarray(cv2.resize(f, (w, h))[:, :, ::-1]).tobytes())
    rclpy.init()
    node = rclpy.create_node("intake_camera")
    pub = node.create_publisher(Image, "/intake/image",
                                QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    end = time.monotonic() + 60
    while pub.get_subscription_count() < 2 and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(2.0)  # the node resubscribes reliably once it sees the publisher
    print("ready", flush=True)
    sys.stdin.readline()
    start, sent = time.monotonic(), 0
    while time.monotonic() < start + seconds:
        msg = Image(height=h, width=w, encoding="rgb8", step=w * 3, data=frames[sent % len(frames)])
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.header.frame_id = "camera"
        pub.publish(msg)
        sent += 1
        time.sleep(max(0.0, start + sent / 30.0 - time.monotonic()))
    print(sent, flush=True)
    time.sleep(1.0)
''')

BARE = textwrap.dedent('''
    import sys, threading, rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node("intake_bare")
    latencies = []  # ms from the image stamp to this callback: what the transport takes

    def on_image(msg):
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        latencies.append((node.get_clock().now().nanoseconds - stamp) / 1e6)
    node.create_subscription(Image, "/intake/image", on_image,
                             QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.readline()
    print(len(latencies), *sorted(latencies), flush=True)
''')


def row(args, width: int, height: int, busy: bool) -> dict:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor

    from pose_estimation_ros.msg import PersonPoseArray

    node = subprocess.Popen(
        [sys.executable, "-m", "pose_estimation_ros.ros.main", "--ros-args", "-r",
         "__node:=intake", "-r", "image:=/intake/image", "-r", "poses:=/intake/poses",
         "-p", f"pipeline:={args.pipeline}", "-p", f"variant:={args.variant}",
         "-p", f"threads:={args.threads}", "-p", "diagnostics_period:=0.5"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = subprocess.Popen([sys.executable, "-c", BARE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    camera = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(width), str(height),
                               str(args.seconds), str(CLIP)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    rclpy.init()
    probe = rclpy.create_node("intake_probe")
    executor = SingleThreadedExecutor()
    executor.add_node(probe)
    latencies, status = [], {}
    probe.create_subscription(PersonPoseArray, "/intake/poses", lambda m: latencies.append(
        m.latency.sec + m.latency.nanosec * 1e-9), 100)

    def on_diagnostics(msg) -> None:
        for s in msg.status:
            if s.name.startswith("/intake:"):
                status.update({kv.key: kv.value for kv in s.values})
    probe.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    try:
        assert bare.stdout.readline().strip() == "ready"
        while camera.poll() is None and not status.get("image_reliability") == "reliable":
            executor.spin_once(timeout_sec=0.1)
        assert camera.stdout.readline().strip() == "ready"
        before = {k: int(v) for k, v in status.items() if k.startswith("frames_")
                  and v.isdigit()}
        latencies.clear()
        camera.stdin.write("go\n")
        camera.stdin.flush()
        end = time.monotonic() + args.seconds + 3.0
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        sent = int(camera.stdout.readline())
        bare.stdin.write("stop\n")
        bare.stdin.flush()
        bare_said = bare.stdout.readline().split()
        bare_count, bare_lat = int(bare_said[0]), np.array([float(v) for v in bare_said[1:]])
        after = {k: int(v) for k, v in status.items() if k.startswith("frames_") and v.isdigit()}
        d = {k: after[k] - before.get(k, 0) for k in after}
        lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
        if not bare_lat.size:
            bare_lat = np.array([np.nan])
        return {"size": f"{width}x{height}", "busy": busy, "sent": sent, "bare": bare_count,
                "bare_latency_median_ms": float(np.median(bare_lat)),
                "bare_latency_p95_ms": float(np.percentile(bare_lat, 95)),
                "received": d["frames_received"],
                "processed": d["frames_published"] + d["frames_dropped"] - d["frames_replaced"],
                "published": d["frames_published"],
                "latency_median_ms": float(np.median(lat)),
                "latency_p95_ms": float(np.percentile(lat, 95)),
                "compute_ms_median": float(status.get("compute_ms_median", "nan"))}
    finally:
        for proc in (camera, bare, spinner, node):
            if proc is not None:
                proc.kill() if proc is not node else proc.send_signal(2)
                proc.wait(30)
        probe.destroy_node()
        rclpy.try_shutdown()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", default="blazepose")
    ap.add_argument("--variant", default="full")
    ap.add_argument("--threads", type=int, default=None, help="the node's (default: its own)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    ap.add_argument("--busy", choices=("both", "no", "yes"), default="both")
    ap.add_argument("--json", action="store_true", help="one JSON object per row as well")
    ap.add_argument("--fastdds-profile", default="",
                    help="as the launch argument fastdds_profile (default: the package's)")
    args = ap.parse_args()
    from pose_estimation_ros.settings.launch import (
        FASTDDS_PROFILE_VARIABLES,
        fastdds_environment,
    )

    if args.fastdds_profile.strip().lower() == "none":
        for name in FASTDDS_PROFILE_VARIABLES:
            os.environ.pop(name, None)
    os.environ.update(fastdds_environment(args.fastdds_profile, str(ROOT)))
    profile = os.environ.get(FASTDDS_PROFILE_VARIABLES[0], "none (Fast DDS's defaults)")
    if args.threads is None:
        from pose_estimation_ros.settings.table import BY_NAME

        args.threads = BY_NAME["threads"].default
    print(f"pipeline {args.pipeline} ({args.variant}), threads {args.threads}, rgb8 at 30 Hz "
          f"for {args.seconds:g} s per row, Fast DDS profile {profile}")
    print("| size | CPU | sent | bare subscriber (latency median / p95 ms) | node received | "
          "processed | published | latency median / p95 ms | node compute ms | p95 bound ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for busy in {"both": (False, True), "no": (False,), "yes": (True,)}[args.busy]:
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            r = row(args, w, h, busy)
            print(f"| {r['size']} | {'busy' if busy else 'idle'} | {r['sent']} | {r['bare']} "
                  f"({r['bare_latency_median_ms']:.1f} / {r['bare_latency_p95_ms']:.1f}) | "
                  f"{r['received']} ({100 * r['received'] / max(r['bare'], 1):.0f}%) | "
                  f"{r['processed']} | {r['published']} | {r['latency_median_ms']:.1f} / "
                  f"{r['latency_p95_ms']:.1f} | {r['compute_ms_median']:.1f} | "
                  f"{1.5 * r['compute_ms_median'] + 1000.0 / 30:.1f} |", flush=True)
            if args.json:
                print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
