"""SIGTERM as Ctrl-C: what `kill`, systemd, `docker stop` and Slurm send stops a command the
way Ctrl-C does (a KeyboardInterrupt raised where the main thread is, which every command
already handles by removing what it had not finished)."""
from __future__ import annotations

import signal

#: the signal that raised the last KeyboardInterrupt of `_interrupt` (a library on the way
#: may catch it and raise a KeyboardInterrupt of its own, without it: Ray's wait does)
received: list[str] = []


def _interrupt(signum, _frame) -> None:
    received.append(signal.Signals(signum).name)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interrupt_on_sigterm() -> None:
    """From now on SIGTERM raises KeyboardInterrupt("SIGTERM") in the main thread."""
    signal.signal(signal.SIGTERM, _interrupt)
