"""Results of the time-continuous track (Coutinho & Schuller 2017): per trial, clip and dimension.

A :class:`ConditionResult` holds one condition's test predictions on the label scale with the
gold standard, so every score (section "Measures": CCC, Pearson r, RMSE per sequence) is
computed from predictions, at the level it was sampled: trial x test instance x dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import pandas as pd

from mer_ser import losses

#: Output dimensions, in the order of the label arrays' last axis.
DIMENSIONS = ("arousal", "valence")
METRICS = ("ccc", "r", "rmse")


def sequence_metrics(pred: np.ndarray, y: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
    """CCC, Pearson r and RMSE of each sequence and dimension (Coutinho & Schuller, "Measures").

    Args:
        pred: predictions ``(..., N, T, D)``.
        y: gold standard ``(N, T, D)``.
        m: valid frames ``(N, T)``.

    Returns:
        ``{"ccc", "r", "rmse"}`` -> arrays ``(..., N, D)``.
    """
    p = jnp.moveaxis(jnp.asarray(pred), -1, -2)  # (..., N, D, T)
    t = jnp.moveaxis(jnp.asarray(y), -1, -2)
    mask = jnp.asarray(m)[:, None, :]
    return {
        "ccc": np.asarray(losses.ccc(p, t, mask)),
        "r": np.asarray(losses.pearson(p, t, mask)),
        "rmse": np.asarray(losses.rmse(p, t, mask)),
    }


@dataclass(kw_only=True)
class ConditionResult:
    """Test-set predictions and metrics of one condition.

    Attributes:
        condition: ``M2M``, ``S2S``, ``S2M``, ``M2S``, ``S2M_TL`` or ``M2S_TL``.
        source: source corpus name.
        target: target corpus name.
        normalisation: ``"paper"`` or ``"domain"``.
        chosen: the selected hyper-parameters.
        clip_ids: the target instances.
        predictions: ``(trials, N_target, T, 2)`` on the label scale.
        gold: ``(N_target, T, 2)``; ``mask`` ``(N_target, T)``.
        dev_by_trial: development score per trial (used to pick the trial shown in plots).
        search: the development log.
        curves: the final models' loss per epoch
            (:func:`~mer_ser.experiments.jobs.learning_curves`).
    """

    condition: str
    source: str
    target: str
    normalisation: str
    chosen: dict
    clip_ids: tuple[str, ...]
    predictions: np.ndarray
    gold: np.ndarray
    mask: np.ndarray
    dev_by_trial: np.ndarray
    search: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict[str, np.ndarray]:
        """Per trial, instance and dimension: ``{"ccc", "r", "rmse"}`` -> ``(trials, N, 2)``."""
        return sequence_metrics(self.predictions, self.gold, self.mask)

    def long(self) -> pd.DataFrame:
        """Per-instance results in long format.

        Columns ``condition, source, target, dimension, metric, trial, instance, value`` plus the
        chosen hyper-parameters (``h1, h2, lr, noise, dae_sigma``) and ``normalisation``.
        """
        rows = []
        for metric, v in self.metrics().items():
            t, n, d = np.indices(v.shape)
            rows.append(
                pd.DataFrame(
                    {
                        "condition": self.condition,
                        "source": self.source,
                        "target": self.target,
                        "dimension": np.asarray(DIMENSIONS)[d.ravel()],
                        "metric": metric,
                        "trial": t.ravel(),
                        "instance": np.asarray(self.clip_ids)[n.ravel()],
                        "value": v.ravel(),
                    }
                )
            )
        out = pd.concat(rows, ignore_index=True)
        for k in ("h1", "h2", "lr", "noise", "dae_sigma"):
            out[k] = self.chosen.get(k)
        out["normalisation"] = self.normalisation
        return out

    def best_trial(self) -> int:
        """The trial with the best development score (never chosen on test data)."""
        return int(np.argmax(self.dev_by_trial))


def curves_frame(results: list[ConditionResult]) -> pd.DataFrame:
    """All conditions' learning curves: ``condition, normalisation`` and the curve columns."""
    return pd.concat(
        [r.curves.assign(condition=r.condition, normalisation=r.normalisation) for r in results],
        ignore_index=True,
    )


def results_frame(results: list[ConditionResult]) -> pd.DataFrame:
    """All conditions' long-format results (``figures/continuous_results.csv``)."""
    return pd.concat([r.long() for r in results], ignore_index=True)
