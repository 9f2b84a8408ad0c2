"""Optional outputs of `bag` as rosbags messages: markers and the annotated image. rosbags'
message classes take every field, so `default_message` fills what a frame does not set (as
rclpy's constructors do)."""
from __future__ import annotations

import numpy as np

from ..ros.convert import marker_specs
from ..vision.draw import colour_for, draw_result

_ZEROS = {"bool": False, "string": ""}
_ARRAY_DTYPES = {"uint8": np.uint8, "int8": np.int8, "uint16": np.uint16, "int16": np.int16,
                 "uint32": np.uint32, "int32": np.int32, "uint64": np.uint64,
                 "int64": np.int64, "float32": np.float32, "float64": np.float64}


def default_message(store, typename: str, **fields):
    """A message of `typename` with `fields` set and every other field zero, empty or default
    (recursively), like an rclpy constructor."""
    from rosbags.interfaces import Nodetype

    values = {}
    for name, (kind, detail) in store.fielddefs[typename][1]:
        if name in fields:
            values[name] = fields[name]
        elif kind == Nodetype.BASE:
            values[name] = _ZEROS.get(detail[0], 0)
        elif kind == Nodetype.NAME:
            values[name] = default_message(store, detail)
        elif kind == Nodetype.ARRAY:  # fixed length
            (sub_kind, sub), length = detail
            values[name] = np.zeros(length, _ARRAY_DTYPES[sub[0]]) if sub_kind == Nodetype.BASE \
                else [default_message(store, sub) for _ in range(length)]
        else:  # sequence
            (sub_kind, sub), _ = detail
            values[name] = np.zeros(0, _ARRAY_DTYPES[sub[0]]) if sub_kind == Nodetype.BASE \
                and sub[0] in _ARRAY_DTYPES else []
    return store.types[typename](**values)


def marker_array(store, header, result, topology, k: np.ndarray, marker_depth: float = 2.0):
    t = "visualization_msgs/msg/"
    marker_type = store.types[f"{t}Marker"]
    markers = [default_message(store, f"{t}Marker", header=header,
                               action=marker_type.DELETEALL)]
    for spec in marker_specs(result, topology, k, marker_depth, colour_for):
        pose = default_message(store, "geometry_msgs/msg/Pose", orientation=default_message(
            store, "geometry_msgs/msg/Quaternion", w=1.0))
        markers.append(default_message(
            store, f"{t}Marker", header=header, ns=spec.ns, id=spec.id,
            type=marker_type.LINE_LIST if spec.kind == "LINE_LIST" else marker_type.SPHERE_LIST,
            action=marker_type.ADD, pose=pose, frame_locked=True,
            scale=default_message(store, "geometry_msgs/msg/Vector3", x=spec.scale,
                                  y=spec.scale, z=spec.scale),
            color=default_message(store, "std_msgs/msg/ColorRGBA", r=spec.color[0],
                                  g=spec.color[1], b=spec.color[2], a=spec.color[3]),
            points=[default_message(store, "geometry_msgs/msg/Point", x=x, y=y, z=z)
                    for x, y, z in spec.points]))
    return store.types[f"{t}MarkerArray"](markers=markers)


def annotated_image(store, header, bgr: np.ndarray, result):
    drawn = draw_result(bgr, result)
    h, w = drawn.shape[:2]
    return store.types["sensor_msgs/msg/Image"](
        header=header, height=h, width=w, encoding="bgr8", is_bigendian=0, step=w * 3,
        data=np.frombuffer(drawn.tobytes(), np.uint8))
