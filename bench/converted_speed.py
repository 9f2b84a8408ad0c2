"""Inference time of a model converted here from TF.js against the tf2onnx reference file, in
one process, on the same real crops: alternated pairs (A's batch of runs, then B's), the ratio
pair by pair, and its median, so a drift in the machine's speed cancels out.

    POSE_ESTIMATION_MODELS=../shared/models python bench/converted_speed.py \
        [--model movenet-thunder] [--pairs 7] [--runs 30] [--threads 0]

Prints one line per pair and, last, `median ratio converted/reference = R (N pairs)`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "test"))

REFERENCES = {
    "movenet-thunder": ("movenet_singlepose_thunder_4_from_tfjs.onnx", 256),
    "movenet-lightning": ("movenet_singlepose_lightning_4_from_tfjs.onnx", 192),
    "movenet-multipose": ("movenet_multipose_lightning_1_from_tfjs.onnx", 256),
    "efficientpose-ii-lite": ("efficientpose_ii_lite_from_tfjs.onnx", 368),
}


def _time(session, feeds: list[dict]) -> float:
    start = time.perf_counter()
    for feed in feeds:
        session.run(None, feed)
    return (time.perf_counter() - start) / len(feeds) * 1000.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="movenet-thunder", choices=sorted(REFERENCES))
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--runs", type=int, default=30, help="inferences per half of a pair")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads")
    args = ap.parse_args()

    import onnxruntime as ort
    from test_models_convert_tfjs import crops

    from pose_estimation_ros.models.specs import get_spec
    from pose_estimation_ros.models.store import find_file, resolve

    spec = get_spec(args.model)
    reference_name, size = REFERENCES[args.model]
    files = {"converted": resolve(args.model), "reference": find_file(reference_name)}
    if files["reference"] is None:
        print(f"error: {reference_name} is not on the model search path", file=sys.stderr)
        return 2
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the package
    sessions = {k: ort.InferenceSession(str(v), options, providers=["CPUExecutionProvider"])
                for k, v in files.items()}
    images = crops(size)
    dtype = np.int32 if spec.dtype == "int32" else np.float32
    batch = [image[None].astype(dtype) if dtype is np.int32 else
             image[None].astype(np.float32) / 127.5 - 1 for image in images]
    feeds = {k: [{s.get_inputs()[0].name: x} for x in batch] for k, s in sessions.items()}
    for k, s in sessions.items():  # warm-up
        _time(s, feeds[k][:5])
    ratios = []
    for i in range(args.pairs):
        n = args.runs
        a = _time(sessions["converted"], (feeds["converted"] * n)[:n])
        b = _time(sessions["reference"], (feeds["reference"] * n)[:n])
        ratios.append(a / b)
        print(f"pair {i + 1}: converted {a:.2f} ms, reference {b:.2f} ms, ratio {a / b:.3f}")
    print(f"median ratio converted/reference = {statistics.median(ratios):.3f} "
          f"({len(ratios)} pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
