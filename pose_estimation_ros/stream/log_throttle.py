"""Throttling log messages per reason, so that one noisy fault does not hide the others.

Each reason has its own throttle: by default the message text itself (the same broken frame
sent again and again is logged once per period, a different fault at once); callers whose
messages carry a changing number pass a `key` for the kind.
"""
from __future__ import annotations

import time
from typing import Callable


class ReasonThrottle:
    def __init__(self, period_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.period_s = period_s
        self.clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, message: str, key: str | None = None) -> str | None:
        """The message to log now (with how many of its kind were held back), or None."""
        key = message if key is None else key
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.period_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._last[key] = now
        held = self._suppressed.pop(key, 0)
        return f"{message} ({held} more like this in the last {self.period_s:g} s)" if held \
            else message
