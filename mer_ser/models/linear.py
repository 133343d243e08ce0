"""Linear baselines on functionals: linear SVM, logistic regression, ridge regression.

The first comparison a reviewer asks of a deep model: openSMILE functionals (eGeMAPS,
ComParE) with a linear model, as in the ComParE challenge baselines (Schuller et al. 2016:
ComParE_2016 functionals, a linear SVM whose complexity ``C`` is chosen on the development
partition) and the eGeMAPS paper's (Eyben et al. 2016: eGeMAPS functionals, a linear SVM).

scikit-learn fits the models; a fitted model is kept as plain arrays (:class:`Linear`), so it is
stored in a model bundle and applied with numpy, without scikit-learn or pickles. Inputs are
standardised by the caller (which statistics is an experiment's choice: the source's or the
target domain's).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Linear model kinds: classifiers, then the regressor.
KINDS = ("linear_svm", "logistic", "ridge")
#: Each kind's name in tables.
NAMES = {"linear_svm": "SVM", "logistic": "logistic", "ridge": "ridge"}
#: Regularisation grid searched on the validation partition (``C`` for the classifiers, the ridge
#: penalty ``alpha = 1 / (2 C)``), the ComParE baselines' 1e-5 .. 1 widened to 10.
GRID = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


@dataclass(frozen=True)
class Linear:
    """A fitted linear model as arrays: ``scores = x @ coef.T + intercept``.

    Attributes:
        kind: one of :data:`KINDS`.
        coef: ``(k, d)``: one row per class (a binary model as two rows ``-w/2, w/2``, so the
            arg-max is the decision and the softmax is the logistic sigmoid), one row per
            target for ridge.
        intercept: ``(k,)``.
        classes: the class labels of the rows (classifiers; empty for ridge).
        c: the regularisation chosen (``C``; ridge: ``alpha = 1 / (2 C)``).
    """

    kind: str
    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple = ()
    c: float = 1.0

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Decision scores (classifiers) or predictions (ridge), ``(N, k)`` float64."""
        return np.asarray(x, dtype=np.float64) @ self.coef.T + self.intercept

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class labels ``(N,)`` (classifiers) or predictions ``(N, k)`` (ridge)."""
        s = self.scores(x)
        if self.kind == "ridge":
            return s
        return np.asarray(self.classes)[s.argmax(axis=1)]

    def over(self, labels) -> Linear:
        """The classifier with one row per label of ``labels``, in that order.

        A label it was not trained on (a class absent from its training partition) gets a zero
        row and a ``-inf`` intercept: it is never decided and has probability 0, while the
        decisions and probabilities of the others are unchanged.

        Raises:
            ValueError: a ridge model, or ``labels`` lacks a class the model has.
        """
        if self.kind == "ridge":
            raise ValueError("a ridge model has no classes")
        missing = sorted(set(self.classes) - set(labels))
        if missing:
            raise ValueError(f"labels {list(labels)} lack the model's classes {missing}")
        rows = {c: i for i, c in enumerate(self.classes)}
        coef = np.zeros((len(labels), self.coef.shape[1]))
        intercept = np.full(len(labels), -np.inf)
        for j, c in enumerate(labels):
            if c in rows:
                coef[j], intercept[j] = self.coef[rows[c]], self.intercept[rows[c]]
        return Linear(self.kind, coef, intercept, tuple(labels), self.c)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, k)`` of logistic regression (softmax of the scores).

        Raises:
            ValueError: the model is not a logistic regression (an SVM has no probabilities).
        """
        if self.kind != "logistic":
            raise ValueError(f"a {self.kind} model gives no probabilities; use 'logistic'")
        s = self.scores(x)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def fit(kind: str, x, y, *, c: float = 1.0, balanced: bool = True, seed: int = 0) -> Linear:
    """Fit one linear model.

    Args:
        kind: ``"linear_svm"`` (scikit-learn's ``LinearSVC``, squared hinge, one-vs-rest),
            ``"logistic"`` (``LogisticRegression``, multinomial, L-BFGS) or ``"ridge"``
            (``Ridge``; ``y`` may have several columns).
        x: standardised features ``(N, d)``.
        y: class labels ``(N,)``, or regression targets ``(N,)`` / ``(N, k)``.
        c: inverse regularisation strength (ridge: ``alpha = 1 / (2 c)``).
        balanced: classifiers weight classes by inverse frequency (scikit-learn's
            ``"balanced"``), the usual choice when the score is the unweighted average recall.
        seed: the SVM's coordinate-descent order.

    Raises:
        ValueError: unknown kind, non-finite features, or fewer than two classes.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.svm import LinearSVC

    if kind not in KINDS:
        raise ValueError(f"model kind must be one of {KINDS}, got {kind!r}")
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("features hold NaN or infinite values; the extractor failed on a clip")
    weight = "balanced" if balanced else None
    if kind == "ridge":
        y = np.asarray(y, dtype=np.float64)
        m = Ridge(alpha=1.0 / (2.0 * c)).fit(x, y)
        coef = np.atleast_2d(m.coef_)
        return Linear(kind, coef, np.atleast_1d(m.intercept_).astype(np.float64), (), c)
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        raise ValueError(f"a classifier needs two classes or more, got {np.unique(y).tolist()}")
    if kind == "linear_svm":
        m = LinearSVC(C=c, class_weight=weight, max_iter=20000, random_state=seed)
    else:
        m = LogisticRegression(C=c, class_weight=weight, max_iter=5000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        m.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        warnings.warn(
            f"{kind} (C={c:g}) did not converge in {m.max_iter} iterations; its scores are "
            "those of the last iterate",
            RuntimeWarning,
            stacklevel=2,
        )
    coef, intercept = np.asarray(m.coef_, np.float64), np.asarray(m.intercept_, np.float64)
    if coef.shape[0] == 1:  # binary: one weight vector for the second class
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-1, 1]) * intercept / 2
    return Linear(kind, coef, intercept, tuple(m.classes_.tolist()), c)


def select(
    kind: str, x_train, y_train, x_val, y_val, *, grid=GRID, balanced: bool = True, seed: int = 0
) -> tuple[Linear, dict[float, float]]:
    """Fit at each regularisation of ``grid`` and keep the best on the validation partition.

    The score is the unweighted average recall (classifiers) or the mean concordance
    correlation coefficient over targets (ridge); ties go to the stronger regularisation.

    Returns:
        ``(model, scores)``: the chosen model and the validation score at each ``C``.
    """
    y_val = np.asarray(y_val)
    best, scores = None, {}
    for c in grid:
        m = fit(kind, x_train, y_train, c=c, balanced=balanced, seed=seed)
        if kind == "ridge":
            p = m.predict(x_val)
            yv = y_val.reshape(len(y_val), -1)
            s = float(np.mean([_ccc(yv[:, j], p[:, j]) for j in range(yv.shape[1])]))
        else:
            s = unweighted_average_recall(y_val, m.predict(x_val))
        scores[c] = s
        if best is None or s > scores[best.c] + 1e-12:
            best = m
    return best, scores


def unweighted_average_recall(y_true, y_pred) -> float:
    """Mean recall over the classes present in ``y_true`` (UAR, the ComParE measure)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([(y_pred[y_true == k] == k).mean() for k in np.unique(y_true)]))


def _ccc(y, p) -> float:
    """Concordance correlation coefficient (Lin 1989) in float64; ``-inf`` if undefined."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    denom = y.var() + p.var() + (y.mean() - p.mean()) ** 2
    return float(2 * np.mean((y - y.mean()) * (p - p.mean())) / denom) if denom > 0 else -np.inf
