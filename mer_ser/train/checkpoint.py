"""Checkpoints: a pure dict of a model's state (Orbax) plus the resolved config as JSON.

Layout of a checkpoint folder::

    <path>/state/        Orbax StandardCheckpointer output (arrays, no pickle)
    <path>/config.json   the resolved configuration that produced the state

The folder is assembled under a temporary name beside ``path`` and moved into place with one
``os.replace``, so a reader finds either the previous checkpoint or the complete new one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from mer_ser._io import write_json
from mer_ser.errors import MerSerError


class CheckpointError(MerSerError):
    """A checkpoint folder is missing or incomplete."""


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
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
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
        CheckpointError: the folder, its state or its config is missing.
    """
    path = Path(path).absolute()
    if not (path / "state").is_dir() or not (path / "config.json").is_file():
        raise CheckpointError(f"{path}: not a complete mer_ser checkpoint (state/ and config.json)")
    with ocp.StandardCheckpointer() as ckptr:
        target = None if like is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        state = ckptr.restore(path / "state", target)
    return state, json.loads((path / "config.json").read_text())
