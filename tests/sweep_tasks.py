"""A sweep task for the sweep's own tests, run as ``"sweep_tasks:regressor_grid"``.

It lives with the tests (not in the package) and is found by name on every worker, as a user's
own task would be: the workers import this module themselves.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd

from mer_ser.experiments.jobs import predict, run_job
from mer_ser.models import ContinuousRegressor
from mer_ser.sweep import task
from mer_ser.train import TrainConfig, folds_from_masks, make_fit

#: How the tests name the task.
NAME = "sweep_tasks:regressor_grid"


@task(required=("seed", "learning_rate"))
def regressor_grid(config: dict) -> pd.DataFrame:
    """A small continuous-regressor grid point on generated sequences.

    Config: ``seed`` (data and trials), ``learning_rate``, ``hidden`` (first layer), ``trials``,
    ``folds``, ``epochs`` (default 20), optional ``sleep`` (seconds, to keep a unit in flight in
    tests).
    Trials x folds train as ``vmap`` axes of one program; returns the held-out CCC of every
    (trial, fold).
    """
    time.sleep(float(config.get("sleep", 0.0)))
    rng = np.random.default_rng(config["seed"])
    n, t, f = 48, 20, 8
    x = rng.normal(size=(n, t, f)).astype(np.float32)
    w = rng.normal(size=(f, 2)).astype(np.float32)
    y = np.tanh(x @ w * 0.5).astype(np.float32)
    m = np.ones((n, t), bool)
    k = int(config.get("folds", 3))
    test = np.arange(n)[None] % k == np.arange(k)[:, None]
    val = np.roll(test, 1, axis=0)
    folds = folds_from_masks(~(test | val), val)
    fit, apply = _regressor_fit(f, int(config.get("hidden", 8)), int(config.get("epochs", 20)))
    trials = int(config.get("trials", 2))
    hyper = [{"learning_rate": float(config["learning_rate"])}]  # traced: one program for all
    job = run_job(fit, key="", seed=int(config["seed"]), trials=trials, folds=folds, x=x, m=m,
                  y=y, hyper=hyper)  # fmt: skip
    pred = predict(apply, job, x, m).astype(np.float64)  # (trials * folds, n, t, 2)
    rows = []
    for j in range(trials * k):
        trial, fold = divmod(j, k)
        sel = test[fold]
        score = np.mean([_ccc(pred[j][sel][..., d].ravel(), y[sel][..., d].ravel())
                         for d in range(2)])  # fmt: skip
        rows.append({"trial": trial, "fold": fold, "ccc": float(score)})
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=8)
def _regressor_fit(n_in: int, hidden: int, epochs: int):
    """One fit per shape (a worker compiles it once and reuses it for every unit)."""
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-2, batch_size=4, max_epochs=epochs,
                      patience=epochs, loss="mse")  # fmt: skip
    return make_fit(lambda r: ContinuousRegressor(n_in, (hidden, 4), 2, rngs=r), cfg)


def _ccc(a: np.ndarray, b: np.ndarray) -> float:
    """Lin's concordance correlation coefficient (float64)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cov = np.mean((a - a.mean()) * (b - b.mean()))
    return float(2 * cov / (a.var() + b.var() + (a.mean() - b.mean()) ** 2))
