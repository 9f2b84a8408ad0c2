"""SIGTERM as Ctrl-C: what `kill`, systemd, `docker stop` and Slurm send stops a command the
way Ctrl-C does (a KeyboardInterrupt raised where the main thread is, which every command
already handles by removing what it had not finished).

Only the first signal interrupts: one that comes while the command cleans up (a second Ctrl-C,
systemd's SIGTERM then a Ctrl-C) is reported and the cleanup goes on, because interrupting it
would leave worker processes and partial files behind. Before a command has started (Python
and the libraries loading) there is nothing to clean up: a signal ends the process at once,
killed by it, without a traceback."""
from __future__ import annotations

import os
import signal

#: the signals received since `interrupt_on_signals`, the first is the one that stopped the
#: command (a library on the way may catch its KeyboardInterrupt and raise one of its own
#: without it: Ray's wait does)
received: list[str] = []
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum, _frame) -> None:
    name = signal.Signals(signum).name
    received.append(name)
    if len(received) == 1:
        raise KeyboardInterrupt(name)
    os.write(2, f"{name}: stopping already ({received[0]}), removing what was not "
                "finished\n".encode())


def interrupt_on_signals() -> None:
    """From now on SIGINT and SIGTERM raise KeyboardInterrupt(name) in the main thread, once
    (since `received` was last cleared)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)


def _end(signum, _frame) -> None:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def end_at_once_on_signals() -> None:
    """Until `interrupt_on_signals`: SIGINT or SIGTERM ends the process, killed by it."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _end)
