"""`bag` stopped by a signal, as a process: SIGTERM (what `kill`, systemd, `docker stop` and
Slurm send) does what Ctrl-C does, with `--jobs 1` and with worker processes: it ends killed
by that signal once it has cleaned up (`$?` 143, or 130), no process of the command left,
its output closed (the caller reads EOF), only complete outputs with their sidecars, no
`.partial/`, and nothing written after it exits. The Ray backend's case is in
test_bags_ray.py."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, needs_shared
from test_bags import frames, make_bag

pytestmark = needs_shared


def command_processes(marker: str) -> list[int]:
    """Processes whose command line holds `marker` (the run's unique output folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def stop_midway(args: list[str], out: Path, sig: int, started) -> subprocess.CompletedProcess:
    """Run `bag`, send `sig` once `started(out)`, and return what it printed: EOF reached."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pose_estimation_ros", "bag", *args, "--output", str(out),
         "--threads", "1", "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal
    end = time.monotonic() + 120
    while not started(out) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    try:
        stdout, stderr = proc.communicate(timeout=90)  # EOF: nothing of it holds the pipes
    except subprocess.TimeoutExpired:  # hung: leave nothing of it running, then fail
        for pid in command_processes(str(out)):
            os.kill(pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"still running 90 s after {signal.Signals(sig).name}\n"
                             f"{stderr}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def assert_only_complete_outputs(out: Path) -> list[str]:
    done = sorted(p.name for p in out.glob("*.poses.yaml"))
    for name in done:
        assert yaml.safe_load((out / name).read_text())["complete"]
    assert {p.name for p in out.iterdir() if p.suffix == ".poses"} == \
        {n.removesuffix(".yaml") for n in done}
    assert not (out / ".partial").exists() or not any((out / ".partial").iterdir())
    return done


def partial_under_way(out: Path) -> bool:
    return any((out / ".partial").glob("*.poses/*.mcap")) if (out / ".partial").is_dir() \
        else False


@pytest.mark.parametrize("jobs, sig", [(1, signal.SIGTERM), (2, signal.SIGTERM),
                                       (2, signal.SIGINT)],
                         ids=["jobs1-SIGTERM", "jobs2-SIGTERM", "jobs2-SIGINT"])
def test_a_signal_stops_bag_as_ctrl_c_does(tmp_path, jobs, sig):
    images = frames(40)
    for i in range(4):
        make_bag(tmp_path / "in" / f"b{i}", images[i:i + 34], storage="mcap")
    out = tmp_path / f"out-{jobs}-{sig}"
    done = stop_midway([str(tmp_path / "in"), "--jobs", str(jobs)], out, sig,
                       partial_under_way)
    assert done.returncode == -sig, (done.returncode, done.stderr[-2000:])
    assert f"stopped by {signal.Signals(sig).name}" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert command_processes(str(out)) == []  # no worker left behind
    before = listing(out)
    finished = assert_only_complete_outputs(out)
    assert len(finished) < 4
    time.sleep(2.0)
    assert listing(out) == before  # nothing written after it exited


SEED = int(os.environ.get("FUZZ_SEED", "2026"))
SIGNAL_CASES = int(os.environ.get("FUZZ_SIGNAL_CASES", "5"))
MOMENTS = {  # when the first signal goes, as a condition on the output folder
    "starting": lambda out: True,  # while Python and the models load
    "first frames": partial_under_way,
    "first bag done": lambda out: any(out.glob("*.poses.yaml")),
}


def generated_signal_cases(rng, backends: list[str], n: int) -> list[dict]:
    """Signals as users and their tools send them: SIGTERM or SIGINT, once or repeated (a
    second Ctrl-C, systemd's SIGTERM then a Ctrl-C), to the command or to its whole process
    group (a terminal's Ctrl-C reaches every worker), at a moment of the run."""
    return [{"backend": rng.choice(backends), "moment": rng.choice(list(MOMENTS)),
             "signals": [rng.choice([signal.SIGINT, signal.SIGTERM])
                         for _ in range(rng.choice([1, 1, 2, 3]))],
             "gap": rng.choice([0.0, 0.05, 0.5]), "group": rng.random() < 0.4}
            for _ in range(n)]


def run_signal_case(case: dict, bags: Path, out: Path, backend_args: list[str]) -> str:
    """Run one generated case; a description of the case for failure messages."""
    where = f"seed {SEED}: {case}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pose_estimation_ros", "bag", str(bags), *backend_args,
         "--output", str(out), "--threads", "1", "--no-progress"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    end = time.monotonic() + 120
    while not MOMENTS[case["moment"]](out) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.02)
    if case["moment"] == "starting":
        time.sleep(case["gap"] * 4)
    assert proc.poll() is None, (where, proc.communicate())
    for sig in case["signals"]:
        if case["group"]:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        time.sleep(case["gap"])
    try:
        stdout, stderr = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:  # hung: leave nothing of it running, then fail
        for pid in command_processes(str(out)):
            os.kill(pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"{where}: still running 90 s after the signal\n{stderr}") \
            from None
    # killed by the signal that stopped it, which it names. Signals that come while the main
    # thread waits in a C call (Ray's wait, a model run) are pending together and Python runs
    # their handlers in signal-number order, so with several the first handled may be any.
    assert -proc.returncode in case["signals"], (where, proc.returncode, stderr[-2000:])
    assert f"stopped by {signal.Signals(-proc.returncode).name}" in stderr or \
        "stopped by" not in stderr, (where, stderr[-2000:])  # (a signal while starting)
    assert "Traceback" not in stderr, (where, stderr[-3000:])
    assert command_processes(str(out)) == [], where
    if out.exists():
        before = listing(out)
        assert_only_complete_outputs(out)
        time.sleep(1.0)
        assert listing(out) == before, where
    return where


def test_generated_signals_stop_bag_cleanly(tmp_path):
    import random

    images = frames(40)
    for i in range(4):
        make_bag(tmp_path / "in" / f"b{i}", images[i:i + 34], storage="mcap")
    backends = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"]}
    rng = random.Random(SEED)
    for n, case in enumerate(generated_signal_cases(rng, list(backends), SIGNAL_CASES)):
        run_signal_case(case, tmp_path / "in", tmp_path / f"out{n}", backends[case["backend"]])
