"""Protocol sweeps: a grid of work units, run in-process or on a Dask cluster, results on disk.

A **unit** is one task applied to one resolved configuration (a JSON-able dict): one condition
of the continuous track, one hyper-parameter set, one seed. Inside a unit, trials and folds stay
``vmap`` axes of one compiled program (the engine's own batching); units are what a cluster
spreads over workers.

The **store** is a folder: ``units/<key>.json`` holds each unit's task and resolved
configuration (written before it runs), ``results/<key>.parquet`` its result table (written
atomically by whoever ran it, after ``results/<key>.sha256``, its checksum; a result whose bytes
match the checksum means *done*). So

* a rerun skips finished units; a result whose checksum does not match is verified corrupt,
  removed and rerun with a :class:`RerunWarning`; a result that cannot be read (permissions, I/O)
  stops the sweep with an error and is never removed;
* a unit whose worker died is resubmitted by Dask (``retries``) and, having written nothing,
  runs again from the start; a unit that finished twice (its worker died after writing) writes
  the same bytes to the same file, so nothing is lost or duplicated;
* an interrupted sweep resumes with the units it had not finished.

Execution: ``cluster=None`` runs the units one after another in this process;
``cluster="local:N"`` starts a :class:`distributed.LocalCluster` of ``N`` worker processes on
loopback; a ``"tcp://host:port"`` address joins an existing scheduler; a
:class:`distributed.Client` is used as is (e.g. on an HPC machine through dask-jobqueue, see
``docs/sweeps.md``). The same seed gives the same results on every route: units are deterministic
and share nothing but the store.

Tasks are the package's, registered by name (:func:`task`), or any importable function named
``"module:function"``: workers import it themselves, so a user's own task runs on a cluster too.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import itertools
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from mer_ser._io import atomic_write, sha256_json, write_json, write_text
from mer_ser.errors import MerSerError
from mer_ser.experiments import ContinuousTrack, Data, default_jobs_dir

TASKS: dict[str, Callable[[dict], pd.DataFrame]] = {}
#: The configuration keys each task needs (checked for every unit before any runs).
REQUIRED: dict[str, tuple[str, ...]] = {}


class RerunWarning(UserWarning):
    """A unit's stored result was corrupt (or unreadable as a table) and the unit runs again."""


class StoreError(MerSerError, OSError):
    """A sweep store's file cannot be read; nothing was deleted."""


def task(name: str | None = None, *, required: tuple[str, ...] = ()):
    """Mark ``fn(config) -> DataFrame`` as a sweep task needing the config keys ``required``.

    With ``name`` it is registered in :data:`TASKS` under that name (the package's tasks). A task
    in any other importable module needs no registration: give it as ``"module:function"``
    (:func:`resolve_task`), and workers import the module themselves.
    """

    def register(fn):
        fn.sweep_required = tuple(required)
        if name is not None:
            TASKS[name] = fn
            REQUIRED[name] = tuple(required)
        return fn

    return register


def resolve_task(name: str) -> Callable[[dict], pd.DataFrame]:
    """The task called ``name``: a registered one, or ``"module:function"`` imported.

    Raises:
        KeyError: no such task; the message lists the registered ones.
    """
    if name in TASKS:
        return TASKS[name]
    module, sep, attr = name.partition(":")
    fn = None
    if sep and module and attr:
        try:
            fn = getattr(importlib.import_module(module), attr, None)
        except ImportError as e:
            raise KeyError(f"sweep task {name!r}: cannot import {module!r} ({e})") from e
    if not callable(fn):
        raise KeyError(f"unknown sweep task {name!r}; known: {sorted(TASKS)}, or 'module:function'")
    return fn


def required_keys(name: str) -> tuple[str, ...]:
    """The config keys the task ``name`` needs."""
    return tuple(getattr(resolve_task(name), "sweep_required", ()))


@dataclass(frozen=True)
class Unit:
    """One task on one resolved configuration; ``key`` names it in the store."""

    task: str
    config: dict

    @property
    def key(self) -> str:
        """20 hex digits of the SHA-256 of task and configuration."""
        return sha256_json({"task": self.task, "config": self.config})[:20]


def grid(base: dict | None = None, **axes) -> list[dict]:
    """Configurations of the cartesian product of ``axes`` over ``base``.

    ``grid({"profile": "quick"}, condition=["M2M", "S2S"], seed=[0, 1])`` gives four configs,
    the last axis varying fastest.
    """
    if base is not None and not isinstance(base, dict):
        raise ValueError(f"the base settings must be a JSON object, got {base!r}")
    base = dict(base or {})
    for name, values in axes.items():
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(
                f"grid axis {name!r} must be a non-empty list of values, got {values!r} "
                f"(e.g. {{{json.dumps(name)}: [{json.dumps(values)}]}})"
            )
    names = list(axes)
    return [{**base, **dict(zip(names, combo, strict=True))}
            for combo in itertools.product(*(axes[n] for n in names))]  # fmt: skip


class ResultStore:
    """The sweep's folder (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a folder; give the store a folder")

    def result_path(self, unit: Unit) -> Path:
        """Where a unit's result table lives."""
        return self.root / "results" / f"{unit.key}.parquet"

    def config_path(self, unit: Unit) -> Path:
        """Where a unit's resolved configuration lives."""
        return self.root / "units" / f"{unit.key}.json"

    def register(self, unit: Unit) -> None:
        """Write the unit's task and resolved configuration (before it runs)."""
        path = self.config_path(unit)
        if not path.is_file():
            write_json(path, {"task": unit.task, "config": unit.config, "key": unit.key})

    def digest_path(self, unit: Unit) -> Path:
        """Where the SHA-256 of a unit's result file lives (written before the result)."""
        return self.root / "results" / f"{unit.key}.sha256"

    def done(self, unit: Unit) -> bool:
        """Whether the unit's result is on disk and intact (a verified-corrupt one is removed)."""
        return self._load(unit) is not None

    def _load(self, unit: Unit) -> pd.DataFrame | None:
        """The unit's result; ``None`` when missing or verified corrupt (then it is removed).

        Raises:
            StoreError: the result or its checksum cannot be read (nothing is removed).
        """
        path = self.result_path(unit)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StoreError(
                f"{path}: cannot read the stored result ({e}); nothing was deleted"
            ) from e
        try:
            want = self.digest_path(unit).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            want = None
        except (OSError, UnicodeDecodeError) as e:
            raise StoreError(
                f"{self.digest_path(unit)}: cannot read the result's checksum ({e}); nothing was "
                "deleted"
            ) from e
        if want is not None and hashlib.sha256(blob).hexdigest() != want:
            warnings.warn(
                f"{path}: stored result does not match its checksum (corrupt); removing it and "
                f"running unit {unit.key} again",
                RerunWarning,
                stacklevel=3,
            )
            path.unlink(missing_ok=True)
            return None
        try:
            return pd.read_parquet(io.BytesIO(blob))
        except Exception as e:  # bytes from elsewhere without a checksum: set aside, not deleted
            aside = path.with_name(path.name + ".unreadable")
            os.replace(path, aside)
            warnings.warn(
                f"{path}: stored result is not a readable table ({type(e).__name__}); moved to "
                f"{aside.name} and running unit {unit.key} again",
                RerunWarning,
                stacklevel=3,
            )
            return None

    def write(self, unit: Unit, table: pd.DataFrame) -> None:
        """Store a unit's result atomically, checksum first: a half-written one never looks done."""
        buf = io.BytesIO()
        table.to_parquet(buf, index=False)
        payload = buf.getvalue()
        write_text(self.digest_path(unit), hashlib.sha256(payload).hexdigest() + "\n")
        with atomic_write(self.result_path(unit)) as f:
            f.write(payload)

    def read(self, unit: Unit) -> pd.DataFrame:
        """A finished unit's result table.

        Raises:
            FileNotFoundError: the unit has no intact result.
        """
        table = self._load(unit)
        if table is None:
            raise FileNotFoundError(f"{self.result_path(unit)}: unit {unit.key} has no result")
        return table

    def collect(self, units: list[Unit]) -> pd.DataFrame:
        """Every finished unit's table, with ``unit`` (key) and its config as leading columns."""
        parts = []
        for u in units:
            t = self._load(u)  # read once: a missing or corrupt unit is skipped
            if t is None:
                continue
            cfg = {k: (json.dumps(v) if isinstance(v, list | dict) else v)
                   for k, v in u.config.items()}  # fmt: skip
            head = pd.DataFrame({"unit": u.key, **cfg}, index=t.index)
            parts.append(pd.concat([head, t.drop(columns=list(cfg), errors="ignore")], axis=1))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def run_unit(task_name: str, config: dict, root: str) -> str:
    """Run one unit and store its result (a no-op when already done); returns its key.

    This is what a Dask worker executes: the task is looked up by name in the package.
    """
    unit = Unit(task_name, config)
    store = ResultStore(root)
    if store.done(unit):
        return unit.key
    table = resolve_task(task_name)(dict(config))
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"task {task_name!r} returned {type(table).__name__}, not a DataFrame")
    store.write(unit, table)
    return unit.key


def _local_workers(cluster: str) -> int:
    """The ``N`` of ``"local:N"``; a clear error for anything else."""
    text = cluster.split(":", 1)[1]
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"cluster {cluster!r}: local:N needs a positive number of workers N")
    return int(text)


@contextlib.contextmanager
def _client(cluster):
    """A Dask client for ``cluster`` (see :func:`sweep`), closed afterwards if made here."""
    from distributed import Client, LocalCluster

    if isinstance(cluster, Client):
        yield cluster
        return
    if isinstance(cluster, str) and cluster.startswith("local:"):
        n = _local_workers(cluster)
        opts = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1"}
        with LocalCluster(n_workers=n, dashboard_address=None, **opts) as lc, Client(lc) as c:
            yield c
        return
    with Client(cluster) as c:
        yield c


def sweep(task_name: str, configs: list[dict], store: str | os.PathLike | ResultStore, *,
          cluster=None, retries: int = 3, progress: bool = True,
          max_units: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Run every unit of ``task_name`` over ``configs`` that the store does not hold yet.

    Args:
        task_name: a registered task (:data:`TASKS`) or ``"module:function"``.
        configs: resolved configurations (e.g. from :func:`grid`).
        store: the results folder (or a :class:`ResultStore`).
        cluster: ``None`` (in-process), ``"local:N"``, a scheduler address or a
            :class:`distributed.Client`.
        retries: resubmissions of a unit whose worker died (Dask's ``retries``).
        progress: a progress bar (units done / total, elapsed, remaining).
        max_units: run at most this many of the missing units (then stop, as an interruption).

    Returns:
        :meth:`ResultStore.collect` of all units (finished ones).
    """
    required = required_keys(task_name)  # an unknown task fails here, before anything runs
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if isinstance(cluster, str) and cluster.startswith("local:"):
        _local_workers(cluster)  # before anything is written
    for c in configs:
        missing = [k for k in required if k not in c]
        if missing:
            raise ValueError(
                f"sweep task {task_name!r} needs the config keys {missing} (give them in --base "
                f"or --grid); a unit has only {sorted(c)}"
            )
    units = [Unit(task_name, dict(c)) for c in configs]
    if len({u.key for u in units}) != len(units):
        raise ValueError("configs contain duplicates")
    for u in units:
        store.register(u)
    todo = [u for u in units if not store.done(u)][:max_units]
    bar = tqdm(total=len(units), initial=len(units) - len(todo), desc=f"sweep {task_name}",
               unit="unit", disable=not progress)  # fmt: skip
    root = str(store.root)
    if cluster is None:
        for u in todo:
            run_unit(u.task, u.config, root)
            bar.update()
    else:
        from distributed import as_completed

        with _client(cluster) as client:
            futures = [client.submit(run_unit, u.task, u.config, root, key=f"mer-ser-{u.key}",
                                     pure=False, retries=retries) for u in todo]  # fmt: skip
            for fut in as_completed(futures):
                fut.result()  # re-raises a task's own error
                bar.update()
    bar.close()
    return store.collect(units)


# ----------------------------------------------------------------------------------- tasks
@task("continuous_condition", required=("condition", "data_root"))
def continuous_condition(config: dict) -> pd.DataFrame:
    """One condition of Coutinho & Schuller's continuous track (notebooks 03/04) as a unit.

    Config: ``condition`` (``M2M`` ... ``M2S_TL``), ``normalisation`` (``paper``), ``profile``,
    ``seed``, ``shared_code``, ``data_root``, optional ``corpora`` (``music``, ``speech``,
    ``pools``) and ``protocol``. Trials and folds are ``vmap`` axes inside the unit. Returns the
    condition's long per-instance results (:meth:`ConditionResult.long`).
    """
    corpora = config.get("corpora") or {
        "music": "builtin:music_continuous",
        "speech": "builtin:speech_continuous",
        "pools": ["builtin:music_pool", "builtin:speech_pool"],
    }
    opts = {k: config[k] for k in ("data_root", "profile", "seed", "shared_code") if k in config}
    data = Data(progress=False, **opts)
    music, speech, *pools = data.sequences([corpora["music"], corpora["speech"], *corpora["pools"]])
    track = ContinuousTrack(config.get("protocol") or config.get("profile", "default"),
                            music=music, speech=speech, pools=pools,
                            cache_dir=default_jobs_dir(config["data_root"]),
                            seed=config.get("seed", 0), progress=False)  # fmt: skip
    res = track.run(config["condition"], config.get("normalisation", "paper"))
    return res.long()
