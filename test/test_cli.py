"""The command line end to end: eval, bench, run, demo, models."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.cli.evaluation import _add_unlabelled
from pose_estimation_ros.cli.main import main

pytestmark = needs_shared
VIDEO = str(DATA / "videos" / "mmaction2_test_video_structuralize.mp4")
UNLABELLED = Path(__file__).parent / "data" / "coco17_eval_merged_unlabelled.json"


def _last_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_eval_gt_boxes_blazepose_full_reaches_pck_080(capsys):
    code = main(["eval", "--coco", str(DATA / "coco17_eval_merged.json"),
                 "--images", str(DATA / "mmpose_tests"), "--gt-boxes", "--no-progress"])
    line = _last_line(capsys)
    assert code == 0
    m = re.fullmatch(r"AP=(0\.\d{3}|1\.000) AP50=(0\.\d{3}|1\.000) PCK@0\.2=(0\.\d{3}|1\.000) "
                     r"persons=21 images=10", line)
    assert m, line
    assert float(m.group(3)) >= 0.80


def test_bench_prints_stages_and_the_summary_line(capsys):
    assert main(["bench", VIDEO, "--frames", "12"]) == 0
    out = capsys.readouterr().out
    assert "decode" in out and "model:blazepose-landmark-full" in out
    last = out.strip().splitlines()[-1]
    m = re.fullmatch(r"fps=([\d.]+) model_ms=([\d.]+) total_ms=([\d.]+) overhead=([\d.]+) "
                     r"floor_ms=([\d.]+)", last)
    assert m, last
    assert float(m.group(3)) >= float(m.group(2)) > 0
    # the floor: the same inputs through bare sessions (a loose bound: this VM's load varies)
    assert 0.5 * float(m.group(2)) < float(m.group(5)) < 2.0 * float(m.group(2))


def _clip(tmp_path, count: int) -> Path:
    """The first `count` frames of the structuralize clip as a video of their own."""
    import cv2

    from pose_estimation_ros.vision.imaging import VideoReader

    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (426, 240))
    for f, _ in zip(VideoReader(VIDEO), range(count)):
        writer.write(f.image)
    writer.release()
    return clip


def test_run_on_a_video_writes_annotated_video_and_jsonl(tmp_path, capsys):
    from pose_estimation_ros.vision.imaging import VideoReader

    clip = _clip(tmp_path, 8)
    assert main(["run", str(clip), "--output", str(tmp_path / "out"), "--no-progress"]) == 0
    lines = (tmp_path / "out" / "keypoints.jsonl").read_text().splitlines()
    assert len(lines) == 8
    record = json.loads(lines[3])
    assert record["topology"] == "blazepose33" and len(record["people"][0]["keypoints"]) == 33
    assert VideoReader(tmp_path / "out" / "annotated.mp4").frame_count == 8


def test_run_on_an_image_and_demo(tmp_path, capsys):
    image = DATA / "mmpose_tests" / "coco" / "000000000785.jpg"
    assert main(["run", str(image), "--output", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "annotated_000000000785.jpg").is_file()
    assert main(["demo", "--output", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "1 person(s) found" in out and "demo_annotated.jpg" in out
    assert json.loads((tmp_path / "d" / "demo_keypoints.json").read_text())["people"]


def test_errors_are_reported_without_a_traceback(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"garbage" * 50)
    assert main(["bench", str(bad)]) == 2
    assert "cannot open video" in capsys.readouterr().err
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path))
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "cache"))
    assert main(["bench", VIDEO, "--variant", "heavy"]) == 2
    assert "models prepare" in capsys.readouterr().err


def test_models_list_and_verify(capsys):
    assert main(["models", "list"]) == 0
    assert "blazepose-landmark-heavy" in capsys.readouterr().out
    assert main(["models", "verify"]) == 1  # RTMPose weights are not in ../shared
    out = capsys.readouterr().out
    # 4 BlazePose sources (+3 batched and 3 whole-graph `-seg` builds of the same files), the
    # 2 shared ONNX files, the 4 TF.js sources and the 3 hand models; "stale": a build of an
    # earlier converter, rebuilt on first use
    assert out.count(" ok ") + out.count(" stale ") == 19
    assert re.search(r"rtmpose-t +missing .*no official sha256 is known", out)
    assert " corrupt " not in out
    shared = ["blazepose-detector", "rtmdet-nano", "yolox-nano", "movenet-thunder",
              "movenet-lightning", "movenet-multipose", "efficientpose-ii-lite"]
    assert main(["models", "verify", *shared]) == 0


def _eval(capsys, annotations, images, *extra) -> tuple[float, float]:
    """AP and PCK@0.2 of `eval` with rtmdet-nano + movenet-thunder."""
    code = main(["eval", "--coco", str(annotations), "--images", str(images), "--no-progress",
                 "--pipeline", "topdown", "--pose", "movenet-thunder", *extra])
    assert code == 0
    m = re.match(r"AP=([\d.]+) AP50=[\d.]+ PCK@0.2=([\d.]+) ", _last_line(capsys))
    return float(m.group(1)), float(m.group(2))


def test_topdown_detector_ap_is_close_to_gt_box_ap_on_fully_annotated_images(capsys):
    # The four COCO images annotate every person (tiny ones as ignored), so false positives
    # come from the pipeline alone; OCHuman/Human-Art images in the merged set do not.
    coco = DATA / "mmpose_tests" / "coco"
    (detector, _), (gt, _) = (_eval(capsys, coco / "test_coco.json", coco, *extra)
                              for extra in ((), ("--gt-boxes",)))
    assert gt > 0.6
    assert abs(detector - gt) <= 0.03, (detector, gt)


def test_people_missing_from_the_annotations_are_ignored_not_false_positives(capsys):
    # OCHuman labels some people per image only; the repository lists the others.
    merged, images = DATA / "coco17_eval_merged.json", DATA / "mmpose_tests"
    listed = ("--unlabelled", str(UNLABELLED))
    plain, with_list = _eval(capsys, merged, images), _eval(capsys, merged, images, *listed)
    gt_plain, gt_list = (_eval(capsys, merged, images, "--gt-boxes", *extra)
                         for extra in ((), listed))
    assert with_list[0] > plain[0] + 0.05  # the detector's finds of unlabelled people
    assert with_list[1] == plain[1] and gt_list[1] == gt_plain[1]  # PCK: labelled people only
    assert abs(with_list[0] - gt_list[0]) <= 0.03, (with_list, gt_list)


def test_unlabelled_people_must_name_images_of_the_annotations(tmp_path):
    bad = tmp_path / "unlabelled.json"
    bad.write_text(json.dumps({"people": [{"file_name": "nowhere.jpg", "bbox": [0, 0, 9, 9]}]}))
    with pytest.raises(ValueError, match="nowhere.jpg is not an image"):
        _add_unlabelled(json.loads((DATA / "coco17_eval_merged.json").read_text()), bad)


def test_bench_compares_batched_and_per_person_head_calls(capsys):
    video = str(DATA / "videos" / "mmaction2_demo_skeleton.mp4")
    assert main(["bench", video, "--frames", "6", "--pipeline", "topdown",
                 "--pose", "blazepose-lite"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"batched ([\d.]+) ms/person, one call per person ([\d.]+) ms/person", out)
    assert m, out
    assert float(m.group(1)) > 0 and float(m.group(2)) > 0
    assert re.fullmatch(r"fps=[\d.]+ model_ms=[\d.]+ total_ms=[\d.]+ overhead=[\d.]+ "
                        r"floor_ms=[\d.]+", out.strip().splitlines()[-1])


def test_bench_compare_times_the_per_box_loop_on_the_same_frames(capsys):
    video = str(DATA / "videos" / "mmaction2_demo_skeleton.mp4")
    assert main(["bench", video, "--frames", "6", "--pipeline", "topdown", "--pose",
                 "movenet-lightning", "--compare"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"compare, 6 frames alternated 3 times: tracked and batched \(det_interval "
                  r"5\) ([\d.]+) fps, per-box loop with the detector on every frame ([\d.]+) "
                  r"fps: ([\d.]+)x", out)
    assert m, out
    assert float(m.group(3)) == pytest.approx(float(m.group(1)) / float(m.group(2)), abs=0.01)
    m = re.search(r"pose crops per frame: tracked ([\d.]+), per-box ([\d.]+); the detector is "
                  r"(\d+)% of the per-box loop's time, so skipping it on every frame would make "
                  r"that loop at most ([\d.]+)x faster", out)
    assert m, out
    # two people on every frame of the hug's start, a detector that costs real time
    assert float(m.group(1)) == pytest.approx(2, abs=0.5) and float(m.group(2)) == 2
    assert 5 < int(m.group(3)) < 95 and float(m.group(4)) > 1
    assert main(["bench", video, "--frames", "2", "--compare"]) == 2  # BlazePose: refused


SUMMARY = re.compile(r"frames=(\d+) people_per_frame=([\d.]+) tracks=(\d+) fps=([\d.]+) "
                     r"dropped=(\d+)")


def test_run_tracks_the_two_people_of_the_demo_clip(tmp_path, capsys):
    clip = str(DATA / "videos" / "mmaction2_demo_skeleton.mp4")
    assert main(["run", clip, "--output", str(tmp_path), "--no-progress", "--pipeline",
                 "topdown", "--pose", "movenet-lightning"]) == 0
    m = SUMMARY.fullmatch(_last_line(capsys))
    assert m, m
    assert m.group(1) == "72" and m.group(3) == "2" and m.group(5) == "0"
    records = [json.loads(line) for line in (tmp_path / "keypoints.jsonl").open()]
    ids = {p["track_id"] for r in records for p in r["people"]
           if p.get("track_state") == "confirmed"}
    assert len(ids) == 2


def test_run_stats_smoothing_reduces_jitter_by_40_percent(tmp_path, capsys):
    assert main(["run", VIDEO, "--output", str(tmp_path), "--no-progress", "--stats",
                 "--pipeline", "topdown", "--pose", "movenet-lightning"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"raw ([\d.]+) px, smoothed ([\d.]+) px, reduction ([\d.]+)%", out)
    assert m, out
    assert float(m.group(2)) <= 0.6 * float(m.group(1))
    assert SUMMARY.fullmatch(out.strip().splitlines()[-1])


def test_run_counts_an_unreadable_image_as_dropped(tmp_path, capsys):
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DATA / "mmpose_tests" / "coco" / "000000000785.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    assert main(["run", str(folder), "--output", str(tmp_path / "out")]) == 0
    m = SUMMARY.fullmatch(_last_line(capsys))
    assert m and m.group(1) == "1" and m.group(5) == "1"


def test_run_with_a_depth_folder_writes_3d_positions(tmp_path, capsys):
    import cv2

    clip = _clip(tmp_path, 6)
    depth = tmp_path / "depth"
    depth.mkdir()
    for i in range(6):  # half resolution, a person (and everything else) 2.5 m away
        cv2.imwrite(str(depth / f"{i:04d}.png"), np.full((120, 213), 2500, np.uint16))
    out = tmp_path / "out"
    assert main(["run", str(clip), "--output", str(out), "--no-progress", "--depth", str(depth),
                 "--intrinsics", "380,380,213,120"]) == 0
    records = [json.loads(line) for line in (out / "keypoints.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["depth_status"] == "ok" for r in records)
    person = records[-1]["people"][0]
    z = [p[2] for p in person["positions"] if p is not None]
    assert z and np.allclose(z, 2.5, rtol=0.02) and abs(person["position"][2] - 2.5) < 0.05
    unsure = [p for p, s in zip(person["positions"], person["keypoint_scores"]) if s < 0.3]
    assert all(p is None for p in unsure)
    assert records[-1]["target_track_id"] == person["track_id"] >= 0
    assert main(["run", str(clip), "--output", str(out), "--depth", str(depth)]) == 2
    assert "--depth needs --intrinsics" in capsys.readouterr().err


def test_demo_and_help_do_not_import_what_they_do_not_use(tmp_path):
    """Issue 15's cold start: demo reads the sample photo without importing scikit-image,
    and neither it nor --help imports scipy (only video tracking needs it) or urllib."""
    import subprocess
    import sys

    script = ("import sys, contextlib, io\n"
              "from pose_estimation_ros.cli.main import main\n"
              f"assert main(['demo', '--output', {str(tmp_path)!r}]) == 0\n"
              "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
              "    main(['--help'])\n"
              "print(sorted(m for m in ('skimage', 'scipy', 'urllib.request') "
              "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_run_refuses_images_over_the_pixel_limit_from_their_header(tmp_path, capsys, caplog):
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DATA / "mmpose_tests" / "coco" / "000000000785.jpg", folder / "a.jpg")
    assert main(["run", str(folder), "--output", str(tmp_path / "out"),
                 "--max-image-pixels", "1000"]) == 0
    m = SUMMARY.fullmatch(_last_line(capsys))
    assert m and m.group(1) == "0" and m.group(5) == "1"
    assert "over the limit of 1,000 (max_image_pixels)" in caplog.text
