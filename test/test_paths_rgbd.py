"""A real RGB-D recording (../shared/data/rgbd: RealSense, two people, aligned depth) gets the
same answer from `run` on the folders and from `bag` on an MCAP of the same frames: the frame
step's outputs equal to 1e-6, and the files to their formats' precision. The node's path is in
test_ros_node_rgbd.py."""
import csv
import json
import re

import numpy as np
import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.bags.process import BagJob, process_bag
from pose_estimation_ros.bags.types import typestore
from pose_estimation_ros.cli.main import main

pytestmark = needs_shared


@pytest.fixture(scope="module")
def reference():
    """`run`'s frame step outputs: the colour and depth folders as a 10 Hz sequence."""
    return rgbd.run_outputs()


def test_run_on_the_folders_follows_both_people_in_3d(reference, tmp_path, capsys):
    figures = rgbd.check_following(reference)
    print(f"\nrgbd via run: {figures}")
    capsys.readouterr()
    assert main(["run", str(rgbd.RGBD / "color"), "--output", str(tmp_path), "--depth",
                 str(rgbd.RGBD / "depth"), "--intrinsics", rgbd.intrinsics_arg(), "--fps",
                 "10", "--start-stamp", "1700000000", "--no-progress", *rgbd.PIPELINE]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].endswith("(sequence: 40 consecutively numbered images of one size)")
    assert re.fullmatch(r"depth: 3D on 40 of 40 frames; follow targets: \[\d+\]", out[-2])
    assert out[-1].startswith("frames=40 people_per_frame=2.00 tracks=2 ")
    records = [json.loads(line) for line in (tmp_path / "keypoints.jsonl").open()]
    assert [r["stamp_ns"] for r in records] == [o.stamp_ns for o in reference]
    for record, ref in zip(records, reference):  # JSON keeps 2 decimals (px), 4 (m)
        assert record["target_track_id"] == ref.target.track_id
        assert record["depth_status"] == "ok"
        got = {p["track_id"]: p for p in record["people"]}
        for person in ref.result.people:
            p = got[person.track_id]
            np.testing.assert_allclose(p["keypoints"], person.keypoints, atol=0.005 + 1e-9)
            xyz = [[np.nan] * 3 if q is None else q for q in p["positions"]]
            np.testing.assert_allclose(xyz, person.positions, atol=5e-5 + 1e-9)


def test_bag_of_the_same_frames_gives_the_same_people_ids_and_3d(reference, tmp_path):
    from pose_estimation_ros.cli.commands import _options
    from pose_estimation_ros.cli.main import build_parser
    from pose_estimation_ros.stream.step import StepConfig, create_step

    store = typestore()
    rgbd.write_bag(tmp_path / "session", rgbd.frames(), store)
    from pose_estimation_ros.settings.cli import values_of

    args = build_parser().parse_args(["bag", "in", "--output", "out", *rgbd.PIPELINE])
    args.values = values_of(args, "bag")
    step = create_step(_options(args), StepConfig(use_depth=True))
    observed = []
    job = BagJob(tmp_path / "session", tmp_path / "session.poses", image_topic=rgbd.COLOUR,
                 depth_topic=rgbd.DEPTH, camera_info_topic=rgbd.COLOUR_INFO,
                 depth_info_topic=rgbd.DEPTH_INFO, table=True)
    stats = process_bag(job, step, store, observe=observed.append)
    assert stats["frames_processed"] == 40 and stats["frames_with_3d"] == 40
    assert stats["frames_without_3d"] == {}
    rgbd.assert_same_outputs(observed, reference)
    rgbd.check_following(observed)
    from test_bags import read_topic  # the output bag: float32 fields

    poses, _ = read_topic(tmp_path / "session.poses", "/poses")
    targets, _ = read_topic(tmp_path / "session.poses", "/target_pose")
    assert len(poses) == 40 and len(targets) == sum(o.target.track_id >= 0 for o in reference)
    for (_, _, msg), ref in zip(poses, reference):
        rgbd.assert_message_matches(msg, ref)
    assert stats["table"] == str(tmp_path / "session.poses.csv")
    rows = list(csv.DictReader(open(tmp_path / "session.poses.csv")))
    assert len(rows) == 40 * 2 * 17 and {r["depth_status"] for r in rows} == {"ok"}
    by_frame = {}
    for r in rows:
        by_frame.setdefault(int(r["frame"]), []).append(r)
    for i, ref in enumerate(reference):
        target = {int(r["track_id"]) for r in by_frame[i] if r["target"] == "1"}
        assert target == ({ref.target.track_id} if ref.target.track_id >= 0 else set())
        for person in ref.result.people:
            mine = [r for r in by_frame[i] if int(r["track_id"]) == person.track_id]
            xyz = np.array([[float(r[c]) if r[c] else np.nan for c in ("x3d", "y3d", "z3d")]
                            for r in mine])
            np.testing.assert_allclose(xyz, person.positions, rtol=1e-5)  # 6 digits
