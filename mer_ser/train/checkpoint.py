"""Checkpoints: a pure dict of a model's state as checksummed ``.npz`` plus the config as JSON.

Layout of a checkpoint folder::

    <path>/state.npz     the state's arrays under "/"-joined key paths (no pickle), behind a
                         SHA-256 header (:func:`mer_ser._io.write_checked`)
    <path>/config.json   the resolved configuration that produced the state

The same array format (:func:`flatten`, :func:`arrays_to_bytes`) stores the training-job cache of
:mod:`mer_ser.experiments.jobs`, so a trained job's parameters and a checkpoint are read the same
way.

The folder is assembled under a temporary name beside ``path``. Replacing a checkpoint takes two
renames (the old folder to ``.<name>.prev``, the new one into place) and the old one is removed
only after the new one is in place, so a writer killed at any moment leaves a complete
checkpoint: :func:`restore` falls back to ``.<name>.prev`` when ``path`` is missing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import warnings
from pathlib import Path

import jax
import numpy as np

from mer_ser._io import fsync_dir, read_checked, write_checked, write_json
from mer_ser.errors import MerSerError


class CheckpointError(MerSerError):
    """A checkpoint folder is missing, incomplete or corrupt (the message names the path)."""


def flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """A nested dict of arrays as ``{"a/b/c": array}`` (keys of any type become strings)."""
    out = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "/"))
        else:
            out[name] = np.asarray(v)
    return out


def unflatten(flat: dict[str, np.ndarray]) -> dict:
    """Inverse of :func:`flatten` (keys come back as strings)."""
    tree: dict = {}
    for name, v in flat.items():
        *path, leaf = name.split("/")
        node = tree
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = v
    return tree


def arrays_to_bytes(flat: dict[str, np.ndarray]) -> bytes:
    """Named arrays as one uncompressed ``.npz`` payload."""
    buf = io.BytesIO()
    np.savez(buf, **flat)
    return buf.getvalue()


def arrays_from_bytes(payload: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`arrays_to_bytes` (pickled objects are refused)."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _prev(path: Path) -> Path:
    return path.with_name(f".{path.name}.prev")


def save(path: str | os.PathLike, state: dict, config: dict) -> Path:
    """Write ``state`` (a pure dict of arrays, e.g. ``nnx.to_pure_dict(...)``) and ``config``.

    Args:
        path: checkpoint folder; replaced if it exists.
        state: nested dict of arrays (stacked along a leading axis for vmapped models).
        config: JSON-ready resolved configuration.

    Returns:
        The checkpoint folder.
    """
    path = Path(path).absolute()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_checked(tmp / "state.npz", arrays_to_bytes(flatten(jax.device_get(state))))
    write_json(tmp / "config.json", config)
    prev = _prev(path)
    if path.exists():
        # A .prev still there belongs to a save killed after its new checkpoint was in place.
        shutil.rmtree(prev, ignore_errors=True)
        os.replace(path, prev)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    shutil.rmtree(prev, ignore_errors=True)
    return path


def _fill(like, flat: dict[str, np.ndarray], where: Path, prefix: str = ""):
    """``like``'s structure (and key types) with the stored arrays, shapes and dtypes checked."""
    out = {}
    for k, v in like.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out[k] = _fill(v, flat, where, name + "/")
            continue
        if name not in flat:
            raise CheckpointError(f"{where}: no array {name!r} (another model's checkpoint?)")
        got, want = flat.pop(name), np.asarray(v)
        if got.shape != want.shape or got.dtype != want.dtype:
            raise CheckpointError(
                f"{where}: {name!r} is {got.dtype}{list(got.shape)}, "
                f"expected {want.dtype}{list(want.shape)}"
            )
        out[k] = got
    return out


def restore(path: str | os.PathLike, like: dict | None = None) -> tuple[dict, dict]:
    """Read a checkpoint written by :func:`save`.

    Args:
        path: checkpoint folder.
        like: a pytree with the expected structure, shapes and dtypes (e.g. a freshly initialised
            state) to restore into; without it the stored structure is returned (string keys).

    Returns:
        ``(state, config)``.

    Raises:
        CheckpointError: the folder, its state or its config is missing, cannot be read
            (a truncated or altered file fails its checksum), or differs from ``like``; the
            message names the path.

    Warns:
        RuntimeWarning: ``path`` is missing and the previous checkpoint a killed :func:`save`
            left behind is restored instead.
    """
    path = Path(path).absolute()
    if not path.exists() and _complete(_prev(path)):
        warnings.warn(
            f"{path}: missing (a save was interrupted); restoring the previous checkpoint "
            f"{_prev(path).name}",
            RuntimeWarning,
            stacklevel=2,
        )
        path = _prev(path)
    if not _complete(path):
        raise CheckpointError(
            f"{path}: not a complete mer_ser checkpoint (state.npz and config.json)"
        )
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path / 'config.json'}: cannot read the config ({e})") from e
    where = path / "state.npz"
    try:
        flat = arrays_from_bytes(read_checked(where))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{where}: cannot restore the checkpoint ({e})") from e
    if like is None:
        return unflatten(flat), config
    state = _fill(like, flat, where)
    if flat:
        raise CheckpointError(f"{where}: arrays {sorted(flat)} are not in the expected state")
    return state, config


def _complete(path: Path) -> bool:
    return (path / "state.npz").is_file() and (path / "config.json").is_file()
