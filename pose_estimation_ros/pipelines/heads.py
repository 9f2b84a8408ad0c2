"""Top-down pose heads described as data, and their decoders.

A head is a pose model that looks at one person crop. Its row in `HEADS` says which model file,
how the crop is cut (padding, aspect from the model's input size, border), which decoder (a
function beside it) reads the outputs and which topology the keypoints are in. `PoseHead` runs
every crop of a frame in one call when the model has a dynamic batch axis, else one call per
crop.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.results import Person
from ..core.timing import StageTimer
from ..core.topology import get_topology
from ..models.runtime import ModelPool, RuntimeOptions, open_model
from ..vision.crops import (
    RotatedRect,
    box_rect,
    crop_batch,
    crop_points_to_image,
    pad_outside_boxes,
    to_input,
)
from .blazepose_decode import decode_landmarks, landmarks_person


@dataclass(frozen=True)
class HeadSpec:
    id: str  # the name on the command line (`--pose`)
    model: str  # model id in the store
    #: outputs of a batch → people (see `Decoder`)
    decoder: Decoder
    topology: str
    #: the box is enlarged by this factor before the crop (RTMPose's 1.25; the others square)
    padding: float = 1.25
    #: "constant" (the model's pad value) or "replicate" (BlazePose, like MediaPipe)
    border: str = "constant"
    #: what the crop shows outside the padded box: "image" (RTMPose and BlazePose, trained on
    #: crops with context) or "pad" (MoveNet, EfficientPose). A square input widens a standing
    #: person's box ~2.5 times, and MoveNet then often picks the neighbour (two people hugging
    #: give one pose, not two); BlazePose finds both either way.
    outside_box: str = "image"
    simcc_split: float = 2.0
    #: heatmap channel of each topology keypoint, where the model's order differs
    channel_order: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.border not in ("constant", "replicate") or self.outside_box not in ("image",
                                                                                    "pad"):
            raise ValueError(f"head {self.id}: border must be constant|replicate and "
                             "outside_box image|pad")


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split: float):
    """SimCC: argmax per axis / split ratio; score = mean of the two maxima; location −1
    where the score is ≤ 0 (MMPose's convention). Returns [N,K,2] crop pixels, [N,K] scores."""
    xy = np.stack([simcc_x.argmax(-1), simcc_y.argmax(-1)], axis=-1).astype(np.float32) / split
    scores = 0.5 * (simcc_x.max(-1) + simcc_y.max(-1))
    xy[scores <= 0] = -1.0
    return xy, np.maximum(scores, 0.0).astype(np.float32)


def decode_regression(out: np.ndarray, in_w: int, in_h: int):
    """MoveNet: [N,1,K,3] (y, x, score) normalised to the input → crop pixels, scores."""
    rows = out.reshape(out.shape[0], -1, 3)
    xy = np.stack([rows[..., 1] * in_w, rows[..., 0] * in_h], axis=-1)
    return xy.astype(np.float32), rows[..., 2].astype(np.float32)


def decode_heatmap(heatmaps: np.ndarray, channel_order=None):
    """[N,H,W,C] heatmaps → argmax with the classic quarter-pixel shift towards the higher
    neighbour. These heatmaps are already at input resolution, where DARK's Gaussian fit gains
    a fraction of a crop pixel at several times the cost, so the quarter shift is enough."""
    if channel_order is not None:
        heatmaps = heatmaps[..., list(channel_order)]
    n, h, w, k = heatmaps.shape
    flat = heatmaps.reshape(n, h * w, k)
    idx = flat.argmax(axis=1)  # [N, K]
    scores = np.take_along_axis(flat, idx[:, None, :], axis=1)[:, 0, :]
    ys, xs = np.divmod(idx, w)
    xy = np.stack([xs, ys], axis=-1).astype(np.float32)
    b, c = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    inner_x = (xs > 0) & (xs < w - 1)
    inner_y = (ys > 0) & (ys < h - 1)
    xl, xr = np.clip(xs - 1, 0, w - 1), np.clip(xs + 1, 0, w - 1)
    yu, yd = np.clip(ys - 1, 0, h - 1), np.clip(ys + 1, 0, h - 1)
    dx = np.sign(heatmaps[b, ys, xr, c] - heatmaps[b, ys, xl, c])
    dy = np.sign(heatmaps[b, yd, xs, c] - heatmaps[b, yu, xs, c])
    xy[..., 0] += np.where(inner_x, 0.25 * dx, 0.0)
    xy[..., 1] += np.where(inner_y, 0.25 * dy, 0.0)
    return xy, np.clip(scores, 0.0, 1.0).astype(np.float32)


def _crop_people(xy, kp_scores, crop: Crops) -> list[Person]:
    in_w, in_h = crop.input_size
    return [Person(bbox=np.asarray(box[:4], np.float32), score=float(score),
                   keypoints=crop_points_to_image(xy[i], rect, in_w, in_h),
                   keypoint_scores=kp_scores[i],
                   visibility=np.full(len(kp_scores[i]), np.nan, np.float32))
            for i, (rect, box, score) in enumerate(zip(crop.rects, crop.boxes, crop.scores))]


@dataclass
class Crops:
    """What a decoder needs besides the outputs: the crops' regions, boxes, box scores."""

    rects: list
    boxes: np.ndarray
    scores: np.ndarray
    input_size: tuple[int, int]


#: (outputs by role, head, crops) → one Person per crop, in image pixels
Decoder = Callable[[dict, "HeadSpec", Crops], list[Person]]


def simcc_people(out: dict, head: HeadSpec, crop: Crops) -> list[Person]:
    return _crop_people(*decode_simcc(out["simcc_x"], out["simcc_y"], head.simcc_split), crop)


def regression_people(out: dict, head: HeadSpec, crop: Crops) -> list[Person]:
    return _crop_people(*decode_regression(out["keypoints"], *crop.input_size), crop)


def heatmap_people(out: dict, head: HeadSpec, crop: Crops) -> list[Person]:
    return _crop_people(*decode_heatmap(out["heatmaps"], head.channel_order), crop)


def blazepose_people(out: dict, head: HeadSpec, crop: Crops) -> list[Person]:
    return [landmarks_person(decode_landmarks(out["landmarks"][i], out["pose_flag"][i],
                                              out["heatmap"][i], out["world"][i], rect,
                                              crop.input_size[0]), box, score)
            for i, (rect, box, score) in enumerate(zip(crop.rects, crop.boxes, crop.scores))]


#: EfficientPose's channels: head_top, upper_neck, r_shoulder, r_elbow, r_wrist, thorax,
#: l_shoulder, l_elbow, l_wrist, pelvis, r_hip, r_knee, r_ankle, l_hip, l_knee, l_ankle.
_EFFICIENTPOSE_TO_MPII = (12, 11, 10, 13, 14, 15, 9, 5, 1, 0, 4, 3, 2, 6, 7, 8)

HEADS: dict[str, HeadSpec] = {h.id: h for h in (
    *(HeadSpec(f"rtmpose-{s}", f"rtmpose-{s}", simcc_people, "coco17") for s in "tsml"),
    HeadSpec("movenet-lightning", "movenet-lightning", regression_people, "coco17",
             outside_box="pad"),
    HeadSpec("movenet-thunder", "movenet-thunder", regression_people, "coco17",
             outside_box="pad"),
    *(HeadSpec(f"blazepose-{v}", f"blazepose-landmark-{v}-batch", blazepose_people,
               "blazepose33", border="replicate") for v in ("lite", "full", "heavy")),
    HeadSpec("efficientpose-ii-lite", "efficientpose-ii-lite", heatmap_people, "mpii16",
             channel_order=_EFFICIENTPOSE_TO_MPII, outside_box="pad"),
)}


def get_head(head_id: str) -> HeadSpec:
    try:
        return HEADS[head_id]
    except KeyError:
        raise ValueError(f"unknown pose head {head_id!r}; choose from {sorted(HEADS)}") from None


class PoseHead:
    """Crops every box of a frame, runs the pose model, decodes to image pixels."""

    def __init__(self, head_id: str, runtime: RuntimeOptions | None = None, model=None,
                 pool: ModelPool | None = None):
        self.spec = get_head(head_id)
        self.model = model if model is not None else open_model(self.spec.model, runtime, pool)
        self.topology = get_topology(self.spec.topology)
        w, h = self.model.spec.input_size
        self.aspect = w / h

    @property
    def batched(self) -> bool:
        return self.model.spec.dynamic_batch

    def rects(self, boxes: np.ndarray) -> list[RotatedRect]:
        return [box_rect(b, self.aspect, self.spec.padding) for b in boxes]

    def preprocess(self, bgr: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray,
                                                                       list[RotatedRect]]:
        """The model input for every box, and the crop regions."""
        rects = self.rects(boxes)
        crops = crop_batch(bgr, rects, self.model.spec, self.spec.border)
        if self.spec.outside_box == "pad":
            pad_outside_boxes(crops, rects, boxes, self.spec.padding, self.model.spec.pad_value)
        return to_input(crops, self.model.spec), rects

    def infer(self, x: np.ndarray, batched: bool | None = None) -> tuple[dict, float]:
        """Outputs for the whole batch by role and the milliseconds inside ONNX Runtime: one
        call when the model takes a batch (or `batched` says so), else one call per crop."""
        if self.batched if batched is None else batched:
            out = self.model.run(x)
            return out, self.model.last_ms
        parts, ms = [], 0.0
        for i in range(len(x)):
            parts.append(self.model.run(x[i:i + 1]))
            ms += self.model.last_ms
        return {role: np.concatenate([p[role] for p in parts]) for role in parts[0]}, ms

    def __call__(self, bgr: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
                 timer: StageTimer) -> list[Person]:
        if len(boxes) == 0:
            return []
        with timer.stage("preprocess"):
            x, rects = self.preprocess(bgr, boxes)
        outputs, ms = self.infer(x)
        timer.add(f"model:{self.model.spec.id}", ms)
        with timer.stage("postprocess"):
            return self.decode(outputs, rects, boxes, scores)

    def decode(self, outputs: dict, rects: list[RotatedRect], boxes: np.ndarray,
               scores: np.ndarray) -> list[Person]:
        crops = Crops(rects, boxes, scores, self.model.spec.input_size)
        return self.spec.decoder(outputs, self.spec, crops)
