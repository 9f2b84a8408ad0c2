"""Latency stays bounded when frames come faster than the node can process them: the node
works on the latest frame only, so a frame waits at most for the one in progress. The node runs
as its own process (as deployed); frames and poses cross DDS; counts come from /diagnostics.

The input rate is set from the node's own per-frame compute (`compute_ms_median` in
/diagnostics), not from the round trip, which also holds DDS transport and the probe's own
delays: on a fast idle CPU the compute is a small part of the round trip, and a rate derived
from it was no overload at all. A run whose input did not exceed the node's processing rate is
a test error (it proves nothing), never a pass."""
import signal
import time
from collections import Counter

import numpy as np
import pytest
from ros_graph import (  # noqa
    RELIABLE,
    NodeProcess,
    _no_node_process_outlives_its_test,
    graph,
    image_msg,
    video_frames,
    wait_for,
)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402


def _key(msg) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def test_latency_is_bounded_at_2x_and_4x_overload(graph):
    node = NodeProcess("-p", "pipeline:=topdown", "-p", "det_interval:=1",
                       "-p", "diagnostics_period:=0.2", "-r", "image:=/overload/image",
                       "-r", "poses:=/overload/poses", name="overload")
    node.wait_started()
    arrivals, published = {}, Counter()

    def on_poses(m) -> None:
        arrivals.setdefault(_key(m), time.monotonic())
        published[_key(m)] += 1

    diagnostics = []
    graph.probe.create_subscription(PersonPoseArray, "/overload/poses", on_poses, 100)
    graph.probe.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    pub = graph.probe.create_publisher(Image, "/overload/image", RELIABLE)
    assert wait_for(lambda: "reliable: matching" in node.output, 10), node.output
    # messages built once: the publisher's own work per frame is the publish call alone, so
    # on a loaded 2-core machine the sender is not what limits the input rate
    messages = [image_msg(f, frame_id="cam")
                for f in video_frames("mmaction2_demo_skeleton.mp4", 30)]
    sent = {}

    def send(i: int) -> tuple[int, int]:
        msg = messages[i % len(messages)]
        msg.header.stamp.sec, msg.header.stamp.nanosec = 1000 + i // 1000, (i % 1000) * 1000
        sent[_key(msg)] = time.monotonic()
        pub.publish(msg)
        return _key(msg)

    def status() -> dict:  # the node's latest report
        for m in reversed(diagnostics):
            for s in m.status:
                if s.name.startswith("/overload:"):
                    return {kv.key: kv.value for kv in s.values}
        return {}

    def counts() -> dict[str, int]:
        return {k: int(v) for k, v in status().items()
                if k.startswith("frames_") and v.isdigit()}

    def settled(total: int) -> bool:  # every frame sent is in, and none is still in progress
        c = counts()
        return bool(c) and c["frames_received"] + c["frames_missed"] == total and \
            c["frames_received"] == c["frames_published"] + c["frames_dropped"]

    # a frame published while the node's reliable subscription is still being matched is lost
    # without a trace: send until one comes back, then count from there
    assert wait_for(lambda: pub.get_subscription_count() == 1, 10)
    for i in range(30):
        key = send(i)
        if wait_for(lambda: key in arrivals, 3):
            break
    assert key in arrivals, node.output
    assert wait_for(lambda: bool(counts()) and counts()["frames_published"] == 1, 10)
    base = counts()["frames_received"] + counts()["frames_missed"]
    calibration = []
    for i in range(50, 62):  # one at a time: the round trip and the node's compute
        calibration.append(key := send(i))
        assert wait_for(lambda: key in arrivals, 30), node.output
    round_trip = float(np.median([arrivals[k] - sent[k] for k in calibration[4:]]))
    assert wait_for(lambda: settled(base + 12), 10), status()
    compute = float(status()["compute_ms_median"]) / 1000
    assert compute > 0, status()
    figures, first, total = {}, 100, base + 12
    for factor in (2, 4):
        before = counts()
        keys = []
        # long enough that a queue would be seconds behind by the end (a 2x input queues
        # half of what it sends). The interval follows the node's compute as /diagnostics
        # reports it during the phase: the publisher and the node share the CPU, so the node's
        # compute under load is not the idle figure of the calibration.
        duration = max(3.0, 60 * compute)
        start = next_send = time.monotonic()
        i = first
        while time.monotonic() < start + duration:
            keys.append(send(i))
            i += 1
            current = float(status().get("compute_ms_median", "nan")) / 1000
            next_send += (current if current > 0 else compute) / factor
            time.sleep(max(0.0, next_send - time.monotonic()))
        input_hz = len(keys) / (time.monotonic() - start)
        first, total = i + 100, total + len(keys)
        assert wait_for(lambda: settled(total), 30), status()
        after, phase_compute = counts(), float(status()["compute_ms_median"]) / 1000
        delta = {k: after[k] - before[k] for k in after}
        if input_hz < 1.5 / phase_compute:
            pytest.fail(f"test error, not a result: {input_hz:.0f} frames/s sent, but the node "
                        f"processes {1 / phase_compute:.0f} frames/s ({1000 * phase_compute:.1f}"
                        f" ms each): the input was no overload, so this run proves nothing",
                        pytrace=False)
        latencies = np.array([arrivals[k] - sent[k] for k in keys if k in arrivals])
        median, p95 = np.percentile(latencies, [50, 95])
        figures[factor] = (median, p95, len(keys), len(latencies), input_hz, phase_compute,
                           delta["frames_replaced"], delta["frames_missed"])
        # the node skipped frames rather than queue them (frames lost in DDS's queue, counted
        # as missed, are not the node's doing and do not count here)
        assert delta["frames_replaced"] > 0, (factor, delta)
        assert delta["frames_rejected"] == delta["frames_failed"] == 0, delta
        # a frame waits for at most the one in progress, then takes its own time, plus the
        # transport both ways; twice that, as margin for a 2-core machine that also runs the
        # publisher. A queue would grow without bound instead: seconds after this phase.
        bound = 2 * (round_trip + phase_compute) + 0.1
        assert p95 < bound, (factor, bound, np.round(latencies, 3).tolist())
    c = counts()
    assert c["frames_received"] + c["frames_missed"] == total
    assert c["frames_published"] == len(arrivals) == sum(published.values())
    assert max(published.values()) == 1  # nothing published twice
    assert set(arrivals) <= set(sent)
    node.proc.send_signal(signal.SIGINT)
    assert node.finish() == 0, node.output
    print(f"\noverload (top-down rtmdet-nano + movenet-thunder, 640x360): round trip "
          f"{1000 * round_trip:.0f} ms, node compute {1000 * compute:.0f} ms; " + "; ".join(
              f"{k}x: {hz:.0f} frames/s in against {1 / pc:.0f}/s processed ({1000 * pc:.0f} ms"
              f"), latency median {1000 * m:.0f} ms, p95 {1000 * p:.0f} ms ({n} frames in, "
              f"{got} published, {rep} replaced, {miss} missed in DDS)"
              for k, (m, p, n, got, hz, pc, rep, miss) in figures.items())
          + f"; totals {c['frames_received']} received, {c['frames_missed']} missed, "
            f"{c['frames_published']} published, {c['frames_replaced']} replaced")
