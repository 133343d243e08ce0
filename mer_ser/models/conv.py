"""Rodningen 2022's dilated CNN (DCNN, section 4.4.1) and attention dilated CRNN (ADCRNN, 4.4.2).

Inputs are 3-D log-mel tensors ``(B, T, n_mels, 3)`` (time first, channels last: the thesis'
transposed layout, section 4.3), e.g. ``(B, 1001, 40, 3)`` for 15 s clips.

DCNN (thesis Fig. 4.1): Conv2D 128 (3x3, valid) -> max-pool (4, 2) -> dilated Conv2D 64 (3x3,
rate 2, same) -> dilated Conv2D 64 (3x3, rate 2, same) added to the previous output (the skip
connection) -> flatten -> dense 128 -> dropout 0.3 -> dense 64 -> dense 4 (softmax). ReLU
everywhere but the output, biases initialised to 0.1, L1 kernel regularisation 0.001
(:func:`mer_ser.losses.l1_penalty`), Adam 1e-4. At the thesis' input the flattened map is
249 x 19 x 64 = 302,784 wide, so the first dense layer alone holds 38.8 M of the model's
38.9 M parameters (the thesis: "roughly 39m").

ADCRNN (thesis Fig. 4.2): the DCNN block with batch normalisation after each convolution and
L1 0.01 -> per-time-step reshape (each of the 249 pooled steps gets its 19 x 64 features; the
transposed input layout makes this a plain reshape) -> dense 256 (no activation, as the thesis
reports) -> BiLSTM 256 + 256 -> dilated LSTM 256 (rate 1) -> dilated LSTM 256 (rate 2) ->
attention pooling, eqs. (4.1)-(4.2) -> dense 64 (ReLU) -> dropout 0.3 -> dense 4 (softmax),
Adam 1e-5: 2.81 M parameters at the thesis' input (the thesis: "roughly 3m"; the 0.2 M gap is
within its rounding).

Both return logits; the softmax lives in the loss.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from flax import nnx
from jax import lax

from mer_ser.models.lstm import LSTM, bidirectional

_BIAS = nnx.initializers.constant(0.1)  # Rodningen 2022: constant(0.1) for every bias
_ZEROS = nnx.initializers.zeros_init()
_DIMS = ("NHWC", "HWIO", "NHWC")


def _pads(size: int, dilation: int, padding: str) -> tuple[int, int]:
    """Leading and trailing padding of one spatial axis ('SAME' as XLA/Keras: extra at the end)."""
    if padding == "VALID":
        return (0, 0)
    total = dilation * (size - 1)
    return (total // 2, total - total // 2)


def conv2d(x, w, padding: str = "SAME", dilation: int = 1):
    """Stride-1 2-D convolution (cross-correlation, as Keras/Flax), NHWC input, HWIO kernel.

    The value is ``lax.conv_general_dilated``'s. On a CPU the gradient is written out (a custom
    VJP): the kernel gradient as one small matrix product per kernel tap and the input gradient
    as a convolution of the output gradient with the flipped kernel. XLA's own kernel gradient is
    a convolution with a window the size of the image, which XLA's CPU backend runs about 16x
    slower inside a compiled loop (the engine's ``lax.scan`` over batches) than at top level: a
    DCNN epoch of 4 batches took 32 s instead of 2 s. On a GPU, cuDNN's gradients are used.

    Args:
        x: ``(B, H, W, C_in)``.
        w: ``(kh, kw, C_in, C_out)``.
        padding: ``"SAME"`` or ``"VALID"``.
        dilation: kernel dilation (the same on both axes).
    """
    if jax.default_backend() == "cpu":
        return _conv2d_cpu(x, w, padding, dilation)
    if dilation > 1 and GPU_DILATED_CONV == "phases":
        return dilated_by_phases(x, w, padding, dilation)
    return _conv2d(x, w, padding, dilation)


#: How a GPU runs a dilated convolution: ``"phases"`` (:func:`dilated_by_phases`, dense
#: convolutions) or ``"native"`` (the convolution with ``rhs_dilation``, as cuDNN implements it).
#: Read when a function is traced; ``mer-ser bench gpu`` times both.
GPU_DILATED_CONV = "phases"


def dilated_by_phases(x, w, padding: str = "SAME", dilation: int = 2):
    """A dilated convolution as one dense convolution of the input's ``d x d`` phases.

    With dilation ``d``, output row ``r = i d + a`` only reads padded input rows ``a, a + d,
    a + 2d, ...``: the convolution is an undilated 'VALID' convolution of the phase
    ``x_pad[a::d, b::d]`` (Yu & Koltun 2016's dilated convolution computed as in TensorFlow's
    ``atrous_conv2d``, by space-to-batch). The ``d^2`` phases go through one convolution as a
    batch, and its outputs are interleaved back. Equal to :func:`conv2d` up to float rounding
    (tested); dense convolutions are the ones GPU libraries run fastest.

    Args:
        x: ``(B, H, W, C_in)``.
        w: ``(kh, kw, C_in, C_out)``.
        padding: ``"SAME"`` or ``"VALID"``.
        dilation: ``d``.
    """
    d = int(dilation)
    b, h, wd, c = x.shape
    kh, kw = w.shape[:2]
    (ph0, ph1), (pw0, pw1) = _pads(kh, d, padding), _pads(kw, d, padding)
    hp, wp = h + ph0 + ph1, wd + pw0 + pw1
    eh, ew = (-hp) % d, (-wp) % d  # extra rows / columns so that d divides the padded size
    xp = jnp.pad(x, ((0, 0), (ph0, ph1 + eh), (pw0, pw1 + ew), (0, 0)))
    hq, wq = (hp + eh) // d, (wp + ew) // d
    phases = (
        xp.reshape(b, hq, d, wq, d, c).transpose(2, 4, 0, 1, 3, 5).reshape(d * d * b, hq, wq, c)
    )
    out = _conv2d(phases, w, "VALID", 1)  # (d*d*B, hq - kh + 1, wq - kw + 1, C_out)
    ho, wo = out.shape[1:3]
    y = out.reshape(d, d, b, ho, wo, -1).transpose(2, 3, 0, 4, 1, 5).reshape(b, ho * d, wo * d, -1)
    return y[:, : hp - d * (kh - 1), : wp - d * (kw - 1)]


def _conv2d(x, w, padding, dilation):
    return lax.conv_general_dilated(
        x, w, (1, 1), padding, rhs_dilation=(dilation, dilation), dimension_numbers=_DIMS
    )


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv2d_cpu(x, w, padding, dilation):
    return _conv2d(x, w, padding, dilation)


def _conv2d_fwd(x, w, padding, dilation):
    return _conv2d(x, w, padding, dilation), (x, w)


def _conv2d_bwd(padding, dilation, res, g):
    x, w = res
    kh, kw = w.shape[:2]
    d = dilation
    (ph0, ph1), (pw0, pw1) = _pads(kh, d, padding), _pads(kw, d, padding)
    xp = jnp.pad(x, ((0, 0), (ph0, ph1), (pw0, pw1), (0, 0)))
    h, wd = g.shape[1:3]
    # dL/dw[i, j] = sum over batch and positions of x_padded[p + d (i, j)] g[p]: one matmul per tap.
    dw = jnp.stack(
        [
            jnp.stack(
                [
                    jnp.einsum("bhwc,bhwo->co", xp[:, i * d : i * d + h, j * d : j * d + wd], g)
                    for j in range(kw)
                ]
            )
            for i in range(kh)
        ]
    )
    # dL/dx_padded[q] = sum_i g[q - d i] w[i]: a full correlation with the flipped kernel.
    gp = jnp.pad(g, ((0, 0), (d * (kh - 1),) * 2, (d * (kw - 1),) * 2, (0, 0)))
    w_flip = w[::-1, ::-1].transpose(0, 1, 3, 2)
    dxp = lax.conv_general_dilated(
        gp, w_flip, (1, 1), "VALID", rhs_dilation=(d, d), dimension_numbers=_DIMS
    )
    dx = dxp[:, ph0 : ph0 + x.shape[1], pw0 : pw0 + x.shape[2]]
    return dx.astype(x.dtype), dw.astype(w.dtype)


_conv2d_cpu.defvjp(_conv2d_fwd, _conv2d_bwd)


class Conv(nnx.Module):
    """A 2-D convolution layer (stride 1) on :func:`conv2d`, with ``nnx.Conv``'s parameters.

    ``kernel`` ``(kh, kw, C_in, C_out)`` (LeCun-normal initialisation, as ``nnx.Conv``) and
    ``bias`` ``(C_out,)``.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        kernel_size=(3, 3),
        *,
        padding: str = "SAME",
        dilation: int = 1,
        bias_init=_ZEROS,
        rngs: nnx.Rngs,
    ):
        self.kernel = nnx.Param(
            nnx.initializers.lecun_normal()(rngs.params(), (*kernel_size, n_in, n_out))
        )
        self.bias = nnx.Param(bias_init(rngs.params(), (n_out,)))
        self.padding = padding
        self.dilation = dilation

    def __call__(self, x):
        """``(B, H, W, C_in)`` -> ``(B, H', W', C_out)``."""
        w = self.kernel[...]  # the input takes the kernel's dtype (bfloat16: mixed precision)
        return conv2d(x.astype(w.dtype), w, self.padding, self.dilation) + self.bias[...]


def _conv(n_in, n_out, *, dilation=1, padding="SAME", rngs):
    return Conv(n_in, n_out, padding=padding, dilation=dilation, bias_init=_BIAS, rngs=rngs)


def _dense(n_in, n_out, *, rngs):
    return nnx.Linear(n_in, n_out, bias_init=_BIAS, rngs=rngs)


class DCNNBlock(nnx.Module):
    """Conv 128 (valid) -> max-pool (4, 2) -> two dilated convs 64 with a skip connection."""

    def __init__(self, n_channels: int = 3, *, batch_norm: bool = False, rngs: nnx.Rngs):
        self.conv = _conv(n_channels, 128, padding="VALID", rngs=rngs)
        self.dil1 = _conv(128, 64, dilation=2, rngs=rngs)
        self.dil2 = _conv(64, 64, dilation=2, rngs=rngs)
        self.bns = (
            nnx.List([nnx.BatchNorm(c, rngs=rngs) for c in (128, 64, 64)]) if batch_norm else None
        )

    def __call__(self, x, *, train: bool = False):
        """``(B, T, F, C)`` -> ``(B, (T-2)//4, (F-2)//2, 64)``."""

        def bn(i, h):
            return h if self.bns is None else self.bns[i](h, use_running_average=not train)

        h = jax.nn.relu(bn(0, self.conv(x)))
        h = pool_max(h, (4, 2))
        a = jax.nn.relu(bn(1, self.dil1(h)))
        b = jax.nn.relu(bn(2, self.dil2(a)))
        return a + b  # the skip connection


def pool_max(h, window: tuple[int, int]):
    """Non-overlapping max pooling: ``(B, T, F, C)`` -> ``(B, T // wt, F // wf, C)``.

    Stride = window and 'VALID' padding (the remainders are dropped).

    The same values as ``nnx.max_pool(h, window, strides=window, padding="VALID")``, computed as
    a reshape and a max, whose gradient is a cheap mask instead of XLA's select-and-scatter
    (a quarter of a DCNN training step on a CPU). Ties (measure zero after a ReLU on floats,
    except all-zero windows, whose ReLU gradient is 0 anyway) share the gradient.
    """
    b, t, f, c = h.shape
    wt, wf = window
    nt, nf = t // wt, f // wf
    return h[:, : nt * wt, : nf * wf].reshape(b, nt, wt, nf, wf, c).max(axis=(2, 4))


def output_grid(n_frames: int, n_mels: int) -> tuple[int, int]:
    """Time steps and mel bins after the DCNN block (valid 3x3 conv, then 4x2 pooling)."""
    return (n_frames - 2) // 4, (n_mels - 2) // 2


class DCNN(nnx.Module):
    """Dilated CNN of Rodningen 2022, section 4.4.1 (see the module docstring).

    Args:
        n_frames: time frames of the input (1001 for 15 s).
        n_mels: mel bands (40).
        n_classes: quadrants (4).
        rngs: random streams (``params``, ``dropout``).
    """

    l1 = 0.001  # L1 kernel regularisation of the thesis

    def __init__(self, n_frames: int = 1001, n_mels: int = 40, n_classes: int = 4, *, rngs):
        self.block = DCNNBlock(rngs=rngs)
        t, f = output_grid(n_frames, n_mels)
        self.fc1 = _dense(t * f * 64, 128, rngs=rngs)
        self.drop = nnx.Dropout(0.3, rngs=rngs)
        self.fc2 = _dense(128, 64, rngs=rngs)
        self.out = _dense(64, n_classes, rngs=rngs)

    def __call__(self, x, *, train: bool = False, key=None):
        """Logits ``(B, n_classes)``; dropout only when ``train`` (``key`` seeds it)."""
        h = self.block(x, train=train).reshape(x.shape[0], -1)
        h = self.drop(jax.nn.relu(self.fc1(h)), deterministic=not train, rngs=key)
        return self.out(jax.nn.relu(self.fc2(h)))


def attention_pool(h, w, mask=None):
    """Attention pooling of Rodningen 2022, eqs. (4.1)-(4.2) (after Chen et al. 2018).

    ``alpha_t = softmax_t(w . h_t)``, ``c = sum_t alpha_t h_t``.

    Args:
        h: hidden states, shape ``(B, T, H)``.
        w: scoring vector, shape ``(H,)``.
        mask: valid steps ``(B, T)``; padded steps get zero weight.

    Returns:
        ``(c, alpha)``: context ``(B, H)`` and weights ``(B, T)``.
    """
    scores = h @ w
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    alpha = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("bt,bth->bh", alpha, h), alpha


class ADCRNN(nnx.Module):
    """Attention dilated CRNN of Rodningen 2022, section 4.4.2 (see the module docstring).

    Args:
        n_frames: time frames of the input (1001 for 15 s).
        n_mels: mel bands (40).
        n_classes: quadrants (4).
        rngs: random streams (``params``, ``dropout``).
    """

    l1 = 0.01  # the ADCRNN's L1 kernel regularisation
    #: Time steps per iteration of the recurrent loops (the same arithmetic; see ``LSTM``).
    #: None: 8 on a GPU, where each loop iteration costs a kernel launch (compare with
    #: ``mer-ser bench train --adcrnn --unroll 1,8``), 1 on a CPU (unrolling only slows it).
    unroll: int | None = None

    def __init__(self, n_frames: int = 1001, n_mels: int = 40, n_classes: int = 4, *, rngs):
        self.block = DCNNBlock(batch_norm=True, rngs=rngs)
        _, f = output_grid(n_frames, n_mels)
        self.proj = _dense(f * 64, 256, rngs=rngs)
        self.fwd = LSTM(256, 256, peephole=False, init="keras", rngs=rngs)
        self.bwd = LSTM(256, 256, peephole=False, init="keras", rngs=rngs)
        self.dil1 = LSTM(512, 256, peephole=False, init="keras", rngs=rngs)
        self.dil2 = LSTM(256, 256, peephole=False, init="keras", rngs=rngs)
        self.att = nnx.Param(nnx.initializers.glorot_uniform()(rngs.params(), (256, 1))[:, 0])
        self.fc = _dense(256, 64, rngs=rngs)
        self.drop = nnx.Dropout(0.3, rngs=rngs)
        self.out = _dense(64, n_classes, rngs=rngs)

    def __call__(self, x, *, train: bool = False, key=None):
        """Logits ``(B, n_classes)``; dropout only when ``train``."""
        h = self.block(x, train=train)  # (B, T', F', 64)
        h = h.reshape(h.shape[0], h.shape[1], -1)  # one feature vector per time step
        h = self.proj(h)  # the thesis' dense 256 has no activation
        u = self.unroll or (8 if jax.default_backend() == "gpu" else 1)
        h = bidirectional(self.fwd, self.bwd, h, unroll=u)  # one loop, both directions
        h = self.dil1(h, dilation=1, unroll=u)
        h = self.dil2(h, dilation=2, unroll=u)
        c, _ = attention_pool(h, self.att[...])
        h = self.drop(jax.nn.relu(self.fc(c)), deterministic=not train, rngs=key)
        return self.out(h)


def count_params(build) -> int:
    """Trainable parameters of ``build(rngs)`` without allocating them."""
    model = nnx.eval_shape(lambda: build(nnx.Rngs(0)))
    return sum(math.prod(x.shape) for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
