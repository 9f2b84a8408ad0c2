"""One recorded bag processed offline: every image through the frame step the node uses
(`stream.step`), in the order the recorder received them (the bag's log order: what a node
subscribed then received), under the node's stamp rule (`stream.stamps`: a repeated stamp is
rejected, a step back restarts the stream's time), paired with depth by the node's rule
(`stream.sync`, the bag's log time as its clock), into an output bag (the node's messages:
`transport.plan`), a long-form table and a sidecar. A recording therefore gives the same
frames through `bag` as through a node it is played to.

Reading and writing use `rosbags` (rosbag2 sqlite3 and MCAP, ROS 1 `.bag`), so no ROS install
is needed. The output is written under a temporary name and renamed when complete; the sidecar
(`<bag>.poses.yaml`) is written last, so an interrupted run never leaves an output that looks done.
"""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..core.camera import CameraError
from ..stream.depth import partner
from ..stream.selections import Selections
from ..stream.stamps import StampChecker
from ..stream.step import FrameStep
from ..stream.sync import DepthSync
from ..transport.camera_info import intrinsics
from ..transport.image import depth_message_to_array, message_to_bgr, stamp_ns
from ..transport.plan import OutputOptions
from ..vision.errors import ImageError, Rejection
from ..vision.headers import MAX_PIXELS
from .outputs import BagOutput, Table
from .topics import BagError, choose_topics

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
    copy_input: bool = False
    table: bool = False  # write the bag's long-form table, `table_path(output)`
    max_pixels: int = MAX_PIXELS
    select_target: tuple[str, ...] = ()  # `--select-target T:ID` (`stream.selections`)
    #: while this file exists the bag stops (a KeyboardInterrupt: its partial files go):
    #: how the Ray backend stops the bags of a stopped run
    stop_file: Path | None = None
    #: what the output bag holds besides poses and the skeleton (markers, annotated, TF,
    #: REP-155); target_pose follows the depth topic
    outputs: OutputOptions = OutputOptions(markers=False, annotated=False)


def _open(path: Path, store):
    from rosbags.highlevel import AnyReader

    if not path.exists():
        raise BagError(f"{path}: no such bag")
    try:
        reader = AnyReader([path], default_typestore=store)
        reader.open()
    except Exception as exc:  # rosbags raises its own error types for every kind of damage
        raise BagError(f"{path}: cannot read the bag ({describe(exc)}); is it a rosbag2 "
                       "folder (sqlite3 or MCAP) or a ROS 1 .bag, and complete?") from None
    return reader


class _BagRun:
    """The state of one bag's run: the stamp rule, depth pairing, CameraInfo, the counts."""

    def __init__(self, job: BagJob, step: FrameStep, chosen: dict, out: BagOutput,
                 table: Table, observe):
        self.job, self.step, self.out, self.table, self.observe = job, step, out, table, observe
        self.use_depth = "depth" in chosen
        self.roles = {c.topic: role for role, c in chosen.items()}
        self.sync = DepthSync(step.config.depth_tolerance, wait_s=DEPTH_WAIT_S,
                              silence_s=float("inf"), max_depth_frames=DEPTH_FRAMES)
        # the log time is no clock to judge a stamp's latency by: nothing is "future" here
        self.stamps = StampChecker(future_tolerance_s=float("inf"))
        self.selections = Selections.parse(list(job.select_target))
        self.frames_in = 0
        self.info: dict[str, object] = {"info": None, "depth_info": None}
        self.rejected: Counter = Counter()  # colour frames, by `Rejection`
        self.examples: dict[str, str] = {}  # the first detail of each reason
        self.ignored: Counter = Counter()  # other messages not used, by role and reason
        self.processed = 0
        self.first = self.last = None

    def message(self, conn, log_time: int, msg) -> None:
        role = self.roles[conn.topic]
        if role in self.info:
            try:
                self.info[role] = intrinsics(msg, f"CameraInfo on {conn.topic}")
            except CameraError:
                self.info[role] = None
                self.ignored[f"{role}_invalid"] += 1
        elif role == "depth":
            try:
                self.sync.add_depth(stamp_ns(msg), msg.header.frame_id, msg, log_time * 1e-9)
            except ImageError as exc:
                self.ignored[f"depth_{exc.reason}"] += 1
        else:
            self._colour(log_time, msg)
        self.release(log_time)

    def release(self, log_time: int, flush: bool = False) -> None:
        for _key, payload, paired in self.sync.ready(log_time * 1e-9, flush):
            self._process(payload, paired)

    def reject(self, reason: Rejection, detail: str) -> None:
        self.rejected[reason] += 1
        self.examples.setdefault(reason.value, detail)

    def _colour(self, log_time: int, msg) -> None:
        self.frames_in += 1
        try:
            stamp = stamp_ns(msg)
        except ImageError as exc:
            self.reject(exc.reason, str(exc))
            return
        check = self.stamps.check(stamp, log_time)
        if not check.process:
            self.reject(Rejection.DUPLICATE_STAMP, "the previous frame's stamp again")
            return
        self.first = stamp if self.first is None else self.first
        self.last = stamp
        self.sync.add_colour(self.frames_in, stamp, msg.header.frame_id, log_time * 1e-9,
                             (log_time, msg, check.pipeline_stamp))

    def _process(self, payload, paired) -> None:
        log_time, msg, clock = payload
        try:
            bgr = message_to_bgr(msg, self.job.max_pixels)
        except ImageError as exc:
            self.reject(exc.reason, str(exc))
            return
        depth = partner(paired, depth_message_to_array, self.info["depth_info"]) \
            if self.use_depth else None
        for track_id in self.selections.due(stamp_ns(msg)):
            self.step.select_target(track_id)
        output = self.step.step(bgr, stamp_ns(msg), msg.header.frame_id, depth,
                                self.info["info"], clock)
        self.out.frame(log_time, output)
        self.table.add(output, self.processed)
        if self.observe is not None:
            self.observe(output)
        self.processed += 1

    def stats(self, read: Counter, wanted: dict) -> dict:
        stats = {"frames_in": self.frames_in, "frames_processed": self.processed,
                 "frames_rejected": {r.value: n for r, n in sorted(self.rejected.items(),
                                                                   key=lambda kv: kv[0].value)},
                 "rejection_examples": dict(sorted(self.examples.items())),
                 "messages_ignored": dict(sorted(self.ignored.items())),
                 "stamps": dict(sorted(self.stamps.counts.items())),
                 "first_stamp_ns": self.first, "last_stamp_ns": self.last,
                 "missing_messages": {c.topic: c.msgcount - read[c.id]
                                      for c in wanted.values() if read[c.id] < c.msgcount}}
        if self.step.hands is not None:
            stats |= {"hands_given": self.step.hands.given,
                      "hands_skipped": dict(sorted(self.step.hands.skipped.items()))}
        if self.use_depth:
            stats |= {"frames_with_3d": self.step.counts["with_3d"],
                      "frames_without_3d": self.step.without_3d,
                      "depth_restarts": self.sync.restarts}
        return stats


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
    run = _BagRun(job, step, chosen, out, table, observe)
    wanted = {c.id: c for c in chosen.values()}
    wanted.update({c.id: c for c in reader.connections if c.id in out.copies})
    read: Counter = Counter()
    log_time = 0
    for conn, log_time, raw in _messages(reader, list(wanted.values()), job.input):
        read[conn.id] += 1
        if job.stop_file is not None and read[conn.id] % 8 == 0 and job.stop_file.exists():
            raise KeyboardInterrupt("stopped")
        if conn.id in out.copies:
            out.copy(conn, log_time, raw, reader)
        if conn.topic not in run.roles:
            continue
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except Exception as exc:  # a damaged message in an otherwise readable bag
            role = run.roles[conn.topic]
            if role == "image":
                run.frames_in += 1
                run.reject(Rejection.UNDECODABLE, f"{type(exc).__name__}: {exc}")
            else:
                run.ignored[f"{role}_{Rejection.UNDECODABLE}"] += 1
            continue
        run.message(conn, log_time, msg)
        if progress is not None and run.roles[conn.topic] == "image":
            progress.update(1)
    run.release(log_time, flush=True)
    return run.stats(read, wanted)


def _messages(reader, connections, path: Path):
    """The bag's messages; damage found while reading (a bag cut short during recording) is a
    BagError naming the file, not a traceback."""
    count = 0
    try:
        for item in reader.messages(connections=connections):
            count += 1
            yield item
    except Exception as exc:  # rosbags' and the storage libraries' own error types
        raise BagError(f"{path}: damaged after {count} messages ({describe(exc)})") from None


def describe(exc: Exception) -> str:
    """An exception of a storage library as text (a MemoryError says nothing itself)."""
    if isinstance(exc, (MemoryError, OverflowError)):
        return f"{type(exc).__name__}: a record declares an impossible size"
    return f"{type(exc).__name__}: {exc}"
