"""What `launch/pose_estimation.launch.py` does with its arguments, without importing `launch`
(so CI, which has no launch package, tests it).

A launch argument left empty means "not set here": the parameter file (or the node's default)
decides. Only arguments given on the command line override it, so a YAML with
`pipeline: movenet` runs MoveNet unless `pipeline:=…` is also given.
"""
from __future__ import annotations

import os

from .table import BY_NAME

#: launch arguments passed to the node as parameters when they are not empty
PARAMETER_ARGUMENTS = ("pipeline", "provider", "use_compressed", "autostart", "use_depth",
                       "target_policy", "publish_tf", "hands")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def argument_descriptions() -> dict[str, str]:
    """The description of each launch argument that overrides a parameter, from the settings
    table (its help and choices), and that the parameter file's value holds unless it is given."""
    texts = {}
    for name in PARAMETER_ARGUMENTS:
        setting = BY_NAME[name]
        default = str(setting.default).lower() if isinstance(setting.default, bool) \
            else setting.default
        listed = setting.choices and not all(c in setting.help for c in setting.choices)
        choices = f"; one of {', '.join(setting.choices)}" if listed else ""
        texts[name] = (f"{setting.help}{choices} (default: the parameter file's, else "
                       f"{default})")
    return texts


def parse_bool(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"launch argument {name} must be true or false, not {text!r}")


def params_file(pipeline: str, given: str, share: str) -> str:
    """The parameter file: the one given, else config/<pipeline>.yaml (blazepose.yaml where
    the pipeline has none, or no pipeline is given)."""
    if given:
        if not os.path.isfile(given):
            raise ValueError(f"params_file {given!r} does not exist")
        return given
    own = os.path.join(share, "config", f"{pipeline or 'blazepose'}.yaml")
    return own if os.path.isfile(own) else os.path.join(share, "config", "blazepose.yaml")


def parameter_overrides(args: dict[str, str]) -> dict:
    """Node parameters from the launch arguments that were given (checked like the node
    checks them, so a typo fails before anything starts)."""
    overrides = {}
    for name in PARAMETER_ARGUMENTS:
        text = args.get(name, "").strip()
        if not text:
            continue
        value = parse_bool(name, text) if isinstance(BY_NAME[name].default, bool) else text
        reason = BY_NAME[name].check(value)
        if reason:
            raise ValueError(f"launch argument {reason}")
        overrides[name] = value
    return overrides


def autostart(args: dict[str, str], params: str) -> bool:
    """Whether the node starts itself: the launch argument, else the parameter file's
    `autostart`, else the default (true). When false the node waits unconfigured for a
    lifecycle manager: the launch file only says so, it drives no transition."""
    if args.get("autostart", "").strip():
        return parse_bool("autostart", args["autostart"])
    import yaml

    with open(params) as f:
        data = yaml.safe_load(f) or {}
    for section in data.values():
        value = (section or {}).get("ros__parameters", {}).get("autostart")
        if isinstance(value, bool):
            return value
    return BY_NAME["autostart"].default


def image_remappings(image_topic: str, camera_info_topic: str, depth_image_topic: str = "",
                     depth_info_topic: str = "") -> list[tuple[str, str]]:
    """The node's input remappings; the depth topics only where given."""
    image_topic = image_topic.rstrip("/") or "image"
    remaps = [("image", image_topic), ("image/compressed", image_topic + "/compressed"),
              ("camera_info", camera_info_topic or "camera_info")]
    for name, topic in (("depth/image", depth_image_topic), ("depth/camera_info",
                                                             depth_info_topic)):
        if topic.strip():
            remaps.append((name, topic.strip().rstrip("/")))
    return remaps


def rviz_remappings(image_topic: str) -> list[tuple[str, str]]:
    """config/pose_estimation.rviz shows `image`: the camera's image topic."""
    return [("image", image_topic.rstrip("/") or "image")]


def realsense_topics(camera: str) -> dict[str, str]:
    """The launch arguments of realsense2_camera's topics (`align_depth.enable:=true`) under
    `camera`, its namespace and name (/camera/camera by default since realsense-ros 4.54)."""
    base = "/" + camera.strip("/")
    return {"image_topic": f"{base}/color/image_raw",
            "camera_info_topic": f"{base}/color/camera_info",
            "depth_image_topic": f"{base}/aligned_depth_to_color/image_raw",
            "depth_info_topic": f"{base}/aligned_depth_to_color/camera_info"}


def node_name(namespace: str) -> str:
    """The node's fully qualified name under the launch file's `namespace`."""
    ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return f"{ns}/pose_estimation_node"


def exit_error(name: str, returncode: int | None) -> str | None:
    """What ends the launch when a node process exits: nothing for a clean exit (0, or
    SIGINT/SIGTERM during a shutdown: the node exits 0 then), else the reason."""
    if not returncode:
        return None
    how = f"signal {-returncode}" if returncode < 0 else f"code {returncode}"
    return (f"{name} exited with {how}: see its FATAL line above (exit code 1 means it "
            "could not start: bad parameters or missing models); ending the launch")


#: Fast DDS reads its default profile from the first (2.x: Humble, Jazzy), 3.x from the second
FASTDDS_PROFILE_VARIABLES = ("FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_DEFAULT_PROFILES_FILE")


def fastdds_environment(given: str, share: str, environ=os.environ) -> dict[str, str]:
    """Environment for the processes the launch file starts: the Fast DDS profile for raw
    camera images (config/fastdds_large_images.xml), or the profile file `given` names, or
    nothing for "none". Left empty, a profile the user's environment already names is kept."""
    if given.strip().lower() == "none":
        return {}
    if not given.strip():
        if any(environ.get(v) for v in FASTDDS_PROFILE_VARIABLES):
            return {}
        given = os.path.join(share, "config", "fastdds_large_images.xml")
    if not os.path.isfile(given):
        raise ValueError(f"fastdds_profile: no file {given!r} (a Fast DDS XML profile, empty "
                         "for the package's, or none to give none)")
    return {v: given for v in FASTDDS_PROFILE_VARIABLES}
