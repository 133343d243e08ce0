"""The time-continuous transfer protocol of Coutinho & Schuller 2017 (PLoS ONE 12(6): e0179289).

Arousal and valence are regressed at 1 Hz from the 260 ComParE features with two-layer LSTMs, in
three blocks of conditions, each both ways between music (M) and speech (S):

* **ID** (M2M, S2S): nested cross-validation within a domain (section "Models training on the
  target task"): in each fold ``N - 2`` instances train, one validates (early stopping and
  model selection) and one is the test instance.
* **CD** (S2M, M2S): cross-validation on the source domain for model development (each held-out
  instance validates its fold), then the developed models predict every target instance.
* **CD_TL** (S2M_TL, M2S_TL): as CD, with the first layer initialised from a denoising LSTM
  autoencoder pretrained on unlabelled music and speech ("Pre-training of the first layer") and
  kept frozen.

Hyper-parameters are searched in the paper's order: first-layer size (with ``#HB_2``, learning
rate and no noise fixed; for CD_TL every (size, DAE sigma) pair), then second-layer size, then
learning rate, then input noise sigma_model. A candidate's development score is its mean
validation CCC over arousal and valence, folds and trials. Every condition repeats its models
over ``trials`` random initialisations (the paper: 10), and results are reported per trial and
test instance, so both the paper's aggregate (mean of the 5 best trials, Table 6) and the honest
one (all trials) can be computed (:func:`mer_ser.stats.aggregate_trials`).

Where the paper leaves a choice open, this module decides as follows (each stated again where it
applies):

* The search's fixed values before they are searched: ``#HB_2 = search_hidden2`` and the middle
  learning rate of the grid, no input noise (the paper states lr 1e-6 and no noise for the first
  step; ``#HB_2`` is not given).
* Model selection in ID uses the validation instances, never the test instances.
* A CD condition's target prediction in a trial is the mean of that trial's cross-validation
  models (one per source fold); ID test instances are predicted by their fold's model.
* Learning rates: the paper's grids {1e-7, 1e-6, 5e-6} are for CURRENNT, whose gradients are
  sums over every frame and output of a sequence; the engine averages (``1 - CCC`` per
  sequence, mean-squared reconstruction error), so the grids here are the paper's multiplied by
  :data:`LR_SCALE` and :data:`DAE_LR_SCALE` (ratios kept; calibrated on the built-in corpus so
  the grid's middle value converges within the epoch budget).
* The DAE sees z-scored features and reconstructs their logistic squashing ``sigmoid(z)`` with
  its 260 sigmoid outputs (the paper's "260 units with sigmoidal activation functions"); its
  reconstruction RMSE and r (Table 5) are measured on pool clips it never trains on (every fifth
  clip; they also decide early stopping, as the regressors' validation instances do).

Normalisation (an explicit option, reported beside every result):

* ``"paper"``: inputs and outputs standardised with each source training fold's statistics.
* ``"domain"``: each corpus' inputs z-scored with its own feature statistics (target features,
  never target labels; the usual cross-corpus practice), outputs with the training fold's. The
  ``domain`` variant of a CD condition reuses the hyper-parameters developed under ``"paper"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mer_ser.experiments.continuous_results import (
    ConditionResult,
    sequence_metrics,
)
from mer_ser.experiments.dae import DAEPretraining
from mer_ser.experiments.data import Data
from mer_ser.experiments.jobs import (
    JobCache,
    Trained,
    default_jobs_dir,
    job_key,
    learning_curves,
    predict,
    run_job,
)
from mer_ser.experiments.sequences import SequenceSet, frames_matrix
from mer_ser.experiments.splits import cv_masks
from mer_ser.models import linear
from mer_ser.models.lstm import ContinuousRegressor
from mer_ser.train.engine import TrainConfig, folds_from_masks, make_fit

#: Learning rates here = the paper's x LR_SCALE (see the module docstring).
LR_SCALE = 5e4
#: DAE learning rates here = the paper's x DAE_LR_SCALE.
DAE_LR_SCALE = 4e6
#: The six conditions of Table 6: name -> (block, source domain, target domain).
CONDITIONS = {
    "M2M": ("ID", "music", "music"),
    "S2S": ("ID", "speech", "speech"),
    "S2M": ("CD", "speech", "music"),
    "M2S": ("CD", "music", "speech"),
    "S2M_TL": ("CD_TL", "speech", "music"),
    "M2S_TL": ("CD_TL", "music", "speech"),
}
_PAPER_LR = (1e-7, 1e-6, 5e-6)
_SIGMAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass(frozen=True)
class Protocol:
    """Grids, trials, folds and stopping rules of one run of the protocol.

    The ``paper`` profile is the published protocol; the smaller ones list every reduction with
    its reason in ``reductions``.
    """

    name: str
    trials: int = 10  # "ten trials (repetitions) in each test condition"
    folds: int | None = None  # None: leave-one-out (the paper); k: k contiguous groups
    hidden1: tuple[int, ...] = (50, 75, 100, 150, 200)
    hidden2: tuple[int, ...] = (2, 4, 6, 8, 10)
    learning_rates: tuple[float, ...] = tuple(lr * LR_SCALE for lr in _PAPER_LR)
    noise: tuple[float, ...] = _SIGMAS  # sigma_model
    search_hidden2: int = 10  # #HB_2 while #HB_1 is searched (not stated in the paper)
    search_learning_rate: float = 1e-6 * LR_SCALE  # "using a learning rate of 1e-6"
    max_epochs: int = 500  # "a maximum of 500 iterations"
    patience: int = 20  # "halted after 20 iterations without improvement"
    batch_size: int = 1  # "each sequence ... presented randomly"
    dae_hidden: tuple[int, ...] = (50, 75, 100, 150, 200)
    dae_noise: tuple[float, ...] = _SIGMAS
    dae_learning_rates: tuple[float, ...] = tuple(lr * DAE_LR_SCALE for lr in _PAPER_LR)
    dae_trials: int = 10
    dae_max_epochs: int = 300  # "a maximum of 300 iterations"
    dae_patience: int = 20
    dae_batch_size: int = 1
    best: int = 5  # Table 6: "averaged across the five best trials"
    peephole: bool = True  # eqs. (1)-(5)
    sweep_model: tuple[int, int, float, float] = (
        100,
        10,
        1e-6 * LR_SCALE,
        0.1,
    )  # h1, h2, lr, noise
    #: Train every layer size of a grid in one program: models are built at the grid's largest
    #: sizes and the blocks beyond a candidate's own are switched off (exactly equivalent, see
    #: :mod:`mer_ser.models.lstm`). Saves compilation (seconds per program on a CPU) at the cost
    #: of computing the largest size for every candidate; off for ``paper``, whose 5 x 6
    #: first-step candidates x 230 models each would not share memory well.
    pad_hidden: bool = False
    #: "bfloat16": mixed precision on a GPU (:mod:`mer_ser.train.precision`); not a paper setting.
    compute_dtype: str = "float32"
    reductions: tuple[str, ...] = field(default=())

    def training(self, **changes) -> TrainConfig:
        """The regressor's training configuration (Coutinho & Schuller: SGD, momentum 0.9)."""
        base = TrainConfig(
            optimizer="sgd",
            learning_rate=self.search_learning_rate,
            momentum=0.9,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            loss="ccc",
            compute_dtype=self.compute_dtype,
        )
        return dataclasses.replace(base, **changes)


PROTOCOLS: dict[str, Protocol] = {
    "paper": Protocol("paper"),
    "default": Protocol(
        "default",
        trials=3,
        folds=4,
        hidden1=(32, 64),
        hidden2=(4, 10),
        learning_rates=tuple(lr * LR_SCALE for lr in _PAPER_LR[1:]),
        noise=(0.1, 0.5),
        max_epochs=20,
        patience=4,
        batch_size=2,
        dae_hidden=(32, 64),
        dae_noise=(0.1, 0.5),
        dae_learning_rates=tuple(lr * DAE_LR_SCALE for lr in _PAPER_LR[1:]),
        dae_trials=3,
        dae_max_epochs=30,
        dae_patience=5,
        dae_batch_size=4,
        best=2,
        sweep_model=(64, 10, 1e-6 * LR_SCALE, 0.1),
        pad_hidden=True,
        reductions=(
            "trials 10 -> 3 and the aggregate 'best 5 of 10' -> 'best 2 of 3': the 2-core budget",
            "leave-one-out -> 4 folds of 4 clips (nested: 8 train, 4 validation, 4 test; "
            "development: 12 train, 4 held out): 4 instead of 16 models per trial",
            "#HB_1 {50..200} -> {32, 64}: the cost of a model grows with #HB_1 and the "
            "built-in corpus has fewer independent cues than 260 real features",
            "#HB_2 {2..10} -> {4, 10}; sigma_model and sigma_DAE {0.1..0.6} -> {0.1, 0.5}",
            "learning rates {1e-7, 1e-6, 5e-6} (x LR_SCALE) -> {1e-6, 5e-6}: the smallest "
            "converges too slowly for the 20-epoch limit",
            "epochs 500 / 300 -> 20 / 30, patience 20 -> 4 / 5: 90 s clips mostly reach "
            "their best validation CCC within 15 epochs at these learning rates",
            "2 sequences (4 for DAEs) per update instead of 1",
        ),
    ),
    "quick": Protocol(
        "quick",
        trials=3,
        folds=5,
        hidden1=(32,),
        hidden2=(4,),
        learning_rates=(1e-6 * LR_SCALE,),
        noise=(0.1,),
        search_hidden2=4,
        max_epochs=40,
        patience=6,
        batch_size=1,
        dae_hidden=(32,),
        dae_noise=(0.1, 0.4),
        dae_learning_rates=(1e-6 * DAE_LR_SCALE,),
        dae_trials=3,
        dae_max_epochs=30,
        dae_patience=5,
        dae_batch_size=2,
        best=2,
        sweep_model=(32, 4, 1e-6 * LR_SCALE, 0.1),
        pad_hidden=True,
        reductions=(
            "tests only: one value per grid (two DAE sigmas), #HB_1 = 32, 3 trials, 5 folds, "
            "40 epochs / patience 6",
        ),
    ),
}


@dataclass(kw_only=True)
class Development:
    """One condition's hyper-parameter search and its final models.

    Attributes:
        condition: e.g. ``"S2M_TL"``.
        normalisation: ``"paper"`` or ``"domain"``.
        chosen: the selected ``h1, h2, lr, noise, dae_sigma``.
        search: one row per candidate tried: ``step, h1, h2, lr, noise, dae_sigma, dev_ccc,
            diverged`` (models of the candidate stopped by the divergence guard; their kept
            parameters are those of their best epoch before the loss turned NaN/inf).
        trained: the final models (the chosen candidate of the last step).
        dev_by_trial: development score of each trial of the final models, ``(trials,)``.
        source_pred: the final models' predictions on every source instance,
            ``(trials * folds, N, T, 2)`` (ID reads its test instances from them).
    """

    condition: str
    normalisation: str
    chosen: dict
    search: pd.DataFrame
    trained: Trained
    dev_by_trial: np.ndarray
    source_pred: np.ndarray


@dataclass(frozen=True)
class FrameRidge:
    """A frame-wise ridge regression of arousal and valence (:func:`frame_ridge`).

    Attributes:
        model: the fitted :class:`~mer_ser.models.linear.Linear` (on standardised inputs).
        mean: ``(d,)`` the training frames' feature means; ``std``: their deviations.
        score: the chosen penalty's mean validation CCC.
        search: ``{"alpha", "val_ccc"}`` per penalty tried.
    """

    model: linear.Linear
    mean: np.ndarray
    std: np.ndarray
    score: float
    search: list

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Arousal and valence ``(N, T, 2)`` of frame features ``(N, T, d)``."""
        z = (np.asarray(x, np.float64) - self.mean) / self.std
        return self.model.predict(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:2], 2)


def frame_ridge(x, m, y, train, val, *, grid=linear.GRID) -> FrameRidge:
    """Ridge regression from each frame's features to its arousal and valence.

    Inputs are standardised with the training frames' statistics; the penalty is chosen from
    ``grid`` (``alpha = 1 / (2 C)``) by the mean CCC over the validation sequences, the
    development score of the LSTMs (Coutinho & Schuller 2017, "Measures").

    Args:
        x: padded frame features ``(N, T, d)``.
        m: valid frames ``(N, T)``.
        y: gold arousal and valence ``(N, T, 2)``.
        train: rows (indices or a boolean mask) to fit on.
        val: rows to choose the penalty on.
        grid: regularisations ``C`` to try.
    """
    frames = x[train][m[train]].astype(np.float64)
    mean, std = frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-8)
    targets = y[train][m[train]]
    best, search = None, []
    for c in grid:
        fit = FrameRidge(linear.fit("ridge", (frames - mean) / std, targets, c=c), mean, std,
                         -np.inf, search)  # fmt: skip
        ccc = sequence_metrics(fit.predict(x[val]), y[val], m[val])["ccc"]
        score = float(np.nanmean(ccc))
        search.append({"alpha": 1.0 / (2.0 * c), "val_ccc": score})
        if best is None or score > best.score + 1e-12:
            best = dataclasses.replace(fit, score=score)
    return best


class ContinuousTrack:
    """The whole time-continuous protocol on one music and one speech corpus.

    Args:
        protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS`.
        music: the labelled music set (:func:`~mer_ser.experiments.sequences.sequence_set`).
        speech: the labelled speech set.
        pools: unlabelled sets for DAE pretraining (the paper: ME14 music and SEMAINE speech).
        cache_dir: where trained jobs are kept (``None``: no cache).
        seed: base random seed of every trial.
        progress: progress bars over training jobs.
    """

    def __init__(
        self,
        protocol: Protocol | str,
        *,
        music: SequenceSet,
        speech: SequenceSet,
        pools: list[SequenceSet] | None = None,
        cache_dir=None,
        seed: int = 0,
        progress: bool = True,
    ):
        self.protocol = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
        for s in (music, speech):
            if s.y is None:
                raise ValueError(f"{s.name}: the {s.domain} set has no continuous labels")
        self.sets = {"music": music, "speech": speech}
        self.pools = list(pools or [])
        self.cache = JobCache(cache_dir)
        if cache_dir is not None:  # jobs of equal shapes (lr vs noise step, M2M vs S2S) share
            # one compiled program through JAX's persistent compilation cache
            jax.config.update("jax_compilation_cache_dir", str(Path(cache_dir) / "xla"))
        self.seed = seed
        self.progress = progress
        self.dae = DAEPretraining(self.protocol, self.pools, self.cache, seed, self._bar)
        self._dev: dict = {}
        self._fits: dict = {}

    # ----------------------------------------------------------------- data and jobs

    @classmethod
    def from_corpora(
        cls, data: Data, corpora: dict, protocol: Protocol | str | None = None
    ) -> ContinuousTrack:
        """The track on a notebook's ``corpora``: specs under ``music``, ``speech``, ``pools``.

        Sets come through ``data`` (:meth:`~mer_ser.experiments.data.Data.sequences`); jobs are
        cached under its data root; ``data.seed`` seeds every trial.

        Args:
            data: where the corpora, the feature cache and the job cache are.
            corpora: ``{"music": spec, "speech": spec, "pools": [spec, ...]}`` (``pools``
                optional: the DAE conditions need them).
            protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS` (default: the data's
                profile).
        """
        specs = [corpora["music"], corpora["speech"], *corpora.get("pools", ())]
        music, speech, *pools = data.sequences(specs)
        return cls(
            protocol or data.profile,
            music=music,
            speech=speech,
            pools=pools,
            cache_dir=default_jobs_dir(data.data_root),
            seed=data.seed,
            progress=data.progress,
        )

    def _data(self, domain: str, normalisation: str) -> SequenceSet:
        s = self.sets[domain]
        if normalisation == "paper":
            return s
        if normalisation == "domain":
            return s.standardised()
        raise ValueError(f"normalisation must be 'paper' or 'domain', got {normalisation!r}")

    def _bar(self, total: int, desc: str):

        return tqdm(total=total, desc=desc, unit="job", disable=not self.progress, leave=False)

    def layer_sizes(self, h1: int, h2: int) -> tuple[int, int]:
        """Layer sizes a regressor with ``(h1, h2)`` active blocks is built with."""
        p = self.protocol
        return (max(p.hidden1), max(p.hidden2)) if p.pad_hidden else (h1, h2)

    # ----------------------------------------------------------------- DAE pretraining
    def pretrain(self, normalisation: str = "paper") -> pd.DataFrame:
        """The DAE grid on the pools (:meth:`DAEPretraining.grid`, Table 5): one row per model."""
        return self.dae.grid(normalisation)

    def pretrain_table(self, normalisation: str = "paper") -> pd.DataFrame:
        """Table 5 analog: mean RMSE and r per (H, sigma) (:meth:`DAEPretraining.table`)."""
        return self.dae.table(normalisation)

    def dae_curves(self, normalisation: str = "paper") -> pd.DataFrame:
        """Per-epoch reconstruction MSE of the sigma-grid DAEs (:meth:`DAEPretraining.curves`)."""
        return self.dae.curves(normalisation)

    def dae_encoders(self, h: int, sigma: float, normalisation: str, size: int) -> dict:
        """The frozen first layers of CD_TL regressors (:meth:`DAEPretraining.encoders`)."""
        return self.dae.encoders(h, sigma, normalisation, size)

    # ----------------------------------------------------------------- regression
    def _regression_job(
        self, block: str, src: SequenceSet, cands: list[dict], normalisation: str
    ) -> tuple[list[Trained], np.ndarray, np.ndarray]:
        """Train the candidates ``cands`` of ``block`` (``ID``, ``CD`` or ``CD_TL``) on ``src``.

        Candidates hold ``h1, h2, lr, noise, dae_sigma``. Those built with the same layer sizes
        (all of them with ``pad_hidden``) train in one program.

        Returns:
            ``(trained, dev, pred)``: each candidate's models (shape ``(1, trials, folds)``),
            each model's development score (mean validation CCC over arousal and valence)
            shaped ``(C, trials, folds)``, and every model's predictions on every source
            instance ``(C * trials * folds, N, T, 2)``, candidates in order.
        """
        groups: dict[tuple[int, int], list[int]] = {}
        for i, c in enumerate(cands):
            groups.setdefault(self.layer_sizes(c["h1"], c["h2"]), []).append(i)
        trained: list = [None] * len(cands)
        dev: list = [None] * len(cands)
        pred: list = [None] * len(cands)
        for size, idx in groups.items():
            tr, d, pr = self._one_job(block, src, size, [cands[i] for i in idx], normalisation)
            k = tr.shape[1] * tr.shape[2]
            for j, i in enumerate(idx):
                trained[i], dev[i], pred[i] = tr.select(j), d[j], pr[j * k : (j + 1) * k]
        return trained, np.stack(dev), np.concatenate(pred)

    def _one_job(
        self,
        block: str,
        src: SequenceSet,
        size: tuple[int, int],
        cands: list[dict],
        normalisation: str,
    ) -> tuple[Trained, np.ndarray, np.ndarray]:
        p = self.protocol
        tr_m, va_m, _ = cv_masks(len(src), p.folds, nested=block == "ID")
        folds = folds_from_masks(tr_m, va_m)
        transfer = block == "CD_TL"
        cfg = p.training(
            standardise_inputs=normalisation == "paper",
            freeze=("lstm1",) if transfer else (),
        )
        restrict = ContinuousRegressor.restrict if p.pad_hidden else None
        fit, apply = self._fit_for(src.x.shape[-1], size, cfg, restrict)
        hyper = [{"learning_rate": c["lr"], "input_noise": c["noise"]} for c in cands]
        if p.pad_hidden:
            hyper = [
                {**d, "hidden1": c["h1"], "hidden2": c["h2"]}
                for d, c in zip(hyper, cands, strict=True)
            ]
        presets = None
        if transfer:
            presets = [
                self.dae_encoders(c["h1"], c["dae_sigma"], normalisation, size[0]) for c in cands
            ]
        key = job_key(
            {
                "kind": "regressor",
                "block": block,
                "data": src.fingerprint(),
                "size": list(size),
                "cands": cands,
                "folds": p.folds,
                "trials": p.trials,
                "cfg": dataclasses.asdict(cfg),
                "peephole": p.peephole,
                "seed": self.seed,
                "dae": None
                if not transfer
                else sorted({self.dae.key(c["h1"], normalisation) for c in cands}),
            }
        )
        x, m, y = jnp.asarray(src.x), jnp.asarray(src.m), jnp.asarray(src.y)
        trained = run_job(
            fit,
            key=key,
            seed=self.seed,
            trials=p.trials,
            folds=folds,
            x=x,
            m=m,
            y=y,
            hyper=hyper,
            presets=presets,
            cache=self.cache,
        )
        pred = predict(apply, trained, x, m)  # (K, N, T, 2)
        ccc = sequence_metrics(pred, src.y, src.m)["ccc"].mean(axis=-1)  # (K, N)
        val = np.tile(va_m, (len(cands) * p.trials, 1))
        dev = (ccc * val).sum(axis=1) / val.sum(axis=1)
        return trained, dev.reshape(trained.shape), pred

    def _fit_for(self, f_in: int, size: tuple[int, int], cfg: TrainConfig, restrict=None):
        """``make_fit`` of a regressor, memoised.

        Equal jobs reuse one ``apply`` (and so one jitted prediction function) instead of
        tracing it again.
        """
        key = (f_in, size, cfg, restrict)
        if key not in self._fits:
            self._fits[key] = make_fit(self._builder(f_in, *size), cfg, restrict=restrict)
        return self._fits[key]

    def _builder(self, f_in: int, h1: int, h2: int):
        peephole = self.protocol.peephole
        return lambda rngs: ContinuousRegressor(f_in, (h1, h2), peephole=peephole, rngs=rngs)

    def _apply_for(self, chosen: dict):
        size = self.layer_sizes(chosen["h1"], chosen["h2"])
        return self._fit_for(self.sets["music"].x.shape[-1], size, self.protocol.training())[1]

    def _cross_predict(self, trained: Trained, chosen: dict, tgt: SequenceSet) -> np.ndarray:
        """A CD trial's target prediction: the mean of its fold models', ``(trials, N, T, 2)``."""
        pred = predict(self._apply_for(chosen), trained, jnp.asarray(tgt.x), jnp.asarray(tgt.m))
        t, f = trained.shape[1], trained.shape[2]
        return pred.reshape(t, f, *pred.shape[1:]).mean(axis=1)

    def develop(self, condition: str) -> Development:
        """The paper's hyper-parameter search for one condition (normalisation ``"paper"``)."""
        if condition in self._dev:
            return self._dev[condition]
        block, src_domain, _ = CONDITIONS[condition]
        src = self._data(src_domain, "paper")
        p = self.protocol
        lr0 = p.search_learning_rate
        sigmas = p.dae_noise if block == "CD_TL" else (None,)
        log = []
        with self._bar(4, f"{condition} search") as bar:

            def step(name, cands):
                tr, dev, pred = self._regression_job(block, src, cands, "paper")
                score = dev.mean(axis=(1, 2))
                for c, s, t in zip(cands, score, tr, strict=True):
                    d = int(np.asarray(t.diverged).sum())
                    log.append({"step": name, **c, "dev_ccc": float(s), "diverged": d})
                bar.update()
                return tr, dev, score, pred

            def cand(h1, h2, lr=lr0, noise=0.0, dae_sigma=None):
                return {"h1": h1, "h2": h2, "lr": lr, "noise": noise, "dae_sigma": dae_sigma}

            # 1. #HB_1 (CD_TL: every (#HB_1, DAE sigma) pair), #HB_2 fixed, lr0, no noise.
            cands = [cand(h1, p.search_hidden2, dae_sigma=s) for h1 in p.hidden1 for s in sigmas]
            best = cands[int(np.argmax(step("hidden1", cands)[2]))]
            h1, dae_sigma = best["h1"], best["dae_sigma"]
            # 2. #HB_2; 3. learning rate; 4. input noise sigma_model.
            cands = [cand(h1, h2, dae_sigma=dae_sigma) for h2 in p.hidden2]
            h2 = cands[int(np.argmax(step("hidden2", cands)[2]))]["h2"]
            cands = [cand(h1, h2, lr=lr, dae_sigma=dae_sigma) for lr in p.learning_rates]
            lr = cands[int(np.argmax(step("learning_rate", cands)[2]))]["lr"]
            cands = [cand(h1, h2, lr=lr, noise=s, dae_sigma=dae_sigma) for s in p.noise]
            tr, dev, score, pred = step("noise", cands)
            c = int(np.argmax(score))
        chosen = dict(cands[c])
        k = tr[c].shape[1] * tr[c].shape[2]
        out = Development(
            condition=condition,
            normalisation="paper",
            chosen=chosen,
            search=pd.DataFrame(log),
            trained=tr[c],
            dev_by_trial=dev[c].mean(axis=1),
            source_pred=pred[c * k : (c + 1) * k],
        )
        self._dev[condition] = out
        return out

    def run(self, condition: str, normalisation: str = "paper") -> ConditionResult:
        """Develop (or reuse) a condition and evaluate it on its test instances."""
        block, src_domain, tgt_domain = CONDITIONS[condition]
        dev = self.develop(condition)
        ch = dev.chosen
        src = self._data(src_domain, normalisation)
        tgt = self._data(tgt_domain, normalisation)
        if normalisation == "paper":
            trained, dev_by_trial = dev.trained, dev.dev_by_trial
        elif block == "ID":
            raise ValueError("the 'domain' normalisation applies to cross-domain conditions")
        else:  # the hyper-parameters developed under the paper's normalisation, retrained
            (trained,), d, _ = self._regression_job(block, src, [dict(ch)], normalisation)
            dev_by_trial = d[0].mean(axis=1)
        if block == "ID":
            pred = self._held_out(trained, dev.source_pred)
        else:
            pred = self._cross_predict(trained, ch, tgt)
        return ConditionResult(
            condition=condition,
            source=self.sets[src_domain].name,
            target=self.sets[tgt_domain].name,
            normalisation=normalisation,
            chosen=dict(ch),
            clip_ids=tgt.clip_ids,
            predictions=pred,
            gold=tgt.y,
            mask=tgt.m,
            dev_by_trial=dev_by_trial,
            search=dev.search,
            curves=learning_curves(trained),
        )

    def run_linear(
        self, condition: str, features: dict | None = None, *, label: str = ""
    ) -> ConditionResult:
        """An intra-domain ridge-regression baseline on the LSTMs' own folds, frame by frame.

        The baseline beside the LSTMs (M2M, S2S): arousal and valence of each 1 Hz frame as a
        linear function of that frame's features (:func:`mer_ser.models.linear.fit`, ``ridge``),
        with the LSTMs' nested folds (:func:`~mer_ser.experiments.splits.cv_masks`): in each
        fold the inputs are standardised with the training frames' statistics, the penalty is
        chosen from :data:`~mer_ser.models.linear.GRID` by the mean validation CCC over the
        validation sequences (the LSTMs' development score), and the test instances are
        predicted. A ridge fit is deterministic, so one trial.

        Args:
            condition: ``"M2M"`` or ``"S2S"``.
            features: clip id -> ``(T, d)`` frame features on the 1 Hz grid (e.g. eGeMAPS
                functionals of 2 s windows, :class:`~mer_ser.features.SmileFunctionals` with
                ``win=2, hop=1``); default: the track's 260 ComParE features.
            label: the result's condition name (default ``"<condition> ridge"``).

        Returns:
            A :class:`~mer_ser.experiments.continuous_results.ConditionResult` (one trial;
            ``search``: the mean validation CCC of each fold and penalty).

        Raises:
            ValueError: a cross-domain condition.
            CorpusError: a clip's features are missing or shorter than its labelled frames.
        """
        block, domain, _ = CONDITIONS[condition]
        if block != "ID":
            raise ValueError(
                f"the linear baseline is intra-domain ('M2M', 'S2S'), got {condition!r}"
            )
        s = self.sets[domain]
        x = s.x if features is None else frames_matrix(features, s)
        train, val, test = cv_masks(len(s), self.protocol.folds, nested=True)
        pred = np.zeros(s.y.shape, dtype=np.float64)
        search, dev = [], []
        for f in range(len(train)):
            fit = frame_ridge(x, s.m, s.y, train[f], val[f])
            search += [{"fold": f, **row} for row in fit.search]
            dev.append(fit.score)
            pred[test[f]] = fit.predict(x[test[f]])
        pred *= s.m[..., None]
        return ConditionResult(
            condition=label or f"{condition} ridge",
            source=s.name,
            target=s.name,
            normalisation="paper",
            chosen={},
            clip_ids=s.clip_ids,
            predictions=pred[None].astype(np.float32),
            gold=s.y,
            mask=s.m,
            dev_by_trial=np.asarray([np.mean(dev)]),
            search=pd.DataFrame(search),
        )

    def _held_out(self, trained: Trained, source_pred: np.ndarray) -> np.ndarray:
        """ID test predictions: each instance by the model of the fold that tests it.

        Args:
            trained: the ID job's models, shape ``(1, trials, folds)``.
            source_pred: every model's predictions on every instance ``(trials * folds, N, T, 2)``.

        Returns:
            ``(trials, N, T, 2)``.
        """
        _, _, test = cv_masks(source_pred.shape[1], self.protocol.folds, nested=True)
        t, f = trained.shape[1], trained.shape[2]
        pred = source_pred.reshape(t, f, *source_pred.shape[1:])
        return np.einsum("tfnsd,fn->tnsd", pred, test.astype(pred.dtype))

    def shared_code_sweep(
        self, music_by_level: dict[float, SequenceSet], normalisation: str = "paper"
    ) -> pd.DataFrame:
        """CD (S2M, M2S) and their ceilings (M2M, S2S) with a fixed model against ``shared_code``.

        Our validation of the method on data with known ground truth, not a paper experiment:
        the speech set stays the same, the music set is rebuilt at each level, and the model is
        ``protocol.sweep_model`` (no search, so every level gets the same model). The
        intra-domain conditions (nested cross-validation, as in notebook 03) are the ceilings:
        M2M shows music stays learnable at every level (its own cues carry its labels even at
        ``shared_code = 0``), S2S does not depend on the level (speech is not rebuilt) and is
        repeated at each.

        Args:
            music_by_level: ``shared_code`` -> the labelled music set built at that level.
            normalisation: ``"paper"`` or ``"domain"``.

        Returns:
            Long format: ``shared_code, condition, source, target, dimension, metric, trial,
            instance, value``.
        """
        h1, h2, lr, noise = self.protocol.sweep_model
        ch = {"h1": h1, "h2": h2, "lr": lr, "noise": noise, "dae_sigma": None}
        speech = self._data("speech", normalisation)
        frames = []
        with self._bar(4 * len(music_by_level), "shared_code sweep") as bar:
            (s2m,), _, _ = self._regression_job("CD", speech, [ch], normalisation)
            (s2s,), d_s2s, p_s2s = self._regression_job("ID", speech, [ch], normalisation)
            s2s_pred = self._held_out(s2s, p_s2s)
            for level, music in sorted(music_by_level.items()):
                music = music if normalisation == "paper" else music.standardised()
                (m2s,), d, _ = self._regression_job("CD", music, [ch], normalisation)
                (m2m,), d_m2m, p_m2m = self._regression_job("ID", music, [ch], normalisation)
                for name, src, tgt, pred, dev in (
                    ("S2M", speech, music, self._cross_predict(s2m, ch, music), d[0]),
                    ("M2S", music, speech, self._cross_predict(m2s, ch, speech), d[0]),
                    ("M2M", music, music, self._held_out(m2m, p_m2m), d_m2m[0]),
                    ("S2S", speech, speech, s2s_pred, d_s2s[0]),
                ):
                    res = ConditionResult(
                        condition=name,
                        source=src.name,
                        target=tgt.name,
                        normalisation=normalisation,
                        chosen=ch,
                        clip_ids=tgt.clip_ids,
                        predictions=pred,
                        gold=tgt.y,
                        mask=tgt.m,
                        dev_by_trial=dev.mean(axis=1),
                        search=pd.DataFrame(),
                    )
                    long = res.long()
                    long.insert(0, "shared_code", level)
                    frames.append(long)
                    bar.update()
        return pd.concat(frames, ignore_index=True)
