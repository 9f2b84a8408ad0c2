"""ros2 launch pose_estimation_ros pose_estimation.launch.py [pipeline:=…] [...]

Arguments: pipeline, image_topic, camera_info_topic, use_compressed, use_depth,
depth_image_topic, depth_info_topic, target_policy, publish_tf, hands, params_file (default
config/<pipeline>.yaml), namespace, provider, autostart, rviz, log_level, fastdds_profile
(default config/fastdds_large_images.xml). pipeline, provider, use_compressed, autostart,
use_depth, target_policy, publish_tf and hands override the parameter file only when given. A
node that exits with an error (it could not start) ends the launch with exit code 1. The launch
process runs no ROS node of its own: with autostart false the node waits for
a lifecycle manager. The argument logic is in pose_estimation_ros.settings.launch
(tested without launch).
"""
import os

from ament_index_python.packages import (
    PackageNotFoundError,
    get_package_prefix,
    get_package_share_directory,
)
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch_ros.actions import Node

from launch import LaunchDescription
from pose_estimation_ros.settings import launch as launch_config

ARGUMENTS = ("pipeline", "image_topic", "camera_info_topic", "use_compressed", "use_depth",
             "depth_image_topic", "depth_info_topic", "target_policy", "publish_tf", "hands",
             "params_file", "namespace", "provider", "autostart", "rviz", "log_level",
             "fastdds_profile")


def _on_node_exit(event, context):
    """A node that exits with an error (it could not start: bad parameters, missing models)
    ends the launch, and `ros2 launch` exits 1: launch 3.x returns non-zero only for an
    exception, so this raises one, naming the node and its code."""
    message = launch_config.exit_error(event.action.name, event.returncode)
    if message:
        raise RuntimeError(message)


def _actions(context):
    share = get_package_share_directory("pose_estimation_ros")
    arg = {name: context.launch_configurations[name] for name in ARGUMENTS}
    params = launch_config.params_file(arg["pipeline"], arg["params_file"], share)
    overrides = launch_config.parameter_overrides(arg)
    self_start = launch_config.autostart(arg, params)
    dds = launch_config.fastdds_environment(arg["fastdds_profile"], share)
    common = dict(package="pose_estimation_ros", executable="pose_estimation_node",
                  name="pose_estimation_node", namespace=arg["namespace"], output="screen",
                  parameters=[params, overrides],
                  remappings=launch_config.image_remappings(
                      arg["image_topic"], arg["camera_info_topic"], arg["depth_image_topic"],
                      arg["depth_info_topic"]),
                  arguments=["--ros-args", "--log-level", arg["log_level"]],
                  additional_env=dds)
    node = Node(**common)  # with autostart false it waits unconfigured for a lifecycle manager
    actions = [node, RegisterEventHandler(OnProcessExit(target_action=node,
                                                        on_exit=_on_node_exit))]
    if not self_start:
        actions.append(LogInfo(msg="autostart is false: pose_estimation_node waits unconfigured "
                                   "for a lifecycle manager (or `ros2 lifecycle set "
                                   f"{launch_config.node_name(arg['namespace'])} configure`, "
                                   "then activate)"))
    if launch_config.parse_bool("rviz", arg["rviz"]):
        try:
            get_package_prefix("rviz2")
            actions.append(Node(package="rviz2", executable="rviz2", name="rviz2",
                                namespace=arg["namespace"], additional_env=dds,
                                remappings=launch_config.rviz_remappings(arg["image_topic"]),
                                arguments=["-d", os.path.join(share, "config",
                                                              "pose_estimation.rviz")]))
        except PackageNotFoundError:
            actions.append(LogInfo(msg="rviz:=true but rviz2 is not installed (apt install "
                                       "ros-$ROS_DISTRO-rviz2): starting without it"))
    return actions


def generate_launch_description() -> LaunchDescription:
    args = [
        DeclareLaunchArgument("image_topic", default_value="image",
                              description="sensor_msgs/Image topic (…/compressed with "
                                          "use_compressed)"),
        DeclareLaunchArgument("camera_info_topic", default_value="camera_info",
                              description="sensor_msgs/CameraInfo topic (markers need it)"),
        DeclareLaunchArgument("depth_image_topic", default_value="",
                              description="aligned depth image (16UC1 mm or 32FC1 m; default: "
                                          "depth/image)"),
        DeclareLaunchArgument("depth_info_topic", default_value="",
                              description="the depth image's CameraInfo (default: "
                                          "depth/camera_info; without one the colour camera's "
                                          "is scaled)"),
        DeclareLaunchArgument("params_file", default_value="",
                              description="parameter YAML (default: config/<pipeline>.yaml)"),
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument("rviz", default_value="false",
                              description="start rviz2 with config/pose_estimation.rviz"),
        DeclareLaunchArgument("log_level", default_value="info",
                              description="debug, info, warn, error"),
        DeclareLaunchArgument("fastdds_profile", default_value="",
                              description="Fast DDS XML profile of the started processes "
                                          "(default: config/fastdds_large_images.xml unless "
                                          "FASTRTPS_DEFAULT_PROFILES_FILE is set; none: give "
                                          "none)"),
    ]
    args += [DeclareLaunchArgument(name, default_value="", description=text)
             for name, text in launch_config.argument_descriptions().items()]
    return LaunchDescription(args + [OpaqueFunction(function=_actions)])
