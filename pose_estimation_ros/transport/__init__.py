"""What the transports (the ROS node, `bag`) share without importing rclpy: message payloads to
arrays, results to message objects of any implementation (rclpy or rosbags), CameraInfo of ROS 1
and ROS 2, the node's parameter table, QoS choice and the launch file's argument logic."""
