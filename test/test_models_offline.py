"""Models for a robot without internet (issue 36): `models prepare --download-only DIR` on a
connected machine, `models import DIR` on one with its own, empty cache and no network; every
pipeline runs there, a wrong file is named and refused, and the model-missing error names the
route."""
import shutil

import pytest
from conftest import SHARED, needs_shared
from test_models_fetch import _serve_npm

from pose_estimation_ros.cli.main import main
from pose_estimation_ros.models import fetch
from pose_estimation_ros.models import store as model_store

pytestmark = needs_shared
PIPELINES = ("blazepose", "topdown", "movenet", "movenet-multipose")


def _photo():
    from conftest import ROOT

    return str(ROOT / "pose_estimation_ros" / "data" / "astronaut.jpg")


def _no_network(monkeypatch):
    def refuse(url, dest):
        raise OSError(f"no network on this machine ({url})")
    monkeypatch.setattr(fetch, "download", refuse)
    monkeypatch.setattr(fetch, "remote_size", lambda url: None)


def test_download_only_on_one_machine_import_on_another(tmp_path, monkeypatch, capsys):
    connected, robot, carried = tmp_path / "connected", tmp_path / "robot", tmp_path / "dl"
    # the connected machine: the shared models on its search path, and one model whose
    # source files it downloads (file:// copies of the npm CDN: the real download code)
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(SHARED / "models"))
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(connected))
    served = tmp_path / "served"
    served.mkdir()
    _serve_npm(monkeypatch, served, "efficientpose-ii-lite", tarball=False)
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path / "nothing"))
    assert main(["models", "prepare", "efficientpose-ii-lite", "--download-only",
                 str(carried)]) == 0
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(SHARED / "models"))
    argv = ["models", "prepare", "--download-only", str(carried)]
    for name in PIPELINES:
        argv += ["--pipeline", name]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "efficientpose-ii-lite" in out and "copy it to the robot" in out
    assert not connected.exists() or not list(connected.glob("*.onnx"))  # nothing built there

    # the robot: another, empty cache, no model folder, no network
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(robot))
    monkeypatch.delenv("POSE_ESTIMATION_MODELS")
    _no_network(monkeypatch)
    assert main(["run", _photo(), "--output", str(tmp_path / "before")]) == 2
    err = capsys.readouterr().err
    assert "models prepare blazepose-detector --download-only DIR" in err
    assert "models import DIR" in err
    assert main(["models", "import", str(carried)]) == 0
    ready = capsys.readouterr().out
    assert "efficientpose-ii-lite" in ready and "movenet-multipose" in ready
    for name in PIPELINES:
        assert main(["run", _photo(), "--output", str(tmp_path / name), "--pipeline",
                     name]) == 0, name
        assert "people_per_frame=1.00" in capsys.readouterr().out, name
    assert main(["run", _photo(), "--output", str(tmp_path / "ep"), "--pipeline", "topdown",
                 "--pose", "efficientpose-ii-lite"]) == 0
    assert main(["models", "verify", "--pipeline", "topdown"]) == 0


def test_a_wrong_file_in_the_folder_is_named_and_not_imported(tmp_path, monkeypatch, capsys):
    carried = tmp_path / "dl"
    carried.mkdir()
    for name in ("movenet-thunder.json", "movenet-thunder.bin"):
        shutil.copyfile(SHARED / "models" / name, carried / name)
    with open(carried / "movenet-thunder.bin", "r+b") as f:
        f.seek(1000)
        f.write(b"\xff\xfe")
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "robot"))
    monkeypatch.delenv("POSE_ESTIMATION_MODELS", raising=False)
    assert main(["models", "import", str(carried)]) == 2
    err = capsys.readouterr().err
    assert "movenet-thunder.bin is corrupt" in err and "expected" in err
    assert not (tmp_path / "robot").exists() or not list((tmp_path / "robot").iterdir())
    assert main(["models", "import", str(tmp_path / "empty")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_fetch_error_names_the_offline_route(tmp_path, monkeypatch):
    monkeypatch.setenv("POSE_ESTIMATION_MODELS", str(tmp_path / "nothing"))
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "cache"))
    _no_network(monkeypatch)
    with pytest.raises(model_store.ModelError) as err:
        fetch.prepare("movenet-lightning")
    text = str(err.value)
    assert "could not fetch movenet-lightning.json" in text
    assert "models prepare movenet-lightning --download-only DIR" in text
    assert "movenet-lightning.bin (sha256 " in text
