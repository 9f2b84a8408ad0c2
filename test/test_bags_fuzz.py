"""`bag` on damaged bags, generated: MCAP, sqlite3 and ROS 1 recordings truncated, with bits
flipped, with runs of bytes zeroed, with a record's opcode overwritten. Whatever the damage, the
command ends with exit 0 or 2 (never a traceback), and a result is either complete (every image
message the bag's index holds was read and counted, processed or rejected with its reason) or
says what is missing; a bag that cannot be read leaves nothing that looks complete. A seeded
generator (seed and case in each failure message) so that a failure can be replayed.

Also generated: sets of bags whose names repeat across folders and formats, given as folders,
single bags or the same bag twice, written into a separate folder or one of the inputs: two
bags with one output name are refused before anything is written, and a run into an input
folder can be run again with `--resume` without taking its outputs for bags."""
import contextlib
import io
import os
import random
import shutil

import numpy as np
import pytest
import yaml
from conftest import needs_shared
from test_bags import STAMP0, frames, make_bag

from pose_estimation_ros.cli.main import main

pytestmark = needs_shared
SEED = int(os.environ.get("FUZZ_SEED", "2026"))
CASES = int(os.environ.get("FUZZ_CASES", "30"))
TOPICS = ["--image-topic", "/camera/image", "--depth-topic", "/camera/depth",
          "--camera-info-topic", "/camera/camera_info"]


def _ros1_bag(path, images):
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    t = store.types
    with Writer(path) as writer:
        conns = {topic: writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=store)
                 for topic in ("/camera/image", "/camera/depth")}
        for i, image in enumerate(images):
            h, w = image.shape[:2]
            stamp = STAMP0 + i * 33_333_333
            header = t["std_msgs/msg/Header"](seq=i, stamp=t["builtin_interfaces/msg/Time"](
                sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="camera")
            depth = np.full((h, w), 2000, np.uint16)
            for topic, msg in (
                    ("/camera/image", t["sensor_msgs/msg/Image"](
                        header=header, height=h, width=w, encoding="bgr8", is_bigendian=0,
                        step=w * 3, data=image.reshape(-1))),
                    ("/camera/depth", t["sensor_msgs/msg/Image"](
                        header=header, height=h, width=w, encoding="16UC1", is_bigendian=0,
                        step=w * 2, data=depth.view(np.uint8).reshape(-1)))):
                writer.write(conns[topic], stamp + 1000,
                             store.serialize_ros1(msg, "sensor_msgs/msg/Image"))


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_originals")
    images = frames(6)
    for storage in ("mcap", "sqlite3"):
        make_bag(root / storage, images, storage=storage, depth_m=2.0)
    _ros1_bag(root / "ros1.bag", images)
    return root


def _damage(data: bytearray, rng: random.Random) -> str:
    kind = rng.choice(["truncate", "flip", "zero", "opcode"])
    at = rng.randrange(len(data))
    if kind == "truncate":
        del data[at:]
    elif kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "zero":
        n = min(rng.randint(1, 64), len(data) - at)
        data[at:at + n] = bytes(n)
    else:  # an MCAP message record's opcode (0x05 before an 8-byte length), elsewhere a byte
        records = [i for i in range(len(data) - 9) if data[i] == 0x05
                   and 100_000 < int.from_bytes(data[i + 1:i + 9], "little") < 3_000_000]
        data[rng.choice(records) if records else at] = 0x7F
    return f"{kind} at byte {at}"


def test_damaged_bags_are_complete_or_say_what_is_missing(originals, tmp_path):
    rng = random.Random(SEED)
    outcomes = {"complete": 0, "incomplete": 0, "refused": 0}
    for case in range(CASES):
        storage = rng.choice(["mcap", "sqlite3", "ros1"])
        work = tmp_path / f"case{case}"
        work.mkdir()
        if storage == "ros1":
            bag = work / "in.bag"
            shutil.copy(originals / "ros1.bag", bag)
            target = bag
        else:
            bag = work / "in"
            shutil.copytree(originals / storage, bag)
            target = next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))
        data = bytearray(target.read_bytes())
        how = _damage(data, rng)
        target.write_bytes(bytes(data))
        where = f"seed {SEED} case {case}: {storage}, {how}"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["bag", str(bag), "--output", str(work / "out"), *TOPICS,
                         "--no-progress"])
        assert code in (0, 2) and "Traceback" not in err.getvalue(), where
        sidecar = work / "out" / "in.poses.yaml"
        record = yaml.safe_load(sidecar.read_text()) if sidecar.is_file() else None
        if code == 0:
            assert record and record["complete"] is True and not record["missing_messages"]
            images = record["topics"]["/camera/image"]["messages"]
            assert record["frames_in"] == images, where  # every indexed image was read
            counted = record["frames_processed"] + sum(record["frames_rejected"].values())
            assert counted >= images, where  # and each processed or rejected with a reason
            assert record["frames_with_3d"] + sum(record["frames_without_3d"].values()) == \
                record["frames_processed"], where  # every frame with 3D or a reason without
            outcomes["complete"] += 1
        elif record is not None:
            assert record["complete"] is False and record["missing_messages"], where
            assert "incomplete:" in err.getvalue(), where
            outcomes["incomplete"] += 1
        else:
            assert err.getvalue().startswith("error: "), where
            assert not (work / "out" / "in.poses").exists(), where
            outcomes["refused"] += 1
    print(f"\nbag fuzz, seed {SEED}: {outcomes}")
    assert all(outcomes.values()), outcomes  # the generator reaches every kind of outcome


def _bag_set(rng: random.Random, root, originals) -> dict:
    """Folders of bags whose names repeat across folders (and across formats: `sess/` and
    `sess.bag` both write `sess.poses`), and the inputs a user would give: folders, single
    bags, the same bag twice, through another spelling of its path."""
    bags: dict = {}
    for f in range(rng.randint(1, 3)):
        folder = root / rng.choice(["study_a", "study_b", "pilot"]) / f"day{f}"
        for name in rng.sample(["s1", "s2", "sess"], rng.randint(1, 2)):
            if rng.random() < 0.25:
                bag = folder / f"{name}.bag"
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy(originals / "ros1.bag", bag)
            else:
                bag = folder / name
                shutil.copytree(originals / rng.choice(["mcap", "sqlite3"]), bag)
            bags.setdefault(folder, []).append(bag)
    inputs = []
    for folder, inside in bags.items():
        inputs += rng.choice([[folder], inside, [inside[0], folder],
                              [folder / ".." / folder.name]])
    if rng.random() < 0.3:
        inputs.append(inputs[0])  # the same input twice
    rng.shuffle(inputs)
    output = rng.choice([root / "out", *bags])  # often inside an input folder
    return {"bags": bags, "inputs": inputs, "output": output}


def _expected(case: dict) -> list:
    """The distinct bags the inputs name, by this test's own bookkeeping."""
    found = []
    for arg in case["inputs"]:
        folder = arg.resolve()
        found += case["bags"].get(folder, [arg]) if folder in case["bags"] else [arg]
    return list({p.resolve(): p for p in found}.values())


def _stem(bag) -> str:
    return bag.stem if bag.suffix == ".bag" else bag.name


def test_generated_bag_sets_never_overwrite_or_read_their_own_outputs(originals, tmp_path):
    rng = random.Random(SEED + 5)
    outcomes = {"refused": 0, "done": 0}
    for n in range(int(os.environ.get("FUZZ_BAG_SET_CASES", "12"))):
        case = _bag_set(rng, tmp_path / f"case{n}", originals)
        where = f"seed {SEED + 5} case {n}: inputs {case['inputs']}, output {case['output']}"
        bags = _expected(case)
        stems = [_stem(b) for b in bags]
        args = ["bag", *map(str, case["inputs"]), "--output", str(case["output"]),
                "--image-topic", "/camera/image", "--no-progress"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        if len(set(stems)) < len(stems):  # two distinct bags, one output name: refused
            twice = {s for s in stems if stems.count(s) > 1}
            assert code == 2 and any(f"would both write {s}.poses" in err.getvalue()
                                     for s in twice), (where, err.getvalue())
            assert not list(case["output"].glob("*.poses*")), where  # nothing written
            outcomes["refused"] += 1
            continue
        assert code == 0, (where, err.getvalue())
        assert out.getvalue().strip().endswith(
            f"bags={len(bags)} processed={len(bags)} skipped=0 failed=0"), where
        for stem in stems:
            record = yaml.safe_load((case["output"] / f"{stem}.poses.yaml").read_text())
            assert record["complete"] and record["frames_processed"] == 6, where
        out = io.StringIO()  # again, with its outputs now beside the inputs
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(args + ["--resume"]) == 0, where
        assert out.getvalue().strip().endswith(
            f"bags={len(bags)} processed=0 skipped={len(bags)} failed=0"), where
        outcomes["done"] += 1
    print(f"\nbag set fuzz, seed {SEED + 5}: {outcomes}")
    assert all(outcomes.values()), outcomes
