"""Command line: `python -m pose_estimation_ros` / `pose-estimation-ros`."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from ..core import interrupt
from ..models.store import ModelError
from ..pipelines.registry import PIPELINES
from ..settings.cli import add_settings, check_flags, refuse_unused, values_of
from ..vision.imaging import ImageError
from . import commands

#: the commands whose flags come from the settings table, and their help lines
TABLE_COMMANDS = {
    "run": "annotate an image, a folder of images, an image sequence or a video",
    "demo": "run the default pipeline on a sample photo",
    "eval": "COCO OKS AP and PCK@0.2 on keypoint annotations",
    "bench": "per-stage timings on a video",
    "bag": "process recorded bags offline, every frame, into bags, tables and sidecars",
}
_POSITIONAL = {
    "run": ("input", {}),
    "demo": ("input", {"nargs": "?", "help": "an image (default: a bundled sample photo)"}),
    "bench": ("video", {}),
    "bag": ("inputs", {"nargs": "+", "metavar": "INPUT", "help": "rosbag2 folders (sqlite3 or "
                       "MCAP), ROS 1 .bag files, or folders of bags"}),
}


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line and where to read more, not the whole usage (40 lines for
    `run`, which buried the line that matters)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n(`{self.prog} --help` lists the "
                     "options)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="pose-estimation-ros", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True)
    for command, text in TABLE_COMMANDS.items():
        p = sub.add_parser(command, help=text)
        if command in _POSITIONAL:
            name, kwargs = _POSITIONAL[command]
            p.add_argument(name, **kwargs)
        add_settings(p, command)
        p.set_defaults(func=getattr(commands, f"cmd_{command}"))
    p = sub.add_parser("models", help="list, verify (sha256), prepare or import model files")
    p.add_argument("action", choices=("list", "verify", "prepare", "import"))
    p.add_argument("ids", nargs="*", help="model ids (default: all); for import: the folder")
    p.add_argument("--download-only", metavar="DIR",
                   help="prepare: write the models' verified source files into DIR instead "
                        "of building them here (for `models import DIR` on a machine without "
                        "internet)")
    p.add_argument("--pipeline", action="append", default=[], choices=PIPELINES,
                   help="the models of this pipeline with its default models (repeatable)")
    p.add_argument("--all", action="store_true", help="every model (as with no ids)")
    p.set_defaults(func=commands.cmd_models)
    return ap


def main(argv: list[str] | None = None) -> int:
    """The command's exit code: 0 done, 2 an error (one `error:` line), 130 / 143 stopped by
    Ctrl-C / SIGTERM (which do the same: `bags.local`)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    main_thread = threading.current_thread() is threading.main_thread()
    before = {sig: signal.getsignal(sig) for sig in interrupt.STOP_SIGNALS}
    interrupt.received.clear()
    if main_thread:
        interrupt.interrupt_on_signals()
    try:
        if args.command in TABLE_COMMANDS:
            args.values = values_of(args, args.command)
            check_flags(args.values, args.command)
            refuse_unused(args.values, args.command, sys.argv[1:] if argv is None else argv)
        return args.func(args)
    except (ModelError, ImageError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        name = interrupt.received[0] if interrupt.received else "SIGINT"
        print(f"stopped by {name}: what was not finished is removed", file=sys.stderr)
        return 128 + signal.Signals[name].value
    finally:
        if main_thread:
            for sig, handler in before.items():
                signal.signal(sig, handler)
