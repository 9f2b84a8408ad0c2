"""People the ROS4HRI way (REP-155), from the frame step's output, for the node and `bag`.

Topics: `/humans/bodies/tracked` (hri_msgs/IdsList, every frame, also when empty) and per body
`/humans/bodies/<id>/roi` (NormalizedRegionOfInterest2D: the person's box and score),
`/humans/bodies/<id>/cropped` (sensor_msgs/Image: the person's box cut from the input image,
bgr8), `/humans/bodies/<id>/skeleton2d` (Skeleton2D) and, with 3D, `/humans/bodies/<id>/position`
(PointStamped: the person's 3D centre) and `/humans/bodies/<id>/velocity` (TwistStamped: its
change over the last two frames with 3D), plus the TF frames `body_<id>` (hip midpoint) and
`head_<id>` (the face's keypoints), x forward (towards the camera), z up, parent the camera's
optical frame.

Body ids: `<prefix><track id in base 36>`: the prefix is letters (a ROS 2 name token cannot
start with a digit), random per node start (so a restarted node never repeats an id a
long-running consumer has seen) or derived from the bag's name (so a bag's output is the same
on every run); track ids are never reused within a run, so neither are body ids. The tracked
list holds the confirmed tracks, also one briefly missing (predicted); a lost one leaves it at
once. A frame's normalised coordinates are clipped to [0, 1]; a keypoint outside the image gets
confidence 0 there.
"""
from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.results import Person
from ..core.topology import Topology
from ..stream.step import StepOutput
from .convert import MessageFactory, hip_origins, point, transform

MSG_DIR = Path(__file__).resolve().parent / "hri_msgs"
MSG_NAMES = ("IdsList", "NormalizedPointOfInterest2D", "NormalizedRegionOfInterest2D",
             "Skeleton2D")
NECK = "neck"
#: Skeleton2D's slots by its constants (NOSE 0 … RIGHT_EAR 17): the keypoint names they take
SLOTS = ("nose", NECK, "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
         "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
         "left_knee", "left_ankle", "left_eye", "right_eye", "left_ear", "right_ear")
HEAD = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def definitions() -> dict[str, str]:
    """"hri_msgs/msg/Name" → its .msg text (for a rosbags typestore)."""
    return {f"hri_msgs/msg/{n}": (MSG_DIR / f"{n}.msg").read_text() for n in MSG_NAMES}


def session_prefix(seed: str | None = None) -> str:
    """Letters that start every body id of a session: random (live) or from `seed` (a bag)."""
    if seed is None:
        return "".join(random.choice(string.ascii_lowercase) for _ in range(3))
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(string.ascii_lowercase[b % 26] for b in digest[:3])


def _base36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@dataclass
class Bodies:
    """The body ids of one session and what velocity needs of the last frame."""

    prefix: str
    last_positions: dict[int, tuple[int, np.ndarray]] = field(default_factory=dict)

    def body_id(self, track_id: int) -> str:
        return f"{self.prefix}{_base36(track_id)}"


def skeleton_points(person: Person, topology: Topology,
                    size: tuple[int, int]) -> list[tuple[float, float, float]]:
    """(x, y, c) of Skeleton2D's 18 slots: normalised, clipped to [0, 1]; a slot the topology
    lacks, or a keypoint outside the image, has c = 0. NECK is the shoulders' midpoint with the
    lower of their two scores."""
    names = topology.keypoints
    index = {n: i for i, n in enumerate(names)}
    w, h = size
    out = []
    for slot in SLOTS:
        if slot == NECK:
            if "left_shoulder" not in index or "right_shoulder" not in index:
                out.append((0.0, 0.0, 0.0))
                continue
            a, b = index["left_shoulder"], index["right_shoulder"]
            xy = (person.keypoints[a] + person.keypoints[b]) / 2
            c = min(float(person.keypoint_scores[a]), float(person.keypoint_scores[b]))
        elif slot in index:
            xy = person.keypoints[index[slot]]
            c = float(person.keypoint_scores[index[slot]])
        else:
            out.append((0.0, 0.0, 0.0))
            continue
        x, y = float(xy[0]) / w, float(xy[1]) / h
        inside = 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
        out.append((min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0), c if inside else 0.0))
    return out


def roi(person: Person, size: tuple[int, int]) -> tuple[float, float, float, float]:
    w, h = size
    x1, y1, x2, y2 = (float(v) for v in person.bbox)
    clip = lambda v: min(max(v, 0.0), 1.0)  # noqa: E731
    return clip(x1 / w), clip(y1 / h), clip(x2 / w), clip(y2 / h)


def crop(image: np.ndarray, person: Person) -> np.ndarray:
    """The person's box cut from the input image (at least 1×1 pixel, inside the image)."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = np.round(person.bbox).astype(int)
    x1, y1 = min(max(x1, 0), w - 1), min(max(y1, 0), h - 1)
    x2, y2 = min(max(x2, x1 + 1), w), min(max(y2, y1 + 1), h)
    return np.ascontiguousarray(image[y1:y2, x1:x2])


def head_transforms(f: MessageFactory, header, out: StepOutput, bodies: Bodies) -> list:
    """`head_<id>` at the mean of the face keypoints with a 3D position."""
    names = out.result.topology.keypoints
    face = [names.index(n) for n in HEAD if n in names]
    frames = []
    for p in out.result.people:
        if p.track_id < 0 or p.positions is None or not face:
            continue
        known = p.positions[face][np.all(np.isfinite(p.positions[face]), axis=1)]
        if len(known):
            origin = known.mean(axis=0)
            frames.append(transform(f, header, f"head_{bodies.body_id(p.track_id)}", origin,
                                    upright_facing_camera(origin)))
    return frames


def upright_facing_camera(position: np.ndarray) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w), in the camera's optical frame (x right, y down, z forward), of
    a frame at `position` whose x axis points level back towards the camera and z axis up."""
    x_axis = np.array([-position[0], 0.0, -position[2]], np.float64)
    x_axis /= max(np.linalg.norm(x_axis), 1e-9)
    z_axis = np.array([0.0, -1.0, 0.0])
    y_axis = np.cross(z_axis, x_axis)
    m = np.stack([x_axis, y_axis, z_axis], axis=1)  # columns: the frame's axes
    w = np.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    if w > 1e-6:
        return (float((m[2, 1] - m[1, 2]) / (4 * w)), float((m[0, 2] - m[2, 0]) / (4 * w)),
                float((m[1, 0] - m[0, 1]) / (4 * w)), float(w))
    i = int(np.argmax(np.diag(m)))  # a half turn: the largest diagonal term is safe
    j, k = (i + 1) % 3, (i + 2) % 3
    s = np.sqrt(max(0.0, 1.0 + m[i, i] - m[j, j] - m[k, k])) * 2
    q = [0.0, 0.0, 0.0]
    q[i], q[j], q[k] = s / 4, (m[j, i] + m[i, j]) / s, (m[k, i] + m[i, k]) / s
    return float(q[0]), float(q[1]), float(q[2]), float((m[k, j] - m[j, k]) / s)


def frame_messages(f: MessageFactory, header, out: StepOutput,
                   bodies: Bodies) -> tuple[object, dict[str, dict[str, object]], list]:
    """One frame's REP-155 output: the IdsList, per body id its messages by topic suffix
    (roi, cropped, skeleton2d, position, velocity), and the TF frames."""
    result = out.result
    size = result.image_size
    tracked = result.tracked or []
    ids = f.new("hri_msgs/msg/IdsList", header=header,
                ids=[bodies.body_id(t) for t in tracked])
    per_body: dict[str, dict[str, object]] = {}
    transforms = []
    for p in result.people:
        if p.track_id not in tracked:
            continue  # tentative: not a body yet
        body = bodies.body_id(p.track_id)
        msgs: dict[str, object] = {}
        x1, y1, x2, y2 = roi(p, size)
        msgs["roi"] = f.new("hri_msgs/msg/NormalizedRegionOfInterest2D", header=header,
                            xmin=x1, ymin=y1, xmax=x2, ymax=y2, c=float(p.score))
        msgs["skeleton2d"] = f.new("hri_msgs/msg/Skeleton2D", header=header, skeleton=[
            f.new("hri_msgs/msg/NormalizedPointOfInterest2D", x=x, y=y, c=c)
            for x, y, c in skeleton_points(p, result.topology, size)])
        if out.image is not None:
            cut = crop(out.image, p)
            msgs["cropped"] = f.new(
                "sensor_msgs/msg/Image", header=header, height=cut.shape[0],
                width=cut.shape[1], encoding="bgr8", is_bigendian=0, step=cut.shape[1] * 3,
                data=f.uint8s(cut.tobytes()))
        if p.position is not None and np.all(np.isfinite(p.position)):
            msgs["position"] = f.new("geometry_msgs/msg/PointStamped", header=header,
                                     point=point(f, p.position)[0])
            last = bodies.last_positions.get(p.track_id)
            if last is not None and out.stamp_ns > last[0]:
                v = (p.position - last[1]) / ((out.stamp_ns - last[0]) * 1e-9)
                msgs["velocity"] = f.new("geometry_msgs/msg/TwistStamped", header=header,
                                         twist=f.new("geometry_msgs/msg/Twist", linear=f.new(
                                             "geometry_msgs/msg/Vector3", x=float(v[0]),
                                             y=float(v[1]), z=float(v[2]))))
            bodies.last_positions[p.track_id] = (out.stamp_ns, p.position.copy())
        per_body[body] = msgs
    for track_id, origin in hip_origins(result).items():
        if track_id in tracked:
            transforms.append(transform(f, header, f"body_{bodies.body_id(track_id)}", origin,
                                        upright_facing_camera(origin)))
    transforms += [t for t in head_transforms(f, header, out, bodies)
                   if t.child_frame_id.removeprefix("head_") in per_body]
    for gone in set(bodies.last_positions) - set(tracked):
        del bodies.last_positions[gone]
    return ids, per_body, transforms
