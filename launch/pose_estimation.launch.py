"""ros2 launch pose_estimation_ros pose_estimation.launch.py [pipeline:=blazepose] [...]

Arguments: pipeline, image_topic, camera_info_topic, use_compressed, params_file (default
config/<pipeline>.yaml), namespace, provider, rviz, log_level.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch_ros.actions import Node

PIPELINES = ("blazepose", "topdown", "rtmpose", "movenet", "movenet-multipose")


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes", "on")


def _nodes(context):
    share = get_package_share_directory("pose_estimation_ros")
    arg = {name: context.launch_configurations[name] for name in (
        "pipeline", "image_topic", "camera_info_topic", "use_compressed", "params_file",
        "namespace", "provider", "rviz", "log_level")}
    if arg["pipeline"] not in PIPELINES:
        raise RuntimeError(f"pipeline must be one of {PIPELINES}, not {arg['pipeline']!r}")
    params_file = arg["params_file"]
    if not params_file:
        own = os.path.join(share, "config", f"{arg['pipeline']}.yaml")
        params_file = own if os.path.isfile(own) else os.path.join(share, "config",
                                                                   "blazepose.yaml")
    image = arg["image_topic"]
    nodes = [Node(
        package="pose_estimation_ros", executable="pose_estimation_node",
        name="pose_estimation_node", namespace=arg["namespace"], output="screen",
        parameters=[params_file, {"pipeline": arg["pipeline"], "provider": arg["provider"],
                                  "use_compressed": _true(arg["use_compressed"])}],
        remappings=[("image", image), ("image/compressed", image + "/compressed"),
                    ("camera_info", arg["camera_info_topic"])],
        arguments=["--ros-args", "--log-level", arg["log_level"]])]
    if _true(arg["rviz"]):
        nodes.append(Node(package="rviz2", executable="rviz2", name="rviz2",
                          namespace=arg["namespace"],
                          arguments=["-d", os.path.join(share, "config",
                                                        "pose_estimation.rviz")]))
    return nodes


def generate_launch_description() -> LaunchDescription:
    args = [
        DeclareLaunchArgument("pipeline", default_value="blazepose",
                              description="one of " + ", ".join(PIPELINES)),
        DeclareLaunchArgument("image_topic", default_value="image",
                              description="sensor_msgs/Image topic (…/compressed with "
                                          "use_compressed)"),
        DeclareLaunchArgument("camera_info_topic", default_value="camera_info",
                              description="sensor_msgs/CameraInfo topic (markers need it)"),
        DeclareLaunchArgument("use_compressed", default_value="false",
                              description="subscribe image_topic/compressed"),
        DeclareLaunchArgument("params_file", default_value="",
                              description="parameter YAML (default: config/<pipeline>.yaml)"),
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument("provider", default_value="cpu",
                              description="onnxruntime provider: cpu, cuda or tensorrt"),
        DeclareLaunchArgument("rviz", default_value="false",
                              description="start rviz2 with config/pose_estimation.rviz"),
        DeclareLaunchArgument("log_level", default_value="info",
                              description="debug, info, warn, error"),
    ]
    return LaunchDescription(args + [OpaqueFunction(function=_nodes)])
