"""Continuous bundles: the 1 Hz arousal/valence regressors of Coutinho & Schuller 2017.

A continuous bundle holds every trial's fold models of one condition (M2M, S2S, S2M, M2S and the
``_TL`` variants). Each member carries its own standardisation statistics (those of its training
folds, ``stats/x_mean`` ...), so the bundle's predictions on a clip equal the notebook's. A
trial's prediction is the mean of its fold models, the bundle's the mean over trials, and its
spread the trials' standard deviation. Features: ``compare_1hz`` (260 ComParE functionals per
second, 2-s windows, 1-s hop); an experiment config's LSTM on another feature set reads that set
on the same windows (:mod:`mer_ser.bundles.vectors`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd

from mer_ser.bundles.audio import compare_1hz_chunked, segment
from mer_ser.bundles.store import MANIFEST, Bundle, BundleError, models_dir, save_bundle
from mer_ser.bundles.vectors import vector_extractor
from mer_ser.experiments.coutinho2017 import CONDITIONS
from mer_ser.experiments.jobs import predict_stacked
from mer_ser.features import ComParE1Hz
from mer_ser.models import ContinuousRegressor
from mer_ser.train.checkpoint import flatten
from mer_ser.train.engine import Standardiser, TrainConfig, make_fit

#: What a continuous model's predictions are tabled by.
LEVELS = ("frame",)


def continuous_arrays(trained) -> dict[str, np.ndarray]:
    """A continuous job's parameters and statistics as bundle arrays.

    Args:
        trained: :class:`~mer_ser.experiments.jobs.Trained` of one candidate
            (``shape = (1, trials, folds)``).
    """
    if trained.shape[0] != 1:
        raise ValueError(f"select one candidate first (shape {trained.shape})")
    out = {f"params/{k}": np.asarray(v) for k, v in flatten(trained.params).items()}
    for name, v in trained.stats._asdict().items():
        out[f"stats/{name}"] = np.asarray(v)
    return out


def _continuous_apply(bundle: Bundle):
    """The regressor's ``apply`` (memoised per architecture config)."""
    arch = bundle.manifest["architecture"]
    if arch.get("class") != "ContinuousRegressor":
        raise BundleError(
            f"{bundle.path / MANIFEST}: architecture {arch.get('class')!r} is not a "
            "continuous regressor"
        )
    cfg = arch["config"]
    return _apply_for(int(cfg["n_features"]), tuple(cfg["hidden"]), bool(cfg["peephole"]))


@functools.cache
def _apply_for(n_features: int, hidden: tuple[int, int], peephole: bool):
    """``apply(params, stats, x, m)`` of a regressor, once per architecture (one trace)."""

    def build(rngs):
        return ContinuousRegressor(n_features, hidden, peephole=peephole, rngs=rngs)

    return make_fit(build, TrainConfig())[1]


def padded_length(n: int) -> int:
    """Frames a sequence of ``n`` is padded to for prediction: a power of two, at least 32.

    Files of any length then share a handful of compiled programs instead of compiling one per
    length; padded frames are masked, so they change no prediction.
    """
    return max(32, 1 << max(0, n - 1).bit_length())


def predict_features(bundle: Bundle, x: np.ndarray) -> np.ndarray:
    """Per-trial predictions on one feature sequence.

    Args:
        bundle: a continuous bundle.
        x: features, shape ``(T, F)`` with ``F = bundle.n_features``.

    Returns:
        float32 ``(trials, T, D)`` on the label scale: each trial the mean of its fold models.

    Raises:
        BundleError: ``x`` has another feature dimension than the model expects.
    """
    x = bundle.features(x)
    ens = bundle.manifest["ensemble"]
    t, f = int(ens["trials"]), int(ens["folds"])
    params = bundle.params
    stats = Standardiser(*(bundle.arrays[f"stats/{n}"] for n in Standardiser._fields))
    n = len(x)
    xp = np.zeros((padded_length(n), x.shape[1]), np.float32)
    xp[:n] = x
    m = jnp.asarray(np.arange(len(xp)) < n)[None]
    pred = predict_stacked(_continuous_apply(bundle), params, stats, jnp.asarray(xp[None]), m)
    pred = pred[:, 0, :n]
    return pred.reshape(t, f, *pred.shape[1:]).mean(axis=1).astype(np.float32)


def frames_table(file: str, per_trial: np.ndarray, dimensions, *, win: float, hop: float):
    """Per-frame predictions as an audformat-style segmented table.

    Args:
        file: the file's name for the index.
        per_trial: ``(trials, T, D)``.
        dimensions: the ``D`` column names.
        win: analysis window of a frame in s (frame ``k`` covers ``[k hop, k hop + win)``).
        hop: frame step in s.

    Returns:
        DataFrame indexed by ``(file, start, end)`` (timedeltas) with one column per dimension
        (the trials' mean) and ``<dimension>_sd`` (their standard deviation, 0 for one trial).
    """
    n = per_trial.shape[1]
    start = pd.to_timedelta(np.arange(n) * hop, unit="s")
    end = pd.to_timedelta(np.arange(n) * hop + win, unit="s")
    index = pd.MultiIndex.from_arrays([[file] * n, start, end], names=["file", "start", "end"])
    mean = per_trial.mean(axis=0)
    sd = per_trial.std(axis=0) if per_trial.shape[0] > 1 else np.zeros_like(mean)
    cols = {d: mean[:, i] for i, d in enumerate(dimensions)}
    cols |= {f"{d}_sd": sd[:, i] for i, d in enumerate(dimensions)}
    return pd.DataFrame(cols, index=index)


def extractor(bundle: Bundle):
    """The bundle's feature extractor: 1 Hz ComParE, or an experiment's feature set per window."""
    feats = bundle.manifest["features"]
    if feats["name"] == "compare_1hz":
        return ComParE1Hz(**feats["config"])
    return vector_extractor(feats, bundle.path / MANIFEST, frames=True)


def predict_read(bundle: Bundle, read, n: int, sr: int, name: str, chunk_s: int = 600) -> dict:
    """``{"frame": table}`` of one signal (``read``, ``n``, ``sr``: see :func:`~.audio.chunks`).

    1 Hz ComParE is computed ``chunk_s`` seconds at a time; other feature sets read the whole
    signal at once.
    """
    ex = extractor(bundle)
    if isinstance(ex, ComParE1Hz):
        x = compare_1hz_chunked(read, n, sr, ex, chunk_s=chunk_s)
    else:
        x = ex(segment(read, n, sr, ex.sr, 0.0, n / sr), ex.sr)
    if len(x) == 0:
        raise BundleError(f"{name}: shorter than one {ex.win:g}-s analysis window")
    per_trial = predict_features(bundle, x)
    return {"frame": frames_table(name, per_trial, bundle.dimensions, win=ex.win, hop=ex.hop)}


def empty(bundle: Bundle) -> dict:
    """The tables of no file."""
    return {"frame": frames_table("", np.zeros((1, 0, len(bundle.dimensions))),
                                  bundle.dimensions, win=1.0, hop=1.0)}  # fmt: skip


def continuous_manifest(
    n_features: int,
    hidden,
    *,
    trials: int,
    folds: int,
    peephole: bool = True,
    active=None,
    features: dict | None = None,
) -> dict:
    """What every continuous bundle's manifest says of its model, features, labels and ensemble.

    Args:
        n_features: input dimension (260 ComParE features).
        hidden: the two LSTM layers' sizes the model is built with.
        trials: ensemble trials.
        folds: fold models per trial.
        peephole: peephole connections.
        active: the blocks in use when the layers are padded (``None``: all).
        features: the manifest's ``features`` when the input is not 1 Hz ComParE: ``name`` (an
            experiment feature set, :mod:`mer_ser.bundles.vectors`) and ``config``; the frames
            are the same 2-s windows every second.
    """
    config = {
        "n_features": int(n_features),
        "hidden": [int(h) for h in hidden],
        "peephole": peephole,
    }
    if active is not None:
        config["active"] = [int(a) for a in active]
    ex = ComParE1Hz()
    if features is None:
        features = {"name": ex.name, "config": {"sr": ex.sr, "win": ex.win, "hop": ex.hop}}
    return {
        "kind": "continuous",
        "architecture": {"class": "ContinuousRegressor", "config": config},
        "features": {**features, "dim": int(n_features)},
        "labels": {
            "dimensions": ["arousal", "valence"],
            "scale": [-1.0, 1.0],
            "frame_hop_s": ex.hop,
            "frame_win_s": ex.win,
        },
        "ensemble": {
            "trials": int(trials),
            "folds": int(folds),
            "reduce": "mean over folds per trial; mean and sd over trials",
        },
    }


def export_continuous(track, condition: str, folder: str | os.PathLike, *, result=None) -> Path:
    """Write the final models of a continuous condition as a bundle.

    The bundle holds every trial's fold models of the condition as developed under the paper's
    normalisation (each member standardises its input with its own training folds'
    statistics, Coutinho & Schuller 2017, Sec. 4.3), so it applies to audio of any domain.

    Args:
        track: a :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack`.
        condition: ``M2M``, ``S2S``, ``S2M``, ``M2S``, ``S2M_TL`` or ``M2S_TL``.
        folder: the bundle folder (e.g. ``models_dir(data_root) / "coutinho2017_S2M"``).
        result: the condition's :class:`~mer_ser.experiments.continuous_results.ConditionResult`
            under the paper's normalisation, whose test scores the manifest records.

    Returns:
        The bundle folder.
    """
    if result is not None and (result.condition, result.normalisation) != (condition, "paper"):
        raise ValueError(
            f"result is {result.condition} under {result.normalisation!r}; the bundle of "
            f"{condition} records the scores of its models under the paper's normalisation"
        )
    dev = track.develop(condition)
    trained, chosen = dev.trained, dict(dev.chosen)
    _, src_domain, tgt_domain = CONDITIONS[condition]
    src = track.sets[src_domain]
    n_features = int(src.x.shape[-1])
    hidden = [int(h) for h in track.layer_sizes(chosen["h1"], chosen["h2"])]
    _, trials, folds = trained.shape
    manifest = {
        **continuous_manifest(
            n_features,
            hidden,
            trials=trials,
            folds=folds,
            peephole=bool(track.protocol.peephole),
            active=[int(chosen["h1"]), int(chosen["h2"])],
        ),
        "provenance": {
            "paper": "Coutinho & Schuller 2017, PLoS ONE 12(6): e0179289",
            "condition": condition,
            "source": {
                "name": src.name,
                "domain": src.domain,
                "sha256": src.fingerprint(),
                "clips": len(src),
            },
            "target": {"name": track.sets[tgt_domain].name, "domain": tgt_domain},
            "protocol": track.protocol.name,
            "seed": int(track.seed),
            "normalisation": "paper",
            "chosen": chosen,
        },
        "scores": _scores(result),
    }
    return save_bundle(folder, manifest, continuous_arrays(trained))


def export_conditions(track, results: dict, data_root: str | os.PathLike) -> list[Path]:
    """Export continuous conditions as ``<data_root>/models/coutinho2017_<condition>``.

    Args:
        track: the :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack` that ran them.
        results: condition -> its result under the paper's normalisation (scores recorded).
        data_root: the notebooks' data root.

    Returns:
        The bundle folders, in the order of ``results``.
    """
    root = models_dir(data_root)
    return [
        export_continuous(track, c, root / f"coutinho2017_{c}", result=r)
        for c, r in results.items()
    ]


def _scores(result) -> dict:
    """Mean test CCC, r and RMSE per dimension (over trials and clips) and validation CCC."""
    if result is None:
        return {}
    out: dict = {"clips": len(result.clip_ids), "trials": int(result.predictions.shape[0])}
    for metric, v in result.metrics().items():
        for i, dim in enumerate(("arousal", "valence")):
            out[f"test_{metric}_{dim}"] = float(np.nanmean(v[..., i]))
    out["dev_ccc"] = float(np.mean(result.dev_by_trial))
    return out


def describe(bundle: Bundle) -> str:
    """One line on a continuous bundle's provenance and test scores (``mer-ser models``)."""
    prov, scores = bundle.manifest.get("provenance", {}), bundle.manifest.get("scores", {})
    src = prov.get("source", {})
    ens = bundle.manifest["ensemble"]
    score = ", ".join(f"{k} {v:.3f}" for k, v in scores.items() if k.startswith("test_ccc"))
    return (
        f"{bundle.kind} {bundle.manifest['architecture']['class']}, "
        f"{prov.get('condition', '?')} trained on {src.get('name', '?')} "
        f"({src.get('clips', '?')} clips, sha256 {str(src.get('sha256', '?'))[:12]}), "
        f"protocol {prov.get('protocol', '?')}, seed {prov.get('seed', '?')}, "
        f"{ens['trials']} trials x {ens['folds']} folds" + (f"; {score}" if score else "")
    )
