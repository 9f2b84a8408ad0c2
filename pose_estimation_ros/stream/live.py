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
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.camera import Intrinsics
from ..core.results import FrameResult, TrackState
from ..vision.errors import ImageError, Rejection
from .depth import partner
from .log_throttle import ReasonThrottle
from .scheduler import LatestFrameScheduler
from .stamps import StampCheck, StampChecker
from .step import FrameStep
from .sync import DepthSync


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
        self.last_people: frozenset[int] = frozenset()  # its confirmed people
        self.depth_rejected = 0  # depth messages refused before pairing (their stamps)
        self.rejections: Counter = Counter()  # colour frames rejected, by `Rejection`
        #: what stopped a thread outside any one frame's handling (a bug), else None
        self.error: str | None = None
        self.colour: Intrinsics | None = None  # the colour camera's CameraInfo
        self.depth_camera: Intrinsics | None = None  # the depth image's own CameraInfo
        self._infer_lock = threading.Lock()  # the pipeline: worker and parameter changes
        self._finish_lock = threading.Lock()  # the target and depth settings, likewise
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

    def set_colour_info(self, info: Intrinsics | None) -> None:
        """The colour camera's intrinsics (None: the last CameraInfo could not be used)."""
        self.colour = info

    def set_depth_info(self, info: Intrinsics | None) -> None:
        self.depth_camera = info

    def refuse_depth(self, message: str) -> None:
        """A depth message refused before pairing (its stamp): counted and logged."""
        self.depth_rejected += 1
        self._warn(f"depth image ignored: {message}", key="depth stamp")

    def select_target(self, track_id: int | None) -> str | None:
        """Follow `track_id` from the next frame finished (None: whom the policy picks then);
        the reason it cannot be done (a track not tracked now), else None."""
        if track_id is not None and track_id not in self.last_people:
            return (f"track {track_id} is not a confirmed person now (confirmed: "
                    f"{sorted(self.last_people) or 'nobody'})")
        with self._finish_lock:
            self.step.select_target(track_id)
        return None

    def apply(self, options, config) -> None:
        """New runtime settings (`PipelineOptions`, `StepConfig`) between two frames."""
        with self._infer_lock, self._finish_lock:
            self.step.apply(options, config)
            self.sync.tolerance_s = config.depth_tolerance

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
            accepted = self._accept(msg)
            if accepted is None:
                continue
            colour, check = accepted
            key = next(self._keys)
            try:
                with self._cond:
                    self.sync.add_colour(key, colour.stamp_ns, colour.frame_id,
                                         time.monotonic())
                with self._infer_lock:
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

    def _accept(self, msg) -> tuple[Colour, StampCheck] | None:
        """The decoded frame and its stamp check, or None for a frame rejected (counted by
        reason, warned about)."""
        try:
            colour = self.decode(msg)
            now = self.now_ns()
            check = self.stamps.check(colour.stamp_ns, now)
        except ImageError as exc:
            return self._reject(f"frame rejected: {exc}", exc.reason)
        except Exception as exc:  # a message the decoder did not foresee
            return self._reject(f"frame rejected: {type(exc).__name__}: {exc}",
                                Rejection.CORRUPT, type(exc).__name__)
        note = self.stamps.describe(check, colour.stamp_ns, now)
        if not check.process:
            return self._reject(note, Rejection.DUPLICATE_STAMP, f"stamp {check.kind}")
        if note:
            self._warn(note, key=f"stamp {check.kind}")
        return colour, check

    def _reject(self, message: str, reason: Rejection, key: str | None = None) -> None:
        self._warn(message, key)
        self.rejections[reason] += 1
        self.scheduler.done(False, "rejected")
        return None

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
            for _key, held, paired in ready:
                self._finish(held, paired)

    def _finish(self, held: _Held, paired) -> None:
        start = time.perf_counter()
        try:
            depth = partner(paired, self.decode_depth, self.depth_camera) if self.use_depth \
                else None
            with self._finish_lock:
                out = self.step.finish(held.result, held.colour.stamp_ns,
                                       held.colour.frame_id, depth, self.colour,
                                       held.colour.image)
            self.last_target = out.target
            self.last_people = frozenset(p.track_id for p in out.result.people
                                         if p.track_state == TrackState.CONFIRMED)
            if out.target.changed:
                self.log(f"follow target: {out.target.reason}", "info")
            if out.no_depth is not None:
                self._warn(f"no 3D for this frame: {out.no_depth.detail}",
                           key=out.no_depth.key, error=out.no_depth.reason.setup)
            published = self.publish(out, held.colour, held.check)
        except Exception as exc:  # never let one frame stop the output
            self._warn(f"frame dropped: {type(exc).__name__}: {exc}", type(exc).__name__,
                       error=True)
            self.scheduler.done(False, "failed")
            return
        self._compute.append(held.compute_s + time.perf_counter() - start)
        self.scheduler.done(True) if published else self.scheduler.done(False, "discarded")
