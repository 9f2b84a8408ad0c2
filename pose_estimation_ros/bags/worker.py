"""One bag processed by a worker of any backend (`--jobs` processes, Ray tasks): the frame step
created once per worker process and reused for its bags, the bag's outputs, and the sidecar
that records how they were made and, in `ran_on`, where (the only fields, with the paths, in
which two backends' sidecars of the same bag differ)."""
from __future__ import annotations

import os
import socket
import sys

import yaml

from .. import __version__
from .process import BagJob, process_bag, sidecar_path, work_path
from .topics import BagError

SIDECAR_VERSION = 1


def ran_on(backend: str) -> dict:
    """Where a bag ran: the backend, the host, the worker process (and the Ray node). The
    sidecar adds `models_reused`: how many bags this process ran before with the same models
    loaded (0 for the first bag of a process)."""
    where = {"backend": backend, "host": socket.gethostname(), "pid": os.getpid()}
    if backend == "ray":
        import ray

        where["ray_node"] = ray.get_runtime_context().get_node_id()
    return where


def _models(options, config) -> list[dict]:
    """The model files used (the pipeline's, then the hands'), with the sha256 of each file
    as it is (converted files too)."""
    from ..models.store import resolve, sha256_of

    return [{"id": model_id, "file": str(path), "sha256": sha256_of(path)}
            for model_id in options.model_ids() + config.hands.model_ids()
            for path in [resolve(model_id)]]


def _environment() -> dict:
    import cv2
    import numpy
    import onnxruntime

    return {"package": __version__, "python": sys.version.split()[0],
            "numpy": numpy.__version__, "opencv": cv2.__version__,
            "onnxruntime": onnxruntime.__version__}


#: one step per worker process (its models loaded once), reused for the bags of a run
_STEP: dict = {"key": None, "step": None, "bags": 0}
#: this worker process was told to stop (`stop_worker`), and whether a bag is under way
_STATE = {"stop": False, "busy": False}


def stop_worker() -> None:
    """A local worker process is stopped (SIGTERM): the bag under way is abandoned (its
    partial files removed on the way out), no other is started, and an idle worker exits."""
    _STATE["stop"] = True
    if _STATE["busy"]:
        raise KeyboardInterrupt("stopped")
    os._exit(0)


def process_one(job: BagJob, options, config, parameters: dict, position: int = 1,
                progress: bool = False, backend: str = "local") -> dict:
    """One bag by one backend's worker: its outputs, then its sidecar (last); returns the
    sidecar's record. Raises for a bag that fails (a BagError with the reason, or whatever
    the failure was); `position` is its progress bar's line."""
    if _STATE["stop"] or (job.stop_file is not None and job.stop_file.exists()):
        raise KeyboardInterrupt("stopped")
    _STATE["busy"] = True
    try:
        return _process(job, options, config, parameters, position, progress, backend)
    finally:
        _STATE["busy"] = False


def _process(job: BagJob, options, config, parameters: dict, position: int, progress: bool,
             backend: str) -> dict:
    from ..stream.step import create_step
    from .types import typestore

    if _STEP["key"] != (options, config):
        _STEP.update(key=(options, config), step=create_step(options, config), bags=0)
    reused = _STEP["bags"]
    _STEP["bags"] += 1
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(desc=job.input.name, unit="frame", position=position, leave=False)
    try:
        stats = process_bag(job, _STEP["step"], typestore(), bar)
    finally:
        if bar is not None:
            bar.close()
    missing = stats["missing_messages"]
    record = {"sidecar_version": SIDECAR_VERSION, "complete": not missing, **_environment(),
              "input": str(job.input.resolve()), "output": str(job.output.resolve()),
              "models": _models(options, config), "parameters": parameters, **stats,
              "ran_on": {**ran_on(backend), "models_reused": reused}}
    sidecar = sidecar_path(job.output)
    tmp = work_path(sidecar)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(yaml.safe_dump(record, sort_keys=False))
    tmp.replace(sidecar)  # last: its presence (complete: true) says the output is complete
    if missing:
        raise BagError(f"{job.input}: incomplete: " + ", ".join(
            f"{n} of {stats['topics'][t]['messages']} messages on {t}" for t, n in
            missing.items()) + " could not be read (damaged records); the output holds the "
            f"rest and {sidecar.name} says complete: false")
    return record
