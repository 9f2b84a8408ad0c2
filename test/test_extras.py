"""The lean install: `demo` and `run` work with none of the extras importable, and a command
that needs one says which to install (a child process where the extras' modules cannot be
imported, as in a venv with only `pip install .`; `.ci/lean` does it in a real one)."""
import subprocess
import sys

from conftest import DATA, ROOT, needs_shared

BLOCK = """
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'rosbags', 'pycocotools', 'skimage', 'ray', 'hypothesis'}:
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Absent())
import importlib.util
_find = importlib.util.find_spec
def find_spec(name, package=None):
    if name.split('.')[0] in {'rosbags', 'pycocotools', 'skimage', 'ray', 'hypothesis'}:
        return None
    return _find(name, package)
importlib.util.find_spec = find_spec
from pose_estimation_ros.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK, *args], capture_output=True,
                          text=True, cwd=ROOT)


@needs_shared
def test_demo_and_run_need_no_extra(tmp_path):
    out = _cli("demo", "--output", str(tmp_path / "d"))
    assert out.returncode == 0, out.stderr
    assert "1 person(s) found" in out.stdout and "astronaut.jpg" in out.stdout
    image = DATA / "mmpose_tests" / "coco" / "000000000785.jpg"
    out = _cli("run", str(image), "--output", str(tmp_path / "r"), "--pipeline", "topdown")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "r" / "keypoints.jsonl").is_file()


def test_a_command_that_needs_an_extra_names_it(tmp_path):
    out = _cli("bag", str(tmp_path), "--output", str(tmp_path / "o"))
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: `bag` (reading and writing bags) needs rosbags, which "
                                  'is not installed: pip install "pose_estimation_ros[bags]"')
    out = _cli("eval", "--coco", str(tmp_path / "a.json"), "--images", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.strip().endswith('pip install "pose_estimation_ros[eval]"')
    assert "Traceback" not in out.stderr
