"""Losses and evaluation metrics in JAX, all masked so padding never counts.

Conventions (shared with the float64 references in ``tests/test_losses.py``):

* moments are population moments (divide by the number of valid frames);
* Pearson's r is 0 when either sequence is constant (undefined correlation carries no signal);
* CCC (Lin 1989; Coutinho & Schuller 2017, "Performance measures") is
  ``2 cov(x, y) / (var x + var y + (mean x - mean y)^2)`` and 1 when the denominator is 0, which
  happens only when both sequences are the same constant;
* NaN in the valid frames gives NaN (so the engine's divergence guard sees it).

Shapes: ``pred`` and ``target`` are ``(..., T)`` (time last) and ``mask`` is ``(..., T)``; the
per-sequence functions reduce the last axis, the ``*_concat`` functions pool every valid frame.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_TINY = 1e-12


def _moments(pred, target, mask, axis):
    m = jnp.broadcast_to(jnp.asarray(mask, pred.dtype), pred.shape)
    valid = m > 0
    # where, not multiplication: NaN or inf in padding must not leak (NaN * 0 is NaN).
    pred, target = jnp.where(valid, pred, 0.0), jnp.where(valid, target, 0.0)
    n = jnp.maximum(m.sum(axis=axis, keepdims=True), 1.0)
    mx = (pred * m).sum(axis=axis, keepdims=True) / n
    my = (target * m).sum(axis=axis, keepdims=True) / n
    dx, dy = jnp.where(valid, pred - mx, 0.0) * m, jnp.where(valid, target - my, 0.0) * m
    vx = (dx * dx).sum(axis=axis, keepdims=True) / n
    vy = (dy * dy).sum(axis=axis, keepdims=True) / n
    cov = (dx * dy).sum(axis=axis, keepdims=True) / n
    return tuple(jnp.squeeze(v, axis) for v in (mx, my, vx, vy, cov))


def ccc(pred, target, mask=None, *, axis=-1):
    """Concordance correlation coefficient along ``axis`` (per sequence by default)."""
    mask = jnp.ones_like(pred) if mask is None else mask
    mx, my, vx, vy, cov = _moments(pred, target, mask, axis)
    den = vx + vy + (mx - my) ** 2
    out = jnp.where(den > _TINY, 2.0 * cov / jnp.where(den > _TINY, den, 1.0), 1.0)
    return jnp.where(jnp.isnan(den), jnp.nan, out)  # NaN inputs must not look perfect


def pearson(pred, target, mask=None, *, axis=-1):
    """Pearson's r along ``axis``; 0 when either sequence is constant."""
    mask = jnp.ones_like(pred) if mask is None else mask
    _, _, vx, vy, cov = _moments(pred, target, mask, axis)
    ok = (vx > _TINY) & (vy > _TINY)
    out = jnp.where(ok, cov / jnp.sqrt(jnp.where(ok, vx * vy, 1.0)), 0.0)
    return jnp.where(jnp.isnan(vx * vy), jnp.nan, out)


def rmse(pred, target, mask=None, *, axis=-1):
    """Root mean squared error along ``axis`` over valid frames."""
    mask = jnp.ones_like(pred) if mask is None else jnp.asarray(mask, pred.dtype)
    n = jnp.maximum(mask.sum(axis=axis), 1.0)
    sq = jnp.where(mask > 0, (pred - target) ** 2, 0.0) * mask
    return jnp.sqrt(sq.sum(axis=axis) / n)


def _pooled(fn, pred, target, mask):
    mask = jnp.ones_like(pred) if mask is None else mask
    return fn(
        pred.reshape(-1), target.reshape(-1), jnp.asarray(mask, pred.dtype).reshape(-1), axis=0
    )


def ccc_concat(pred, target, mask=None):
    """CCC over all valid frames of all sequences pooled (concatenated)."""
    return _pooled(ccc, pred, target, mask)


def pearson_concat(pred, target, mask=None):
    """Pearson's r over all valid frames pooled."""
    return _pooled(pearson, pred, target, mask)


def rmse_concat(pred, target, mask=None):
    """RMSE over all valid frames pooled."""
    return _pooled(rmse, pred, target, mask)


def ccc_loss(pred, target, mask, *, weights=None, pooled: bool = False):
    """``1 - CCC`` averaged over output dimensions (Coutinho & Schuller's training objective).

    Args:
        pred: predictions, shape ``(B, T, D)``.
        target: gold standard, shape ``(B, T, D)``.
        mask: valid frames, shape ``(B, T)``.
        weights: per-sequence weights, shape ``(B,)`` (0 drops a sequence); default all 1.
        pooled: CCC over the concatenated sequences instead of the mean of per-sequence CCCs.

    Returns:
        Scalar loss.
    """
    p = jnp.moveaxis(pred, -1, 0)  # (D, B, T)
    t = jnp.moveaxis(target, -1, 0)
    w = jnp.ones(pred.shape[0], pred.dtype) if weights is None else jnp.asarray(weights, pred.dtype)
    if pooled:
        m = jnp.asarray(mask, pred.dtype) * w[:, None]
        c = jax.vmap(lambda a, b: ccc_concat(a, b, m))(p, t)
        return 1.0 - c.mean()
    c = jax.vmap(lambda a, b: ccc(a, b, mask))(p, t)  # (D, B)
    wsum = jnp.maximum(w.sum(), _TINY)
    return 1.0 - ((c * w).sum(axis=1) / wsum).mean()


def mse_loss(pred, target, mask, *, weights=None):
    """Mean squared error over valid frames (and optional per-sequence weights)."""
    m = jnp.asarray(mask, pred.dtype)
    if weights is not None:
        m = m * jnp.asarray(weights, pred.dtype)[:, None]
    m = m[..., None] if pred.ndim == m.ndim + 1 else m
    m = jnp.broadcast_to(m, pred.shape)
    sq = jnp.where(m > 0, (pred - target) ** 2, 0.0) * m
    return sq.sum() / jnp.maximum(m.sum(), _TINY)


def cross_entropy(logits, labels, *, mask=None, class_weights=None):
    """Mean categorical cross-entropy with integer labels.

    Args:
        logits: shape ``(B, C)``.
        labels: integers in ``[0, C)``, shape ``(B,)``.
        mask: which rows count, shape ``(B,)``.
        class_weights: per-class weights, shape ``(C,)`` (weighted mean, as Keras' class_weight).
    """
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, labels[:, None], axis=-1)[:, 0]
    w = jnp.ones_like(nll) if mask is None else jnp.asarray(mask, nll.dtype)
    if class_weights is not None:
        w = w * jnp.asarray(class_weights, nll.dtype)[labels]
    return (nll * w).sum() / jnp.maximum(w.sum(), _TINY)


def binary_cross_entropy(logits, labels, *, mask=None, pos_weight=None):
    """Mean binary cross-entropy from logits (numerically stable), labels in {0, 1}."""
    y = jnp.asarray(labels, logits.dtype)
    loss = jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    if pos_weight is not None:
        loss = loss * jnp.where(y > 0.5, pos_weight, 1.0)
    w = jnp.ones_like(loss) if mask is None else jnp.asarray(mask, loss.dtype)
    return (loss * w).sum() / jnp.maximum(w.sum(), _TINY)


def info_nce(pred, target, *, temperature: float = 1.0):
    """InfoNCE (van den Oord et al. 2018, eq. 4): each prediction against all targets in the batch.

    Args:
        pred: predicted codes, shape ``(N, D)``.
        target: true future codes, shape ``(N, D)``; row ``i`` is the positive of ``pred[i]``,
            every other row a negative.
        temperature: divides the scores.

    Returns:
        Scalar loss ``-mean_i log softmax_j(pred_i . target_j)[i]``.
    """
    scores = pred @ target.T / temperature
    return -jnp.mean(jnp.diagonal(jax.nn.log_softmax(scores, axis=-1)))


def cpc_binary_loss(scores, consecutive):
    """The binary CPC objective of Gomez-Canon et al. 2021: is the candidate the true next patch?

    Args:
        scores: logits of "consecutive", shape ``(N,)``.
        consecutive: 1 for true (consecutive) pairs, 0 for negatives drawn elsewhere.
    """
    return binary_cross_entropy(scores, consecutive)


def cpc_batch_loss(pred, z, shift, *, mask=None):
    """The binary CPC objective on a batch of windows, negatives taken from other windows.

    Gomez-Canon et al. 2021, section 3.3: a window's next patches "may follow or not". Each
    prediction ``pred[b, k]`` (``W_k c_t``) is scored (dot product) against its window's true
    k-th next code ``z[b, k]`` (label 1) and against ``z[(b - shift) mod B, k]``, another window's
    (label 0); the loss is the mean binary cross-entropy of the ``2 B n_future`` scores.

    Args:
        pred: ``(B, n_future, code)`` predicted codes.
        z: ``(B, n_future, code)`` codes of the true next patches.
        shift: offset ``1..B-1`` of the negative windows.
        mask: ``(B,)`` weights of the windows (0 for padding).
    """
    pos = (pred * z).sum(-1)
    neg = (pred * jnp.roll(z, shift, axis=0)).sum(-1)
    w = jnp.ones(pos.shape[0], pos.dtype) if mask is None else jnp.asarray(mask, pos.dtype)
    rows = jnp.broadcast_to(w[:, None], pos.shape)
    scores = jnp.concatenate([pos, neg])
    labels = jnp.concatenate([jnp.ones_like(pos), jnp.zeros_like(neg)])
    return binary_cross_entropy(scores, labels, mask=jnp.concatenate([rows, rows]))


def accuracy(logits, labels, *, mask=None):
    """Share of rows whose arg-max class equals the label (masked rows ignored)."""
    hit = (jnp.argmax(logits, axis=-1) == labels).astype(logits.dtype)
    w = jnp.ones_like(hit) if mask is None else jnp.asarray(mask, hit.dtype)
    return (hit * w).sum() / jnp.maximum(w.sum(), _TINY)


def macro_f1(logits, labels, n_classes: int, *, mask=None):
    """Unweighted mean over classes of F1 = 2 TP / (2 TP + FP + FN).

    Classes absent from both labels and predictions are left out of the mean (as scikit-learn
    does when ``labels`` lists only the present classes).
    """
    pred = jnp.argmax(logits, axis=-1)
    w = jnp.ones(labels.shape, logits.dtype) if mask is None else jnp.asarray(mask, logits.dtype)
    c = jnp.arange(n_classes)[:, None]
    p_c, y_c = (pred[None] == c) * w, (labels[None] == c) * w
    tp = (p_c * y_c).sum(1)
    fp = (p_c * (1 - y_c)).sum(1)
    fn = ((1 - p_c) * y_c).sum(1)
    present = (tp + fp + fn) > 0
    f1 = jnp.where(present, 2 * tp / jnp.maximum(2 * tp + fp + fn, _TINY), 0.0)
    return f1.sum() / jnp.maximum(present.sum(), 1)


#: Quadrant -> (arousal positive, valence positive): Q1 (+,+), Q2 (+,-), Q3 (-,-), Q4 (-,+).
AROUSAL_OF_QUADRANT = jnp.array([1, 1, 0, 0])
VALENCE_OF_QUADRANT = jnp.array([1, 0, 0, 1])


def multitask_loss(logits: dict, quadrant, *, mask=None, class_weights=None):
    """Cross-entropy on quadrants plus binary cross-entropy on arousal and valence signs.

    Args:
        logits: output of :class:`~mer_ser.models.MultiTaskHead`.
        quadrant: integer labels 0..3 for Q1..Q4, shape ``(B,)``.
        mask: rows that count.
        class_weights: optional quadrant weights (the imbalance option).
    """
    q = cross_entropy(logits["quadrant"], quadrant, mask=mask, class_weights=class_weights)
    a = binary_cross_entropy(logits["arousal"], AROUSAL_OF_QUADRANT[quadrant], mask=mask)
    v = binary_cross_entropy(logits["valence"], VALENCE_OF_QUADRANT[quadrant], mask=mask)
    return q + a + v


def l1_penalty(params, scale: float):
    """``scale * sum |W|`` over kernel weights, as Keras' ``kernel_regularizer=l1``.

    Biases, batch-norm parameters and the attention vector are not penalised.
    """
    total = 0.0
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        name = str(getattr(path[-1], "key", path[-1]))
        if name in ("kernel", "w_x", "w_h"):
            total = total + jnp.abs(leaf).sum()
    return scale * total
