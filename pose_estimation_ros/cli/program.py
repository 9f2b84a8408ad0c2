"""The `pose-estimation-ros` program (`python -m pose_estimation_ros`, the console script and
the colcon install's script): `cli.main.main` with the process's signals and exit status as a
shell, systemd or a batch scheduler expects them. Kept apart from `cli.main`, whose imports
(numpy, OpenCV, ONNX Runtime) take a second: a signal during them ends the process quietly."""
from __future__ import annotations

import signal
import sys

from ..core import interrupt


def program() -> None:
    """Run `main`; a command stopped by Ctrl-C or SIGTERM (both clean up the same way:
    `bags.local`) ends killed by that signal once it has cleaned up (`$?` 130 / 143), after
    the exit handlers (a local Ray instance's shutdown) have run."""
    interrupt.end_at_once_on_signals()
    from .main import main

    code = main()
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        import atexit
        import os

        for sig in interrupt.STOP_SIGNALS:  # the command is stopped already: a later
            signal.signal(sig, signal.SIG_IGN)  # signal must not cut the exit handlers short
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(code - 128, signal.SIG_DFL)
        os.kill(os.getpid(), code - 128)
    sys.exit(code)
