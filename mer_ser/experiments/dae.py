"""Denoising LSTM autoencoders pretrained on unlabelled pools (Coutinho & Schuller 2017).

Section "Pre-training of the first layer" and Table 5: an LSTM-DAE with 260 sigmoid outputs
learns to reconstruct the features of unlabelled music and speech (the paper: ME14 and SEMAINE)
from inputs with Gaussian noise; its encoder then initialises, frozen, the first layer of the
CD_TL regressors. :class:`DAEPretraining` runs the paper's grid, caches every job and hands the
encoders to :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack`.

Choices the paper leaves open (stated in :mod:`~mer_ser.experiments.coutinho2017` too): the DAE
sees z-scored features and reconstructs their logistic squashing ``sigmoid(z)``; its
reconstruction RMSE and r (Table 5) are measured on pool clips it never trains on (every fifth
clip, which also decide early stopping); SGD with momentum 0.9 at the paper's learning rates times
``DAE_LR_SCALE``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mer_ser.experiments.jobs import JobCache, Trained, job_key, predict, run_job
from mer_ser.experiments.sequences import SequenceSet, concatenate
from mer_ser.models.lstm import LSTMDAE, resize_lstm
from mer_ser.train.engine import TrainConfig, folds_from_masks, make_fit

#: Every fifth pool clip is held out: validation for early stopping and Table 5's scores.
HOLD_OUT_EVERY = 5


def pool_set(pools: list[SequenceSet], normalisation: str) -> SequenceSet:
    """The unlabelled pools as one z-scored set.

    ``"paper"``: standardised with the pooled statistics; ``"domain"``: each pool with its own
    (music and speech each z-scored in their own domain).
    """
    if not pools:
        raise ValueError("DAE pretraining needs unlabelled pools (pools=[...])")
    if normalisation == "domain":
        return concatenate([p.standardised() for p in pools], "pool")
    return concatenate(pools, "pool").standardised()


def reconstruction_scores(pred: np.ndarray, y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Table 5's RMSE and Pearson r of each model over every valid value, in float64.

    Args:
        pred: ``(K, N, T, F)`` reconstructions of ``K`` models.
        y: ``(N, T, F)`` targets.
        m: ``(N, T)`` valid frames.

    Returns:
        ``(K, 2)``: RMSE and r per model (r is 0 when either side is constant).
    """
    sel = np.broadcast_to(np.asarray(m)[:, :, None], pred.shape[1:])
    b = np.asarray(y)[sel].astype(np.float64)
    out = []
    for k in range(pred.shape[0]):
        a = pred[k][sel].astype(np.float64)
        rmse = np.sqrt(np.mean((a - b) ** 2))
        r = np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else 0.0
        out.append((rmse, r))
    return np.asarray(out)


class DAEPretraining:
    """The paper's DAE grid on a track's pools, one cached job per (H, stage, normalisation).

    Args:
        protocol: a :class:`~mer_ser.experiments.coutinho2017.Protocol` (its ``dae_*`` fields,
            ``peephole``, ``pad_hidden``, ``trials``).
        pools: the unlabelled sets.
        cache: the job cache.
        seed: base seed of every DAE trial.
        bar: ``bar(total, desc)`` -> a progress bar context.
    """

    def __init__(self, protocol, pools: list[SequenceSet], cache: JobCache, seed: int, bar):
        self.protocol = protocol
        self.pools = list(pools)
        self.cache = cache
        self.seed = seed
        self._bar = bar
        self._jobs: dict = {}  # (normalisation, H) -> (sigma-grid Trained, hyper)
        self._rows: dict = {}

    def size(self, h: int) -> int:
        """Blocks a DAE with ``h`` active blocks is built with."""
        return max(self.protocol.dae_hidden) if self.protocol.pad_hidden else h

    def job(self, h: int, hyper: list[dict], normalisation: str) -> tuple[Trained, dict]:
        """Train (or load) DAEs of ``h`` blocks for each ``hyper`` (learning rate, noise).

        Returns:
            The trained job and ``{"rmse": (K,), "r": (K,)}`` on the held-out pool clips.
        """
        p = self.protocol
        pool = pool_set(self.pools, normalisation)
        val = (np.arange(len(pool)) % HOLD_OUT_EVERY) == 0
        fold = folds_from_masks((~val)[None], val[None])
        cfg = TrainConfig(
            optimizer="sgd",
            learning_rate=p.dae_learning_rates[0],
            momentum=0.9,
            batch_size=p.dae_batch_size,
            max_epochs=p.dae_max_epochs,
            patience=p.dae_patience,
            loss="mse",
            standardise_inputs=False,
            standardise_outputs=False,
            compute_dtype=p.compute_dtype,
        )
        f_in = pool.x.shape[-1]
        size = self.size(h)

        def build(rngs):
            return LSTMDAE(f_in, size, peephole=p.peephole, rngs=rngs)

        fit, apply = make_fit(build, cfg, restrict=LSTMDAE.restrict if p.pad_hidden else None)
        if p.pad_hidden:
            hyper = [{**d, "hidden": h} for d in hyper]
        x = jnp.asarray(pool.x)
        m = jnp.asarray(pool.m)
        y = jnp.where(m[..., None], jax.nn.sigmoid(x), 0.0)
        key = job_key(
            {
                "kind": "dae",
                "data": pool.fingerprint(),
                "hidden": h,
                "size": size,
                "hyper": hyper,
                "trials": p.dae_trials,
                "cfg": dataclasses.asdict(cfg),
                "peephole": p.peephole,
                "seed": self.seed,
            }
        )
        trained = run_job(fit, key=key, seed=self.seed, trials=p.dae_trials, folds=fold,
                          x=x, m=m, y=y, hyper=hyper, cache=self.cache)  # fmt: skip
        yv, mv = np.asarray(y[val]), np.asarray(m[val])
        rec = predict(apply, trained, x[val], m[val], chunk=8,
                      reduce=lambda pred: reconstruction_scores(pred, yv, mv))  # fmt: skip
        return trained, {"rmse": rec[:, 0], "r": rec[:, 1]}

    def grid(self, normalisation: str = "paper") -> pd.DataFrame:
        """The DAE grid (section "Pre-training of the first layer", Table 5).

        For each ``H`` in ``dae_hidden``: the learning rate is chosen on the mean reconstruction
        RMSE over trials at sigma 0.1; then every sigma in ``dae_noise`` is trained with it.

        Returns:
            One row per model: ``stage`` (``"lr"``: the learning-rate step at sigma 0.1,
            ``"sigma"``: the noise grid), ``hidden, sigma, lr, trial, rmse, r, epochs,
            best_epoch``.
        """
        if normalisation in self._rows:
            return self._rows[normalisation]
        p = self.protocol
        rows = []
        with self._bar(2 * len(p.dae_hidden), f"DAE grid ({normalisation})") as bar:
            for h in p.dae_hidden:
                hyper = [{"learning_rate": lr, "input_noise": 0.1} for lr in p.dae_learning_rates]
                tr, rec = self.job(h, hyper, normalisation)
                bar.update()
                score = rec["rmse"].reshape(len(hyper), -1).mean(axis=1)
                lr = p.dae_learning_rates[int(np.argmin(score))]
                rows += _rows(tr, rec, hyper, h, "lr")
                hyper = [{"learning_rate": lr, "input_noise": s} for s in p.dae_noise]
                tr, rec = self.job(h, hyper, normalisation)
                bar.update()
                rows += _rows(tr, rec, hyper, h, "sigma")
                self._jobs[(normalisation, h)] = (tr, hyper)
        self._rows[normalisation] = pd.DataFrame(rows)
        return self._rows[normalisation]

    def table(self, normalisation: str = "paper") -> pd.DataFrame:
        """Table 5 analog: mean RMSE and r over trials per (H, sigma), with H's learning rate."""
        df = self.grid(normalisation)
        g = df[df["stage"] == "sigma"].groupby(["hidden", "sigma"], sort=True)
        return g.agg(
            rmse=("rmse", "mean"),
            r=("r", "mean"),
            chosen_lr=("lr", "first"),
            trials=("trial", "nunique"),
        ).reset_index()

    def curves(self, normalisation: str = "paper") -> pd.DataFrame:
        """Per-epoch training and validation reconstruction MSE of the sigma-grid DAEs."""
        self.grid(normalisation)
        rows = []
        for (norm, h), (tr, hyper) in sorted(self._jobs.items()):
            if norm != normalisation:
                continue
            c, t, _ = tr.shape
            for k in range(c * t):
                n = int(tr.epochs[k])
                rows.append(
                    pd.DataFrame(
                        {
                            "hidden": h,
                            "sigma": hyper[k // t]["input_noise"],
                            "trial": k % t,
                            "epoch": np.arange(n),
                            "train_mse": tr.train_loss[k, :n],
                            "val_mse": tr.val_loss[k, :n],
                        }
                    )
                )
        return pd.concat(rows, ignore_index=True)

    def key(self, h: int, normalisation: str) -> str:
        """The cache key of the sigma-grid job of ``h`` blocks (part of its regressors' keys)."""
        return self._jobs[(normalisation, h)][0].key

    def pool_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std of every feature over the pooled pools (the paper's normalisation)."""
        return concatenate(self.pools, "pool").feature_stats()

    def models(self, h: int, sigma: float, normalisation: str = "paper") -> Trained:
        """The trained DAEs of (H, sigma), one per DAE trial (``shape = (1, trials, 1)``).

        Under ``"domain"`` the learning rate chosen under the paper's normalisation is reused
        and only the sigma grid is trained.
        """
        if (normalisation, h) not in self._jobs:
            if normalisation == "paper":
                self.grid("paper")
            else:
                paper = self.table("paper")
                lr = float(paper.loc[paper["hidden"] == h, "chosen_lr"].iloc[0])
                hyper = [{"learning_rate": lr, "input_noise": s} for s in self.protocol.dae_noise]
                self._jobs[(normalisation, h)] = (self.job(h, hyper, normalisation)[0], hyper)
        if (normalisation, h) not in self._jobs:
            raise ValueError(f"no DAE with {h} hidden blocks (dae_hidden must include hidden1)")
        tr, hyper = self._jobs[(normalisation, h)]
        c = [round(d["input_noise"], 6) for d in hyper].index(round(sigma, 6))
        return tr.select(c)

    def encoders(self, h: int, sigma: float, normalisation: str, size: int) -> dict:
        """The DAE encoders of (H, sigma), one per regressor trial, as a ``{"lstm1": ...}`` preset.

        See :meth:`models`. ``size``: the blocks of the regressor's first layer (``h``, or more
        with inactive ones).
        """
        sel = self.models(h, sigma, normalisation)
        reps = np.arange(self.protocol.trials) % sel.shape[1]  # regressor trial t: DAE trial t
        enc = resize_lstm(sel.params["encoder"], size)
        return {"lstm1": jax.tree.map(lambda a: np.asarray(a)[reps], enc)}


def _rows(tr: Trained, rec: dict, hyper: list[dict], h: int, stage: str) -> list[dict]:
    c, t, _ = tr.shape
    return [
        {
            "stage": stage,
            "hidden": h,
            "sigma": hyper[k // t]["input_noise"],
            "lr": hyper[k // t]["learning_rate"],
            "trial": k % t,
            "rmse": float(rec["rmse"][k]),
            "r": float(rec["r"][k]),
            "epochs": int(tr.epochs[k]),
            "best_epoch": int(tr.best_epoch[k]),
        }
        for k in range(c * t)
    ]
