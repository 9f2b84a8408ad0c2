"""Node-side core pieces: image decoding, the latest-frame scheduler, the parameter table."""
import re
import threading
import time

import cv2
import numpy as np
import pytest
import yaml
from conftest import ROOT, needs_shared

from pose_estimation_ros.ros.image import compressed_to_bgr, image_to_bgr
from pose_estimation_ros.ros.parameters import (
    BY_NAME,
    CONFIGS,
    PARAMS,
    config_yaml,
    pipeline_options,
    readme_table,
    tracker_config,
)
from pose_estimation_ros.ros.scheduler import LatestFrameScheduler
from pose_estimation_ros.vision.imaging import ImageError

BGR = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
GREY = cv2.cvtColor(BGR, cv2.COLOR_BGR2GRAY)


def _encode(encoding: str) -> np.ndarray:
    return {"bgr8": BGR, "rgb8": BGR[..., ::-1],
            "bgra8": cv2.cvtColor(BGR, cv2.COLOR_BGR2BGRA),
            "rgba8": cv2.cvtColor(BGR, cv2.COLOR_BGR2RGBA), "mono8": GREY,
            "mono16": GREY.astype(np.uint16) * 257}[encoding]


def _payload(pixels: np.ndarray, pad: int, big_endian: bool = False) -> tuple[bytes, int]:
    if pixels.dtype == np.uint16:
        pixels = pixels.astype(">u2" if big_endian else "<u2")
    rows = pixels.reshape(pixels.shape[0], -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((rows.shape[0], pad), 77, np.uint8)], axis=1)
    return padded.tobytes(), padded.shape[1]


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16"])
@pytest.mark.parametrize("pad", [0, 3])
def test_image_encodings_with_and_without_row_padding(encoding, pad):
    data, step = _payload(_encode(encoding), pad)
    out = image_to_bgr(encoding, 7, 5, step, data)
    expected = cv2.cvtColor(GREY, cv2.COLOR_GRAY2BGR) if encoding.startswith("mono") else BGR
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)


def test_big_endian_mono16():
    data, step = _payload(_encode("mono16"), 0, big_endian=True)
    np.testing.assert_array_equal(image_to_bgr("mono16", 7, 5, step, data, is_bigendian=True),
                                  cv2.cvtColor(GREY, cv2.COLOR_GRAY2BGR))


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_compressed_frames(ext):
    ok, buf = cv2.imencode(ext, BGR)
    out = compressed_to_bgr(ext[1:], buf.tobytes())
    assert out.shape == BGR.shape
    if ext == ".png":
        np.testing.assert_array_equal(out, BGR)


@pytest.mark.parametrize("encoding,match", [
    ("bayer_rggb8", "unsupported image encoding"), ("yuv422", "unsupported image encoding"),
    ("32FC1", "unsupported image encoding")])
def test_unsupported_encodings_are_clear_errors(encoding, match):
    with pytest.raises(ImageError, match=match):
        image_to_bgr(encoding, 7, 5, 7 * 4, bytes(7 * 4 * 5))


def test_wrong_step_truncated_and_empty_images_are_clear_errors():
    data, step = _payload(BGR, 0)
    with pytest.raises(ImageError, match="step 20 is smaller"):
        image_to_bgr("bgr8", 7, 5, 20, data)
    with pytest.raises(ImageError, match="truncated"):
        image_to_bgr("bgr8", 7, 5, step, data[:-5])
    with pytest.raises(ImageError, match="empty"):
        image_to_bgr("bgr8", 0, 0, 0, b"")
    ok, buf = cv2.imencode(".jpg", BGR)
    with pytest.raises(ImageError, match="corrupt JPEG .*header only"):
        compressed_to_bgr("jpeg", buf.tobytes()[:10])
    with pytest.raises(ImageError, match="cannot decode compressed image"):
        compressed_to_bgr("png", buf.tobytes()[2:])
    with pytest.raises(ImageError, match="empty compressed"):
        compressed_to_bgr("jpeg", b"")


def test_latest_frame_scheduler_bounds_latency_and_counts_every_frame():
    """A slow worker never sees an old frame: whatever came while it worked, it takes the
    newest, so a frame waits for at most the one in progress. The worker's pace is set by a
    semaphore, not sleeps, so the machine's speed or load cannot change the outcome."""
    scheduler = LatestFrameScheduler()
    took, processed = [], []
    release = threading.Semaphore(0)

    def worker():
        while (frame := scheduler.take(timeout=5.0)) is not None:
            took.append(frame)
            if not release.acquire(timeout=10.0):  # "computing" until the test lets it finish
                return
            processed.append(frame)
            scheduler.done(ok=frame % 17 != 0, reason="rejected")  # some frames are bad

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    sent = 0
    try:
        for burst in range(40):  # 1 to 9 frames arrive while one is being processed
            scheduler.put(sent)
            sent += 1
            assert wait_until(lambda: took and took[-1] == sent - 1)
            for _ in range(1 + burst % 9):
                scheduler.put(sent)
                sent += 1
            release.release()  # the frame in progress finishes: the worker takes the newest
            assert wait_until(lambda: took[-1] == sent - 1)
            release.release()  # which finishes in turn
            assert wait_until(lambda: processed[-1] == sent - 1)
    finally:
        scheduler.close()
        thread.join(timeout=10.0)
    s = scheduler.stats
    assert s.received == sent and s.pending == 0
    assert s.received == s.published + s.dropped
    assert s.dropped == s.replaced + s.rejected + s.failed + s.discarded
    assert s.rejected == sum(1 for i in processed if i % 17 == 0)
    # of each burst only the newest frame was processed, the rest replaced while they waited
    assert s.replaced == sum(burst % 9 for burst in range(40)) and len(processed) == 80
    assert processed == sorted(processed) == took  # always the newest
    assert scheduler.compute_ms_median >= 0.0


def wait_until(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.001)
    return bool(condition())


def test_scheduler_measures_compute_from_take_to_done():
    scheduler = LatestFrameScheduler(window=3)
    assert np.isnan(scheduler.compute_ms_median)
    for pause in (0.0, 0.05, 0.05, 0.05):
        scheduler.put("frame")
        assert scheduler.take(timeout=1.0) == "frame"
        start = time.perf_counter()
        while time.perf_counter() - start < pause:
            pass
        scheduler.done()
    assert 50.0 <= scheduler.compute_ms_median  # the first (0 ms) left the window of 3
    scheduler.put("lost")
    scheduler.close()  # a frame never taken adds no compute time
    assert 50.0 <= scheduler.compute_ms_median


def test_config_files_are_the_generated_documented_tables():
    for name, overrides in CONFIGS.items():
        path = ROOT / "config" / f"{name}.yaml"
        assert path.read_text() == config_yaml(name, overrides), \
            f"{path} is stale: run python -m pose_estimation_ros.ros.parameters"
        values = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
        assert set(values) == set(BY_NAME)
        assert all(BY_NAME[k].check(v) is None for k, v in values.items())
        pipeline_options(values)
        tracker_config(values)


def test_readme_parameter_table_matches_the_code():
    readme = (ROOT / "README.md").read_text()
    assert readme_table() in readme
    for p in PARAMS:
        assert re.search(rf"^\| `{p.name}` \|", readme, re.M)


def test_parameter_checks_give_reasons():
    assert BY_NAME["det_score"].check(1.5) == "det_score must be in [0.0, 1.0], not 1.5"
    assert BY_NAME["det_score"].check(1) is None  # an int where a float is expected is fine
    assert BY_NAME["pipeline"].check("openpose") == (
        "pipeline must be one of blazepose, topdown, rtmpose, movenet, movenet-multipose, "
        "not 'openpose'")
    assert BY_NAME["det_interval"].check("5") == "det_interval must be a integer, not '5' (string)"
    assert BY_NAME["det_score"].coerce(1) == 1.0 and type(BY_NAME["det_score"].coerce(1)) is float
    assert BY_NAME["max_people"].coerce(True) is True  # no bool → int magic
    assert BY_NAME["provider"].read_only and not BY_NAME["det_score"].read_only


@needs_shared
def test_runtime_parameter_changes_reach_the_running_pipeline():
    from pose_estimation_ros.pipelines.registry import create_pipeline
    from pose_estimation_ros.pipelines.video import VideoPipeline
    from pose_estimation_ros.ros.parameters import apply_runtime

    values = {p.name: p.default for p in PARAMS} | {"pipeline": "topdown"}
    pipeline = VideoPipeline(create_pipeline(pipeline_options(values)), tracker_config(values))
    values |= {"det_score": 0.8, "max_people": 2, "det_interval": 9, "one_euro_beta": 3.0,
               "smoothing": False}
    apply_runtime(pipeline, values)
    assert pipeline.pipeline.detector.config.score_threshold == 0.8
    assert pipeline.pipeline.detector.config.max_people == 2
    assert pipeline.tracker.config.det_interval == 9 and not pipeline.tracker.config.smoothing
    assert pipeline.tracker.config.one_euro.beta == 3.0


def test_a_closed_scheduler_discards_and_counts_what_it_holds():
    scheduler = LatestFrameScheduler()
    scheduler.put("a")
    scheduler.close()
    assert scheduler.take(timeout=0.01) is None
    scheduler.put("b")  # arrives after deactivation
    s = scheduler.stats
    assert (s.received, s.published, s.discarded, s.dropped, s.pending) == (2, 0, 2, 2, 0)
    scheduler.open()
    scheduler.put("c")
    assert scheduler.take(timeout=0.01) == "c"


def test_unknown_parameter_names_get_a_suggestion():
    from pose_estimation_ros.ros.parameters import unknown_parameters

    assert unknown_parameters(["max_peple", "det_score", "use_sim_time", "zzz"]) == [
        "unknown parameter 'max_peple' is ignored; did you mean 'max_people'?",
        "unknown parameter 'zzz' is ignored"]
