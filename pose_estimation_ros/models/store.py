"""Finding, checking and building model files.

Files are looked up on a search path: the folders in `POSE_ESTIMATION_MODELS` (separated by
`os.pathsep`) first, then the per-user cache (`POSE_ESTIMATION_CACHE`, else
`$XDG_CACHE_HOME/pose_estimation_ros/models`, else `~/.cache/pose_estimation_ros/models`).
Downloads (`fetch.py`, which builds on this module) and converted files go to the cache;
nothing here touches the network.

A file is trusted by its sha256: the official digest of a distributed ONNX file (or of another
known export, `also_sha256`), of a converted model's sources, or, for a model whose publisher
gives no digest, the one recorded when it was downloaded (`<file>.json`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .specs import ModelSpec, get_spec

log = logging.getLogger(__name__)
FIX = "pose-estimation-ros models prepare"
DOWNLOAD_ONLY = "pose-estimation-ros models prepare {ids} --download-only DIR"
IMPORT = "pose-estimation-ros models import DIR"


class ModelError(RuntimeError):
    """A model file is missing, corrupt or cannot be built; the message says how to fix it."""


def cache_dir() -> Path:
    if os.environ.get("POSE_ESTIMATION_CACHE"):
        return Path(os.environ["POSE_ESTIMATION_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "pose_estimation_ros" / "models"


def search_path() -> list[Path]:
    extra = os.environ.get("POSE_ESTIMATION_MODELS", "")
    dirs = [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    return dirs + [cache_dir()]


def find_file(name: str) -> Path | None:
    for folder in search_path():
        path = folder / name
        if path.is_file():
            return path
    return None


def no_follow(path, flags: int) -> int:
    """An `open` opener that never follows a symbolic link at `path`."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)


def new_file(folder: Path, name: str) -> Path:
    """A new empty file in `folder` for `name` to be written into and renamed from: a name no
    one can have planted a link at (created exclusively, `tempfile.mkstemp`)."""
    fd, path = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    os.close(fd)
    return Path(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _searched() -> str:
    return os.pathsep.join(str(p) for p in search_path())


def accepted_digests(spec: ModelSpec) -> tuple[str, ...]:
    """The digests `spec.file` may have (empty: no official one)."""
    return (spec.sha256, *spec.also_sha256) if spec.sha256 else ()


def check_sha(spec: ModelSpec, path: Path, expected: str | tuple[str, ...] | None) -> None:
    """ModelError naming both digests unless `path` has one of `expected`."""
    accepted = (expected,) if isinstance(expected, str) else tuple(expected or ())
    if not accepted:
        return
    actual = sha256_of(path)
    if actual not in accepted:
        raise ModelError(
            f"model {spec.id!r}: {path} is corrupt (sha256 {actual}, expected "
            f"{' or '.join(accepted)}). Delete it and run `{FIX} {spec.id}`.")


def record_path(path: Path) -> Path:
    """The JSON beside a converted or downloaded file: how it was made, and its sha256."""
    return path.with_name(path.name + ".json")


def _record(path: Path) -> dict:
    try:
        record = json.loads(record_path(path).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def converter_version(spec: ModelSpec) -> str:
    if spec.convert_from.endswith(".json"):
        from .convert.tfjs import CONVERTER_VERSION
    else:
        from .convert.tflite import CONVERTER_VERSION
    return CONVERTER_VERSION


def source_files(spec: ModelSpec) -> list[tuple[str, str]]:
    """(name, sha256) of every file a converted model is built from, the main one first."""
    return [(spec.convert_from, spec.source_sha256), *spec.companions]


def sources(spec: ModelSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(file name, accepted digests) of what `spec` is made from: its ONNX file where it is
    distributed as one (no digests: none official, the one recorded at download holds), else
    the files it is converted from."""
    if spec.convert_from is None:
        return [(spec.file, accepted_digests(spec))]
    return [(name, (sha,)) for name, sha in source_files(spec)]


def offline_route(spec: ModelSpec) -> str:
    """How to get `spec` onto a machine without internet (`models.offline`)."""
    files = ", ".join(f"{name} (sha256 {digests[0] if digests else 'not pinned'})"
                      for name, digests in sources(spec))
    return (f"Without internet here: on a machine with it run "
            f"`{DOWNLOAD_ONLY.format(ids=spec.id)}`, "
            f"copy DIR here and run `{IMPORT}`; or place {files} in {cache_dir()}.")


def _converted_ok(spec: ModelSpec, onnx_path: Path) -> bool:
    """A converted file is valid when its record names our sources and converter version and
    the file still has the digest recorded at conversion time."""
    meta = _record(onnx_path)
    return (meta.get("source_sha256") == spec.source_sha256
            and meta.get("companions", []) == [list(c) for c in spec.companions]
            and meta.get("converter_version") == converter_version(spec)
            and meta.get("outputs") == _kept_outputs(spec)
            and meta.get("sha256") == sha256_of(onnx_path))


def _kept_outputs(spec: ModelSpec) -> list[str] | None:
    """The outputs a pruned build keeps (None: the whole graph)."""
    return [name for _, name in spec.outputs] if spec.prune else None


def find_sources(spec: ModelSpec) -> Path | None:
    """The main source file from the first folder of the search path that holds it with its
    companions, verified; None when no folder holds it. A wrong digest is a ModelError, and so
    is a main file whose companions are nowhere beside it."""
    incomplete = None
    for folder in search_path():
        if not (folder / spec.convert_from).is_file():
            continue
        missing = [name for name, _ in source_files(spec) if not (folder / name).is_file()]
        if missing:
            incomplete = incomplete or ModelError(
                f"model {spec.id!r}: {', '.join(missing)} missing beside "
                f"{folder / spec.convert_from}; run `{FIX} {spec.id}` or put it there")
            continue
        for name, sha in source_files(spec):
            check_sha(spec, folder / name, sha)
        return folder / spec.convert_from
    if incomplete is not None:
        raise incomplete
    return None


def convert_model(spec: ModelSpec, source: Path) -> Path:
    """Build `spec.file` in the cache from its verified source (TFLite or TF.js)."""
    out = cache_dir() / spec.file
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if spec.convert_from.endswith(".json"):
            from .convert.tfjs import convert as convert_tfjs

            convert_tfjs(source, out)
        else:
            from .convert.tflite import convert as convert_tflite

            convert_tflite(source, out, dynamic_batch=spec.dynamic_batch,
                           keep_outputs=_kept_outputs(spec))
    except OSError as exc:
        raise ModelError(f"model {spec.id!r}: cannot write {out} ({exc}); set "
                         "POSE_ESTIMATION_CACHE to a writable folder") from exc
    meta = {"model": spec.id, "source": str(source), "source_sha256": spec.source_sha256,
            "companions": [list(c) for c in spec.companions],
            "converter_version": converter_version(spec), "outputs": _kept_outputs(spec),
            "sha256": sha256_of(out)}
    record_path(out).write_text(json.dumps(meta, indent=1) + "\n")
    log.info("converted %s -> %s", source, out)
    return out


def check_source(spec: ModelSpec, path: Path, digests: tuple[str, ...]) -> None:
    """ModelError unless `path` has one of `digests`, or, where there is no official one, the
    digest recorded beside it at download (a file with neither is taken as it is)."""
    if digests:
        check_sha(spec, path, digests)
    else:
        _check_unpinned(spec, path)


def _check_unpinned(spec: ModelSpec, path: Path) -> None:
    """A file without an official digest: checked against the digest recorded at download."""
    recorded = _record(path).get("sha256")
    if recorded:
        check_sha(spec, path, recorded)


def resolve(model_id: str) -> Path:
    """Path of a verified ONNX file for `model_id`.

    A converted model is built on first use when its verified sources are on the search path
    (a local, second-long step); nothing is downloaded here.
    """
    spec = get_spec(model_id)
    for folder in search_path():
        path = folder / spec.file
        if not path.is_file():
            continue
        if spec.convert_from is None:
            check_source(spec, path, accepted_digests(spec))
            return path
        if _converted_ok(spec, path):
            return path
        log.warning("model %s: %s is stale or corrupt; rebuilding it", spec.id, path)
    if spec.convert_from is not None:
        source = find_sources(spec)
        if source is not None:
            return convert_model(spec, source)
        wanted = f"{spec.file} or its sources " + ", ".join(
            f"{name} (sha256 {sha})" for name, sha in source_files(spec))
    else:
        wanted = f"{spec.file} (sha256 {spec.sha256 or 'not pinned'})"
    raise ModelError(
        f"model {spec.id!r} not found: looked for {wanted} in {_searched()}. "
        f"Run `{FIX} {spec.id}` (downloads from {download_origin(spec)}), or point "
        f"POSE_ESTIMATION_MODELS at a folder holding it. {offline_route(spec)}")


def load(model_id: str) -> tuple[Path, bytes]:
    """The verified ONNX file of `model_id` and its bytes, read once and checked as read: a
    file swapped between `resolve`'s check and the loading is refused, never loaded (the
    runtime builds its session from these bytes, not from the path again)."""
    spec = get_spec(model_id)
    try:
        path = resolve(model_id)
        data = path.read_bytes()
    except OSError as exc:  # a model folder this user cannot read
        raise ModelError(
            f"model {spec.id!r}: cannot read {exc.filename or spec.file} ({exc.strerror}); "
            f"make it readable by this user, or point POSE_ESTIMATION_MODELS at a folder "
            f"holding {spec.file} (searched: {_searched()})") from exc
    if spec.convert_from is not None:
        expected = (_record(path).get("sha256"),)
    elif spec.sha256:
        expected = accepted_digests(spec)
    else:
        expected = (_record(path).get("sha256"),) if _record(path).get("sha256") else ()
    if expected and hashlib.sha256(data).hexdigest() not in expected:
        raise ModelError(f"model {spec.id!r}: {path} changed after it was checked (now sha256 "
                         f"{hashlib.sha256(data).hexdigest()}, expected {' or '.join(expected)})"
                         "; nothing was loaded from it. Is another process writing the model "
                         "folder?")
    return path, data


def download_origin(spec: ModelSpec) -> str:
    return spec.source.url or spec.source.package


@dataclass
class VerifyRow:
    model_id: str
    status: str  # "ok", "missing", "corrupt", "unpinned", "stale" (rebuilt on first use),
    #              "unreadable"
    path: str
    detail: str


def verify(model_id: str) -> VerifyRow:
    spec = get_spec(model_id)
    try:
        return _verify(spec)
    except OSError as exc:
        return VerifyRow(spec.id, "unreadable", str(exc.filename or ""),
                         f"{exc.strerror}: make it readable by this user, or point "
                         "POSE_ESTIMATION_MODELS elsewhere")


def _verify(spec: ModelSpec) -> VerifyRow:
    if spec.convert_from is not None:
        return _verify_converted(spec)
    path = find_file(spec.file)
    if path is None:
        pin = "" if spec.sha256 else "; no official sha256 is known: the download's is " \
                                     "recorded and checked afterwards"
        return VerifyRow(spec.id, "missing", "", f"run `{FIX} {spec.id}`{pin}")
    actual = sha256_of(path)
    if spec.sha256 is None:
        recorded = _record(path).get("sha256")
        if recorded and recorded != actual:
            return VerifyRow(spec.id, "corrupt", str(path), f"sha256 {actual} differs from "
                             f"{recorded}, recorded when it was downloaded")
        how = "recorded at download, checked" if recorded else "placed by hand, nothing to " \
                                                              "check it against"
        return VerifyRow(spec.id, "unpinned", str(path),
                         f"no official sha256 known; file has {actual} ({how})")
    if actual in accepted_digests(spec):
        which = "" if actual == spec.sha256 else " (another export of the same model)"
        return VerifyRow(spec.id, "ok", str(path), "sha256 verified" + which)
    return VerifyRow(spec.id, "corrupt", str(path),
                     f"sha256 {actual} differs from {' or '.join(accepted_digests(spec))}")


def _verify_converted(spec: ModelSpec) -> VerifyRow:
    onnx = next((p for p in (d / spec.file for d in search_path()) if p.is_file()), None)
    try:
        src = find_sources(spec)
    except ModelError as exc:
        return VerifyRow(spec.id, "corrupt", "", str(exc))
    if src is None and onnx is None:
        return VerifyRow(spec.id, "missing", "", f"run `{FIX} {spec.id}`")
    if onnx is not None and not _converted_ok(spec, onnx):
        if _record(onnx).get("sha256") == sha256_of(onnx):  # another source or converter
            return VerifyRow(spec.id, "stale", str(onnx), "built by another converter "
                             "version or from other sources: rebuilt on first use")
        return VerifyRow(spec.id, "corrupt", str(onnx),
                         f"does not match its conversion record; run `{FIX} {spec.id}`")
    return VerifyRow(spec.id, "ok", str(onnx or src), "source sha256 verified" +
                     ("" if onnx else "; ONNX is built on first use"))
