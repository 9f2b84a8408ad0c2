"""Hand keypoint accuracy (`eval --hands FILE`): PCK@0.2 and the mean pixel error.

Two kinds of annotation file, told apart by their fields:
- hand crops (COCO format, one hand per annotation: 21 keypoints and its box): the box is
  given, the landmark model looks at it (`hands.stage.hands_in_boxes`);
- COCO-WholeBody (`lefthand_kpts`, `righthand_kpts`, `*_valid`, `*_box` on each person): the
  hands are found through the body pipeline, as the node finds them. People are matched to
  predictions by body OKS as in `evaluation`; a labelled hand is found when its person's
  prediction has a hand of the same side there (its keypoints' centre within the longer side
  of the GT hand box from the labelled keypoints' centre).

PCK@0.2: a labelled keypoint is correct within 0.2 × the longer side of its hand's GT box. A
hand not found (skipped with a reason, or no hand there by the landmark model) counts all its
labelled keypoints wrong: no made-up keypoints. EPE: the mean pixel distance of the labelled
keypoints of the hands found.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.results import FrameResult
from ..core.topology import to_coco17
from ..hands.stage import HandStage, hands_in_boxes
from ..vision.imaging import read_image
from .evaluation import AnnotationError, match_people

SIDES = ("left", "right")


@dataclass
class HandEvalResult:
    correct: int = 0
    labelled: int = 0
    errors: list = field(default_factory=list)  # pixel errors of the found hands' keypoints
    hands: int = 0  # labelled hands
    found: int = 0  # found with the right side
    wrong_side: int = 0  # only a hand of the other side where the labelled one is
    elsewhere: int = 0  # a hand of that side given, but not where the labelled one is
    images: int = 0
    skipped: Counter = field(default_factory=Counter)  # why hands were not found

    @property
    def pck(self) -> float:
        return self.correct / max(self.labelled, 1)

    @property
    def epe(self) -> float:
        return float(np.mean(self.errors)) if self.errors else float("nan")

    def add(self, predicted: np.ndarray | None, gt: np.ndarray, box) -> None:
        """One labelled hand: [21, 3] x, y, visibility; `predicted` [21, 2] or None."""
        visible = gt[:, 2] > 0
        self.hands += 1
        self.labelled += int(visible.sum())
        if predicted is None:
            return
        self.found += 1
        dist = np.linalg.norm(predicted[visible] - gt[visible, :2], axis=1)
        self.correct += int(np.sum(dist <= 0.2 * max(float(box[2]), float(box[3]))))
        self.errors += dist.tolist()

    def line(self) -> str:
        return (f"hand_PCK@0.2={self.pck:.3f} hand_EPE_px={self.epe:.2f} hands={self.hands} "
                f"images={self.images}")


def load_hand_annotations(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise AnnotationError(f"hand annotation file {path} does not exist") from None
    except (IsADirectoryError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationError(f"hand annotation file {path} is not a JSON file: {exc}") \
            from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations")):
        raise AnnotationError(f"{path}: a COCO object with 'images' and 'annotations' lists "
                              "is needed")
    return data


def is_wholebody(data: dict) -> bool:
    return any("lefthand_kpts" in a for a in data["annotations"])


def evaluate_crops(data: dict, images_dir: str | Path, stage: HandStage) -> HandEvalResult:
    """Hand crops: each annotation's hand in its given box."""
    images = {im["id"]: im for im in data["images"]}
    out = HandEvalResult(images=len({a["image_id"] for a in data["annotations"]}))
    for ann in data["annotations"]:
        gt = np.asarray(ann["keypoints"], np.float32).reshape(-1, 3)
        if gt.shape[0] != 21:
            raise AnnotationError(f"annotation {ann.get('id')} has {gt.shape[0]} keypoints; "
                                  "a hand has 21 (or give a COCO-WholeBody file)")
        if not np.any(gt[:, 2] > 0):
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        image = read_image(Path(images_dir) / images[ann["image_id"]]["file_name"])
        (points, presence), = hands_in_boxes(stage, image, np.array([[x, y, x + w, y + h]]))
        found = presence >= stage.config.min_presence
        if not found:
            out.skipped["no_hand"] += 1
        out.add(points if found else None, gt, ann["bbox"])
    return out


def evaluate_wholebody(data: dict, images_dir: str | Path, predict) -> HandEvalResult:
    """COCO-WholeBody: `predict(image)` → FrameResult with hands (the body pipeline and the
    hand stage); each labelled hand through its person's matched prediction."""
    by_image: dict = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    out = HandEvalResult()
    for info in data["images"]:
        anns = by_image.get(info["id"], [])
        if not any(_labelled_hands(a) for a in anns):
            continue
        out.images += 1
        result: FrameResult = predict(read_image(Path(images_dir) / info["file_name"]))
        out.skipped.update(result.hands_skipped)
        people = result.people
        poses = [to_coco17(result.topology, p.keypoints, p.keypoint_scores)[0] for p in people]
        # every person of the image takes part in the matching, not only those with hands
        body_anns = [{**a, "area": a.get("area", a["bbox"][2] * a["bbox"][3])} for a in anns]
        owner = match_people(poses, [p.score for p in people], body_anns)
        for ann, pi in zip(anns, owner):
            for side in _labelled_hands(ann):
                gt = np.asarray(ann[f"{side}hand_kpts"], np.float32).reshape(21, 3)
                box = ann[f"{side}hand_box"]
                near = {h.side: h for h in (people[pi].hands if pi >= 0 else [])
                        if _near(h.keypoints, gt, box)}
                hand = near.get(side)
                if hand is None and near:
                    out.wrong_side += 1
                elif hand is None and pi >= 0 and any(h.side == side for h in people[pi].hands):
                    out.elsewhere += 1
                out.add(None if hand is None else hand.keypoints, gt, box)
    return out


def _near(points: np.ndarray, gt: np.ndarray, box) -> bool:
    visible = gt[:, 2] > 0
    gap = np.linalg.norm(points.mean(axis=0) - gt[visible, :2].mean(axis=0))
    return bool(gap <= max(float(box[2]), float(box[3])))


def _labelled_hands(ann: dict) -> list[str]:
    """'left', 'right': the hands of a whole-body annotation that are valid and labelled."""
    return [s for s in SIDES if ann.get(f"{s}hand_valid") and
            np.any(np.asarray(ann.get(f"{s}hand_kpts", [0, 0, 0]))[2::3] > 0)]
