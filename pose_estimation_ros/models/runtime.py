"""The one place that opens ONNX Runtime sessions.

Providers are chosen by a short name; a provider that is not available (or that onnxruntime
drops while building the session, as it does when CUDA libraries are missing) falls back to the
CPU with one warning per process and model, and the provider actually running is queryable
(`Model.provider`), so a broken GPU install never hides behind a silent CPU fallback.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .specs import ModelSpec, get_spec
from .store import ModelError, cache_dir, load

log = logging.getLogger(__name__)

PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}
_SHORT = {"CPUExecutionProvider": "cpu", "CUDAExecutionProvider": "cuda",
          "TensorrtExecutionProvider": "tensorrt"}
_warned: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class RuntimeOptions:
    provider: str = "cpu"
    #: intra-op threads; 0 lets onnxruntime use one per physical core
    threads: int = 0
    #: the threads spin between the operators of a run (waiting for work instead of
    #: sleeping): faster when the cores are free, slower when other processes need them
    spin: bool = False
    warmup: bool = True
    #: folder for TensorRT engine caches (building an engine takes minutes the first time);
    #: "" is `tensorrt/` beside the model cache (see `trt_cache_path`)
    trt_cache_dir: str = ""

    def __post_init__(self):
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {sorted(PROVIDERS)}, not {self.provider!r}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, not {self.threads}")


def trt_cache_path(options: RuntimeOptions) -> Path:
    """Where TensorRT keeps its engines, so that a restart reuses them."""
    if options.trt_cache_dir:
        return Path(options.trt_cache_dir).expanduser()
    return cache_dir().parent / "tensorrt"


def _warn_once(model_id: str, message: str) -> None:
    key = (model_id, message)
    if key not in _warned:
        _warned.add(key)
        log.warning("%s", message)


def _provider_list(options: RuntimeOptions, model_id: str) -> list:
    import onnxruntime as ort

    wanted = PROVIDERS[options.provider]
    available = ort.get_available_providers()
    chosen = [p for p in wanted if p in available]
    if wanted[0] not in available:
        _warn_once(model_id, f"provider {options.provider!r} requested but this onnxruntime "
                   f"offers only {available}; {model_id} runs on {_SHORT.get(chosen[0], chosen[0])}"
                   " (install onnxruntime-gpu for CUDA/TensorRT)")
    result: list = []
    for p in chosen:
        if p == "TensorrtExecutionProvider":
            folder = trt_cache_path(options)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ModelError(f"cannot create the TensorRT engine cache {folder}: {exc}; "
                                 "set trt_cache_dir to a writable folder") from exc
            result.append((p, {"trt_engine_cache_enable": True,
                               "trt_engine_cache_path": str(folder)}))
        else:
            result.append(p)
    return result


class Model:
    """An ONNX Runtime session plus its spec. `run` returns the spec's outputs by role and
    keeps the time spent inside onnxruntime in `last_ms` (per thread: one model may serve
    several streams, each on its own thread)."""

    def __init__(self, spec: ModelSpec, path: Path, options: RuntimeOptions,
                 data: bytes | None = None):
        """`data`: the file's verified bytes (`store.load`), which the session is built
        from; None: the file at `path` as it is."""
        import onnxruntime as ort

        self.spec = spec
        self.path = path
        so = ort.SessionOptions()
        so.intra_op_num_threads = options.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Pool threads never spin after a run (a camera frame arrives every 33 ms, and a
        # spinning thread would take the core the video decoder and the robot's other
        # processes need), and between the operators of a run only with `spin` (README
        # "Threads" has the figures behind the default).
        so.add_session_config_entry("session.force_spinning_stop", "1")
        so.add_session_config_entry("session.intra_op.allow_spinning",
                                    "1" if options.spin else "0")
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path) if data is None else data,
                                                sess_options=so,
                                                providers=_provider_list(options, spec.id))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"model {spec.id!r}: onnxruntime cannot load {path}: {exc}") \
                from exc
        active = self.session.get_providers()[0]
        self.provider = _SHORT.get(active, active)
        offered = PROVIDERS[options.provider][0] in ort.get_available_providers()
        if self.provider != options.provider and offered:  # else _provider_list warned
            _warn_once(spec.id, f"provider {options.provider!r} requested but {spec.id} runs "
                       f"on {self.provider!r}: onnxruntime could not start "
                       f"{PROVIDERS[options.provider][0]} (check the CUDA/TensorRT libraries)")
        self.input_name, self.roles, self.output_names = check_tensors(spec, path, self.session)
        self._local = threading.local()
        #: when a list, every input `run` is given is appended (`bench`'s floor_ms)
        self.recorder: list | None = None
        if options.warmup:
            self.run(np.zeros(self.warmup_shape(), dtype=self.input_dtype()))

    def input_dtype(self):
        return np.int32 if self.spec.dtype == "int32" else np.float32

    def bare_ms(self, batch: np.ndarray) -> float:
        """Milliseconds of one bare session call on `batch` (no bookkeeping around it)."""
        feed = {self.input_name: batch}
        start = time.perf_counter()
        self.session.run(self.output_names, feed)
        return (time.perf_counter() - start) * 1000.0

    def warmup_shape(self) -> tuple[int, ...]:
        w, h = self.spec.input_size
        return (1, h, w, 3) if self.spec.layout == "NHWC" else (1, 3, h, w)

    @property
    def last_ms(self) -> float:
        """Milliseconds of this thread's last `run`."""
        return getattr(self._local, "ms", 0.0)

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        if self.recorder is not None:
            self.recorder.append(batch)
        start = time.perf_counter()
        out = self.session.run(self.output_names, {self.input_name: batch})
        self._local.ms = (time.perf_counter() - start) * 1000.0
        return dict(zip(self.roles, out))


def check_tensors(spec: ModelSpec, path: Path, session) -> tuple[str, list[str], list[str]]:
    """The input name and the (roles, tensor names) of the outputs, after checking the file
    against the model table: a file that is not the model the table describes is a
    ModelError naming the model, not a wrong result or a KeyError later."""
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    problems = []
    if len(inputs) != 1 or inputs[0] != spec.input_name:
        problems.append(f"input {spec.input_name!r} expected, the file has {inputs}")
    missing = [name for _, name in spec.outputs if name not in outputs]
    if missing:
        problems.append(f"outputs {missing} expected, the file has {outputs}")
    if problems:
        raise ModelError(f"model {spec.id!r} ({path}) does not match its table in "
                         f"models/specs.py: {'; '.join(problems)}")
    roles = [role for role, _ in spec.outputs]
    return inputs[0], roles, [name for _, name in spec.outputs]


class ModelPool:
    """Loaded models shared by several pipelines (one per camera): a model is opened once
    per (id, runtime options). onnxruntime sessions may be run from several threads."""

    def __init__(self):
        self._models: dict[tuple, Model] = {}
        self._lock = threading.Lock()

    def open(self, model_id: str, options: RuntimeOptions | None = None) -> Model:
        options = options or RuntimeOptions()
        key = (model_id, options)
        with self._lock:
            if key not in self._models:
                self._models[key] = _load(model_id, options)
            return self._models[key]

    def __len__(self) -> int:
        return len(self._models)


@functools.lru_cache(maxsize=None)
def hardware_id(provider: str) -> str:
    """What the models run on, for diagnostics' `hardware_id`: the CPU's model name, or the
    GPU device onnxruntime uses (device 0: the sessions do not choose another)."""
    if provider in ("cuda", "tensorrt"):
        return f"{provider} device 0"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return "cpu: " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return "cpu: " + (platform.processor() or platform.machine())


def open_model(model_id: str, options: RuntimeOptions | None = None,
               pool: ModelPool | None = None) -> Model:
    """A loaded model: from `pool` where given (shared), else a new session."""
    if pool is not None:
        return pool.open(model_id, options)
    return _load(model_id, options or RuntimeOptions())


def _load(model_id: str, options: RuntimeOptions) -> Model:
    """A session built from the bytes whose digest was checked (`store.load`)."""
    path, data = load(model_id)
    return Model(get_spec(model_id), path, options, data)
