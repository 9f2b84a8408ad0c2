"""One-Euro filter behaviour on synthetic signals."""
import numpy as np
import pytest

from pose_estimation_ros.tracking.smoothing import OneEuroFilter, OneEuroParams


def test_still_point_jitter_is_reduced():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(OneEuroParams(min_cutoff=1.0, beta=0.0))
    raw = 100 + rng.uniform(-2, 2, size=(300, 2))
    out = np.array([f(v, i / 30) for i, v in enumerate(raw)])
    assert np.diff(out[10:], axis=0).std() < 0.5 * np.diff(raw[10:], axis=0).std()


def test_time_going_backwards_or_jumping_restarts_without_error():
    f = OneEuroFilter(OneEuroParams(min_cutoff=0.1))
    f(np.array([0.0]), 1.0)
    f(np.array([0.0]), 1.1)
    assert f(np.array([50.0]), 0.5)[0] == 50.0  # backwards: raw value, fresh state
    assert f.restarts == 1
    f(np.array([50.0]), 0.6)
    assert f(np.array([80.0]), 5.0)[0] == 80.0  # a gap over max_gap restarts too
    assert f.restarts == 2


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError):
        OneEuroParams(min_cutoff=0)
