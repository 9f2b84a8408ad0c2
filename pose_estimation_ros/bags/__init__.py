"""Offline processing of recorded bags (rosbags): reading, processing every frame, writing bags and
tables.
"""
