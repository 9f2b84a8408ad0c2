"""One recorded bag processed offline: every image in header-stamp order through the pipeline
and tracker the node uses, into an output bag, a long-form table and a sidecar.

Reading and writing use `rosbags` (rosbag2 sqlite3 and MCAP, ROS 1 `.bag`), so no ROS install
is needed. The output is written under a temporary name and renamed when complete; the sidecar
(`<bag>.poses.yaml`) is written last, so an interrupted run never leaves an output that looks done.
"""
from __future__ import annotations

import csv
import heapq
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.results import TrackState
from ..following.depth import DepthConfig, DepthError, add_positions
from ..following.depth_sync import DepthPairing
from ..following.targets import TargetConfig, TargetSelector
from ..ros.convert import to_pose_array, to_skeleton
from ..ros.image import depth_to_array, message_to_bgr
from ..vision.imaging import ImageError

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
CSV_COLUMNS = ("bag", "stamp_ns", "frame", "track_id", "track_state", "person_score",
               "keypoint", "x", "y", "score", "visibility", "x3d", "y3d", "z3d", "valid3d")
_NUMBER = re.compile(r"(?<![\w'])\d+(?![\w'])")
#: frames held to put slightly out-of-order stamps back in order before processing
REORDER_WINDOW = 32


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".yaml")


class BagError(Exception):
    """A bag that cannot be processed (exit code 2), naming the file and the reason."""


@dataclass
class BagJob:
    input: Path
    output: Path  # the output bag folder; its sidecar is sidecar_path(output)
    image_topic: str = ""
    depth_topic: str = ""
    camera_info_topic: str = ""
    depth_info_topic: str = ""
    namespace: str = ""
    storage: str = "mcap"
    markers: bool = False
    annotated: bool = False
    copy_input: bool = False
    csv: Path | None = None
    depth: DepthConfig = field(default_factory=DepthConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    depth_tolerance: float = 0.02


def _open(path: Path, store):
    from rosbags.highlevel import AnyReader

    if not path.exists():
        raise BagError(f"{path}: no such bag")
    try:
        reader = AnyReader([path], default_typestore=store)
        reader.open()
    except Exception as exc:  # rosbags raises its own error types for every kind of damage
        raise BagError(f"{path}: cannot read the bag ({type(exc).__name__}: {exc}); is it a "
                       "rosbag2 folder (sqlite3 or MCAP) or a ROS 1 .bag, and complete?") \
            from None
    return reader


def choose_topics(connections, job: BagJob) -> dict[str, object]:
    """The connections to read: image (required), depth, colour and depth CameraInfo."""
    by_topic = {}
    for c in connections:
        by_topic.setdefault(c.topic, c)
    images = {t: c for t, c in by_topic.items() if c.msgtype in IMAGE_TYPES}
    listing = ", ".join(f"{t} ({c.msgtype}, {c.msgcount} messages)" for t, c in
                        sorted(by_topic.items())) or "no topics"
    if job.image_topic:
        if job.image_topic not in by_topic:
            raise BagError(f"{job.input}: no topic {job.image_topic!r}; the bag has {listing}")
        if job.image_topic not in images:
            raise BagError(f"{job.input}: {job.image_topic} is {by_topic[job.image_topic].msgtype}"
                           ", not sensor_msgs/Image or CompressedImage")
        image = by_topic[job.image_topic]
    elif len(images) == 1:
        image = next(iter(images.values()))
    else:
        raise BagError(f"{job.input}: {'several' if images else 'no'} image topics; choose "
                       f"one with --image-topic. The bag has {listing}")
    chosen = {"image": image}
    for role, topic in (("depth", job.depth_topic), ("info", job.camera_info_topic),
                        ("depth_info", job.depth_info_topic)):
        if topic:
            if topic not in by_topic:
                raise BagError(f"{job.input}: no topic {topic!r}; the bag has {listing}")
            chosen[role] = by_topic[topic]
    return chosen


def _stamp_ns(msg) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def _k(info) -> np.ndarray | None:
    k = np.asarray(info.k, np.float64).reshape(3, 3)
    return k if k[0, 0] > 0 and k[1, 1] > 0 else None


class _Tables:
    """The long-form CSV: one row per person × keypoint per frame."""

    def __init__(self, path: Path | None, bag_name: str):
        self.file = open(path, "w", newline="") if path else None
        self.writer = csv.writer(self.file) if path else None
        self.bag = bag_name
        if self.writer:
            self.writer.writerow(CSV_COLUMNS)
        self.rows = 0

    def add(self, stamp_ns: int, frame: int, result, names) -> None:
        if not self.writer:
            return
        for p in result.people:
            vis = p.visibility if p.visibility is not None else np.full(len(names), np.nan)
            pos = p.positions if p.positions is not None else np.full((len(names), 3), np.nan)
            for j, name in enumerate(names):
                valid = bool(np.all(np.isfinite(pos[j])))
                state = TrackState(p.track_state).value or "untracked"
                self.writer.writerow((self.bag, stamp_ns, frame, p.track_id, state,
                                      f"{p.score:.6g}", name,
                                      f"{p.keypoints[j, 0]:.6g}", f"{p.keypoints[j, 1]:.6g}",
                                      f"{p.keypoint_scores[j]:.6g}", f"{vis[j]:.6g}",
                                      *(f"{v:.6g}" if valid else "" for v in pos[j]),
                                      int(valid)))
                self.rows += 1

    def close(self) -> None:
        if self.file:
            self.file.close()


def _latched():
    """transient_local, so that `ros2 bag play` keeps offering the skeleton to late
    subscribers, as the node's latched publisher does."""
    from rosbags.interfaces import (
        Qos,
        QosDurability,
        QosHistory,
        QosLiveliness,
        QosReliability,
        QosTime,
    )

    never = QosTime(0x7FFFFFFF, 0xFFFFFFFF)
    return [Qos(QosHistory.KEEP_LAST, 1, QosReliability.RELIABLE, QosDurability.TRANSIENT_LOCAL,
                never, never, QosLiveliness.AUTOMATIC, never, False)]


class _Output:
    """The output bag's connections and how each frame is written to them."""

    def __init__(self, writer, store, job: BagJob, reader, topology):
        from .types import message_types

        self.writer, self.store, self.topology = writer, store, topology
        self.types = message_types(store)
        ns = job.namespace.rstrip("/")
        add = writer.add_connection
        self.poses = add(f"{ns}/poses", "pose_estimation_ros/msg/PersonPoseArray",
                         typestore=store)
        self.skeleton = add(f"{ns}/skeleton", "pose_estimation_ros/msg/Skeleton",
                            typestore=store, offered_qos_profiles=_latched())
        self.markers = add(f"{ns}/markers", "visualization_msgs/msg/MarkerArray",
                           typestore=store) if job.markers else None
        self.annotated = add(f"{ns}/annotated_image", "sensor_msgs/msg/Image",
                             typestore=store) if job.annotated else None
        self.copies = {c.id: add(c.topic, c.msgtype, typestore=store)
                       for c in reader.connections} if job.copy_input else {}
        self.skeleton_written = False
        self.last_time = 0

    def _write(self, connection, log_time: int, msg) -> None:
        self.writer.write(connection, log_time, self.store.serialize_cdr(msg,
                                                                         connection.msgtype))

    def frame(self, log_time: int, header, bgr, result, target_id: int, colour_k) -> None:
        from .outputs import annotated_image, marker_array

        # at the input's log time, never before an output already written (frames put back in
        # stamp order): `ros2 bag play` then sees poses in stamp order, when a node would
        log_time = self.last_time = max(log_time, self.last_time)
        if not self.skeleton_written:
            self._write(self.skeleton, log_time, to_skeleton(self.types, self.topology))
            self.skeleton_written = True
        self._write(self.poses, log_time, to_pose_array(self.types, result, header,
                                                        self.topology, 0.0, target_id))
        if self.markers is not None and colour_k is not None:
            self._write(self.markers, log_time, marker_array(self.store, header, result,
                                                             self.topology, colour_k))
        if self.annotated is not None:
            self._write(self.annotated, log_time, annotated_image(self.store, header, bgr,
                                                                  result))


class _Frames:
    """Image messages in header-stamp order: a small heap puts slightly out-of-order stamps
    back in order; a frame older than (or as old as) one already processed is rejected."""

    def __init__(self):
        self.heap: list = []
        self.order = 0
        self.last: int | None = None
        self.first: int | None = None

    def push(self, log_time: int, msg) -> list:
        heapq.heappush(self.heap, (_stamp_ns(msg), self.order, log_time, msg))
        self.order += 1
        return [heapq.heappop(self.heap)] if len(self.heap) > REORDER_WINDOW else []

    def drain(self) -> list:
        return [heapq.heappop(self.heap) for _ in range(len(self.heap))]

    def check(self, stamp: int) -> str:
        """"" when the frame is next in time, else why it is rejected."""
        if self.last is not None and stamp <= self.last:
            return "stamp out of order" if stamp < self.last else "duplicate stamp"
        self.last = stamp
        self.first = stamp if self.first is None else self.first
        return ""


def process_bag(job: BagJob, pipeline, store, progress=None) -> dict:
    """Process one bag; returns what the sidecar records of it. `pipeline` is a
    VideoPipeline (reset here), `store` a typestore from `bag_types.typestore()`."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    reader = _open(job.input, store)
    partial = job.output.with_name(job.output.name + ".partial")
    topics = {c.topic: {"type": c.msgtype, "messages": c.msgcount} for c in reader.connections}
    try:
        chosen = choose_topics(reader.connections, job)
        shutil.rmtree(partial, ignore_errors=True)
        writer = Writer(partial, version=8, storage_plugin=StoragePlugin.MCAP
                        if job.storage == "mcap" else StoragePlugin.SQLITE3)
        writer.open()
        tables = _Tables(job.csv, job.input.name)
        try:
            stats = _run(job, pipeline, reader, chosen, _Output(writer, store, job, reader,
                                                                pipeline.topology),
                         tables, progress)
        finally:
            writer.close()
            tables.close()
    finally:
        reader.close()
    if job.output.exists():
        shutil.rmtree(job.output)
    partial.rename(job.output)
    stats.update(image_topic=chosen["image"].topic, csv_rows=tables.rows, topics=topics)
    return stats


def _run(job: BagJob, pipeline, reader, chosen, out: _Output, tables: _Tables,
         progress) -> dict:
    pipeline.reset()
    selector = TargetSelector(job.target)
    pairing = DepthPairing(job.depth_tolerance)
    k = {"info": None, "depth_info": None}
    rejected: Counter = Counter()
    frames = _Frames()
    processed = 0
    topics = {c.topic: role for role, c in chosen.items()}

    def process(stamp: int, _order: int, log_time: int, msg) -> None:
        nonlocal processed
        why = frames.check(stamp)
        try:
            if why:
                raise ImageError(why)
            bgr = message_to_bgr(msg)
        except ImageError as exc:  # one reason per kind: sizes and counts become N
            rejected[_NUMBER.sub("N", str(exc).split(":")[0])[:80]] += 1
            return
        result = pipeline.process(bgr, stamp / 1e9)
        pair = pairing.match(stamp, msg.header.frame_id) if "depth" in chosen else None
        depth_k = k["depth_info"] if "depth_info" in chosen else k["info"]
        if pair is not None and pair.depth is not None and depth_k is not None \
                and k["info"] is not None:
            d = pair.depth
            try:
                add_positions(result.people, result.topology, depth_to_array(
                    d.encoding, d.width, d.height, d.step, d.data, bool(d.is_bigendian)),
                    depth_k, k["info"], job.depth)
            except DepthError:
                rejected["depth rejected (frame kept, no 3D)"] += 1
        target = selector.update(result)
        out.frame(log_time, msg.header, bgr, result, target.track_id, k["info"])
        tables.add(stamp, processed, result, pipeline.topology.keypoints)
        processed += 1

    wanted = {c.id: c for c in chosen.values()}
    wanted.update({c.id: c for c in reader.connections if c.id in out.copies})
    for conn, log_time, raw in _messages(reader, list(wanted.values()), job.input):
        if conn.id in out.copies:
            out.writer.write(out.copies[conn.id], log_time, _cdr(out.store, reader, raw, conn))
        role = topics.get(conn.topic)
        if role is None:
            continue
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except Exception as exc:  # a damaged message in an otherwise readable bag
            rejected[f"undecodable {role} message ({type(exc).__name__})"] += 1
            continue
        if role in k:
            k[role] = _k(msg)
        elif role == "depth":
            pairing.add(_stamp_ns(msg), msg.header.frame_id, msg)
        else:
            for item in frames.push(log_time, msg):
                process(*item)
            if progress is not None:
                progress.update(1)
    for item in frames.drain():
        process(*item)
    return {"frames_in": frames.order, "frames_processed": processed,
            "frames_rejected": dict(sorted(rejected.items())),
            "first_stamp_ns": frames.first, "last_stamp_ns": frames.last,
            "depth_pairing_restarts": pairing.restarts}


def _messages(reader, connections, path: Path):
    """The bag's messages; damage found while reading (a bag cut short during recording) is a
    BagError naming the file, not a traceback."""
    count = 0
    try:
        for item in reader.messages(connections=connections):
            count += 1
            yield item
    except Exception as exc:  # rosbags' and the storage libraries' own error types
        raise BagError(f"{path}: damaged after {count} messages ({type(exc).__name__}: "
                       f"{exc})") from None


def _cdr(store, reader, raw: bytes, conn) -> bytes:
    """A message as CDR for the output bag (ROS 1 bags' messages are converted)."""
    if type(conn.ext).__name__ == "ConnectionExtRosbag2":
        return raw
    return store.serialize_cdr(reader.deserialize(raw, conn.msgtype), conn.msgtype)
