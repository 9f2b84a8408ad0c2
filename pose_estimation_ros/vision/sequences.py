"""Folders of numbered frames: whether a folder is an image sequence, and colour and depth
frames paired by file name.

A folder is a sequence when every image's name ends in a number, the names differ only in that
number (same prefix and suffix), the numbers are consecutive, and every image has the same size
(read from the PNG or JPEG header, else decoded). `mmpose_tests/coco/000000000785.jpg`,
`…40083.jpg`, … are numbered but not consecutive: photos, not a sequence. Sequence frames are
ordered by number (`9.png` before `10.png`).
"""
from __future__ import annotations

import re
from pathlib import Path

from .headers import header_size, image_format
from .imaging import IMAGE_SUFFIXES, ImageError, read_image

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ImageError(f"folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def frame_number(path: Path) -> tuple[str, int] | None:
    """(prefix, number) of a name ending in digits, else None."""
    m = _NUMBERED.match(path.stem)
    return (m.group(1), int(m.group(2))) if m else None


def sequence_order(files: list[Path]) -> tuple[list[Path] | None, str]:
    """The files in frame order when they are a sequence (module docstring), else None; and
    why, in words."""
    if len(files) < 2:
        return None, "a single image"
    numbered = [frame_number(f) for f in files]
    if any(n is None for n in numbered):
        bad = next(f.name for f, n in zip(files, numbered) if n is None)
        return None, f"not every name ends in a frame number ({bad})"
    if len({(n[0], f.suffix.lower()) for f, n in zip(files, numbered)}) > 1:
        return None, "the names differ in more than their number"
    order = sorted(range(len(files)), key=lambda i: numbered[i][1])
    numbers = [numbered[i][1] for i in order]
    gaps = [(a, b) for a, b in zip(numbers, numbers[1:]) if b != a + 1]
    if gaps:
        return None, f"the numbers are not consecutive ({gaps[0][0]} then {gaps[0][1]})"
    sizes = {image_size(f) for f in files}
    if len(sizes) > 1:
        return None, f"the images differ in size ({', '.join(f'{w}×{h}' for w, h in sizes)})"
    return [files[i] for i in order], f"{len(files)} consecutively numbered images of one size"


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG or JPEG header, else by decoding the image."""
    data = path.read_bytes()
    if image_format(data):
        try:
            return header_size(data)[1:]
        except ImageError as exc:
            raise ImageError(f"{path}: {exc}") from None
    return read_image(path).shape[1::-1]


def pair_by_name(colour: list[Path], depth: list[Path]) -> list[Path]:
    """The depth file of each colour file: the same name (stem), else the same frame number
    (`color_0007.png` ↔ `depth_0007.png`); ImageError naming the unpaired ones."""
    by_stem = {p.stem: p for p in depth}
    if all(c.stem in by_stem for c in colour):
        return [by_stem[c.stem] for c in colour]
    by_number = {n[1]: p for p in depth if (n := frame_number(p)) is not None}
    numbers = [frame_number(c) for c in colour]
    if len(by_number) == len(depth) and all(n is not None and n[1] in by_number
                                            for n in numbers):
        return [by_number[n[1]] for n in numbers]
    missing = [c.name for c in colour if c.stem not in by_stem][:5]
    raise ImageError(f"colour and depth frames do not pair by file name: no depth for "
                     f"{', '.join(missing)}{' …' if len(missing) == 5 else ''} (the depth "
                     "folder needs the same names, or the same frame numbers)")
