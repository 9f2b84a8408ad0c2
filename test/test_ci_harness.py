"""The CI harness (`.ci/ros_env`) next to a user's workspace (issue 33, row 10): a released
hri_msgs in a workspace sourced first is the one used; the harness's test-only copy, which has
the same name, is neither built nor put on the path (two on the path load one's Python module
with the other's type support, and REP-155 fails to start)."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT
from ros_graph import import_ros

import_ros()


def _bash(script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _without_workspace(env: dict, workspace) -> dict:
    clean = dict(env)
    for name in ("AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH", "PYTHONPATH", "LD_LIBRARY_PATH"):
        parts = [p for p in clean.get(name, "").split(os.pathsep)
                 if p and not p.startswith(str(workspace))]
        clean[name] = os.pathsep.join(parts)
    return clean


def test_a_released_hri_msgs_in_a_sourced_workspace_is_not_shadowed(tmp_path):
    if shutil.which("colcon") is None:
        pytest.skip("colcon is not installed (source .ci/ros_env)")
    source = tmp_path / "src" / "hri_msgs"
    shutil.copytree(ROOT / "test" / "ros_packages" / "hri_msgs", source)
    (source / "msg").mkdir(exist_ok=True)
    for msg in (ROOT / "pose_estimation_ros" / "transport" / "hri_msgs").glob("*.msg"):
        shutil.copy(msg, source / "msg")
    built = _bash(f"cd {tmp_path} && colcon --log-base log build --base-paths src "
                  "--event-handlers console_cohesion-", dict(os.environ))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    env = _without_workspace(os.environ, tmp_path)
    try:
        used = _bash(f"source {tmp_path}/install/setup.bash && source .ci/ros_env && "
                     "python -c 'import hri_msgs.msg as m; print(m.__file__); m.IdsList()'",
                     env)
        assert used.returncode == 0, used.stdout + used.stderr
        assert f"using the hri_msgs of {tmp_path}/install/hri_msgs" in used.stdout
        assert used.stdout.strip().splitlines()[-1].startswith(f"{tmp_path}/install/hri_msgs/")
        assert not (ROOT / ".ros" / "install" / "hri_msgs").exists()
    finally:  # the harness as the other tests found it
        again = _bash("source .ci/ros_env && python -c 'import hri_msgs.msg as m; "
                      "print(m.__file__)'", env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert str(ROOT / ".ros" / "install" / "hri_msgs") in again.stdout
