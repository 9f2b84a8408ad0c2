"""Real-time human pose estimation for ROS 2: a transport-free core plus a thin rclpy node."""
from pkgutil import extend_path

__version__ = "0.1.0"
# The generated messages (`pose_estimation_ros.msg`) live in the colcon install tree; this lets
# the source tree, when it comes first on the path (tests run from the checkout), find them there.
__path__ = extend_path(__path__, __name__)
