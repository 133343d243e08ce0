"""The LSTM layer implements Coutinho & Schuller eqs. (1)-(5); padding never leaks; dilation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mer_ser.models import LSTM, LSTMDAE, ContinuousRegressor
from mer_ser.models.lstm import bidirectional


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference_lstm(layer: LSTM, x, *, dilation=1):
    """Float64 loop over eqs. (1)-(5); step t reads the state of step t - dilation."""
    wx, wh, b = (np.asarray(p[...], np.float64) for p in (layer.w_x, layer.w_h, layer.b))
    wc = np.asarray(layer.w_c[...], np.float64) if layer.peephole else np.zeros((3, layer.n_hidden))
    h_hist, c_hist = {}, {}
    out = []
    zeros = np.zeros((x.shape[0], layer.n_hidden))
    for t in range(x.shape[1]):
        h_prev, c_prev = h_hist.get(t - dilation, zeros), c_hist.get(t - dilation, zeros)
        z = x[:, t] @ wx + h_prev @ wh + b
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        i = sigmoid(zi + wc[0] * c_prev)  # (1)
        f = sigmoid(zf + wc[1] * c_prev)  # (2)
        c = i * np.tanh(zc) + f * c_prev  # (3)
        o = sigmoid(zo + wc[2] * c)  # (4)
        h = o * np.tanh(c)  # (5)
        h_hist[t], c_hist[t] = h, c
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("peephole", [True, False])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_lstm_matches_the_paper_equations(rng, peephole, dilation):
    layer = LSTM(6, 5, peephole=peephole, init_scale=0.5, rngs=nnx.Rngs(1))
    x = rng.standard_normal((3, 11, 6))
    got = np.asarray(layer(jnp.asarray(x, jnp.float32), dilation=dilation))
    np.testing.assert_allclose(got, reference_lstm(layer, x, dilation=dilation), atol=2e-6)


def test_reverse_runs_backwards_in_time(rng):
    layer = LSTM(4, 3, rngs=nnx.Rngs(2), init_scale=0.5)
    x = jnp.asarray(rng.standard_normal((2, 9, 4)), jnp.float32)
    np.testing.assert_allclose(layer(x, reverse=True), layer(x[:, ::-1])[:, ::-1], atol=1e-6)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dilation", [1, 2])
def test_padding_never_leaks(rng, reverse, dilation):
    layer = LSTM(4, 3, rngs=nnx.Rngs(3), init_scale=0.5)
    lengths = [9, 5, 2]
    x = rng.standard_normal((3, 9, 4)).astype(np.float32)
    m = np.arange(9)[None] < np.array(lengths)[:, None]
    x[~m] = 1e3  # garbage in the padding
    batch = np.asarray(layer(jnp.asarray(x), jnp.asarray(m), reverse=reverse, dilation=dilation))
    for i, n in enumerate(lengths):
        alone = np.asarray(layer(jnp.asarray(x[i : i + 1, :n]), reverse=reverse, dilation=dilation))
        np.testing.assert_allclose(batch[i, :n], alone[0], atol=1e-6)
        assert not batch[i, n:].any()


@pytest.mark.parametrize("peephole", [False, True])
def test_one_loop_bilstm_equals_the_two_directions_run_apart(rng, peephole):
    fwd = LSTM(4, 3, peephole=peephole, rngs=nnx.Rngs(4), init_scale=0.5)
    bwd = LSTM(4, 3, peephole=peephole, rngs=nnx.Rngs(5), init_scale=0.5)
    x = jnp.asarray(rng.standard_normal((3, 8, 4)), jnp.float32)
    m = jnp.asarray(np.arange(8)[None] < np.array([8, 5, 1])[:, None])
    want = np.concatenate([fwd(x, m), bwd(x, m, reverse=True)], axis=-1)
    np.testing.assert_allclose(bidirectional(fwd, bwd, x, m), want, atol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        bidirectional(fwd, LSTM(4, 2, peephole=peephole, rngs=nnx.Rngs(6)), x)


def _reference_loss(p: dict, x, m, ct, *, reverse=False, dilation=1):
    """Float64 ``sum(h_t * ct_t)`` of eqs. (1)-(5), each sequence run alone on its valid steps."""
    total = 0.0
    for n in range(x.shape[0]):
        steps = np.flatnonzero(m[n])
        order = steps[::-1] if reverse else steps
        h_hist, c_hist = {}, {}
        zeros = np.zeros(p["w_h"].shape[0])
        for j, t in enumerate(order):
            h_prev, c_prev = h_hist.get(j - dilation, zeros), c_hist.get(j - dilation, zeros)
            zi, zf, zc, zo = np.split(x[n, t] @ p["w_x"] + h_prev @ p["w_h"] + p["b"], 4)
            wc = p.get("w_c", np.zeros((3, zeros.size)))
            i, f = sigmoid(zi + wc[0] * c_prev), sigmoid(zf + wc[1] * c_prev)
            c = i * np.tanh(zc) + f * c_prev
            h = sigmoid(zo + wc[2] * c) * np.tanh(c)
            h_hist[j], c_hist[j] = h, c
            total += h @ ct[n, t]
    return total


@pytest.mark.parametrize("peephole", [True, False])
@pytest.mark.parametrize(("reverse", "dilation"), [(False, 1), (True, 1), (False, 2)])
def test_gradients_match_finite_differences_of_the_equations(rng, peephole, reverse, dilation):
    """The hand-written backward pass (back-propagation through time) against float64
    central differences of eqs. (1)-(5), padding included."""
    layer = LSTM(3, 2, peephole=peephole, init_scale=0.5, rngs=nnx.Rngs(8))
    x = rng.standard_normal((2, 7, 3))
    m = np.arange(7)[None] < np.array([7, 4])[:, None]
    ct = rng.standard_normal((2, 7, 2))
    graphdef, state = nnx.split(layer)
    params = {k: np.asarray(v, np.float64) for k, v in nnx.to_pure_dict(state).items()}

    def loss(p, xx):
        st = nnx.State(state)
        nnx.replace_by_pure_dict(st, p)
        h = nnx.merge(graphdef, st)(xx, jnp.asarray(m), reverse=reverse, dilation=dilation)
        return (h * jnp.asarray(ct, jnp.float32)).sum()

    f32 = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    g_p, g_x = jax.grad(loss, argnums=(0, 1))(f32, jnp.asarray(x, jnp.float32))
    eps = 1e-6
    for name, value in [*params.items(), ("x", x)]:
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[idx] += eps
            down[idx] -= eps
            if name == "x":
                fu = _reference_loss(params, up, m, ct, reverse=reverse, dilation=dilation)
                fd = _reference_loss(params, down, m, ct, reverse=reverse, dilation=dilation)
            else:
                fu = _reference_loss(
                    {**params, name: up}, x, m, ct, reverse=reverse, dilation=dilation
                )
                fd = _reference_loss(
                    {**params, name: down}, x, m, ct, reverse=reverse, dilation=dilation
                )
            num[idx] = (fu - fd) / (2 * eps)
        got = np.asarray(g_x if name == "x" else g_p[name])
        np.testing.assert_allclose(got, num, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("dilation", [1, 2])
def test_unrolling_the_loop_changes_no_result(rng, dilation):
    layer = LSTM(4, 3, rngs=nnx.Rngs(7), init_scale=0.5)
    x = jnp.asarray(rng.standard_normal((2, 11, 4)), jnp.float32)
    np.testing.assert_allclose(
        layer(x, dilation=dilation, unroll=4), layer(x, dilation=dilation), atol=1e-6
    )


def test_paper_initialisation_is_uniform_in_a_tenth():
    m = ContinuousRegressor(rngs=nnx.Rngs(0))
    leaves = jax.tree.leaves(nnx.state(m, nnx.Param))
    assert all(float(jnp.abs(p).max()) <= 0.1 for p in leaves)
    assert float(jnp.abs(m.lstm1.w_x[...]).max()) > 0.099


@pytest.mark.parametrize(
    ("hidden", "peephole", "count"),
    [
        ((200, 10), True, 369_400 + 8_470 + 22),
        ((200, 10), False, 368_800 + 8_440 + 22),
        ((50, 2), True, 62_350 + 430 + 6),
    ],
)
def test_regressor_parameter_counts(hidden, peephole, count):
    """4 H (F + H + 1) weights per LSTM layer, plus 3 H peepholes, plus the linear output."""
    m = ContinuousRegressor(260, hidden, peephole=peephole, rngs=nnx.Rngs(0))
    assert sum(p.size for p in jax.tree.leaves(nnx.state(m, nnx.Param))) == count


def test_dae_reconstructs_in_unit_range_and_noise_needs_a_key():
    dae = LSTMDAE(260, 50, rngs=nnx.Rngs(0))
    x = jnp.full((2, 5, 260), 0.5)
    clean = dae(x)
    assert clean.shape == (2, 5, 260) and float(clean.min()) > 0 and float(clean.max()) < 1
    np.testing.assert_array_equal(dae(x, noise_sd=0.3), clean)  # no key: evaluation
    assert not np.array_equal(dae(x, noise_sd=0.3, key=jax.random.key(1)), clean)


def test_regressor_takes_a_dae_encoder_as_first_layer():
    dae = LSTMDAE(260, 50, rngs=nnx.Rngs(7))
    reg = ContinuousRegressor(260, (50, 4), rngs=nnx.Rngs(8))
    reg.load_encoder(dae)
    np.testing.assert_array_equal(reg.lstm1.w_x[...], dae.encoder.w_x[...])
    with pytest.raises(ValueError, match="DAE has 50 blocks, first layer 200"):
        ContinuousRegressor(260, (200, 4), rngs=nnx.Rngs(0)).load_encoder(dae)


@pytest.mark.slow
def test_resize_pads_with_inactive_blocks_and_refuses_to_cut_active_ones(rng):
    from mer_ser.models.lstm import resize_lstm

    layer = LSTM(5, 3, rngs=nnx.Rngs(0))
    p = nnx.to_pure_dict(nnx.state(layer, nnx.Param))
    big = resize_lstm(p, 7)
    assert big["w_x"].shape == (5, 28) and big["w_h"].shape == (7, 28)
    assert big["w_c"].shape == (3, 7)
    wide = LSTM(5, 7, rngs=nnx.Rngs(1))
    nnx.update(wide, nnx.State(big))
    x = jnp.asarray(rng.standard_normal((2, 9, 5)), jnp.float32)
    np.testing.assert_allclose(wide(x)[..., :3], layer(x), rtol=1e-5, atol=1e-6)
    assert not np.asarray(wide(x)[..., 3:]).any()  # inactive blocks output exactly 0
    back = resize_lstm(big, 3)
    for k in p:
        np.testing.assert_array_equal(back[k], p[k])
    with pytest.raises(ValueError, match="active blocks"):
        resize_lstm(p, 2)
