"""Hands of tracked people: a region per wrist from the body keypoints, refined by MediaPipe's
hand recrop model, then its hand landmark model on every hand of the frame in one batch
(`stage.py`), after MediaPipe Holistic's hand graph."""
