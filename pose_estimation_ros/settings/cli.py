"""The flags of `run`, `bag`, `bench`, `demo` and `eval`, made from the settings table: one
flag per setting the command takes, its help the setting's help with the default appended, and
the values checked by the rules the node's parameters are checked by."""
from __future__ import annotations

import argparse
from typing import Any

from .build import check_all
from .setting import Setting
from .table import for_command


def add_settings(parser: argparse.ArgumentParser, command: str) -> None:
    """One flag for each setting of `command`."""
    for s in for_command(command):
        default = s.default_for(command)
        kwargs: dict[str, Any] = {"dest": s.dest, "help": help_text(s, command)}
        if isinstance(s.default, bool):
            kwargs["action"] = "store_false" if s.default else "store_true"
        elif s.repeat:
            kwargs |= {"action": "append", "default": [], "metavar": s.metavar}
        else:
            kwargs |= {"default": default, "metavar": s.metavar}
            if s.choices:
                kwargs["choices"] = s.choices
            elif s.default is not None:
                kwargs["type"] = type(s.default)
            if s.required:
                kwargs["required"] = True
        parser.add_argument(s.cli_flag, **kwargs)


def help_text(s: Setting, command: str) -> str:
    """The setting's help; a `--no-` flag says what it turns off; the default appended."""
    if isinstance(s.default, bool):
        return f"off: {s.help}" if s.default else s.help
    default = s.default_for(command)
    if default is None or s.required or s.repeat:
        return s.help
    return f"{s.help} (default: %(default)s)"


def values_of(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The settings' values of a parsed command line, by setting name."""
    return {s.name: getattr(args, s.dest) for s in for_command(command)}


def check_flags(values: dict[str, Any], command: str) -> None:
    """ValueError naming the flag, for a value the node would refuse as a parameter (each
    flag on its own, then the rules between them)."""
    problems = [reason for s in for_command(command)
                if (v := values.get(s.name)) is not None and (reason := s.check(v, s.cli_flag))]
    if not problems:
        problems = check_all({k: v for k, v in values.items() if v is not None})
    if problems:
        raise ValueError("; ".join(problems))


def refuse_unused(values: dict[str, Any], command: str, argv: list[str]) -> None:
    """ValueError for a flag given on the command line (`argv`) that the chosen pipeline does
    not use (`--pose` with `--pipeline blazepose`): silently ignoring it would mislead."""
    pipeline = values.get("pipeline")
    for s in for_command(command):
        given = any(a == s.cli_flag or a.startswith(s.cli_flag + "=") for a in argv)
        if given and s.pipelines and pipeline is not None and pipeline not in s.pipelines:
            takes = " or ".join(f"--pipeline {p}" for p in s.pipelines)
            raise ValueError(f"{s.cli_flag} does not apply to --pipeline {pipeline}: only "
                             f"{takes} uses it")
