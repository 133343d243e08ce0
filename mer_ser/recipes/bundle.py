"""An experiment's trained models as a model bundle (:mod:`mer_ser.bundles`).

Every fold's model of every seed, exactly as evaluated, each with its own training partition's
statistics:

* ``linear_svm``, ``logistic``, ``ridge`` on any vector feature set (``ssl`` included: the
  manifest names the model and hashes its weights): a ``linear`` bundle
  (:mod:`mer_ser.bundles.linear`);
* ``lstm``: a ``continuous`` bundle, as the Coutinho & Schuller conditions'
  (:mod:`mer_ser.bundles.continuous`), reading the feature set it was trained on;
* ``dcnn`` on ``logmel3d``: a ``quadrant`` bundle, as Rodningen's
  (:mod:`mer_ser.bundles.quadrant`); on a ``category`` target its classes are the corpus'
  categories.

The bundle's manifest records the config, the corpora trained on and the pooled test scores.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np

from mer_ser.bundles.continuous import continuous_arrays, continuous_manifest
from mer_ser.bundles.linear import linear_manifest
from mer_ser.bundles.quadrant import _logmel_features, _manifest
from mer_ser.bundles.store import save_bundle
from mer_ser.bundles.vectors import ssl_config
from mer_ser.experiments.rodningen2022 import PROTOCOLS as QUADRANT_PROTOCOLS
from mer_ser.recipes.run import ExperimentResult
from mer_ser.recipes.samples import extractor
from mer_ser.train.checkpoint import flatten


def export_experiment(result: ExperimentResult, folder: str | os.PathLike, *, profile: str) -> Path:
    """Write an experiment's models as a bundle.

    Args:
        result: from :func:`~mer_ser.recipes.run_experiment`.
        folder: the bundle folder (e.g. ``models_dir(data_root) / "experiment_<name>"``).
        profile: the profile the models were trained under (the DCNN's log-mel settings).
    """
    cfg = result.config
    seeds, folds = len(cfg.evaluation.seeds), result.folds
    if cfg.model.kind == "lstm":
        manifest, arrays = _lstm(result, seeds, folds)
    elif cfg.model.kind == "dcnn":
        manifest, arrays = _dcnn(result, seeds, folds, profile)
    else:
        manifest, arrays = _linear(result, seeds, folds)
    trained_on = "+".join(result.train_corpora)
    manifest["provenance"] = {
        "experiment": cfg.name,
        "config": cfg.to_dict(),
        "trained_on": [{"name": str(n)} for n in result.train_corpora],
        # the keys `mer-ser models` shows for every kind
        "condition": f"experiment {cfg.name}",
        "setting": f"experiment {cfg.name}, trained on {trained_on}",
        "source": {"name": trained_on, "clips": int(result.train_clips)},
        "protocol": profile,
        "seed": list(cfg.evaluation.seeds),
        "normalisation": "each member's inputs standardised with its training partition",
        # the scores below were measured under this; "domain" standardised the test corpora
        # with their own statistics, which a bundle applied to new files cannot know
        "evaluation_normalisation": cfg.evaluation.normalisation,
    }
    summary = result.summary.reset_index()
    manifest["scores"] = {
        f"test_{m}" + ("" if d == cfg.data.target else f"_{d}"): float(v)
        for d, m, v in summary[["dimension", "metric", "value"]].itertuples(index=False)
    } | {"clips": int(summary["clips"].iloc[0])}
    return save_bundle(folder, manifest, arrays)


def _linear(result: ExperimentResult, seeds: int, folds: int):
    cfg = result.config
    members = result.members
    ex = extractor(cfg)
    manifest = linear_manifest(
        cfg.model.kind, cfg.data.target,
        features={"name": cfg.features.set, "config": {"sr": ex.sr} | ssl_config(ex),
                  "dim": int(members[0]["mean"].shape[-1])},
        classes=result.classes if cfg.classification else (), trials=seeds, folds=folds,
    )  # fmt: skip
    arrays = {
        "params/coef": np.stack([m["model"].coef for m in members]),
        "params/intercept": np.stack([m["model"].intercept for m in members]),
        "stats/mean": np.stack([m["mean"] for m in members]),
        "stats/std": np.stack([m["std"] for m in members]),
    }
    return manifest, arrays


def _stack(trees: list):
    """Members' trees (one model each, leading axis 1) concatenated along the model axis."""
    return jax.tree.map(lambda *a: np.concatenate([np.asarray(x) for x in a]), *trees)


def _lstm(result: ExperimentResult, seeds: int, folds: int):
    members = result.members
    params = _stack([m["trained"].params for m in members])
    stats = _stack([m["trained"].stats for m in members])
    stacked = SimpleNamespace(shape=(1, seeds, folds), params=params, stats=stats)
    n_features = int(np.asarray(stats.x_mean).shape[-1])
    cfg = result.config
    features = None  # 1 Hz ComParE: the Coutinho & Schuller bundles' input
    if cfg.features.set != "compare_lld_1hz":
        ex = extractor(cfg)
        features = {"name": cfg.features.set, "config": {"sr": ex.sr} | ssl_config(ex)}
    manifest = continuous_manifest(n_features, members[0]["hidden"], trials=seeds, folds=folds,
                                   peephole=bool(members[0]["peephole"]),
                                   features=features)  # fmt: skip
    return manifest, continuous_arrays(stacked)


def _dcnn(result: ExperimentResult, seeds: int, folds: int, profile: str):
    members = result.members
    params = _stack([m["trained"].params for m in members])
    ex = QUADRANT_PROTOCOLS[profile].extractor()
    n_frames, n_mels = int(members[0]["n_frames"]), int(members[0]["n_mels"])
    arch = {"n_frames": n_frames, "n_mels": n_mels}
    names = tuple(result.classes)
    if result.config.data.target != "quadrant":
        arch["n_classes"] = len(names)
    manifest = _manifest({"class": "DCNN", "config": arch}, _logmel_features(ex, n_frames),
                         runs=seeds * folds, names=names)  # fmt: skip
    arrays = {f"params/{k}": np.asarray(v) for k, v in flatten(params).items()}
    arrays["stats/mean"] = np.stack([np.asarray(m["mean"], np.float64) for m in members])
    arrays["stats/std"] = np.stack([np.asarray(m["std"], np.float64) for m in members])
    return manifest, arrays
