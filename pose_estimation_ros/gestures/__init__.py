"""Gestures of tracked people, read from their keypoint tracks (no model of their own)."""
