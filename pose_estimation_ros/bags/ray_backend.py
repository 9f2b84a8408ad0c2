"""`bag --backend ray`: one Ray task per bag, on a local Ray instance or an existing cluster.

Each task runs `worker.process_one` in a Ray worker process, which creates the frame step (the
models) once and keeps it for the bags that process runs after (tasks are declared with
`max_calls=0`: Ray otherwise starts a new process for every GPU task). A task asks for the CPUs
one bag needs (`--threads`, at least 1) and, with `--provider cuda` or `tensorrt`, one GPU.
Outputs are written by the task itself into the output folder, so on a cluster that folder
must be on a filesystem every node sees (NFS, a mounted bucket), as the inputs must.

Faults: a task that raises is that bag's failure (counted, no sidecar); a worker process that
dies (killed, out of memory) is retried by Ray up to `RETRIES` times, the bag written from
scratch each time, then failed. Ctrl-C, and SIGTERM alike, cancels the tasks not yet done and
removes their partial files, so only complete outputs stay. `ray` is an optional extra,
imported here only.
"""
from __future__ import annotations

from dataclasses import replace

from ..core.interrupt import interrupt_on_signals
from .process import BagJob
from .worker import process_one

#: times Ray restarts a bag whose worker process died
RETRIES = 2
#: seconds between checks for Ctrl-C while waiting for the next bag
WAIT_S = 0.2
#: seconds Ctrl-C waits for the cancelled tasks' workers to end
CANCEL_WAIT_S = 20.0
INSTALL = 'pip install "pose_estimation_ros[ray]"'


def import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError(f"--backend ray needs Ray: {INSTALL}") from None
    return ray


def run(todo: list[BagJob], options, config, parameters: dict, address: str, cpus: int,
        progress: bool, report) -> list[tuple[object, Exception | dict]]:
    """Every job as a Ray task; `report(job, outcome)` is called as each one ends (a record,
    or the exception it failed with), in the order they end. Returns (job, outcome) in the
    order of `todo`."""
    ray = import_ray()
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {"num_cpus": cpus}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        interrupt_on_signals()  # Ray's driver installs signal handlers of its own
    stop = todo[0].output.resolve().parent / ".partial" / ".stop" if todo else None
    todo = [replace(job, input=job.input.resolve(), output=job.output.resolve(),
                    stop_file=stop) for job in todo]  # a worker's directory is not the driver's
    gpu = options.runtime.provider in ("cuda", "tensorrt")
    task = ray.remote(num_cpus=max(1, options.runtime.threads), num_gpus=1 if gpu else 0,
                      max_calls=0, max_retries=RETRIES, retry_exceptions=False)(process_one)
    refs = {task.remote(job, options, config, parameters, 1, False, "ray"): job
            for job in todo}
    outcomes: dict = {}
    pending = list(refs)
    try:
        while pending:
            # short waits: Python handles Ctrl-C between them, not only when a bag ends
            done, pending = ray.wait(pending, num_returns=1, timeout=WAIT_S)
            if not done:
                continue
            ref = done[0]
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the bag's own exception
                outcome = getattr(exc, "cause", None) or exc.as_instanceof_cause()
            except ray.exceptions.RayError as exc:  # its worker died RETRIES + 1 times
                outcome = RuntimeError(f"its worker process died {RETRIES + 1} times "
                                       f"({type(exc).__name__})")
            outcomes[ref] = outcome
            report(refs[ref], outcome)
    except KeyboardInterrupt:
        _cancel(ray, pending, stop)
        raise
    return [(refs[ref], outcomes[ref]) for ref in refs]  # the order of `todo`


def _cancel(ray, pending: list, stop) -> None:
    """Stop the tasks not done and wait until they have: the stop file tells each (running:
    within 8 messages; not started: at once) to end, removing its partial files on the way
    out; only one that has not ended after CANCEL_WAIT_S is killed. (`ray.cancel` of a task
    that is just completing aborts the driver: Ray's "Tried to complete task that was not
    pending", ray-project/ray#54798, still in 2.60.) The caller then removes whatever the
    unfinished bags had begun."""
    if not pending:
        return
    stop.parent.mkdir(parents=True, exist_ok=True)
    stop.touch()
    try:
        _, left = ray.wait(pending, num_returns=len(pending), timeout=CANCEL_WAIT_S)
        for ref in left:
            ray.cancel(ref, force=True)
        ray.wait(left, num_returns=len(left), timeout=CANCEL_WAIT_S)
    finally:
        stop.unlink(missing_ok=True)
