"""ros2 launch pose_estimation_ros follow.launch.py [camera:=/camera/camera] [...]

Human following with a RealSense in one line: pose_estimation.launch.py with depth on and
realsense2_camera's topics (start the driver with `align_depth.enable:=true`): colour, its
CameraInfo, aligned depth and its CameraInfo under `camera`. Defaults: the top-down pipeline
(two or more people), target_policy closest. Every other argument of pose_estimation.launch.py
may be given as well (e.g. publish_tf:=true, rviz:=true): launch passes command-line arguments
on to the included file, which declares them (not declared here, so that their defaults are
that file's).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource

from launch import LaunchDescription
from pose_estimation_ros.settings import launch as launch_config


def _include(context):
    conf = context.launch_configurations
    arguments = launch_config.realsense_topics(conf["camera"]) | {
        "use_depth": "true", "pipeline": conf["pipeline"],
        "target_policy": conf["target_policy"]}
    main = os.path.join(get_package_share_directory("pose_estimation_ros"), "launch",
                        "pose_estimation.launch.py")
    return [IncludeLaunchDescription(PythonLaunchDescriptionSource(main),
                                     launch_arguments=list(arguments.items()))]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument("camera", default_value="/camera/camera",
                              description="realsense2_camera's namespace and name"),
        DeclareLaunchArgument("pipeline", default_value="topdown",
                              description="pose pipeline (default: topdown, several people)"),
        DeclareLaunchArgument("target_policy", default_value="closest",
                              description="whom to follow"),
        OpaqueFunction(function=_include)])
