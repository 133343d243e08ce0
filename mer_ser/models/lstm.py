"""LSTM layers with masks and dilation, the LSTM denoising autoencoder and the continuous regressor.

The cell follows Coutinho & Schuller 2017, eqs. (1)-(5), with peephole connections from the cell
state to the input and forget gates (previous state, eqs. 1-2) and to the output gate (current
state, eq. 4)::

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + w_ci * c_{t-1} + b_i)            (1)
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + w_cf * c_{t-1} + b_f)            (2)
    c_t = i_t * tanh(W_xc x_t + W_hc h_{t-1} + b_c) + f_t * c_{t-1}         (3)
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + w_co * c_t + b_o)                (4)
    h_t = o_t * tanh(c_t)                                                  (5)

Two notes on the printed equations. Eq. (3) as printed omits the input gate ``i_t``; the paper's
text ("the cell input is initially scaled by the activation function of the input gate") and its
reference LSTM (Gers et al. 2000; Graves 2012) include it, and so does this code. The peephole
weights are diagonal (one weight per cell, ``*`` is element-wise), as in Gers et al. 2002 and
Graves 2012, Section 4.1; the paper writes them as matrices ``W_c.``.

``peephole=False`` gives the standard (Hochreiter & Schmidhuber / Keras) cell.

Padding: sequences are left-aligned and ``mask`` marks valid steps. On a padded step the state is
carried unchanged and the output is 0, so padding never leaks into states, outputs or losses.

Dilation (Chang et al. 2017, DilatedRNN): with ``dilation = d`` step ``t`` receives the state of
step ``t - d`` instead of ``t - 1``; the sequence is processed as ``d`` interleaved sub-sequences.

Inactive units (one compiled program for many layer sizes): a layer built with ``H`` blocks acts
as one of ``h <= H`` blocks when every weight *into* and *out of* blocks ``h..H-1`` is zero
(:func:`restrict_lstm`). Such a block has all gate pre-activations 0, so ``c_t = 0.5 * c_{t-1} +
0.5 * tanh(0) = 0`` and ``h_t = 0`` at every step; every gradient reaching its weights is then
exactly 0, so gradient descent (SGD with momentum, Adam) keeps them 0 and the trained layer *is*
an ``h``-block layer. :meth:`ContinuousRegressor.restrict` and :meth:`LSTMDAE.restrict` apply
this to whole models, so a grid over ``#HB_1``/``#HB_2`` becomes a ``vmap`` axis.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from flax import nnx

#: Coutinho & Schuller 2017: "randomised initial weights in the range [-0.1, 0.1]".
PAPER_INIT_SCALE = 0.1


def uniform_init(scale: float):
    """Initialiser drawing from U(-scale, scale)."""

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -scale, scale)

    return init


class LSTM(nnx.Module):
    """One LSTM layer over a batch of padded sequences.

    Args:
        n_in: input features.
        n_hidden: memory blocks (one cell each).
        peephole: add the diagonal peephole weights of eqs. (1), (2), (4).
        init_scale: with ``init="paper"``, weights and biases start in U(-init_scale, init_scale)
            (Coutinho & Schuller 2017).
        init: ``"paper"`` or ``"keras"`` (Glorot-uniform input weights, orthogonal recurrent
            weights, biases 0.1: the Keras defaults with Rodningen 2022's bias initialiser).
        rngs: random streams (``params``).
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        *,
        peephole: bool = True,
        init_scale: float = PAPER_INIT_SCALE,
        init: str = "paper",
        rngs: nnx.Rngs,
    ):
        self.n_hidden = n_hidden
        self.peephole = peephole
        # Gate blocks in the order input, forget, cell, output.
        if init == "paper":
            u = uniform_init(init_scale)
            wx, wh, b = (
                u(rngs.params(), s)
                for s in ((n_in, 4 * n_hidden), (n_hidden, 4 * n_hidden), (4 * n_hidden,))
            )
        elif init == "keras":  # Rodningen 2022: Keras LSTM defaults, bias constant(0.1)
            wx = jax.nn.initializers.glorot_uniform()(rngs.params(), (n_in, 4 * n_hidden))
            wh = jax.nn.initializers.orthogonal()(rngs.params(), (n_hidden, 4 * n_hidden))
            b = jnp.full((4 * n_hidden,), 0.1, jnp.float32)  # not weakly typed (no retracing)
        else:
            raise ValueError(f"init must be 'paper' or 'keras', got {init!r}")
        self.w_x = nnx.Param(wx)
        self.w_h = nnx.Param(wh)
        self.b = nnx.Param(b)
        if peephole:  # w_ci, w_cf, w_co
            self.w_c = nnx.Param(uniform_init(init_scale)(rngs.params(), (3, n_hidden)))

    def __call__(self, x, mask=None, *, reverse: bool = False, dilation: int = 1, unroll: int = 1):
        """Run the layer.

        Args:
            x: inputs, shape ``(B, T, n_in)``.
            mask: valid steps, shape ``(B, T)`` (default: all valid).
            reverse: process time backwards (the backward half of a BiLSTM).
            dilation: recurrent skip ``d`` (Chang et al. 2017).
            unroll: time steps per iteration of the compiled loop (``lax.scan``'s ``unroll``):
                the same arithmetic, fewer loop iterations (this matters on a GPU, where each
                iteration of a loop costs a few microseconds of launch overhead).

        Returns:
            Hidden states ``h_t``, shape ``(B, T, n_hidden)``; 0 on padded steps.
        """
        z, m, undo = self._time_major(x, mask, reverse=reverse, dilation=dilation)
        w_h, w_c = self._recurrent_weights()
        return undo(_scan_cells(z, m, w_h, w_c, unroll))

    def _recurrent_weights(self):
        """``W_h`` and the peepholes (or None) in float32: the recurrence always runs in float32.

        Under mixed precision (:mod:`mer_ser.train.precision`) the weights arrive in bfloat16;
        the cell state, the gates and the recurrent product stay float32 (a no-op otherwise).
        """
        w_c = _at_least_f32(self.w_c[...]) if self.peephole else None
        return _at_least_f32(self.w_h[...]), w_c

    def _time_major(self, x, mask, *, reverse: bool, dilation: int):
        """Input projections in time-major layout ``(tt, d*B, 4H)``, the mask, and the inverse."""
        b, t, _ = x.shape
        mask = jnp.ones((b, t), bool) if mask is None else mask.astype(bool)
        if reverse:
            x, mask = x[:, ::-1], mask[:, ::-1]
        d = int(dilation)
        pad = (-t) % d
        if pad:
            x = jnp.pad(x, ((0, 0), (0, pad), (0, 0)))
            mask = jnp.pad(mask, ((0, 0), (0, pad)))
        tt = (t + pad) // d
        # (B, tt*d, .) -> time-major (tt, d*B, .): sub-sequence j holds steps j, j+d, j+2d, ...
        x = x.reshape(b, tt, d, -1).transpose(1, 2, 0, 3).reshape(tt, d * b, -1)
        m = mask.reshape(b, tt, d).transpose(1, 2, 0).reshape(tt, d * b)
        # The input projection of every step at once: one large matmul outside the scan, in
        # the weights' dtype (bfloat16 under mixed precision); the recurrence reads it in float32.
        w_x = self.w_x[...]
        z = _at_least_f32(x.astype(w_x.dtype) @ w_x + self.b[...])

        def undo(hs):
            h = hs.reshape(tt, d, b, -1).transpose(2, 0, 1, 3).reshape(b, tt * d, -1)[:, :t]
            return h[:, ::-1] if reverse else h

        return z, m, undo


def _at_least_f32(a):
    """``a`` in float32 when it is in a narrower float (bfloat16), else unchanged (float64)."""
    return a.astype(jnp.promote_types(a.dtype, jnp.float32))


def _gate_scales(n_hidden: int, n_gates: int):
    """Per-column ``(scale, offset)`` for activating ``n_gates`` gate blocks with one tanh.

    ``sigmoid(x) = 0.5 tanh(0.5 x) + 0.5`` (exact in real arithmetic), and the cell-input block
    (block 2) is a plain tanh, so every gate of a step is one element-wise ``s * tanh(s * a) + o``
    over the whole ``(N, n_gates * H)`` pre-activation. On XLA's CPU backend one such pass is
    several times faster than separate sigmoid and tanh passes over sliced blocks.
    """
    s = jnp.full((n_gates, n_hidden), 0.5, jnp.float32).at[2].set(1.0).reshape(-1)
    o = jnp.full((n_gates, n_hidden), 0.5, jnp.float32).at[2].set(0.0).reshape(-1)
    return s, o


def _cell(zt, h, c, w_h, w_c):
    """One step of eqs. (1)-(5) on all sequences: gates ``(i, f, g, o)``, ``c_t`` and ``h_t``."""
    n = h.shape[-1]
    a = zt + h @ w_h
    if w_c is None:
        s, off = _gate_scales(n, 4)
        i, f, g, o = jnp.split(s * jnp.tanh(s * a) + off, 4, axis=-1)
        c_new = i * g + f * c  # eq. (3)
        return (i, f, g, o), c_new, o * jnp.tanh(c_new)  # eq. (5)
    s, off = _gate_scales(n, 3)
    peep = jnp.concatenate([w_c[0] * c, w_c[1] * c, jnp.zeros_like(c)], axis=-1)  # eqs. (1)-(2)
    i, f, g = jnp.split(s * jnp.tanh(s * (a[:, : 3 * n] + peep)) + off, 3, axis=-1)
    c_new = i * g + f * c  # eq. (3)
    zo = a[:, 3 * n :] + w_c[2] * c_new  # eq. (4): the current cell state
    # sigmoid(zo) and tanh(c_t) in one pass, as above.
    half = jnp.concatenate([jnp.full((n,), 0.5, jnp.float32), jnp.ones((n,), jnp.float32)])
    t = jnp.tanh(half * jnp.concatenate([zo, c_new], axis=-1))
    o = 0.5 * t[:, :n] + 0.5
    return (i, f, g, o), c_new, o * t[:, n:]  # eq. (5)


def _recurrence(z, m, w_h, w_c, unroll):
    """Forward pass: ``h_t`` (0 on padding) and what the backward pass needs."""

    def step(carry, inputs):
        h, c = carry
        zt, mt = inputs
        gates, c_new, h_new = _cell(zt, h, c, w_h, w_c)
        keep = mt[:, None]
        h, c = jnp.where(keep, h_new, h), jnp.where(keep, c_new, c)
        return (h, c), (h, c, jnp.concatenate(gates, axis=-1))

    h0 = jnp.zeros((z.shape[1], w_h.shape[0]), z.dtype)
    _, (hc, cc, gates) = jax.lax.scan(step, (h0, h0), (z, m), unroll=unroll)
    # The carried states equal the outputs on valid steps; padded steps output 0.
    return jnp.where(m[..., None], hc, 0.0), (hc, cc, gates)


@partial(jax.custom_vjp, nondiff_argnums=(4,))
def _scan_cells(z, m, w_h, w_c, unroll: int = 1):
    """The recurrence of eqs. (1)-(5) over time-major input projections.

    The backward pass is written out (back-propagation through time, Graves 2012, section
    4.1.2 / Gers et al. 2002 for the peepholes) instead of left to ``jax.grad``: the gradient
    of the recurrent weights is then one ``(H, T*N) @ (T*N, 4H)`` product after the backward
    loop, rather than a small product accumulated at every step, and the backward loop reads
    the four gates as separate arrays (split once before it), which XLA's CPU backend reads
    several times faster than slices of one array. Gradients are checked against float64
    central differences of the equations in ``tests/test_lstm.py``.

    Args:
        z: ``W_x x_t + b`` for every step, shape ``(T, N, 4H)`` (gate blocks i, f, c, o).
        m: valid steps, shape ``(T, N)``.
        w_h: recurrent weights ``(H, 4H)``.
        w_c: peephole weights ``(3, H)`` or None (standard cell).
        unroll: steps per loop iteration.

    Returns:
        ``h_t``, shape ``(T, N, H)``; 0 on masked steps, whose state is carried unchanged.
    """
    return _recurrence(z, m, w_h, w_c, unroll)[0]


def _scan_cells_fwd(z, m, w_h, w_c, unroll):
    hs, (hc, cc, gates) = _recurrence(z, m, w_h, w_c, unroll)
    return hs, (m, w_h, w_c, hc, cc, gates)


def _scan_cells_bwd(unroll, res, dhs):
    """Gradients of ``z``, ``w_h`` and ``w_c`` from the cotangent of ``h_t``."""
    m, w_h, w_c, hc, cc, gates = res
    n_steps, n_seq, n = hc.shape
    c_prev = jnp.concatenate([jnp.zeros_like(cc[:1]), cc[:-1]])
    w_ht = w_h.T

    def step(carry, inputs):
        dh, dc = carry  # gradients reaching h_t, c_t from step t + 1
        dout, mt, cp, tc, i, f, g, o = inputs
        dh_t = dh + dout
        dzo = dh_t * tc * o * (1 - o)  # through eq. (5) into eq. (4)
        dc_t = dc + dh_t * o * (1 - tc * tc)
        if w_c is not None:
            dc_t = dc_t + dzo * w_c[2]  # the output gate's peephole reads c_t
        dzi = dc_t * g * i * (1 - i)  # eq. (3) into eqs. (1), (2) and the cell input
        dzf = dc_t * cp * f * (1 - f)
        dzg = dc_t * i * (1 - g * g)
        dc_prev = dc_t * f
        if w_c is not None:
            dc_prev = dc_prev + dzi * w_c[0] + dzf * w_c[1]
        keep = mt[:, None]  # a padded step passes the gradients through unchanged
        da = jnp.where(keep, jnp.concatenate([dzi, dzf, dzg, dzo], axis=-1), 0.0)
        return (jnp.where(keep, da @ w_ht, dh), jnp.where(keep, dc_prev, dc)), da

    zero = jnp.zeros_like(hc[0])
    xs = (dhs, m, c_prev, jnp.tanh(cc), *jnp.split(gates, 4, axis=-1))
    _, da = jax.lax.scan(step, (zero, zero), xs, reverse=True, unroll=unroll)
    # dW_h = sum_t h_{t-1}^T da_t; h_{-1} = 0, so step 0 adds nothing.
    rows = (n_steps - 1) * n_seq
    dw_h = hc[:-1].reshape(rows, n).T @ da[1:].reshape(rows, 4 * n)
    dw_c = None
    if w_c is not None:
        dzi, dzf, _, dzo = jnp.split(da, 4, axis=-1)
        dw_c = jnp.stack(
            [(dzi * c_prev).sum((0, 1)), (dzf * c_prev).sum((0, 1)), (dzo * cc).sum((0, 1))]
        )
    return da, None, dw_h, dw_c


_scan_cells.defvjp(_scan_cells_fwd, _scan_cells_bwd)


def bidirectional(fwd: LSTM, bwd: LSTM, x, mask=None, *, unroll: int = 1):
    """A BiLSTM layer: ``concat(fwd(x), bwd(x, reverse=True))`` computed in one loop.

    Both directions advance together (a ``vmap`` over the direction axis inside one
    ``lax.scan``), so a GPU runs ``T`` loop iterations instead of ``2T``; the result equals the
    two separate calls.

    Args:
        fwd: the forward layer.
        bwd: the backward layer (same sizes and cell type as ``fwd``).
        x: inputs ``(B, T, n_in)``.
        mask: valid steps ``(B, T)``.
        unroll: steps per loop iteration.

    Returns:
        ``(B, T, 2 * n_hidden)``: forward states, then backward states.
    """
    if (fwd.n_hidden, fwd.peephole) != (bwd.n_hidden, bwd.peephole):
        raise ValueError("bidirectional: both directions need the same size and cell type")
    zf, mf, undo_f = fwd._time_major(x, mask, reverse=False, dilation=1)
    zb, mb, undo_b = bwd._time_major(x, mask, reverse=True, dilation=1)
    (wf, cf), (wb, cb) = fwd._recurrent_weights(), bwd._recurrent_weights()
    w_h = jnp.stack([wf, wb])
    z, m = jnp.stack([zf, zb]), jnp.stack([mf, mb])
    if fwd.peephole:
        w_c = jnp.stack([cf, cb])
        hs = jax.vmap(lambda z, m, w, c: _scan_cells(z, m, w, c, unroll))(z, m, w_h, w_c)
    else:
        hs = jax.vmap(lambda z, m, w: _scan_cells(z, m, w, None, unroll))(z, m, w_h)
    return jnp.concatenate([undo_f(hs[0]), undo_b(hs[1])], axis=-1)


def _units_on(n: int, active):
    """``(n,)`` float mask of the first ``active`` (a traced scalar allowed) of ``n`` units."""
    return (jnp.arange(n) < active).astype(jnp.float32)


def restrict_lstm(p: dict, active, rows=None) -> dict:
    """An LSTM layer's pure parameter dict with blocks ``active..H-1`` switched off.

    Args:
        p: ``{"w_x": (F, 4H), "w_h": (H, 4H), "b": (4H,), ["w_c": (3, H)]}``.
        active: number of blocks kept (scalar, may be traced).
        rows: optional number of *input* features kept (the active blocks of the layer below);
            the input weights of features ``rows..F-1`` are zeroed too.

    Returns:
        The same structure with the weights into and out of the inactive blocks set to 0.
    """
    h = p["w_h"].shape[0]
    on = _units_on(h, active)
    gates = jnp.tile(on, 4)  # columns of the i, f, g, o blocks
    w_x = p["w_x"] * gates
    if rows is not None:
        w_x = w_x * _units_on(w_x.shape[0], rows)[:, None]
    out = {"w_x": w_x, "w_h": p["w_h"] * gates * on[:, None], "b": p["b"] * gates}
    if "w_c" in p:
        out["w_c"] = p["w_c"] * on
    return out


def resize_lstm(p: dict, n_hidden: int) -> dict:
    """Zero-pad (or cut) an LSTM layer's pure parameter dict to ``n_hidden`` blocks.

    Leaves may carry leading axes (e.g. one per trial). Cutting is only allowed when the blocks
    cut are inactive (every weight into and out of them 0), so the layer computes the same
    function either way.
    """
    h = p["w_h"].shape[-2]

    def blocks(name, a):  # view with the block axis last: (..., [F|h|3], [4,] h)
        a = jnp.asarray(a)
        return a if name == "w_c" else a.reshape(*a.shape[:-1], 4, h)

    if n_hidden < h:
        cut = [blocks(k, v)[..., n_hidden:] for k, v in p.items()]
        cut.append(jnp.asarray(p["w_h"])[..., n_hidden:, :])
        if any(bool(jnp.any(c != 0)) for c in cut):
            raise ValueError(f"cannot cut an LSTM layer with active blocks beyond {n_hidden}")

    def fit(a, axis):  # resize ``axis`` (of size h) to n_hidden
        if n_hidden <= h:
            return jnp.take(a, jnp.arange(n_hidden), axis=axis)
        widths = [(0, 0)] * a.ndim
        widths[axis] = (0, n_hidden - h)
        return jnp.pad(a, widths)

    out = {}
    for k, v in p.items():
        a = fit(blocks(k, v), -1)
        if k != "w_c":
            a = a.reshape(*a.shape[:-2], 4 * n_hidden)
        if k == "w_h":
            a = fit(a, -2)
        out[k] = a
    return out


class Dense(nnx.Module):
    """A linear layer with the paper's U(-0.1, 0.1) initialisation."""

    def __init__(self, n_in: int, n_out: int, *, init_scale: float = PAPER_INIT_SCALE, rngs):
        init = uniform_init(init_scale)
        self.w = nnx.Param(init(rngs.params(), (n_in, n_out)))
        self.b = nnx.Param(init(rngs.params(), (n_out,)))

    def __call__(self, x):
        """``x @ w + b``."""
        return x @ self.w[...] + self.b[...]


def _corrupt(x, noise_sd: float, key):
    """Gaussian input noise (training only: pass ``key=None`` at evaluation).

    ``noise_sd`` may be a traced scalar (a noise grid as a ``vmap`` axis).
    """
    if key is None or (isinstance(noise_sd, int | float) and noise_sd == 0):
        return x
    return x + noise_sd * jax.random.normal(key, x.shape, x.dtype)


class LSTMDAE(nnx.Module):
    """Denoising LSTM autoencoder (Coutinho & Schuller 2017, "Pre-training of the first layer").

    260 inputs -> LSTM of ``n_hidden`` blocks -> 260 sigmoid outputs, trained to reconstruct the
    clean input from a copy corrupted with Gaussian noise of standard deviation ``sigma``
    (training only). Sigmoid outputs reconstruct features scaled to [0, 1].

    Args:
        n_in: input features (260).
        n_hidden: memory blocks, one of {50, 75, 100, 150, 200} in the paper.
        peephole: use the peephole cell.
        rngs: random streams.
    """

    def __init__(self, n_in: int = 260, n_hidden: int = 100, *, peephole: bool = True, rngs):
        self.encoder = LSTM(n_in, n_hidden, peephole=peephole, rngs=rngs)
        self.decoder = Dense(n_hidden, n_in, rngs=rngs)

    def encode(self, x, mask=None):
        """Hidden representation, shape ``(B, T, n_hidden)``."""
        return self.encoder(x, mask)

    def __call__(self, x, mask=None, *, noise_sd: float = 0.0, key=None):
        """Reconstruction in (0, 1), shape ``(B, T, n_in)``; noise only when ``key`` is given."""
        return jax.nn.sigmoid(self.decoder(self.encode(_corrupt(x, noise_sd, key), mask)))

    @staticmethod
    def restrict(params: dict, hyper: dict) -> dict:
        """Switch off encoder blocks ``hyper["hidden"]..`` (see the module docstring).

        Args:
            params: the model's pure parameter dict (``encoder``, ``decoder``).
            hyper: may hold ``"hidden"``, the number of active blocks (a traced scalar allowed).

        Returns:
            ``params`` with the weights into and out of the inactive blocks set to 0.
        """
        if "hidden" not in hyper:
            return params
        h = hyper["hidden"]
        dec = params["decoder"]
        w = dec["w"] * _units_on(dec["w"].shape[0], h)[:, None]
        enc = restrict_lstm(params["encoder"], h)
        return {**params, "encoder": enc, "decoder": {**dec, "w": w}}


class ContinuousRegressor(nnx.Module):
    """Two-layer LSTM regressor of arousal and valence (Coutinho & Schuller 2017).

    260 -> LSTM(h1) -> LSTM(h2) -> 2 linear outputs, with optional Gaussian input noise in
    training. For CD_TL the first layer is copied from a DAE's encoder (:meth:`load_encoder`) and
    kept frozen by the training engine.

    Args:
        n_in: input features (260).
        hidden: ``(h1, h2)``; the paper searches h1 in {50, 75, 100, 150, 200} and h2 in
            {2, 4, 6, 8, 10}.
        n_out: outputs (arousal, valence).
        peephole: use the peephole cell.
        rngs: random streams.
    """

    def __init__(
        self,
        n_in: int = 260,
        hidden: tuple[int, int] = (200, 10),
        n_out: int = 2,
        *,
        peephole: bool = True,
        rngs,
    ):
        self.lstm1 = LSTM(n_in, hidden[0], peephole=peephole, rngs=rngs)
        self.lstm2 = LSTM(hidden[0], hidden[1], peephole=peephole, rngs=rngs)
        self.out = Dense(hidden[1], n_out, rngs=rngs)

    def __call__(self, x, mask=None, *, noise_sd: float = 0.0, key=None):
        """Predictions, shape ``(B, T, n_out)``; input noise only when ``key`` is given."""
        h = self.lstm1(_corrupt(x, noise_sd, key), mask)
        return self.out(self.lstm2(h, mask))

    @staticmethod
    def restrict(params: dict, hyper: dict) -> dict:
        """Act as a smaller ``(h1, h2)`` regressor (see the module docstring).

        Args:
            params: the model's pure parameter dict (``lstm1``, ``lstm2``, ``out``).
            hyper: may hold ``"hidden1"`` and ``"hidden2"``, the active blocks of each layer
                (traced scalars allowed).

        Returns:
            ``params`` with the weights into and out of the inactive blocks set to 0.
        """
        h1, h2 = hyper.get("hidden1"), hyper.get("hidden2")
        out = dict(params)
        if h1 is not None:
            out["lstm1"] = restrict_lstm(params["lstm1"], h1)
        if h1 is not None or h2 is not None:
            n2 = params["lstm2"]["w_h"].shape[0]
            out["lstm2"] = restrict_lstm(params["lstm2"], n2 if h2 is None else h2, rows=h1)
        if h2 is not None:
            w = params["out"]["w"] * _units_on(params["out"]["w"].shape[0], h2)[:, None]
            out["out"] = {**params["out"], "w": w}
        return out

    def load_encoder(self, dae: LSTMDAE) -> None:
        """Copy a DAE's encoder into the first layer (the CD_TL initialisation)."""
        if dae.encoder.n_hidden != self.lstm1.n_hidden:
            raise ValueError(
                f"DAE has {dae.encoder.n_hidden} blocks, first layer {self.lstm1.n_hidden}"
            )
        nnx.update(self.lstm1, nnx.state(dae.encoder, nnx.Param))


def last_valid(h, mask=None):
    """The output at each sequence's last valid step: ``(B, T, H)`` -> ``(B, H)``."""
    if mask is None:
        return h[:, -1]
    last = jnp.maximum(mask.astype(jnp.int32).sum(axis=1) - 1, 0)
    return jnp.take_along_axis(h, last[:, None, None], axis=1)[:, 0]


class DAEClassifier(nnx.Module):
    """The DAE-Classifier of Gomez-Canon et al. 2020 (section 3, Table II).

    The (pretrained, frozen) LSTM-DAE encoder, a new LSTM block and a softmax output over the
    quadrants, applied to windows of 1 Hz ComParE frames: 5 s windows with 100 hidden blocks
    ("DAE - Classifier") or 10 s windows with an over-complete 800 ("DAE - Sparsity"). The
    window's class is read at its last valid step.

    Args:
        n_in: input features (260).
        n_hidden: DAE encoder blocks (100 or 800).
        n_lstm: blocks of the new LSTM layer.
        n_classes: quadrants (4).
        peephole: use the peephole cell.
        rngs: random streams.
    """

    def __init__(
        self,
        n_in: int = 260,
        n_hidden: int = 100,
        n_lstm: int = 100,
        n_classes: int = 4,
        *,
        peephole: bool = True,
        rngs,
    ):
        self.encoder = LSTM(n_in, n_hidden, peephole=peephole, rngs=rngs)
        self.lstm = LSTM(n_hidden, n_lstm, peephole=peephole, rngs=rngs)
        self.out = Dense(n_lstm, n_classes, rngs=rngs)

    def __call__(self, x, mask=None, *, noise_sd: float = 0.0, key=None):
        """Logits ``(B, n_classes)`` for windows ``(B, T, n_in)``."""
        h = self.lstm(self.encoder(_corrupt(x, noise_sd, key), mask), mask)
        return self.out(last_valid(h, mask))

    def load_encoder(self, dae: LSTMDAE) -> None:
        """Copy a pretrained DAE's encoder (then freeze ``"encoder"`` in the training config)."""
        if dae.encoder.n_hidden != self.encoder.n_hidden:
            raise ValueError(
                f"DAE has {dae.encoder.n_hidden} blocks, encoder {self.encoder.n_hidden}"
            )
        nnx.update(self.encoder, nnx.state(dae.encoder, nnx.Param))


class PackedDAEClassifier(DAEClassifier):
    """:class:`DAEClassifier` for the classifier engine: the mask travels as a last channel.

    :func:`~mer_ser.train.make_classifier_fit` calls ``model(x, train=, key=)`` on one array, so
    a window of ``T`` ComParE frames comes as ``(B, T, n_in + 1)`` whose last channel is 1 on
    valid frames and 0 on padding (a clip shorter than the window). No input noise: the
    encoder is the frozen DAE's and noise belongs to its pretraining (Gomez-Canon et al. 2020,
    section 3: "After pre-training, weights were kept fixed").
    """

    def __call__(self, x, *, train: bool = False, key=None):
        """Quadrant logits ``(B, n_classes)`` of packed windows ``(B, T, n_in + 1)``."""
        del train, key
        return super().__call__(x[..., :-1], x[..., -1] > 0.5)
