"""The rclpy layer: every module here needs a ROS 2 installation. The lifecycle node (node.py:
parameters, topics, lifecycle), its publishers (outputs.py), its executable (main.py) and the
rclpy pieces of parameters, logging and diagnostics (support.py). What the node does with a
frame is in `stream`; what it shares with `bag` without ROS is in `transport`.
"""
