"""Training jobs: one compiled, vmapped program trains every (candidate x trial x fold) model.

A *job* is the unit of work and of caching. Its models share one architecture (the shapes), and
differ along three ``vmap`` axes flattened into one: hyper-parameter candidates whose values can be
traced (learning rate, input noise, a preset first layer), trials (random initialisations) and
cross-validation folds. The trained parameters, the fold statistics and the training record are
stored under ``<cache>/<key>.npz`` (atomic, checksummed), where the key hashes everything that
determines them, so an interrupted protocol resumes at the first unfinished job and a corrupt
entry is reported and retrained.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mer_ser._io import read_checked, sha256_json, write_checked
from mer_ser.errors import CorruptCacheEntry
from mer_ser.train.checkpoint import arrays_from_bytes, arrays_to_bytes, flatten, unflatten
from mer_ser.train.engine import FitResult, Fold, Standardiser

#: Bump when a change to the protocol code changes what a cached job would contain.
JOB_VERSION = 1


@dataclass(frozen=True)
class Trained:
    """The models of one job, stacked along a leading axis of ``K = C * trials * folds``.

    Attributes:
        key: the job's cache key.
        shape: ``(C, trials, folds)``: how ``K`` unflattens.
        params: pure dict of parameters, leaves ``(K, ...)``.
        stats: per-model :class:`~mer_ser.train.engine.Standardiser`, leaves ``(K, ...)``.
        epochs: epochs run, ``(K,)``.
        best_epoch: epoch of the kept parameters, ``(K,)``.
        best_val: validation loss of the kept parameters, ``(K,)``.
        train_loss: per-epoch training loss, ``(K, max_epochs)`` (NaN after stopping).
        val_loss: per-epoch validation loss, ``(K, max_epochs)``.
        diverged: ``(K,)`` True where the divergence guard stopped the model.
    """

    key: str
    shape: tuple[int, int, int]
    params: dict
    stats: Standardiser
    epochs: np.ndarray
    best_epoch: np.ndarray
    best_val: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    diverged: np.ndarray

    def select(self, candidate: int) -> Trained:
        """The models of one candidate only, ``shape`` becoming ``(1, trials, folds)``."""
        _, t, f = self.shape
        sl = slice(candidate * t * f, (candidate + 1) * t * f)
        take = lambda a: np.asarray(a)[sl]  # noqa: E731
        return Trained(
            self.key,
            (1, t, f),
            jax.tree.map(take, self.params),
            Standardiser(*map(take, self.stats)),
            *(take(a) for a in (self.epochs, self.best_epoch, self.best_val)),
            take(self.train_loss),
            take(self.val_loss),
            take(self.diverged),
        )

    def to_bytes(self) -> bytes:
        """The arrays as one ``.npz`` payload."""
        flat = {f"params/{k}": v for k, v in flatten(self.params).items()}
        flat.update({f"stats/{n}": np.asarray(v) for n, v in self.stats._asdict().items()})
        for n in ("epochs", "best_epoch", "best_val", "train_loss", "val_loss", "diverged"):
            flat[n] = np.asarray(getattr(self, n))
        flat["shape"] = np.asarray(self.shape)
        return arrays_to_bytes(flat)

    @classmethod
    def from_bytes(cls, key: str, payload: bytes) -> Trained:
        """Inverse of :meth:`to_bytes`."""
        flat = arrays_from_bytes(payload)
        params = unflatten({k[7:]: v for k, v in flat.items() if k.startswith("params/")})
        stats = Standardiser(*(flat[f"stats/{n}"] for n in Standardiser._fields))
        return cls(
            key,
            tuple(int(v) for v in flat["shape"]),
            params,
            stats,
            *(flat[n] for n in ("epochs", "best_epoch", "best_val")),
            flat["train_loss"],
            flat["val_loss"],
            flat["diverged"],
        )


def learning_curves(trained: Trained) -> pd.DataFrame:
    """Training and validation loss per epoch over a job's models (is training converged?).

    Returns:
        One row per epoch: ``epoch``, ``models`` (models still training at that epoch),
        ``train_loss`` and ``val_loss`` (means over them), ``stopped_early`` (share of all
        models that early stopping ended before the epoch budget; the budget is the curves'
        length).
    """
    train = np.asarray(trained.train_loss, np.float64)
    val = np.asarray(trained.val_loss, np.float64)
    epochs = np.asarray(trained.epochs)
    n = int(epochs.max()) if len(epochs) else 0
    running = np.arange(n)[None, :] < epochs[:, None]
    with np.errstate(invalid="ignore"):
        count = running.sum(axis=0)
        t = np.where(running, train[:, :n], 0).sum(axis=0) / np.maximum(count, 1)
        v = np.where(running, val[:, :n], 0).sum(axis=0) / np.maximum(count, 1)
    return pd.DataFrame(
        {
            "epoch": np.arange(n),
            "models": count,
            "train_loss": t,
            "val_loss": v,
            "stopped_early": float(np.mean(epochs < train.shape[1])) if len(epochs) else np.nan,
        }
    )


class NotTrained(LookupError):
    """A job asked of a cache that only reads (``JobCache(..., read_only=True)``) is not in it."""


class JobCache:
    """Trained jobs on disk under ``root/<key[:2]>/<key>.npz`` (``root=None``: no caching).

    ``read_only=True``: a job that is not cached raises :class:`NotTrained` instead of being
    trained (to show results "when present", e.g. notebook 08, without training anything).
    """

    def __init__(self, root: str | os.PathLike | None, *, read_only: bool = False):
        self.root = None if root is None else Path(root)
        self.read_only = read_only

    def path(self, key: str) -> Path:
        """Where job ``key`` lives."""
        assert self.root is not None
        return self.root / key[:2] / f"{key}.npz"

    def load(self, key: str) -> Trained | None:
        """The cached job, or ``None`` (absent, or corrupt: then warned about and removed).

        Raises:
            NotTrained: the cache is read-only and the job is not in it.
        """
        if self.read_only and (self.root is None or not self.path(key).is_file()):
            where = "no cache" if self.root is None else str(self.path(key))
            raise NotTrained(f"training job {key[:12]} is not cached ({where})")
        if self.root is None or not self.path(key).is_file():
            return None
        path = self.path(key)
        try:
            return Trained.from_bytes(key, read_checked(path))
        except (ValueError, OSError, EOFError, KeyError) as e:
            warnings.warn(
                f"{path}: corrupt training-job cache entry ({e}); retraining",
                CorruptCacheEntry,
                stacklevel=2,
            )
            path.unlink(missing_ok=True)
            return None

    def store(self, trained: Trained) -> None:
        """Write a job atomically."""
        if self.root is not None:
            write_checked(self.path(trained.key), trained.to_bytes())


def default_jobs_dir(data_root: str | os.PathLike) -> Path:
    """The training-job cache beside a data root: ``<data_root>/cache/jobs``."""
    return Path(data_root) / "cache" / "jobs"


def job_key(spec: dict) -> str:
    """Cache key of a job description (any JSON-able dict)."""
    return sha256_json({"job_version": JOB_VERSION, **spec})


def run_job(
    fit,
    *,
    key: str,
    seed: int,
    trials: int,
    folds: Fold,
    x,
    m,
    y,
    hyper: list[dict] | None = None,
    presets: list[dict] | None = None,
    cache: JobCache | None = None,
) -> Trained:
    """Train ``C * trials * folds`` models in one compiled program (or load them).

    Trial ``t`` uses the random key ``fold_in(PRNGKey(seed), t)`` for every candidate and fold
    (common random numbers: candidates are compared on the same initialisations).

    Args:
        fit: a pure fit from :func:`~mer_ser.train.make_fit`.
        key: the job's cache key (:func:`job_key`).
        seed: base random seed.
        trials: repetitions with different random initialisations.
        folds: cross-validation folds with a leading ``F`` axis.
        x: padded inputs ``(N, T, F)``.
        m: valid frames ``(N, T)``.
        y: training targets ``(N, T, D)``.
        hyper: per candidate, the traced hyper-parameters (``{"learning_rate": ..,
            "input_noise": ..}``); ``None`` for one candidate with the config's values.
        presets: per candidate, a pure dict of parameters replacing the random initialisation,
            each leaf with a leading ``trials`` axis (trial ``t`` gets element ``t``).
        cache: where finished jobs are kept.

    Returns:
        The trained models, :class:`Trained`.
    """
    cache = cache or JobCache(None)
    hit = cache.load(key)
    if hit is not None:
        return hit
    n_cand = len(hyper or presets or [None])
    n_folds = int(np.asarray(folds.train_idx).shape[0])
    c_idx, t_idx, f_idx = (a.ravel() for a in np.indices((n_cand, trials, n_folds)))
    base = jax.random.PRNGKey(seed)
    keys = jax.vmap(lambda t: jax.random.fold_in(base, t))(jnp.asarray(t_idx))
    fold_k = Fold(*(jnp.asarray(np.asarray(a)[f_idx]) for a in folds))
    hyper_k = None
    if hyper:
        names = sorted(hyper[0])
        hyper_k = {n: jnp.asarray([float(hyper[c][n]) for c in c_idx], x.dtype) for n in names}
    preset_k = None
    if presets:
        stacked = jax.tree.map(lambda *a: np.stack(a), *presets)  # (C, trials, ...)
        preset_k = jax.tree.map(lambda a: jnp.asarray(a[c_idx, t_idx]), stacked)

    # The data are arguments, not constants baked into the program: jobs of equal shapes then
    # share one compiled executable (in this process through ``_vmapped_fit``, across processes
    # through the persistent cache).
    run = _vmapped_fit(fit, hyper_k is not None, preset_k is not None)
    res: FitResult = run(keys, fold_k, hyper_k, preset_k, x, m, y)
    res = jax.device_get(res)
    trained = Trained(
        key,
        (n_cand, trials, n_folds),
        jax.tree.map(np.asarray, res.params),
        Standardiser(*(np.asarray(a) for a in res.stats)),
        *(np.asarray(a) for a in (res.epochs, res.best_epoch, res.best_val_loss)),
        np.asarray(res.train_loss),
        np.asarray(res.val_loss),
        np.asarray(res.diverged),
    )
    cache.store(trained)
    return trained


@functools.lru_cache(maxsize=64)
def _vmapped_fit(fit, has_hyper: bool, has_preset: bool):
    """``fit`` vmapped over models (key, fold, and hyper / preset when given) and jitted, once."""

    def one(k, fold, h, p, x, m, y):
        return fit(k, fold, x, m, y, hyper=h, preset=p)

    axes = (0, 0, 0 if has_hyper else None, 0 if has_preset else None, None, None, None)
    return jax.jit(jax.vmap(one, in_axes=axes))


def predict(apply, trained: Trained, x, m, *, chunk: int = 64, reduce=None) -> np.ndarray:
    """Every model's predictions on every sequence: ``(K, N, T, D)`` on the label scale.

    Models are evaluated ``chunk`` at a time to bound memory; ``reduce`` (optional) maps each
    chunk's ``(k, N, T, D)`` predictions to a smaller ``(k, ...)`` array first.
    """
    return predict_stacked(apply, trained.params, trained.stats, x, m, chunk=chunk, reduce=reduce)


def predict_stacked(apply, params, stats, x, m, *, chunk: int = 64, reduce=None) -> np.ndarray:
    """:func:`predict` on parameters and statistics stacked along a leading model axis."""
    fn = _batched(apply)
    k = len(stats.x_mean)
    out = []
    for s in range(0, k, chunk):
        sl = slice(s, min(k, s + chunk))
        p = jax.tree.map(lambda a, sl=sl: a[sl], params)
        st = Standardiser(*(a[sl] for a in stats))
        pred = np.asarray(fn(p, st, x, m))
        out.append(pred if reduce is None else reduce(pred))
    return np.concatenate(out)


@functools.lru_cache(maxsize=64)
def _batched(apply):
    """``apply`` vmapped over models, one sequence at a time, and jitted, once per ``apply``.

    Each sequence is a batch of one (``lax.map`` over sequences): a matrix product over several
    sequences sums in another order on some backends than over one, so scoring sequence by
    sequence makes a prediction independent of what else was scored with it. A model bundle
    applied to one clip then gives bit for bit the numbers the notebook gave that clip.
    Repeated predictions with the same model family reuse the traced program.
    """

    def one_model(params, stats, x, m):
        def one(xm):
            return apply(params, stats, xm[0][None], xm[1][None])[0]

        return jax.lax.map(one, (x, m))

    return jax.jit(jax.vmap(one_model, in_axes=(0, 0, None, None)))


def _pure_state(rest) -> dict:
    """Non-parameter state (batch-norm statistics) as a pure dict with string keys.

    Random number streams are left out: evaluation never draws from them.
    """

    def clean(tree):
        out = {}
        for k, v in tree.items():
            if k == "rngs":
                continue
            out[str(k)] = clean(v) if isinstance(v, dict) else np.asarray(v)
        return out

    return clean(nnx.to_pure_dict(rest))


def run_classifier_job(
    fit,
    *,
    key: str,
    seed: int,
    runs: int,
    fold: Fold,
    x,
    labels,
    cache: JobCache | None = None,
    vectorise_runs: bool = False,
    presets: list | None = None,
) -> Trained:
    """Train ``runs`` clip classifiers on one fold (or load them).

    Run ``r`` uses the random key ``fold_in(PRNGKey(seed), r)``. The kept parameters are each
    run's best validation epoch (the engine's monitor). Parameters are stored under
    ``params["params"]`` and batch-norm statistics under ``params["state"]``; ``shape`` is
    ``(1, runs, 1)`` and ``stats`` is empty.

    By default the runs are one compiled fit called once per run. ``vectorise_runs`` makes them
    a ``vmap`` axis of one program instead, as the continuous track does; for the convolutional
    classifiers that is slower on CPU and GPU alike (``mer-ser bench train --runs 5`` compares
    the two), because a batched convolution becomes a grouped one.

    Jobs that pass the same ``fit`` object with arrays of the same shapes reuse one compiled
    program (``jax.jit`` caches on the function), so make a fit once and share it across jobs.

    Args:
        fit: from :func:`~mer_ser.train.make_classifier_fit` (or any ``fit(key, fold, x,
            labels, preset)`` returning a :class:`~mer_ser.train.FitResult` whose ``params``
            are ``(params, state)``).
        key: the job's cache key.
        seed: base random seed.
        runs: repetitions with different initialisations.
        fold: one fold (no leading axis).
        x: inputs ``(N, ...)``.
        labels: ``(N,)`` class indices.
        cache: where finished jobs are kept.
        vectorise_runs: train the runs as a ``vmap`` axis of one program instead of a loop.
        presets: one ``(params, state)`` preset per run (the fit's ``preset``), e.g. the runs of
            a pretrained job to fine-tune; only with runs in a loop.
    """
    if presets is not None and (vectorise_runs or len(presets) != runs):
        raise ValueError("presets need one entry per run and runs trained in a loop")
    cache = cache or JobCache(None)
    hit = cache.load(key)
    if hit is not None:
        return hit
    base = jax.random.PRNGKey(seed)
    keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(runs))
    if vectorise_runs:
        run = jax.jit(jax.vmap(lambda k, x, y: fit(k, fold, x, y), in_axes=(0, None, None)))
        res: FitResult = jax.device_get(run(keys, x, labels))
    else:
        one = jax.jit(fit)  # keyed on ``fit`` itself: jobs sharing a fit and shapes compile once
        done = [one(keys[r], fold, x, labels, presets[r] if presets else None) for r in range(runs)]
        res = jax.device_get(jax.tree.map(lambda *a: jnp.stack(a), *done))
    params, rest = res.params
    empty = np.zeros((runs, 0), np.float32)
    trained = Trained(
        key,
        (1, runs, 1),
        {"params": flatten_tree(params), "state": _pure_state(rest)},
        Standardiser(empty, empty, empty, empty),
        *(np.asarray(a) for a in (res.epochs, res.best_epoch, res.best_val_loss)),
        np.asarray(res.train_loss),
        np.asarray(res.val_loss),
        np.asarray(res.diverged),
    )
    cache.store(trained)
    return trained


def flatten_tree(tree) -> dict:
    """A pure dict with any key types as a pure dict with string keys and numpy leaves."""
    return {
        str(k): flatten_tree(v) if isinstance(v, dict) else np.asarray(v) for k, v in tree.items()
    }


def classifier_state(build, trained: Trained, k: int):
    """``(params, state)`` of run ``k`` of a classifier job, ready for the fit's ``apply``."""
    model = build(nnx.Rngs(0))
    _, params, rest = nnx.split(model, nnx.Param, ...)
    take = lambda a: jnp.asarray(np.asarray(a)[k])  # noqa: E731

    def fill(template, stored):
        for name, v in template.items():
            s = stored.get(str(name))
            if s is None:
                continue
            if isinstance(v, dict):
                fill(v, s)
            else:
                template[name] = take(s)
        return template

    p = fill(nnx.to_pure_dict(params), trained.params["params"])
    r = nnx.to_pure_dict(rest)
    r = fill(r, trained.params.get("state", {}))
    nnx.replace_by_pure_dict(rest, r)
    return p, rest
