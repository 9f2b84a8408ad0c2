"""stream/sync.py: colour–depth pairing by stamp, the same rule live and offline."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pose_estimation_ros.stream.depth import NoDepth
from pose_estimation_ros.stream.sync import DepthSync

MS = 1_000_000


def _run(sync, events, flush=True):
    """events: ("c", stamp_ms, now) or ("d", stamp_ms, now); returns {colour stamp: depth
    stamp or reason key}."""
    out = {}
    now = 0.0
    for kind, stamp, now in events:
        if kind == "d":
            sync.add_depth(stamp * MS, "cam", stamp, now)
        else:
            sync.add_colour(stamp, stamp * MS, "cam", now, payload=stamp)
        for key, _, paired in sync.ready(now):
            out[key] = paired.key if isinstance(paired, NoDepth) else paired
    for key, _, paired in sync.ready(now, flush=flush):
        out[key] = paired.key if isinstance(paired, NoDepth) else paired
    return out


def test_nearest_within_tolerance_in_either_arrival_order():
    events = []
    for i in range(10):  # 30 Hz; depth 5 ms late in stamp, sent before or after the colour
        c, d = 100 + 33 * i, 100 + 33 * i + 5
        events += [("c", c, i / 30), ("d", d, i / 30 + 0.001)] if i % 2 else \
            [("d", d, i / 30), ("c", c, i / 30 + 0.001)]
    got = _run(DepthSync(0.02), events)
    assert got == {100 + 33 * i: 100 + 33 * i + 5 for i in range(10)}


def test_a_frame_waits_for_a_later_depth_stamp_and_takes_the_nearest():
    sync = DepthSync(0.02, wait_s=10.0)
    sync.add_depth(90 * MS, "cam", "d90", 0.0)
    sync.add_colour("c", 100 * MS, "cam", 0.0, payload="frame")
    assert sync.ready(0.01) == []  # a nearer depth may still come
    sync.add_depth(104 * MS, "cam", "d104", 0.02)
    [(key, payload, paired)] = sync.ready(0.02)
    assert (key, payload, paired) == ("c", "frame", "d104")


def test_wait_silence_and_flush_decide_without_a_later_depth():
    sync = DepthSync(0.02, wait_s=0.1, silence_s=1.0)
    sync.add_depth(100 * MS, "cam", "d", 0.0)
    sync.add_colour(1, 110 * MS, "cam", 0.0, payload=1)
    assert sync.ready(0.05) == [] and sync.deadline() == pytest.approx(0.1)
    [(_, _, paired)] = sync.ready(0.1)  # waited long enough: the nearest held
    assert paired == "d"
    sync.add_colour(2, 200 * MS, "cam", 2.0, payload=2)  # depth silent for 2 s: no waiting
    [(_, _, paired)] = sync.ready(2.0)
    assert paired.key == "no_partner" and "nearest 100 ms" in paired.detail
    offline = DepthSync(0.02, wait_s=5.0, silence_s=float("inf"))
    offline.add_colour(3, 300 * MS, "cam", 0.0, payload=3)
    assert offline.ready(1.0) == []
    [(_, _, paired)] = offline.ready(1.0, flush=True)  # the end of the bag
    assert paired.key == "no_depth_yet"


def test_results_come_out_in_order_when_attached_later():
    sync = DepthSync(0.02, wait_s=0.1)
    for i in (1, 2, 3):
        sync.add_colour(i, i * 100 * MS, "cam", 0.0)
        sync.add_depth(i * 100 * MS, "cam", i, 0.0)
    sync.attach(2, "two")
    assert sync.ready(1.0) == []  # 1 is still being computed and holds 2 back
    assert sync.cancel(1) and not sync.cancel(1)  # its processing failed
    sync.attach(3, "three")
    assert sync.ready(1.0) == [(2, "two", 2), (3, "three", 3)]
    with pytest.raises(KeyError):
        sync.attach(9, "nine")


def test_unregistered_depth_and_restarts():
    sync = DepthSync(0.02)
    sync.add_depth(100 * MS, "camera_depth_optical_frame", "d", 0.0)
    sync.add_colour(1, 100 * MS, "camera_color_optical_frame", 0.0, payload=1)
    [(_, _, paired)] = sync.ready(0.0)
    assert paired.key == "unregistered" and paired.reason.setup
    sync.add_depth(50 * MS, "camera_color_optical_frame", "after the loop", 0.1)  # backwards
    assert sync.restarts == 1
    sync.add_colour(2, 50 * MS, "camera_color_optical_frame", 0.1, payload=2)
    [(_, _, paired)] = sync.ready(0.1)
    assert paired == "after the loop"


def test_old_depth_is_dropped_and_memory_is_bounded():
    sync = DepthSync(0.02, max_depth_frames=8)
    for i in range(100):
        sync.add_depth(i * 10 * MS, "cam", i, i * 0.01)
    assert len(sync._stamps) == 8
    sync.add_colour("c", 995 * MS, "cam", 1.0, payload=None)
    assert sync.ready(1.0) == []  # 1000 ms may still come
    [(_, _, paired)] = sync.ready(1.1)
    assert paired == 99 and sync._stamps == [980 * MS, 990 * MS]  # ≥ 995 - 20 ms


def test_a_slow_depth_stream_waits_three_intervals():
    sync = DepthSync(0.02, wait_s=0.1)
    for i in range(6):  # 5 Hz depth
        sync.add_depth(i * 200 * MS, "cam", i, i * 0.2)
    assert sync.wait == pytest.approx(0.6)
    assert DepthSync(0.02, wait_s=0.1).wait == 0.1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 2000), min_size=1, max_size=40, unique=True),
       st.lists(st.integers(0, 2000), max_size=40, unique=True),
       st.integers(0, 60), st.booleans())
def test_offline_order_gives_the_nearest_within_tolerance_over_the_whole_stream(
        colour, depth, tolerance_ms, depth_first):
    """Whatever the interleaving, each colour frame gets the depth stamp nearest its own over
    the whole stream (ties: the earlier), or none beyond the tolerance."""
    colour, depth = sorted(colour), sorted(depth)
    events = [("d", d, d / 1000 - (0.001 if depth_first else -0.001)) for d in depth] + \
        [("c", c, c / 1000) for c in colour]
    events.sort(key=lambda e: e[2])
    got = _run(DepthSync(tolerance_ms / 1000, wait_s=1e9, silence_s=float("inf"),
                         max_depth_frames=10_000), events)
    for c in colour:
        if not depth:
            assert got[c] == "no_depth_yet"
            continue
        gaps = np.abs(np.array(depth) - c)
        best = depth[int(np.argmin(gaps))]
        if abs(best - c) <= tolerance_ms:
            assert got[c] == best, (c, got[c], best)
        else:
            assert got[c] in ("no_partner", "no_depth_yet"), (c, got[c])
