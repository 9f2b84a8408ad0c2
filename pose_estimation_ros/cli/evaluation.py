"""Accuracy on COCO-format keypoint annotations: OKS AP (pycocotools) and PCK@0.2.

Every head is mapped to COCO-17 through its topology table. PCK@0.2: a labelled keypoint is
correct when it lies within 0.2 × the longer side of its person's GT box; each GT person is
matched to the prediction with the highest OKS (unmatched people count as all wrong).
"""
from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.results import FrameResult
from ..core.topology import COCO17, get_topology, to_coco17
from ..vision.imaging import read_image
from ..vision.nms import oks_matrix


@dataclass
class EvalResult:
    ap: float
    ap50: float
    pck: float
    persons: int
    images: int

    def line(self) -> str:
        return (f"AP={self.ap:.3f} AP50={self.ap50:.3f} PCK@0.2={self.pck:.3f} "
                f"persons={self.persons} images={self.images}")


def oks(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, area: float) -> float:
    """Object keypoint similarity of one [17,2] prediction with one GT person."""
    if not np.any(visible):
        return 0.0
    return float(oks_matrix(gt[None], pred[None], [area], COCO17.sigmas, visible[None])[0, 0])


def _coco_keypoints(result: FrameResult):
    topology = get_topology(result.topology)
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


def evaluate(annotations: str | Path, images_dir: str | Path, predict,
             progress: bool = False, joints: np.ndarray | None = None,
             unlabelled: str | Path | None = None) -> EvalResult:
    """`predict(image, gt_boxes_xyxy)` → FrameResult for one image.

    `joints` ([17] bool) restricts the evaluation to the COCO joints a head has (MPII-16 heads
    have no face joints): the others are removed from the ground truth. People left without
    a labelled joint are not counted. `unlabelled`: a file of people the annotations leave out
    (see `_add_unlabelled`); detections on them are ignored instead of counted as false
    positives. Neither PCK nor the GT boxes change with it."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(annotations))
        if joints is not None:
            coco.dataset = _only_joints(coco.dataset, np.asarray(joints, bool))
        if unlabelled is not None:
            coco.dataset = _add_unlabelled(coco.dataset, unlabelled)
        if joints is not None or unlabelled is not None:
            coco.createIndex()
    image_ids = sorted(coco.getImgIds())
    detections, correct, labelled, persons = [], 0, 0, 0
    iterator = image_ids
    if progress:
        from tqdm import tqdm

        iterator = tqdm(image_ids, desc="eval", unit="img")
    for image_id in iterator:
        info = coco.loadImgs(image_id)[0]
        image = read_image(Path(images_dir) / info["file_name"])
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False))
                if a.get("num_keypoints", 0) > 0]
        boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                           a["bbox"][1] + a["bbox"][3]] for a in anns], np.float32).reshape(-1, 4)
        result = predict(image, boxes)
        preds = []
        for person, kps, scores, have in _coco_keypoints(result):
            flat = np.concatenate([kps, np.where(have, 1.0, 0.0)[:, None]], axis=1)
            detections.append({"image_id": image_id, "category_id": 1,
                               "keypoints": flat.ravel().round(3).tolist(),
                               "score": float(person.score * np.mean(scores[have]))})
            preds.append(kps)
        for ann in anns:
            gt = np.asarray(ann["keypoints"], np.float32).reshape(-1, 3)
            visible = gt[:, 2] > 0
            persons += 1
            labelled += int(visible.sum())
            if not preds:
                continue
            sims = [oks(p, gt[:, :2], visible, ann["area"]) for p in preds]
            best = preds[int(np.argmax(sims))]
            limit = 0.2 * max(ann["bbox"][2], ann["bbox"][3])
            dist = np.linalg.norm(best - gt[:, :2], axis=1)
            correct += int(np.sum(visible & (dist <= limit)))
    ap = ap50 = 0.0
    if detections:
        with contextlib.redirect_stdout(io.StringIO()):
            found = coco.loadRes(detections)
            ev = COCOeval(coco, found, "keypoints")
            ev.params.kpt_oks_sigmas = np.asarray(COCO17.sigmas)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        ap, ap50 = float(max(ev.stats[0], 0.0)), float(max(ev.stats[1], 0.0))
    return EvalResult(ap, ap50, correct / max(labelled, 1), persons, len(image_ids))
