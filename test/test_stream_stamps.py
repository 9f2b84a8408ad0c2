"""stream/stamps.py, stream/log_throttle.py and transport/qos.py: stamp checks, per-reason log
throttle, QoS choice and input-loss counting."""
import pytest

from pose_estimation_ros.stream.log_throttle import ReasonThrottle
from pose_estimation_ros.stream.stamps import StampChecker
from pose_estimation_ros.transport.qos import SequenceGaps, choose_reliability

S = 1_000_000_000


def test_stamps_are_classified_and_unknown_latency_is_never_invented():
    check = StampChecker()
    now = 1000 * S
    ok = check.check(999 * S, now)
    assert (ok.kind, ok.latency, ok.pipeline_stamp) == ("ok", 1.0, 999.0)
    zero = check.check(0, now)  # a driver that never sets the stamp
    assert zero.kind == "unknown" and zero.latency is None and zero.pipeline_stamp == 1000.0
    future = check.check(1005 * S, now)
    assert future.kind == "future" and future.latency is None and future.pipeline_stamp == 1005.0
    assert check.check(1005 * S, 1006 * S).kind == "duplicate"
    assert check.check(998 * S, 1006 * S).kind == "backwards"
    assert dict(check.counts) == {"ok": 1, "unknown": 1, "future": 1, "duplicate": 1,
                                  "backwards": 1}
    assert "ahead of this node's clock" in check.describe(future, 1005 * S, now)
    assert check.describe(ok, 999 * S, now) is None


def test_each_reason_has_its_own_throttle():
    t = [0.0]
    throttle = ReasonThrottle(5.0, clock=lambda: t[0])
    reasons = [f"unsupported image encoding {e!r}" for e in ("16UC1", "32FC1", "yuv422")] + \
              ["empty image (0×0)", "empty image (0×10)"]
    assert all(throttle(r) == r for r in reasons)  # 5 different reasons: 5 lines
    assert throttle("empty image (0×0)") is None  # the same again within 5 s
    assert throttle("stamp 3.1 s ahead", key="future") == "stamp 3.1 s ahead"
    assert throttle("stamp 3.2 s ahead", key="future") is None
    t[0] = 6.0
    assert throttle("empty image (0×10)") == "empty image (0×10)"
    assert throttle("empty image (0×0)") == "empty image (0×0) (1 more like this in the last 5 s)"


def test_qos_auto_matches_the_publishers():
    assert choose_reliability("auto", [])[0] == "best_effort"
    assert choose_reliability("auto", ["reliable", "reliable"])[0] == "reliable"
    assert choose_reliability("auto", ["reliable", "best_effort"])[0] == "best_effort"
    assert choose_reliability("reliable", ["best_effort"])[0] == "reliable"
    with pytest.raises(ValueError, match="qos_reliability must be one of"):
        choose_reliability("fast", [])


def test_sequence_gaps_count_lost_frames():
    gaps = SequenceGaps()
    assert [gaps.update(n) for n in (1, 2, 5, 6, 9)] == [0, 0, 2, 0, 2]
    assert gaps.update(1) == 0 and gaps.update(2) == 0  # publisher restarted
    assert gaps.lost == 4
