"""Video: the tracker (ids, Kalman prediction, boxes for the next frame), One-Euro smoothing, the
video step.
"""
