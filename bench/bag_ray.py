"""Bags per minute on this machine: the local backend (`--jobs 1`, `--jobs 2`) against Ray (a
local instance with 1 and 2 CPUs, one task per bag), the same bags and settings, and the time
to start the Ray runtime.

    POSE_ESTIMATION_MODELS=../shared/models python bench/bag_ray.py [--bags 8] [--frames 60]

Each configuration is the whole `bag` command as a new process (model loading and, for Ray,
starting its runtime included), so the difference is what a user waits for; the last line
prints the Ray overhead per bag against the local backend with the same parallelism.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bags", type=int, default=8)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--pipeline", default="blazepose")
    args = ap.parse_args()
    from test_bags import frames, make_bag

    work = Path(tempfile.mkdtemp(prefix="bag_ray_"))
    images = frames(args.frames + args.bags)
    for i in range(args.bags):
        make_bag(work / "in" / f"session{i:02d}", images[i:i + args.frames], storage="mcap")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import ray; ray.init(num_cpus=1, "
                    "include_dashboard=False); ray.shutdown()"], check=True,
                   capture_output=True)
    ray_start = time.perf_counter() - start
    rows = {}
    for name, extra in (("local --jobs 1", ["--jobs", "1"]), ("local --jobs 2", ["--jobs", "2"]),
                        ("ray, 1 CPU", ["--backend", "ray", "--jobs", "1"]),
                        ("ray, 2 CPUs", ["--backend", "ray", "--jobs", "2"])):
        out = work / name.replace(" ", "_").replace(",", "")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pose_estimation_ros", "bag",
                               str(work / "in"), "--output", str(out), "--pipeline",
                               args.pipeline, "--threads", "1", "--no-progress", *extra],
                              cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        assert done.returncode == 0, done.stderr
        rows[name] = seconds
        print(f"{name:16s} {seconds:6.1f} s  {60 * args.bags / seconds:5.1f} bags/minute "
              f"({args.bags} bags of {args.frames} frames, pipeline {args.pipeline})",
              flush=True)
    shutil.rmtree(work, ignore_errors=True)
    per_bag = [(rows[f"ray, {n}"] - rows[f"local --jobs {k}"]) / args.bags
               for n, k in (("1 CPU", 1), ("2 CPUs", 2))]
    print(f"ray_start_s={ray_start:.1f} ray_overhead_per_bag_s={per_bag[0]:.2f} (1 at a time), "
          f"{per_bag[1]:.2f} (2 at a time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
