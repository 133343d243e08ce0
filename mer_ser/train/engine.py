"""The training engine: one pure, jitted fit per model, vmapped over trials and folds.

A cross-validation fold is a fixed-shape set of indices into one padded dataset, so every
(trial seed x fold) model has the same shapes and ``K`` of them train in one compiled program:
``jax.jit(jax.vmap(fit))(keys, folds...)`` (purejaxrl's pattern). Whole epochs run inside JAX:
a ``lax.scan`` over mini-batches inside a ``lax.while_loop`` over epochs that stops on patience,
on the epoch limit, or when the loss becomes NaN/inf (the divergence guard; under ``vmap`` the
other models carry on).

Inputs and outputs are standardised with each fold's *training* sequences only (Coutinho &
Schuller 2017, "Architecture and hyper-parameter optimisation"), inside the fit, so no fold ever
sees its validation or test data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mer_ser.train import losses


@dataclass(frozen=True)
class TrainConfig:
    """How to train a sequence regressor (defaults: Coutinho & Schuller 2017, SGD + momentum)."""

    optimizer: str = "sgd"  # "sgd" (momentum below) or "adam"
    learning_rate: float = 1e-3  # see the README on the paper's learning rates
    momentum: float = 0.9  # the paper's momentum
    batch_size: int = 1  # sequences per update ("each sequence presented randomly")
    max_epochs: int = 500  # the paper: 500 for regressors, 300 for DAEs
    patience: int = 20  # epochs without validation improvement before stopping (the paper: 20)
    input_noise: float = 0.0  # sigma_model: Gaussian input noise in training
    loss: str = "ccc"  # "ccc" (1 - CCC, the paper) or "mse"
    standardise_inputs: bool = True  # per-fold input standardisation
    standardise_outputs: bool = True  # per-fold output standardisation
    freeze: tuple[str, ...] = ()  # top-level submodules kept fixed, e.g. ("lstm1",) for CD_TL


class Fold(NamedTuple):
    """Fixed-shape indices of one fold into the padded dataset (weight 0 marks padding)."""

    train_idx: Any  # (n_train_max,) int
    train_w: Any  # (n_train_max,) float
    val_idx: Any  # (n_val_max,) int
    val_w: Any  # (n_val_max,) float


class Standardiser(NamedTuple):
    """Per-fold feature and label statistics (training sequences only)."""

    x_mean: Any
    x_std: Any
    y_mean: Any
    y_std: Any


class FitResult(NamedTuple):
    """What a fit returns (stacked along a leading axis when vmapped)."""

    params: Any  # the best parameters (lowest validation loss)
    stats: Standardiser
    epochs: Any  # epochs run
    best_epoch: Any  # epoch of the best validation loss (0-based)
    best_val_loss: Any
    train_loss: Any  # (max_epochs,) per-epoch training loss, NaN after stopping
    val_loss: Any  # (max_epochs,) per-epoch validation loss, NaN after stopping
    diverged: Any  # True when the training loss became NaN or inf


def folds_from_masks(train: np.ndarray, val: np.ndarray) -> Fold:
    """Fixed-shape folds from boolean membership masks.

    Args:
        train: shape ``(K, N)``: sequence ``n`` is in model ``k``'s training set.
        val: shape ``(K, N)``: ... in its validation set.

    Returns:
        A :class:`Fold` of arrays with a leading ``K`` axis, padded to the largest fold.
    """
    train, val = np.asarray(train, bool), np.asarray(val, bool)

    def pack(m):
        width = max(1, int(m.sum(axis=1).max()))
        idx = np.zeros((m.shape[0], width), np.int32)
        w = np.zeros((m.shape[0], width), np.float32)
        for k, row in enumerate(m):
            sel = np.flatnonzero(row)
            idx[k, : len(sel)] = sel
            w[k, : len(sel)] = 1.0
        return idx, w

    ti, tw = pack(train)
    vi, vw = pack(val)
    return Fold(ti, tw, vi, vw)


def leave_one_out(n: int, *, nested: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-out folds of Coutinho & Schuller 2017.

    Nested: in fold ``k`` sequence ``k`` is the test instance, ``(k + 1) mod n`` the validation
    instance and the other ``n - 2`` train. Not nested: one held out, ``n - 1`` train, and the
    held-out instance also serves for validation (the CD development phase).

    Returns:
        ``(train, val, test)`` boolean masks of shape ``(n, n)``.
    """
    eye = np.eye(n, dtype=bool)
    val = np.roll(eye, 1, axis=1) if nested else eye.copy()
    train = ~(eye | val)
    return train, val, eye


def _standardiser(x, m, y, idx, w, cfg: TrainConfig) -> Standardiser:
    fw = m[idx] * w[:, None]  # (n, T) frame weights of the training sequences
    n = jnp.maximum(fw.sum(), 1.0)
    valid = (fw > 0)[..., None]

    def stats(a, on):
        if not on:
            return jnp.zeros(a.shape[-1], a.dtype), jnp.ones(a.shape[-1], a.dtype)
        sel = jnp.where(valid, a[idx], 0.0)  # padding may hold anything
        mu = (sel * fw[..., None]).sum(axis=(0, 1)) / n
        var = (jnp.where(valid, sel - mu, 0.0) ** 2 * fw[..., None]).sum(axis=(0, 1)) / n
        return mu, jnp.sqrt(jnp.maximum(var, 1e-12))

    xm, xs = stats(x, cfg.standardise_inputs)
    ym, ys = stats(y, cfg.standardise_outputs)
    return Standardiser(xm, xs, ym, ys)


def _tree_where(cond, a, b):
    return jax.tree.map(lambda u, v: jnp.where(cond, u, v), a, b)


def make_optimizer(cfg: TrainConfig, params) -> optax.GradientTransformation:
    """The optimiser, with frozen submodules (``cfg.freeze``) receiving zero updates."""
    if cfg.optimizer == "sgd":
        base = optax.sgd(cfg.learning_rate, momentum=cfg.momentum)
    elif cfg.optimizer == "adam":
        base = optax.adam(cfg.learning_rate)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r} (sgd or adam)")
    if not cfg.freeze:
        return base
    labels = {k: ("frozen" if k in cfg.freeze else "train") for k in params}
    return optax.multi_transform({"train": base, "frozen": optax.set_to_zero()}, labels)


def make_fit(build: Callable[[nnx.Rngs], nnx.Module], cfg: TrainConfig):
    """A pure fit function for a sequence-to-sequence regressor.

    Args:
        build: ``rngs -> model``; the model is called as ``model(x, mask, noise_sd=, key=)``.
        cfg: the training configuration.

    Returns:
        ``(fit, apply)``. ``fit(key, fold, x, m, y) -> FitResult`` trains one model (jit and
        vmap it over ``key`` and ``fold``); ``x`` is ``(N, T, F)``, ``m`` ``(N, T)``, ``y``
        ``(N, T, D)``. ``apply(params, stats, x, m)`` predicts on the original label scale.
    """
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: build(nnx.Rngs(0))))

    def init(key):
        return nnx.to_pure_dict(nnx.state(build(nnx.Rngs(key)), nnx.Param))

    def forward(params, x, m, key=None):
        state = jax.tree.map(lambda v: v, abstract)  # a fresh container for this call
        nnx.replace_by_pure_dict(state, params)
        model = nnx.merge(graphdef, state, copy=True)
        return model(x, m, noise_sd=cfg.input_noise, key=key)

    def objective(params, x, m, y, w, key):
        pred = forward(params, x, m, key)
        if cfg.loss == "ccc":
            return losses.ccc_loss(pred, y, m, weights=w)
        return losses.mse_loss(pred, y, m, weights=w)

    def fit(key, fold: Fold, x, m, y) -> FitResult:
        k_init, k_loop = jax.random.split(key)
        params = init(k_init)
        st = _standardiser(x, m, y, fold.train_idx, fold.train_w, cfg)
        xs = jnp.where(m[..., None], (x - st.x_mean) / st.x_std, 0.0)
        ys = jnp.where(m[..., None], (y - st.y_mean) / st.y_std, 0.0)
        tx = make_optimizer(cfg, params)
        opt_state = tx.init(params)
        n_train = fold.train_idx.shape[0]
        bs = min(cfg.batch_size, n_train)
        nb = -(-n_train // bs)
        pad = nb * bs - n_train
        has_val = fold.val_w.sum() > 0
        nan = jnp.full((cfg.max_epochs,), jnp.nan, x.dtype)

        def val_loss_of(p, train_loss):
            vi = fold.val_idx
            pred = forward(p, xs[vi], m[vi])
            if cfg.loss == "ccc":
                v = losses.ccc_loss(pred, ys[vi], m[vi], weights=fold.val_w)
            else:
                v = losses.mse_loss(pred, ys[vi], m[vi], weights=fold.val_w)
            return jnp.where(has_val, v, train_loss)

        idx_ext = jnp.concatenate([fold.train_idx, jnp.zeros(pad, fold.train_idx.dtype)])
        w_ext = jnp.concatenate([fold.train_w, jnp.zeros(pad, fold.train_w.dtype)])

        def batch_step(state, inputs):
            p, o, lsum, cnt = state
            pos, kb = inputs
            idx, w = idx_ext[pos], w_ext[pos]
            loss, g = jax.value_and_grad(objective)(p, xs[idx], m[idx], ys[idx], w, kb)
            upd, o2 = tx.update(g, o, p)
            p2 = optax.apply_updates(p, upd)
            live = w.sum() > 0  # a batch of padding entries changes nothing
            return (
                _tree_where(live, p2, p),
                _tree_where(live, o2, o),
                lsum + jnp.where(live, loss * w.sum(), 0.0),
                cnt + w.sum(),
            ), None

        def epoch(c):
            p, o, best, best_val, best_ep, bad, ep, k, tr_hist, va_hist, diverged = c
            k, k_perm, k_b = jax.random.split(k, 3)
            # Training sequences in a new random order each epoch; padding slots at the end.
            perm = jax.random.permutation(k_perm, n_train)
            pos = jnp.concatenate([perm, n_train + jnp.arange(pad, dtype=perm.dtype)])
            (p, o, lsum, cnt), _ = jax.lax.scan(
                batch_step,
                (p, o, jnp.zeros((), x.dtype), jnp.zeros((), x.dtype)),
                (pos.reshape(nb, bs), jax.random.split(k_b, nb)),
            )
            tr = lsum / jnp.maximum(cnt, 1.0)
            va = val_loss_of(p, tr)
            bad_num = ~(jnp.isfinite(tr) & jnp.isfinite(va))
            better = (va < best_val) & ~bad_num
            return (
                p,
                o,
                _tree_where(better, p, best),
                jnp.where(better, va, best_val),
                jnp.where(better, ep, best_ep),
                jnp.where(better, 0, bad + 1),
                ep + 1,
                k,
                tr_hist.at[ep].set(tr),
                va_hist.at[ep].set(va),
                diverged | bad_num,
            )

        def running(c):
            return (c[6] < cfg.max_epochs) & (c[5] < cfg.patience) & ~c[10]

        c0 = (params, opt_state, params, jnp.asarray(jnp.inf, x.dtype), jnp.asarray(-1),
              jnp.asarray(0), jnp.asarray(0), k_loop, nan, nan, jnp.asarray(False))  # fmt: skip
        c = jax.lax.while_loop(running, epoch, c0)
        return FitResult(c[2], st, c[6], c[4], c[3], c[8], c[9], c[10])

    def apply(params, stats: Standardiser, x, m):
        xs = jnp.where(m[..., None], (x - stats.x_mean) / stats.x_std, 0.0)
        return forward(params, xs, m) * stats.y_std + stats.y_mean

    return fit, apply


def config_dict(cfg) -> dict:
    """A JSON-ready dict of a frozen config dataclass."""
    return dataclasses.asdict(cfg)
