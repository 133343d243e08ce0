"""Any recording in the scrubber: audio files from disk or uploads, scored by model bundles.

:func:`file_corpus` makes a small corpus of audio files that are in no corpus (so the scrubber
picks them as it picks corpus clips), with their own labels when the user has them;
:func:`bundle_models` applies model bundles (:mod:`mer_ser.bundles`) to its files and returns
them as scrubber models: a continuous bundle's arousal and valence with the spread across its
trials (and a linear one's on the time-continuous target, with the spread across its members), a
quadrant bundle's probabilities per window.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import soundfile as sf

from mer_ser import bundles as bd
from mer_ser.corpora.audio import AudioRepair
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AudioError
from mer_ser.widgets.scrubber import ContinuousPredictions, QuadrantPredictions, curve_kind

#: The name of the corpus of opened files.
FILES = "files"


def file_corpus(paths, *, domain: str = "music", labels: dict | None = None,
                name: str = FILES) -> Corpus:  # fmt: skip
    """A corpus of audio files, each clip named after its file.

    Args:
        paths: audio files (any format libsndfile reads).
        domain: ``"music"`` or ``"speech"`` (the corpus data model asks for one).
        labels: file path (or clip name) -> a ``time, arousal, valence`` table, the file's own
            continuous label, drawn as its gold standard.
        name: the corpus name.

    Raises:
        AudioError: a file is missing or not audio (the message names it).
    """
    rows, gold = [], []
    labels = {str(k): v for k, v in (labels or {}).items()}
    for p in paths:
        p = Path(p).resolve()
        try:
            info = sf.info(str(p))
        except Exception as e:  # libsndfile reports unreadable files as several types
            raise AudioError(f"{p}: cannot read audio ({e})") from e
        cid, k = p.name, 2
        while cid in {r["clip_id"] for r in rows}:
            cid, k = f"{p.name} ({k})", k + 1
        rows.append({"clip_id": cid, "domain": domain, "language": "und", "audio_path": str(p),
                     "duration": info.frames / info.samplerate, "sr": info.samplerate,
                     "group": cid, "split": ""})  # fmt: skip
        own = labels.get(str(p), labels.get(cid))
        if own is not None:
            g = pd.DataFrame(own)[["time", "arousal", "valence"]].astype(float)
            gold.append(g.assign(clip_id=cid)[["clip_id", "time", "arousal", "valence"]])
    clips = pd.DataFrame(rows).set_index("clip_id")
    meta = {"label_rate": 1.0, "description": "audio files opened in the scrubber"}
    return Corpus(name, Path("/"), clips, gold=pd.concat(gold, ignore_index=True) if gold else None,
                  meta=meta)  # fmt: skip


def bundle_models(models, corpus: Corpus, *, data_root=None) -> list:
    """Scrubber models of bundles applied to every file of ``corpus``.

    Args:
        models: bundles, bundle folders or names under ``<data_root>/models``.
        corpus: from :func:`file_corpus`.
        data_root: where bundle names are looked up.

    Returns:
        :class:`ContinuousPredictions` (1 Hz arousal and valence, with the spread across the
        bundle's trials) and :class:`QuadrantPredictions` (each window's quadrant
        probabilities at its centre), named after their bundles.

    Raises:
        BundleError: a bundle is not found or has no emotion curve (an encoder, a clip-level
            linear model).
    """
    out = []
    with warnings.catch_warnings(record=True) as caught:  # each repair once, not per bundle
        warnings.simplefilter("always", AudioRepair)
        for model in models:
            out.append(_bundle_model(model, corpus, data_root))
    for message in dict.fromkeys(str(w.message) for w in caught):
        warnings.warn(message, AudioRepair, stacklevel=2)
    return out


def _bundle_model(model, corpus: Corpus, data_root):
    """One bundle as a scrubber model of ``corpus``'s files (see :func:`bundle_models`)."""
    bundle = bd.resolve(model, data_root)
    kind = curve_kind(bundle.manifest)
    if kind is None:
        classes = "/".join(bundle.dimensions)
        names = {"linear": "clip-level linear", "quadrant": f"{classes} classifier"}
        what = names.get(bundle.kind, bundle.kind)
        raise bd.BundleError(f"{bundle.path}: a {what} bundle has no emotion curve")
    preds, spread = {}, {}
    for cid in corpus.clips.index:
        tables = bd.predict_tables(bundle, corpus.audio_file(cid))
        if kind == "continuous":
            f = tables["frame"]
            preds[cid] = f[["arousal", "valence"]].to_numpy(float)
            spread[cid] = f[["arousal_sd", "valence_sd"]].to_numpy(float)
        else:
            w = tables["window"]
            start = w.index.get_level_values("start").total_seconds().to_numpy()
            end = w.index.get_level_values("end").total_seconds().to_numpy()
            q = w[["Q1", "Q2", "Q3", "Q4"]].to_numpy(float)
            preds[cid] = ((start + end) / 2, q / q.sum(axis=1, keepdims=True))
    if kind == "continuous":
        return ContinuousPredictions(bundle.name, corpus.name, preds, spread=spread)
    return QuadrantPredictions(bundle.name, corpus.name, preds)


def save_upload(content: bytes, name: str, folder: str | os.PathLike) -> Path:
    """An uploaded file written under ``folder`` (its name kept, made unique); its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(os.path.basename(name) or "upload.wav")
    path, k = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, k = folder / f"{stem}_{k}{suffix}", k + 1
    path.write_bytes(bytes(content))
    return path
