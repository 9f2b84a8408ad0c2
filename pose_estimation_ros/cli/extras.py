"""Optional parts of the install: a command that needs one says which extra to install,
instead of an ImportError traceback."""
from __future__ import annotations

import importlib.util

#: extra -> (module it provides, what needs it)
EXTRAS = {
    "bags": ("rosbags", "`bag` (reading and writing bags)"),
    "eval": ("pycocotools", "`eval` (COCO OKS AP)"),
    "ray": ("ray", "`bag --backend ray`"),
}


class MissingExtra(ValueError):
    """An optional dependency is not installed; the message names the extra."""


def require(extra: str) -> None:
    module, what = EXTRAS[extra]
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(f"{what} needs {module}, which is not installed: "
                           f'pip install "pose_estimation_ros[{extra}]"')
