"""Runs MediaPipe Pose (the reference) on frames saved by compare_mediapipe.py.

Executed by the Python of a separate virtual environment that has `mediapipe==0.10.14`
(it pulls OpenCV 5, which must not share an environment with this project's OpenCV 4).
Usage: python mediapipe_worker.py MODE(static|tracking) OUT.npz FRAMES.npy [FRAMES.npy ...]
Each FRAMES.npy holds [N, H, W, 3] RGB uint8 frames of one size; a new file starts a new graph.

Besides the landmarks it records the region each frame's landmarks were computed in (from the
graph's ROI_FROM_DETECTION / ROI_FROM_LANDMARKS outputs), so the caller can also compare the
landmark stage on identical regions.
"""
import sys
import time

import numpy as np


def _rect(r, w, h):
    return [r.x_center * w, r.y_center * h, r.width * w, r.height * h, r.rotation]


def main() -> None:
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import pose as mp_pose

    mode, out_path, *frame_files = sys.argv[1:]
    static = mode == "static"
    all_kps, all_times, all_rects = [], [], []
    for frames_path in frame_files:
        frames = np.load(frames_path, mmap_mode="r")  # [N, H, W, 3] RGB uint8
        n, h, w = frames.shape[:3]
        keypoints = np.full((n, 33, 2), np.nan, np.float32)
        rects = np.full((n, 5), np.nan)
        times = np.zeros(n)
        # The same graph and settings as mp.solutions.pose.Pose(model_complexity=1,
        # smooth_landmarks=False), with the regions added to the outputs.
        graph = SolutionBase(
            binary_graph_path=mp_pose._BINARYPB_FILE_PATH,
            side_inputs={"model_complexity": 1, "smooth_landmarks": False,
                         "enable_segmentation": False, "smooth_segmentation": False,
                         "use_prev_landmarks": not static},
            outputs=["pose_landmarks", "pose_rect_from_landmarks", "pose_rect_from_detection"])
        previous = None
        for i in range(n):
            frame = np.ascontiguousarray(frames[i])
            start = time.perf_counter()
            result = graph.process(frame)
            times[i] = time.perf_counter() - start
            used = result.pose_rect_from_detection or (None if static else previous)
            if result.pose_landmarks is not None:
                keypoints[i] = [(p.x * w, p.y * h) for p in result.pose_landmarks.landmark]
                if used is not None:
                    rects[i] = _rect(used, w, h)
            previous = result.pose_rect_from_landmarks
        graph.close()
        all_kps.append(keypoints)
        all_times.append(times)
        all_rects.append(rects)
    np.savez(out_path, keypoints=np.concatenate(all_kps), times=np.concatenate(all_times),
             rects=np.concatenate(all_rects))


if __name__ == "__main__":
    main()
