"""Statistics of the transfer experiments (Coutinho & Schuller 2017, "Performance measures").

Results live in long format, one row per value: ``condition, source, target, dimension, metric,
trial, instance, value`` (e.g. condition ``S2M``, target ``music``, dimension ``arousal``,
metric ``ccc``, trial 0-9, instance = test piece).

* :func:`aggregate_trials`: the paper's aggregate (mean over the 5 best of 10 trials) next to the
  honest one (all trials, mean and standard deviation), per condition/target/dimension/metric.
* :func:`compare_conditions`: Student's t-tests between conditions on the per-instance values,
  with Bonferroni correction (the paper multiplies p by 3, the number of comparisons per target
  domain), Cohen's d and a bootstrap confidence interval of the mean difference.

The classification scores of the quadrant track are in :mod:`mer_ser.metrics` (re-exported here).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as _st

from mer_ser.experiments.coutinho2017 import CONDITIONS
from mer_ser.metrics import (
    HIGH_AROUSAL,
    POSITIVE_VALENCE,
    av_breakdown,
    classification_scores,
    confusion,
    weighted_random_accuracy,
)

__all__ = [
    "HIGHER_IS_BETTER",
    "HIGH_AROUSAL",
    "POSITIVE_VALENCE",
    "RESULT_COLUMNS",
    "TABLE6_ORDER",
    "aggregate_trials",
    "av_breakdown",
    "bonferroni",
    "bootstrap_ci",
    "classification_scores",
    "cohens_d",
    "compare_conditions",
    "confusion",
    "sweep_summary",
    "table6",
    "weighted_random_accuracy",
]

RESULT_COLUMNS = (
    "condition",
    "source",
    "target",
    "dimension",
    "metric",
    "trial",
    "instance",
    "value",
)
#: Metrics where larger is better (RMSE is the exception).
HIGHER_IS_BETTER = {"ccc": True, "r": True, "rmse": False}


def bonferroni(p, m: int):
    """Bonferroni-corrected p-values: ``min(1, p * m)``."""
    return np.minimum(1.0, np.asarray(p, dtype=np.float64) * m)


def cohens_d(a, b, *, paired: bool = False) -> float:
    """Cohen's d of ``a - b``.

    Independent samples: mean difference over the pooled standard deviation
    ``sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / (n_a + n_b - 2))``. Paired samples: ``d_z``, the
    mean of the differences over their standard deviation.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if paired:
        d = a - b
        sd = d.std(ddof=1)
        return float(d.mean() / sd) if sd > 0 else 0.0
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else 0.0


def bootstrap_ci(
    values, *, stat=np.mean, n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``stat`` over instances (deterministic)."""
    x = np.asarray(values, np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    boots = np.apply_along_axis(stat, 1, x[idx]) if stat is not np.mean else x[idx].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def aggregate_trials(results: pd.DataFrame, *, best: int = 5) -> pd.DataFrame:
    """Per condition/target/dimension/metric: the paper's and the honest aggregate.

    Each trial's score is its mean over test instances. ``paper_best5`` is the mean of the
    ``best`` best trials (best by the metric's direction); ``all_mean`` and ``all_sd`` use every
    trial. The paper reports the former, which is optimistic by construction.
    """
    keys = ["condition", "target", "dimension", "metric"]
    per_trial = results.groupby([*keys, "trial"], sort=True)["value"].mean().reset_index()
    rows = []
    for key, g in per_trial.groupby(keys, sort=True):
        v = g["value"].to_numpy()
        higher = HIGHER_IS_BETTER.get(key[3], True)
        top = np.sort(v)[::-1][:best] if higher else np.sort(v)[:best]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "trials": len(v),
                "paper_best5": top.mean(),
                "all_mean": v.mean(),
                "all_sd": v.std(ddof=1) if len(v) > 1 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def compare_conditions(
    results: pd.DataFrame,
    *,
    conditions: list[str] | None = None,
    n_comparisons: int | None = 3,
    paired: bool = False,
    n_boot: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Student's t-tests between every pair of conditions, per target, dimension and metric.

    Values are averaged over trials per test instance first, so each instance counts once.

    Args:
        results: long-format results (:data:`RESULT_COLUMNS`).
        conditions: which conditions to compare (default: all present per target).
        n_comparisons: Bonferroni factor (the paper: 3 per target domain); ``None`` uses the
            number of pairs tested within each target/dimension/metric.
        paired: paired t-test on instances common to both conditions (same target instances);
            the default independent test is the paper's Student's t-test.
        n_boot: bootstrap resamples for the confidence interval of the mean difference.
        seed: bootstrap seed.

    Returns:
        One row per pair: ``target, dimension, metric, a, b, mean_a, mean_b, t, df, p,
        p_bonferroni, cohens_d, diff_ci_low, diff_ci_high``.
    """
    keys = ["target", "dimension", "metric"]
    inst = (
        results.groupby(["condition", *keys, "instance"], sort=True)["value"].mean().reset_index()
    )
    rows = []
    for key, g in inst.groupby(keys, sort=True):
        conds = (
            sorted(set(g["condition"]) & set(conditions))
            if conditions
            else sorted(set(g["condition"]))
        )
        pairs = list(combinations(conds, 2))
        m = n_comparisons if n_comparisons is not None else len(pairs)
        for a, b in pairs:
            va = g[g["condition"] == a].set_index("instance")["value"]
            vb = g[g["condition"] == b].set_index("instance")["value"]
            if paired:
                common = va.index.intersection(vb.index)
                va, vb = va.loc[common], vb.loc[common]
                t, p = _st.ttest_rel(va, vb)
                df = len(common) - 1
                diff = (va - vb).to_numpy()
            else:
                t, p = _st.ttest_ind(va, vb, equal_var=True)
                df = len(va) + len(vb) - 2
                rng = np.random.default_rng(seed)
                ia = rng.integers(0, len(va), (n_boot, len(va)))
                ib = rng.integers(0, len(vb), (n_boot, len(vb)))
                diff = va.to_numpy()[ia].mean(1) - vb.to_numpy()[ib].mean(1)
            lo, hi = (
                bootstrap_ci(diff, n_boot=n_boot, seed=seed)
                if paired
                else tuple(np.quantile(diff, [0.025, 0.975]))
            )
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "a": a,
                    "b": b,
                    "mean_a": va.mean(),
                    "mean_b": vb.mean(),
                    "t": float(t),
                    "df": df,
                    "p": float(p),
                    "p_bonferroni": float(bonferroni(p, m)),
                    "cohens_d": cohens_d(va, vb, paired=paired),
                    "diff_ci_low": float(lo),
                    "diff_ci_high": float(hi),
                }
            )
    return pd.DataFrame(rows)


#: Table 6's column order (Coutinho & Schuller 2017): music targets, then speech targets.
TABLE6_ORDER = ("M2M", "S2M", "S2M_TL", "S2S", "M2S", "M2S_TL")


def _hyper_text(v) -> str:
    return "–" if v is None or v != v else f"{v:g}"


def table6(long: pd.DataFrame, runs, *, best: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Table 6 analog of Coutinho & Schuller 2017 from the six conditions' results.

    Args:
        long: :func:`~mer_ser.experiments.results_frame` of the runs (rows of the ``paper``
            normalisation are used).
        runs: the conditions' :class:`~mer_ser.experiments.ConditionResult` (their chosen
            hyper-parameters head the table).
        best: trials in the paper's best-trials aggregate.

    Returns:
        ``(agg, table)``: :func:`aggregate_trials` with each condition's target ``domain``, and
        the table: chosen hyper-parameters, then ``best (all-trial mean ± sd)`` per dimension and
        metric, one column per condition in :data:`TABLE6_ORDER`.
    """
    paper = long[long["normalisation"] == "paper"]
    agg = aggregate_trials(paper, best=best)
    agg["domain"] = agg["condition"].map({c: v[2] for c, v in CONDITIONS.items()})
    order = list(TABLE6_ORDER)
    text = [
        f"{b:.3f} ({m:.3f} ± {s:.3f})"
        for b, m, s in zip(agg["paper_best5"], agg["all_mean"], agg["all_sd"], strict=False)
    ]
    table = agg.assign(text=text).pivot(
        index=["dimension", "metric"], columns="condition", values="text"
    )[order]
    names = {"h1": "first layer size", "h2": "second layer size", "lr": "learning rate",
             "noise": "Gaussian noise σ", "dae_sigma": "DAE σ"}  # fmt: skip
    hyper = pd.DataFrame(
        {
            r.condition: {names[k]: r.chosen[k] for k in names}
            for r in runs
            if r.normalisation == "paper"
        }
    )[order]
    hyper.index = pd.MultiIndex.from_product(
        [["hyper-parameters"], hyper.index], names=["dimension", "metric"]
    )
    return agg, pd.concat([hyper.map(_hyper_text), table])


def table6_tests(long: pd.DataFrame) -> pd.DataFrame:
    """Table 6's t-tests: the three conditions of each target domain compared pairwise.

    Music targets (M2M, S2M, S2M_TL) and speech targets (S2S, M2S, M2S_TL) separately, each with
    Bonferroni over its 3 comparisons, on the ``paper`` normalisation's rows of ``long``
    (:func:`compare_conditions`).
    """
    paper = long[long["normalisation"] == "paper"]
    groups = (TABLE6_ORDER[:3], TABLE6_ORDER[3:])
    tests = [compare_conditions(paper[paper["condition"].isin(g)], n_comparisons=3) for g in groups]
    return pd.concat(tests, ignore_index=True)


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """CCC of the shared-code sweep: mean and sd over trials (each trial's mean over clips).

    Returns:
        ``shared_code, condition, dimension, mean, sd``.
    """
    ccc = sweep[sweep["metric"] == "ccc"]
    keys = ["shared_code", "condition", "dimension"]
    per_trial = ccc.groupby([*keys, "trial"])["value"].mean().reset_index()
    summary = per_trial.groupby(keys)["value"].agg(["mean", "std"]).reset_index()
    return summary.rename(columns={"std": "sd"})
