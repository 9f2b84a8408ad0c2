"""Person recall and false boxes of both detectors against `det_score`, on every labelled set.

    python bench/det_score.py [--thresholds 0.2,0.3,0.4,0.5]

For each set (COCO, OCHuman, Human-Art, PoseTrack18 frames of `../shared/data/mmpose_tests`),
each detector (rtmdet-nano, yolox-nano) and each threshold: the labelled people (annotations
with keypoints, not crowds) found by a box of IoU ≥ 0.5 (greedy, best score first), and the
boxes that match nobody labelled, per image. Unlabelled people in these images count as false
boxes, so the false-box column is an upper bound.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np

from pose_estimation_ros.core.timing import StageTimer
from pose_estimation_ros.pipelines.detection import DETECTORS, DetectorConfig, PersonDetector
from pose_estimation_ros.vision.nms import iou_matrix

#: the test data folder (`test/fetch_test_data.py`), else ../shared beside the checkout
TESTS = Path(os.environ.get("POSE_ESTIMATION_TEST_DATA")
             or Path(__file__).resolve().parents[2] / "shared") / "data" / "mmpose_tests"
SETS = {"COCO": ("coco/test_coco.json", "coco"),
        "OCHuman": ("ochuman/test_ochuman.json", "ochuman"),
        "Human-Art": ("humanart/test_humanart.json", "humanart"),
        "PoseTrack18": ("posetrack18/annotations/test_posetrack18_val.json", "posetrack18")}


def labelled(path: Path, root: Path) -> list[tuple[Path, np.ndarray]]:
    """(image file, [P,4] x1 y1 x2 y2 of its labelled people) per image."""
    data = json.loads(path.read_text())
    people: dict[int, list] = {}
    for a in data["annotations"]:
        if a.get("num_keypoints", 0) > 0 and not a.get("iscrowd"):
            x, y, w, h = a["bbox"]
            people.setdefault(a["image_id"], []).append([x, y, x + w, y + h])
    out = []
    for image in data["images"]:
        name = Path(image["file_name"])
        # Human-Art's names start HumanArt/images/, the folder here starts below it
        tail = Path(*name.parts[2:]) if name.parts[:2] == ("HumanArt", "images") else name
        file = next((p for p in (root / name, root / tail) if p.is_file()), None)
        if file is not None:
            out.append((file, np.asarray(people.get(image["id"], []), np.float32)))
    return out


def matched(boxes: np.ndarray, truth: np.ndarray) -> int:
    """Labelled people found, one box each (boxes best first)."""
    if not len(boxes) or not len(truth):
        return 0
    iou, free, found = iou_matrix(boxes, truth), np.ones(len(truth), bool), 0
    for row in iou:
        j = int(np.argmax(np.where(free, row, -1.0)))
        if free[j] and row[j] >= 0.5:
            free[j], found = False, found + 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--thresholds", default="0.2,0.3,0.4,0.5")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    print("| set | images | people | detector | " + " | ".join(
        f"det_score {t}: found / false boxes per image" for t in thresholds) + " |")
    print("|---|---|---|---|" + "---|" * len(thresholds))
    for detector in DETECTORS:
        model = PersonDetector(DetectorConfig(model=detector, score_threshold=min(thresholds),
                                              max_people=100))
        for name, (labels, root) in SETS.items():
            images = labelled(TESTS / labels, TESTS / root)
            people = sum(len(t) for _, t in images)
            found, false = np.zeros(len(thresholds)), np.zeros(len(thresholds))
            for file, truth in images:
                boxes, scores = model(cv2.imread(str(file)), StageTimer())
                for k, t in enumerate(thresholds):
                    keep = boxes[scores >= t]
                    hits = matched(keep, truth)
                    found[k] += hits
                    false[k] += len(keep) - hits
            cells = " | ".join(f"{int(f)} of {people} ({100 * f / max(people, 1):.0f}%) / "
                               f"{x / len(images):.1f}" for f, x in zip(found, false))
            print(f"| {name} | {len(images)} | {people} | {detector} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
