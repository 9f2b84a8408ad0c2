"""Test set-up: models and data come from ../shared beside the checkout (or the folder
`POSE_ESTIMATION_TEST_DATA` names, filled by `test/fetch_test_data.py`), never the network."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POSE_ESTIMATION_TEST_DATA")
              or os.environ.get("POSE_ESTIMATION_SHARED") or ROOT.parent / "shared")
DATA = SHARED / "data"

os.environ.setdefault("POSE_ESTIMATION_MODELS", str(SHARED / "models"))
# Converted ONNX files are cached inside the checkout (git-ignored) so reruns skip conversion.
os.environ.setdefault("POSE_ESTIMATION_CACHE", str(ROOT / ".cache" / "models"))

needs_shared = pytest.mark.skipif(not (SHARED / "models").is_dir(),
                                  reason=f"shared models/data folder not found at {SHARED}")


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    """An empty model search path (tmp_path/models) and cache (tmp_path/cache)."""
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "cache"))
    (tmp_path / "models").mkdir()
    return tmp_path


@pytest.fixture(scope="session")
def coco_images():
    images = sorted((DATA / "mmpose_tests" / "coco").glob("*.jpg"))
    if not images:
        pytest.skip(f"COCO test images not found under {DATA}")
    return images


@pytest.fixture(scope="session")
def blazepose_static():
    from pose_estimation_ros.pipelines.blazepose import BlazePoseConfig, BlazePosePipeline

    return BlazePosePipeline(BlazePoseConfig(static_image_mode=True))
