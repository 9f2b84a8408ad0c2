"""Which topics of a bag `bag` reads, chosen and checked before anything is written: the image
(required), aligned depth, and the colour and depth CameraInfo, each of a type it can read."""
from __future__ import annotations

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
#: what each role may be: depth raw (16UC1/32FC1) or image_transport's compressedDepth
ROLE_TYPES = {"depth": IMAGE_TYPES, "info": ("sensor_msgs/msg/CameraInfo",),
              "depth_info": ("sensor_msgs/msg/CameraInfo",)}
_FLAGS = {"depth": "--depth-topic", "info": "--camera-info-topic",
          "depth_info": "--depth-info-topic"}


class BagError(Exception):
    """A bag that cannot be processed (exit code 2), naming the file and the reason."""


def choose_topics(connections, job) -> dict[str, object]:
    """The connections to read by role (`image`, `depth`, `info`, `depth_info`) for a
    `BagJob`; BagError naming the topics the bag has when one is missing or of another type."""
    by_topic = {}
    for c in connections:
        by_topic.setdefault(c.topic, c)
    listing = ", ".join(
        f"{t} ({c.msgtype}, {c.msgcount} message{'' if c.msgcount == 1 else 's'})"
        for t, c in sorted(by_topic.items())) or "no topics"
    chosen = {"image": _image(by_topic, job, listing)}
    for role, topic in (("depth", job.depth_topic), ("info", job.camera_info_topic),
                        ("depth_info", job.depth_info_topic)):
        if not topic:
            continue
        if topic not in by_topic:
            raise BagError(f"{job.input}: no topic {topic!r}; the bag has {listing}")
        kind = by_topic[topic].msgtype
        if kind not in ROLE_TYPES[role]:
            raise BagError(f"{job.input}: {_FLAGS[role]} {topic} is {kind}, not "
                           f"{' or '.join(ROLE_TYPES[role])}")
        chosen[role] = by_topic[topic]
    return chosen


def _image(by_topic: dict, job, listing: str):
    images = {t: c for t, c in by_topic.items() if c.msgtype in IMAGE_TYPES}
    if job.image_topic:
        if job.image_topic not in by_topic:
            raise BagError(f"{job.input}: no topic {job.image_topic!r}; the bag has {listing}")
        if job.image_topic not in images:
            raise BagError(f"{job.input}: {job.image_topic} is {by_topic[job.image_topic].msgtype}"
                           ", not sensor_msgs/Image or CompressedImage")
        return by_topic[job.image_topic]
    if len(images) == 1:
        return next(iter(images.values()))
    raise BagError(f"{job.input}: {'several' if images else 'no'} image topics; choose "
                   f"one with --image-topic. The bag has {listing}")
