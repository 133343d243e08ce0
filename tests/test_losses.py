"""Losses and metrics agree with float64 numpy/scipy references, padding included."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from mer_ser import losses as L


def ref_ccc(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return 1.0 if den == 0 else 2 * np.mean((x - x.mean()) * (y - y.mean())) / den


def ref_pearson(x, y):
    if np.std(x) == 0 or np.std(y) == 0:
        return 0.0
    return stats.pearsonr(np.asarray(x, np.float64), np.asarray(y, np.float64))[0]


def ref_rmse(x, y):
    return np.sqrt(np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2))


@pytest.fixture
def padded(rng):
    """Three sequences of lengths 50, 31 and 7 padded to 50, with garbage in the padding."""
    lengths = [50, 31, 7]
    x = rng.standard_normal((3, 50)).astype(np.float32)
    y = (0.6 * x + 0.5 * rng.standard_normal((3, 50)) + 0.2).astype(np.float32)
    m = np.arange(50)[None, :] < np.array(lengths)[:, None]
    x[~m], y[~m] = 1e3, -1e3
    return x, y, m, lengths


@pytest.mark.parametrize(
    ("fn", "ref"), [(L.ccc, ref_ccc), (L.pearson, ref_pearson), (L.rmse, ref_rmse)]
)
def test_per_sequence_metrics_match_references_on_padded_batches(padded, fn, ref):
    x, y, m, lengths = padded
    got = np.asarray(fn(jnp.asarray(x), jnp.asarray(y), jnp.asarray(m)))
    want = [ref(x[i, :n], y[i, :n]) for i, n in enumerate(lengths)]
    np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize(
    ("fn", "ref"),
    [(L.ccc_concat, ref_ccc), (L.pearson_concat, ref_pearson), (L.rmse_concat, ref_rmse)],
)
def test_pooled_metrics_match_references_on_concatenated_sequences(padded, fn, ref):
    x, y, m, lengths = padded
    got = float(fn(jnp.asarray(x), jnp.asarray(y), jnp.asarray(m)))
    cat = lambda a: np.concatenate([a[i, :n] for i, n in enumerate(lengths)])  # noqa: E731
    assert got == pytest.approx(ref(cat(x), cat(y)), abs=1e-6)


def test_constant_sequences_are_defined():
    c = jnp.full((10,), 0.3)
    z = jnp.linspace(-1, 1, 10)
    assert float(L.ccc(c, c)) == 1.0
    assert float(L.ccc(c, c + 0.5)) == pytest.approx(0.0)
    assert float(L.pearson(c, z)) == 0.0
    assert float(L.ccc(c, z)) == pytest.approx(ref_ccc(np.full(10, 0.3), np.linspace(-1, 1, 10)))
    grads = jax.grad(lambda p: L.ccc_loss(p[None, :, None], p[None, :, None], jnp.ones((1, 10))))(c)
    assert np.isfinite(np.asarray(grads)).all()


def test_ccc_loss_averages_dimensions_and_respects_weights(padded):
    x, y, m, lengths = padded
    pred = jnp.stack([x, -x], axis=-1)
    tgt = jnp.stack([y, y], axis=-1)
    kept = list(enumerate(lengths[:2]))  # the third sequence has weight 0
    per_dim = [np.mean([ref_ccc(pred[i, :n, d], tgt[i, :n, d]) for i, n in kept]) for d in range(2)]
    want = 1 - np.mean(per_dim)
    got = L.ccc_loss(pred, tgt, jnp.asarray(m), weights=jnp.array([1.0, 1.0, 0.0]))
    assert float(got) == pytest.approx(want, abs=1e-6)


def test_cross_entropies_match_numpy(rng):
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2, 0])
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    cw = np.array([1.0, 2.0, 0.5, 1.0])
    w = cw[labels]
    want = -(np.log(p[np.arange(6), labels]) * w).sum() / w.sum()
    got = L.cross_entropy(jnp.asarray(logits), jnp.asarray(labels), class_weights=jnp.asarray(cw))
    assert float(got) == pytest.approx(want, rel=1e-5)
    z = rng.standard_normal(8)
    t = (rng.random(8) > 0.5).astype(float)
    s = 1 / (1 + np.exp(-z))
    want = -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert float(L.binary_cross_entropy(jnp.asarray(z), jnp.asarray(t))) == pytest.approx(
        want, rel=1e-5
    )


def test_info_nce_is_cross_entropy_over_the_batch(rng):
    a = rng.standard_normal((5, 3))
    b = rng.standard_normal((5, 3))
    s = a @ b.T
    want = -np.mean(np.diag(s - np.log(np.exp(s).sum(1, keepdims=True))))
    assert float(L.info_nce(jnp.asarray(a), jnp.asarray(b))) == pytest.approx(want, rel=1e-5)


def test_nan_inputs_give_nan_not_a_perfect_score():
    x = jnp.array([0.1, jnp.nan, 0.3])
    assert np.isnan(float(L.ccc(x, x))) and np.isnan(float(L.pearson(x, x)))
    assert float(L.ccc(x, x, jnp.array([1.0, 0.0, 1.0]))) == pytest.approx(1.0)  # NaN is padding
