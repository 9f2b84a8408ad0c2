"""Latest-frame scheduling: process only the newest frame, count every frame replaced.

Camera callbacks `put` frames; one worker `take`s them. A frame arriving while another waits
replaces it and the waiting one is counted as dropped, so latency never builds up behind a slow
model. Every frame received ends up processed, dropped or failed (a frame that could not be
processed, also reported as dropped): received = processed + dropped + pending.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class SchedulerStats:
    received: int = 0
    processed: int = 0
    dropped: int = 0  # replaced while waiting, or failed
    failed: int = 0  # part of `dropped`: taken but not processed (bad frame, error)
    pending: int = 0


class LatestFrameScheduler:
    def __init__(self):
        self._cond = threading.Condition()
        self._pending: Any = None
        self._has = False
        self._closed = False
        self._stats = SchedulerStats()

    def put(self, frame: Any) -> bool:
        """Offer a frame; returns True when it replaced (dropped) a waiting one."""
        with self._cond:
            self._stats.received += 1
            replaced = self._has
            if replaced:
                self._stats.dropped += 1
            self._pending, self._has = frame, True
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> Any:
        """The newest frame, waiting up to `timeout` seconds; None on timeout or close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._has or self._closed, timeout):
                return None
            if not self._has:
                return None
            frame, self._pending, self._has = self._pending, None, False
            return frame

    def done(self, ok: bool = True) -> None:
        """Report the frame last taken as processed (published) or failed (dropped)."""
        with self._cond:
            if ok:
                self._stats.processed += 1
            else:
                self._stats.failed += 1
                self._stats.dropped += 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def stats(self) -> SchedulerStats:
        with self._cond:
            s = self._stats
            return SchedulerStats(s.received, s.processed, s.dropped, s.failed, int(self._has))
