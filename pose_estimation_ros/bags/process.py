"""One recorded bag processed offline: every image in header-stamp order through the frame step
the node uses (`stream.step`), paired with depth by the node's rule (`stream.sync`, the bag's log
time as its clock), into an output bag, a long-form table and a sidecar.

Reading and writing use `rosbags` (rosbag2 sqlite3 and MCAP, ROS 1 `.bag`), so no ROS install
is needed. The output is written under a temporary name and renamed when complete; the sidecar
(`<bag>.poses.yaml`) is written last, so an interrupted run never leaves an output that looks done.
"""
from __future__ import annotations

import heapq
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..core.camera import CameraError
from ..stream.step import DepthFrame, FrameStep
from ..stream.sync import DepthSync, NoDepth
from ..transport.camera_info import intrinsics
from ..transport.image import depth_message_to_array, message_to_bgr, stamp_ns
from ..vision.headers import MAX_PIXELS
from ..vision.imaging import ImageError
from .outputs import BagOutput, Table

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
_NUMBER = re.compile(r"(?<![\w'])\d+(?![\w'])")
#: frames held to put slightly out-of-order stamps back in order before processing
REORDER_WINDOW = 32
#: seconds of log time a colour frame waits for its depth partner at most (depth is logged
#: within milliseconds of its stamp's colour frame in every recording seen); depth frames held
#: meanwhile, at most
DEPTH_WAIT_S, DEPTH_FRAMES = 2.0, 256


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".yaml")


def table_path(output: Path) -> Path:
    return output.with_name(output.name + ".csv")


def work_path(path: Path) -> Path:
    """Where an output is written before it is complete: a hidden folder beside it, under
    the same name (rosbags names a bag's files after its folder)."""
    return path.parent / ".partial" / path.name


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
    table: bool = False  # write the bag's long-form table, `table_path(output)`
    marker_depth: float = 2.0
    max_pixels: int = MAX_PIXELS
    rep155: bool = False  # the ROS4HRI topics (transport.rep155)


def _open(path: Path, store):
    from rosbags.highlevel import AnyReader

    if not path.exists():
        raise BagError(f"{path}: no such bag")
    try:
        reader = AnyReader([path], default_typestore=store)
        reader.open()
    except Exception as exc:  # rosbags raises its own error types for every kind of damage
        raise BagError(f"{path}: cannot read the bag ({_describe(exc)}); is it a rosbag2 "
                       "folder (sqlite3 or MCAP) or a ROS 1 .bag, and complete?") from None
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


class _Frames:
    """Image messages in header-stamp order: a small heap puts slightly out-of-order stamps
    back in order; a frame older than (or as old as) one already processed is rejected."""

    def __init__(self):
        self.heap: list = []
        self.order = 0
        self.last: int | None = None
        self.first: int | None = None

    def push(self, log_time: int, msg) -> list:
        try:
            stamp = stamp_ns(msg)
        except ImageError:
            stamp = -1  # rejected when it leaves the window, with the other checks
        heapq.heappush(self.heap, (stamp, self.order, log_time, msg))
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


def process_bag(job: BagJob, step: FrameStep, store, progress=None, observe=None) -> dict:
    """Process one bag; returns what the sidecar records of it. `step` is the stream's frame
    step (reset here), `store` a typestore from `bags.types.typestore()`; `observe`, where
    given, is called with every `StepOutput`."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    reader = _open(job.input, store)
    partial, partial_table = work_path(job.output), work_path(table_path(job.output))
    topics = {c.topic: {"type": c.msgtype, "messages": c.msgcount} for c in reader.connections}
    try:
        chosen = choose_topics(reader.connections, job)
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        writer = Writer(partial, version=8, storage_plugin=StoragePlugin.MCAP
                        if job.storage == "mcap" else StoragePlugin.SQLITE3)
        writer.open()
        table = Table(partial_table if job.table else None, job.input.name, step.topology,
                      "depth" in chosen)
        try:
            output = BagOutput(writer, store, job, reader, step.topology, "depth" in chosen)
            stats = _run(job, step, reader, chosen, output, table, progress, observe)
        finally:
            writer.close()
            table.close()
    except BaseException:  # nothing half-written is left, Ctrl-C included
        shutil.rmtree(partial, ignore_errors=True)
        partial_table.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    if job.output.exists():
        shutil.rmtree(job.output)
    partial.rename(job.output)
    if job.table:
        partial_table.replace(table_path(job.output))
    stats.update(image_topic=chosen["image"].topic, topics=topics,
                 table=str(table_path(job.output).resolve()) if job.table else None,
                 table_rows=table.rows)
    return stats


def remove_if_empty(folder: Path) -> None:
    """The `.partial` folder once a run is over (workers never remove it: one may be about
    to write into it while another finishes)."""
    try:
        folder.rmdir()
    except OSError:  # not empty (an interrupted bag's files), or gone
        pass


def _run(job: BagJob, step: FrameStep, reader, chosen, out: BagOutput, table: Table,
         progress, observe) -> dict:
    step.reset()
    use_depth = "depth" in chosen
    sync = DepthSync(step.config.depth_tolerance, wait_s=DEPTH_WAIT_S, silence_s=float("inf"),
                     max_depth_frames=DEPTH_FRAMES)
    info: dict[str, object] = {"info": None, "depth_info": None}
    rejected: Counter = Counter()
    frames = _Frames()
    processed = 0
    topics = {c.topic: role for role, c in chosen.items()}

    def reject(reason: str) -> None:  # one reason per kind: sizes and counts become N
        rejected[_NUMBER.sub("N", reason.split(":")[0])[:80]] += 1

    def enqueue(stamp: int, order: int, log_time: int, msg) -> None:
        if stamp < 0:  # an invalid header stamp (`_Frames.push`)
            reject("invalid header stamp")
            return
        why = frames.check(stamp)
        if why:
            reject(why)
            return
        sync.add_colour(order, stamp, msg.header.frame_id, log_time * 1e-9, (log_time, msg))

    def process(payload, pairing) -> None:
        nonlocal processed
        log_time, msg = payload
        try:
            bgr = message_to_bgr(msg, job.max_pixels)
        except ImageError as exc:
            reject(str(exc))
            return
        depth = _depth_frame(pairing, info["depth_info"]) if use_depth else None
        colour_k = info["info"].k if info["info"] is not None else None
        output = step.step(bgr, stamp_ns(msg), msg.header.frame_id, depth, colour_k)
        out.frame(log_time, output)
        table.add(output, processed)
        if observe is not None:
            observe(output)
        processed += 1

    wanted = {c.id: c for c in chosen.values()}
    wanted.update({c.id: c for c in reader.connections if c.id in out.copies})
    read: Counter = Counter()
    now = 0.0
    for conn, log_time, raw in _messages(reader, list(wanted.values()), job.input):
        now = log_time * 1e-9
        read[conn.id] += 1
        if conn.id in out.copies:
            out.copy(conn, log_time, raw, reader)
        role = topics.get(conn.topic)
        if role is None:
            continue
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except Exception as exc:  # a damaged message in an otherwise readable bag
            rejected[f"undecodable {role} message ({type(exc).__name__})"] += 1
            continue
        if role in info:
            try:
                info[role] = intrinsics(msg, f"CameraInfo on {conn.topic}")
            except CameraError as exc:
                info[role] = None
                rejected[f"{role} ignored: {_NUMBER.sub('N', str(exc))[:80]}"] += 1
        elif role == "depth":
            try:
                sync.add_depth(stamp_ns(msg), msg.header.frame_id, msg, now)
            except ImageError as exc:
                rejected[f"depth ignored: {str(exc).split(' (')[0]}"] += 1
        else:
            for item in frames.push(log_time, msg):
                enqueue(*item)
            if progress is not None:
                progress.update(1)
        for _key, payload, pairing in sync.ready(now):
            process(payload, pairing)
    for item in frames.drain():
        enqueue(*item)
    for _key, payload, pairing in sync.ready(now, flush=True):
        process(payload, pairing)
    stats = {"frames_in": frames.order, "frames_processed": processed,
             "frames_rejected": dict(sorted(rejected.items())),
             "first_stamp_ns": frames.first, "last_stamp_ns": frames.last,
             "missing_messages": {c.topic: c.msgcount - read[c.id]
                                  for c in wanted.values() if read[c.id] < c.msgcount}}
    if use_depth:
        stats |= {"frames_with_3d": step.counts["with_3d"],
                  "frames_without_3d": step.without_3d,
                  "depth_restarts": sync.restarts}
    return stats


def _depth_frame(pairing, depth_info) -> DepthFrame | NoDepth:
    if pairing.missing is not None:
        return pairing.missing
    try:
        depth = depth_message_to_array(pairing.depth)
    except ImageError as exc:
        return NoDepth("depth_rejected", f"depth rejected: {exc}")
    if depth_info is None:
        return DepthFrame(depth)
    return DepthFrame(depth, depth_info.k, depth_info.size)


def _messages(reader, connections, path: Path):
    """The bag's messages; damage found while reading (a bag cut short during recording) is a
    BagError naming the file, not a traceback."""
    count = 0
    try:
        for item in reader.messages(connections=connections):
            count += 1
            yield item
    except Exception as exc:  # rosbags' and the storage libraries' own error types
        raise BagError(f"{path}: damaged after {count} messages ({_describe(exc)})") from None


def _describe(exc: Exception) -> str:
    """An exception of a storage library as text (a MemoryError says nothing itself)."""
    if isinstance(exc, (MemoryError, OverflowError)):
        return f"{type(exc).__name__}: a record declares an impossible size"
    return f"{type(exc).__name__}: {exc}"
