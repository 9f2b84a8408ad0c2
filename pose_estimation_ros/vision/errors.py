"""The error every image input raises for data it cannot use (files, videos, ROS messages), and
the reasons a frame is refused, as keys that every count uses (the node's `/diagnostics`,
`bag`'s sidecar, `run`'s summary) with no text to parse."""
from __future__ import annotations

from enum import Enum


class Rejection(str, Enum):
    """Why an input frame is not processed."""

    UNSUPPORTED = "unsupported_format"  # an encoding, pixel type, shape or codec not read
    CORRUPT = "corrupt"  # data that does not decode, or decodes damaged
    EMPTY = "empty"  # no pixels
    TOO_LARGE = "too_large"  # over max_image_pixels, refused before decoding
    MALFORMED = "malformed"  # size fields that disagree with the data (step, truncated rows)
    UNREADABLE = "unreadable"  # a file that does not exist or cannot be read
    INVALID_STAMP = "invalid_stamp"  # a header stamp that is no time
    DUPLICATE_STAMP = "duplicate_stamp"  # the previous frame's stamp again (stream.stamps)
    UNDECODABLE = "undecodable_message"  # a recorded message that does not deserialise

    def __str__(self) -> str:
        return self.value


class ImageError(ValueError):
    """An image or video that cannot be used: the text says why, `reason` is its key."""

    def __init__(self, message: str, reason: Rejection = Rejection.CORRUPT):
        super().__init__(message)
        self.reason = reason
