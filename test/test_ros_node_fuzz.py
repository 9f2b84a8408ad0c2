"""Generated inputs for the node on a real ROS graph (the node as its own process): Image,
CompressedImage, depth and CameraInfo messages with random fields, sizes, encodings, stamps
and damaged bytes; random parameter sets; random lifecycle transition sequences. After every
case: the process is alive and the next good frame is published. At the end: received =
published + dropped; nothing was published from a frame that fails validation, and no 3D came
from a CameraInfo that fails it. A seeded generator (seed and case in each failure message)."""
import os
import random
import signal
import struct

import cv2
import numpy as np
from ros_graph import RELIABLE, NodeProcess, _no_node_process_outlives_its_test, graph  # noqa
from ros_graph import image_msg, video_frames, wait_for  # noqa: F401
from test_ros_node_hardening import Probe, _depth, _info

from lifecycle_msgs.msg import State, Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from sensor_msgs.msg import CameraInfo, CompressedImage, Image  # noqa: E402

from pose_estimation_ros.core.camera import CameraError  # noqa: E402
from pose_estimation_ros.transport.camera_info import intrinsics  # noqa: E402
from pose_estimation_ros.transport.image import message_to_bgr, stamp_ns  # noqa: E402
from pose_estimation_ros.settings.build import check_all  # noqa: E402
from pose_estimation_ros.settings.table import BY_NAME, PARAMS  # noqa: E402
from pose_estimation_ros.vision.imaging import ImageError  # noqa: E402

SEED = int(os.environ.get("FUZZ_SEED", "2026"))
CASES = int(os.environ.get("FUZZ_CASES", "40"))
ENCODINGS = ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16", "16UC1", "32FC1", "yuv422",
             "bayer_rggb8", "", "BGR8", "rgb16"]


def _stamp(rng: random.Random, msg) -> None:
    sec, nanosec = rng.choice([(rng.randint(1, 10**6), rng.randrange(10**9)),
                               (rng.randint(1, 10**6), rng.randrange(10**9)), (0, 0),
                               (-rng.randint(1, 10**6), 0), (5, 10**9 + rng.randrange(10)),
                               (2**31 - 1, 999_999_999)])
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec


def _raw(rng: random.Random, frame: np.ndarray) -> Image:
    h, w = rng.choice([frame.shape[:2], (rng.randint(0, 64), rng.randint(0, 64)),
                       (rng.randint(1, 20000), rng.randint(1, 20000))])
    encoding = rng.choice(ENCODINGS)
    channels = {"bgr8": 3, "rgb8": 3, "bgra8": 4, "rgba8": 4, "mono16": 2, "16UC1": 2,
                "32FC1": 4}.get(encoding, 1)
    step = rng.choice([w * channels, w * channels + rng.randint(1, 9), rng.randint(0, 3 * w)])
    size = rng.choice([step * h, step * h - rng.randint(1, 50), rng.randint(0, 4096)])
    size = max(0, min(size, 4 * 1024 * 1024))
    data = (np.resize(frame.reshape(-1), size) if rng.random() < 0.7 else
            np.frombuffer(rng.randbytes(size), np.uint8))
    msg = Image(height=h, width=w, encoding=encoding, step=step,
                is_bigendian=rng.random() < 0.2, data=data.tobytes())
    _stamp(rng, msg)
    return msg


def _compressed(rng: random.Random, frame: np.ndarray) -> CompressedImage:
    data = bytearray(cv2.imencode(rng.choice([".jpg", ".png"]), frame)[1].tobytes())
    damage = rng.choice(["none", "truncate", "flip", "splice", "size", "random", "empty"])
    if damage == "truncate":
        del data[rng.randrange(len(data)):]
    elif damage == "flip":
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif damage == "splice":
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 32))
    elif damage == "size":  # a header that declares another size
        i = data.find(b"\xff\xc0") + 5 if data[:2] == b"\xff\xd8" else 16
        data[i:i + 4] = struct.pack(">HH" if i != 16 else ">I",
                                    *((rng.randint(0, 65535), rng.randint(0, 65535))
                                      if i != 16 else (rng.randint(0, 2**31),)))
    elif damage == "random":
        data = bytearray(rng.randbytes(rng.randint(1, 5000)))
    elif damage == "empty":
        data = bytearray()
    msg = CompressedImage(format=rng.choice(["jpeg", "png", "rgb8; jpeg compressed bgr8",
                                             "16UC1; compressedDepth", ""]), data=bytes(data))
    _stamp(rng, msg)
    return msg


def _camera_info(rng: random.Random, w: int, h: int) -> CameraInfo:
    fx = rng.choice([500.0, 0.0, -500.0, float("nan"), float("inf"), 1e9, 5.0, 800.0])
    info = _info(rng.choice([w, 0, w * 2]), rng.choice([h, 0]), fx)
    if rng.random() < 0.2:
        info.k[2] = float("nan")
    return info


def _good(probe: Probe, frame: np.ndarray, stamps: list, with_info: bool = True):
    h, w = frame.shape[:2]

    def message(sec):
        stamps.append(sec)
        if with_info:
            probe.info.publish(_info(w, h))
        probe.depth.publish(_depth(w, h, sec))
        return image_msg(frame, sec=sec, frame_id="cam")
    return message


def _valid(msg) -> bool:
    try:
        message_to_bgr(msg)
        stamp_ns(msg)
    except ImageError:
        return False
    return True


def _arrived(probe: Probe) -> int:
    """Frames the node received or knows it missed, once every frame is accounted for."""
    c = {k: int(v) for k, v in probe.status().items() if k.startswith("frames_")
         and v.isdigit()}
    if not c or c["frames_received"] != c["frames_published"] + c["frames_dropped"]:
        return -1
    return c["frames_received"] + c.get("frames_missed", 0)


def _accounted(probe: Probe) -> bool:
    c = {k: int(v) for k, v in probe.status().items() if k.startswith("frames_")
         and v.isdigit()}
    return bool(c) and c["frames_received"] == c["frames_published"] + c["frames_dropped"]


def test_generated_messages_never_stop_the_node(graph):
    rng = random.Random(SEED)
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=160)[0]
    h, w = frame.shape[:2]
    for compressed in (False, True):
        name = "fuzzpacked" if compressed else "fuzzraw"
        node = NodeProcess("-p", "use_depth:=true", "-p", f"use_compressed:={compressed}",
                           "-p", "diagnostics_period:=0.2", "-r", f"__ns:=/{name}", name=name)
        probe = Probe(graph, node, name)
        colour = probe.compressed if compressed else probe.image
        sent, stamps = {}, []
        next_sec = iter(range(100_000, 200_000))
        jpeg = cv2.imencode(".jpg", frame)[1].tobytes()

        def good(sec, with_info=True):
            raw = _good(probe, frame, stamps, with_info)(sec)
            if not compressed:
                return raw
            msg = CompressedImage(format="jpeg", data=jpeg)
            msg.header = raw.header
            return msg
        probe.image = colour  # send_until_published sends on the node's topic
        probe.send_until_published(lambda sec: good(next(next_sec)))
        for case in range(CASES):
            where = f"seed {SEED} case {case} ({name})"
            kind = rng.choice(["colour", "colour", "depth", "camera_info"])
            if kind == "colour":
                msg = _compressed(rng, frame) if compressed else _raw(rng, frame)
                msg.header.frame_id = f"case{case}"
                sent[msg.header.frame_id] = _valid(msg)
                before = _arrived(probe)
                colour.publish(msg)  # and wait until the node has it, or DDS lost it (a
                wait_for(lambda: _arrived(probe) > before, 3)  # good frame would replace it)
            elif kind == "depth":
                msg = _raw(rng, np.full((h, w), 2000, np.uint16).view(np.uint8))
                msg.header.frame_id = rng.choice(["cam", "elsewhere"])
                probe.depth.publish(msg)
            else:
                info = _camera_info(rng, w, h)
                probe.info.publish(info)
                try:
                    intrinsics(info)
                    usable = True
                except CameraError:
                    usable = False
                before = len(probe.poses)
                colour.publish(good(next(next_sec), with_info=False))
                assert wait_for(lambda: len(probe.poses) > before, 10), where
                if not usable:  # no 3D from a CameraInfo that fails validation
                    assert not any(k.position_valid for p in probe.poses[-1].people
                                   for k in p.keypoints), where
            assert probe.alive(), f"{where}\n{node.output}"
            probe.send_until_published(lambda sec: good(next(next_sec)))
        assert wait_for(lambda: _accounted(probe), 10), probe.status()
        published = {m.header.frame_id for m in probe.poses}
        refused = {fid for fid, ok in sent.items() if not ok}
        assert not published & refused, sorted(published & refused)
        print(f"\n{name}: {len(sent)} generated frames, {len(refused)} invalid, "
              f"{len(published & set(sent))} of the valid published; {probe.status()}")
        node.proc.send_signal(signal.SIGINT)
        assert node.finish() == 0 and "Traceback" not in node.output, node.output


def _random_value(rng: random.Random, param):
    if param.name == "max_image_pixels":  # a limit below the good frames' size is meant to
        return rng.choice([0, -5, 10**6, 10**9 + 1, "text", float("nan")])  # refuse them
    return rng.choice([
        param.default, not param.default if isinstance(param.default, bool) else 0,
        rng.uniform(-5, 200), rng.randint(-5, 200), float("nan"), float("inf"), -0.0, "text",
        True, rng.choice(param.choices) if param.choices else param.default])


def test_generated_parameter_sets_are_applied_or_refused_with_a_reason(graph):
    rng = random.Random(SEED + 1)
    node = NodeProcess("-p", "diagnostics_period:=0.2", "-r", "__ns:=/fuzzparams",
                       name="fuzzparams")
    probe = Probe(graph, node, "fuzzparams")
    frame = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=160)[0]
    stamps = []
    secs = iter(range(1000, 100_000))
    good = _good(probe, frame, stamps)
    probe.send_until_published(lambda sec: good(next(secs)))
    values = {p.name: p.default for p in PARAMS}
    writable = [p for p in PARAMS if not p.read_only]
    for case in range(CASES):
        param = rng.choice(writable + [BY_NAME["provider"]])
        value = _random_value(rng, param)
        result = probe.set(param.name, value)
        ours = check_all(values | {param.name: BY_NAME[param.name].coerce(value)})
        where = f"seed {SEED + 1} case {case}: {param.name} = {value!r}"
        if param.read_only or ours:
            assert not result.successful and result.reason, where
        else:
            assert result.successful, (where, result.reason)
            values[param.name] = BY_NAME[param.name].coerce(value)
        assert probe.alive(), f"{where}\n{node.output}"
        probe.send_until_published(lambda sec: good(next(secs)))
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0 and "Traceback" not in node.output


def test_generated_lifecycle_sequences(graph):
    rng = random.Random(SEED + 2)
    node = NodeProcess("-p", "autostart:=false", "-r", "__ns:=/fuzzlife", name="fuzzlife")
    node_started = wait_for(lambda: "process started" in node.output or node.proc.poll()
                            is not None or "Transition" in node.output, 5)
    del node_started  # the node announces nothing while unconfigured: ask its services
    probe = Probe.__new__(Probe)
    probe.graph, probe.node, probe.name, probe.fqn = graph, node, "fuzzlife", "/fuzzlife/fuzzlife"
    ids = [Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_CLEANUP,
           Transition.TRANSITION_ACTIVATE, Transition.TRANSITION_DEACTIVATE,
           Transition.TRANSITION_UNCONFIGURED_SHUTDOWN, Transition.TRANSITION_INACTIVE_SHUTDOWN,
           Transition.TRANSITION_ACTIVE_SHUTDOWN, 99]
    states = []
    for case in range(CASES):
        transition = rng.choice(ids[:4] * 4 + ids[4:])  # shutdowns rarer: they end the run
        probe.call(ChangeState, "change_state",
                   ChangeState.Request(transition=Transition(id=transition)))
        state = probe.call(GetState, "get_state", GetState.Request()).current_state.id
        states.append(state)
        assert node.proc.poll() is None, f"seed {SEED + 2} case {case}\n{node.output}"
        if state == State.PRIMARY_STATE_FINALIZED:
            break
    print(f"\nlifecycle fuzz: {len(states)} transitions, states {sorted(set(states))}")
    assert "Traceback" not in node.output
