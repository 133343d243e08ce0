"""Speech-pretrained encoders of Gomez-Canon et al. 2020 (EUSIPCO) and 2021 (ICASSP).

* :class:`SCAE`: the sparse convolutional denoising autoencoder of 2020, Fig. 1. Input patches
  ``(B, 128, 31, 1)`` (mel bands x frames x 1 channel, channels last). The encoder has three double
  conv blocks of 32, 64 and 128 filters (3x3, ReLU, batch normalisation after each non-linearity),
  each closed by max-pooling along the mel axis and dropout 0.25; the pools (4, 1) take 128 mel
  bands to 2 while keeping the 31 frames, so the latent space is 128 x 2 x 31 = 7,936 values,
  over-complete with respect to the 3,968 inputs (the paper's "sparse"). The decoder mirrors it
  with up-sampling and ends in one linear 3x3 convolution. Pretraining: Gaussian input noise
  sigma 0.3, mean squared error, Adam 1e-3.
* :class:`MultiTaskHead`: flatten -> 3 x (dense 512 + dropout) -> three blocks of 2 x (dense +
  dropout) -> quadrant logits (4), arousal logit, valence logit (2020: blocks of 512; 2021:
  blocks of 256). Quadrants use cross-entropy, arousal (Q1, Q2 positive) and valence (Q1, Q4
  positive) binary cross-entropy.
* :class:`CPC`: contrastive predictive coding (van den Oord et al. 2018) as adapted in 2021,
  Fig. 1: the SCAE encoder codes each 1 s patch, a GRU summarises 4 past codes into a context
  ``c_t``, and linear maps ``W_k`` predict the codes of the next 2 patches. The paper's objective
  is binary: is a candidate pair consecutive or not (:meth:`CPC.binary_scores`,
  ``losses.cpc_binary_loss``); InfoNCE over the batch is the option (:meth:`CPC.info_nce`).
  Adam 1e-3 with a decay of 4e-6 per epoch.
"""

from __future__ import annotations

from itertools import pairwise

import jax
import jax.numpy as jnp
from flax import nnx

from mer_ser import losses as _losses
from mer_ser.models.conv import Conv, pool_max

FILTERS = (32, 64, 128)
TASKS = ("quadrant", "arousal", "valence")
POOL = (4, 1)  # mel x time: 128 -> 32 -> 8 -> 2 bands, 31 frames kept


class _DoubleConv(nnx.Module):
    """Two 3x3 convolutions, each followed by ReLU and batch normalisation."""

    def __init__(self, n_in: int, n_out: int, *, rngs):
        self.c1 = Conv(n_in, n_out, rngs=rngs)
        self.b1 = nnx.BatchNorm(n_out, rngs=rngs)
        self.c2 = Conv(n_out, n_out, rngs=rngs)
        self.b2 = nnx.BatchNorm(n_out, rngs=rngs)

    def __call__(self, x, *, train: bool):
        ura = not train
        x = self.b1(jax.nn.relu(self.c1(x)), use_running_average=ura)
        return self.b2(jax.nn.relu(self.c2(x)), use_running_average=ura)


class SCAEEncoder(nnx.Module):
    """The SCAE encoder: ``(B, 128, 31, 1)`` -> latent ``(B, 2, 31, 128)``."""

    def __init__(self, *, rngs):
        chans = (1, *FILTERS)
        self.blocks = nnx.List([_DoubleConv(a, b, rngs=rngs) for a, b in pairwise(chans)])
        self.drop = nnx.Dropout(0.25, rngs=rngs)

    def __call__(self, x, *, train: bool = False, key=None):
        """Latent map; dropout only when ``train`` (``key`` seeds it)."""
        keys = [None] * len(self.blocks) if key is None else list(jax.random.split(key, 3))
        for block, k in zip(self.blocks, keys, strict=True):
            x = pool_max(block(x, train=train), POOL)
            x = self.drop(x, deterministic=not train, rngs=k)
        return x


class SCAE(nnx.Module):
    """Sparse convolutional denoising autoencoder (Gomez-Canon et al. 2020, Fig. 1)."""

    noise_sd = 0.3  # the paper's Gaussian corruption

    def __init__(self, *, rngs):
        self.encoder = SCAEEncoder(rngs=rngs)
        # Mirror of the encoder: up-sample, then double conv 128 -> 128 -> 64 -> 32 filters.
        chans = (FILTERS[-1], *FILTERS[::-1])
        self.up = nnx.List([_DoubleConv(a, b, rngs=rngs) for a, b in pairwise(chans)])
        self.out = Conv(FILTERS[0], 1, rngs=rngs)

    def __call__(self, x, *, train: bool = False, key=None):
        """Reconstruction of ``x`` (same shape); noise and dropout only when ``train``."""
        if train and key is not None:
            key, k_noise = jax.random.split(key)
            x = x + self.noise_sd * jax.random.normal(k_noise, x.shape, x.dtype)
        h = self.encoder(x, train=train, key=key)
        for block in self.up:
            b, m, t, c = h.shape
            h = jax.image.resize(h, (b, m * POOL[0], t * POOL[1], c), "nearest")  # up-sampling
            h = block(h, train=train)
        return self.out(h)


class MultiTaskHead(nnx.Module):
    """The multi-task classifier on top of a frozen or released encoder.

    Args:
        n_in: flattened latent size (7,936 for the SCAE).
        trunk: width of the 3 shared dense layers (512).
        block: width of the 2 dense layers of each task block (512 in 2020, 256 in 2021).
        rngs: random streams.
    """

    def __init__(self, n_in: int = 7936, *, trunk: int = 512, block: int = 512, rngs):
        self.trunk = nnx.List([nnx.Linear(a, trunk, rngs=rngs) for a in (n_in, trunk, trunk)])
        self.tasks = nnx.List(
            [
                nnx.List([nnx.Linear(trunk, block, rngs=rngs), nnx.Linear(block, block, rngs=rngs)])
                for _ in range(3)
            ]
        )
        self.outs = nnx.List([nnx.Linear(block, n, rngs=rngs) for n in (4, 1, 1)])
        self.drop = nnx.Dropout(0.25, rngs=rngs)

    def __call__(self, z, *, train: bool = False, key=None):
        """``{"quadrant": (B, 4), "arousal": (B,), "valence": (B,)}`` logits."""
        keys = iter(jax.random.split(key, 9)) if key is not None else iter([None] * 9)
        h = z.reshape(z.shape[0], -1)
        for layer in self.trunk:
            h = self.drop(jax.nn.relu(layer(h)), deterministic=not train, rngs=next(keys))
        out = {}
        for name, block, head in zip(TASKS, self.tasks, self.outs, strict=True):
            g = h
            for layer in block:
                g = self.drop(jax.nn.relu(layer(g)), deterministic=not train, rngs=next(keys))
            out[name] = head(g) if name == "quadrant" else head(g)[:, 0]
        return out


class SCAEClassifier(nnx.Module):
    """An encoder (SCAE's, or CPC's) with the multi-task head.

    *Feat. Ext.* freezes the encoder (lr 1e-4), *Full* releases it (lr 5e-4) (Gomez-Canon et al.
    2021, section 2.3).
    """

    def __init__(self, *, block: int = 512, frozen_encoder: bool = False, rngs):
        self.encoder = SCAEEncoder(rngs=rngs)
        self.head = MultiTaskHead(128 * 2 * 31, block=block, rngs=rngs)
        self.frozen_encoder = frozen_encoder

    def __call__(self, x, *, train: bool = False, key=None):
        """Logits per task for patches ``(B, 128, 31, 1)``.

        With ``frozen_encoder`` (*Feat. Ext.*) the encoder always runs in inference mode: no
        dropout, batch normalisation with its pretrained running statistics, which stay as they
        are (Keras' behaviour for a layer with ``trainable = False``). Freeze its weights too
        (``TrainConfig(freeze=("encoder",))``).
        """
        k1, k2 = (None, None) if key is None else jax.random.split(key)
        z = self.encoder(x, train=train and not self.frozen_encoder, key=k1)
        return self.head(z, train=train, key=k2)


class LatentClassifier(nnx.Module):
    """The multi-task head alone, on latents of a frozen encoder (*Feat. Ext.* on cached codes).

    A frozen encoder in inference mode is a fixed function of its input, so training
    ``SCAEClassifier(frozen_encoder=True)`` with ``freeze=("encoder",)`` equals training this
    head on the encoder's latents computed once: the same parameters, batch order and dropout
    masks (the key is split as :class:`SCAEClassifier` splits it), for a fraction of the work
    (tested in ``tests/test_gomez_canon.py``).
    """

    def __init__(self, *, block: int = 512, rngs):
        self.head = MultiTaskHead(128 * 2 * 31, block=block, rngs=rngs)

    def __call__(self, z, *, train: bool = False, key=None):
        """Logits per task for latents ``(B, 2, 31, 128)``."""
        k2 = None if key is None else jax.random.split(key)[1]
        return self.head(z, train=train, key=k2)


class CPC(nnx.Module):
    """Contrastive predictive coding on mel patches (Gomez-Canon et al. 2021, Fig. 1).

    Args:
        code: size of each patch's code ``z`` (a linear map of the flattened SCAE latent).
        context: GRU size (``c_t``).
        n_future: predicted future patches (2 in the paper).
        rngs: random streams.
    """

    n_past = 4  # the paper: 4 past patches

    def __init__(self, code: int = 256, context: int = 256, n_future: int = 2, *, rngs):
        self.encoder = SCAEEncoder(rngs=rngs)
        self.to_code = nnx.Linear(128 * 2 * 31, code, rngs=rngs)
        self.gru = nnx.GRUCell(code, context, rngs=rngs)
        self.predict = nnx.List([nnx.Linear(context, code, rngs=rngs) for _ in range(n_future)])

    def encode(self, patches, *, train: bool = False, key=None):
        """Codes of patches ``(B, S, 128, 31, 1)`` -> ``(B, S, code)``."""
        b, s = patches.shape[:2]
        h = self.encoder(patches.reshape(b * s, *patches.shape[2:]), train=train, key=key)
        return self.to_code(h.reshape(b * s, -1)).reshape(b, s, -1)

    def context(self, codes):
        """GRU summary of the past codes ``(B, n_past, code)`` -> ``(B, context)``."""
        carry = jnp.zeros((codes.shape[0], self.gru.hidden_features), codes.dtype)
        for t in range(codes.shape[1]):
            carry, _ = self.gru(carry, codes[:, t])
        return carry

    def predictions(self, past, *, train: bool = False, key=None):
        """Predicted future codes ``(B, n_future, code)`` from ``n_past`` past patches."""
        c = self.context(self.encode(past, train=train, key=key))
        return jnp.stack([w(c) for w in self.predict], axis=1)

    def __call__(self, windows, *, train: bool = False, key=None):
        """Predicted and true codes of the future patches of consecutive windows.

        Args:
            windows: ``(B, n_past + n_future, 128, 31, 1)`` consecutive patches.
            train: training mode (dropout, batch statistics).
            key: seeds dropout in training.

        Returns:
            ``(pred, z)``, both ``(B, n_future, code)``: ``W_k c_t`` from the first ``n_past``
            patches and the codes of the next ``n_future`` patches. All patches are encoded in
            one batch; a window's candidates that are *not* consecutive are the future codes of
            other windows of the batch (``mer_ser.train.make_cpc_fit``).
        """
        z = self.encode(windows, train=train, key=key)
        c = self.context(z[:, : self.n_past])
        pred = jnp.stack([w(c) for w in self.predict], axis=1)
        return pred, z[:, self.n_past : self.n_past + len(self.predict)]

    def binary_scores(self, past, candidates, *, train: bool = False, key=None):
        """Logits that each candidate is the true k-th next patch (the paper's objective).

        Args:
            past: ``(B, n_past, 128, 31, 1)``.
            candidates: ``(B, n_future, 128, 31, 1)``: the true next patches or negatives.
            train: training mode (dropout, batch statistics).
            key: seeds dropout in training.

        Returns:
            ``(B, n_future)`` logits ``W_k c_t . z_candidate``.
        """
        k1, k2 = (None, None) if key is None else jax.random.split(key)
        pred = self.predictions(past, train=train, key=k1)
        z = self.encode(candidates, train=train, key=k2)
        return (pred * z).sum(-1)

    def info_nce(self, past, future, *, train: bool = False, key=None):
        """InfoNCE over the batch: each prediction against every sequence's true future code."""
        k1, k2 = (None, None) if key is None else jax.random.split(key)
        pred = self.predictions(past, train=train, key=k1)
        z = self.encode(future, train=train, key=k2)
        return (
            sum(_losses.info_nce(pred[:, k], z[:, k]) for k in range(pred.shape[1])) / pred.shape[1]
        )
