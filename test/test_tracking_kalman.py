"""tracking/kalman.py: the constant-velocity filter over a track's coordinates."""
import numpy as np

from pose_estimation_ros.tracking.kalman import KalmanParams, PoseKalman


def test_a_steady_walk_is_learnt_and_predicted():
    k = PoseKalman(np.array([100.0, 50.0]), 200.0, KalmanParams())
    for i in range(1, 30):
        k.predict(200.0)
        k.update(np.array([100.0 + 4 * i, 50.0]), np.array([True, True]), 200.0)
    np.testing.assert_allclose(k.v, [4.0, 0.0], atol=0.05)
    ahead = k.predict(200.0)
    np.testing.assert_allclose(ahead, [100.0 + 4 * 30, 50.0], atol=0.5)


def test_unobserved_coordinates_coast_and_grow_uncertain():
    k = PoseKalman(np.array([0.0, 0.0]), 100.0, KalmanParams())
    for i in range(1, 10):
        k.predict(100.0)
        k.update(np.array([2.0 * i, 5.0]), np.array([True, False]), 100.0)
    assert k.x[1] == 0.0 and k.v[1] == 0.0  # never corrected
    assert k.p00[1] > 10 * k.p00[0]  # the unseen coordinate is far less certain
    before = k.innovation_variance(100.0).copy()
    k.predict(100.0)
    assert np.all(k.innovation_variance(100.0) > before)


def test_noise_scales_with_the_person_size():
    small = PoseKalman(np.zeros(2), 50.0, KalmanParams())
    big = PoseKalman(np.zeros(2), 500.0, KalmanParams())
    small.predict(50.0)
    big.predict(500.0)
    np.testing.assert_allclose(big.innovation_variance(500.0),
                               100 * small.innovation_variance(50.0))
    # the covariance stays symmetric positive definite per coordinate
    for k in (small, big):
        assert np.all(k.p00 > 0) and np.all(k.p00 * k.p11 - k.p01 ** 2 > 0)
