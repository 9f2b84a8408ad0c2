"""`bag` against faults: frames that make OpenCV raise, damaged records, sidecars that are not
mappings, read-only and full disks, any exception in one bag. A result is complete or says
what is missing; a failed bag leaves nothing that looks complete and the others go on."""
import errno
import shutil
import struct

import cv2
import numpy as np
import pytest
import yaml
from conftest import needs_shared
from test_bags import frames, make_bag, read_topic

from pose_estimation_ros.cli.main import main

pytestmark = needs_shared


@pytest.fixture(scope="module")
def images():
    return frames(8)


def _bag(tmp_path, images, name="a", **kw):
    make_bag(tmp_path / "in" / name, images, **kw)
    return tmp_path / "in" / name


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_frame_opencv_cannot_decode_is_one_rejected_frame(tmp_path, images, capsys,
                                                            monkeypatch):
    """A PNG declaring 2^31 pixels made cv2.imdecode raise and ended the whole run."""
    from pose_estimation_ros.bags import process

    real = process.message_to_bgr
    png = cv2.imencode(".png", images[0])[1].tobytes()
    bomb = png[:16] + struct.pack(">II", 1 << 16, 1 << 15) + png[24:]

    def third_is_a_bomb(msg, *args):
        if msg.header.stamp.nanosec == 66_666_666:  # frame 2
            msg.data = np.frombuffer(bomb, np.uint8)
        return real(msg, *args)
    monkeypatch.setattr(process, "message_to_bgr", third_is_a_bomb)
    _bag(tmp_path, images, "a", compressed=True)
    _bag(tmp_path, images, "b")
    assert main(["bag", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().endswith("bags=2 processed=2 skipped=0 failed=0")
    side = yaml.safe_load((tmp_path / "out" / "a.poses.yaml").read_text())
    assert side["complete"] and side["frames_processed"] == 7
    assert side["frames_rejected"] == {"too_large": 1}
    assert side["rejection_examples"]["too_large"].startswith(
        "image of 65536×32768 = 2,147,483,648 pixels is over the limit of 40,000,000")


def test_a_damaged_record_is_reported_missing_not_complete(tmp_path, images, capsys):
    bag = _bag(tmp_path, images, storage="mcap")
    mcap = next(bag.glob("*.mcap"))
    data = bytearray(mcap.read_bytes())
    records = [i for i in range(len(data) - 9) if data[i] == 0x05
               and 100_000 < int.from_bytes(data[i + 1:i + 9], "little") < 2_000_000]
    data[records[3]] = 0x7F  # an opcode MCAP readers skip: one message silently gone
    mcap.write_bytes(bytes(data))
    assert main(["bag", str(bag), "--output", str(tmp_path / "out"), "--csv",
                 str(tmp_path / "all.csv"), "--no-progress"]) == 2
    out = capsys.readouterr()
    assert "error: " in out.err and "incomplete: 1 of 8 messages on /camera/image could not " \
        "be read (damaged records)" in out.err
    assert out.out.strip().endswith("bags=1 processed=0 skipped=0 failed=1")
    side = yaml.safe_load((tmp_path / "out" / "a.poses.yaml").read_text())
    assert side["complete"] is False and side["missing_messages"] == {"/camera/image": 1}
    assert side["frames_processed"] == 7
    assert not (tmp_path / "all.csv").exists()  # no table from no complete bag
    assert main(["bag", str(bag), "--output", str(tmp_path / "out"), "--resume",
                 "--no-progress"]) == 2  # not skipped: it is not complete


def test_resume_with_a_sidecar_that_is_not_a_mapping(tmp_path, images, capsys):
    bag = _bag(tmp_path, images[:3])
    (tmp_path / "out").mkdir()
    for text in ("- just\n- a list\n", "not: [closed\n", "\xff\xfe"):
        (tmp_path / "out" / "a.poses.yaml").write_text(text)
        (tmp_path / "out" / "a.poses").mkdir(exist_ok=True)
        assert main(["bag", str(bag), "--output", str(tmp_path / "out"), "--resume",
                     "--no-progress"]) == 0
        assert "processed=1 skipped=0" in capsys.readouterr().out


def test_a_finished_output_holds_only_its_files(tmp_path, images):
    _bag(tmp_path, images[:3], "a", storage="mcap")
    _bag(tmp_path, images[:3], "b")
    out = tmp_path / "out"
    assert main(["bag", str(tmp_path / "in"), "--output", str(out), "--csv",
                 str(out / "all.csv"), "--no-progress"]) == 0
    listing = _listing(out)
    assert listing == ["a.poses", "a.poses.csv", "a.poses.yaml", "a.poses/a.poses.mcap",
                       "a.poses/metadata.yaml", "all.csv", "b.poses", "b.poses.csv",
                       "b.poses.yaml", "b.poses/b.poses.mcap", "b.poses/metadata.yaml"]
    side = yaml.safe_load((out / "a.poses.yaml").read_text())
    assert side["table"] == str((out / "a.poses.csv").resolve()) and "csv_part" not in side
    merged = (out / "all.csv").read_text().splitlines()
    parts = [(out / f"{n}.poses.csv").read_text().splitlines() for n in "ab"]
    assert merged == parts[0] + parts[1][1:]  # one header, a's rows, then b's


def test_a_full_or_read_only_disk_is_an_error_line_and_nothing_looks_complete(
        tmp_path, images, capsys, monkeypatch):
    from rosbags.rosbag2 import Writer

    bag = _bag(tmp_path, images[:6])
    real = Writer.write
    calls = {"n": 0}

    def fills_up(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Writer, "write", fills_up)
    out = tmp_path / "out"
    assert main(["bag", str(bag), "--output", str(out), "--csv", str(tmp_path / "t.csv"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and ": No space left on device" in err and "Traceback" not in err
    assert _listing(out) == []  # no output, no sidecar, no partial files
    monkeypatch.undo()
    readonly = tmp_path / "ro"
    readonly.mkdir()
    real_mkdir = type(readonly).mkdir

    def refuses(self, *args, **kwargs):
        if self == readonly / "sub":
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)
    monkeypatch.setattr(type(readonly), "mkdir", refuses)
    assert main(["bag", str(bag), "--output", str(readonly / "sub"), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {readonly / 'sub'}: Read-only file system"


def test_any_exception_in_one_bag_fails_that_bag_only(tmp_path, images, capsys, monkeypatch):
    from pose_estimation_ros.stream.step import FrameStep

    _bag(tmp_path, images[:3], "a")
    _bag(tmp_path, images[:3], "b")
    real, calls = FrameStep.infer, {"n": 0}

    def breaks_once(self, image, stamp):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a model that misbehaves")
        return real(self, image, stamp)
    monkeypatch.setattr(FrameStep, "infer", breaks_once)
    assert main(["bag", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--no-progress"]) == 2
    out = capsys.readouterr()
    assert "a: RuntimeError: a model that misbehaves" in out.err
    assert out.out.strip().endswith("bags=2 processed=1 skipped=0 failed=1")
    assert _listing(tmp_path / "out") == ["b.poses", "b.poses.yaml", "b.poses/b.poses.mcap",
                                          "b.poses/metadata.yaml"]
    poses, _ = read_topic(tmp_path / "out" / "b.poses", "/poses")
    assert len(poses) == 3
    shutil.rmtree(tmp_path / "out")


def test_ctrl_c_after_the_outputs_moved_but_before_the_sidecar(tmp_path, images, monkeypatch):
    """The window between a bag's outputs leaving `.partial` and its sidecar: Ctrl-C there
    leaves nothing of that bag, and the bag finished before keeps its complete outputs."""
    from pose_estimation_ros.bags import worker

    _bag(tmp_path, images[:3], "a")
    _bag(tmp_path, images[:3], "b")
    real, calls = worker._models, {"n": 0}

    def interrupted_second_time(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args)
    monkeypatch.setattr(worker, "_models", interrupted_second_time)
    assert main(["bag", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--csv", str(tmp_path / "all.csv"), "--no-progress"]) == 130
    assert _listing(tmp_path / "out") == [
        "a.poses", "a.poses.csv", "a.poses.yaml", "a.poses/a.poses.mcap",
        "a.poses/metadata.yaml"]
