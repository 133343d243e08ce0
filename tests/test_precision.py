"""Mixed precision (``TrainConfig(compute_dtype="bfloat16")``): bfloat16 arithmetic where the
models' big products are, float32 parameters, gradients, optimiser state and loss, the same
training curve as float32 within bfloat16's rounding, and no host round-trip in a compiled fit."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mer_ser.models import DCNN, ContinuousRegressor
from mer_ser.train import TrainConfig, folds_from_masks, make_classifier_fit, make_fit
from mer_ser.train.precision import cast_floating, compute_dtype, in_compute_dtype

FRAMES = 21


def _fold(n_train, n_val):
    tr, va = np.zeros((1, n_train + n_val), bool), np.zeros((1, n_train + n_val), bool)
    tr[0, :n_train], va[0, n_train:] = True, True
    return jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))


@pytest.fixture(scope="module")
def quadrant_clips():
    """48 log-mel-shaped clips whose quadrant shifts the mean of one mel band per class."""
    rng = np.random.default_rng(0)
    y = np.arange(48) % 4
    x = rng.standard_normal((48, FRAMES, 40, 3)).astype(np.float32)
    for q in range(4):
        x[y == q, :, 5 + 8 * q, :] += 1.5
    return jnp.asarray(x), jnp.asarray(y)


def _dcnn_fit(dtype: str, epochs: int = 8):
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=3e-4,
        batch_size=8,
        max_epochs=epochs,
        patience=epochs + 1,
        monitor="loss",
        l1=DCNN.l1,
        compute_dtype=dtype,
    )
    return make_classifier_fit(lambda r: DCNN(FRAMES, rngs=r), cfg)


def test_an_unknown_compute_dtype_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"float32, bfloat16.*'float16'"):
        compute_dtype("float16")
    with pytest.raises(ValueError, match="compute_dtype"):
        make_fit(lambda r: ContinuousRegressor(4, (3, 2), rngs=r), TrainConfig(compute_dtype="fp8"))


def test_casting_touches_floating_leaves_only():
    tree = {"w": jnp.ones(3), "n": jnp.arange(3), "k": jax.random.key(0)}
    out = cast_floating(tree, jnp.bfloat16)
    assert out["w"].dtype == jnp.bfloat16 and out["n"].dtype == tree["n"].dtype
    assert out["k"] is tree["k"]
    assert in_compute_dtype(len, "float32") is len  # float32: the function itself


def test_bfloat16_training_follows_the_float32_curve(quadrant_clips):
    x, y = quadrant_clips
    fold = _fold(40, 8)
    curves = {}
    for dt in ("float32", "bfloat16"):
        fit, apply = _dcnn_fit(dt)
        res = jax.jit(fit)(jax.random.key(0), fold, x, y)
        assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(res.params[0]))
        assert res.train_loss.dtype == jnp.float32
        curves[dt] = np.asarray(res.train_loss), np.asarray(res.val_loss)
        logits = apply(res.params, x[40:])
        assert logits.dtype == jnp.float32
    (f32, v32), (bf16, vbf) = curves["float32"], curves["bfloat16"]
    assert np.all(np.isfinite(bf16)) and np.all(np.isfinite(vbf))
    # The same initialisation, batches and dropout masks: the curves differ by bfloat16's
    # rounding (8 bits of mantissa, a relative step of 2^-8 per operation) accumulated over
    # 40 Adam steps. The training loss is mostly the L1 term of the 38 k weights; the
    # validation loss is the cross-entropy alone, which both precisions bring from ln 4 to
    # below 0.95.
    np.testing.assert_allclose(bf16, f32, rtol=0.02)
    np.testing.assert_allclose(vbf, v32, atol=0.1)
    assert v32[-1] < 0.95 and vbf[-1] < 0.95


def _loss_jaxpr(dtype: str, quadrant_clips):
    """The jaxpr of one gradient of the DCNN's training loss under ``dtype``."""
    from mer_ser import losses
    from mer_ser.train.engine import _stateful_model

    x, y = quadrant_clips
    init, forward = _stateful_model(lambda r: DCNN(FRAMES, rngs=r), dtype)
    p, rest = init(jax.random.key(0))

    def loss(p):
        out, _ = forward(p, rest, x[:4], train=True, key=jax.random.key(1))
        return losses.cross_entropy(out, y[:4]) + losses.l1_penalty(p, DCNN.l1)

    return jax.make_jaxpr(jax.grad(loss))(p), jax.grad(loss)(p)


def _eqns(jaxpr):
    """Every equation of ``jaxpr``, those of its inner jaxprs (loops, branches, VJPs) too."""
    for e in jaxpr.eqns:
        yield e
        for v in e.params.values():
            for sub in v if isinstance(v, (tuple, list)) else (v,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _eqns(inner)


def test_convolutions_run_in_bfloat16_and_every_reduction_of_the_loss_in_float32(
    quadrant_clips,
):
    closed, grads = _loss_jaxpr("bfloat16", quadrant_clips)
    eqns = list(_eqns(closed.jaxpr))
    convs = [e for e in eqns if e.primitive.name == "conv_general_dilated"]
    assert convs and all(v.aval.dtype == jnp.bfloat16 for e in convs for v in e.invars)
    dots = [e for e in eqns if e.primitive.name == "dot_general"]
    assert any(v.aval.dtype == jnp.bfloat16 for e in dots for v in e.invars)  # the dense layers
    # Sums to a scalar (the batch mean of the cross-entropy, the L1 penalty) stay float32.
    scalar_sums = [
        e for e in eqns if e.primitive.name == "reduce_sum" and e.outvars[0].aval.shape == ()
    ]
    assert scalar_sums and all(e.outvars[0].aval.dtype == jnp.float32 for e in scalar_sums)
    assert all(g.dtype == jnp.float32 for g in jax.tree.leaves(grads))


def test_the_lstm_recurrence_keeps_float32_state_under_bfloat16():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((6, 12, 10)), jnp.float32)
    m = jnp.ones((6, 12), bool)
    y = jnp.asarray(rng.standard_normal((6, 12, 2)), jnp.float32)
    base = TrainConfig(batch_size=2, max_epochs=3, patience=4, learning_rate=0.01)
    out = {}
    for dt in ("float32", "bfloat16"):
        cfg = dataclasses.replace(base, compute_dtype=dt)
        fit, apply = make_fit(lambda r: ContinuousRegressor(10, (8, 4), rngs=r), cfg)
        res = jax.jit(fit)(jax.random.key(0), _fold(4, 2), x, m, y)
        pred = apply(res.params, res.stats, x, m)
        assert pred.dtype == jnp.float32
        out[dt] = np.asarray(pred)
    np.testing.assert_allclose(out["bfloat16"], out["float32"], atol=0.05)


def test_a_compiled_fit_has_no_host_callbacks_or_transfers(quadrant_clips):
    x, y = quadrant_clips
    fit, _ = _dcnn_fit("bfloat16", epochs=2)
    lowered = jax.jit(fit).lower(jax.random.key(0), _fold(40, 8), x, y)
    hlo = lowered.as_text()
    for marker in ("callback", "infeed", "outfeed", "send(", "recv(", "host_compute"):
        assert marker not in hlo.lower(), marker
    jaxpr = jax.make_jaxpr(fit)(jax.random.key(0), _fold(40, 8), x, y)
    names = {e.primitive.name for e in _eqns(jaxpr.jaxpr)}
    assert not {n for n in names if "callback" in n}
