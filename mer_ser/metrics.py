"""Classification scores of the quadrant track, in float64 numpy.

* :func:`confusion`, :func:`classification_scores`: confusion matrix and precision, recall and F1
  per class, macro-averaged and support-weighted (Gomez-Canon et al. report "macro-weighted"
  scores per head; both averages are given and each table says which it shows).
* :func:`av_breakdown`: a quadrant confusion matrix read as arousal and valence decisions
  (Rodningen 2022 reads transfer of each dimension from Figs. 5.1-5.2).
* :func:`weighted_random_accuracy`: the thesis' experiment 0, a classifier guessing with the
  training set's class shares.
* :func:`wilson_interval`: the 95 % score interval of an accuracy over ``n`` test clips.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of items of class ``i`` predicted as ``j``, shape ``(K, K)``."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    bad = (y_true < 0) | (y_true >= n_classes) | (y_pred < 0) | (y_pred >= n_classes)
    if bad.any():
        raise ValueError(f"class indices must lie in 0..{n_classes - 1}")
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (y_true, y_pred), 1)
    return out


def classification_scores(cm: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, plus ``macro`` and ``weighted`` rows.

    A class never predicted has precision 0 (and F1 0), as scikit-learn's ``zero_division=0``.

    Args:
        cm: confusion matrix ``(K, K)`` (rows true, columns predicted).

    Returns:
        Index ``0..K-1, "macro", "weighted", "accuracy"``; columns ``precision, recall, f1,
        support`` (the accuracy row holds the accuracy in every score column).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    pred = cm.sum(axis=0)
    true = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(pred > 0, tp / pred, 0.0)
        rec = np.where(true > 0, tp / true, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    per = pd.DataFrame({"precision": prec, "recall": rec, "f1": f1, "support": true})
    w = true / max(true.sum(), 1.0)
    per.loc["macro"] = [prec.mean(), rec.mean(), f1.mean(), true.sum()]
    per.loc["weighted"] = [(prec * w).sum(), (rec * w).sum(), (f1 * w).sum(), true.sum()]
    acc = tp.sum() / max(cm.sum(), 1.0)
    per.loc["accuracy"] = [acc, acc, acc, true.sum()]
    return per


#: Quadrants (Q1..Q4 = class 0..3) on each axis: Q1, Q2 high arousal; Q1, Q4 positive valence.
HIGH_AROUSAL = (0, 1)
POSITIVE_VALENCE = (0, 3)


def av_breakdown(cm: np.ndarray) -> dict[str, np.ndarray]:
    """A 4 x 4 quadrant confusion matrix as 2 x 2 arousal and valence confusion matrices.

    Row/column 0 is *low* (arousal) or *negative* (valence), 1 is high/positive; an item counts as
    correct on an axis when the predicted quadrant lies on the same side of it.

    Returns:
        ``{"arousal": (2, 2), "valence": (2, 2)}`` count matrices.
    """
    cm = np.asarray(cm)
    if cm.shape != (4, 4):
        raise ValueError(f"need a 4 x 4 quadrant confusion matrix, got {cm.shape}")
    out = {}
    for name, pos in (("arousal", HIGH_AROUSAL), ("valence", POSITIVE_VALENCE)):
        side = np.isin(np.arange(4), pos).astype(int)
        m = np.zeros((2, 2), dtype=cm.dtype)
        for i in range(4):
            for j in range(4):
                m[side[i], side[j]] += cm[i, j]
        out[name] = m
    return out


def weighted_random_accuracy(train_labels, test_labels, n_classes: int) -> float:
    """Expected accuracy of guessing each class with its training share (Rodningen's exp. 0).

    ``sum_c p_train(c) * p_test(c)``: the chance that an independent guess drawn from the
    training distribution matches the test label.
    """
    p = np.bincount(np.asarray(train_labels, int), minlength=n_classes) / len(train_labels)
    q = np.bincount(np.asarray(test_labels, int), minlength=n_classes) / len(test_labels)
    return float((p * q).sum())


def wilson_interval(accuracy, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval of a proportion (Wilson 1927), e.g. an accuracy over ``n`` clips.

    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with ``z`` the normal quantile
    of ``(1 + level) / 2``. Works on arrays; ``n = 0`` gives NaN.
    """
    p = np.asarray(accuracy, np.float64)
    n = np.asarray(n, np.float64)
    z = _st.norm.ppf((1 + level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half
