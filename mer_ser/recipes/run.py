"""Run an experiment config: folds, models, scores with their intervals, figures.

Evaluation (``[evaluation]``):

* ``cv = "group"`` (default): folds stratified by class (by quartile of the value for static
  regression) that never split a group: speaker-independent SER, song-independent MER
  (:func:`~mer_ser.experiments.splits.stratified_group_split`). ``"kfold"``: the same with each
  clip its own group. Nested, as Coutinho & Schuller 2017: fold ``k`` tests, fold ``k + 1``
  validates (regularisation, early stopping), the rest train.
* ``cv = "official"``: the corpora's own ``train`` / ``dev`` / ``test`` split.
* With ``data.test``, every fold's model (trained on the training side without the fold, which
  validates) is tested on all the test corpora's clips: cross-corpus or cross-domain.
* ``normalisation = "source"``: features standardised with the training partition's
  statistics; ``"domain"``: the test corpora with their own (unlabelled) statistics instead.

Scores per fold and seed, then pooled over every fold and seed: accuracy, unweighted average
recall (UAR) and macro F1 for classes; CCC, Pearson r and RMSE over clips for a clip value;
for continuous targets the mean over clips of each clip's CCC, r and RMSE. Each pooled score
carries a 95 % interval from resampling test clips (all of a clip's predictions together) and
the numbers of clips and models it rests on.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mer_ser import metrics, plots, stats
from mer_ser._io import atomic_write, sha256_arrays
from mer_ser.corpora.labels import frame_centres
from mer_ser.experiments.continuous_results import sequence_metrics
from mer_ser.experiments.coutinho2017 import PROTOCOLS as CONTINUOUS_PROTOCOLS
from mer_ser.experiments.coutinho2017 import frame_ridge
from mer_ser.experiments.data import Data
from mer_ser.experiments.jobs import (
    JobCache,
    classifier_state,
    default_jobs_dir,
    job_key,
    predict,
    run_classifier_job,
    run_job,
)
from mer_ser.experiments.rodningen2022 import PROTOCOLS as QUADRANT_PROTOCOLS
from mer_ser.experiments.splits import stratified_group_split
from mer_ser.models import DCNN, linear
from mer_ser.models.lstm import ContinuousRegressor
from mer_ser.recipes.config import ConfigError, ExperimentConfig
from mer_ser.recipes.samples import Samples, classes_of, load_side
from mer_ser.train.engine import folds_from_masks, make_classifier_fit, make_fit

#: Resamples of the clip bootstrap.
N_BOOT = 2000


@dataclass(frozen=True)
class Partition:
    """Rows of one fold: ``train``, ``val`` (training side) and ``test`` (its own side)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` measured.

    Attributes:
        config: the experiment.
        results: tidy scores, one row per fold, seed, dimension and metric: ``experiment,
            target, features, model, fold, seed, dimension, metric, value, clips``.
        summary: per dimension and metric, pooled over folds and seeds: ``value``, ``ci_low``,
            ``ci_high`` (95 %, clips resampled), ``fold_mean``, ``fold_sd``, ``clips``,
            ``models``.
        predictions: per test clip, fold and seed: ``corpus, clip_id, fold, seed``, then the
            true and predicted class (and each class' probability where the model gives them)
            or value; continuous targets: one row per frame with ``time``.
        classes: class names (classification).
        confusion: ``(K, K)`` summed over folds and seeds (classification).
        members: each model (seed-major, then fold) as the model bundle stores it.
        folds: folds per seed.
        train_corpora: the training side's corpus names; ``train_clips``: its clips.
    """

    config: ExperimentConfig
    results: pd.DataFrame
    summary: pd.DataFrame
    predictions: pd.DataFrame
    classes: tuple[str, ...] = ()
    confusion: np.ndarray | None = None
    members: list = dataclasses.field(default_factory=list, repr=False)
    folds: int = 1
    train_corpora: tuple[str, ...] = ()
    train_clips: int = 0

    def figure(self):
        """The result's figure.

        A confusion matrix (classes), predicted against true value (clip values), or the gold
        and predicted trajectories of two test clips (continuous).
        """
        cfg = self.config
        title = f"{cfg.name}: {cfg.model.kind} on {cfg.features.set}"
        if cfg.classification:
            return plots.confusion_matrices({title: self.confusion}, labels=self.classes)
        if not cfg.continuous:
            return plots.regression_scatter(self.predictions, title=title)
        p = self.predictions[self.predictions["seed"] == self.predictions["seed"].min()]
        first = p.drop_duplicates(["corpus", "clip_id"]).head(2)
        panels = []
        for corpus, clip in first[["corpus", "clip_id"]].itertuples(index=False):
            c = p[(p["corpus"] == corpus) & (p["clip_id"] == clip)]
            c = c[c["fold"] == c["fold"].min()]
            pred = {cfg.model.kind: c[["arousal", "valence"]].to_numpy()}
            panels.append({"title": f"{corpus}/{clip}", "time": c["time"].to_numpy(),
                           "gold": c[["arousal_true", "valence_true"]].to_numpy(),
                           "predictions": pred})  # fmt: skip
        return plots.trajectories(panels, dimension="both")

    def write(self, out_dir: str | os.PathLike) -> list[Path]:
        """Write the result under ``out_dir``, each file atomically.

        ``results.csv``, ``summary.{md,csv}``, ``predictions.csv``, ``figure.png`` and
        ``config.json`` (the resolved config).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        plots.save_csv(self.results, out / "results.csv")
        plots.save_table(self.summary, out / "summary")
        plots.save_csv(self.predictions, out / "predictions.csv")
        plots.save(self.figure(), out / "figure.png")
        with atomic_write(out / "config.json", "w") as f:
            json.dump(self.config.to_dict(), f, indent=1, default=list)
            f.write("\n")
        names = ("results.csv", "summary.md", "summary.csv", "predictions.csv", "figure.png",
                 "config.json")  # fmt: skip
        return [out / n for n in names]


def run_experiment(cfg: ExperimentConfig, data: Data, *, progress: bool = True) -> ExperimentResult:
    """Load the corpora, extract features through the cache, train and score every fold.

    Args:
        cfg: the experiment (:func:`~mer_ser.recipes.config.load_config`).
        data: where corpora and caches live and the built-in corpus' profile; deep models
            take their training budget from the profile's protocol (Coutinho & Schuller 2017
            for ``lstm``, Rodningen 2022 for ``dcnn``) where ``[model]`` leaves it at 0.
        progress: a progress bar over folds and seeds.

    Raises:
        ConfigError: folds that cannot be formed (too few groups, an official split missing a
            partition).
        CorpusError: a corpus lacks the target (named with its folder).
    """
    classes: tuple[str, ...] = ()
    if cfg.classification:
        classes = classes_of(cfg, data.corpora(list(cfg.data.train)))
        if len(classes) < 2:
            raise ConfigError(
                f"{cfg.source}: the training corpora have {len(classes)} {cfg.data.target} "
                "class(es); a classifier needs two or more"
            )
    train = load_side(data, cfg.data.train, cfg, classes=classes, side="train")
    test = (
        load_side(data, cfg.data.test, cfg, classes=classes, side="test") if cfg.data.test else None
    )
    parts = partitions(train, cfg, cross=test is not None)
    cache = JobCache(default_jobs_dir(data.data_root))
    jobs = [(f, seed) for seed in cfg.evaluation.seeds for f in range(len(parts))]
    bar = tqdm(jobs, desc=f"experiment {cfg.name}", unit="model", disable=not progress, leave=False)
    outputs = []
    for f, seed in bar:
        side = test if test is not None else train
        out = _fit_predict(cfg, train, side, parts[f], seed, data.profile, cache, len(classes))
        outputs.append((f, seed, side, parts[f].test, out))
    bar.close()
    result = _score(cfg, outputs, classes)
    result.members = [out["member"] for *_, out in outputs]
    result.folds = len(parts)
    result.train_corpora = tuple(str(c) for c in dict.fromkeys(train.corpus))
    result.train_clips = len(train)
    return result


def partitions(s: Samples, cfg: ExperimentConfig, *, cross: bool) -> list[Partition]:
    """The folds of the training side (see the module docstring).

    Raises:
        ConfigError: more folds than groups can fill, or an official split without its
            partitions.
    """
    e = cfg.evaluation
    n = len(s)
    if e.cv == "official":
        rows = {p: np.flatnonzero(s.split == p) for p in ("train", "val", "test")}
        need = ("train", "val") if cross else ("train", "val", "test")
        missing = [p for p in need if len(rows[p]) == 0]
        if missing:
            found = sorted(set(s.split) - {""})
            raise ConfigError(
                f"{cfg.source}: evaluation.cv = 'official' but the training corpora have no "
                f"{missing} clips (their split column holds {found or 'nothing'}); use "
                "cv = 'group' or 'kfold'"
            )
        return [Partition(rows["train"], rows["val"], rows["test"] if not cross else None)]
    groups = s.groups if e.cv == "group" else s.clip_ids.astype(str)
    k = e.folds
    if len(set(groups)) < k:
        raise ConfigError(
            f"{cfg.source}: evaluation.folds = {k} but the training corpora have "
            f"{len(set(groups))} {'groups' if e.cv == 'group' else 'clips'}; use fewer folds"
        )
    part = stratified_group_split(_strata(s, cfg), groups, np.full(k, 1.0 / k), seed=e.split_seed)
    fold_rows = [np.flatnonzero(part == g) for g in range(k)]
    if any(len(r) == 0 for r in fold_rows):
        raise ConfigError(
            f"{cfg.source}: evaluation.folds = {k} leaves a fold without clips "
            f"({n} clips in {len(set(groups))} groups); use fewer folds"
        )
    out = []
    for g in range(k):
        if cross:  # fold g validates, the rest train; the test corpora test
            train = np.concatenate([fold_rows[j] for j in range(k) if j != g])
            out.append(Partition(np.sort(train), fold_rows[g], None))
        else:
            v = (g + 1) % k
            train = np.concatenate([fold_rows[j] for j in range(k) if j not in (g, v)])
            out.append(Partition(np.sort(train), fold_rows[v], fold_rows[g]))
    return out


def _strata(s: Samples, cfg: ExperimentConfig) -> np.ndarray:
    if cfg.classification:
        return s.y
    if cfg.continuous:
        return np.zeros(len(s), dtype=int)
    return np.digitize(s.y, np.quantile(s.y, [0.25, 0.5, 0.75]))


# --------------------------------------------------------------------------- normalisation
def _statistics(s: Samples, rows) -> tuple[np.ndarray, np.ndarray]:
    """Feature (or log-mel channel) means and deviations over the rows' valid frames."""
    v = s.x[rows] if s.mask is None else s.x[rows][s.mask[rows]]
    flat = np.asarray(v, np.float64).reshape(-1, s.x.shape[-1])
    return flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-8)


def _standardised(s: Samples, stats_) -> np.ndarray:
    mean, std = stats_
    x = (np.asarray(s.x, np.float64) - mean) / std
    if s.mask is not None and s.x.ndim == 3:
        x = x * s.mask[..., None]
    return x.astype(np.float32)


def _test_statistics(cfg, train: Samples, side: Samples, part: Partition):
    """Whose statistics standardise the test side: the training partition's, or its own."""
    if side is not train and cfg.evaluation.normalisation == "domain":
        return _statistics(side, np.arange(len(side)))
    return _statistics(train, part.train)


# --------------------------------------------------------------------------- models
def _fit_predict(cfg, train: Samples, side: Samples, part: Partition, seed: int, profile: str,
                 cache: JobCache, n_classes: int = 0) -> dict:  # fmt: skip
    """Train on ``part.train`` (validating on ``part.val``) and predict ``side``'s test rows.

    A classifier has one output per class of the experiment (``n_classes``), whether or not
    the training partition holds every class.
    """
    test_rows = part.test if part.test is not None else np.arange(len(side))
    kind = cfg.model.kind
    if kind == "lstm":  # standardises inside its fit, with the training partition's statistics
        raw = _in_training_space(cfg, train, side, part)
        return _lstm(cfg, train, side, part, seed, profile, cache, raw, test_rows)
    tr_stats = _statistics(train, part.train)
    xtr = _standardised(train, tr_stats)
    xte = xtr if side is train else _standardised(side, _test_statistics(cfg, train, side, part))
    if kind in linear.KINDS and not cfg.continuous:
        grid = cfg.model.grid or linear.GRID
        y = train.y
        model, _ = linear.select(kind, xtr[part.train], y[part.train], xtr[part.val], y[part.val],
                                 grid=grid, balanced=cfg.model.balanced, seed=seed)  # fmt: skip
        if kind != "ridge":
            model = model.over(tuple(range(n_classes)))
        out = {"pred": model.predict(xte[test_rows]),
               "member": _linear_member(model, *tr_stats)}  # fmt: skip
        if kind == "ridge":
            out["pred"] = out["pred"][:, 0]
        elif kind == "logistic":
            out["prob"] = model.probabilities(xte[test_rows])
        return out
    if kind == "ridge":  # continuous: frame by frame (already standardised per fold)
        fit = frame_ridge(xtr, train.mask, train.gold, part.train, part.val,
                          grid=cfg.model.grid or linear.GRID)  # fmt: skip
        # the two standardisations in one: (x - m0 - m1 s0) / (s0 s1)
        mean, std = tr_stats[0] + fit.mean * tr_stats[1], tr_stats[1] * fit.std
        return {"pred": fit.predict(xte[test_rows]), "member": _linear_member(fit.model, mean, std)}
    return _dcnn(cfg, train, part, seed, profile, cache, xtr, xte, test_rows, tr_stats, n_classes)


def _linear_member(model: linear.Linear, mean, std) -> dict:
    return {
        "model": model,
        "mean": np.asarray(mean, np.float64),
        "std": np.asarray(std, np.float64),
    }


def _in_training_space(cfg, train: Samples, side: Samples, part: Partition) -> np.ndarray:
    """The test side's features for a model that standardises with the training statistics.

    Under ``normalisation = "domain"`` a test corpus is standardised with its own statistics
    and mapped onto the training partition's scale, so the model's own standardisation leaves
    it standardised with its own.
    """
    if side is train or cfg.evaluation.normalisation != "domain":
        return side.x
    (m0, s0), (m1, s1) = _statistics(train, part.train), _statistics(side, np.arange(len(side)))
    x = ((np.asarray(side.x, np.float64) - m1) / s1 * s0 + m0) * side.mask[..., None]
    return x.astype(np.float32)


def _lstm(cfg, train, side, part, seed, profile, cache, xte, test_rows) -> dict:
    """The two-layer LSTM regressor of Coutinho & Schuller 2017 on one fold.

    Inputs and outputs are standardised with the training partition's statistics inside the
    fit (the paper's per-fold standardisation), which the model bundle keeps.
    """
    p = CONTINUOUS_PROTOCOLS[profile]
    h1, h2, lr, _ = p.sweep_model
    m = cfg.model
    size = tuple(m.hidden) if m.hidden else (h1, h2)
    tc = p.training(
        learning_rate=m.learning_rate or lr,
        input_noise=m.noise,
        max_epochs=m.max_epochs or p.max_epochs,
        patience=m.patience or p.patience,
    )
    f_in = train.x.shape[-1]
    fit, apply = make_fit(
        lambda rngs: ContinuousRegressor(f_in, size, peephole=p.peephole, rngs=rngs), tc
    )
    n = len(train)
    tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
    tr[0, part.train], va[0, part.val] = True, True
    key = job_key({"kind": "recipe_lstm", "x": _digest(train.x), "y": _digest(train.gold),
                   "split": [part.train.tolist(), part.val.tolist()], "size": list(size),
                   "cfg": dataclasses.asdict(tc), "seed": seed})  # fmt: skip
    trained = run_job(fit, key=key, seed=seed, trials=1, folds=folds_from_masks(tr, va),
                      x=jnp.asarray(train.x), m=jnp.asarray(train.mask),
                      y=jnp.asarray(train.gold), cache=cache)  # fmt: skip
    pred = predict(apply, trained, jnp.asarray(xte[test_rows]), jnp.asarray(side.mask[test_rows]))
    member = {"trained": trained, "hidden": size, "peephole": p.peephole}
    return {"pred": np.asarray(pred[0], np.float64), "member": member}


def _dcnn(cfg, train, part, seed, profile, cache, xtr, xte, test_rows, tr_stats,
          n_classes) -> dict:  # fmt: skip
    """Rodningen 2022's dilated CNN (section 4.4) on one fold; returns classes and softmax."""
    p = QUADRANT_PROTOCOLS[profile]
    m = cfg.model
    counts = np.bincount(train.y[part.train], minlength=n_classes)
    tc = dataclasses.replace(
        p.training("DCNN", len(part.train) / (n_classes * np.maximum(counts, 1))),
        learning_rate=m.learning_rate or p.learning_rate["DCNN"],
        max_epochs=m.max_epochs or p.max_epochs,
        patience=m.patience or p.patience,
        batch_size=m.batch_size or p.batch_size,
    )
    t, mels = xtr.shape[1], xtr.shape[2]
    build = lambda rngs: DCNN(n_frames=t, n_mels=mels, n_classes=n_classes, rngs=rngs)  # noqa: E731
    fit, apply = make_classifier_fit(build, tc)
    n = len(train)
    tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
    tr[0, part.train], va[0, part.val] = True, True
    fold = jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))
    key = job_key({"kind": "recipe_dcnn", "x": _digest(xtr), "y": train.y.tolist(), "k": n_classes,
                   "split": [part.train.tolist(), part.val.tolist()],
                   "cfg": dataclasses.asdict(tc), "seed": seed})  # fmt: skip
    trained = run_classifier_job(fit, key=key, seed=seed, runs=1, fold=fold, x=jnp.asarray(xtr),
                                 labels=jnp.asarray(train.y), cache=cache)  # fmt: skip
    fn = jax.jit(apply)
    state = classifier_state(build, trained, 0)
    x = xte[test_rows]
    logits = np.concatenate(
        [np.asarray(fn(state, jnp.asarray(x[i : i + 64]))) for i in range(0, len(x), 64)]
    ) if len(x) else np.zeros((0, n_classes))  # fmt: skip
    prob = np.asarray(jax.nn.softmax(jnp.asarray(logits), axis=-1), np.float64)
    member = {"trained": trained, "mean": tr_stats[0], "std": tr_stats[1], "n_frames": t,
              "n_mels": mels}  # fmt: skip
    return {"pred": prob.argmax(axis=1), "prob": prob, "member": member}


def _digest(a) -> str:
    return sha256_arrays((), (np.asarray(a),))


# --------------------------------------------------------------------------- scores
def _score(cfg: ExperimentConfig, outputs, classes) -> ExperimentResult:
    rows, preds = [], []
    base = {"experiment": cfg.name, "target": cfg.data.target, "features": cfg.features.set,
            "model": cfg.model.kind}  # fmt: skip
    for fold, seed, side, test_rows, out in outputs:
        rows_idx = test_rows if test_rows is not None else np.arange(len(side))
        ids = {"corpus": side.corpus[rows_idx], "clip_id": side.clip_ids[rows_idx]}
        if cfg.classification:
            y = side.y[rows_idx]
            cm = metrics.confusion(y, out["pred"], len(classes))
            for metric, v in _class_scores(cm).items():
                rows.append({**base, "fold": fold, "seed": seed, "dimension": cfg.data.target,
                             "metric": metric, "value": v, "clips": len(y)})  # fmt: skip
            frame = pd.DataFrame({**ids, "fold": fold, "seed": seed,
                                  "true": np.asarray(classes)[y],
                                  "predicted": np.asarray(classes)[out["pred"]]})  # fmt: skip
            if "prob" in out:
                for k, c in enumerate(classes):
                    frame[f"p_{c}"] = out["prob"][:, k]
            preds.append(frame)
        elif not cfg.continuous:
            y = side.y[rows_idx]
            for metric, v in _value_scores(y, out["pred"]).items():
                rows.append({**base, "fold": fold, "seed": seed, "dimension": cfg.data.target,
                             "metric": metric, "value": v, "clips": len(y)})  # fmt: skip
            preds.append(pd.DataFrame({**ids, "fold": fold, "seed": seed, "true": y,
                                       "predicted": out["pred"]}))  # fmt: skip
        else:
            gold, mask = side.gold[rows_idx], side.mask[rows_idx]
            per = sequence_metrics(out["pred"][None], gold, mask)
            for metric, v in per.items():
                for d, dim in enumerate(("arousal", "valence")):
                    rows.append({**base, "fold": fold, "seed": seed, "dimension": dim,
                                 "metric": metric, "value": float(np.mean(v[0, :, d])),
                                 "clips": len(rows_idx)})  # fmt: skip
            for i, r in enumerate(rows_idx):
                n = int(mask[i].sum())
                preds.append(pd.DataFrame({
                    "corpus": side.corpus[r], "clip_id": side.clip_ids[r], "fold": fold,
                    "seed": seed, "time": frame_centres(n),
                    "arousal_true": gold[i, :n, 0], "valence_true": gold[i, :n, 1],
                    "arousal": out["pred"][i, :n, 0],
                    "valence": out["pred"][i, :n, 1]}))  # fmt: skip
    results = pd.DataFrame(rows)
    predictions = pd.concat(preds, ignore_index=True)
    summary, confusion = _summary(cfg, results, predictions, outputs, classes)
    return ExperimentResult(cfg, results, summary, predictions, tuple(classes), confusion)


def _class_scores(cm: np.ndarray) -> dict[str, float]:
    """Accuracy, UAR (mean recall over the classes present) and macro F1 of a confusion."""
    sc = metrics.classification_scores(cm)
    present = cm.sum(axis=1) > 0
    recall = np.diag(cm) / np.maximum(cm.sum(axis=1), 1)
    return {
        "accuracy": float(sc.loc["accuracy", "f1"]),
        "uar": float(recall[present].mean()) if present.any() else float("nan"),
        "macro_f1": float(sc.loc["macro", "f1"]),
    }


def _value_scores(y, p, w=None) -> dict[str, float]:
    """CCC, Pearson r and RMSE over clips (weighted by ``w``, e.g. bootstrap multiplicities)."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    w = np.ones_like(y) if w is None else np.asarray(w, np.float64)
    w = w / w.sum()
    my, mp = (w * y).sum(), (w * p).sum()
    vy, vp = (w * (y - my) ** 2).sum(), (w * (p - mp) ** 2).sum()
    cov = (w * (y - my) * (p - mp)).sum()
    return {
        "ccc": float(2 * cov / (vy + vp + (my - mp) ** 2)) if vy + vp > 0 else float("nan"),
        "r": float(cov / np.sqrt(vy * vp)) if vy * vp > 0 else float("nan"),
        "rmse": float(np.sqrt((w * (y - p) ** 2).sum())),
    }


def _summary(cfg, results, predictions, outputs, classes):
    """Pooled scores with clip-bootstrap intervals, and the summed confusion."""
    models = len(outputs)
    fold_stats = results.groupby(["dimension", "metric"], sort=False)["value"].agg(["mean", "std"])
    rows, confusion = [], None
    key = predictions["corpus"].astype(str) + "/" + predictions["clip_id"].astype(str)
    clip_codes, clip_index = pd.factorize(key)
    n = len(clip_index)
    if cfg.classification:
        k = len(classes)
        t = pd.Categorical(predictions["true"], categories=classes).codes
        p = pd.Categorical(predictions["predicted"], categories=classes).codes
        per_clip = np.zeros((n, k, k))
        np.add.at(per_clip, (clip_codes, t, p), 1.0)
        confusion = per_clip.sum(axis=0)
        pooled = _class_scores(confusion)

        def stat(metric):
            return lambda rows_: _class_scores(
                np.einsum("i,ijk->jk", np.bincount(rows_, minlength=n), per_clip)
            )[metric]

        for metric, v in pooled.items():
            lo, hi = stats.clip_bootstrap(stat(metric), n, n_boot=N_BOOT)
            rows.append(_row(cfg.data.target, metric, v, lo, hi, fold_stats, n, models))
    elif not cfg.continuous:
        y, pr = predictions["true"].to_numpy(), predictions["predicted"].to_numpy()
        for metric, v in _value_scores(y, pr).items():

            def stat(rows_, metric=metric):
                w = np.bincount(rows_, minlength=n)[clip_codes]
                return _value_scores(y, pr, w)[metric]

            lo, hi = stats.clip_bootstrap(stat, n, n_boot=N_BOOT)
            rows.append(_row(cfg.data.target, metric, v, lo, hi, fold_stats, n, models))
    else:  # each clip's score averaged over its models, then the mean over clips (BCa)
        for dim in ("arousal", "valence"):
            per_model = []
            for _, _, side, test_rows, out in outputs:
                idx = test_rows if test_rows is not None else np.arange(len(side))
                m = sequence_metrics(out["pred"][None], side.gold[idx], side.mask[idx])
                d = ("arousal", "valence").index(dim)
                per_model.append(pd.DataFrame({
                    "clip": side.corpus[idx].astype(str) + "/" + side.clip_ids[idx].astype(str),
                    **{k: v[0, :, d] for k, v in m.items()}}))  # fmt: skip
            per_clip = pd.concat(per_model).groupby("clip").mean()
            for metric in ("ccc", "r", "rmse"):
                v = per_clip[metric].to_numpy()
                lo, hi = stats.bootstrap_ci(v, n_boot=N_BOOT)
                rows.append(_row(dim, metric, float(v.mean()), lo, hi, fold_stats, len(v), models))
    return pd.DataFrame(rows).set_index(["dimension", "metric"]), confusion


def _row(dim, metric, value, lo, hi, fold_stats, clips, models) -> dict:
    mean, sd = fold_stats.loc[(dim, metric)]
    return {"dimension": dim, "metric": metric, "value": value, "ci_low": lo, "ci_high": hi,
            "fold_mean": mean, "fold_sd": sd, "clips": clips, "models": models}  # fmt: skip
