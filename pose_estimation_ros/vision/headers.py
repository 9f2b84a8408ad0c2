"""Compressed images checked before they are decoded: the format and size from the header, a
pixel limit, and a JPEG's structure.

A 20 KB JPEG can declare 20000×20000 pixels and take seconds and gigabytes to decode, so the
size is read from the header first and refused above `MAX_PIXELS` (a parameter where images
come from outside; 40 megapixels, 4.8 times 4K UHD). libjpeg decodes truncated or corrupted
files without an error (grey or smeared blocks, a console warning at most), so a JPEG is
walked segment by segment first: the frame header must come before the image data, the image
data must end with the end-of-image marker, and inside it 0xFF may only precede the bytes a
JPEG allows there. Segments are skipped by their length, so an EXIF thumbnail (a whole JPEG
inside APP1) is no damage, and what follows the end-of-image marker (a second JPEG, padding)
is ignored, as decoders do.
"""
from __future__ import annotations

import struct

import numpy as np

from .errors import ImageError, Rejection

MAX_PIXELS = 40_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: frame headers (SOF0–SOF15 but DHT C4, JPG C8 and DAC CC)
_SOF = {m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)}
#: bytes that may follow 0xFF inside or between the scans: stuffing (00), restart markers
#: (D0–D7), the tables and headers of progressive scans (C4 DHT, DA SOS, DB DQT, DD DRI,
#: FE COM, E0–EF APPn) and fill bytes (FF)
_AFTER_FF = np.zeros(256, bool)
_AFTER_FF[[0x00, 0xC4, 0xDA, 0xDB, 0xDD, 0xFE, 0xFF, *range(0xD0, 0xD8),
           *range(0xE0, 0xF0)]] = True


def image_format(data: bytes) -> str:
    if data[:2] == b"\xff\xd8":
        return "jpeg"
    if data[:8] == PNG_SIGNATURE:
        return "png"
    return ""


def header_size(data: bytes) -> tuple[str, int, int]:
    """("jpeg" or "png", width, height) from the header; ImageError for other data, a
    damaged JPEG (see the module docstring) or a PNG without its IHDR."""
    kind = image_format(data)
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise ImageError(f"corrupt PNG ({len(data)} bytes): no IHDR header", Rejection.CORRUPT)
        width, height = struct.unpack(">II", data[16:24])
        return kind, width, height
    if kind == "jpeg":
        width, height, problem = _walk_jpeg(data)
        if problem:
            raise ImageError(f"corrupt JPEG ({len(data)} bytes): {problem}", Rejection.CORRUPT)
        return kind, width, height
    raise ImageError(f"unsupported compressed image ({len(data)} bytes starting "
                     f"{data[:4].hex()}): JPEG and PNG are read (image_transport's formats)",
                     Rejection.UNSUPPORTED)


def check_pixels(width: int, height: int, max_pixels: int = MAX_PIXELS) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width}×{height})", Rejection.EMPTY)
    if width * height > max_pixels:
        raise ImageError(f"image of {width}×{height} = {width * height:,} pixels is over the "
                         f"limit of {max_pixels:,} (max_image_pixels): refused before "
                         "decoding", Rejection.TOO_LARGE)


def _walk_jpeg(data: bytes) -> tuple[int, int, str]:
    """(width, height, "" or the damage found)."""
    i, n, size = 2, len(data), None
    while True:
        if i + 1 >= n:
            return 0, 0, "truncated (no image data)"
        if data[i] != 0xFF:
            return 0, 0, f"no marker at byte {i} (0x{data[i]:02X})"
        while i + 1 < n and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        marker = data[i + 1] if i + 1 < n else 0
        if marker == 0xD9:
            return 0, 0, "no image data (header only)"
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            i += 2
            continue
        if i + 4 > n:
            return 0, 0, "truncated (in a header)"
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if length < 2 or i + 2 + length > n:
            return 0, 0, f"truncated (a header of {length} bytes at byte {i})"
        if marker in _SOF and length >= 7:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            size = (width, height)
        if marker == 0xDA:
            break
        i += 2 + length
    if size is None:
        return 0, 0, "image data before a frame header"
    start = i + 2 + length
    end = data.find(b"\xff\xd9", start)
    if end < 0:
        return 0, 0, "truncated (no end-of-image marker)"
    scan = np.frombuffer(data, np.uint8, count=end - start, offset=start)
    ff = np.flatnonzero(scan[:-1] == 0xFF)
    bad = ff[~_AFTER_FF[scan[ff + 1]]]
    if bad.size:
        return 0, 0, (f"invalid marker 0xFF{scan[bad[0] + 1]:02X} inside the image data at "
                      f"byte {start + int(bad[0])}")
    return size[0], size[1], ""
