"""Atomic file writes and content hashing shared by the corpus builder, the feature cache and plots.

Every file the package writes goes through :func:`atomic_write`: the bytes land in a temporary file
in the same folder and are moved into place with :func:`os.replace`, so a reader sees either the old
file or the complete new one, never a half-written file, even if the process is killed. The file
and then its folder are synced, so the new name survives a power cut too. A temporary file left by
a killed writer is removed by the next write into the same folder (once per folder and process;
only files whose writer, named in the temporary name by host and process id, is gone).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm.auto import tqdm


def repo_root() -> Path:
    """The project folder holding ``notebooks/`` (the editable install's source tree)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            f"{root}: no notebooks/ folder; run from a source checkout installed with "
            "`pip install -e .`"
        )
    return root


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    r"""Open a temporary file next to ``path`` and move it onto ``path`` when the block succeeds.

    Args:
        path: destination file; parent folders are created.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8, ``\\n`` line endings).

    Yields:
        The open temporary file. If the block raises, the temporary file is removed and ``path`` is
        left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path.parent)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{_HOST}-{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: str | os.PathLike) -> None:
    """Sync a folder's entries (a rename into it is durable after this)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_HOST = socket.gethostname().replace(".", "_") or "host"
_SWEPT: set[tuple[int, str]] = set()


def remove_orphans(folder: str | os.PathLike) -> list[Path]:
    """Delete temporary files that killed writers left in ``folder``; returns what was removed.

    A temporary file is ``.<name>.<host>-<pid>.<random>.tmp``; it is an orphan when ``host`` is
    this machine and process ``pid`` no longer runs. Each process sweeps a folder once.
    """
    folder = Path(folder)
    key = (os.getpid(), str(folder.resolve()))
    if key in _SWEPT:
        return []
    _SWEPT.add(key)
    removed = []
    with contextlib.suppress(FileNotFoundError, PermissionError):
        for entry in os.scandir(folder):
            if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                continue
            pid = _orphan_pid(entry.name)
            if pid is not None and not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _orphan_pid(name: str) -> int | None:
    """The writer's pid in a temporary file name written on this host, else ``None``."""
    for part in name.split("."):
        host, _, pid = part.rpartition("-")
        if host == _HOST and pid.isdigit():
            return int(pid)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON atomically (equal objects, equal bytes)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if isinstance(obj, tuple | set | frozenset):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


_CHECKED_MAGIC = b"MERSER1\n"


def write_checked(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` atomically behind a header holding its SHA-256 (:func:`read_checked`)."""
    digest = hashlib.sha256(payload).hexdigest().encode()
    with atomic_write(path) as f:
        f.write(_CHECKED_MAGIC + digest + b"\n" + payload)


def read_checked(path: str | os.PathLike) -> bytes:
    """The payload written by :func:`write_checked`.

    Raises:
        ValueError: the header is missing or the checksum does not match (a truncated or
            altered file); the message names the file.
    """
    blob = Path(path).read_bytes()
    if not blob.startswith(_CHECKED_MAGIC):
        raise ValueError(f"{path}: bad header")
    n = len(_CHECKED_MAGIC)
    digest, payload = blob[n : n + 64], blob[n + 65 :]
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise ValueError(f"{path}: checksum mismatch")
    return payload


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hex SHA-256 of the canonical JSON form of ``obj`` (sorted keys), e.g. a parameter dict."""
    blob = json.dumps(obj, sort_keys=True, default=_json_default).encode()
    return hashlib.sha256(blob).hexdigest()


def sha256_arrays(names, arrays) -> str:
    """Hex SHA-256 of some strings and arrays (dtype, shape and bytes of each; ``None`` skipped).

    The cache key of a data set: equal names and equal arrays give equal keys.
    """
    h = hashlib.sha256()
    for part in names:
        h.update(str(part).encode() + b"\0")
    for a in arrays:
        if a is not None:
            h.update(str((a.dtype, a.shape)).encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def process_context(*, clean: bool = False):
    """A multiprocessing context for the package's worker pools.

    ``fork`` where it is safe: workers start fast and scripts need no ``if __name__ ==
    "__main__"`` guard. ``forkserver`` when ``clean`` is asked for or JAX is loaded in this
    process (forking a multithreaded JAX runtime can deadlock; JAX warns about it), with the
    usual multiprocessing rule that scripts then need the main guard.
    """
    methods = mp.get_all_start_methods()
    if "fork" in methods and not clean and "jax" not in sys.modules:
        return mp.get_context("fork")
    if "forkserver" not in methods:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # The server imports the workers' modules once; each worker then forks from it quickly.
    ctx.set_forkserver_preload(["mer_ser.corpora.synthetic.build", "mer_ser.features.extract"])
    return ctx


def parallel_map(
    fn,
    items: list,
    *,
    n_jobs: int | None,
    desc: str,
    unit: str,
    progress: bool = True,
    clean: bool = False,
    fresh_workers: bool = False,
):
    """Apply ``fn`` to ``items`` in worker processes with a progress bar; yield results as they end.

    Args:
        fn: a picklable module-level function.
        items: its arguments, one per call.
        n_jobs: worker processes (default all cores; 1 runs in this process unless
            ``fresh_workers``).
        desc: progress-bar label.
        unit: progress-bar unit.
        progress: show the bar (on standard error).
        clean: start workers from a clean forkserver (see :func:`process_context`).
        fresh_workers: one new worker process per item (``maxtasksperchild=1``).

    Yields:
        ``fn(item)`` in completion order.
    """
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(items) or 1))
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress, file=sys.stderr) as bar:
        if not items:
            return
        if n_jobs == 1 and not fresh_workers:
            for item in items:
                yield fn(item)
                bar.update()
            return
        ctx = process_context(clean=clean)
        with ctx.Pool(n_jobs, maxtasksperchild=1 if fresh_workers else None) as pool:
            for result in pool.imap_unordered(fn, items):
                yield result
                bar.update()
