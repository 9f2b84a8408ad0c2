"""Hand keypoint accuracy of this project against MediaPipe 0.10.14's own hand landmarker on
the same hand crops (../shared/data/mmpose_tests/hands: FreiHAND, OneHand10K, CMU Panoptic).

MediaPipe runs in its own virtual environment (it needs OpenCV 5, this project pins OpenCV 4):

    python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14
    python bench/compare_mediapipe_hands.py --mediapipe-python /tmp/mpvenv/bin/python

Both are scored by `cli.hand_evaluation` (PCK@0.2 of the GT box's longer side; a hand not
found counts all its keypoints wrong). This project: `eval --hands` (the landmark model on the
GT box, then on the region its keypoints give). MediaPipe: its palm detector finds the hand
in the crop, its landmark model follows; of the hands it finds, the one nearest the GT box's
centre is scored.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pose_estimation_ros.cli.hand_evaluation import HandEvalResult, evaluate_crops  # noqa: E402
from pose_estimation_ros.core.topology import COCO17  # noqa: E402
from pose_estimation_ros.hands.stage import HandConfig, HandStage  # noqa: E402

HANDS = HERE.parent.parent / "shared" / "data" / "mmpose_tests" / "hands"
SETS = ("freihand", "onehand10k", "panoptic")


def mediapipe(python: str, folder: Path, data: dict) -> HandEvalResult:
    images = {im["id"]: str(folder / im["file_name"]) for im in data["images"]}
    anns = data["annotations"]
    with tempfile.TemporaryDirectory() as tmp:
        paths, out = Path(tmp) / "images.json", Path(tmp) / "out.json"
        paths.write_text(json.dumps([images[a["image_id"]] for a in anns]))
        subprocess.run([python, str(HERE / "mediapipe_hands_worker.py"), str(paths), str(out)],
                       check=True, capture_output=True)
        found = json.loads(out.read_text())
    result = HandEvalResult(images=len(images))
    for ann, hands in zip(anns, found):
        gt = np.asarray(ann["keypoints"], np.float32).reshape(21, 3)
        x, y, w, h = ann["bbox"]
        centre = np.array([x + w / 2, y + h / 2])
        best = min((np.asarray(k, np.float32) for k in hands), default=None,
                   key=lambda k: np.linalg.norm(k.mean(axis=0) - centre))
        result.add(best, gt, ann["bbox"])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mediapipe-python", required=True,
                    help="the Python of a venv with mediapipe==0.10.14")
    ap.add_argument("--variant", default="full", choices=("lite", "full"))
    args = ap.parse_args()
    stage = HandStage(replace(HandConfig(enabled=True, variant=args.variant), recrop=False),
                      COCO17)
    print(f"{'set':<11} {'hands':>5}  {'ours PCK@0.2':>12} {'EPE px':>7}  "
          f"{'MediaPipe PCK@0.2':>17} {'EPE px':>7} {'found':>6}")
    for name in SETS:
        data = json.loads((HANDS / name / f"test_{name}.json").read_text())
        ours = evaluate_crops(data, HANDS / name, stage)
        theirs = mediapipe(args.mediapipe_python, HANDS / name, data)
        print(f"{name:<11} {ours.hands:>5}  {ours.pck:>12.3f} {ours.epe:>7.2f}  "
              f"{theirs.pck:>17.3f} {theirs.epe:>7.2f} {theirs.found:>3}/{theirs.hands}")


if __name__ == "__main__":
    main()
