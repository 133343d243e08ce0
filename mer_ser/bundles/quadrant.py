"""Quadrant bundles: the clip classifiers of Rodningen 2022 and Gomez-Canon et al. 2020/2021.

A quadrant bundle holds the runs of one system (a model, a transfer setting, the statistics that
standardise its input). A recording is cut into the windows the model was trained on, each
window gets every run's class probabilities, and the recording's probabilities are the mean
over its windows (Gomez-Canon et al. 2021, section 2.3: a clip's decision is the arg-max of its
patches' mean probabilities). Three input pipelines (manifest ``features.name``):

* ``logmel3d`` (Rodningen 2022, section 4.3): 3-D log-mel of windows of the clip length the
  model was trained on (``window_s``, 15 s in the thesis) every ``hop_s`` (half a window), the
  last window ending at the recording's end; a recording no longer than a window is one window,
  centre-padded with zeros exactly as in training. Inputs standardised per channel.
* ``mel_patches`` (Gomez-Canon et al. 2021, section 3.1): every 1 s log-mel patch (50 %
  overlap); inputs standardised with the speech pool's scalar statistics. The multi-task head's
  arousal and valence outputs are reported beside the quadrants.
* ``compare_1hz_windows`` (Gomez-Canon et al. 2020, section III-B): windows of ``window``
  consecutive 1 Hz ComParE frames, step 1 s, with a validity channel (a recording shorter than a
  window is one padded window); frames standardised with the pool's statistics.

Recordings longer than ``PIECE_S`` are read a piece at a time; for mel patches each piece's dB
floor (``top_db``) is then its own, so patches of pieces may differ slightly from a whole-file
computation (as openSMILE's stateful LLDs do for continuous bundles).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mer_ser.bundles.audio import compare_1hz_chunked, segment
from mer_ser.bundles.store import MANIFEST, Bundle, BundleError, models_dir, save_bundle
from mer_ser.corpora.labels import QUADRANTS
from mer_ser.experiments.gomez_canon.data import music_fingerprint
from mer_ser.experiments.jobs import classifier_state, flatten_tree
from mer_ser.experiments.rodningen2022 import BUILDERS
from mer_ser.features import ComParE1Hz, LogMel3D, MelPatches
from mer_ser.models import ADCRNN, DCNN, PackedDAEClassifier, SCAEClassifier
from mer_ser.train.checkpoint import flatten
from mer_ser.train.engine import TrainConfig, make_classifier_fit

#: What a quadrant model's predictions are tabled by: the whole file, and each window.
LEVELS = ("file", "window")
#: The quadrants on Russell's plane (4Q / EMOPIA naming), recorded in every manifest.
QUADRANT_MEANING = {
    "Q1": "positive valence, high arousal",
    "Q2": "negative valence, high arousal",
    "Q3": "negative valence, low arousal",
    "Q4": "positive valence, low arousal",
}
#: The multi-task head's binary outputs (sigmoid), as table columns.
BINARY_HEADS = {"arousal": "p_arousal_high", "valence": "p_valence_positive"}
#: Windows scored per call of the compiled model (the last batch zero-padded).
BATCH = 16
#: Seconds of audio a long recording's mel patches are computed from at a time.
PIECE_S = 600

_MODELS = {"DCNN": DCNN, "ADCRNN": ADCRNN}


def _build(bundle: Bundle):
    """``rngs -> model`` of the bundle's architecture."""
    arch = bundle.manifest["architecture"]
    name, cfg = arch.get("class"), arch.get("config", {})
    if name in _MODELS:
        model = _MODELS[name]
        n_classes = int(cfg.get("n_classes", len(QUADRANTS)))
        return lambda r: model(
            n_frames=int(cfg["n_frames"]), n_mels=int(cfg["n_mels"]), n_classes=n_classes, rngs=r
        )
    if name == "SCAEClassifier":
        return lambda r: SCAEClassifier(block=int(cfg["block"]), rngs=r)
    if name == "PackedDAEClassifier":
        n, h, c = (int(cfg[k]) for k in ("n_features", "hidden", "cells"))
        return lambda r: PackedDAEClassifier(n, h, c, rngs=r)
    raise BundleError(f"{bundle.path / MANIFEST}: unknown quadrant architecture {name!r}")


def _program(bundle: Bundle):
    """``(states, fn)``: each run's model state and the jitted ``fn(state, x) -> probabilities``.

    Built once per bundle; ``fn`` returns ``{"quadrant": (B, 4)}`` softmax and, for the
    multi-task head, ``arousal`` / ``valence`` sigmoid ``(B,)``.
    """
    if "program" not in bundle.cache:
        build = _build(bundle)
        apply = make_classifier_fit(build, TrainConfig())[1]
        heads = bundle.manifest["labels"].get("heads", ["quadrant"])

        def probabilities(state, x):
            if len(heads) == 1:
                return {"quadrant": jax.nn.softmax(apply(state, x), axis=-1)}
            out = apply(state, x, heads=True)
            probs = {"quadrant": jax.nn.softmax(out["quadrant"], axis=-1)}
            return probs | {h: jax.nn.sigmoid(out[h]) for h in heads if h != "quadrant"}

        stored = SimpleNamespace(params=bundle.params)
        states = [classifier_state(build, stored, k) for k in range(bundle.members)]
        bundle.cache["program"] = (states, jax.jit(probabilities))
    return bundle.cache["program"]


# ---------------------------------------------------------------------------- windows
def _standardise(bundle: Bundle, k: int, x: np.ndarray) -> np.ndarray:
    """Run ``k``'s standardisation of a batch of model inputs, as the notebooks apply it."""
    mean, std = bundle.arrays["stats/mean"][k], bundle.arrays["stats/std"][k]
    name = bundle.manifest["features"]["name"]
    if name == "mel_patches":  # the pool's scalar statistics, as Python floats
        return (x - float(mean)) / float(std)
    if name == "compare_1hz_windows":  # frames standardised, padding left at zero
        valid = x[..., -1:]
        feats = np.where(valid > 0, (x[..., :-1] - mean) / std, 0.0)
        return np.concatenate([feats, valid], axis=-1).astype(np.float32)
    return ((x - mean) / std).astype(np.float32)  # logmel3d: per channel


def _logmel_windows(bundle: Bundle, read, n: int, file_sr: int):
    """``(start, stop, input)`` of each window of a recording (``logmel3d``)."""
    f = bundle.manifest["features"]
    ex = LogMel3D(**f["config"])
    total = n / file_sr
    win, hop = float(f["window_s"]), float(f["hop_s"])
    if total <= win:
        starts = [0.0]
    else:
        starts = [*np.arange(0.0, total - win, hop), total - win]
    for s in starts:
        stop = min(total, s + win)
        y = segment(read, n, file_sr, ex.sr, s, stop)
        yield s, stop, ex(y, ex.sr)


def _patch_windows(bundle: Bundle, read, n: int, file_sr: int):
    """``(start, stop, patch)`` of each 1 s mel patch (``mel_patches``), a piece at a time."""
    ex = MelPatches(**bundle.manifest["features"]["config"])
    total = n / file_sr
    step_s = ex.patch_step * ex.hop_length / ex.sr
    span_s = ex.patch_frames * ex.hop_length / ex.sr
    piece = round(PIECE_S / step_s) * step_s  # a whole number of patch steps
    left, right = 2 * step_s, 3 * step_s  # margins: one frame window, and one patch
    s = 0.0
    while s < total:
        lo = max(0.0, s - left) if total > piece else 0.0
        hi = min(total, s + piece + right) if total > piece else total
        y = segment(read, n, file_sr, ex.sr, lo, hi)
        patches = ex(y, ex.sr)
        first = round((s - lo) / step_s)
        for j in range(first, len(patches)):
            start = lo + j * step_s
            if start >= s + piece - 1e-9 and total > piece:
                break
            yield start, min(total, start + span_s), patches[j, 0, :, :, None]
        s += piece


def _frame_windows(bundle: Bundle, read, n: int, file_sr: int):
    """``(start, stop, window)`` of each window of 1 Hz frames (``compare_1hz_windows``)."""
    f = bundle.manifest["features"]
    ex, w = ComParE1Hz(**f["config"]), int(f["window"])
    x = compare_1hz_chunked(read, n, file_sr, ex)
    if len(x) == 0:
        return
    x = np.hstack([x, np.ones((len(x), 1), x.dtype)])
    total = n / file_sr
    if len(x) < w:
        yield 0.0, total, np.pad(x, ((0, w - len(x)), (0, 0)))
        return
    for i in range(len(x) - w + 1):  # frames i .. i + w - 1, frame k covering [k, k + win)
        yield float(i * ex.hop), min(total, (i + w - 1) * ex.hop + ex.win), x[i : i + w]


WINDOWS = {
    "logmel3d": _logmel_windows,
    "mel_patches": _patch_windows,
    "compare_1hz_windows": _frame_windows,
}


def sample_rate(bundle: Bundle) -> int:
    """The rate the bundle's features are computed at."""
    return int(bundle.manifest["features"]["config"].get("sr", 16000))


def window_probabilities(bundle: Bundle, read, n: int, file_sr: int, name: str):
    """Every run's probabilities on every window of one recording.

    Returns:
        ``(spans, probs)``: ``(W, 2)`` start and end of each window in s, and head ->
        ``(runs, W, ...)``.

    Raises:
        BundleError: the recording is empty or shorter than one window of the model's features,
            or the features do not fit the model.
    """
    feats = bundle.manifest["features"]
    if n == 0:
        raise BundleError(f"{name}: empty signal (0 samples)")
    if feats["name"] not in WINDOWS:
        raise BundleError(f"{bundle.path / MANIFEST}: unknown feature set {feats['name']!r}")
    states, fn = _program(bundle)
    heads = bundle.manifest["labels"].get("heads", ["quadrant"])  # the columns' order
    shape = tuple(feats["input_shape"])
    spans, outs, batch = [], [], []

    def flush():
        x = np.stack([b[2] for b in batch])
        if x.shape[1:] != shape:
            raise BundleError(
                f"{bundle.path}: the model expects inputs of shape {shape} "
                f"({feats['name']}), the features have {x.shape[1:]}"
            )
        m = len(x)
        x = np.concatenate([x, np.zeros((BATCH - m, *shape), x.dtype)])
        per_run = [
            jax.device_get(fn(states[k], jnp.asarray(_standardise(bundle, k, x))))
            for k in range(len(states))
        ]
        outs.append({h: np.stack([p[h][:m] for p in per_run]) for h in heads})
        spans.extend((b[0], b[1]) for b in batch)
        batch.clear()

    for window in WINDOWS[feats["name"]](bundle, read, n, file_sr):
        batch.append(window)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    if not outs:
        raise BundleError(f"{name}: shorter than one window of the model's features")
    probs = {h: np.concatenate([o[h] for o in outs], axis=1) for h in outs[0]}
    return np.asarray(spans, dtype=np.float64), probs


def classes(bundle: Bundle) -> tuple[str, ...]:
    """The classes of the bundle's main head: ``Q1``-``Q4``, or an experiment's categories."""
    return tuple(bundle.manifest["labels"].get("classes", QUADRANTS))


def _columns(probs: dict, reduce, names_of=tuple(QUADRANTS)) -> dict[str, np.ndarray]:
    """Mean and sd over runs of each head (``reduce`` first maps ``(runs, W, ...)``)."""
    cols = {}
    for head, p in probs.items():
        p = reduce(p)
        mean = p.mean(axis=0)
        sd = p.std(axis=0) if len(p) > 1 else np.zeros_like(mean)
        names = list(names_of) if head == "quadrant" else [BINARY_HEADS[head]]
        mean, sd = mean.reshape(*mean.shape[:1], -1), sd.reshape(*sd.shape[:1], -1)
        cols |= {c: mean[:, i] for i, c in enumerate(names)}
        cols |= {f"{c}_sd": sd[:, i] for i, c in enumerate(names)}
    return cols


def tables(
    name: str, spans: np.ndarray, probs: dict, duration: float, names=tuple(QUADRANTS)
) -> dict:
    """``{"file": one row, "window": one row per window}`` of one recording.

    The file row: the mean over windows of each run's probabilities, then mean (``Q1`` ...) and
    standard deviation (``Q1_sd`` ...) over runs, the decided ``quadrant``, the ``windows``
    and the ``duration`` in s. Window rows, indexed by ``(file, start, end)``: mean and sd over
    runs of each window's probabilities. A bundle of other classes (``names``, an experiment's
    categories) has one column per class and the decided ``class``.
    """
    w, names = len(spans), list(names)
    start, end = (pd.to_timedelta(spans[:, i], unit="s") for i in (0, 1))
    index = pd.MultiIndex.from_arrays([[name] * w, start, end], names=["file", "start", "end"])
    window = pd.DataFrame(_columns(probs, lambda p: p, names), index=index)
    clip = pd.DataFrame(
        _columns(probs, lambda p: p.mean(axis=1)[:, None], names),
        index=pd.Index([name], name="file"),
    )
    decided = "quadrant" if names == list(QUADRANTS) else "class"
    clip.insert(0, decided, np.asarray(names)[clip[names].to_numpy().argmax(1)])
    clip["windows"] = w
    clip["duration"] = duration
    return {"file": clip, "window": window}


def predict_read(bundle: Bundle, read, n: int, sr: int, name: str) -> dict:
    """``{"file": ..., "window": ...}`` tables of one signal (see :func:`tables`)."""
    spans, probs = window_probabilities(bundle, read, n, sr, name)
    return tables(name, spans, probs, n / sr, classes(bundle))


def empty(bundle: Bundle) -> dict:
    """The tables of no file."""
    heads = bundle.manifest["labels"].get("heads", ["quadrant"])
    k = len(classes(bundle))
    probs = {h: np.zeros((1, 0, k) if h == "quadrant" else (1, 0)) for h in heads}
    out = tables("", np.zeros((0, 2)), probs, 0.0, classes(bundle))
    out["file"] = out["file"].iloc[:0]
    return out


# ---------------------------------------------------------------------------- export
def _manifest(
    architecture: dict, features: dict, *, runs: int, heads=("quadrant",), names=tuple(QUADRANTS)
) -> dict:
    """What every quadrant bundle's manifest says of its model, labels and ensemble.

    ``names``: the main head's classes; Q1-Q4 unless an experiment config trained the model on
    its corpus' categories.
    """
    meaning = {"quadrants": QUADRANT_MEANING} if list(names) == list(QUADRANTS) else {}
    return {
        "kind": "quadrant",
        "architecture": architecture,
        "features": features,
        "labels": {
            "classes": list(names),
            **meaning,
            "heads": list(heads),
            "aggregate": "file probabilities = mean over its windows, per run",
        },
        "ensemble": {
            "trials": int(runs),
            "folds": 1,
            "reduce": "mean and sd over runs (each run one model)",
        },
    }


def _per_run(a, runs: int) -> np.ndarray:
    """``a`` repeated along a leading run axis."""
    a = np.asarray(a)
    return np.ascontiguousarray(np.broadcast_to(a, (runs, *a.shape)))


def _arrays(params: dict, mean, std, runs: int) -> dict[str, np.ndarray]:
    """Bundle arrays of stacked parameters (``{"params", "state"}``) and shared statistics."""
    out = {f"params/{k}": np.asarray(v) for k, v in flatten(params).items()}
    out["stats/mean"] = _per_run(np.asarray(mean, dtype=np.float64), runs)
    out["stats/std"] = _per_run(np.asarray(std, dtype=np.float64), runs)
    return out


def _scores(results: pd.DataFrame, **where) -> dict:
    """Mean quadrant scores over runs, per partition and metric, of the rows matching ``where``."""
    rows = results[results["head"] == "quadrant"] if "head" in results else results
    for k, v in where.items():
        rows = rows[rows[k] == v]
    out: dict = {}
    for (part, metric), g in rows.groupby(["partition", "metric"]):
        out[f"{part}_{metric}"] = float(g["value"].mean())
        if part == "test":
            out["clips"], out["runs"] = int(g["clips"].iloc[0]), int(g["run"].nunique())
    return out


def _config(extractor) -> dict:
    """An extractor's constructor arguments (its name and cache version left out)."""
    return {k: v for k, v in dataclasses.asdict(extractor).items() if k not in ("name", "version")}


def _logmel_features(ex: LogMel3D, n_frames: int) -> dict:
    return {
        "name": "logmel3d",
        "config": _config(ex),
        "dim": ex.n_mels,
        "stats_dim": 3,
        "input_shape": [n_frames, ex.n_mels, 3],
        "window_s": ex.pad_seconds,
        "hop_s": ex.pad_seconds / 2,
    }


def export_rodningen(track, results: pd.DataFrame, data_root: str | os.PathLike) -> list[Path]:
    """Export a quadrant track's systems as ``<data_root>/models/rodningen2022_<model>_<setting>``.

    One bundle per model and setting of ``results`` (from
    :meth:`~mer_ser.experiments.rodningen2022.QuadrantTrack.run`), under the thesis'
    normalisation (``source``: inputs standardised with the training corpus' statistics), with
    the scores the notebook measured. Rows of other models (the linear baselines of
    :meth:`~mer_ser.experiments.rodningen2022.QuadrantTrack.run_linear`) are skipped.

    Returns:
        The bundle folders.
    """
    out = []
    src = results[(results["normalisation"] == "source") & results["encoder"].isin(list(BUILDERS))]
    for model, setting in src[["encoder", "setting"]].drop_duplicates().itertuples(index=False):
        trained, _, _, stats_from = track.system(model, setting, "source")
        mean, std = track.channel_statistics(stats_from)
        s = track.sets[stats_from]
        runs = len(trained.epochs)
        ex = track.protocol.extractor()
        n_frames = int(track.sets["music"].x.shape[1])
        manifest = _manifest(
            {"class": model, "config": {"n_frames": n_frames, "n_mels": ex.n_mels}},
            _logmel_features(ex, n_frames),
            runs=runs,
        )
        trained_on = "speech" if setting == "SER2MER" else "music"
        manifest["provenance"] = {
            "paper": "Rodningen 2022, MSc thesis, chapters 4-5",
            "model": model,
            "setting": setting,
            "trained_on": [
                _corpus(track.sets[d])
                for d in ([trained_on, "music"] if setting == "SER2MER_FT" else [trained_on])
            ],
            "normalisation": {"name": "source", "statistics_of": s.name, "domain": s.domain},
            "protocol": track.protocol.name,
            "seed": int(track.seed),
            "cache_key": trained.key,
        }
        manifest["scores"] = _scores(src, encoder=model, setting=setting)
        folder = models_dir(data_root) / f"rodningen2022_{model}_{setting}"
        out.append(save_bundle(folder, manifest, _arrays(trained.params, mean, std, runs)))
    return out


def _corpus(s) -> dict:
    """Name, domain, clips and content hash of a clip set."""
    return {"name": s.name, "domain": s.domain, "clips": len(s), "sha256": s.fingerprint()}


def _stacked_tree(tree: dict, runs: int) -> dict:
    """A single model's pure dict repeated along a leading run axis (string keys)."""
    return jax.tree.map(lambda a: _per_run(a, runs), flatten_tree(tree))


def export_language_transfer(
    transfer, results: pd.DataFrame, data_root: str | os.PathLike, *, settings=None, amount=None
) -> list[Path]:
    """Export transfer systems of the language track under ``<data_root>/models``.

    One bundle per encoder and mode of each setting: ``gomezcanon2021_<encoder>-<mode>_<setting>``
    for the mel-patch encoders (the encoder and its multi-task head together: in *Feat. Ext.* the
    frozen pretrained encoder, in *Full* the fine-tuned one), ``gomezcanon2020_<variant>_<setting>``
    for the DAE classifiers. Inputs are standardised with the speech pool's statistics, as in
    training.

    Args:
        transfer: a :class:`~mer_ser.experiments.gomez_canon.LanguageTransfer` that has run.
        results: its score rows (``transfer.run()``).
        data_root: the notebooks' data root.
        settings: which settings (default: those of the mixed-language pool, ``mix2*``).
        amount: which pretraining amount (default: the protocol's largest).

    Returns:
        The bundle folders.
    """
    p = transfer.protocol
    amount = amount or max(p.amounts, key=p.amounts.get)
    out = []
    for (encoder, mode, setting, amt), job in transfer.jobs.items():
        speech, _, lang = setting.partition("2")
        if amt != amount or (settings is None and speech != "mix"):
            continue
        if settings is not None and setting not in settings:
            continue
        enc = transfer.encoder(encoder)
        pretrained, mean, std = enc.pretrain(transfer, speech, amount)
        runs = len(job.epochs)
        provenance = {
            "encoder": encoder,
            "mode": mode,
            "setting": setting,
            "speech_pool": {"language": speech, "seconds": p.amounts[amount], "amount": amount},
            "music": {
                "name": transfer.music[lang].name,
                "language": lang,
                "sha256": music_fingerprint(transfer.music[lang]),
            },
            "pretrained_key": pretrained.key,
            "cache_key": job.key,
            "protocol": p.name,
            "seed": int(transfer.seed),
        }
        scores = _scores(results, encoder=encoder, mode=mode, setting=setting, amount=amount)
        if hasattr(enc, "window"):  # an LSTM-DAE classifier on 1 Hz ComParE windows
            config = {"n_features": 260, "hidden": enc.hidden, "cells": p.dae_lstm}
            arch = {"class": "PackedDAEClassifier", "config": config}
            ex = ComParE1Hz()
            features = {
                "name": "compare_1hz_windows",
                "config": {"sr": ex.sr, "win": ex.win, "hop": ex.hop},
                "window": enc.window,
                "dim": 260,
                "input_shape": [enc.window, 261],
            }
            params, heads = job.params, ("quadrant",)
            name = f"gomezcanon2020_{encoder}_{setting}"
            paper = "Gomez-Canon et al. 2020, ICASSP (DAE-Classifier, Table II)"
        else:  # a mel-patch encoder under the multi-task head
            arch = {"class": "SCAEClassifier", "config": {"block": p.head_block}}
            ex = transfer.extractor
            features = {
                "name": "mel_patches",
                "config": _config(ex),
                "dim": ex.n_mels,
                "input_shape": [ex.n_mels, ex.patch_frames, 1],
            }
            params, heads = job.params, ("quadrant", "arousal", "valence")
            if mode == "feat_ext":  # the frozen encoder beside the head trained on its latents
                enc_params, enc_state = enc.preset(transfer, pretrained)
                params = {
                    "params": {**_stacked_tree(enc_params, runs), **job.params["params"]},
                    "state": {**job.params.get("state", {}), **_stacked_tree(enc_state, runs)},
                }
            name = f"gomezcanon2021_{encoder}-{mode}_{setting}"
            paper = "Gomez-Canon et al. 2021, Table 2 (multi-task transfer)"
        manifest = _manifest(arch, features, runs=runs, heads=heads)
        manifest["provenance"] = {"paper": paper, **provenance}
        manifest["scores"] = scores
        folder = models_dir(data_root) / name
        out.append(save_bundle(folder, manifest, _arrays(params, mean, std, runs)))
    return out


def describe(bundle: Bundle) -> str:
    """One line on a quadrant bundle's provenance and test scores (``mer-ser models``)."""
    prov, scores = bundle.manifest.get("provenance", {}), bundle.manifest.get("scores", {})
    what = prov.get("setting", "?")
    if "mode" in prov:
        what = f"{prov.get('encoder')} {prov['mode']} {what}"
    score = ", ".join(
        f"{k} {v:.3f}" for k, v in scores.items() if k in ("test_accuracy", "test_macro_f1")
    )
    if score:
        score = f"; {score} on {scores.get('clips', '?')} clips"
    names = classes(bundle)
    kind = bundle.kind if names == tuple(QUADRANTS) else f"classifier of {'/'.join(names)}"
    return (
        f"{kind} {bundle.manifest['architecture']['class']}, {what}, "
        f"protocol {prov.get('protocol', '?')}, seed {prov.get('seed', '?')}, "
        f"{bundle.members} runs{score}"
    )
