"""Since when something has held: a gesture counts once it has lasted `hold` seconds; a dip of
at most `gap` seconds (a keypoint that flickers for a frame or two) does not restart it, and
time going back (a looped recording) does."""
from __future__ import annotations


class Hold:
    def __init__(self, hold: float, gap: float):
        self.hold, self.gap = hold, gap
        self._since: dict = {}  # key → (start, last time it held)

    def reset(self) -> None:
        self._since.clear()

    def update(self, key, holds: bool, now: float) -> float | None:
        """The start of the hold when `key` has held for `hold` seconds at `now`, else None."""
        start, last = self._since.get(key, (now, now))
        recent = 0 <= now - last <= self.gap
        if not holds:
            if not recent:
                self._since.pop(key, None)
            return None
        if not recent:  # a new one (or time went back)
            start = now
        self._since[key] = (start, now)
        return start if now - start >= self.hold else None

    def prune(self, now: float) -> None:
        """Forget what has not held within `gap` (people gone)."""
        self._since = {k: v for k, v in self._since.items() if 0 <= now - v[1] <= self.gap}
