"""core/: results, track states, the shared sigmoid and topology maps."""
import json

import numpy as np
import pytest

from pose_estimation_ros.core.numeric import sigmoid
from pose_estimation_ros.core.results import Person, TrackState
from pose_estimation_ros.core.topology import BLAZEPOSE33, MPII16, get_topology, to_coco17


def test_track_states_match_the_message_constants_and_serialise_as_text():
    assert [s.msg_value for s in TrackState] == [0, 1, 2, 3, 0]
    assert TrackState.CONFIRMED == "confirmed" and str(TrackState.PREDICTED) == "predicted"
    p = Person(np.zeros(4), 0.5, np.zeros((17, 2)), np.ones(17), track_id=3,
               track_state=TrackState.CONFIRMED)
    assert json.loads(json.dumps(p.to_dict()))["track_state"] == "confirmed"
    assert "track_state" not in Person(np.zeros(4), 0.5, np.zeros((17, 2)),
                                       np.ones(17)).to_dict()


def test_sigmoid_in_place_and_out_of_place_agree():
    x = np.array([-3.0, 0.0, 2.0], np.float32)
    expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-6)
    y = x.copy()
    assert sigmoid(y, out=y) is y
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_topology_maps_to_coco17():
    kps = np.arange(33 * 2, dtype=np.float32).reshape(33, 2)
    out, scores, have = to_coco17(BLAZEPOSE33, kps, np.ones(33))
    assert have.all() and np.array_equal(out[1], kps[2])  # left eye
    _, _, have = to_coco17(MPII16, np.zeros((16, 2)), np.ones(16))
    assert have.sum() == 12 and not have[:5].any()  # no face joints
    with pytest.raises(KeyError, match="unknown topology"):
        get_topology("h36m")
