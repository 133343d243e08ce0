"""Rodningen 2022's DCNN and ADCRNN: parameter counts, shapes, attention pooling, a step learns."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mer_ser import losses
from mer_ser.losses import l1_penalty
from mer_ser.models import LSTMDAE, ContinuousRegressor
from mer_ser.models.autoencoders import CPC, SCAE
from mer_ser.models.conv import (
    ADCRNN,
    DCNN,
    DCNNBlock,
    attention_pool,
    count_params,
    output_grid,
)


@pytest.mark.parametrize(
    ("cls", "want", "thesis", "tolerance"),
    [(DCNN, 38_879_300, 39e6, 0.01), (ADCRNN, 2_806_724, 3e6, 0.1)],
)
def test_parameter_counts_at_the_thesis_input(cls, want, thesis, tolerance):
    """(1001, 40, 3) inputs. DCNN: conv 3,584 + dilated 73,792 + 36,928 + dense 302,784 x 128 ...
    ADCRNN: the same convolutions, batch norm 512, dense 311,552, BiLSTM 1,050,624, dilated LSTMs
    787,456 + 525,312, attention 256, dense 16,448 + 260."""
    n = count_params(lambda r: cls(rngs=r))
    print(f"{cls.__name__}: {n:,} parameters (thesis: roughly {thesis / 1e6:g} M)")
    assert n == want
    assert abs(n - thesis) / thesis < tolerance


def test_output_grid_follows_valid_conv_and_pooling():
    assert output_grid(1001, 40) == (249, 19)


@pytest.mark.slow
@pytest.mark.parametrize("cls", [DCNN, ADCRNN])
def test_models_give_logits_for_small_inputs(cls):
    m = cls(n_frames=61, rngs=nnx.Rngs(0))
    x = jnp.ones((3, 61, 40, 3))
    assert m(x).shape == (3, 4)
    out = m(x, train=True, key=jax.random.key(1))
    assert out.shape == (3, 4) and np.isfinite(np.asarray(out)).all()


def test_block_keeps_time_steps_local():
    """The per-time-step reshape is meaningful: early pooled steps ignore late input frames."""
    block = DCNNBlock(rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).standard_normal((1, 81, 40, 3)), jnp.float32)
    y = x.at[:, 60:].set(0.0)
    a, b = block(x), block(y)
    assert np.allclose(a[:, :5], b[:, :5]) and not np.allclose(a[:, -3:], b[:, -3:])


def test_attention_pooling_matches_eqs_4_1_and_4_2(rng):
    h = rng.standard_normal((2, 7, 5))
    w = rng.standard_normal(5)
    s = h @ w
    alpha = np.exp(s - s.max(1, keepdims=True))
    alpha /= alpha.sum(1, keepdims=True)
    c, a = attention_pool(jnp.asarray(h), jnp.asarray(w))
    np.testing.assert_allclose(a, alpha, rtol=1e-5)
    np.testing.assert_allclose(c, (alpha[..., None] * h).sum(1), rtol=1e-5, atol=1e-6)
    mask = jnp.asarray(np.arange(7)[None] < np.array([[7], [3]]))
    _, am = attention_pool(jnp.asarray(h), jnp.asarray(w), mask)
    assert float(am[1, 3:].sum()) == 0.0 and float(am[1].sum()) == pytest.approx(1.0)


def test_l1_penalty_counts_kernels_only():
    m = DCNN(n_frames=21, rngs=nnx.Rngs(0))
    p = nnx.to_pure_dict(nnx.state(m, nnx.Param))
    want = sum(
        float(jnp.abs(v).sum())
        for path, v in jax.tree_util.tree_leaves_with_path(p)
        if str(path[-1].key) == "kernel"
    )
    assert float(l1_penalty(p, 0.001)) == pytest.approx(0.001 * want, rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("cls", [DCNN, ADCRNN])
def test_a_few_adam_steps_lower_the_loss_on_a_small_batch(cls):
    frames = 41
    model = cls(n_frames=frames, rngs=nnx.Rngs(0))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(1e-3)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((8, frames, 40, 3)), jnp.float32)
    y = jnp.asarray(np.arange(8) % 4)

    def loss_fn(p, r):
        m = nnx.merge(graphdef, p, r, copy=True)
        return losses.cross_entropy(m(x, train=True, key=jax.random.key(0)), y)

    @jax.jit
    def step(p, o):
        loss, g = jax.value_and_grad(loss_fn)(p, rest)
        upd, o = tx.update(g, o, p)
        return optax.apply_updates(p, upd), o, loss

    o = tx.init(params)
    first = None
    for _ in range(15):
        params, o, loss = step(params, o)
        first = first if first is not None else float(loss)
    assert float(loss) < 0.7 * first


def test_reshape_max_pool_equals_flax_max_pool_and_its_gradient():
    from mer_ser.models.conv import pool_max

    rng = np.random.default_rng(5)
    h = jnp.asarray(rng.standard_normal((2, 19, 9, 3)), jnp.float32)  # remainders are dropped
    ref = lambda a: nnx.max_pool(a, (4, 2), strides=(4, 2), padding="VALID")  # noqa: E731
    np.testing.assert_array_equal(pool_max(h, (4, 2)), ref(h))
    w = jnp.asarray(rng.standard_normal((2, 4, 4, 3)), jnp.float32)
    g1 = jax.grad(lambda a: (pool_max(a, (4, 2)) * w).sum())(h)
    g2 = jax.grad(lambda a: (ref(a) * w).sum())(h)  # no ties in Gaussian data
    np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize(
    "build",
    [
        lambda r: DCNN(101, rngs=r),
        lambda r: ADCRNN(101, rngs=r),
        lambda r: ContinuousRegressor(rngs=r),
        lambda r: LSTMDAE(rngs=r),
        lambda r: SCAE(rngs=r),
        lambda r: CPC(rngs=r),
    ],
    ids=["DCNN", "ADCRNN", "regressor", "LSTM-DAE", "SCAE", "CPC"],
)
def test_no_model_starts_with_weakly_typed_state(build):
    """A weakly typed float leaf becomes strongly typed after one optimiser update, so a jitted
    step taking the state would compile again (twice with Adam: seconds each, every run)."""
    state = nnx.state(build(nnx.Rngs(0)))
    weak = [
        jax.tree_util.keystr(p)
        for p, a in jax.tree_util.tree_leaves_with_path(state)
        if getattr(a, "weak_type", False)
    ]
    assert weak == []


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("shape", [(2, 9, 8, 3), (2, 10, 7, 4)])
def test_written_out_conv_gradient_equals_xla_autodiff(rng, padding, dilation, shape):
    """On a CPU, ``conv2d``'s custom VJP (per-tap kernel gradient, flipped-kernel input gradient)
    against JAX's differentiation of ``lax.conv_general_dilated``, odd and even sizes."""
    from mer_ser.models.conv import conv2d

    assert jax.default_backend() == "cpu"  # the written-out gradient is the CPU path

    def reference(x, w, padding, dilation):
        dims = ("NHWC", "HWIO", "NHWC")
        return jax.lax.conv_general_dilated(x, w, (1, 1), padding,
                                            rhs_dilation=(dilation, dilation),
                                            dimension_numbers=dims)  # fmt: skip

    x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
    w = jnp.asarray(rng.standard_normal((3, 3, shape[-1], 5)), jnp.float32)
    ct = jnp.asarray(rng.standard_normal(reference(x, w, padding, dilation).shape), jnp.float32)

    def loss(f):
        return lambda x, w: (f(x, w, padding, dilation) * ct).sum()

    np.testing.assert_allclose(conv2d(x, w, padding, dilation), reference(x, w, padding, dilation),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    want = jax.grad(loss(reference), argnums=(0, 1))(x, w)
    got = jax.grad(loss(conv2d), argnums=(0, 1))(x, w)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("dilation", [2, 3])
@pytest.mark.parametrize("shape", [(2, 249, 19, 3), (2, 10, 7, 4), (1, 9, 8, 2)])
def test_a_dilated_convolution_by_phases_is_the_dilated_convolution(rng, padding, dilation, shape):
    """The GPU's dense form of a dilated convolution (its ``d x d`` input phases through one
    undilated convolution) against ``lax.conv_general_dilated``: values and both gradients, at
    the DCNN's pooled map (249 x 19) and at odd and even sizes."""
    from mer_ser.models.conv import dilated_by_phases

    def reference(x, w):
        return jax.lax.conv_general_dilated(
            x, w, (1, 1), padding, rhs_dilation=(dilation,) * 2,
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )  # fmt: skip

    x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
    w = jnp.asarray(rng.standard_normal((3, 3, shape[-1], 5)), jnp.float32)
    want = reference(x, w)
    got = dilated_by_phases(x, w, padding, dilation)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    ct = jnp.asarray(rng.standard_normal(want.shape), jnp.float32)
    g_want = jax.grad(lambda x, w: (reference(x, w) * ct).sum(), argnums=(0, 1))(x, w)
    g_got = jax.grad(
        lambda x, w: (dilated_by_phases(x, w, padding, dilation) * ct).sum(), argnums=(0, 1)
    )(x, w)
    for g, r in zip(g_got, g_want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)


def test_conv_layer_computes_what_flax_conv_computes(rng):
    from mer_ser.models.conv import Conv

    ours = Conv(3, 4, padding="SAME", dilation=2, rngs=nnx.Rngs(0))
    flax_conv = nnx.Conv(3, 4, (3, 3), padding="SAME", kernel_dilation=2, rngs=nnx.Rngs(1))
    flax_conv.kernel[...] = ours.kernel[...]
    flax_conv.bias[...] = ours.bias[...] + 0.5
    ours.bias[...] = ours.bias[...] + 0.5
    x = jnp.asarray(rng.standard_normal((2, 9, 8, 3)), jnp.float32)
    np.testing.assert_allclose(ours(x), flax_conv(x), rtol=1e-6, atol=1e-6)
