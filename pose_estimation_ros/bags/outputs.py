"""What `bag` writes for each frame step output: the output bag's topics (the node's messages,
from the output plan the node publishes: `transport.plan`) and the long-form table."""
from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..core.results import TrackState
from ..core.topology import HAND21, Topology
from ..stream.step import StepOutput
from ..transport.plan import OutputPlan, Topic
from .types import BagMessages

#: the long-form table: one row per person × keypoint per frame, then one per hand keypoint
#: (`left_hand_index_finger_tip`, …: score and presence the hand's presence), one row for a
#: frame with nobody (people 0, the person and keypoint columns empty); the frame's follow
#: target state and its track id (followed or waited for) on every row
CSV_COLUMNS = ("bag", "stamp_ns", "frame", "people", "track_id", "track_state", "target",
               "person_score", "keypoint", "x", "y", "score", "visibility", "presence", "x3d",
               "y3d", "z3d", "valid3d", "depth_status", "target_state", "target_track_id")
#: the columns of a person and keypoint, empty on a frame with nobody
_PERSON_COLUMNS = len(CSV_COLUMNS) - 7


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
        tail = (status, out.target.state.value, out.target.track_id)
        if not people:
            self.writer.writerow(head + ("",) * _PERSON_COLUMNS + tail)
            self.rows += 1
            return
        k = len(self.names)
        for p in people:
            vis = p.visibility if p.visibility is not None else np.full(k, np.nan)
            presence = p.presence if p.presence is not None else np.full(k, np.nan)
            pos = p.positions if p.positions is not None else np.full((k, 3), np.nan)
            state = TrackState(p.track_state).value or "untracked"
            target = int(p.track_id >= 0 and p.track_id == out.target.followed)
            person = head + (p.track_id, state, target, f"{p.score:.6g}")
            for j, name in enumerate(self.names):
                self._row(person, name, p.keypoints[j], p.keypoint_scores[j], vis[j],
                          presence[j], pos[j], tail)
            for hand in p.hands:
                hpos = hand.positions if hand.positions is not None else \
                    np.full((len(hand.keypoints), 3), np.nan)
                for j, name in enumerate(HAND21.keypoints):
                    self._row(person, f"{hand.side}_hand_{name}", hand.keypoints[j],
                              hand.presence, np.nan, hand.presence, hpos[j], tail)

    def _row(self, person: tuple, name: str, xy, score, vis, presence, pos, tail) -> None:
        valid = bool(np.all(np.isfinite(pos)))
        self.writer.writerow(person + (
            name, f"{xy[0]:.6g}", f"{xy[1]:.6g}", f"{score:.6g}", f"{vis:.6g}",
            f"{presence:.6g}", *(f"{v:.6g}" if valid else "" for v in pos), int(valid),
            *tail))
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
    """The output bag: the output plan's topics (`transport.plan`, the node's messages) and
    the copied input topics, each frame written at its input's log time."""

    def __init__(self, writer, store, job, reader, topology: Topology, use_depth: bool):
        self.writer, self.store, self.topology = writer, store, topology
        self.namespace = job.namespace.rstrip("/")
        self.plan = OutputPlan(replace(job.outputs, target_pose=use_depth), BagMessages(store),
                               session=job.input.name)
        self.connections: dict[str, object] = {}
        fixed = self.plan.topics()
        for topic in fixed:  # the package's own topics, the copies, then the shared ones
            if not topic.absolute:
                self._connection(topic)
        self.copies = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=store)
                       for c in reader.connections} if job.copy_input else {}
        for topic in fixed:
            if topic.absolute:
                self._connection(topic)
        self.started = False
        self.last_time = 0

    def _connection(self, topic: Topic):
        name = topic.resolved(self.namespace)
        if name not in self.connections:
            qos = {"offered_qos_profiles": _latched()} if topic.qos == "latched" else {}
            self.connections[name] = self.writer.add_connection(name, topic.type,
                                                                typestore=self.store, **qos)
        return self.connections[name]

    def copy(self, conn, log_time: int, raw: bytes, reader) -> None:
        """An input message copied as it is (ROS 1 messages converted to CDR)."""
        from rosbags.interfaces import ConnectionExtRosbag2

        if not isinstance(conn.ext, ConnectionExtRosbag2):
            raw = self.store.serialize_cdr(reader.deserialize(raw, conn.msgtype), conn.msgtype)
        self.writer.write(self.copies[conn.id], log_time, raw)

    def frame(self, log_time: int, out: StepOutput) -> None:
        # at the input's log time, never before an output already written (frames put back in
        # stamp order): `ros2 bag play` then sees poses in stamp order, when a node would
        log_time = self.last_time = max(log_time, self.last_time)
        outgoing = [] if self.started else self.plan.start(self.topology)
        self.started = True
        for item in outgoing + self.plan.frame(out):
            connection = self._connection(item.topic)
            self.writer.write(connection, log_time,
                              self.store.serialize_cdr(item.msg, connection.msgtype))
