"""Accuracy on COCO-format keypoint annotations: OKS AP (pycocotools) and PCK@0.2.

Every head is mapped to COCO-17 through its topology table. PCK@0.2: a labelled keypoint is
correct when it lies within 0.2 × the longer side of its person's GT box. Predictions are
matched to labelled people one-to-one, greedily in order of their score as COCO's evaluation
does (each takes the unmatched person it overlaps most by OKS); a person no prediction
takes counts as all wrong. PCK is also given for the predictions at or above the working
score threshold (the pipelines' default detector score), which is what a robot would see.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.results import FrameResult
from ..core.topology import COCO17, to_coco17
from ..pipelines.base import DET_SCORE
from ..vision.imaging import read_image
from ..vision.nms import oks_matrix

log = logging.getLogger(__name__)


class AnnotationError(ValueError):
    """An annotation file that cannot be evaluated; the message names the file and why."""


@dataclass
class ImageScore:
    file_name: str
    persons: int
    predictions: int
    ap: float  # -1 where COCO's evaluation has nothing to rank
    pck: float
    matched: int


@dataclass
class EvalResult:
    ap: float
    ap50: float
    pck: float
    persons: int
    images: int
    #: PCK counting only the predictions whose person score reaches `working_score`
    pck_working: float = 0.0
    working_score: float = DET_SCORE
    per_image: list[ImageScore] = field(default_factory=list)

    def line(self) -> str:
        return (f"AP={self.ap:.3f} AP50={self.ap50:.3f} PCK@0.2={self.pck:.3f} "
                f"persons={self.persons} images={self.images}")


def oks(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, area: float) -> float:
    """Object keypoint similarity of one [17,2] prediction with one GT person."""
    if not np.any(visible):
        return 0.0
    return float(oks_matrix(gt[None], pred[None], [area], COCO17.sigmas, visible[None])[0, 0])


def load_annotations(path: str | Path) -> dict:
    """A COCO keypoint file, checked: what cannot be evaluated is an AnnotationError naming
    the file; an annotation of an unknown image is left out with a warning."""
    path = Path(path)
    if not path.exists():
        raise AnnotationError(f"annotation file {path} does not exist")
    if not path.is_file():
        raise AnnotationError(f"annotation file {path} is a directory, not a COCO JSON file")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationError(f"annotation file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AnnotationError(f"annotation file {path} holds a JSON {type(data).__name__}, "
                              "not a COCO object with 'images' and 'annotations'")
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise AnnotationError(f"annotation file {path} has no '{key}' list (a COCO "
                                  "keypoint file has 'images', 'annotations', 'categories')")
    images = {}
    for im in data["images"]:
        if not isinstance(im, dict) or "id" not in im or "file_name" not in im:
            raise AnnotationError(f"{path}: every image needs 'id' and 'file_name': {im!r}")
        images[im["id"]] = im
    kept = []
    for i, ann in enumerate(data["annotations"]):
        name = f"{path}: annotation {ann.get('id', i) if isinstance(ann, dict) else i}"
        if not isinstance(ann, dict) or not {"image_id", "bbox", "keypoints"} <= ann.keys():
            raise AnnotationError(f"{name} needs 'image_id', 'bbox' and 'keypoints'")
        if len(ann["keypoints"]) != 51:
            raise AnnotationError(f"{name} has {len(ann['keypoints'])} keypoint values; COCO-17 "
                                  "needs 51 (x, y, visibility × 17)")
        if len(ann["bbox"]) != 4:
            raise AnnotationError(f"{name}: bbox must be [x, y, w, h], not {ann['bbox']}")
        if ann["image_id"] not in images:
            log.warning("%s refers to image_id %s, which is not in 'images': left out",
                        name, ann["image_id"])
            continue
        labelled = int(np.sum(np.asarray(ann["keypoints"]).reshape(17, 3)[:, 2] > 0))
        kept.append({"id": ann.get("id", i + 1), "category_id": 1, "iscrowd": 0,
                     "area": float(ann["bbox"][2]) * float(ann["bbox"][3]), **ann,
                     "num_keypoints": ann.get("num_keypoints", labelled)})
    data = {**data, "annotations": kept,
            "categories": data.get("categories") or [{"id": 1, "name": "person"}]}
    if not any(a["num_keypoints"] > 0 for a in kept):
        log.warning("%s has no person with labelled keypoints: AP and PCK mean nothing here",
                    path)
    return data


def _coco_keypoints(result: FrameResult):
    topology = result.topology
    for person in result.people:
        kps, scores, have = to_coco17(topology, person.keypoints, person.keypoint_scores)
        yield person, kps, scores, have


def _only_joints(dataset: dict, joints: np.ndarray) -> dict:
    """A copy of a COCO keypoint dataset whose labels outside `joints` are removed."""
    out = dict(dataset)
    out["annotations"] = []
    for ann in dataset["annotations"]:
        kps = np.asarray(ann["keypoints"], np.float32).reshape(-1, 3)
        kps[~joints] = 0
        out["annotations"].append({**ann, "keypoints": kps.ravel().tolist(),
                                   "num_keypoints": int(np.sum(kps[:, 2] > 0))})
    return out


def _add_unlabelled(dataset: dict, path: str | Path) -> dict:
    """A copy of `dataset` with the people listed in `path` (file_name, bbox [x, y, w, h])
    added as box-only annotations (num_keypoints 0), which COCOeval ignores."""
    people = json.loads(Path(path).read_text())["people"]
    ids = {im["file_name"]: im["id"] for im in dataset["images"]}
    next_id = max((a["id"] for a in dataset["annotations"]), default=0) + 1
    out = dict(dataset)
    out["annotations"] = list(dataset["annotations"])
    for i, person in enumerate(people):
        if person["file_name"] not in ids:
            raise ValueError(f"{path}: {person['file_name']} is not an image of the annotations")
        x, y, w, h = (float(v) for v in person["bbox"])
        out["annotations"].append({
            "id": next_id + i, "image_id": ids[person["file_name"]], "category_id": 1,
            "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0, "num_keypoints": 0,
            "keypoints": [0] * 51})
    return out


def match_people(preds: list[np.ndarray], scores: list[float], anns: list[dict]) -> list[int]:
    """For each labelled person the index of the prediction matched to it (−1: none):
    predictions in descending score take the unmatched person of highest OKS (> 0)."""
    owner = [-1] * len(anns)
    for pi in sorted(range(len(preds)), key=lambda i: -scores[i]):
        best, best_oks = -1, 0.0
        for gi, ann in enumerate(anns):
            if owner[gi] >= 0:
                continue
            gt = np.asarray(ann["keypoints"], np.float32).reshape(-1, 3)
            sim = oks(preds[pi], gt[:, :2], gt[:, 2] > 0, ann["area"])
            if sim > best_oks:
                best, best_oks = gi, sim
        if best >= 0:
            owner[best] = pi
    return owner


def _pck(preds, anns, owner) -> tuple[int, int]:
    correct = labelled = 0
    for ann, pi in zip(anns, owner):
        gt = np.asarray(ann["keypoints"], np.float32).reshape(-1, 3)
        visible = gt[:, 2] > 0
        labelled += int(visible.sum())
        if pi < 0:
            continue
        limit = 0.2 * max(ann["bbox"][2], ann["bbox"][3])
        dist = np.linalg.norm(preds[pi] - gt[:, :2], axis=1)
        correct += int(np.sum(visible & (dist <= limit)))
    return correct, labelled


def _coco_ap(coco, detections: list[dict], image_ids: list | None = None) -> tuple[float, float]:
    if not detections:
        return 0.0, 0.0
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        found = coco.loadRes(detections)
        ev = COCOeval(coco, found, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(COCO17.sigmas)
        if image_ids is not None:
            ev.params.imgIds = image_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0]), float(ev.stats[1])


def evaluate(annotations: str | Path, images_dir: str | Path, predict,
             progress: bool = False, joints: np.ndarray | None = None,
             unlabelled: str | Path | None = None, per_image: bool = False,
             working_score: float = DET_SCORE, gt_boxes: bool = False) -> EvalResult:
    """`predict(image, gt_boxes_xyxy)` → FrameResult for one image.

    `joints` ([17] bool) restricts the evaluation to the COCO joints a head has (MPII-16 heads
    have no face joints): the others are removed from the ground truth. People left without
    a labelled joint are not counted. `unlabelled`: a file of people the annotations leave out
    (see `_add_unlabelled`); detections on them are ignored instead of counted as false
    positives. Neither PCK nor the GT boxes change with it. `per_image`: AP and PCK of each
    image as well (`EvalResult.per_image`). `gt_boxes`: `predict` returns one person per GT
    box, in order, and each is the prediction of that box's person."""
    coco = _index(annotations, joints, unlabelled)
    image_ids = sorted(coco.getImgIds())
    detections, rows = [], []
    totals = np.zeros(4, int)  # correct, labelled, correct at the working score, persons
    iterator = image_ids
    if progress:
        from tqdm import tqdm

        iterator = tqdm(image_ids, desc="eval", unit="img")
    for image_id in iterator:
        info = coco.loadImgs(image_id)[0]
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False))
                if a.get("num_keypoints", 0) > 0]
        boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                           a["bbox"][1] + a["bbox"][3]] for a in anns], np.float32).reshape(-1, 4)
        result = predict(read_image(Path(images_dir) / info["file_name"]), boxes)
        found = _Predictions.of(result, image_id)
        owner, sure_owner = found.owners(anns, gt_boxes, working_score, info["file_name"])
        correct, labelled = _pck(found.poses, anns, owner)
        correct_sure, _ = _pck(found.poses, anns, sure_owner)
        totals += (correct, labelled, correct_sure, len(anns))
        if per_image:
            ap = _coco_ap(coco, found.detections, [image_id])[0] if anns else -1.0
            rows.append(ImageScore(info["file_name"], len(anns), len(found.poses), ap,
                                   correct / max(labelled, 1), sum(o >= 0 for o in owner)))
        detections += found.detections
    ap, ap50 = (max(v, 0.0) for v in _coco_ap(coco, detections))
    return EvalResult(ap, ap50, totals[0] / max(totals[1], 1), int(totals[3]), len(image_ids),
                      totals[2] / max(totals[1], 1), working_score, rows)


def _index(annotations, joints, unlabelled):
    """The checked annotations as a pycocotools index."""
    from pycocotools.coco import COCO

    dataset = load_annotations(annotations)
    if joints is not None:
        dataset = _only_joints(dataset, np.asarray(joints, bool))
    if unlabelled is not None:
        dataset = _add_unlabelled(dataset, unlabelled)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
    return coco


@dataclass
class _Predictions:
    """One image's poses in COCO-17, their scores, their persons' scores and COCO records."""

    poses: list[np.ndarray]
    scores: list[float]
    box_scores: list[float]
    detections: list[dict]

    @classmethod
    def of(cls, result: FrameResult, image_id) -> _Predictions:
        found = cls([], [], [], [])
        for person, kps, kp_scores, have in _coco_keypoints(result):
            flat = np.concatenate([kps, np.where(have, 1.0, 0.0)[:, None]], axis=1)
            score = float(person.score * np.mean(kp_scores[have]))
            found.detections.append({"image_id": image_id, "category_id": 1,
                                     "keypoints": flat.ravel().round(3).tolist(),
                                     "score": score})
            found.poses.append(kps)
            found.scores.append(score)
            found.box_scores.append(float(person.score))
        return found

    def owners(self, anns: list[dict], gt_boxes: bool, working_score: float,
               name: str) -> tuple[list[int], list[int]]:
        """The prediction of each labelled person (−1: none), with every prediction and with
        those at the working score."""
        if gt_boxes:
            if len(self.poses) != len(anns):
                raise ValueError(f"{name}: {len(self.poses)} poses for {len(anns)} GT boxes")
            owner = list(range(len(anns)))
            return owner, [i if self.box_scores[i] >= working_score else -1 for i in owner]
        owner = match_people(self.poses, self.scores, anns)
        sure = [i for i, s in enumerate(self.box_scores) if s >= working_score]
        return owner, [sure[o] if o >= 0 else -1 for o in match_people(
            [self.poses[i] for i in sure], [self.scores[i] for i in sure], anns)]


def per_image_table(result: EvalResult) -> str:
    lines = ["| image | people | predictions | matched | AP | PCK@0.2 |",
             "|---|---|---|---|---|---|"]
    for r in result.per_image:
        ap = f"{r.ap:.3f}" if r.ap >= 0 else "–"
        lines.append(f"| {r.file_name} | {r.persons} | {r.predictions} | {r.matched} | {ap} | "
                     f"{r.pck:.3f} |")
    return "\n".join(lines)
