"""Latest-frame scheduling: process only the newest frame, count every frame not published.

Camera callbacks `put` frames; one worker `take`s them. A frame arriving while another waits
replaces it and the waiting one is counted as dropped, so latency never builds up behind a slow
model. Every frame received ends up published or dropped, with the reason counted:
received = published + dropped + pending, dropped = replaced + rejected + failed + discarded.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class SchedulerStats:
    received: int = 0
    published: int = 0
    dropped: int = 0  # every frame not published, for one of the reasons below
    replaced: int = 0  # a newer frame came while it waited
    rejected: int = 0  # bad input: unsupported encoding, corrupt or empty frame
    failed: int = 0  # an error while processing or publishing it
    discarded: int = 0  # waiting or in flight when the node was deactivated or shut down
    pending: int = 0


#: the reasons `done` accepts for a frame that was not published
DROP_REASONS = ("rejected", "failed", "discarded")


class LatestFrameScheduler:
    """A frame taken is in flight until `done` reports it (several may be: results that
    wait for their depth partner); `pending` counts the waiting one and those in flight."""

    def __init__(self):
        self._cond = threading.Condition()
        self._in_flight = 0
        self._pending: Any = None
        self._has = False
        self._closed = False
        self._stats = SchedulerStats()

    def put(self, frame: Any) -> bool:
        """Offer a frame; returns True when it replaced (dropped) a waiting one. A closed
        scheduler counts the frame as received and discarded."""
        with self._cond:
            self._stats.received += 1
            if self._closed:
                self._drop("discarded")
                return False
            replaced = self._has
            if replaced:
                self._drop("replaced")
            self._pending, self._has = frame, True
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> Any:
        """The newest frame, waiting up to `timeout` seconds (None: until one comes or the
        scheduler is closed); None on timeout or close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._has or self._closed, timeout):
                return None
            if not self._has or self._closed:
                return None
            frame, self._pending, self._has = self._pending, None, False
            self._in_flight += 1
            return frame

    def done(self, ok: bool = True, reason: str = "failed") -> None:
        """Report a frame taken as published, or dropped for `reason`."""
        if not ok and reason not in DROP_REASONS:
            raise ValueError(f"reason must be one of {DROP_REASONS}, not {reason!r}")
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            if ok:
                self._stats.published += 1
            else:
                self._drop(reason)

    def close(self) -> None:
        """Stop: a waiting frame is discarded, `take` returns None, new frames are discarded."""
        with self._cond:
            self._closed = True
            if self._has:
                self._pending, self._has = None, False
                self._drop("discarded")
            self._cond.notify_all()

    def open(self) -> None:
        with self._cond:
            self._closed = False

    def _drop(self, reason: str) -> None:
        self._stats.dropped += 1
        setattr(self._stats, reason, getattr(self._stats, reason) + 1)

    @property
    def stats(self) -> SchedulerStats:
        with self._cond:
            s = SchedulerStats(**{f.name: getattr(self._stats, f.name)
                                  for f in fields(SchedulerStats)})
            s.pending = int(self._has) + self._in_flight
            return s
