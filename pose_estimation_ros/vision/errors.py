"""The error every image input raises for data it cannot use (files, videos, ROS messages)."""


class ImageError(ValueError):
    """An image or video that cannot be used, with the reason."""
