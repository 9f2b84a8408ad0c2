"""ROS 2 wiring: the lifecycle node, parameters, message conversion, images, QoS, stamps. Only
node.py and main.py import rclpy.
"""
