"""What `bag` writes for each frame step output: the output bag's topics (the node's messages,
built by `transport.convert` as the node builds them) and the long-form table."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..core.results import TrackState
from ..core.topology import Topology
from ..stream.step import StepOutput
from ..transport import convert
from .types import BagMessages

#: the long-form table: one row per person × keypoint per frame, one row for a frame with
#: nobody (people 0, the person and keypoint columns empty)
CSV_COLUMNS = ("bag", "stamp_ns", "frame", "people", "track_id", "track_state", "target",
               "person_score", "keypoint", "x", "y", "score", "visibility", "presence", "x3d",
               "y3d", "z3d", "valid3d", "depth_status")


class Table:
    """The CSV of one bag (merged into one table for all bags by `batch`)."""

    def __init__(self, path: Path | None, bag_name: str, topology: Topology, use_depth: bool):
        self.file = open(path, "w", newline="") if path else None
        self.writer = csv.writer(self.file) if path else None
        self.bag, self.names, self.use_depth = bag_name, topology.keypoints, use_depth
        if self.writer:
            self.writer.writerow(CSV_COLUMNS)
        self.rows = 0

    def add(self, out: StepOutput, frame: int) -> None:
        if not self.writer:
            return
        status = "off" if not self.use_depth else \
            "ok" if out.no_depth is None else out.no_depth.key
        people = out.result.people
        head = (self.bag, out.stamp_ns, frame, len(people))
        if not people:
            self.writer.writerow(head + ("",) * (len(CSV_COLUMNS) - 5) + (status,))
            self.rows += 1
            return
        k = len(self.names)
        for p in people:
            vis = p.visibility if p.visibility is not None else np.full(k, np.nan)
            presence = p.presence if p.presence is not None else np.full(k, np.nan)
            pos = p.positions if p.positions is not None else np.full((k, 3), np.nan)
            state = TrackState(p.track_state).value or "untracked"
            target = int(p.track_id >= 0 and p.track_id == out.target.track_id)
            for j, name in enumerate(self.names):
                valid = bool(np.all(np.isfinite(pos[j])))
                self.writer.writerow(head + (
                    p.track_id, state, target, f"{p.score:.6g}", name,
                    f"{p.keypoints[j, 0]:.6g}", f"{p.keypoints[j, 1]:.6g}",
                    f"{p.keypoint_scores[j]:.6g}", f"{vis[j]:.6g}", f"{presence[j]:.6g}",
                    *(f"{v:.6g}" if valid else "" for v in pos[j]), int(valid), status))
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


class BagOutput:
    """The output bag's connections and how each frame is written to them."""

    def __init__(self, writer, store, job, reader, topology: Topology, use_depth: bool):
        self.writer, self.store, self.topology = writer, store, topology
        self.f = BagMessages(store)
        self.marker_depth = job.marker_depth
        ns = job.namespace.rstrip("/")
        add = writer.add_connection
        self.poses = add(f"{ns}/poses", "pose_estimation_ros/msg/PersonPoseArray",
                         typestore=store)
        self.skeleton = add(f"{ns}/skeleton", "pose_estimation_ros/msg/Skeleton",
                            typestore=store, offered_qos_profiles=_latched())
        self.target = add(f"{ns}/target_pose", "geometry_msgs/msg/PoseStamped",
                          typestore=store) if use_depth else None
        self.markers = add(f"{ns}/markers", "visualization_msgs/msg/MarkerArray",
                           typestore=store) if job.markers else None
        self.annotated = add(f"{ns}/annotated_image", "sensor_msgs/msg/Image",
                             typestore=store) if job.annotated else None
        self.copies = {c.id: add(c.topic, c.msgtype, typestore=store)
                       for c in reader.connections} if job.copy_input else {}
        self.hri = None
        if job.rep155:  # per-body connections come with their bodies
            from ..transport.rep155 import Bodies, session_prefix

            self.hri = Bodies(session_prefix(job.input.name))
            self.tracked = add("/humans/bodies/tracked", "hri_msgs/msg/IdsList", typestore=store)
            self.tf = add("/tf", "tf2_msgs/msg/TFMessage", typestore=store)
            self.body_topics: dict[str, object] = {}
        self.skeleton_written = False
        self.last_time = 0

    def _write(self, connection, log_time: int, msg) -> None:
        self.writer.write(connection, log_time, self.store.serialize_cdr(msg,
                                                                         connection.msgtype))

    def copy(self, conn, log_time: int, raw: bytes, reader) -> None:
        """An input message copied as it is (ROS 1 messages converted to CDR)."""
        if type(conn.ext).__name__ != "ConnectionExtRosbag2":
            raw = self.store.serialize_cdr(reader.deserialize(raw, conn.msgtype), conn.msgtype)
        self.writer.write(self.copies[conn.id], log_time, raw)

    def frame(self, log_time: int, out: StepOutput) -> None:
        # at the input's log time, never before an output already written (frames put back in
        # stamp order): `ros2 bag play` then sees poses in stamp order, when a node would
        log_time = self.last_time = max(log_time, self.last_time)
        f = self.f
        header = f.new("std_msgs/msg/Header", frame_id=out.frame_id, stamp=f.new(
            "builtin_interfaces/msg/Time", sec=out.stamp_ns // 1_000_000_000,
            nanosec=out.stamp_ns % 1_000_000_000))
        if not self.skeleton_written:
            self._write(self.skeleton, log_time, convert.skeleton(f, self.topology))
            self.skeleton_written = True
        self._write(self.poses, log_time, convert.pose_array(f, out.result, header, 0.0,
                                                             out.target.track_id))
        person = out.target_person
        if self.target is not None and person is not None and person.position is not None:
            self._write(self.target, log_time, convert.target_pose(f, header, person.position))
        if self.markers is not None and out.colour_k is not None:
            self._write(self.markers, log_time, convert.marker_array(
                f, header, out.result, out.colour_k, self.marker_depth))
        if self.annotated is not None:
            self._write(self.annotated, log_time, convert.annotated_image(
                f, header, out.image, out.result, out.target.track_id))
        if self.hri is not None:
            self._rep155(log_time, header, out)

    def _rep155(self, log_time: int, header, out: StepOutput) -> None:
        from ..transport.rep155 import frame_messages

        ids, per_body, transforms = frame_messages(self.f, header, out, self.hri)
        self._write(self.tracked, log_time, ids)
        for body, msgs in per_body.items():
            for suffix, msg in msgs.items():
                topic = f"/humans/bodies/{body}/{suffix}"
                if topic not in self.body_topics:
                    self.body_topics[topic] = self.writer.add_connection(
                        topic, msg.__msgtype__, typestore=self.store)
                self._write(self.body_topics[topic], log_time, msg)
        if transforms:
            self._write(self.tf, log_time, self.f.new("tf2_msgs/msg/TFMessage",
                                                      transforms=transforms))
