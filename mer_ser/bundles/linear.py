"""Linear bundles: functionals + linear SVM, logistic regression or ridge regression.

The models of an experiment config (:mod:`mer_ser.recipes`) with ``model.kind`` ``linear_svm``,
``logistic`` or ``ridge``: every fold's model of every seed, each with the statistics of its own
training partition (``stats/mean``, ``stats/std``) and its weights in the standardised space
(``params/coef`` ``(members, k, d)``, ``params/intercept`` ``(members, k)``). Applied with numpy
(:class:`~mer_ser.models.linear.Linear`), no scikit-learn needed.

Inputs: openSMILE functionals of the whole file (``egemaps_functionals``,
``compare_functionals``), one layer of a self-supervised model pooled over it (``ssl``: the model
folder or hub id, layer, pooling and a hash of the weights are in the manifest, and a bundle refuses
weights that differ) or the mean of its 1 Hz ComParE frames (``compare_lld_1hz``) for a clip
target; the same per 2-s window every second for the time-continuous target. The whole file is
read at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser.bundles.audio import segment
from mer_ser.bundles.continuous import frames_table
from mer_ser.bundles.store import MANIFEST, Bundle, BundleError
from mer_ser.bundles.vectors import vector_extractor
from mer_ser.models.linear import Linear

#: Tables of a clip-level model (one row per file) and of a frame-level (continuous) one.
LEVELS = ("file",)
FRAME_LEVELS = ("frame",)


def linear_manifest(
    kind: str, target: str, features: dict, *, classes=(), trials: int, folds: int
) -> dict:
    """What a linear bundle's manifest says of its model, features, labels and ensemble.

    Args:
        kind: ``"linear_svm"``, ``"logistic"`` or ``"ridge"``.
        target: the experiment's target (``"quadrant"``, ``"category"``, ``"arousal"``,
            ``"valence"`` or ``"arousal,valence"``, the time-continuous pair on the 1 Hz grid).
        features: ``name`` (an experiment feature set), its extractor ``config`` and ``dim``.
        classes: the class names of a classifier.
        trials: seeds.
        folds: fold models per seed.
    """
    frames = target == "arousal,valence"
    if classes:
        labels = {"classes": list(classes)}
    else:
        labels = {"dimensions": ["arousal", "valence"] if frames else [target],
                  "scale": [-1.0, 1.0]}  # fmt: skip
    if frames:
        labels |= {"frame_hop_s": 1.0, "frame_win_s": 2.0}
    return {
        "kind": "linear",
        "architecture": {"class": "Linear", "config": {"kind": kind, "target": target}},
        "features": {**features, "level": "frame" if frames else "clip"},
        "labels": labels,
        "ensemble": {
            "trials": trials,
            "folds": folds,
            "reduce": "mean and sd over every member (seeds x folds)",
        },
    }


def levels(bundle: Bundle) -> tuple[str, ...]:
    """``("frame",)`` for a time-continuous model, else ``("file",)``."""
    return FRAME_LEVELS if _frames(bundle) else LEVELS


def _frames(bundle: Bundle) -> bool:
    return bundle.manifest["features"].get("level") == "frame"


def extractor(bundle: Bundle):
    """The bundle's feature extractor (clip or 1 Hz window level)."""
    return vector_extractor(bundle.manifest["features"], bundle.path / MANIFEST,
                            frames=_frames(bundle))  # fmt: skip


def features(bundle: Bundle, y: np.ndarray, sr: int) -> np.ndarray:
    """The model's input of one mono signal at the extractor's rate: ``(1, d)`` or ``(T, d)``."""
    ex = extractor(bundle)
    x = np.asarray(ex(y, sr), dtype=np.float64)
    if bundle.manifest["features"]["name"] == "compare_lld_1hz" and not _frames(bundle):
        if len(x) == 0:
            return np.zeros((0, x.shape[1]))
        x = x.mean(axis=0, keepdims=True)
    return x


def members(bundle: Bundle) -> list[tuple[Linear, np.ndarray, np.ndarray]]:
    """Each member's model and the statistics that standardise its input."""
    if "members" not in bundle.cache:
        a, arch = bundle.arrays, bundle.manifest["architecture"]["config"]
        classes = tuple(bundle.manifest["labels"].get("classes", ()))
        bundle.cache["members"] = [
            (
                Linear(arch["kind"], a["params/coef"][k], a["params/intercept"][k], classes),
                a["stats/mean"][k],
                a["stats/std"][k],
            )
            for k in range(bundle.members)
        ]
    return bundle.cache["members"]


def member_scores(bundle: Bundle, x: np.ndarray) -> np.ndarray:
    """Every member's scores ``(members, N, k)``.

    Class probabilities (logistic), one-hot decisions (SVM) or predictions (ridge).
    """
    x = np.asarray(x, np.float64)
    if x.shape[-1] != bundle.n_features:
        raise BundleError(
            f"{bundle.path}: the model expects {bundle.n_features} features "
            f"({bundle.manifest['features']['name']}), got {x.shape[-1]}"
        )
    out = []
    for model, mean, std in members(bundle):
        z = (x - mean) / std
        if model.kind == "logistic":
            out.append(model.probabilities(z))
        elif model.kind == "linear_svm":
            out.append(np.eye(len(model.classes))[model.scores(z).argmax(axis=1)])
        else:
            out.append(model.scores(z))
    return np.stack(out)


def predict_read(bundle: Bundle, read, n: int, sr: int, name: str) -> dict:
    """``{"file": table}`` or ``{"frame": table}`` of one signal."""
    ex = extractor(bundle)
    y = segment(read, n, sr, ex.sr, 0.0, n / sr)
    x = features(bundle, y, ex.sr)
    if len(x) == 0:
        raise BundleError(f"{name}: too short for {bundle.manifest['features']['name']}")
    scores = member_scores(bundle, x)  # (R, N, k)
    if _frames(bundle):
        return {"frame": frames_table(name, scores, bundle.dimensions, win=ex.win, hop=ex.hop)}
    return {"file": _file_row(bundle, name, scores[:, 0], len(y) / ex.sr)}


def _file_row(bundle: Bundle, name: str, scores: np.ndarray, duration: float) -> pd.DataFrame:
    """One file's row: the decided class (or value), each column's mean and sd over members."""
    cols = list(bundle.dimensions)
    mean = scores.mean(axis=0)
    sd = scores.std(axis=0) if len(scores) > 1 else np.zeros_like(mean)
    row: dict = {}
    if "classes" in bundle.manifest["labels"]:
        row["class"] = cols[int(np.argmax(mean))]
    row |= {c: mean[i] for i, c in enumerate(cols)}
    row |= {f"{c}_sd": sd[i] for i, c in enumerate(cols)}
    row["duration"] = duration
    return pd.DataFrame([row], index=pd.Index([name], name="file"))


def empty(bundle: Bundle) -> dict:
    """The tables of no file."""
    if _frames(bundle):
        z = np.zeros((1, 0, len(bundle.dimensions)))
        return {"frame": frames_table("", z, bundle.dimensions, win=1.0, hop=1.0)}
    row = _file_row(bundle, "", np.zeros((1, len(bundle.dimensions))), 0.0)
    return {"file": row.iloc[:0]}


def describe(bundle: Bundle) -> str:
    """One line on a linear bundle (``mer-ser models``)."""
    m, prov = bundle.manifest, bundle.manifest.get("provenance", {})
    ens, scores = m["ensemble"], m.get("scores", {})
    score = ", ".join(f"{k} {v:.3f}" for k, v in scores.items() if isinstance(v, float))
    trained = ", ".join(c.get("name", "?") for c in prov.get("trained_on", []))
    return (
        f"linear {m['architecture']['config']['kind']} on {m['features']['name']}, "
        f"{m['architecture']['config']['target']} trained on {trained or '?'}, "
        f"{ens['trials']} seeds x {ens['folds']} folds" + (f"; {score}" if score else "")
    )
