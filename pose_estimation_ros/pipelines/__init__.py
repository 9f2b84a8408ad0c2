"""Pose pipelines: detectors, pose heads and their decoders, BlazePose, MoveNet, top-down,
registry.
"""
