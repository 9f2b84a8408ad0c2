"""One live camera stream, transport-free: the node's threads around the frame step.

The node's callbacks hand colour and depth messages in (`put`, `put_depth`) and nothing else.
A worker thread takes the newest colour frame (`LatestFrameScheduler`: a frame that comes while
another waits replaces it), decodes it, checks its stamp and runs the models (`FrameStep.infer`);
the result then waits in `DepthSync` for its depth partner (with depth input; at once without),
and an output thread finishes it (3D, target: `FrameStep.finish`) and hands it to `publish`, in
stamp order. Every frame received ends published or dropped with the reason (the scheduler's
counts); nothing raised while handling one frame stops either thread.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.results import FrameResult
from ..vision.imaging import ImageError
from .log_throttle import ReasonThrottle
from .scheduler import LatestFrameScheduler
from .stamps import StampCheck, StampChecker
from .step import DepthFrame, FrameStep
from .sync import DepthSync, NoDepth, Pairing


@dataclass(frozen=True)
class Colour:
    """A decoded colour message: what the step needs, and the transport's own header."""

    image: np.ndarray
    stamp_ns: int
    frame_id: str
    header: Any = None


@dataclass
class _Held:
    colour: Colour
    check: StampCheck
    result: FrameResult
    compute_s: float


class LiveStream:
    """`decode(msg) -> Colour` (ImageError for bad input), `decode_depth(msg) -> ndarray`
    (ImageError), `publish(output, colour, check) -> bool` (False: not published, e.g.
    deactivated), `log(text, level)` with level "info", "warning" or "error"; `now_ns()` is
    the transport's clock for stamp checks."""

    def __init__(self, step: FrameStep, decode: Callable, publish: Callable, log: Callable,
                 now_ns: Callable[[], int], decode_depth: Callable | None = None,
                 sync: DepthSync | None = None, window: int = 50):
        self.step = step
        self.decode, self.decode_depth, self.publish, self.log = decode, decode_depth, publish, log
        self.now_ns = now_ns
        self.use_depth = decode_depth is not None
        self.sync = sync or DepthSync(step.config.depth_tolerance)
        self.scheduler = LatestFrameScheduler()
        self.stamps = StampChecker()
        self.throttle = ReasonThrottle(5.0)
        self.last_target = None  # the follow target of the last frame finished
        self.depth_rejected = 0  # depth messages refused before pairing (their stamps)
        #: what stopped a thread outside any one frame's handling (a bug), else None
        self.error: str | None = None
        self.colour_k: np.ndarray | None = None
        self.depth_k: np.ndarray | None = None
        self.depth_info_size: tuple[int, int] | None = None
        self.infer_lock = threading.Lock()  # the pipeline: worker and parameter changes
        self.finish_lock = threading.Lock()  # the target and depth settings, likewise
        self._cond = threading.Condition()  # guards the sync; wakes the output thread
        self._keys = itertools.count()
        self._compute: deque = deque(maxlen=window)
        self.threads: list[threading.Thread] = []
        self._running = False

    # ---- transport side -------------------------------------------------------------------
    def put(self, msg: Any) -> None:
        self.scheduler.put(msg)

    def put_depth(self, stamp_ns: int, frame_id: str, msg: Any) -> None:
        with self._cond:
            self.sync.add_depth(stamp_ns, frame_id, msg, time.monotonic())
            self._cond.notify()

    def start(self) -> None:
        self.scheduler.open()
        self._running = True
        self.threads = [threading.Thread(target=self._guard, args=(self._work,),
                                         name="pose_worker", daemon=True),
                        threading.Thread(target=self._guard, args=(self._output,),
                                         name="pose_output", daemon=True)]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        """Stop both threads; frames waiting or in flight are counted as discarded."""
        self.scheduler.close()
        with self._cond:
            self._running = False
            self._cond.notify_all()
        for t in self.threads:
            t.join(timeout=10.0)
        self.threads = []
        with self._cond:
            for _ in self.sync.drain():
                self.scheduler.done(False, "discarded")

    @property
    def compute_ms_median(self) -> float:
        """Median of the node's own work per frame (decode, models, 3D, target, messages) over
        the last frames, without the time a result waited for its depth."""
        times = list(self._compute)
        return 1000.0 * float(np.median(times)) if times else float("nan")

    # ---- threads --------------------------------------------------------------------------
    def _warn(self, message: str, key: str | None = None, error: bool = False) -> None:
        text = self.throttle(message, key)
        if text is not None:
            self.log(text, "error" if error else "warning")

    def _guard(self, body) -> None:
        """A thread's loop; an exception outside a frame's own handling is recorded in
        `error` and logged, and the scheduler closed, so no frame waits for a thread that is
        gone (the node reports it and leaves the active state)."""
        try:
            body()
        except Exception as exc:
            self.error = f"{threading.current_thread().name} stopped: {type(exc).__name__}: {exc}"
            self.log(self.error, "error")
            self.scheduler.close()

    def _work(self) -> None:
        while (msg := self.scheduler.take()) is not None:
            start = time.perf_counter()
            try:
                colour = self.decode(msg)
            except ImageError as exc:
                self._warn(f"frame rejected: {exc}")
                self.scheduler.done(False, "rejected")
                continue
            except Exception as exc:  # a message the decoder did not foresee
                self._warn(f"frame rejected: {type(exc).__name__}: {exc}", type(exc).__name__)
                self.scheduler.done(False, "rejected")
                continue
            key = next(self._keys)
            try:
                now = self.now_ns()
                check = self.stamps.check(colour.stamp_ns, now)
                if (note := self.stamps.describe(check, colour.stamp_ns, now)):
                    self._warn(note, key=f"stamp {check.kind}")
                with self._cond:
                    self.sync.add_colour(key, colour.stamp_ns, colour.frame_id,
                                         time.monotonic())
                with self.infer_lock:
                    result = self.step.infer(colour.image, check.pipeline_stamp)
                held = _Held(colour, check, result, time.perf_counter() - start)
            except Exception as exc:  # never let one frame stop the worker
                self._warn(f"frame dropped: {type(exc).__name__}: {exc}", type(exc).__name__,
                           error=True)
                with self._cond:
                    self.sync.cancel(key)
                self.scheduler.done(False, "failed")
                continue
            with self._cond:
                self.sync.attach(key, held)
                self._cond.notify()

    def _output(self) -> None:
        while True:
            with self._cond:
                ready = self.sync.ready(time.monotonic(), flush=not self.use_depth)
                if not ready:
                    if not self._running:
                        return
                    deadline = self.sync.deadline()
                    self._cond.wait(None if deadline is None else
                                    max(0.001, deadline - time.monotonic()))
                    continue
            for _key, held, pairing in ready:
                self._finish(held, pairing)

    def _finish(self, held: _Held, pairing: Pairing) -> None:
        start = time.perf_counter()
        try:
            depth = self._depth_frame(pairing) if self.use_depth else None
            with self.finish_lock:
                out = self.step.finish(held.result, held.colour.stamp_ns,
                                       held.colour.frame_id, depth, self.colour_k,
                                       held.colour.image)
            self.last_target = out.target
            if out.target.changed:
                self.log(f"follow target: {out.target.reason}", "info")
            if out.no_depth is not None:
                self._warn(f"no 3D for this frame: {out.no_depth.detail}",
                           key=out.no_depth.key, error=out.no_depth.setup)
            published = self.publish(out, held.colour, held.check)
        except Exception as exc:  # never let one frame stop the output
            self._warn(f"frame dropped: {type(exc).__name__}: {exc}", type(exc).__name__,
                       error=True)
            self.scheduler.done(False, "failed")
            return
        self._compute.append(held.compute_s + time.perf_counter() - start)
        self.scheduler.done(True) if published else self.scheduler.done(False, "discarded")

    def _depth_frame(self, pairing: Pairing) -> DepthFrame | NoDepth:
        if pairing.missing is not None:
            return pairing.missing
        try:
            depth = self.decode_depth(pairing.depth)
        except ImageError as exc:
            return NoDepth("depth_rejected", f"depth rejected: {exc}")
        return DepthFrame(depth, self.depth_k, self.depth_info_size)
