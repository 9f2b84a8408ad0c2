"""A newcomer's rough edges (issue 36): a single input that cannot be read is an error, and a
flag the chosen pipeline does not use is refused, not silently ignored."""
from pathlib import Path

import pytest

from pose_estimation_ros.cli.main import main
from pose_estimation_ros.settings.table import SETTINGS

ASTRONAUT = str(Path(__file__).resolve().parents[1] / "pose_estimation_ros/data/astronaut.jpg")


@pytest.mark.parametrize("content", [None, b"hello", b""])
def test_a_single_image_that_cannot_be_read_is_an_error(tmp_path, capsys, content):
    image = tmp_path / "photo.jpg"
    if content is not None:
        image.write_bytes(content)
    assert main(["run", str(image), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "photo.jpg" in err[0]
    assert not (tmp_path / "out").exists()  # nothing that looks like a result


def test_an_unreadable_frame_in_a_folder_is_counted_as_dropped(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(Path(ASTRONAUT).read_bytes())
    (folder / "b.jpg").write_bytes(b"not an image")
    assert main(["run", str(folder), "--output", str(tmp_path / "out"), "--no-progress"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("frames=1 ") and last.endswith("dropped=1"), last


@pytest.mark.parametrize("argv, message", [
    (["--pose", "movenet-lightning"], "--pose does not apply to --pipeline blazepose: only "
     "--pipeline topdown or --pipeline movenet uses it"),
    (["--pipeline", "movenet-multipose", "--pose", "movenet-lightning"],
     "--pose does not apply to --pipeline movenet-multipose"),
    (["--pipeline", "rtmpose", "--pose=rtmpose-s"], "--pose does not apply to --pipeline rtmpose"),
    (["--pipeline", "topdown", "--variant", "lite"],
     "--variant does not apply to --pipeline topdown: only --pipeline blazepose uses it"),
    (["--pipeline", "movenet", "--detector", "yolox-nano"],
     "--detector does not apply to --pipeline movenet: only --pipeline topdown uses it"),
])
def test_a_flag_the_pipeline_does_not_use_is_refused(tmp_path, capsys, argv, message):
    for command in (["run", ASTRONAUT, "--output", str(tmp_path)],
                    ["bench", "video.mp4"]):
        assert main([*command, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {message}"), err


def test_the_pipeline_specific_flags_name_their_pipelines():
    named = {s.name: s.pipelines for s in SETTINGS if s.pipelines}
    assert named == {"variant": ("blazepose",), "detector": ("topdown",),
                     "pose": ("topdown", "movenet")}


def test_paths_that_exist_but_are_the_wrong_kind_get_a_true_error(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    assert main(["bench", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: {folder} is a folder, not a video file (`run` reads folders of images and " \
        "image sequences)"
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    assert main(["bag", str(video), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {video}: not a bag (a rosbag2 bag is a folder"), err


def test_a_corrupt_video_is_one_error_line_without_ffmpeg_s_noise(tmp_path):
    import subprocess
    import sys

    video = tmp_path / "cut.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(4000))  # no moov atom
    done = subprocess.run([sys.executable, "-m", "pose_estimation_ros", "run", str(video),
                           "--output", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: cannot open video {video} (unknown format or corrupt)"


def test_a_usage_mistake_is_one_line_and_where_to_read_more():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pose_estimation_ros", "run"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "pose-estimation-ros run: error: the following arguments are required: input, --output",
        "(`pose-estimation-ros run --help` lists the options)"]


def test_bench_lists_stages_in_pipeline_order_and_movenet_runs_no_detector(tmp_path, capsys):
    from conftest import SHARED

    video = str(SHARED / "data" / "videos" / "mmaction2_demo_skeleton.mp4")
    assert main(["bench", video, "--frames", "4", "--pipeline", "topdown", "--pose",
                 "movenet-lightning"]) == 0
    stages = [line.split()[0] for line in capsys.readouterr().out.splitlines()
              if line.startswith("  ") and "ms  (median" in line]
    assert stages == ["decode", "preprocess", "model:rtmdet-nano", "postprocess",
                      "model:movenet-lightning", "tracking", "reid"]
    assert main(["run", video, "--output", str(tmp_path), "--pipeline", "movenet", "--stats",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "jitter" in out and "detector ran" not in out


def test_nobody_found_above_a_near_miss_names_det_score(tmp_path, capsys):
    from conftest import DATA

    frame = str(DATA / "mmpose_tests" / "posetrack18" / "images" / "val" / "003418_mpii_test"
                / "000000.jpg")
    assert main(["run", frame, "--output", str(tmp_path / "a"), "--pipeline", "topdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("frames=1 people_per_frame=0.00")
    hint = lines[-2]
    assert hint.startswith("1 frame(s) found nobody, but the person detector's best box "
                           "scored up to 0.4") and "below --det-score 0.5" in hint, hint
    assert main(["run", frame, "--output", str(tmp_path / "b"), "--pipeline", "topdown",
                 "--det-score", "0.3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("frames=1 people_per_frame=3.00")
    assert not any("found nobody" in line for line in lines)
