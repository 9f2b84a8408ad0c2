"""One setting: its name, default, range and help, where it is offered (a node parameter, the
flags of `run`, `bag`, `bench`, `demo`, `eval`), and its checks. `settings.table` lists them
all; the node's parameters, the command line and the frame step's configuration are built from
that list, so a setting exists once with one default and one help text."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: the commands whose flags come from the table
COMMANDS = ("run", "bag", "bench", "demo", "eval")
_KIND_NAMES = {bool: "boolean", int: "integer", float: "float", str: "string"}


@dataclass(frozen=True)
class Setting:
    name: str  # the ROS parameter name, and the CLI flag's (`det_score` → `--det-score`)
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    #: a node parameter whose change needs a restart (models, topics)
    read_only: bool = False
    #: a node parameter (False: only a command line flag)
    node: bool = True
    #: the commands that take it as a flag
    commands: tuple[str, ...] = ()
    #: the flag where it is not `--<name>` (`--no-<name>` for a boolean that defaults to true)
    flag: str = ""
    metavar: str | None = None
    required: bool = False
    #: a command's own default where its protocol needs another (`eval`'s COCO protocol)
    command_defaults: dict = field(default_factory=dict)
    #: the flag may be given several times (a list)
    repeat: bool = False
    #: the pipelines that use it (empty: every one); a flag given for another is refused
    pipelines: tuple[str, ...] = ()

    @property
    def cli_flag(self) -> str:
        if self.flag:
            return self.flag
        stem = self.name.replace("_", "-").replace(".", "-")
        return f"--no-{stem}" if self.default is True else f"--{stem}"

    @property
    def dest(self) -> str:
        """The argparse attribute."""
        return self.name.replace(".", "_")

    def default_for(self, command: str) -> Any:
        return self.command_defaults.get(command, self.default)

    def coerce(self, value: Any) -> Any:
        """An integer given for a float setting (`det_score: 1` in YAML, `ros2 param set …
        det_score 1`) is that float; everything else is returned as it is."""
        if isinstance(self.default, float) and isinstance(value, int) \
                and not isinstance(value, bool):
            return float(value)
        return value

    def check(self, value: Any, label: str = "") -> str | None:
        """None when `value` is acceptable, else the reason it is not, naming the setting
        (`label`: as the user gave it, e.g. the flag), the value and what is allowed."""
        label = label or self.name
        if value is None and self.default is None:
            return None
        if self.repeat:  # the values themselves are parsed by their user
            return None if isinstance(value, list) and all(isinstance(v, str) for v in value) \
                else f"{label} must be given as text, not {value!r}"
        kind = str if self.default is None else type(self.default)
        value = self.coerce(value)
        if type(value) is not kind:
            name = _KIND_NAMES[kind]
            return (f"{label} must be {'an' if name[0] in 'aeiou' else 'a'} {name}, not "
                    f"{value!r} ({_KIND_NAMES.get(type(value), type(value).__name__)})")
        if kind is float and not math.isfinite(value):
            return f"{label} must be a finite number, not {value!r}"
        if self.choices is not None and value not in self.choices:
            return f"{label} must be one of {', '.join(map(str, self.choices))}, not {value!r}"
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            return f"{label} must be in [{self.min}, {self.max}], not {value!r}"
        return None

    def range_text(self) -> str:
        if self.min is not None:
            return f"{self.min} – {self.max}"
        if self.choices:
            return ", ".join(map(str, self.choices))
        return "true, false" if isinstance(self.default, bool) else "a path or text"
