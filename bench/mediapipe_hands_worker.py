"""Runs MediaPipe's hand landmarker (the reference) on images for compare_mediapipe_hands.py.

Executed by the Python of a separate virtual environment that has `mediapipe==0.10.14`
(it pulls OpenCV 5, which must not share an environment with this project's OpenCV 4).
Usage: python mediapipe_hands_worker.py IMAGES.json OUT.json
IMAGES.json is a list of image paths; OUT.json gets, per image, every hand MediaPipe found:
21 (x, y) pixels each, from `mp.solutions.hands.Hands(static_image_mode=True,
model_complexity=1)` (palm detection, then the hand landmark model).
"""
import json
import sys

import cv2


def main() -> None:
    import mediapipe as mp

    images_path, out_path = sys.argv[1:]
    found = []
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2,
                                  model_complexity=1, min_detection_confidence=0.5) as hands:
        for path in json.load(open(images_path)):
            bgr = cv2.imread(path)
            h, w = bgr.shape[:2]
            result = hands.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            found.append([[[p.x * w, p.y * h] for p in lm.landmark]
                          for lm in (result.multi_hand_landmarks or [])])
    json.dump(found, open(out_path, "w"))


if __name__ == "__main__":
    main()
