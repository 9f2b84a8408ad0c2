"""`bag --backend local`: bags in this process (`--jobs 1`) or in `--jobs N` worker processes,
each loading the models once, and how a run is stopped.

SIGTERM (what `kill`, systemd, `docker stop` and Slurm send) does what Ctrl-C does
(`core.interrupt`): the command raises KeyboardInterrupt where it is, each unfinished
bag's files are removed, and it exits 143 (SIGINT: 130). With worker processes, which a
SIGTERM to the command alone does not reach, the command stops them itself: each gets
SIGTERM (it abandons its bag, whose partial files it removes, and starts no other), and the
command waits until all have exited before it removes what is left and returns, so nothing
is written after it exits and no process of it stays behind holding its output open.
"""
from __future__ import annotations

import signal
from concurrent.futures import ProcessPoolExecutor, as_completed

from .worker import process_one, stop_worker

#: seconds a stopped worker process gets to remove its partial files before it is killed
STOP_WAIT_S = 20.0


def _worker_start() -> None:
    """In each worker process: SIGTERM abandons the bag being processed and any to come;
    SIGINT (a terminal's Ctrl-C reaches the whole process group) is left to the command,
    which stops its workers itself."""
    signal.signal(signal.SIGTERM, lambda *_: stop_worker())
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(todo, options, config, parameters, jobs, progress, report) -> list:
    """(job, record or the exception it failed with) for every job, in the order of `todo`."""
    outcomes: dict[int, object] = {}
    if jobs == 1:
        for i, job in enumerate(todo):
            try:
                outcomes[i] = process_one(job, options, config, parameters, 1, progress)
            except Exception as exc:  # any failure is this bag's; the others go on
                outcomes[i] = exc
            report(job, outcomes[i])
        return [(job, outcomes[i]) for i, job in enumerate(todo)]
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start)
    try:
        futures = {pool.submit(process_one, job, options, config, parameters, 1 + i % jobs,
                               progress): i for i, job in enumerate(todo)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                outcomes[i] = future.result()
            except Exception as exc:  # any failure is this bag's; the others go on
                outcomes[i] = exc
            report(todo[i], outcomes[i])
    except KeyboardInterrupt:
        _stop(pool)
        raise
    pool.shutdown()
    return [(job, outcomes[i]) for i, job in enumerate(todo)]


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop every worker process and wait until each has exited."""
    workers = list((pool._processes or {}).values())  # noqa: SLF001 (no public handle)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()  # SIGTERM: `_worker_start`'s handler
    for process in workers:
        process.join(STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join()
