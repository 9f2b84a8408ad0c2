"""cli/evaluation.py: one-to-one matching, the working-threshold PCK, bad annotation files."""
import json
import logging

import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.cli.evaluation import AnnotationError, evaluate, match_people
from pose_estimation_ros.cli.main import main
from pose_estimation_ros.core.results import FrameResult, Person
from pose_estimation_ros.core.topology import COCO17

MERGED = DATA / "coco17_eval_merged.json"


def _ann(x, y, id_=1, image_id=1):
    kps = np.zeros((17, 3))
    kps[:, 0] = x + np.arange(17) * 3
    kps[:, 1] = y + np.arange(17) * 10
    kps[:, 2] = 2
    return {"id": id_, "image_id": image_id, "bbox": [x, y, 60, 180], "area": 60 * 180.0,
            "keypoints": kps.ravel().tolist(), "num_keypoints": 17, "category_id": 1,
            "iscrowd": 0}


def test_one_prediction_cannot_serve_two_people():
    """Two people side by side and one prediction on the first: only the first is matched;
    the old best-OKS-per-person rule gave the second one the same prediction."""
    a, b = _ann(100, 100), _ann(130, 100, id_=2)
    pred = np.asarray(a["keypoints"]).reshape(17, 3)[:, :2]
    assert match_people([pred], [0.9], [a, b]) == [0, -1]
    # two predictions: the higher score chooses first, the other takes who is left
    assert match_people([pred, pred + 1], [0.2, 0.9], [a, b]) == [1, 0]


def _write(tmp_path, content, name="ann.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("DIR", "is a directory"),
    ("{not json", "is not JSON"),
    ([1, 2], "holds a JSON list"),
    ({"images": []}, "has no 'annotations' list"),
    ({"images": [{"id": 1, "file_name": "a.jpg"}],
      "annotations": [{**_ann(0, 0), "keypoints": [0] * 50}]}, "has 50 keypoint values"),
    ({"images": [{"id": 1}], "annotations": []}, "needs 'id' and 'file_name'"),
])
def test_bad_annotation_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "missing.json"
    if content == "DIR":
        path = tmp_path / "folder"
        path.mkdir()
    elif content is not None:
        path = _write(tmp_path, content)
    with pytest.raises(AnnotationError, match=message) as err:
        evaluate(path, tmp_path, lambda image, boxes: None)
    assert str(path) in str(err.value)


def test_unknown_image_ids_and_unlabelled_files_are_warned(tmp_path, caplog):
    (tmp_path / "a.png").write_bytes(b"")  # never read: no person to predict
    data = {"images": [{"id": 1, "file_name": "a.png"}],
            "annotations": [{**_ann(0, 0), "image_id": 7}]}
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((32, 32, 3), np.uint8))
    with caplog.at_level(logging.WARNING):
        result = evaluate(_write(tmp_path, data), tmp_path,
                          lambda image, boxes: FrameResult(0, (32, 32), COCO17))
    text = caplog.text
    assert "refers to image_id 7, which is not in 'images': left out" in text
    assert "has no person with labelled keypoints" in text
    assert result.persons == 0


def test_cli_turns_a_bad_file_into_an_error_line(tmp_path, capsys):
    code = main(["eval", "--coco", str(tmp_path / "nope.json"), "--images", str(tmp_path),
                 "--no-progress"])
    assert code == 2
    assert "error: annotation file" in capsys.readouterr().err


def test_predictions_are_scored_by_what_they_found(tmp_path):
    """A synthetic image set: one prediction exactly on person 1, a low-score one on
    person 2: PCK 1.0 with every prediction, 0.5 at the working threshold."""
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((400, 400, 3), np.uint8))
    a, b = _ann(100, 100), _ann(250, 100, id_=2)
    data = {"images": [{"id": 1, "file_name": "a.png", "width": 400, "height": 400}],
            "annotations": [a, b], "categories": [{"id": 1, "name": "person"}]}

    def predict(image, boxes):
        people = [Person(np.zeros(4, np.float32), s, np.asarray(ann["keypoints"], np.float32)
                         .reshape(17, 3)[:, :2], np.ones(17, np.float32))
                  for ann, s in ((a, 0.9), (b, 0.1))]
        return FrameResult(0, (400, 400), COCO17, people)

    result = evaluate(_write(tmp_path, data), tmp_path, predict, per_image=True)
    assert result.pck == 1.0 and result.pck_working == 0.5 and result.ap == 1.0
    assert [(r.persons, r.predictions, r.matched) for r in result.per_image] == [(2, 2, 2)]


@needs_shared
def test_per_image_table_and_working_pck(capsys):
    code = main(["eval", "--coco", str(MERGED), "--images", str(DATA / "mmpose_tests"),
                 "--pipeline", "topdown", "--per-image", "--no-progress"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    rows = [line for line in lines if line.startswith("| ") and ".jpg" in line]
    assert len(rows) == 10 and sum(int(r.split("|")[2]) for r in rows) == 21
    assert lines[-2].startswith("PCK@0.2 of the people found at score >= 0.5")
    assert lines[-1].startswith("AP=") and lines[-1].endswith("persons=21 images=10")


def test_with_gt_boxes_each_pose_is_its_own_boxs_person(tmp_path):
    """A head that returns the neighbour's pose for each box scores 0 with GT boxes (each box
    is one person), though greedy matching would pair the poses up and give 1."""
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((400, 400, 3), np.uint8))
    a, b = _ann(100, 100), _ann(250, 100, id_=2)
    path = _write(tmp_path, {"images": [{"id": 1, "file_name": "a.png"}],
                             "annotations": [a, b]})

    def swapped(image, boxes):
        assert len(boxes) == 2
        people = [Person(box, 1.0, np.asarray(ann["keypoints"], np.float32)
                         .reshape(17, 3)[:, :2], np.ones(17, np.float32))
                  for box, ann in zip(boxes, (b, a))]
        return FrameResult(0, (400, 400), COCO17, people)

    assert evaluate(path, tmp_path, swapped, gt_boxes=True).pck == 0.0
    assert evaluate(path, tmp_path, swapped).pck == 1.0
