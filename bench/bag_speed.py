"""`bag` throughput against `bench` on the same clip, and `--jobs 2` against one after the
other: builds rosbag2 bags (MCAP, raw bgr8) of the 300-frame structuralize clip in a temporary
folder, then times the commands. The figures are in the README.

    python bench/bag_speed.py [--frames 300]
"""
import argparse
import contextlib
import io
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))
from test_bag import CLIP, frames, make_bag  # noqa: E402  (the tests' bag builder)

from pose_estimation_ros.cli.main import main as cli  # noqa: E402


def _quiet(args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(args) == 0, args
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    images = frames(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("a", "b"):
            make_bag(tmp / name, images, storage="mcap")
        fps = float(re.search(r"fps=([\d.]+)", _quiet(["bench", str(CLIP), "--frames",
                                                       str(args.frames)])).group(1))
        start = time.perf_counter()
        _quiet(["bag", str(tmp / "a"), "--output", str(tmp / "one"), "--no-progress"])
        one = time.perf_counter() - start
        print(f"bench: {fps:.1f} fps; bag: {len(images) / one:.1f} fps "
              f"({len(images)} frames in {one:.2f} s, models loaded included) = "
              f"{len(images) / one / fps:.2f} of bench")
        start = time.perf_counter()
        _quiet(["bag", str(tmp / "a"), str(tmp / "b"), "--output", str(tmp / "seq"),
                "--no-progress"])
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        _quiet(["bag", str(tmp / "a"), str(tmp / "b"), "--output", str(tmp / "par"),
                "--jobs", "2", "--no-progress"])
        parallel = time.perf_counter() - start
        print(f"two bags: one after the other {sequential:.2f} s, --jobs 2 {parallel:.2f} s "
              f"({sequential / parallel:.2f}x)")


if __name__ == "__main__":
    main()
