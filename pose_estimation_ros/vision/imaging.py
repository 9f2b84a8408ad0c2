"""Reading images and videos into the one format every pipeline takes: BGR uint8, H×W×3."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .errors import ImageError, Rejection
from .headers import MAX_PIXELS, check_pixels, header_size, image_format

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Normalise grayscale, BGRA and 16-bit images to BGR uint8; reject what cannot be."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy image, got {type(image).__name__}",
                         Rejection.UNSUPPORTED)
    if image.size == 0:
        raise ImageError(f"empty image (shape {image.shape})", Rejection.EMPTY)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)  # keep the top 8 bits: full range maps to full range
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}; expected uint8 or uint16",
                         Rejection.UNSUPPORTED)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise ImageError(f"unsupported image shape {image.shape}; expected H×W, H×W×3 or H×W×4",
                     Rejection.UNSUPPORTED)


def check_bgr8(image) -> np.ndarray:
    """The pipelines' input contract, checked without converting: a non-empty H×W×3 uint8
    array. Every input source (files, videos, ROS messages, bags) converts with `to_bgr8`;
    a caller passing anything else gets this error, not a failure deep inside a warp."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or image.size == 0:
        shape = getattr(image, "shape", None)
        kind = getattr(image, "dtype", type(image).__name__)
        raise ImageError(f"the pipelines take BGR uint8 H×W×3 images, not {kind} {shape}; "
                         "convert with vision.imaging.to_bgr8", Rejection.UNSUPPORTED)
    return image


def read_image(path: str | Path, max_pixels: int | None = None) -> np.ndarray:
    """An image file as BGR uint8; a JPEG or PNG is checked from its header first (size
    limit, a JPEG's structure: `vision.headers`)."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image {path} does not exist", Rejection.UNREADABLE)
    data = path.read_bytes()
    try:
        if image_format(data):
            _, width, height = header_size(data)
            check_pixels(width, height, max_pixels or MAX_PIXELS)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except (ImageError, cv2.error) as exc:
        raise ImageError(f"cannot read image {path}: {exc}",
                         getattr(exc, "reason", Rejection.CORRUPT)) from None
    if image is None:
        raise ImageError(f"cannot decode image {path} (not an image, or corrupt)")
    return to_bgr8(image)


@dataclass
class Frame:
    index: int
    stamp: float  # seconds
    image: np.ndarray | None  # BGR uint8; None when the frame could not be read
    name: str  # file name or "video:<index>"
    error: str = ""  # why the frame could not be read


def is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES


class VideoReader:
    """Frames of a video file with timestamps from its frame rate."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise ImageError(f"{self.path} is a folder, not a video file (`run` reads folders "
                             "of images and image sequences)")
        if not self.path.is_file():
            raise ImageError(f"video {self.path} does not exist")
        # FFmpeg's own log lines ("moov atom not found") would bury the error below
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            raise ImageError(f"cannot open video {self.path} (unknown format or corrupt)")
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else 30.0
        self.frame_count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        self.size = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        ok, first = self.cap.read()
        if not ok or first is None:
            raise ImageError(f"video {self.path} has no readable frame")
        self._first = first

    def __iter__(self) -> Iterator[Frame]:
        index, image = 0, self._first
        while image is not None:
            yield Frame(index, index / self.fps, to_bgr8(image), f"video:{index}")
            index += 1
            ok, image = self.cap.read()
            if not ok:
                break
        self.cap.release()

    def close(self) -> None:
        self.cap.release()


def iter_inputs(path: str | Path) -> Iterator[Frame]:
    """Frames of an image, a folder of images (sorted by name) or a video file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ImageError(f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for i, f in enumerate(files):
            try:  # one unreadable file in a folder is reported, not the end of the run
                yield Frame(i, float(i), read_image(f), f.name)
            except ImageError as exc:
                yield Frame(i, float(i), None, f.name, str(exc))
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        yield Frame(0, 0.0, read_image(path), path.name)
    else:
        yield from VideoReader(path)
