"""Real-time human pose estimation for ROS 2: a transport-free core plus a thin rclpy node."""
__version__ = "0.1.0"
