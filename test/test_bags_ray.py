"""`bag --backend ray` on a real local Ray runtime (2 CPUs, started once for this module; no
mock): the same bytes as the serial backend, a corrupt bag failed while the others complete, a
worker process killed mid-bag retried until the bag completes, an interrupted run resumed."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, needs_shared
from test_bags import frames, make_bag

from pose_estimation_ros.cli.main import main

pytestmark = needs_shared
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install "
                                        "\"pose_estimation_ros[ray]\" ([test] has it)")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray runtime with 2 CPUs: two bags at a time."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray_bags") / "in"
    images = frames(16)
    for i in range(6):
        make_bag(root / f"b{i}", images[i:i + 10], storage="mcap" if i % 2 else "sqlite3")
    return root


def _run(*args) -> int:
    return main(["bag", *map(str, args), "--threads", "1", "--no-progress"])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".yaml"}


def test_the_same_bytes_as_the_serial_backend_and_a_corrupt_bag_fails_alone(cluster, bags,
                                                                            tmp_path, capsys):
    import shutil

    inputs = tmp_path / "in"
    shutil.copytree(bags, inputs)
    (inputs / "b9_broken.bag").write_bytes(b"#ROSBAG V2.0\n" + os.urandom(4000))
    assert _run(inputs, "--output", tmp_path / "serial", "--csv", tmp_path / "serial.csv") == 2
    capsys.readouterr()
    assert _run(inputs, "--output", tmp_path / "ray", "--csv", tmp_path / "ray.csv",
                "--backend", "ray") == 2
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == "bags=7 processed=6 skipped=0 failed=1"
    assert "b9_broken.bag: cannot read the bag" in out.err
    assert _files(tmp_path / "ray") == _files(tmp_path / "serial")  # bags and tables
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "serial.csv").read_bytes()
    where = {"output", "table", "ran_on"}  # what says where a bag ran
    for i in range(6):
        a = yaml.safe_load((tmp_path / "ray" / f"b{i}.poses.yaml").read_text())
        b = yaml.safe_load((tmp_path / "serial" / f"b{i}.poses.yaml").read_text())
        assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} <= where
        assert a["ran_on"]["backend"] == "ray" and b["ran_on"]["backend"] == "local"
    assert not (tmp_path / "ray" / "b9_broken.poses.yaml").exists()
    # models loaded once per worker process: a process's later bags reuse them
    runs = [yaml.safe_load((tmp_path / "ray" / f"b{i}.poses.yaml").read_text())["ran_on"]
            for i in range(6)]
    per_process: dict = {}
    for where in runs:
        per_process.setdefault(where["pid"], []).append(where["models_reused"])
    assert len(per_process) < 6
    assert all(sorted(n) == list(range(len(n))) for n in per_process.values()), per_process


def _ray_workers_running(task: str = "process_one") -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes().startswith(f"ray::{task}".encode()):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def test_a_worker_killed_mid_bag_is_retried_and_the_bag_completes(cluster, tmp_path, capsys):
    make_bag(tmp_path / "in" / "long", frames(150), storage="mcap")
    killed = []

    def kill_one() -> None:  # the first worker seen running a bag, once
        end = time.monotonic() + 60
        while not killed and time.monotonic() < end:
            for pid in _ray_workers_running():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)
    killer = threading.Thread(target=kill_one)
    killer.start()
    assert _run(tmp_path / "in", "--output", tmp_path / "out", "--backend", "ray") == 0
    killer.join()
    assert killed, "no Ray worker was seen running the bag"
    side = yaml.safe_load((tmp_path / "out" / "long.poses.yaml").read_text())
    assert side["complete"] and side["frames_processed"] == 150
    assert side["ran_on"]["pid"] != killed[0]  # another worker process did it again


def test_an_interrupted_run_resumes_with_only_the_unfinished_bags(cluster, tmp_path, capsys):
    bags, images = tmp_path / "in", frames(40)  # bags long enough to interrupt between them
    for i in range(6):
        make_bag(bags / f"b{i}", images[i:i + 34], storage="mcap")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pose_estimation_ros", "bag", str(bags), "--output", str(out),
         "--backend", "ray", "--ray-address", cluster, "--threads", "1", "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a suite started in the background of a script inherits SIGINT
        # ignored, and so would the command
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    end = time.monotonic() + 120
    while len(list(out.glob("*.poses.yaml"))) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    stdout, stderr = proc.communicate(timeout=60)
    done = sorted(p.name for p in out.glob("*.poses.yaml"))
    assert 2 <= len(done) < 6, (done, proc.returncode, stdout[-500:], stderr[-2000:])
    for name in done:  # what is there is complete; nothing half-written stays
        assert yaml.safe_load((out / name).read_text())["complete"]
    assert {p.name for p in out.iterdir() if p.suffix == ".poses"} == \
        {n.removesuffix(".yaml") for n in done}
    assert not (out / ".partial").exists() or not any((out / ".partial").iterdir())
    capsys.readouterr()
    assert _run(bags, "--output", out, "--backend", "ray", "--resume") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"bags=6 processed={6 - len(done)} skipped={len(done)} failed=0"
    assert len(list(out.glob("*.poses.yaml"))) == 6


def test_without_ray_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    make_bag(tmp_path / "in", frames(2))
    assert _run(tmp_path / "in", "--output", tmp_path / "out", "--backend", "ray") == 2
    err = capsys.readouterr().err
    assert err.strip() == 'error: --backend ray needs Ray: pip install ' \
        '"pose_estimation_ros[ray]"'
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_sigterm_stops_a_ray_run_as_ctrl_c_does(cluster, tmp_path):
    """SIGTERM to the driver (systemd, docker stop, Slurm): the tasks not done are cancelled
    and their files removed, the command ends killed by SIGTERM, and nothing is written after
    it exits."""
    from test_bags_signals import assert_only_complete_outputs, listing, stop_midway

    images = frames(40)
    for i in range(6):  # two at a time: four still to come when the first is done
        make_bag(tmp_path / "in" / f"b{i}", images[i:i + 34], storage="mcap")
    out = tmp_path / "out"
    done = stop_midway([str(tmp_path / "in"), "--backend", "ray", "--ray-address", cluster],
                       out, signal.SIGTERM,
                       lambda o: len(list(o.glob("*.poses.yaml"))) >= 1)
    assert done.returncode == -signal.SIGTERM, (done.returncode, done.stderr[-2000:])
    assert "stopped by SIGTERM" in done.stderr
    before = listing(out)
    assert 1 <= len(assert_only_complete_outputs(out)) < 6
    time.sleep(3.0)
    assert listing(out) == before


def test_generated_signals_stop_a_ray_run_cleanly(cluster, tmp_path):
    """test_bags_signals' generator with the Ray backend: repeated signals, to the command or
    its process group, at any moment, end it killed by the first, with only complete
    outputs and nothing written after it exits."""
    import random

    from test_bags_signals import SEED, generated_signal_cases, run_signal_case

    images = frames(40)
    for i in range(4):
        make_bag(tmp_path / "in" / f"b{i}", images[i:i + 34], storage="mcap")
    cases = generated_signal_cases(random.Random(SEED + 1), ["ray"],
                                   int(os.environ.get("FUZZ_RAY_SIGNAL_CASES", "2")))
    for n, case in enumerate(cases):
        run_signal_case(case, tmp_path / "in", tmp_path / f"out{n}",
                        ["--backend", "ray", "--ray-address", cluster])
