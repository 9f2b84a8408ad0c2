"""`eval --hands` (cli/hand_evaluation.py): hand PCK@0.2 and EPE on the three hand-crop sets
(the box given) and on COCO-WholeBody (hands through the body pipeline), and the error for a
command that gives both or neither annotation file."""
import re

import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.cli.main import main

pytestmark = needs_shared
HANDS = DATA / "mmpose_tests" / "hands"
LINE = re.compile(r"^hand_PCK@0\.2=(\d\.\d{3}) hand_EPE_px=(\d+\.\d{2}) hands=(\d+) "
                  r"images=(\d+)$")
#: MediaPipe 0.10.14's own hand landmarker (mp.solutions.hands, model_complexity 1, static
#: images) on the same crops, measured by bench/compare_mediapipe_hands.py: the issue's bar is
#: this less 0.02
MEDIAPIPE = {"freihand": 0.637, "onehand10k": 1.000, "panoptic": 0.595}


def _eval(capsys, *args) -> tuple[str, tuple]:
    assert main(["eval", *map(str, args), "--no-progress"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    match = LINE.match(out[-1])
    assert match, out[-1]  # the last line is an interface: kept exactly
    return "\n".join(out), tuple(float(g) for g in match.groups())


@pytest.mark.parametrize("name", sorted(MEDIAPIPE))
def test_hand_crops_at_least_as_accurate_as_mediapipe(capsys, name):
    out, (pck, epe, hands, images) = _eval(
        capsys, "--hands", HANDS / name / f"test_{name}.json", "--images", HANDS / name)
    assert hands == images == {"freihand": 8, "onehand10k": 4, "panoptic": 4}[name]
    assert pck >= MEDIAPIPE[name] - 0.02, out
    assert 0 < epe < 20
    assert "crops: the GT box" in out


def test_whole_body_hands_are_found_through_the_body_with_their_side(capsys):
    """10 labelled hands of 7 people, 11–31 px wide (gloved fists on poles and bats): at
    least 8 found on the right person's right side."""
    out, (pck, epe, hands, images) = _eval(
        capsys, "--hands", DATA / "mmpose_tests" / "coco" / "test_coco_wholebody.json",
        "--images", DATA / "mmpose_tests" / "coco", "--pipeline", "topdown")
    found = int(re.search(r"found (\d+) of 10 labelled hands with the right side", out)[1])
    assert hands == 10 and images == 4 and found >= 8, out
    assert 0 < pck < 1 and epe < 30  # small hands: reported, whatever they are


def test_one_annotation_file_is_needed(capsys):
    assert main(["eval", "--images", str(HANDS)]) == 2
    assert "give --coco FILE (body keypoints) or --hands FILE" in capsys.readouterr().err
    assert main(["eval", "--images", str(HANDS), "--coco", "a.json", "--hands", "b.json"]) == 2
    assert main(["eval", "--images", str(HANDS), "--hands", str(HANDS / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
