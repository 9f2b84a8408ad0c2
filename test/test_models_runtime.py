"""models/runtime.py: tensors checked against the model table, shared sessions, timing per
thread, providers."""
import threading

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pose_estimation_ros.models import runtime
from pose_estimation_ros.models.runtime import Model, ModelPool, RuntimeOptions, trt_cache_path
from pose_estimation_ros.models.specs import get_spec
from pose_estimation_ros.models.store import ModelError


def _identity(path, input_name="input:0", output_name="Identity:0"):
    graph = helper.make_graph(
        [helper.make_node("Identity", [input_name], [output_name])], "g",
        [helper.make_tensor_value_info(input_name, TensorProto.INT32, [1, 192, 192, 3])],
        [helper.make_tensor_value_info(output_name, TensorProto.INT32, [1, 192, 192, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_outputs_come_by_role_and_a_wrong_file_names_the_model(tmp_path):
    spec = get_spec("movenet-lightning")
    model = Model(spec, _identity(tmp_path / "ok.onnx"), RuntimeOptions())
    out = model.run(np.ones((1, 192, 192, 3), np.int32))
    assert list(out) == ["keypoints"] and out["keypoints"].shape == (1, 192, 192, 3)
    with pytest.raises(ModelError, match=r"model 'movenet-lightning' .* does not match its "
                                         r"table .*outputs \['Identity:0'\] expected, the "
                                         r"file has \['out'\]"):
        Model(spec, _identity(tmp_path / "bad.onnx", output_name="out"), RuntimeOptions())
    with pytest.raises(ModelError, match=r"input 'input:0' expected, the file has \['x'\]"):
        Model(spec, _identity(tmp_path / "bad2.onnx", input_name="x"), RuntimeOptions())
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="onnxruntime cannot load"):
        Model(spec, tmp_path / "junk.onnx", RuntimeOptions())


def test_a_pool_opens_each_model_once_and_timing_is_per_thread(tmp_path, monkeypatch):
    path = _identity(tmp_path / "m.onnx")
    monkeypatch.setattr(runtime, "load", lambda model_id: (path, path.read_bytes()))
    pool = ModelPool()
    a = pool.open("movenet-lightning")
    assert pool.open("movenet-lightning") is a and len(pool) == 1
    assert pool.open("movenet-lightning", RuntimeOptions(threads=1)) is not a
    x = np.ones((1, 192, 192, 3), np.int32)
    a.run(x)
    seen = []
    t = threading.Thread(target=lambda: seen.append(a.last_ms))
    t.start()
    t.join()
    assert seen == [0.0] and a.last_ms > 0  # the other thread has not run it


def test_tensorrt_engines_are_cached_beside_the_models(tmp_path, monkeypatch):
    monkeypatch.setenv("POSE_ESTIMATION_CACHE", str(tmp_path / "models"))
    assert trt_cache_path(RuntimeOptions()) == tmp_path / "tensorrt"
    assert trt_cache_path(RuntimeOptions(trt_cache_dir=str(tmp_path / "e"))) == tmp_path / "e"
