"""stream/live.py: the node's threads around the frame step, without ROS: every frame
published or counted, results in stamp order, a result held until its depth partner comes or
can no longer come, nothing raised stops a thread."""
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.core.camera import Intrinsics
from pose_estimation_ros.pipelines.registry import PipelineOptions
from pose_estimation_ros.stream.live import Colour, LiveStream
from pose_estimation_ros.stream.step import StepConfig, create_step
from pose_estimation_ros.stream.sync import DepthSync
from pose_estimation_ros.vision.imaging import ImageError

pytestmark = needs_shared


def _decode(msg) -> Colour:
    if msg.image is None:
        raise ImageError("unsupported image encoding 'yuv422'")
    if isinstance(msg.image, str):
        raise RuntimeError("a decoder bug")
    return Colour(msg.image, msg.stamp, "cam", msg)


class Sink:
    def __init__(self):
        self.outputs, self.logs = [], []
        self.published = threading.Event()

    def publish(self, out, colour, check) -> bool:
        self.outputs.append(out)
        self.published.set()
        return True

    def log(self, text, level):
        self.logs.append((text, level))


def _stream(sink, use_depth=False, wait_s=0.1):
    step = create_step(PipelineOptions(pipeline="topdown"), StepConfig(use_depth=use_depth))
    stream = LiveStream(step, _decode, sink.publish, sink.log, now_ns=lambda: 2 * 10**18,
                        decode_depth=(lambda msg: msg) if use_depth else None,
                        sync=DepthSync(0.02, wait_s=wait_s))
    stream.start()
    return stream


def _settled(stream, received, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = stream.scheduler.stats
        if s.received == received and s.pending == 0:
            return s
        time.sleep(0.005)
    pytest.fail(f"not settled: {stream.scheduler.stats}")


def test_every_frame_is_published_or_counted_and_nothing_stops_the_worker():
    sink = Sink()
    stream = _stream(sink)
    bgr = rgbd.frames()[0][1]
    bad = [None, "bug", np.zeros((4, 4), np.float32)]  # rejected, rejected, failed (infer)
    try:
        for i, image in enumerate([bgr, *bad, bgr]):
            sink.published.clear()
            stream.put(SimpleNamespace(image=image, stamp=rgbd.stamp(i)))
            _settled(stream, i + 1)
        s = stream.scheduler.stats
        assert (s.received, s.published, s.rejected, s.failed) == (5, 2, 2, 1)
        assert [o.stamp_ns for o in sink.outputs] == [rgbd.stamp(0), rgbd.stamp(4)]
        assert len(sink.outputs[-1].result.people) == 2
        texts = [t for t, _ in sink.logs]
        assert any("frame rejected: unsupported image encoding" in t for t in texts)
        assert any("frame rejected: RuntimeError: a decoder bug" in t for t in texts)
        assert any(t.startswith("frame dropped: ImageError") and level == "error"
                   for t, level in sink.logs)
        assert stream.compute_ms_median > 0
    finally:
        stream.stop()


def test_a_result_waits_for_its_depth_partner_and_no_longer_than_the_wait():
    sink = Sink()
    stream = _stream(sink, use_depth=True, wait_s=0.5)
    stream.set_colour_info(Intrinsics(rgbd.k_matrix(), (640, 480)))
    _, bgr, depth = rgbd.frames()[0]
    try:
        stream.put(SimpleNamespace(image=bgr, stamp=rgbd.stamp(0)))
        time.sleep(0.3)  # computed by now (one top-down frame), but its depth is still to come
        assert not sink.outputs
        stream.put_depth(rgbd.stamp(0), "cam", depth)
        assert sink.published.wait(5.0)
        assert sink.outputs[0].no_depth is None
        assert ("follow target: no confirmed person with a 3D position", "info") not in \
            sink.logs  # nobody chosen yet is no change
        sink.published.clear()
        start = time.monotonic()
        stream.put(SimpleNamespace(image=bgr, stamp=rgbd.stamp(1)))  # its depth never comes
        assert sink.published.wait(5.0)
        assert time.monotonic() - start >= 0.5 - 0.05
        assert sink.outputs[1].no_depth.key == "no_partner"
        stream.put(SimpleNamespace(image=bgr, stamp=rgbd.stamp(2)))
    finally:
        stream.stop()
    s = stream.scheduler.stats
    assert s.received == s.published + s.dropped and s.pending == 0  # held: discarded
    assert stream.step.counts["with_3d"] == 1
