"""DCNN and ADCRNN training steps inside the engine's compiled fit, against the standalone step.

The engine runs whole epochs in a ``lax.while_loop`` of ``lax.scan``s; this checks that a step
costs there what ``mer-ser bench train`` measures for a single jitted step, at the thesis' input
(batch 32, 1001 x 40 x 3), so the projection of the thesis' experiments holds. Meant for a GPU
(docs/performance.md); prints one JSON line.

Run: ``python -m mer_ser.bench.engine_fit``.
"""

import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from mer_ser.bench import training as bench
from mer_ser.models import ADCRNN, DCNN
from mer_ser.train import TrainConfig, folds_from_masks, make_classifier_fit


def seconds(f, key) -> float:
    """Wall seconds of one call of ``f(key)``."""
    t0 = time.perf_counter()
    jax.block_until_ready(f(key))
    return time.perf_counter() - t0


def main() -> None:
    """Measure and print."""
    out = {"device": str(jax.devices()[0]), "jax": jax.__version__}
    n_train, n_val, frames = 640, 64, 1001
    n = n_train + n_val
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((n, frames, 40, 3)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, n))
    tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
    tr[0, :n_train], va[0, n_train:] = True, True
    fold = jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))
    for name, cls, lr in (("dcnn", DCNN, 1e-4), ("adcrnn", ADCRNN, 1e-5)):
        run = {}
        for epochs in (1, 3):
            cfg = TrainConfig(
                optimizer="adam",
                learning_rate=lr,
                batch_size=32,
                max_epochs=epochs,
                patience=30,
                monitor="accuracy",
                l1=cls.l1,
            )
            fit, _ = make_classifier_fit(lambda r, cls=cls: cls(frames, rngs=r), cfg)
            f = jax.jit(lambda k, fit=fit: fit(k, fold, x, y))
            seconds(f, jax.random.key(0))  # compile
            run[epochs] = seconds(f, jax.random.key(1))
        per_epoch = (run[3] - run[1]) / 2  # an epoch: 20 steps and a validation pass
        out[name] = {
            "epoch_s": per_epoch,
            "steps_per_epoch": n_train // 32,
            "s_per_step_in_engine": per_epoch / (n_train // 32),
            "s_per_step_standalone": bench.conv_step_jax(cls, batch=32, frames=frames, steps=20),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
