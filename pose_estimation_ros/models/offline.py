"""Models for a robot without internet: on a connected machine `models prepare --download-only
DIR` writes the verified source files of the chosen models into DIR (downloaded, or copied from
this machine's search path); on the robot `models import DIR` checks every file's sha256,
copies them into the cache and builds the converted models there. Nothing else changes: the
robot's models are then exactly what `models prepare` would have made."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import fetch
from .specs import MODELS, ModelSpec, get_spec
from .store import (
    DOWNLOAD_ONLY,
    ModelError,
    cache_dir,
    check_source,
    find_file,
    new_file,
    record_path,
    resolve,
    sha256_of,
    sources,
)


def _good(spec: ModelSpec, path: Path, digests: tuple[str, ...]) -> bool:
    try:
        check_source(spec, path, digests)
    except ModelError:
        return False
    return True


def _copy(src: Path, folder: Path) -> None:
    """`src` (and its download record) into `folder`, written under a fresh name, then moved."""
    for path in (src, record_path(src)):
        if path.is_file():
            part = new_file(folder, path.name)
            shutil.copyfile(path, part)
            part.replace(folder / path.name)


def download_only(model_ids: list[str], folder: Path) -> list[str]:
    """The verified source files of `model_ids` into `folder`; one line per model."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    with tempfile.TemporaryDirectory(prefix="pose_estimation_fetch_") as tmp:
        for model_id in dict.fromkeys(model_ids):
            spec = get_spec(model_id)
            missing = []
            for name, digests in sources(spec):
                if (folder / name).is_file() and _good(spec, folder / name, digests):
                    continue
                here = find_file(name)  # this machine has it already: no download
                if here is not None and _good(spec, here, digests):
                    _copy(here, folder)
                else:
                    missing.append((name, digests))
            if missing:
                fetch.fetch(spec, missing, Path(tmp), folder)
            lines.append(f"{model_id:<31} {', '.join(n for n, _ in sources(spec))}")
    return lines


def import_folder(folder: Path) -> list[tuple[str, Path | ModelError]]:
    """Every model whose source files are all in `folder`: checked, copied into the cache,
    built; (model id, its file or the error) each."""
    if not folder.is_dir():
        raise ModelError(f"{folder} is not a folder (make one with "
                         f"`{DOWNLOAD_ONLY.format(ids='<model ids>')}`)")
    results: list[tuple[str, Path | ModelError]] = []
    checked: dict[str, str] = {}  # file name → its digest, once per file (variants share one)
    cache = cache_dir()
    for spec in MODELS.values():
        files = sources(spec)
        if not all((folder / name).is_file() for name, _ in files):
            continue
        try:
            for name, digests in files:
                if name not in checked:
                    check_source(spec, folder / name, digests)
                    checked[name] = sha256_of(folder / name)
            cache.mkdir(parents=True, exist_ok=True)
            for name, _ in files:
                here = cache / name
                if not here.is_file() or sha256_of(here) != checked[name]:
                    _copy(folder / name, cache)
            results.append((spec.id, resolve(spec.id)))
        except ModelError as exc:
            results.append((spec.id, exc))
    if not results:
        raise ModelError(f"{folder} holds no model's source files (make it with "
                         f"`{DOWNLOAD_ONLY.format(ids='<model ids>')}` on a machine with "
                         "internet)")
    return results

