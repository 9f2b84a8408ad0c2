"""The bad-input corpus over the real `image` and `image/compressed` topics: every case is
processed or rejected as stated, with one clear warning per rejected case, every frame is
published or counted as dropped (received = published + dropped), and the node is alive after.
"""
import cv2
import numpy as np
from ros_graph import graph, image_publisher, settled, video_frames, wait_for  # noqa

from sensor_msgs.msg import CompressedImage, Image  # noqa: E402

from pose_estimation_ros.msg import PersonPoseArray  # noqa: E402

FRAME = None


def _frame() -> np.ndarray:
    global FRAME
    if FRAME is None:
        FRAME = video_frames("mmaction2_test_video_structuralize.mp4", 1, width=320)[0]
    return FRAME


def _raw(encoding, pixels=None, width=None, height=None, step=None, data=None, bigendian=0,
         sec=1):
    pixels = _frame() if pixels is None else pixels
    h, w = pixels.shape[:2]
    data = pixels.tobytes() if data is None else data
    msg = Image(height=h if height is None else height, width=w if width is None else width,
                encoding=encoding, is_bigendian=bigendian,
                step=(pixels.nbytes // max(h, 1)) if step is None else step, data=data)
    msg.header.stamp.sec = sec
    return msg


def _padded() -> Image:
    f = _frame()
    h, w = f.shape[:2]
    rows = np.zeros((h, w * 3 + 64), np.uint8)
    rows[:, :w * 3] = f.reshape(h, -1)
    return _raw("bgr8", f, step=w * 3 + 64, data=rows.tobytes())


def _mono16(big: bool) -> Image:
    grey = cv2.cvtColor(_frame(), cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    return _raw("mono16", grey, data=grey.astype(">u2" if big else "<u2").tobytes(),
                bigendian=int(big))


def raw_cases(now_sec: int) -> list[tuple[str, Image, bool]]:
    """(name, message, processed?)"""
    f = _frame()
    grey = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
    base = now_sec - 100
    stamped = [_raw("bgr8", f, sec=s) for s in (base, 0, base, now_sec + 3600)]
    cases = [
        ("bgr8", _raw("bgr8"), True),
        ("rgb8", _raw("rgb8", f[:, :, ::-1].copy()), True),
        ("bgra8", _raw("bgra8", cv2.cvtColor(f, cv2.COLOR_BGR2BGRA)), True),
        ("rgba8", _raw("rgba8", cv2.cvtColor(f, cv2.COLOR_BGR2RGBA)), True),
        ("mono8", _raw("mono8", grey), True),
        ("mono16 little-endian", _mono16(False), True),
        ("mono16 big-endian", _mono16(True), True),
        ("padded step", _padded(), True),
        ("16UC1", _raw("16UC1", grey.astype(np.uint16)), False),
        ("32FC1", _raw("32FC1", grey.astype(np.float32)), False),
        ("bayer_rggb8", _raw("bayer_rggb8", grey), False),
        ("yuv422", _raw("yuv422", np.zeros((f.shape[0], f.shape[1], 2), np.uint8)), False),
        ("unknown encoding", _raw("rgb9"), False),
        ("empty encoding", _raw(""), False),
        ("upper-case BGR8", _raw("BGR8"), False),
        ("step too small", _raw("bgr8", step=f.shape[1] * 3 - 3), False),
        ("step 0", _raw("bgr8", step=0), False),
        ("truncated data", _raw("bgr8", data=f.tobytes()[:1000]), False),
        ("0x0", _raw("bgr8", width=0, height=0, step=0, data=b""), False),
        ("0x10", _raw("bgr8", width=0, height=10, step=0, data=b""), False),
        ("100000x100000, 100 bytes", _raw("bgr8", width=100000, height=100000, step=300000,
                                          data=bytes(100)), False),
        ("1x1", _raw("bgr8", f[:1, :1].copy()), True),
        ("2x2", _raw("bgr8", f[:2, :2].copy()), True),
        ("8x4000", _raw("bgr8", np.ascontiguousarray(np.tile(f[:8, :1], (1, 4000, 1)))), True),
    ]
    for i, (_, msg, _) in enumerate(cases):  # increasing stamps, then the stamp cases
        msg.header.stamp.sec = base + 1 + i
    return cases + [
        ("stamp going backwards", stamped[0], True),
        ("stamp 0", stamped[1], True),
        ("duplicate stamp", stamped[2], False),  # the stamp rule: the same frame again
        ("future stamp", stamped[3], True),
    ]


_SECOND = iter(range(1, 1_000_000))


def _compressed(fmt: str, data: bytes) -> CompressedImage:
    msg = CompressedImage(format=fmt, data=data)
    msg.header.stamp.sec = next(_SECOND)  # a stamp of its own: no duplicate
    return msg


def compressed_cases() -> list[tuple[str, CompressedImage, bool]]:
    f = _frame()
    jpeg = cv2.imencode(".jpg", f)[1].tobytes()
    corrupt = bytearray(jpeg)
    middle = len(jpeg) // 2
    corrupt[middle:middle + 2048] = np.random.default_rng(1).integers(0, 256, 2048,
                                                                      np.uint8).tobytes()
    grey16 = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    sos = jpeg.find(b"\xff\xda")
    return [
        ("JPEG", _compressed("jpeg", jpeg), True),
        ("PNG", _compressed("png", cv2.imencode(".png", f)[1].tobytes()), True),
        ("BGRA PNG", _compressed("png", cv2.imencode(
            ".png", cv2.cvtColor(f, cv2.COLOR_BGR2BGRA))[1].tobytes()), True),
        ("16-bit PNG", _compressed("mono16; png compressed mono16",
                                   cv2.imencode(".png", grey16)[1].tobytes()), True),
        ("grey JPEG", _compressed("mono8; jpeg compressed mono8", cv2.imencode(
            ".jpg", cv2.cvtColor(f, cv2.COLOR_BGR2GRAY))[1].tobytes()), True),
        ("ROS format string", _compressed("rgb8; jpeg compressed bgr8", jpeg), True),
        ("random bytes", _compressed("jpeg", np.random.default_rng(2).integers(
            0, 256, 5000, np.uint8).tobytes()), False),
        ("corrupt middle", _compressed("jpeg", bytes(corrupt)), False),
        ("truncated", _compressed("jpeg", jpeg[:len(jpeg) // 2]), False),
        ("header only", _compressed("jpeg", jpeg[:sos]), False),
        ("empty", _compressed("jpeg", b""), False),
        ("compressedDepth", _compressed("16UC1; compressedDepth png", bytes(12) + cv2.imencode(
            ".png", grey16)[1].tobytes()), False),
    ]


def _run_corpus(graph, node, pub, cases, capfd):
    """The warnings are read from the node's console output (rcutils writes it to stderr);
    that they also reach /rosout is test_node_topics' concern."""
    node_name = node.get_name()
    capfd.readouterr()
    poses = []
    graph.probe.create_subscription(PersonPoseArray, "poses", poses.append, 100)
    assert wait_for(lambda: node.outputs.publishers["poses"].get_subscription_count() == 1)
    outcomes = {}
    for name, msg, _ in cases:
        before = node.scheduler.stats
        pub.publish(msg)
        assert settled(node, before.received + 1), f"{name}: not accounted for"
        after = node.scheduler.stats
        outcomes[name] = after.published == before.published + 1
        assert after.published + after.dropped == after.received
    wrong = {n: outcomes[n] for n, _, processed in cases if outcomes[n] != processed}
    assert not wrong, f"processed (True) or rejected (False) against the corpus: {wrong}"
    rejected = sum(not processed for _, _, processed in cases)
    err = capfd.readouterr().err
    warnings = [line.split("]: ", 1)[1] for line in err.splitlines()
                if f"[{node_name}]: frame rejected" in line and "[WARN]" in line]
    assert len(warnings) == rejected, (rejected, warnings)
    assert len(warnings) == len(set(warnings)) == rejected  # one clear warning per case
    s = node.scheduler.stats
    assert s.received == len(cases) == s.published + s.dropped and s.rejected == rejected
    assert wait_for(lambda: len(poses) == s.published)
    good = cases[0][1]
    pub.publish(good)  # still alive
    assert wait_for(lambda: len(poses) == s.published + 1)
    return warnings


def test_raw_image_corpus(graph, capfd):
    node = graph.pose_node(name="corpus_raw")
    pub = image_publisher(graph, node)
    now = graph.probe.get_clock().now().nanoseconds // 1_000_000_000
    warnings = _run_corpus(graph, node, pub, raw_cases(now), capfd)
    assert any("unsupported image encoding 'BGR8'" in w for w in warnings)
    assert any("truncated" in w for w in warnings)
    assert dict(node.stream.stamps.counts) == {"ok": 11, "backwards": 2, "unknown": 1, "future": 1,
                                        "duplicate": 1}  # the last good frame: backwards


def test_compressed_image_corpus(graph, capfd):
    node = graph.pose_node(name="corpus_compressed", use_compressed=True)
    pub = image_publisher(graph, node, "image/compressed", CompressedImage)
    warnings = _run_corpus(graph, node, pub, compressed_cases(), capfd)
    assert any("compressed depth image" in w for w in warnings)
    assert any("corrupt JPEG" in w for w in warnings)
