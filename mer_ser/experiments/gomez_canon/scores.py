"""Scores of the protocol: clip-level decisions from patch probabilities, and the Table 2 analog.

2020, Table II; 2021, Table 2: precision, recall and F-score per head, "macro-weighted" (the
support-weighted average over classes). A clip's class is the arg-max of its patches' mean
quadrant probabilities; arousal and valence are positive when their mean probability exceeds 0.5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser import metrics
from mer_ser.experiments.gomez_canon.encoders import ENCODER_TYPES
from mer_ser.experiments.gomez_canon.protocol import (
    DAE_VARIANTS,
    MODES,
    MUSIC,
    SPEECH,
    _ordered,
    music_language,
)

#: Table 2's rows in order (2020's Table II: the DAE classifiers first), then the controls
#: trained on each music set alone: the baseline CNN and the random frozen SCAE encoder.
TABLE2_ROWS = (
    *((v, "feat_ext") for v in DAE_VARIANTS),
    *((e, m) for e in ("SCAE", "CPC") for m in MODES),
    ("CNN", "baseline"),
    ("random SCAE", "feat_ext"),
)
#: Row names of the controls (one column block per music set).
CONTROLS = {
    ("CNN", "baseline"): "Baseline CNN",
    ("random SCAE", "feat_ext"): "Random SCAE-Feat. Ext.",
}


def clip_quadrants(quadrant: np.ndarray, clip: np.ndarray, clips) -> np.ndarray:
    """Each clip's quadrant decision: the arg-max of its patches' mean probabilities.

    Args:
        quadrant: ``(P, 4)`` softmax of every patch.
        clip: ``(P,)`` the clip index of each patch.
        clips: the clip indices to decide, in order.

    Returns:
        ``(len(clips),)`` quadrant indices.
    """
    q = np.stack([quadrant[clip == c].mean(axis=0) for c in clips])
    return q.argmax(axis=1)


def clip_confusions(prob: dict[str, np.ndarray], y_clip: np.ndarray, clip: np.ndarray, clips):
    """Per-head confusion of clip-level decisions from patch probabilities.

    ``prob``: ``"quadrant"`` ``(P, 4)`` softmax and, for multi-task models, ``"arousal"`` /
    ``"valence"`` ``(P,)`` sigmoid. Returns head -> ``(K, K)`` confusion over the clips ``clips``
    (rows true), for the heads in ``prob``.
    """
    idx = {c: np.flatnonzero(clip == c) for c in clips}
    y = y_clip[np.asarray(clips)]
    out = {"quadrant": metrics.confusion(y, clip_quadrants(prob["quadrant"], clip, clips), 4)}
    for head, positive in (("arousal", (0, 1)), ("valence", (0, 3))):
        if head in prob:
            p = np.asarray([prob[head][idx[c]].mean() for c in clips])
            out[head] = metrics.confusion(
                np.isin(y, positive).astype(int), (p > 0.5).astype(int), 2
            )
    return out


def head_scores(cm: np.ndarray) -> dict[str, float]:
    """Weighted precision, recall, F-score (the papers' "macro-weighted") and accuracy."""
    sc = metrics.classification_scores(cm)
    return {
        "precision": float(sc.loc["weighted", "precision"]),
        "recall": float(sc.loc["weighted", "recall"]),
        "f1": float(sc.loc["weighted", "f1"]),
        "macro_f1": float(sc.loc["macro", "f1"]),
        "accuracy": float(sc.loc["accuracy", "f1"]),
    }


def table2(results: pd.DataFrame, amount: str = "exp2") -> pd.DataFrame:
    """The analog of Gomez-Canon et al. 2021, Table 2 (and of 2020, Table II).

    Rows: ``model`` ("DAE-Classifier", "SCAE-Feat. Ext.", ...) x ``head`` (Q, A, V; the DAE
    classifiers have the quadrant head only, as 2020's Table II); columns: ``<setting> P``,
    ``<setting> R``, ``<setting> F`` for the settings in Table 2's order, each the mean over runs
    of the weighted precision, recall and F-score on the music's test clips, and
    ``<setting> R 95% CI (clips)``: the Wilson interval of R over the test clips (the weighted
    recall is the accuracy; :func:`mer_ser.metrics.wilson_interval`) and how many clips it rests
    on. Settings in Table 2's order (the papers' English and Mandarin; other languages after).
    The controls trained on music only (the baseline CNN, the random frozen SCAE encoder
    with the head, and the functionals + linear-model controls of
    :meth:`~mer_ser.experiments.gomez_canon.LanguageTransfer.linear_baseline`, last) have one
    column block per music set instead.
    """
    sel = results[(results["protocol"] == "gomezcanon2021")]
    columns = {"precision": "P", "recall": "R", "f1": "F"}
    sel = sel[sel["metric"].isin(list(columns))]
    head = {"quadrant": "Q", "arousal": "A", "valence": "V"}
    rows = []
    linear = [(e, "linear") for e in dict.fromkeys(sel.loc[sel["mode"] == "linear", "encoder"])]
    present = set(sel["setting"])
    musics = _ordered({music_language(s) for s in present}, MUSIC)
    speech = {s.split("2")[0] for s in present if not s.startswith("music_")}
    speech_order = _ordered(speech - {"mix"}, SPEECH) + ["mix"] * ("mix" in speech)
    settings = [f"{s}2{m}" for m in musics for s in speech_order if f"{s}2{m}" in present]
    for enc, mode in (*TABLE2_ROWS, *linear):
        g = sel[(sel["encoder"] == enc) & (sel["mode"] == mode)]
        control = (enc, mode) in CONTROLS or mode == "linear"
        if not control:
            g = g[g["amount"] == amount]
        if g.empty:
            continue
        name = CONTROLS.get((enc, mode), enc) if control else ENCODER_TYPES[enc].label(mode)
        means = g.groupby(["head", "setting", "metric"])["value"].mean()
        clips = g.groupby("setting")["clips"].first()
        order = [f"music_{m}" for m in musics] if control else settings
        for h, short in head.items():
            if h not in set(g["head"]):
                continue
            row = {"model": name, "head": short}
            for s in order:
                for met, col in columns.items():
                    row[f"{s} {col}"] = means.get((h, s, met), np.nan)
                row[f"{s} R 95% CI (clips)"] = _interval(means.get((h, s, "recall")), clips.get(s))
            rows.append(row)
    return pd.DataFrame(rows)


def _interval(accuracy, clips) -> str:
    """``"0.36-0.70 (30)"``: the Wilson interval of an accuracy and its clips; empty if unknown."""
    if accuracy is None or clips is None or np.isnan(accuracy):
        return ""
    lo, hi = metrics.wilson_interval(accuracy, clips)
    return f"{lo:.2f}-{hi:.2f} ({int(clips)})"
