"""transport/rep155.py: REP-155 body ids, the Skeleton2D slots of every topology, NECK, left and
right by the message's constants (on a mirrored photo), ROI and crop, the frame orientation;
`bag --rep155` writes the topics, the same on every run, and rosbags reads them back."""
import cv2
import numpy as np
import pytest
from conftest import DATA, needs_shared
from test_bags import frames, make_bag, read_topic

from pose_estimation_ros.cli.main import main
from pose_estimation_ros.core.results import Person
from pose_estimation_ros.core.topology import BLAZEPOSE33, COCO17, MPII16
from pose_estimation_ros.transport import rep155

SLOT = {name: i for i, name in enumerate(rep155.SLOTS)}


def test_body_ids_start_with_a_letter_are_short_and_never_repeat():
    bodies = rep155.Bodies(rep155.session_prefix())
    ids = [bodies.body_id(t) for t in range(2000)]
    assert len(set(ids)) == 2000 and all(i[0].isalpha() and i.isalnum() for i in ids)
    assert max(len(i) for i in ids) <= 3 + 3  # prefix + base 36 of 1999 ("1jj")
    assert rep155.session_prefix("session01.bag") == rep155.session_prefix("session01.bag")
    assert rep155.session_prefix("a").isalpha() and len(rep155.session_prefix()) == 3
    assert bodies.body_id(35) == bodies.prefix + "z" and bodies.body_id(36) == bodies.prefix + "10"


def test_the_message_definitions_keep_the_constants_of_the_released_package():
    text = (rep155.MSG_DIR / "Skeleton2D.msg").read_text()
    for slot, name in enumerate(("NOSE", "NECK", "RIGHT_SHOULDER", "RIGHT_ELBOW", "RIGHT_WRIST",
                                 "LEFT_SHOULDER", "LEFT_ELBOW", "LEFT_WRIST", "RIGHT_HIP",
                                 "RIGHT_KNEE", "RIGHT_ANKLE", "LEFT_HIP", "LEFT_KNEE",
                                 "LEFT_ANKLE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR",
                                 "RIGHT_EAR")):
        assert f"uint8 {name} = {slot}\n" in text
        assert rep155.SLOTS[slot] == ("neck" if name == "NECK" else name.lower())
    assert "NormalizedPointOfInterest2D[18] skeleton" in text


def _person(topology, seed=0):
    rng = np.random.default_rng(seed)
    k = topology.num_keypoints
    return Person(bbox=np.array([-10, 40, 300, 470], np.float32), score=0.8,
                  keypoints=rng.uniform(0, 600, (k, 2)).astype(np.float32),
                  keypoint_scores=rng.uniform(0.1, 1, k).astype(np.float32))


@pytest.mark.parametrize("topology", [COCO17, BLAZEPOSE33, MPII16], ids=lambda t: t.name)
def test_every_topology_fills_the_slots_it_has(topology):
    person = _person(topology)
    points = rep155.skeleton_points(person, topology, (640, 480))
    names = topology.keypoints
    for slot, (x, y, c) in zip(rep155.SLOTS, points):
        if slot == "neck":
            a, b = names.index("left_shoulder"), names.index("right_shoulder")
            mid = (person.keypoints[a] + person.keypoints[b]) / 2
            assert (x, y) == pytest.approx((mid[0] / 640, min(mid[1] / 480, 1.0)))
            assert c == pytest.approx(min(person.keypoint_scores[[a, b]])) or mid[1] > 480
        elif slot in names:
            kp = person.keypoints[names.index(slot)]
            inside = kp[0] <= 640 and kp[1] <= 480
            assert (x, y) == pytest.approx((min(kp[0] / 640, 1), min(kp[1] / 480, 1)))
            assert c == pytest.approx(person.keypoint_scores[names.index(slot)] if inside else 0)
        else:  # MPII has no face joints
            assert c == 0.0
    assert rep155.roi(person, (640, 480)) == pytest.approx((0.0, 40 / 480, 300 / 640, 470 / 480))


@needs_shared
def test_left_and_right_follow_the_constants_on_a_photo_and_its_mirror():
    """A person facing the camera: their left wrist is on the image's right. In Skeleton2D
    that is slot LEFT_WRIST (7), not OpenPose's order; the mirrored photo shows a person
    facing the camera whose left is again on the image's right, and the slots swap with it."""
    from pose_estimation_ros.pipelines.registry import PipelineOptions, create_pipeline

    image = cv2.imread(str(DATA / "rgbd" / "color" / "00030.png"))  # two people, frontal
    pipeline = create_pipeline(PipelineOptions(pipeline="topdown", static_image_mode=True))
    size = (image.shape[1], image.shape[0])
    seen = []
    for picture in (image, np.ascontiguousarray(image[:, ::-1])):
        people = pipeline.process(picture).people  # the standing one: the taller box
        person = max(people, key=lambda p: p.bbox[3] - p.bbox[1])
        seen.append(rep155.skeleton_points(person, COCO17, size))
    for points in seen:
        for side in ("shoulder", "hip"):
            left, right = points[SLOT[f"left_{side}"]], points[SLOT[f"right_{side}"]]
            assert left[0] > right[0], (side, left, right)
    original, mirrored = seen
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        other = name.replace("left", "x").replace("right", "left").replace("x", "right")
        assert mirrored[SLOT[name]][0] == pytest.approx(1 - original[SLOT[other]][0], abs=0.03)


def test_the_body_frame_is_upright_and_faces_the_camera():
    for position in ([0.0, 0.2, 2.0], [1.0, -0.3, 2.0], [-2.0, 0.0, 0.5], [0.0, 0.0, -1.0]):
        q = np.array(rep155.upright_facing_camera(np.array(position)))
        x, y, z, w = q
        r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                      [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                      [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        assert np.linalg.norm(q) == pytest.approx(1)
        np.testing.assert_allclose(r[:, 2], [0, -1, 0], atol=1e-9)  # z: up (optical -y)
        back = -np.array([position[0], 0, position[2]]) / np.hypot(position[0], position[2])
        np.testing.assert_allclose(r[:, 0], back, atol=1e-9)  # x: level, to the camera


@needs_shared
def test_bag_writes_the_rep155_topics_the_same_on_every_run(tmp_path):
    make_bag(tmp_path / "in", frames(40, DATA / "videos" / "mmaction2_demo_skeleton.mp4"),
             storage="mcap")
    for run in ("one", "two"):
        assert main(["bag", str(tmp_path / "in"), "--output", str(tmp_path / run),
                     "--pipeline", "topdown", "--rep155", "--no-progress"]) == 0
    tracked, conns = read_topic(tmp_path / "one" / "in.poses", "/humans/bodies/tracked")
    poses, _ = read_topic(tmp_path / "one" / "in.poses", "/poses")
    assert len(tracked) == len(poses) == 40 and conns[0].msgtype == "hri_msgs/msg/IdsList"
    ids = {i for _, _, m in tracked for i in m.ids}
    prefix = rep155.session_prefix("in")
    assert ids == {prefix + "0", prefix + "1"}  # the hug's two people, confirmed
    assert [m.header.stamp for _, _, m in tracked] == [m.header.stamp for _, _, m in poses]
    for body in ids:
        for suffix, kind in (("roi", "NormalizedRegionOfInterest2D"),
                             ("skeleton2d", "Skeleton2D"), ("cropped", "Image")):
            msgs, conns = read_topic(tmp_path / "one" / "in.poses",
                                     f"/humans/bodies/{body}/{suffix}")
            assert msgs and conns[0].msgtype.endswith(kind)
    from rosbags.highlevel import AnyReader

    from pose_estimation_ros.bags.types import typestore

    def everything(run):
        with AnyReader([tmp_path / run / "in.poses"], default_typestore=typestore()) as r:
            return [(c.topic, t, bytes(raw)) for c, t, raw in r.messages()]
    assert everything("one") == everything("two")  # byte for byte
