"""ros2 launch pose_estimation_ros pose_estimation.launch.py [pipeline:=…] [...]

Arguments: pipeline, image_topic, camera_info_topic, use_compressed, use_depth,
depth_image_topic, depth_info_topic, target_policy, publish_tf, params_file (default
config/<pipeline>.yaml), namespace, provider, autostart, rviz, log_level. pipeline, provider,
use_compressed, autostart, use_depth, target_policy and publish_tf override the parameter file
only when given. The argument logic is in pose_estimation_ros.transport.launch_config (tested
without launch).
"""
import os

from ament_index_python.packages import (
    PackageNotFoundError,
    get_package_prefix,
    get_package_share_directory,
)
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
)
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

import launch
from launch import LaunchDescription
from pose_estimation_ros.pipelines.registry import PIPELINES
from pose_estimation_ros.transport import launch_config

ARGUMENTS = ("pipeline", "image_topic", "camera_info_topic", "use_compressed", "use_depth",
             "depth_image_topic", "depth_info_topic", "target_policy", "publish_tf",
             "params_file", "namespace", "provider", "autostart", "rviz", "log_level")


def _transition(node, transition_id):
    return EmitEvent(event=ChangeState(
        lifecycle_node_matcher=launch.events.matches_action(node), transition_id=transition_id))


def _actions(context):
    share = get_package_share_directory("pose_estimation_ros")
    arg = {name: context.launch_configurations[name] for name in ARGUMENTS}
    params = launch_config.params_file(arg["pipeline"], arg["params_file"], share)
    overrides = launch_config.parameter_overrides(arg)
    self_start = launch_config.autostart(arg, params)
    common = dict(package="pose_estimation_ros", executable="pose_estimation_node",
                  name="pose_estimation_node", namespace=arg["namespace"], output="screen",
                  parameters=[params, overrides],
                  remappings=launch_config.image_remappings(
                      arg["image_topic"], arg["camera_info_topic"], arg["depth_image_topic"],
                      arg["depth_info_topic"]),
                  arguments=["--ros-args", "--log-level", arg["log_level"]])
    actions = []
    if self_start:
        actions.append(Node(**common))
    else:  # the node waits unconfigured; drive configure, then activate once inactive
        node = LifecycleNode(**common)
        actions += [
            RegisterEventHandler(OnStateTransition(
                target_lifecycle_node=node, goal_state="inactive",
                entities=[_transition(node, Transition.TRANSITION_ACTIVATE)])),
            node, _transition(node, Transition.TRANSITION_CONFIGURE)]
    if launch_config.parse_bool("rviz", arg["rviz"]):
        try:
            get_package_prefix("rviz2")
            actions.append(Node(package="rviz2", executable="rviz2", name="rviz2",
                                namespace=arg["namespace"],
                                remappings=launch_config.rviz_remappings(arg["image_topic"]),
                                arguments=["-d", os.path.join(share, "config",
                                                              "pose_estimation.rviz")]))
        except PackageNotFoundError:
            actions.append(LogInfo(msg="rviz:=true but rviz2 is not installed (apt install "
                                       "ros-$ROS_DISTRO-rviz2): starting without it"))
    return actions


def generate_launch_description() -> LaunchDescription:
    args = [
        DeclareLaunchArgument("pipeline", default_value="",
                              description="one of " + ", ".join(PIPELINES)
                              + " (default: the parameter file's, else blazepose)"),
        DeclareLaunchArgument("image_topic", default_value="image",
                              description="sensor_msgs/Image topic (…/compressed with "
                                          "use_compressed)"),
        DeclareLaunchArgument("camera_info_topic", default_value="camera_info",
                              description="sensor_msgs/CameraInfo topic (markers need it)"),
        DeclareLaunchArgument("use_compressed", default_value="",
                              description="subscribe image_topic/compressed (default: the "
                                          "parameter file's, else false)"),
        DeclareLaunchArgument("use_depth", default_value="",
                              description="3D keypoints and target_pose from aligned depth "
                                          "(default: the parameter file's, else false)"),
        DeclareLaunchArgument("depth_image_topic", default_value="",
                              description="aligned depth image (16UC1 mm or 32FC1 m; default: "
                                          "depth/image)"),
        DeclareLaunchArgument("depth_info_topic", default_value="",
                              description="the depth image's CameraInfo (default: "
                                          "depth/camera_info; without one the colour camera's "
                                          "is scaled)"),
        DeclareLaunchArgument("target_policy", default_value="",
                              description="whom to follow: closest, largest, centre, track_id, "
                                          "none (default: the parameter file's, else closest)"),
        DeclareLaunchArgument("publish_tf", default_value="",
                              description="body_<id> TF frames (default: the parameter "
                                          "file's, else false)"),
        DeclareLaunchArgument("params_file", default_value="",
                              description="parameter YAML (default: config/<pipeline>.yaml)"),
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument("provider", default_value="",
                              description="onnxruntime provider: cpu, cuda or tensorrt "
                                          "(default: the parameter file's, else cpu)"),
        DeclareLaunchArgument("autostart", default_value="",
                              description="true: the node configures and activates itself; "
                                          "false: this launch file drives the lifecycle "
                                          "(default: the parameter file's, else true)"),
        DeclareLaunchArgument("rviz", default_value="false",
                              description="start rviz2 with config/pose_estimation.rviz"),
        DeclareLaunchArgument("log_level", default_value="info",
                              description="debug, info, warn, error"),
    ]
    return LaunchDescription(args + [OpaqueFunction(function=_actions)])
