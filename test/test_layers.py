"""The package's layers import only downward (README "Layout"), and only the ROS modules that
need a ROS 2 installation import rclpy or ROS message packages."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pose_estimation_ros"
#: lowest first: a module may import its own layer and the layers before it
LAYERS = ("core", "models", "vision", "tracking", "pipelines", "hands", "gestures", "following",
          "stream", "transport", "settings", "ros", "bags", "cli")
#: layers on one level: neither imports the other (`bag` runs without ROS)
SIBLINGS = {("bags", "ros")}
#: the layer that imports rclpy or ROS message packages: every module of it, and no other
ROS_LAYER = "ros"
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
                elif tuple(sorted((rel.parts[0], parts[1]))) in SIBLINGS:
                    problems.append(f"{rel}:{line} ({rel.parts[0]}) imports {name} "
                                    f"({parts[1]}, a sibling layer)")
            ros = parts[0] in _ROS_ROOTS or parts[0].endswith("_msgs") \
                or (parts[0] == package and parts[1:2] in (["msg"], ["srv"]))
            if ros and rel.parts[0] != ROS_LAYER:
                problems.append(f"{rel}:{line} imports {name}: only {ROS_LAYER}/ may need a "
                                "ROS 2 installation")
    return problems


def rclpy_free_ros_modules(root: Path = PACKAGE) -> list[str]:
    """Modules of ros/ that import neither rclpy nor ROS messages: they belong lower."""
    found = []
    for path in sorted((root / ROS_LAYER).glob("*.py")):
        if path.name == "__init__.py":
            continue
        names = [n for _, n in _imports(path, root)]
        own = [n.split(".")[2] for n in names if n.startswith(f"{root.name}.{ROS_LAYER}.")
               and len(n.split(".")) > 2]
        if not any(n.split(".")[0] in _ROS_ROOTS or n.split(".")[0].endswith("_msgs")
                   or n.startswith((f"{root.name}.msg", f"{root.name}.srv")) for n in names) \
                and not own:
            found.append(path.name)
    return found


def import_cycles(root: Path = PACKAGE) -> list[tuple[str, str]]:
    """Pairs of the package's modules that import each other (at module level or inside a
    function: either way one needs the other to be complete)."""
    edges = set()
    for path in sorted(root.rglob("*.py")):
        module = ".".join((root.name, *path.relative_to(root).with_suffix("").parts))
        for _, name in _imports(path, root):
            edges.add((module.removesuffix(".__init__"), name))
    return sorted((a, b) for a, b in edges if a < b and (b, a) in edges)


def test_every_subpackage_is_a_known_layer():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LAYERS)
    assert [p.name for p in PACKAGE.glob("*.py")] and \
        {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py", "__main__.py"}


def test_layers_import_only_downward():
    assert layer_violations() == []


def test_ros_means_imports_rclpy_and_nothing_imports_itself_back():
    """ros/ holds only modules that need ROS 2 (the rest is in stream/ and transport/, where
    bags/ can use it without ROS), and no two modules import each other."""
    assert rclpy_free_ros_modules() == []
    assert import_cycles() == []


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
    (pkg / "ros" / "fine.py").write_text("from ..core.results import Person\nimport rclpy\n")
    (pkg / "ros" / "plain.py").write_text("from ..core.results import Person\n")
    (pkg / "bags" / "rosy.py").write_text("from ..ros import convert\n")
    (pkg / "ros" / "a.py").write_text("import rclpy\nfrom . import b\n")
    (pkg / "ros" / "b.py").write_text("import rclpy\n\ndef f():\n    from .a import x\n")
    assert rclpy_free_ros_modules(pkg) == ["plain.py"]
    assert import_cycles(pkg) == [("pose_estimation_ros.ros.a", "pose_estimation_ros.ros.b")]
    found = layer_violations(pkg)
    assert len(found) == 4, found
    assert any("bags/rosy.py:1 (bags)" in p and "a sibling layer" in p for p in found)
    assert any("pipelines/bad.py:1" in p and "ros.node" in p for p in found)
    assert any("tracking/worse.py:1" in p and "pose_estimation_ros.cli" in p for p in found)
    assert any("vision/rosy.py:1 imports rclpy" in p for p in found)


#: the longest a function of the package may be, and a module (DEVELOPERS.md's style)
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 60, 400


def long_code(root: Path = PACKAGE) -> list[str]:
    """Functions over MAX_FUNCTION_LINES lines (decorators and docstrings included) and
    modules over MAX_MODULE_LINES."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            found.append(f"{path.relative_to(root)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: "
                                 f"{node.end_lineno - start + 1} lines")
    return found


def test_no_function_over_60_lines_and_no_module_over_400():
    assert long_code() == []


def test_the_size_rule_catches_a_long_function(tmp_path):
    pkg = tmp_path / "pose_estimation_ros"
    (pkg / "core").mkdir(parents=True)
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    (pkg / "core" / "long.py").write_text(f"def f():\n{body}\n\n\ndef g():\n    return 1\n")
    assert long_code(pkg) == ["core/long.py:1 f: 61 lines"]
