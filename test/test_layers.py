"""The package's layers import only downward (README "Layout"), and only the ROS modules that
need a ROS 2 installation import rclpy or ROS message packages."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pose_estimation_ros"
#: lowest first: a module may import its own layer and the layers before it
LAYERS = ("core", "models", "vision", "tracking", "pipelines", "following", "ros", "bags", "cli")
#: the modules that import rclpy or ROS message packages (the rest of `ros` is plain Python,
#: shared with the bag tools and tested without ROS)
ROS_MODULES = {"ros/node.py", "ros/main.py", "ros/support.py", "ros/depth.py"}
_ROS_ROOTS = ("rclpy", "builtin_interfaces", "rcl_interfaces", "lifecycle_msgs", "tf2_ros")


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module of the package at `root`."""
    here = [root.name, *path.relative_to(root).parent.parts]  # e.g. [pose_estimation_ros, ros]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            if not node.module:  # from . import x: x may be a module
                found += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return found


def layer_violations(root: Path = PACKAGE) -> list[str]:
    package, problems = root.name, []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:  # __init__, __main__ of the package: the top
            continue
        own = LAYERS.index(rel.parts[0])
        for line, name in _imports(path, root):
            parts = name.split(".")
            if parts[0] == package and len(parts) > 1 and parts[1] in LAYERS:
                if LAYERS.index(parts[1]) > own:
                    problems.append(f"{rel}:{line} ({rel.parts[0]}) imports {name} "
                                    f"({parts[1]}, a higher layer)")
            ros = parts[0] in _ROS_ROOTS or parts[0].endswith("_msgs") \
                or (parts[0] == package and parts[1:2] == ["msg"])
            if ros and rel.as_posix() not in ROS_MODULES:
                problems.append(f"{rel}:{line} imports {name}: only {sorted(ROS_MODULES)} "
                                "may need a ROS 2 installation")
    return problems


def test_every_subpackage_is_a_known_layer():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LAYERS)
    assert [p.name for p in PACKAGE.glob("*.py")] and \
        {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py", "__main__.py"}


def test_layers_import_only_downward():
    assert layer_violations() == []


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a pipeline importing the node, a tracker importing the CLI through
    a relative import, and a vision module importing rclpy are each reported."""
    pkg = tmp_path / "pose_estimation_ros"
    for layer in LAYERS:
        (pkg / layer).mkdir(parents=True)
        (pkg / layer / "__init__.py").write_text("")
    (pkg / "pipelines" / "bad.py").write_text("from pose_estimation_ros.ros.node import main\n")
    (pkg / "tracking" / "worse.py").write_text("from ..cli import main\nfrom . import kalman\n")
    (pkg / "vision" / "rosy.py").write_text("import rclpy\n")
    (pkg / "ros" / "fine.py").write_text("from ..core.results import Person\n")
    found = layer_violations(pkg)
    assert len(found) == 3, found
    assert any("pipelines/bad.py:1" in p and "ros.node" in p for p in found)
    assert any("tracking/worse.py:1" in p and "pose_estimation_ros.cli" in p for p in found)
    assert any("vision/rosy.py:1 imports rclpy" in p for p in found)
