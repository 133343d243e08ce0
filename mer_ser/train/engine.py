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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mer_ser import losses
from mer_ser.losses import l1_penalty, multitask_loss
from mer_ser.train.precision import cast_floating, compute_dtype, in_compute_dtype


@dataclass(frozen=True)
class TrainConfig:
    """How to train a sequence regressor (defaults: Coutinho & Schuller 2017, SGD + momentum)."""

    optimizer: str = "sgd"  # "sgd" (momentum below) or "adam"
    learning_rate: float = 1e-3  # see docs/tracks.md on the paper's learning rates
    momentum: float = 0.9  # the paper's momentum
    batch_size: int = 1  # sequences per update ("each sequence presented randomly")
    max_epochs: int = 500  # the paper: 500 for regressors, 300 for DAEs
    patience: int = 20  # epochs without validation improvement before stopping (the paper: 20)
    input_noise: float = 0.0  # sigma_model: Gaussian input noise in training
    loss: str = "ccc"  # "ccc" (1 - CCC, the paper) or "mse"
    standardise_inputs: bool = True  # per-fold input standardisation
    standardise_outputs: bool = True  # per-fold output standardisation
    freeze: tuple[str, ...] = ()  # top-level submodules kept fixed, e.g. ("lstm1",) for CD_TL
    monitor: str = "loss"  # classifiers: "loss", "accuracy" (Rodningen 2022) or "macro_f1"
    class_weights: tuple[float, ...] | None = None  # classifiers: class-balanced loss (option)
    l1: float = 0.0  # classifiers: L1 kernel regularisation (Rodningen 2022: 0.001 / 0.01)
    lr_decay: float = 0.0  # Keras' inverse-time decay lr / (1 + decay * updates) (CPC: 4e-6)
    #: "bfloat16": mixed precision (float32 parameters, optimiser state and loss;
    #: :mod:`mer_ser.train.precision`). For GPUs; on a CPU bfloat16 is slower, not faster.
    compute_dtype: str = "float32"


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


class _Loop(NamedTuple):
    """The state carried from epoch to epoch inside ``lax.while_loop``."""

    params: Any
    rest: Any  # non-trainable state (batch-norm statistics)
    opt_state: Any
    best: Any  # (params, rest) of the best validation loss so far
    best_val: Any
    best_epoch: Any
    bad_epochs: Any  # epochs since the last improvement
    epoch: Any
    key: Any
    train_hist: Any
    val_hist: Any
    diverged: Any


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


def merge_pure(graphdef, abstract, params: dict, *rest):
    """A model from its graph, a pure dict of parameters and any further state.

    ``abstract`` is the parameter state of ``nnx.eval_shape(build)``; it is copied for each
    call, so the function stays pure under ``jit``/``vmap``/``grad``.
    """
    state = jax.tree.map(lambda v: v, abstract)
    nnx.replace_by_pure_dict(state, params)
    return nnx.merge(graphdef, state, *rest, copy=True)


def _tree_where(cond, a, b):
    return jax.tree.map(lambda u, v: jnp.where(cond, u, v), a, b)


def make_optimizer(cfg: TrainConfig, params, learning_rate=None) -> optax.GradientTransformation:
    """The optimiser, with frozen submodules (``cfg.freeze``) receiving zero updates.

    ``learning_rate`` (a traced scalar allowed) overrides ``cfg.learning_rate``, so a learning
    rate grid can be a ``vmap`` axis.
    """
    lr = cfg.learning_rate if learning_rate is None else learning_rate
    if cfg.lr_decay:  # Keras' legacy ``decay``: lr_t = lr / (1 + decay * t), t counting updates
        lr0, decay = lr, cfg.lr_decay
        lr = lambda t: lr0 / (1.0 + decay * t)  # noqa: E731
    if cfg.optimizer == "sgd":
        base = optax.sgd(lr, momentum=cfg.momentum)
    elif cfg.optimizer == "adam":
        base = optax.adam(lr)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r} (sgd or adam)")
    if not cfg.freeze:
        return base
    labels = {k: ("frozen" if k in cfg.freeze else "train") for k in params}
    return optax.multi_transform({"train": base, "frozen": optax.set_to_zero()}, labels)


def _train_loop(
    cfg: TrainConfig,
    *,
    params,
    rest,
    tx: optax.GradientTransformation,
    fold: Fold,
    loss_fn: Callable,
    val_fn: Callable,
    key,
    dtype,
) -> FitResult:
    """Epochs of shuffled mini-batches with early stopping, all inside JAX.

    Args:
        cfg: batch size, epoch limit, patience.
        params: trainable parameters (pure dict).
        rest: non-trainable state threaded through training (batch-norm statistics) or ``{}``.
        tx: the optimiser.
        fold: which rows train (``train_idx``/``train_w``).
        loss_fn: ``(params, rest, idx, w, key) -> (mean loss, new rest)`` on the rows ``idx``
            with row weights ``w`` (0 for padding).
        val_fn: ``(params, rest, train_loss) -> validation loss`` (lower is better).
        key: random key (shuffling, noise, dropout).
        dtype: float dtype of the losses.

    Returns:
        A :class:`FitResult` whose ``params`` are the best epoch's (``stats`` left empty).
    """
    n_train = fold.train_idx.shape[0]
    bs = min(cfg.batch_size, n_train)
    nb = -(-n_train // bs)
    pad = nb * bs - n_train
    idx_ext = jnp.concatenate([fold.train_idx, jnp.zeros(pad, fold.train_idx.dtype)])
    w_ext = jnp.concatenate([fold.train_w, jnp.zeros(pad, fold.train_w.dtype)])
    nan = jnp.full((cfg.max_epochs,), jnp.nan, dtype)

    def batch_step(state, inputs):
        p, r, o, lsum, cnt = state
        pos, kb = inputs
        idx, w = idx_ext[pos], w_ext[pos]
        (loss, r2), g = jax.value_and_grad(loss_fn, has_aux=True)(p, r, idx, w, kb)
        upd, o2 = tx.update(g, o, p)
        p2 = optax.apply_updates(p, upd)
        live = w.sum() > 0  # a batch of padding entries changes nothing
        return (
            _tree_where(live, p2, p),
            _tree_where(live, r2, r),
            _tree_where(live, o2, o),
            lsum + jnp.where(live, loss * w.sum(), 0.0),
            cnt + w.sum(),
        ), None

    def epoch(c: _Loop) -> _Loop:
        k, k_perm, k_b = jax.random.split(c.key, 3)
        # Training rows in a new random order each epoch; padding slots at the end.
        perm = jax.random.permutation(k_perm, n_train)
        pos = jnp.concatenate([perm, n_train + jnp.arange(pad, dtype=perm.dtype)])
        (p, r, o, lsum, cnt), _ = jax.lax.scan(
            batch_step,
            (c.params, c.rest, c.opt_state, jnp.zeros((), dtype), jnp.zeros((), dtype)),
            (pos.reshape(nb, bs), jax.random.split(k_b, nb)),
        )
        tr = lsum / jnp.maximum(cnt, 1.0)
        va = val_fn(p, r, tr)
        non_finite = ~(jnp.isfinite(tr) & jnp.isfinite(va))
        better = (va < c.best_val) & ~non_finite
        return _Loop(
            params=p,
            rest=r,
            opt_state=o,
            best=_tree_where(better, (p, r), c.best),
            best_val=jnp.where(better, va, c.best_val),
            best_epoch=jnp.where(better, c.epoch, c.best_epoch),
            bad_epochs=jnp.where(better, 0, c.bad_epochs + 1),
            epoch=c.epoch + 1,
            key=k,
            train_hist=c.train_hist.at[c.epoch].set(tr),
            val_hist=c.val_hist.at[c.epoch].set(va),
            diverged=c.diverged | non_finite,
        )

    def running(c: _Loop):
        return (c.epoch < cfg.max_epochs) & (c.bad_epochs < cfg.patience) & ~c.diverged

    start = _Loop(
        params=params,
        rest=rest,
        opt_state=tx.init(params),
        best=(params, rest),
        best_val=jnp.asarray(jnp.inf, dtype),
        best_epoch=jnp.asarray(-1),
        bad_epochs=jnp.asarray(0),
        epoch=jnp.asarray(0),
        key=key,
        train_hist=nan,
        val_hist=nan,
        diverged=jnp.asarray(False),
    )
    c = jax.lax.while_loop(running, epoch, start)
    return FitResult(
        c.best, None, c.epoch, c.best_epoch, c.best_val, c.train_hist, c.val_hist, c.diverged
    )


def _stateful_model(build: Callable[[nnx.Rngs], nnx.Module], dtype: str = "float32"):
    """Pure ``init`` and ``forward`` of a model with non-parameter state (batch statistics).

    ``init(key) -> (params, rest)``; ``forward(params, rest, x, *, train, key) -> (out, rest)``
    threads the state through a pure step, computing in ``dtype``
    (:func:`~mer_ser.train.precision.in_compute_dtype`).
    """
    graphdef, abstract, _ = nnx.split(nnx.eval_shape(lambda: build(nnx.Rngs(0))), nnx.Param, ...)

    def init(key):
        _, p, r = nnx.split(build(nnx.Rngs(key)), nnx.Param, ...)
        return nnx.to_pure_dict(p), r

    def forward(p, rest, x, *, train, key=None):
        model = merge_pure(graphdef, abstract, p, rest)
        out = model(x, train=train, key=key)
        return out, nnx.split(model, nnx.Param, ...)[2]

    return init, in_compute_dtype(forward, dtype)


def _apply_preset(params: dict, rest, preset):
    """Put pretrained weights (whole top-level submodules) and state leaves into a new model."""
    p_pre, r_pre = preset
    unknown = (set(p_pre) - set(params)) | (set(r_pre) - set(nnx.to_pure_dict(rest)))
    if unknown:
        raise ValueError(f"preset names unknown submodules {sorted(unknown)}")
    params = {**params, **p_pre}
    if r_pre:  # e.g. only the batch statistics: merged leaf by leaf into the state
        nnx.replace_by_pure_dict(rest, deep_merge(nnx.to_pure_dict(rest), r_pre))
    return params, rest


def deep_merge(base: dict, new: dict) -> dict:
    """``base`` with the leaves of ``new`` put in (nested dicts merged, not replaced)."""
    out = dict(base)
    for k, v in new.items():
        out[k] = deep_merge(base[k], v) if isinstance(v, dict) and k in base else v
    return out


def _fit_stateful(cfg: TrainConfig, init, key, fold: Fold, loss_fn, val_fn, dtype, preset=None):
    """Initialise (``init``, then ``preset``) and run the loop: the classifier/autoencoder fits."""
    k_init, k_loop = jax.random.split(key)
    params, rest = init(k_init)
    if preset is not None:
        params, rest = _apply_preset(params, rest, preset)
    return _train_loop(
        cfg,
        params=params,
        rest=rest,
        tx=make_optimizer(cfg, params),
        fold=fold,
        loss_fn=loss_fn,
        val_fn=val_fn,
        key=k_loop,
        dtype=dtype,
    )


def make_autoencoder_fit(build: Callable[[nnx.Rngs], nnx.Module], cfg: TrainConfig):
    """A pure fit function for a denoising autoencoder on fixed-size inputs (the SCAE).

    Gomez-Canon et al. 2020, section 2.2: the model corrupts its own input in training (the
    SCAE: Gaussian noise, sigma 0.3) and is trained to reconstruct the clean input, mean squared
    error, Adam 1e-3. Validation: reconstruction error of clean inputs in evaluation mode; the
    best validation epoch is kept (early stopping as ``cfg``). Batch-norm statistics are threaded
    through training as in :func:`make_classifier_fit`.

    Args:
        build: ``rngs -> model``; ``model(x, train=, key=)`` returns a reconstruction of ``x``.
        cfg: the training configuration (``optimizer="adam"``).

    Returns:
        ``(fit, apply)``: ``fit(key, fold, x) -> FitResult`` (``params = (params, rest)``);
        ``apply(state, x)`` reconstructs ``x`` in evaluation mode.
    """
    init, forward = _stateful_model(build, cfg.compute_dtype)

    def mse(out, x, w):
        per_row = ((out - x) ** 2).reshape(x.shape[0], -1).mean(axis=1)
        return (per_row * w).sum() / jnp.maximum(w.sum(), 1.0)

    def fit(key, fold: Fold, x) -> FitResult:
        has_val = fold.val_w.sum() > 0

        def loss_fn(p, r, idx, w, k):
            out, r = forward(p, r, x[idx], train=True, key=k)
            return mse(out, x[idx], w) + l1_penalty(p, cfg.l1), r

        def val_fn(p, r, train_loss):
            out, _ = forward(p, r, x[fold.val_idx], train=False)
            return jnp.where(has_val, mse(out, x[fold.val_idx], fold.val_w), train_loss)

        return _fit_stateful(cfg, init, key, fold, loss_fn, val_fn, x.dtype)

    def apply(state, x):
        p, rest = state
        return forward(p, rest, x, train=False)[0]

    return fit, apply


def make_cpc_fit(build: Callable[[nnx.Rngs], nnx.Module], cfg: TrainConfig, *, objective="binary"):
    """A pure fit function for contrastive predictive coding on windows of consecutive patches.

    Gomez-Canon et al. 2021, section 3.3: four consecutive mel patches are presented with two
    more "that may follow or not", and the network learns whether they are consecutive (binary
    cross-entropy; Adam 1e-3, decay 4e-6). Here every window of the batch is encoded once; its
    two true next patches are the positives (label 1) and the next patches of another window of
    the batch (the batch rolled by a random shift of 1..B-1) the negatives (label 0), so each
    prediction ``W_k c_t`` is scored against one consecutive and one non-consecutive candidate.
    ``objective="infonce"`` uses InfoNCE over the batch instead (van den Oord et al. 2018, eq. 4;
    padding rows are then not masked out of the negatives). Validation uses the shift 1.

    Args:
        build: ``rngs -> model``; ``model(windows, train=, key=)`` returns ``(pred, z)``, both
            ``(B, n_future, code)`` (:class:`~mer_ser.models.CPC`).
        cfg: the training configuration (``optimizer="adam"``, ``lr_decay``).
        objective: ``"binary"`` (the paper) or ``"infonce"``.

    Returns:
        ``(fit, apply)``: ``fit(key, fold, x) -> FitResult`` for windows ``x`` ``(N, S, ...)``
        (``params = (params, rest)``); ``apply(state, windows)`` gives ``(pred, z)`` in
        evaluation mode.
    """
    if objective not in ("binary", "infonce"):
        raise ValueError(f"objective must be 'binary' or 'infonce', got {objective!r}")
    init, forward = _stateful_model(build, cfg.compute_dtype)

    def loss(pred, z, w, shift):
        if objective == "infonce":
            k = pred.shape[1]
            return sum(losses.info_nce(pred[:, i], z[:, i]) for i in range(k)) / k
        return losses.cpc_batch_loss(pred, z, shift, mask=w)

    def fit(key, fold: Fold, x) -> FitResult:
        has_val = fold.val_w.sum() > 0
        b = min(cfg.batch_size, fold.train_idx.shape[0])

        def loss_fn(p, r, idx, w, k):
            k_model, k_shift = jax.random.split(k)
            (pred, z), r = forward(p, r, x[idx], train=True, key=k_model)
            shift = jax.random.randint(k_shift, (), 1, max(b, 2))
            return loss(pred, z, w, shift), r

        def val_fn(p, r, train_loss):
            (pred, z), _ = forward(p, r, x[fold.val_idx], train=False)
            return jnp.where(has_val, loss(pred, z, fold.val_w, 1), train_loss)

        return _fit_stateful(cfg, init, key, fold, loss_fn, val_fn, x.dtype)

    def apply(state, windows):
        p, rest = state
        return forward(p, rest, windows, train=False)[0]

    return fit, apply


def make_fit(
    build: Callable[[nnx.Rngs], nnx.Module],
    cfg: TrainConfig,
    *,
    restrict: Callable[[dict, dict], dict] | None = None,
):
    """A pure fit function for a sequence-to-sequence regressor.

    Args:
        build: ``rngs -> model``; the model is called as ``model(x, mask, noise_sd=, key=)``.
        cfg: the training configuration.
        restrict: optional ``(params, hyper) -> params`` applied to the initial parameters,
            e.g. :meth:`~mer_ser.models.ContinuousRegressor.restrict`, which switches off the
            blocks beyond ``hyper["hidden1"]``/``hyper["hidden2"]`` so that layer sizes are
            ``vmap`` axes of one program (the switched-off weights stay exactly 0 in training).

    Returns:
        ``(fit, apply)``. ``fit(key, fold, x, m, y, hyper=None, preset=None) -> FitResult``
        trains one model (jit and vmap it over ``key``, ``fold`` and ``hyper``); ``x`` is
        ``(N, T, F)``, ``m`` ``(N, T)``, ``y`` ``(N, T, D)``. ``hyper`` optionally holds scalar
        ``learning_rate`` and ``input_noise`` overriding ``cfg`` (so a grid over them is a
        ``vmap`` axis of one compiled program); ``preset`` is a pure dict of parameters that
        replaces the random initialisation of those submodules (e.g. ``{"lstm1": dae_encoder}``
        for CD_TL, with ``cfg.freeze=("lstm1",)``). ``apply(params, stats, x, m)`` predicts on
        the original label scale.
    """
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: build(nnx.Rngs(0))))
    dtype = compute_dtype(cfg.compute_dtype)

    def init(key):
        return nnx.to_pure_dict(nnx.state(build(nnx.Rngs(key)), nnx.Param))

    def forward(params, x, m, key=None, noise=cfg.input_noise):
        if dtype == jnp.float32:
            return merge_pure(graphdef, abstract, params)(x, m, noise_sd=noise, key=key)
        model = merge_pure(graphdef, abstract, cast_floating(params, dtype))  # mixed precision
        return model(x.astype(dtype), m, noise_sd=noise, key=key).astype(jnp.float32)

    def seq_loss(pred, y, m, w):
        if cfg.loss == "ccc":
            return losses.ccc_loss(pred, y, m, weights=w)
        return losses.mse_loss(pred, y, m, weights=w)

    def fit(key, fold: Fold, x, m, y, hyper=None, preset=None) -> FitResult:
        hyper = hyper or {}
        noise = hyper.get("input_noise", cfg.input_noise)
        k_init, k_loop = jax.random.split(key)
        params = init(k_init)
        if preset:
            unknown = set(preset) - set(params)
            if unknown:
                raise ValueError(f"preset names unknown submodules {sorted(unknown)}")
            params = {**params, **preset}
        if restrict is not None:
            params = restrict(params, hyper)
        st = _standardiser(x, m, y, fold.train_idx, fold.train_w, cfg)
        xs = jnp.where(m[..., None], (x - st.x_mean) / st.x_std, 0.0)
        ys = jnp.where(m[..., None], (y - st.y_mean) / st.y_std, 0.0)
        has_val = fold.val_w.sum() > 0

        def loss_fn(p, rest, idx, w, k):
            return seq_loss(forward(p, xs[idx], m[idx], k, noise), ys[idx], m[idx], w), rest

        def val_fn(p, rest, train_loss):
            vi = fold.val_idx
            v = seq_loss(forward(p, xs[vi], m[vi]), ys[vi], m[vi], fold.val_w)
            return jnp.where(has_val, v, train_loss)  # no validation set: monitor training

        res = _train_loop(
            cfg,
            params=params,
            rest={},
            tx=make_optimizer(cfg, params, hyper.get("learning_rate")),
            fold=fold,
            loss_fn=loss_fn,
            val_fn=val_fn,
            key=k_loop,
            dtype=x.dtype,
        )
        return res._replace(params=res.params[0], stats=st)

    def apply(params, stats: Standardiser, x, m):
        xs = jnp.where(m[..., None], (x - stats.x_mean) / stats.x_std, 0.0)
        return forward(params, xs, m) * stats.y_std + stats.y_mean

    return fit, apply


def make_classifier_fit(
    build: Callable[[nnx.Rngs], nnx.Module], cfg: TrainConfig, *, n_classes: int = 4
):
    """A pure fit function for a clip classifier (the quadrant track).

    The model is called as ``model(x, train=, key=)`` and returns quadrant logits ``(B, C)`` or
    the multi-task dict of :class:`~mer_ser.models.MultiTaskHead` (then trained with
    :func:`~mer_ser.losses.multitask_loss` and monitored on its quadrant logits). Batch-norm
    statistics are threaded through training. The kept parameters are those of the best
    validation epoch by ``cfg.monitor`` (Rodningen 2022: best checkpoint on validation accuracy,
    patience 30, at most 200 epochs).

    Args:
        build: ``rngs -> model``.
        cfg: the training configuration (``optimizer="adam"`` for the papers' classifiers).
        n_classes: number of classes (4 quadrants).

    Returns:
        ``(fit, apply)``: ``fit(key, fold, x, labels, preset=None) -> FitResult`` with ``params =
        (params, rest)``; ``apply(state, x)`` gives quadrant logits in evaluation mode. ``preset``
        ``(params, state)``, two pure dicts keyed by top-level submodule, replaces those
        submodules' initial weights and batch statistics (a pretrained encoder: Gomez-Canon et al.
        2021's transfer; with ``cfg.freeze = ("encoder",)`` it is their *Feat. Ext.* mode).
        ``apply(state, x, heads=True)`` returns a multi-task model's whole output dict.
    """
    if cfg.monitor not in ("loss", "accuracy", "macro_f1"):
        raise ValueError(f"monitor must be loss, accuracy or macro_f1, got {cfg.monitor!r}")
    init, forward = _stateful_model(build, cfg.compute_dtype)

    cw = None if cfg.class_weights is None else jnp.asarray(cfg.class_weights)

    def objective(out, y, w):
        if isinstance(out, dict):
            return multitask_loss(out, y, mask=w, class_weights=cw)
        return losses.cross_entropy(out, y, mask=w, class_weights=cw)

    def quadrant_logits(out):
        return out["quadrant"] if isinstance(out, dict) else out

    def fit(key, fold: Fold, x, labels, preset=None) -> FitResult:
        has_val = fold.val_w.sum() > 0

        def loss_fn(p, r, idx, w, k):
            out, r = forward(p, r, x[idx], train=True, key=k)
            return objective(out, labels[idx], w) + l1_penalty(p, cfg.l1), r

        def val_fn(p, r, train_loss):
            vi, vw = fold.val_idx, fold.val_w
            out, _ = forward(p, r, x[vi], train=False)
            if cfg.monitor == "loss":
                v = objective(out, labels[vi], vw)
            elif cfg.monitor == "accuracy":
                v = -losses.accuracy(quadrant_logits(out), labels[vi], mask=vw)
            else:
                v = -losses.macro_f1(quadrant_logits(out), labels[vi], n_classes, mask=vw)
            return jnp.where(has_val, v, train_loss)

        return _fit_stateful(cfg, init, key, fold, loss_fn, val_fn, x.dtype, preset)

    def apply(state, x, heads: bool = False):
        p, rest = state
        out = forward(p, rest, x, train=False)[0]
        return out if heads else quadrant_logits(out)

    return fit, apply
