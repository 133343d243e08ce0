"""Mixed precision: bfloat16 arithmetic, float32 parameters, optimiser state and loss.

With ``TrainConfig(compute_dtype="bfloat16")`` the training engine keeps the parameters and the
optimiser state in float32 and casts them, with the inputs, to bfloat16 at the start of each
forward pass (Micikevicius et al. 2018, "Mixed precision training", section 3.1: a float32
master copy of the weights). The model's output is cast back to float32 before the loss, so
every reduction of the loss, the gradients reaching the master weights, the L1 penalty and the
optimiser update are float32. bfloat16 has float32's exponent range, so no loss scaling is
needed (Kalamkar et al. 2019, "A study of BFLOAT16 for deep learning training").

Inside the models, convolutions and dense layers run in the dtype of their weights; the LSTM
recurrence (:mod:`mer_ser.models.lstm`) keeps its cell state and gates in float32, casting only
its input projection, the one large matrix product of the layer, to the compute dtype. Batch
normalisation reduces in float32 (Flax's default), so its running statistics stay float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: The compute dtypes a :class:`~mer_ser.train.TrainConfig` accepts, by name.
COMPUTE_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def compute_dtype(name: str):
    """The dtype called ``name`` (``"float32"`` or ``"bfloat16"``).

    Raises:
        ValueError: another name; the message lists the allowed ones.
    """
    try:
        return COMPUTE_DTYPES[name]
    except KeyError:
        allowed = ", ".join(COMPUTE_DTYPES)
        raise ValueError(f"compute_dtype must be one of {allowed}, got {name!r}") from None


def cast_floating(tree, dtype):
    """``tree`` with every floating-point leaf cast to ``dtype`` (integers and keys untouched)."""

    def cast(a):
        if hasattr(a, "dtype") and jnp.issubdtype(a.dtype, jnp.floating):
            return a.astype(dtype)
        return a

    return jax.tree.map(cast, tree)


def in_compute_dtype(forward, name: str):
    """``forward(params, *state, x, **kw)`` run in the compute dtype ``name``.

    The parameters and ``x`` are cast to the compute dtype, the further positional state (batch
    statistics) is passed as it is, and every floating-point leaf of the output is cast back to
    float32. With ``"float32"``, ``forward`` itself is returned.
    """
    dtype = compute_dtype(name)
    if dtype == jnp.float32:
        return forward

    def mixed(params, *args, **kwargs):
        *state, x = args
        out = forward(cast_floating(params, dtype), *state, x.astype(dtype), **kwargs)
        return cast_floating(out, jnp.float32)

    return mixed
