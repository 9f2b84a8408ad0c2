"""The pose budget on real models and real frames (issue 35): the hug clip tiled 2×2 (about 8
people) through the whole frame step, as `bench/crowd.py` runs it."""
import sys
from pathlib import Path

import pytest
from conftest import DATA, needs_shared

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import crowd  # noqa: E402

pytestmark = needs_shared


@pytest.fixture(scope="module")
def clip():
    return crowd.clip_frames(DATA / "videos" / "mmaction2_demo_skeleton.mp4")


def test_a_budget_of_three_on_eight_people(clip):
    free = crowd.run(clip, 2, 40, budget=0, interval=8)
    spent = crowd.run(clip, 2, 40, budget=3, interval=8)
    assert free["crops"] > 6.5 and free["predicted"] == 0.0 and not len(free["err"])
    assert spent["crops"] < 4.0  # the budget, exceeded only where people enter or are due
    assert spent["people"] >= free["people"] - 0.5  # left out of a crop, not of the output
    assert spent["target"] == 1.0 and spent["target_frames"] >= 30  # the target: every frame
    assert spent["longest"] <= 7  # everyone measured at least every 8 frames
    assert spent["ids"] <= 10  # ≤ 1.3 × the 8 people
    # predictions stay near what the head would have given on the same boxes
    assert 0.3 < spent["predicted"] < 0.8 and float(spent["rel"].mean()) < 0.05
