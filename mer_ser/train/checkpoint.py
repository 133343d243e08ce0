"""Checkpoints: a pure dict of a model's state (Orbax) plus the resolved config as JSON.

Layout of a checkpoint folder::

    <path>/state/        Orbax StandardCheckpointer output (arrays, no pickle)
    <path>/config.json   the resolved configuration that produced the state

The folder is assembled under a temporary name beside ``path``. Replacing a checkpoint takes two
renames (the old folder to ``.<name>.prev``, the new one into place) and the old one is removed
only after the new one is in place, so a writer killed at any moment leaves a complete
checkpoint: :func:`restore` falls back to ``.<name>.prev`` when ``path`` is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from mer_ser._io import fsync_dir, write_json
from mer_ser.errors import MerSerError


class CheckpointError(MerSerError):
    """A checkpoint folder is missing, incomplete or corrupt (the message names the path)."""


def _prev(path: Path) -> Path:
    return path.with_name(f".{path.name}.prev")


def save(path: str | os.PathLike, state: dict, config: dict) -> Path:
    """Write ``state`` (a pure dict of arrays, e.g. ``nnx.to_pure_dict(...)``) and ``config``.

    Args:
        path: checkpoint folder; replaced if it exists.
        state: pytree of arrays (stacked along a leading axis for vmapped models).
        config: JSON-ready resolved configuration.

    Returns:
        The checkpoint folder.
    """
    path = Path(path).absolute()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with ocp.StandardCheckpointer() as ckptr:
        ckptr.save(tmp / "state", jax.device_get(state))
        ckptr.wait_until_finished()
    write_json(tmp / "config.json", config)
    prev = _prev(path)
    if path.exists():
        # A .prev left by an earlier kill after its new checkpoint was in place is stale.
        shutil.rmtree(prev, ignore_errors=True)
        os.replace(path, prev)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    shutil.rmtree(prev, ignore_errors=True)
    return path


def restore(path: str | os.PathLike, like: dict | None = None) -> tuple[dict, dict]:
    """Read a checkpoint written by :func:`save`.

    Args:
        path: checkpoint folder.
        like: a pytree with the expected structure, shapes and dtypes (e.g. a freshly initialised
            state) to restore into; without it Orbax' stored metadata is used.

    Returns:
        ``(state, config)``.

    Raises:
        CheckpointError: the folder, its state or its config is missing, or cannot be read
            (corrupt files, another structure than ``like``); the message names the path.

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
        raise CheckpointError(f"{path}: not a complete mer_ser checkpoint (state/ and config.json)")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path / 'config.json'}: cannot read the config ({e})") from e
    try:
        with ocp.StandardCheckpointer() as ckptr:
            target = None if like is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
            state = ckptr.restore(path / "state", target)
    except Exception as e:  # Orbax and tensorstore raise many types for damaged checkpoints
        raise CheckpointError(
            f"{path / 'state'}: cannot restore the checkpoint ({type(e).__name__}: {e})"
        ) from e
    return state, config


def _complete(path: Path) -> bool:
    return (path / "state").is_dir() and (path / "config.json").is_file()
