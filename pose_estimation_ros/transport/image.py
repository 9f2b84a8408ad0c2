"""sensor_msgs/Image and CompressedImage payloads → BGR uint8, without cv_bridge.

The node passes the message fields, so this module needs no ROS. Rows are read honouring
`step` (drivers pad rows), 16-bit data honours `is_bigendian`. Anything that cannot be turned
into a colour image raises `ImageError` with the reason; the node counts and logs it.
"""
from __future__ import annotations

import struct

import cv2
import numpy as np

from ..following.depth import DepthError
from ..vision.errors import Rejection
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
        raise error(f"empty image ({width}×{height})", Rejection.EMPTY)
    itemsize = np.dtype(dtype).itemsize
    row_bytes = width * channels * itemsize
    if step < row_bytes:
        raise error(f"step {step} is smaller than a {encoding} row of {width} pixels "
                    f"({row_bytes} bytes)", Rejection.MALFORMED)
    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size < step * (height - 1) + row_bytes:
        raise error(f"image data is truncated: {buffer.size} bytes for {height} rows of "
                    f"step {step}", Rejection.MALFORMED)
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
                         f"{', '.join(ENCODINGS)} (and sensor_msgs/CompressedImage)",
                         Rejection.UNSUPPORTED)
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
                         f"{', '.join(DEPTH_ENCODINGS)} (aligned depth, REP 118)",
                         Rejection.UNSUPPORTED)
    try:
        check_pixels(width, height)
    except ImageError as exc:
        raise DepthError(str(exc), exc.reason) from None
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
                         "subscribe the camera's colour image instead",
                         Rejection.UNSUPPORTED)
    buffer = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else \
        data.view(np.uint8).reshape(-1)
    if buffer.size == 0:
        raise ImageError("empty compressed image", Rejection.EMPTY)
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


#: image_transport's compressedDepth: a 12-byte header (the compression format as an int32,
#: then two float32 quantisation parameters a, b) before the compressed 16-bit image
_DEPTH_HEADER = 12


def compressed_depth_to_array(fmt: str, data, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A compressedDepth sensor_msgs/CompressedImage (`<encoding>; compressedDepth png`) as
    `depth_to_array` gives a raw one: 16UC1 is the PNG's millimetres as they are; 32FC1 is
    stored as quantised inverse depth q, metres = a / (q − b), q = 0 no data. The RVL codec
    is refused by name (the camera's publisher can send png)."""
    encoding, _, codec = fmt.partition(";")
    encoding, codec = encoding.strip(), codec.strip().lower()
    if "compresseddepth" not in codec:
        raise DepthError(f"compressed depth must be image_transport's compressedDepth, not "
                         f"format {fmt!r}", Rejection.UNSUPPORTED)
    if "rvl" in codec:
        raise DepthError(f"compressedDepth rvl is not read (format {fmt!r}): set the "
                         "publisher's format parameter to png", Rejection.UNSUPPORTED)
    if encoding not in ("16UC1", "32FC1"):
        raise DepthError(f"compressedDepth of encoding {encoding!r}: 16UC1 and 32FC1 are read",
                         Rejection.UNSUPPORTED)
    raw = bytes(data)
    if len(raw) <= _DEPTH_HEADER:
        raise DepthError(f"compressedDepth of {len(raw)} bytes: no image after its "
                         f"{_DEPTH_HEADER}-byte header", Rejection.MALFORMED)
    a, b = struct.unpack("<ff", raw[4:_DEPTH_HEADER])
    png = raw[_DEPTH_HEADER:]
    try:
        kind, width, height = header_size(png)
    except ImageError as exc:
        raise DepthError(f"compressedDepth: {exc}", exc.reason) from None
    check_pixels(width, height, max_pixels)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if kind != "png" or image is None or image.dtype != np.uint16 or image.ndim != 2:
        raise DepthError(f"compressedDepth ({fmt!r}, {len(raw)} bytes) holds no 16-bit "
                         "single-channel PNG", Rejection.CORRUPT)
    if encoding == "16UC1":
        return image
    metres = np.full(image.shape, np.nan, np.float32)
    valid = image != 0
    metres[valid] = np.float32(a) / (image[valid].astype(np.float32) - np.float32(b))
    return metres


def depth_message_to_array(msg) -> np.ndarray:
    """A depth sensor_msgs/Image or compressedDepth CompressedImage message (rclpy's or
    rosbags') as `depth_to_array` gives it."""
    if hasattr(msg, "format"):
        return compressed_depth_to_array(msg.format, msg.data)
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
                         "not be negative, nanoseconds below 1e9", Rejection.INVALID_STAMP)
    return sec * 1_000_000_000 + nanosec


def message_to_bgr(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A sensor_msgs/Image or CompressedImage message (rclpy's or rosbags') as BGR uint8."""
    if hasattr(msg, "format"):  # CompressedImage
        return compressed_to_bgr(msg.format, msg.data, max_pixels)
    return image_to_bgr(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                        bool(msg.is_bigendian), max_pixels)
