"""The bags a `bag` command reads, and where each one's outputs go, checked before anything is
written: an input is a rosbag2 folder, a ROS 1 `.bag` (or a lone `.mcap`/`.db3`), or a folder
holding such bags. The same bag named twice is one bag. Two bags whose outputs would have the
same name (`study_a/sess` and `study_b/sess` → `DIR/sess.poses`) are refused with both paths
named, never silently overwritten. Scanning a folder skips this command's own outputs
(`<bag>.poses` beside their sidecar, `.partial/`), so an `--output` inside an input folder can
be run again (`--resume`)."""
from __future__ import annotations

from pathlib import Path

from .process import sidecar_path
from .topics import BagError

SUFFIXES = (".bag", ".mcap", ".db3")
OUTPUT_SUFFIX = ".poses"


def find_bags(inputs: list[str]) -> list[Path]:
    """The input bags in the order given, each once; BagError for one that is none, or for
    two whose outputs would collide."""
    bags: list[Path] = []
    for text in inputs:
        path = Path(text)
        if is_bag(path):
            bags.append(path)
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if is_bag(p) and not _is_output(p))
            if not found:
                raise BagError(f"{path}: neither a bag nor a folder of bags (a rosbag2 folder "
                               "has metadata.yaml; ROS 1 bags end in .bag)")
            bags.extend(found)
        elif path.exists():
            raise BagError(f"{path}: not a bag (a rosbag2 bag is a folder with metadata.yaml; "
                           f"a ROS 1 bag is a file ending in .bag)")
        else:
            raise BagError(f"{path}: no such bag")
    unique = list({p.resolve(): p for p in reversed(bags)}.values())[::-1]
    _check_names(unique)
    return unique


def is_bag(path: Path) -> bool:
    return (path.is_dir() and (path / "metadata.yaml").is_file()) or \
        (path.is_file() and path.suffix in SUFFIXES)


def output_name(bag: Path) -> str:
    """The name of a bag's outputs: `<name>.poses` (its sidecar `<name>.poses.yaml`)."""
    return f"{bag.stem if bag.is_file() else bag.name}{OUTPUT_SUFFIX}"


def _is_output(path: Path) -> bool:
    """One of this command's own outputs, found when scanning a folder."""
    return path.name == ".partial" or (path.name.endswith(OUTPUT_SUFFIX)
                                       and sidecar_path(path).is_file())


def _check_names(bags: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for bag in bags:
        name = output_name(bag)
        if name in seen:
            raise BagError(f"{seen[name]} and {bag} would both write {name} (and its sidecar "
                           "and table): rename one, or process them into different --output "
                           "folders")
        seen[name] = bag
