"""Tracking layer for video: track ids, Kalman prediction, One-Euro smoothing, and the boxes.

For pipelines that run on boxes (top-down) a frame is two calls, as in MMDeploy's PoseTracker:
1. `plan(detect)`: the tracker chooses this frame's boxes, each with the track it belongs to
   (a visible track's box from its keypoints moved one frame ahead), and whether the detector
   runs (`Detect.AUTO`: when due, see `plan`; `NEVER`, `FORCE` as MMDeploy's use_detect 0 / 1).
   On a detection frame `with_detections` gives each track the detection that overlaps it most
   (a missing track competes with its Kalman prediction), so the crop is the detector's box and
   the id travels with it; detections no track claims are new people. This is what keeps an
   identity through a short occlusion: the person's detection comes back with their id.
2. `update(result, stamp, plan)`: the poses come back in the plan's order. A pose cropped from a
   track's box belongs to that track unless the Kalman gate rejects it; the others are
   associated as below. Pipelines that find people themselves call `update(result, stamp)`.

Per frame (all settings in `TrackerConfig`): predict every track one frame ahead (constant
velocity Kalman over box and keypoints); pose NMS (OKS with the topology's sigmas, IoU where it
has none); the poses that carry a track id go to that track; the rest are associated with the
visible tracks by keypoint distance (gated by the mean squared Mahalanobis distance over the
confident keypoints at the χ² 95% quantile for 2 degrees of freedom, ranked by the mean distance
in person sizes), then with the missing tracks by box IoU, each step solved with
`scipy.optimize.linear_sum_assignment`; matched tracks are updated, unmatched poses start
tentative tracks (confirmed after `confirm_hits` frames, once one showed a plausible body:
`pose_box.plausible`), unmatched tracks age (a missing confirmed track is predicted for up to
`max_missing` frames, then lost); each track's keypoints are smoothed by its own One-Euro filter.
"""
from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import IntEnum

import numpy as np

from ..core.results import CONFIDENT, FrameResult, Person, TrackState
from ..core.topology import Topology
from ..vision.nms import iou_matrix, pose_nms_indices
from . import budget
from .association import box_of_state, keypoint_costs, measurement, scale_of
from .box_plan import BoxPlan, take
from .kalman import KalmanParams, PoseKalman
from .pose_box import BodyParts, plausible, pose_box
from .smoothing import OneEuroFilter, OneEuroParams

CHI2_95_2DOF = 5.991
_INF = 1e9


class Detect(IntEnum):
    """Detector control for one frame (MMDeploy PoseTracker's `use_detect`)."""

    AUTO = -1  # when the tracker says it is due
    NEVER = 0
    FORCE = 1


@dataclass(frozen=True)
class TrackerConfig:
    #: run the person detector every N frames (1 = every frame); poses give the boxes between
    det_interval: int = 5
    #: pose-derived boxes: keypoints at or above this score, at least half of them, box × scale
    #: (README "Tracking layer" has the figures behind each of these rules)
    pose_box_min_score: float = CONFIDENT
    pose_box_scale: float = 1.25
    #: while no ankle is confident, the box reaches this many torso sizes from the hips
    #: (MoveNet's crop rule, see pose_box.py; 0 = off)
    pose_box_torso: float = 1.9
    #: a detection overlapping a track's box (a missing track's: its Kalman prediction) by at
    #: least this IoU is that track's: the crop is the detector's box, the id the track's
    det_match_iou: float = 0.3
    #: OKS pose NMS threshold (IoU for topologies without OKS sigmas)
    pose_nms_threshold: float = 0.5
    #: keypoints at or above this score are matched, filtered and fed to the Kalman filter
    keypoint_min_score: float = CONFIDENT
    match_gate: float = CHI2_95_2DOF
    missing_iou: float = 0.4
    max_missing: int = 10
    confirm_hits: int = 3
    #: pose crops per frame at most (0: no limit); people left out are reported predicted
    #: (`tracking.budget` says who goes first)
    max_crops_per_frame: int = 0
    #: with a budget, every person is refreshed at least every this many frames (README
    #: "Crowds": 8 keeps the 3×3 clip at 0.68× the 1×1 rate with budget 3)
    max_refresh_interval: int = 8
    #: report missing tracks with their predicted keypoints (scores 0, state "predicted")
    include_predicted: bool = False
    smoothing: bool = True
    #: cutoffs in Hz; the speed term is measured in person heights per second
    one_euro: OneEuroParams = OneEuroParams(min_cutoff=1.0, beta=20.0, d_cutoff=1.0,
                                            max_gap=1.0)
    kalman: KalmanParams = field(default_factory=KalmanParams)

    def __post_init__(self):
        if self.max_crops_per_frame < 0:
            raise ValueError(f"max_crops_per_frame must be >= 0, not {self.max_crops_per_frame}")
        for name in ("det_interval", "max_missing", "confirm_hits", "max_refresh_interval"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        for name in ("pose_box_min_score", "det_match_iou", "pose_nms_threshold",
                     "keypoint_min_score", "missing_iou"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)}")
        if self.pose_box_scale < 1.0 or self.match_gate <= 0 or self.pose_box_torso < 0:
            raise ValueError("pose_box_scale must be >= 1, match_gate > 0 and "
                             "pose_box_torso >= 0")


@dataclass
class Track:
    id: int
    kalman: PoseKalman
    filter: OneEuroFilter
    person: Person
    scale: float
    state: TrackState = TrackState.TENTATIVE
    hits: int = 1
    missed: int = 0
    plausible: bool = False  # a body seen on one of its frames (`pose_box.plausible`)
    skipped: int = 0  # frames the pose budget has left it out since its last crop


class Tracker:
    def __init__(self, config: TrackerConfig, topology: Topology):
        self.config = config
        self.topology = topology
        self._parts = BodyParts.of(topology)
        # imported here, not with the module: scipy.optimize takes 0.6 s to import and only
        # video tracking needs it (not `demo` or `--help`); and not inside the first tracked
        # frame either, where it would count as that frame's time
        from scipy.optimize import linear_sum_assignment

        self._assign = linear_sum_assignment
        self.reset()

    def reset(self) -> None:
        self.tracks: list[Track] = []
        self._next_id = 0
        #: tracks confirmed since the reset (a count: a long-running node keeps no id set)
        self.confirmed_total = 0
        self.lost_ids: list[int] = []  # lost during the last update
        #: the unsmoothed keypoints of each track seen in the last update
        self.raw_keypoints: dict[int, np.ndarray] = {}
        self.detect_reasons: Counter = Counter()
        self._countdown = 0
        self._missing_since_detection = False
        self.left_out: BoxPlan | None = None  # the crops the budget left out of the last frame

    def set_config(self, config: TrackerConfig) -> None:
        """New settings while running: the tracks and their filters stay, with the new
        One-Euro parameters."""
        self.config = config
        for track in self.tracks:
            track.filter.params = config.one_euro

    @property
    def pose_box_need(self) -> int:
        """Confident keypoints a pose needs to give its track the next frame's box."""
        return math.ceil(self.topology.num_keypoints / 2)

    # ---- step 1: the boxes --------------------------------------------------------------------
    def plan(self, detect: Detect = Detect.AUTO, limit: int | None = None) -> BoxPlan:
        """This frame's boxes from the tracks, and whether the detector runs. With AUTO it
        runs every `det_interval` frames (the first included, and also while nobody is in
        view: someone who walks in is found within the interval, as with rtmlib's and
        MMDeploy's trackers), on the frame after a track went missing (someone occluded or
        leaving: look for them once), while a missing track's predicted box overlaps a
        visible track's pose box (IoU ≥ det_match_iou: "occluded", someone behind someone
        else, whose crop then holds both and whose pose may jump to the hidden person) and
        when a visible track's pose was unsure (too few confident keypoints for a box).
        "nobody tracked" labels the interval's run while there is no track at all."""
        cfg, need = self.config, self.pose_box_need
        boxes, scores, ids, unsure = [], [], [], False
        predicted = ([], [], [])
        for t in self.tracks:
            if t.missed:
                for part, v in zip(predicted, (box_of_state(t.kalman.x + t.kalman.v),
                                               t.person.score, t.id)):
                    part.append(v)
                continue
            good = t.person.keypoint_scores >= cfg.pose_box_min_score
            if good.sum() < need:
                unsure = True
                continue
            ahead = (t.kalman.x[4:] + t.kalman.v[4:]).reshape(-1, 2)
            boxes.append(pose_box(ahead, good, cfg.pose_box_scale, cfg.pose_box_torso,
                                  self._parts))
            scores.append(t.person.score)
            ids.append(t.id)
        if detect is Detect.FORCE:
            reason = "forced"
        elif detect is Detect.NEVER:
            reason = ""
        elif self._countdown <= 0:
            reason = "interval" if self.tracks else "nobody tracked"
        elif self._missing_since_detection:
            reason = "track missing"
        elif boxes and predicted[0] and (iou_matrix(
                np.asarray(boxes), np.asarray(predicted[0])) >= cfg.det_match_iou).any():
            reason = "occluded"
        else:
            reason = "unsure pose" if unsure else ""
        if reason:
            self.detect_reasons[reason] += 1
            self._countdown = cfg.det_interval - 1
            self._missing_since_detection = False
        else:
            self._countdown -= 1
        plan = BoxPlan(np.asarray(boxes, np.float32).reshape(-1, 4),
                       np.asarray(scores, np.float32), np.asarray(ids, int),
                       ("pose",) * len(boxes), bool(reason), reason,
                       (np.asarray(predicted[0], np.float32).reshape(-1, 4),
                        np.asarray(predicted[1], np.float32), np.asarray(predicted[2], int)))
        return take(plan, limit)

    def with_detections(self, plan: BoxPlan, boxes: np.ndarray, scores: np.ndarray,
                        limit: int | None = None) -> BoxPlan:
        """The plan with this frame's detections: each track (visible, or missing with its
        Kalman box) takes the detection that overlaps it most (IoU ≥ det_match_iou,
        one-to-one), which then gives the crop; visible tracks no detection claims keep their
        own box; unclaimed detections follow as new people."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        scores = np.asarray(scores, np.float32).reshape(-1)
        pred_b, pred_s, pred_ids = plan.predicted if plan.predicted is not None else (
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int))
        n = len(plan)
        own_b = np.concatenate([plan.boxes, pred_b])
        out_b, out_s = own_b.copy(), np.concatenate([plan.scores, pred_s])
        ids = np.concatenate([plan.track_ids, pred_ids])
        sources = list(plan.sources) + ["predicted"] * len(pred_b)
        claimed = np.zeros(len(boxes), bool)
        if len(own_b) and len(boxes):
            for ti, di in self._solve(1.0 - iou_matrix(own_b, boxes), list(range(len(own_b))),
                                      list(range(len(boxes))), 1.0 - self.config.det_match_iou):
                out_b[ti], out_s[ti], sources[ti] = boxes[di], scores[di], "detection"
                claimed[di] = True
        keep = [i for i in range(len(own_b)) if i < n or sources[i] == "detection"]
        new = ~claimed
        merged = BoxPlan(np.concatenate([out_b[keep], boxes[new]]),
                         np.concatenate([out_s[keep], scores[new]]),
                         np.concatenate([ids[keep], np.full(int(new.sum()), -1, int)]),
                         tuple(sources[i] for i in keep) + ("detection",) * int(new.sum()),
                         plan.detect, plan.reason)
        return take(merged, limit)

    def spend(self, plan: BoxPlan, target_id: int = -1) -> BoxPlan:
        """The plan within the pose budget (`tracking.budget`): the crops to run, with the
        tracks left out in `skipped`; the whole plan without a budget."""
        cfg = self.config
        self.left_out = None
        if cfg.max_crops_per_frame <= 0 or len(plan) <= cfg.max_crops_per_frame:
            return plan
        found = budget.candidates(plan, {t.id: t for t in self.tracks}, target_id,
                                  cfg.max_refresh_interval)
        kept, self.left_out = budget.split(plan, budget.choose(found, cfg.max_crops_per_frame))
        return replace(kept, skipped=tuple(int(i) for i in self.left_out.track_ids if i >= 0))

    # ---- step 2: the track step -----------------------------------------------------------------
    def update(self, result: FrameResult, stamp: float, plan: BoxPlan | None = None) -> FrameResult:
        """Tracks updated with one frame's people; with a `plan`, people[i] is the pose cropped
        from plan.boxes[i]."""
        cfg = self.config
        for t in self.tracks:
            t.kalman.predict(t.scale)
        people = list(result.people)
        owners = [-1] * len(people)
        if plan is not None:
            if len(plan) != len(people):
                raise ValueError(f"{len(people)} poses for a plan of {len(plan)} boxes")
            owners = [int(i) for i in plan.track_ids]
        kept = self._pose_nms(people)
        people, owners = [people[i] for i in kept], [owners[i] for i in kept]
        measurements = [measurement(p, cfg.keypoint_min_score) for p in people]
        pairs, free = self._associate(people, measurements, owners)
        self.lost_ids = []
        self.raw_keypoints = {}
        matched_tracks = set()
        out: list[Person] = []
        for ti, pi in pairs:
            track, person = self.tracks[ti], people[pi]
            matched_tracks.add(ti)
            track.scale = scale_of(person.bbox)
            track.kalman.update(*measurements[pi], track.scale)
            track.hits += 1
            track.missed = track.skipped = 0
            track.plausible |= self._plausible(person)
            if track.state is TrackState.PREDICTED:  # back: it was confirmed before
                track.state = TrackState.CONFIRMED
            elif track.state is TrackState.TENTATIVE and track.hits >= cfg.confirm_hits \
                    and track.plausible:
                track.state = TrackState.CONFIRMED
                self.confirmed_total += 1
            out.append(self._emit(track, person, stamp))
        skipped = set(plan.skipped) if plan is not None else set()
        self.tracks = [t for ti, t in enumerate(self.tracks)
                       if ti in matched_tracks or self._unseen(t, t.id in skipped, out)]
        for pi in free:
            track = self._start(people[pi], measurements[pi])
            out.append(self._emit(track, people[pi], stamp))
        tracked = [t.id for t in self.tracks
                   if t.state in (TrackState.CONFIRMED, TrackState.PREDICTED)]
        return FrameResult(result.stamp, result.image_size, result.topology, out, result.timings,
                           tracked)

    def _unseen(self, track: Track, skipped: bool, out: list[Person]) -> bool:
        """A track without a pose this frame: left out by the pose budget (reported with its
        prediction, not aged) or missing; whether it survives. Reported people go to `out`."""
        cfg = self.config
        if skipped and not track.missed:
            track.skipped += 1
            out.append(self._predicted_person(track))
            return True
        track.missed += 1
        if track.missed == 1:  # just went missing: the next frame's detector looks once;
            # later detections (every det_interval) still offer it their boxes
            self._missing_since_detection = True
        if track.state is TrackState.TENTATIVE or track.missed > cfg.max_missing:
            track.state = TrackState.LOST
            self.lost_ids.append(track.id)
            return False
        track.state = TrackState.PREDICTED
        if cfg.include_predicted:
            out.append(self._predicted_person(track))
        return True

    def _pose_nms(self, people: list[Person]) -> list[int]:
        return pose_nms_indices(people, self.topology.sigmas, self.config.pose_nms_threshold)

    def _associate(self, people, measurements, owners) -> tuple[list[tuple[int, int]], list[int]]:
        cfg = self.config
        index = {t.id: i for i, t in enumerate(self.tracks)}
        pairs: list[tuple[int, int]] = []
        claimed = [(index[o], pi) for pi, o in enumerate(owners) if o in index]
        if claimed:  # a pose cropped from a track's box is that track's, if the gate agrees
            maha, _ = keypoint_costs([self.tracks[ti] for ti, _ in claimed],
                                           [measurements[pi] for _, pi in claimed])
            pairs = [pair for k, pair in enumerate(claimed) if maha[k, k] <= cfg.match_gate]
        taken_t, taken_p = {ti for ti, _ in pairs}, {pi for _, pi in pairs}
        free = [p for p in range(len(people)) if p not in taken_p]
        visible = [i for i, t in enumerate(self.tracks) if t.missed == 0 and i not in taken_t]
        missing = [i for i, t in enumerate(self.tracks) if t.missed > 0 and i not in taken_t]
        if visible and free:
            maha, dist = keypoint_costs([self.tracks[ti] for ti in visible],
                                              [measurements[pi] for pi in free])
            pairs += self._solve(np.where(maha <= cfg.match_gate, dist, _INF), visible, free,
                                 _INF / 2)
            free = [p for p in free if p not in {pi for _, pi in pairs}]
        if missing and free:
            predicted = np.stack([box_of_state(self.tracks[ti].kalman.x) for ti in missing])
            iou = iou_matrix(predicted, np.stack([people[pi].bbox for pi in free]))
            pairs += self._solve(1.0 - iou, missing, free, 1.0 - cfg.missing_iou)
            free = [p for p in free if p not in {pi for _, pi in pairs}]
        return pairs, free

    def _solve(self, cost: np.ndarray, rows: list[int], cols: list[int], gate: float):
        gated = np.where(cost <= gate, cost, _INF)
        r, c = self._assign(gated)
        return [(rows[i], cols[j]) for i, j in zip(r, c) if gated[i, j] < _INF]

    def _start(self, person: Person, measurement) -> Track:
        track = Track(self._next_id, PoseKalman(measurement[0], scale_of(person.bbox),
                                                self.config.kalman),
                      OneEuroFilter(self.config.one_euro), person, scale_of(person.bbox))
        self._next_id += 1
        track.plausible = self._plausible(person)
        if self.config.confirm_hits <= 1 and track.plausible:
            track.state = TrackState.CONFIRMED
            self.confirmed_total += 1
        self.tracks.append(track)
        return track

    def _plausible(self, person: Person) -> bool:
        return plausible(person.keypoint_scores >= self.config.keypoint_min_score, self._parts)

    def _emit(self, track: Track, person: Person, stamp: float) -> Person:
        out = copy.copy(person)  # shallow: the arrays are replaced, never written in place
        out.track_id, out.track_state = track.id, track.state
        self.raw_keypoints[track.id] = person.keypoints
        if self.config.smoothing:
            out.keypoints = track.filter(person.keypoints, stamp,
                                         1.0 / track.scale).astype(np.float32)
        track.person = out
        return out

    def predicted_box(self, track_id: int) -> np.ndarray | None:
        """The Kalman box of a track missing in the last frame (None: seen, or not tracked)."""
        track = next((t for t in self.tracks if t.id == track_id and t.missed), None)
        return None if track is None else box_of_state(track.kalman.x)

    def _predicted_person(self, track: Track) -> Person:
        kps = track.kalman.x[4:].reshape(-1, 2).astype(np.float32)
        return replace(track.person, bbox=box_of_state(track.kalman.x), keypoints=kps,
                       keypoint_scores=np.zeros(len(kps), np.float32), track_id=track.id,
                       track_state=TrackState.PREDICTED)
