"""Tracking for video: the tracker (ids, Kalman prediction, the next frame's boxes), One-Euro
smoothing, pose boxes. The video step that runs a pipeline with the tracker is
`pipelines.video`.
"""
