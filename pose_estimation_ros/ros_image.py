"""sensor_msgs/Image and CompressedImage payloads → BGR uint8, without cv_bridge.

The node passes the message fields, so this module needs no ROS. Rows are read honouring
`step` (drivers pad rows), 16-bit data honours `is_bigendian`. Anything that cannot be turned
into a colour image raises `ImageError` with the reason; the node counts and logs it.
"""
from __future__ import annotations

import cv2
import numpy as np

from .imaging import ImageError, to_bgr8

#: encoding → (channels, numpy dtype, conversion to BGR or None)
ENCODINGS = {
    "bgr8": (3, np.uint8, None),
    "rgb8": (3, np.uint8, cv2.COLOR_RGB2BGR),
    "bgra8": (4, np.uint8, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, np.uint8, cv2.COLOR_RGBA2BGR),
    "mono8": (1, np.uint8, cv2.COLOR_GRAY2BGR),
    "mono16": (1, np.uint16, None),
}


def image_to_bgr(encoding: str, width: int, height: int, step: int, data,
                 is_bigendian: bool = False) -> np.ndarray:
    """Pixels of a sensor_msgs/Image as an H×W×3 BGR uint8 array (a copy)."""
    if encoding not in ENCODINGS:
        raise ImageError(f"unsupported image encoding {encoding!r}; supported: "
                         f"{', '.join(ENCODINGS)} (and sensor_msgs/CompressedImage)")
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width}×{height})")
    channels, dtype, conversion = ENCODINGS[encoding]
    itemsize = np.dtype(dtype).itemsize
    row_bytes = width * channels * itemsize
    if step < row_bytes:
        raise ImageError(f"step {step} is smaller than a {encoding} row of {width} pixels "
                         f"({row_bytes} bytes)")
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size < step * (height - 1) + row_bytes:
        raise ImageError(f"image data is truncated: {buffer.size} bytes for {height} rows of "
                         f"step {step}")
    rows = np.lib.stride_tricks.as_strided(buffer, shape=(height, row_bytes),
                                           strides=(step, 1))
    wire = np.dtype(dtype).newbyteorder(">" if is_bigendian else "<")
    pixels = np.ascontiguousarray(rows).view(wire).astype(dtype).reshape(height, width, channels)
    if dtype == np.uint16:
        return to_bgr8(pixels)
    if conversion is None:
        return pixels
    return cv2.cvtColor(pixels, conversion)


def compressed_to_bgr(fmt: str, data) -> np.ndarray:
    """A sensor_msgs/CompressedImage (JPEG, PNG, …) as BGR uint8."""
    buffer = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size == 0:
        raise ImageError("empty compressed image")
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(f"cannot decode compressed image (format {fmt!r}, {buffer.size} "
                         "bytes): corrupt or unsupported")
    return to_bgr8(image)
