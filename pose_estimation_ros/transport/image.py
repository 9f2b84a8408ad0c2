"""sensor_msgs/Image and CompressedImage payloads → BGR uint8, without cv_bridge.

The node passes the message fields, so this module needs no ROS. Rows are read honouring
`step` (drivers pad rows), 16-bit data honours `is_bigendian`. Anything that cannot be turned
into a colour image raises `ImageError` with the reason; the node counts and logs it.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..following.depth import DepthError
from ..vision.headers import MAX_PIXELS, check_pixels, header_size
from ..vision.imaging import ImageError, to_bgr8

#: encoding → (channels, numpy dtype, conversion to BGR or None)
ENCODINGS = {
    "bgr8": (3, np.uint8, None),
    "rgb8": (3, np.uint8, cv2.COLOR_RGB2BGR),
    "bgra8": (4, np.uint8, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, np.uint8, cv2.COLOR_RGBA2BGR),
    "mono8": (1, np.uint8, cv2.COLOR_GRAY2BGR),
    "mono16": (1, np.uint16, None),
}


def _pixels(encoding: str, width: int, height: int, step: int, data, is_bigendian: bool,
            channels: int, dtype, error=ImageError, copy: bool = True) -> np.ndarray:
    """The H×W×C pixels of a message's data, honouring `step` and the byte order (a copy, or
    with `copy=False` a read-only view where the rows are packed in native order)."""
    if width <= 0 or height <= 0:
        raise error(f"empty image ({width}×{height})")
    itemsize = np.dtype(dtype).itemsize
    row_bytes = width * channels * itemsize
    if step < row_bytes:
        raise error(f"step {step} is smaller than a {encoding} row of {width} pixels "
                    f"({row_bytes} bytes)")
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size < step * (height - 1) + row_bytes:
        raise error(f"image data is truncated: {buffer.size} bytes for {height} rows of "
                    f"step {step}")
    wire = np.dtype(dtype).newbyteorder(">" if is_bigendian else "<")
    if not copy and step == row_bytes and wire == np.dtype(dtype):
        return buffer[:step * height].view(dtype).reshape(height, width, channels)
    rows = np.lib.stride_tricks.as_strided(buffer, shape=(height, row_bytes),
                                           strides=(step, 1))
    packed = np.ascontiguousarray(rows).view(wire)  # one copy; a second only to swap bytes
    return packed.astype(dtype, copy=False).reshape(height, width, channels)


def image_to_bgr(encoding: str, width: int, height: int, step: int, data,
                 is_bigendian: bool = False, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Pixels of a sensor_msgs/Image as an H×W×3 BGR uint8 array (its own copy: one pass
    over the frame)."""
    check_pixels(width, height, max_pixels)
    if encoding not in ENCODINGS:
        raise ImageError(f"unsupported image encoding {encoding!r}; supported: "
                         f"{', '.join(ENCODINGS)} (and sensor_msgs/CompressedImage)")
    channels, dtype, conversion = ENCODINGS[encoding]
    # a view of the message's data where its rows are packed: the one whole-frame pass is
    # the colour conversion (or the copy of a bgr8 frame), never a copy before it as well
    pixels = _pixels(encoding, width, height, step, data, is_bigendian, channels, dtype,
                     copy=False)
    if dtype == np.uint16:
        return to_bgr8(pixels)
    if conversion is None:
        return np.array(pixels)  # the frame outlives the message's buffer in the node
    return cv2.cvtColor(pixels, conversion)


#: depth encodings: 16UC1 millimetres, 32FC1 metres (REP 118)
DEPTH_ENCODINGS = {"16UC1": np.uint16, "mono16": np.uint16, "32FC1": np.float32}


def depth_to_array(encoding: str, width: int, height: int, step: int, data,
                   is_bigendian: bool = False) -> np.ndarray:
    """A depth sensor_msgs/Image as H×W uint16 millimetres (0 = no data) or float32 metres
    (NaN, inf, 0 = no data), as sent; `depth.depth_to_metres` converts the whole image."""
    if encoding not in DEPTH_ENCODINGS:
        raise DepthError(f"unsupported depth encoding {encoding!r}; supported: "
                         f"{', '.join(DEPTH_ENCODINGS)} (aligned depth, REP 118)")
    try:
        check_pixels(width, height)
    except ImageError as exc:
        raise DepthError(str(exc)) from None
    dtype = DEPTH_ENCODINGS[encoding]
    return _pixels(encoding, width, height, step, data, is_bigendian, 1, dtype,
                   DepthError, copy=False)[:, :, 0]


def compressed_to_bgr(fmt: str, data, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A sensor_msgs/CompressedImage (JPEG or PNG) as BGR uint8. `fmt` is the message's
    format field (image_transport writes e.g. "rgb8; jpeg compressed bgr8"); the data decides
    the codec, so only compressedDepth (a 12-byte header before a 16-bit depth PNG) is refused
    by name. The header is checked before anything is decoded (`vision.headers`)."""
    if "compresseddepth" in fmt.lower():
        raise ImageError(f"compressed depth image (format {fmt!r}) on the colour topic: "
                         "subscribe the camera's colour image instead")
    buffer = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size == 0:
        raise ImageError("empty compressed image")
    _, width, height = header_size(buffer.tobytes())
    check_pixels(width, height, max_pixels)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(f"cannot decode compressed image (format {fmt!r}, {buffer.size} "
                         f"bytes): {str(exc).strip().splitlines()[-1]}") from None
    if image is None:
        raise ImageError(f"cannot decode compressed image (format {fmt!r}, {buffer.size} "
                         "bytes): corrupt or unsupported")
    return to_bgr8(image)


def depth_message_to_array(msg) -> np.ndarray:
    """A depth sensor_msgs/Image message (rclpy's or rosbags') as `depth_to_array` gives it."""
    return depth_to_array(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                          bool(msg.is_bigendian))


class StampError(ImageError):
    """A header stamp that is no time: negative seconds, nanoseconds of a second or more."""


def stamp_ns(msg) -> int:
    """A message's header stamp in integer nanoseconds (ROS 1 and ROS 2 alike); StampError
    for one that is no time (0 is valid: "not set")."""
    sec, nanosec = int(msg.header.stamp.sec), int(msg.header.stamp.nanosec)
    if sec < 0 or not 0 <= nanosec < 1_000_000_000:
        raise StampError(f"invalid header stamp (sec {sec}, nanosec {nanosec}): seconds must "
                         "not be negative, nanoseconds below 1e9")
    return sec * 1_000_000_000 + nanosec


def message_to_bgr(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A sensor_msgs/Image or CompressedImage message (rclpy's or rosbags') as BGR uint8."""
    if hasattr(msg, "format"):  # CompressedImage
        return compressed_to_bgr(msg.format, msg.data, max_pixels)
    return image_to_bgr(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                        bool(msg.is_bigendian), max_pixels)
