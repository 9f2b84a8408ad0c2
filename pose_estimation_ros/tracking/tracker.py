"""Tracking layer for video: track ids, Kalman prediction, One-Euro smoothing, skip-frame boxes.

Stages, in order, for each frame (all settings in `TrackerConfig`):
1. predict every track one frame ahead (constant-velocity Kalman over box and keypoints);
2. pose NMS on the frame's people (OKS with the topology's sigmas, IoU where it has none);
3. associate visible tracks by keypoint distance (gated by the mean squared Mahalanobis
   distance over the confident keypoints at the χ² 95% quantile for 2 degrees of freedom,
   ranked by the mean distance in person sizes), then the missing tracks by box IoU, each stage
   solved with `scipy.optimize.linear_sum_assignment`;
4. update matched tracks, start tentative tracks for the rest, age unmatched tracks (a missing
   confirmed track is predicted for up to `max_missing` frames, then lost);
5. smooth the keypoints of each track with its own One-Euro filter (restarted on track birth,
   on a time jump and when time runs backwards).
For the top-down pipeline the tracker also supplies the boxes of frames where the detector
does not run (`pose_boxes`) and says when it must run (`detection_due`).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.results import FrameResult, Person, bbox_of_keypoints
from ..core.topology import Topology
from ..vision.nms import iou_matrix, suppress_duplicate_people
from .kalman import KalmanParams, PoseKalman
from .smoothing import OneEuroFilter, OneEuroParams

CHI2_95_2DOF = 5.991
STATES = ("tentative", "confirmed", "predicted", "lost")
_INF = 1e9


@dataclass(frozen=True)
class TrackerConfig:
    #: run the person detector every N frames (1 = every frame); poses give the boxes between
    det_interval: int = 5
    #: pose-derived boxes: keypoints at or above this score, at least half of them, box × scale
    pose_box_min_score: float = 0.5
    pose_box_scale: float = 1.25
    #: detections overlapping a pose-derived box by more than this IoU are dropped
    det_merge_iou: float = 0.7
    #: OKS pose NMS threshold (IoU for topologies without OKS sigmas)
    pose_nms_threshold: float = 0.5
    #: keypoints at or above this score are matched, filtered and fed to the Kalman filter
    keypoint_min_score: float = 0.3
    match_gate: float = CHI2_95_2DOF
    missing_iou: float = 0.4
    max_missing: int = 10
    confirm_hits: int = 3
    #: report missing tracks with their predicted keypoints (scores 0, state "predicted")
    include_predicted: bool = False
    smoothing: bool = True
    #: cutoffs in Hz; the speed term is measured in person heights per second
    one_euro: OneEuroParams = OneEuroParams(min_cutoff=1.0, beta=20.0, d_cutoff=1.0,
                                            max_gap=1.0)
    kalman: KalmanParams = field(default_factory=KalmanParams)

    def __post_init__(self):
        for name in ("det_interval", "max_missing", "confirm_hits"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        for name in ("pose_box_min_score", "det_merge_iou", "pose_nms_threshold",
                     "keypoint_min_score", "missing_iou"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)}")
        if self.pose_box_scale < 1.0 or self.match_gate <= 0:
            raise ValueError("pose_box_scale must be >= 1 and match_gate > 0")


@dataclass
class Track:
    id: int
    kalman: PoseKalman
    filter: OneEuroFilter
    person: Person
    scale: float
    state: str = "tentative"
    hits: int = 1
    missed: int = 0


def _scale(box: np.ndarray) -> float:
    return max(float(box[2] - box[0]), float(box[3] - box[1]), 1.0)


def _measurement(person: Person, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    b = person.bbox
    box = [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]]
    z = np.concatenate([box, person.keypoints.reshape(-1)])
    seen = np.repeat(person.keypoint_scores >= min_score, 2)
    return z, np.concatenate([np.ones(4, bool), seen])


def _box_of_state(x: np.ndarray) -> np.ndarray:
    cx, cy, w, h = x[:4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


class Tracker:
    def __init__(self, config: TrackerConfig, topology: Topology):
        self.config = config
        self.topology = topology
        self.reset()

    def reset(self) -> None:
        self.tracks: list[Track] = []
        self._next_id = 0
        self.confirmed_ids: set[int] = set()
        self.lost_ids: list[int] = []  # lost during the last update
        #: the unsmoothed keypoints of each track seen in the last update
        self.raw_keypoints: dict[int, np.ndarray] = {}
        self._countdown = 0
        self._force = True

    # ---- skip-frame detection -------------------------------------------------------------
    def detection_due(self, pose_boxes: np.ndarray | None = None) -> bool:
        """Whether the detector must run on the next frame (`pose_boxes`: this frame's
        `pose_boxes()[0]` where the caller has them already). It must also when a visible
        track has no pose box (too few confident keypoints): else nothing would look for that
        person, and a tentative track would die on the miss."""
        if pose_boxes is None:
            pose_boxes = self.pose_boxes()[0]
        visible = sum(t.missed == 0 for t in self.tracks)
        return (self._force or self._countdown <= 0 or len(pose_boxes) == 0
                or len(pose_boxes) < visible)

    def note_frame(self, detector_ran: bool) -> None:
        self._countdown = self.config.det_interval - 1 if detector_ran else self._countdown - 1
        self._force = False

    def pose_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """Boxes for the next frame from the visible tracks' keypoints, moved one frame ahead
        by their velocity; [M,4] and the tracks' last scores."""
        cfg, need = self.config, math.ceil(self.topology.num_keypoints / 2)
        boxes, scores = [], []
        for t in self.tracks:
            good = t.person.keypoint_scores >= cfg.pose_box_min_score
            if t.missed or good.sum() < need:
                continue
            ahead = (t.kalman.x[4:] + t.kalman.v[4:]).reshape(-1, 2)
            boxes.append(bbox_of_keypoints(ahead, good.astype(np.float32), 0.5,
                                           cfg.pose_box_scale))
            scores.append(t.person.score)
        return (np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32))

    # ---- per frame --------------------------------------------------------------------------
    def update(self, result: FrameResult, stamp: float) -> FrameResult:
        cfg = self.config
        for t in self.tracks:
            t.kalman.predict(t.scale)
        people = suppress_duplicate_people(result.people, self.topology.sigmas,
                                           cfg.pose_nms_threshold)
        measurements = [_measurement(p, cfg.keypoint_min_score) for p in people]
        pairs, free = self._associate(people, measurements)
        self.lost_ids = []
        self.raw_keypoints = {}
        matched_tracks = set()
        out: list[Person] = []
        for ti, pi in pairs:
            track, person = self.tracks[ti], people[pi]
            matched_tracks.add(ti)
            track.scale = _scale(person.bbox)
            track.kalman.update(*measurements[pi], track.scale)
            track.hits += 1
            track.missed = 0
            if track.state != "confirmed" and track.hits >= cfg.confirm_hits:
                track.state = "confirmed"
            out.append(self._emit(track, person, stamp))
        survivors = []
        for ti, track in enumerate(self.tracks):
            if ti in matched_tracks:
                survivors.append(track)
                continue
            track.missed += 1
            self._force = True  # a missing person: look with the detector next frame
            if track.state == "tentative" or track.missed > cfg.max_missing:
                track.state = "lost"
                self.lost_ids.append(track.id)
                continue
            track.state = "predicted"
            survivors.append(track)
            if cfg.include_predicted:
                out.append(self._predicted_person(track))
        self.tracks = survivors
        for pi in free:
            track = self._start(people[pi], measurements[pi])
            out.append(self._emit(track, people[pi], stamp))
        self.confirmed_ids.update(t.id for t in self.tracks if t.state == "confirmed")
        return FrameResult(result.stamp, result.image_size, result.topology, out, result.timings)

    def _associate(self, people, measurements) -> tuple[list[tuple[int, int]], list[int]]:
        cfg = self.config
        free = list(range(len(people)))
        visible = [i for i, t in enumerate(self.tracks) if t.missed == 0]
        missing = [i for i, t in enumerate(self.tracks) if t.missed > 0]
        pairs: list[tuple[int, int]] = []
        if visible and free:
            maha, dist = self._keypoint_costs([self.tracks[ti] for ti in visible],
                                              [measurements[pi] for pi in free])
            pairs += self._solve(np.where(maha <= cfg.match_gate, dist, _INF), visible, free,
                                 _INF / 2)
            free = [p for p in free if p not in {pi for _, pi in pairs}]
        if missing and free:
            predicted = np.stack([_box_of_state(self.tracks[ti].kalman.x) for ti in missing])
            iou = iou_matrix(predicted, np.stack([people[pi].bbox for pi in free]))
            pairs += self._solve(1.0 - iou, missing, free, 1.0 - cfg.missing_iou)
            free = [p for p in free if p not in {pi for _, pi in pairs}]
        return pairs, free

    @staticmethod
    def _solve(cost: np.ndarray, rows: list[int], cols: list[int], gate: float):
        # imported here: scipy.optimize takes 0.6 s to import, and only video tracking needs it
        from scipy.optimize import linear_sum_assignment

        gated = np.where(cost <= gate, cost, _INF)
        r, c = linear_sum_assignment(gated)
        return [(rows[i], cols[j]) for i, j in zip(r, c) if gated[i, j] < _INF]

    @staticmethod
    def _keypoint_costs(tracks: list[Track], measurements: list):
        """Two [T, P] matrices between each track's prediction and each pose, over the pose's
        confident keypoints (the box centre where it has none): the mean squared Mahalanobis
        distance per keypoint (x and y together: 2 degrees of freedom), which gates, and the
        mean distance in units of the track's size, which ranks. Ranking by Mahalanobis
        distance alone would favour the least certain track (the fastest mover)."""
        x = np.array([t.kalman.x for t in tracks])[:, None]  # [T, 1, D]
        var = np.array([t.kalman.innovation_variance(t.scale) for t in tracks])[:, None]
        z = np.array([m[0] for m in measurements])[None]  # [1, P, D]
        seen = np.array([m[1][4::2] for m in measurements], np.float64)  # [P, K]
        scale = np.array([t.scale for t in tracks])[:, None]  # [T, 1]
        diff2 = (z - x) ** 2
        d2 = diff2 / var
        n = np.maximum(seen.sum(-1), 1)  # [P]
        maha = np.einsum("tpk,pk->tp", d2[..., 4::2] + d2[..., 5::2], seen) / n
        dist = np.einsum("tpk,pk->tp", np.sqrt(diff2[..., 4::2] + diff2[..., 5::2]), seen) / n
        none = ~seen.any(-1)  # poses without a confident keypoint: use the box centre
        if none.any():
            maha[:, none] = (d2[..., 0] + d2[..., 1])[:, none]
            dist[:, none] = np.sqrt(diff2[..., 0] + diff2[..., 1])[:, none]
        return maha, dist / scale

    def _start(self, person: Person, measurement) -> Track:
        track = Track(self._next_id, PoseKalman(measurement[0], _scale(person.bbox),
                                                self.config.kalman),
                      OneEuroFilter(self.config.one_euro), person, _scale(person.bbox))
        self._next_id += 1
        if self.config.confirm_hits <= 1:
            track.state = "confirmed"
        self.tracks.append(track)
        return track

    def _emit(self, track: Track, person: Person, stamp: float) -> Person:
        out = copy.copy(person)  # shallow: the arrays are replaced, never written in place
        out.track_id, out.track_state = track.id, track.state
        self.raw_keypoints[track.id] = person.keypoints
        if self.config.smoothing:
            out.keypoints = track.filter(person.keypoints, stamp,
                                         1.0 / track.scale).astype(np.float32)
        track.person = out
        return out

    def _predicted_person(self, track: Track) -> Person:
        kps = track.kalman.x[4:].reshape(-1, 2).astype(np.float32)
        return replace(track.person, bbox=_box_of_state(track.kalman.x), keypoints=kps,
                       keypoint_scores=np.zeros(len(kps), np.float32), track_id=track.id,
                       track_state="predicted")
