"""tracking/appearance.py and reid.py pieces: signatures, their distance, the plausible body
that confirmation asks for, the settings' checks. The behaviour on real frames is in
test_following_reid.py."""
import numpy as np
import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.core.topology import COCO17
from pose_estimation_ros.tracking.appearance import BINS, Signature, signature
from pose_estimation_ros.tracking.pose_box import BodyParts, plausible
from pose_estimation_ros.tracking.reid import ReidConfig


def _hist(*bins: int) -> np.ndarray:
    h = np.zeros(BINS)
    h[list(bins)] = 1.0
    return h / h.sum()


def test_signature_distance_and_running_mean():
    a = Signature({"torso": _hist(0), "upper_legs": _hist(39)}, {"torso": 1, "upper_legs": 1})
    b = Signature({"torso": _hist(5)}, {"torso": 1})
    assert a.distance(a) == pytest.approx(0.0, abs=1e-12)
    assert a.distance(b) == pytest.approx(1.0) == b.distance(a)  # disjoint torso colours
    assert a.distance(Signature({"lower_legs": _hist(1)}, {"lower_legs": 1})) is None
    mean = Signature()
    for _ in range(30):
        mean.update(b)
    mean.update(Signature({"torso": _hist(0)}, {"torso": 1}))
    assert mean.weights["torso"] == 20.0  # a running mean over the last ~20 observations
    assert mean.parts["torso"][0] == pytest.approx(1 / 20)


@needs_shared
def test_signatures_of_real_people():
    """One person's single-frame signatures a second apart are close (the recording is noisy
    at that scale: 0.22 here, the 3-frame means in README 0.07–0.14); the same person tinted
    green is far."""
    import scenes

    outputs = rgbd.run_outputs()
    frames = rgbd.frames()
    box = scenes.standing_boxes()

    def sig(i, tint=False):
        person = min(outputs[i].result.people, key=lambda p: p.keypoints[0, 1])
        image = scenes.tinted(frames[i][1], box[i]) if tint else frames[i][1]
        return signature(image, person, COCO17)
    first, later = sig(0), sig(10)
    assert set(first.parts) >= {"torso", "upper_arms"}
    assert first.distance(later) < 0.3 and first.distance(sig(10, tint=True)) > 0.5


def test_a_plausible_body_has_half_its_keypoints_and_a_torso():
    parts = BodyParts.of(COCO17)
    good = np.zeros(17, bool)
    good[[0, 1, 2, 3, 4, 5, 6, 11, 12]] = True
    assert plausible(good, parts)
    assert not plausible(np.zeros(17, bool), parts)  # the hoop: nothing confident
    arms = np.zeros(17, bool)
    arms[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] = True  # no hip
    assert not plausible(arms, parts)


def test_reid_settings_are_checked():
    with pytest.raises(ValueError, match="reid_window must be >= 0"):
        ReidConfig(window=-1.0)
    with pytest.raises(ValueError):
        ReidConfig(threshold=0.0)
