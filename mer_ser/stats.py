"""Statistics of the transfer experiments, at the level the data were sampled: test clips.

Results live in long format, one row per value: ``condition, source, target, dimension, metric,
trial, instance, value`` (e.g. condition ``S2M``, target ``music``, dimension ``arousal``,
metric ``ccc``, trial 0-9, instance = test clip). Every condition of a target is scored on the
same clips, so clips are the unit of every interval and test here; trials (random
initialisations) are averaged per clip first.

* :func:`aggregate_trials`: the paper's aggregate (mean over the ``k`` best trials; Coutinho &
  Schuller 2017 average the 5 best of 10) next to the honest one (all trials, mean and sd over
  trials) and a clip-bootstrap 95 % BCa interval of the all-trial mean, with the numbers of clips
  and trials it rests on.
* :func:`compare_conditions`: paired t-tests between conditions on the same clips (Student's
  unpaired test, the paper's, on request), Cohen's d, a paired BCa interval of the mean
  difference, and Holm's and Bonferroni's corrections over the whole family tested.
* :func:`wilson_interval`: the score interval of an accuracy over ``n`` test clips.
* :func:`paired_permutation_test`: two classifiers on the same clips (sign-flip test of the mean
  per-clip difference), for the quadrant tracks.

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
    wilson_interval,
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
    "clip_tests",
    "cohens_d",
    "compare_conditions",
    "confusion",
    "holm",
    "paired_permutation_test",
    "sweep_summary",
    "table6",
    "table6_tests",
    "weighted_random_accuracy",
    "wilson_interval",
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
#: Bootstrap resamples of every interval (scipy's default).
N_BOOT = 9999


def bonferroni(p, m: int):
    """Bonferroni-corrected p-values: ``min(1, p * m)``."""
    return np.minimum(1.0, np.asarray(p, dtype=np.float64) * m)


def holm(p):
    """Holm's step-down adjusted p-values over the family ``p`` (Holm 1979).

    The ``i``-th smallest p-value (``i = 1..m``) is multiplied by ``m - i + 1``; adjusted values
    are made non-decreasing in that order and capped at 1.
    """
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(1.0, stepped)
    return out


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
    values, *, n_boot: int = N_BOOT, level: float = 0.95, seed: int = 0, method: str = "BCa"
) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean over instances (``scipy.stats.bootstrap``).

    Args:
        values: one value per instance (clip), ``(n,)``.
        n_boot: resamples.
        level: confidence level.
        seed: resampling seed (the interval is deterministic).
        method: ``"BCa"`` (bias-corrected and accelerated, the default) or ``"percentile"``.

    Returns:
        ``(low, high)``; both equal the value when every instance has the same value, NaN for
        fewer than two instances.
    """
    x = np.asarray(values, np.float64)
    if len(x) < 2:
        return float("nan"), float("nan")
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    res = _st.bootstrap(
        (x,),
        np.mean,
        n_resamples=n_boot,
        confidence_level=level,
        method=method,
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def clip_bootstrap(
    statistic, n: int, *, n_boot: int = N_BOOT, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of any statistic of ``n`` clips, resampling clips.

    For scores that are not a mean of per-clip values (unweighted average recall, macro F1, a
    CCC pooled over clips): each resample draws ``n`` clips with replacement and recomputes
    ``statistic`` on them, every prediction of a drawn clip (all its seeds, folds) kept
    together, so the clip is the unit of the interval.

    Args:
        statistic: ``f(rows) -> float`` of an index array into the clips.
        n: number of clips.
        n_boot: resamples.
        level: confidence level.
        seed: resampling seed (the interval is deterministic).

    Returns:
        ``(low, high)``; NaN for fewer than two clips.
    """
    if n < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(n_boot)], np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def paired_permutation_test(a, b, *, n_resamples: int = N_BOOT, seed: int = 0) -> float:
    """Two-sided p-value of the mean per-clip difference ``a - b`` under random sign flips.

    ``a`` and ``b`` score the same clips (e.g. each clip's share of runs classified correctly
    by two settings). Exact when ``2^n <= n_resamples`` (``scipy.stats.permutation_test``); NaN
    for fewer than two clips.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2:
        return float("nan")
    if np.all(a == b):
        return 1.0
    res = _st.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        rng=np.random.default_rng(seed),
    )
    return float(res.pvalue)


def clip_tests(
    outcomes: pd.DataFrame, pairs, *, n_resamples: int = N_BOOT, seed: int = 0
) -> pd.DataFrame:
    """Classifiers compared on the test clips they share (the quadrant tracks' tests).

    Args:
        outcomes: one row per system and clip: ``system, clip, correct`` (the share of the
            system's runs that classify the clip correctly), e.g.
            :meth:`~mer_ser.experiments.rodningen2022.QuadrantTrack.clip_outcomes`.
        pairs: ``(system a, system b)`` to compare, e.g. the track's ``comparisons()``.
        n_resamples: permutations.
        seed: their seed.

    Returns:
        One row per pair: ``a, b, clips, accuracy_a, accuracy_b, diff`` (mean over clips),
        ``diff_ci_low, diff_ci_high`` (Student's t 95 % interval of the mean per-clip
        difference; the bootstrap is too narrow for a few dozen clips scored in steps of one
        run), ``p`` (paired sign-flip
        permutation test, :func:`paired_permutation_test`), ``p_holm`` and ``p_bonferroni``
        over every pair.
    """
    by = {name: g.set_index("clip")["correct"] for name, g in outcomes.groupby("system")}
    repeated = [name for name, v in by.items() if v.index.has_duplicates]
    if repeated:
        raise ValueError(f"systems {repeated[:3]} list a clip twice; give each run its own name")
    rows = []
    for a, b in pairs:
        common = by[a].index.intersection(by[b].index)
        va, vb = by[a].loc[common].to_numpy(), by[b].loc[common].to_numpy()
        d = va - vb
        if len(d) > 1 and d.std() > 0:
            ci = _st.ttest_1samp(d, 0.0).confidence_interval(confidence_level=0.95)
            lo, hi = float(ci.low), float(ci.high)
        else:
            lo = hi = float(d.mean()) if len(d) else float("nan")
        rows.append(
            {
                "a": a,
                "b": b,
                "clips": len(common),
                "accuracy_a": va.mean(),
                "accuracy_b": vb.mean(),
                "diff": (va - vb).mean(),
                "diff_ci_low": lo,
                "diff_ci_high": hi,
                "p": paired_permutation_test(va, vb, n_resamples=n_resamples, seed=seed),
            }
        )
    return _corrected(pd.DataFrame(rows))


def _per_clip(results: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each clip's value averaged over trials (each clip counts once)."""
    return results.groupby([*keys, "instance"], sort=True)["value"].mean().reset_index()


def aggregate_trials(
    results: pd.DataFrame, *, best: int = 5, n_boot: int = N_BOOT, seed: int = 0
) -> pd.DataFrame:
    """Per condition/target/dimension/metric: the paper's and the honest aggregate, with a CI.

    Args:
        results: long-format results (:data:`RESULT_COLUMNS`).
        best: ``k`` of the paper's aggregate (Coutinho & Schuller 2017: the 5 best of 10 trials).
        n_boot: bootstrap resamples.
        seed: bootstrap seed.

    Returns:
        One row per group: ``clips`` and ``trials`` (what it rests on); ``best_k``, the mean
        of the ``k`` best trials by their test score (best by the metric's direction; optimistic
        by construction, the paper's aggregate) with ``k`` recorded; ``all_mean`` and ``all_sd``
        over every trial (each trial's score its mean over clips); ``ci_low``, ``ci_high``: the
        95 % BCa interval of ``all_mean`` from resampling clips (each clip's value averaged over
        trials).
    """
    keys = ["condition", "target", "dimension", "metric"]
    per_trial = results.groupby([*keys, "trial"], sort=True)["value"].mean().reset_index()
    per_clip = _per_clip(results, keys).groupby(keys, sort=True)["value"]
    rows = []
    for key, g in per_trial.groupby(keys, sort=True):
        v = g["value"].to_numpy()
        higher = HIGHER_IS_BETTER.get(key[3], True)
        top = np.sort(v)[::-1][:best] if higher else np.sort(v)[:best]
        clips = per_clip.get_group(key).to_numpy()
        lo, hi = bootstrap_ci(clips, n_boot=n_boot, seed=seed)
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "clips": len(clips),
                "trials": len(v),
                "k": len(top),
                "best_k": top.mean(),
                "all_mean": v.mean(),
                "all_sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return pd.DataFrame(rows)


def compare_conditions(
    results: pd.DataFrame,
    *,
    conditions: list[str] | None = None,
    paired: bool = True,
) -> pd.DataFrame:
    """Tests between every pair of conditions, per target, dimension and metric.

    Values are averaged over trials per clip first, so each clip counts once. Conditions of a
    target are scored on the same clips, so the default is the paired t-test on the clips both
    have; the interval of the mean difference is the test's own (Student's t), so it excludes 0
    exactly when the uncorrected ``p`` is below 0.05.

    Args:
        results: long-format results (:data:`RESULT_COLUMNS`).
        conditions: which conditions to compare (default: all present per target).
        paired: paired t-test on common clips (default); ``False``: Student's independent
            t-test, the paper's.

    Returns:
        One row per pair: ``target, dimension, metric, a, b, test, clips, mean_a, mean_b, t, df,
        p, p_holm, p_bonferroni, cohens_d, diff_ci_low, diff_ci_high``. ``p_holm`` and
        ``p_bonferroni`` correct over every row returned (the family tested).
    """
    keys = ["target", "dimension", "metric"]
    inst = _per_clip(results, ["condition", *keys])
    rows = []
    for key, g in inst.groupby(keys, sort=True):
        present = set(g["condition"])
        conds = sorted(present & set(conditions)) if conditions else sorted(present)
        for a, b in combinations(conds, 2):
            va = g[g["condition"] == a].set_index("instance")["value"]
            vb = g[g["condition"] == b].set_index("instance")["value"]
            if paired:
                common = va.index.intersection(vb.index)
                va, vb = va.loc[common], vb.loc[common]
                res = _st.ttest_rel(va, vb)
            else:
                res = _st.ttest_ind(va, vb, equal_var=True)
            t, p, df = res.statistic, res.pvalue, res.df
            ci = res.confidence_interval(confidence_level=0.95)
            lo, hi = ci.low, ci.high
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "a": a,
                    "b": b,
                    "test": "paired t" if paired else "Student t",
                    "clips": len(va) if paired else len(va) + len(vb),
                    "mean_a": va.mean(),
                    "mean_b": vb.mean(),
                    "t": float(t),
                    "df": int(df),
                    "p": float(p),
                    "cohens_d": cohens_d(va, vb, paired=paired),
                    "diff_ci_low": float(lo),
                    "diff_ci_high": float(hi),
                }
            )
    return _corrected(pd.DataFrame(rows))


def _corrected(tests: pd.DataFrame) -> pd.DataFrame:
    """``p_holm`` and ``p_bonferroni`` over every row, placed after ``p``."""
    if tests.empty:
        return tests
    at = list(tests.columns).index("p") + 1
    tests.insert(at, "p_holm", holm(tests["p"]))
    tests.insert(at + 1, "p_bonferroni", bonferroni(tests["p"], len(tests)))
    return tests


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
        best: trials in the paper's best-trials aggregate (``k``).

    Returns:
        ``(agg, table)``: :func:`aggregate_trials` with each condition's target ``domain``, and
        the table: chosen hyper-parameters, the test clips and trials each column rests on, then
        ``best_k (all-trial mean [95 % clip-bootstrap CI])`` per dimension and metric, one column
        per condition in :data:`TABLE6_ORDER`.
    """
    paper = long[long["normalisation"] == "paper"]
    agg = aggregate_trials(paper, best=best)
    agg["domain"] = agg["condition"].map({c: v[2] for c, v in CONDITIONS.items()})
    order = list(TABLE6_ORDER)
    cols = zip(agg["best_k"], agg["all_mean"], agg["ci_low"], agg["ci_high"], strict=True)
    text = [f"{b:.3f} ({m:.3f} [{lo:.3f}, {hi:.3f}])" for b, m, lo, hi in cols]
    table = agg.assign(text=text).pivot(
        index=["dimension", "metric"], columns="condition", values="text"
    )[order]
    n = agg.groupby("condition")[["clips", "trials", "k"]].first()
    sizes = pd.DataFrame(
        [[f"{n.loc[c, 'clips']} × {n.loc[c, 'trials']} (best {n.loc[c, 'k']})" for c in order]],
        columns=order,
        index=pd.MultiIndex.from_tuples(
            [("n", "test clips × trials")], names=["dimension", "metric"]
        ),
    )
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
    return agg, pd.concat([hyper.map(_hyper_text), sizes, table])


def table6_tests(long: pd.DataFrame, *, paired: bool = True) -> pd.DataFrame:
    """Table 6's tests: the three conditions of each target domain compared pairwise.

    Music targets (M2M, S2M, S2M_TL) and speech targets (S2S, M2S, M2S_TL) separately, under
    each normalisation in ``long``: ``paper`` (all six conditions) and ``domain`` (the
    cross-domain conditions retrained with per-domain inputs, against the intra-domain ones,
    which it does not change). Paired t-tests on the target clips (:func:`compare_conditions`);
    Holm's and Bonferroni's corrections over every test in the returned table.

    Returns:
        :func:`compare_conditions`' columns with ``normalisation`` first.
    """
    intra = long[long["condition"].isin(("M2M", "S2S")) & (long["normalisation"] == "paper")]
    tests = []
    for norm in [n for n in ("paper", "domain") if n in set(long["normalisation"])]:
        cross = long[~long["condition"].isin(("M2M", "S2S")) & (long["normalisation"] == norm)]
        rows = pd.concat([intra, cross])
        for group in (TABLE6_ORDER[:3], TABLE6_ORDER[3:]):
            t = compare_conditions(rows[rows["condition"].isin(group)], paired=paired)
            tests.append(t.drop(columns=["p_holm", "p_bonferroni"]).assign(normalisation=norm))
    out = pd.concat(tests, ignore_index=True)
    out = out[["normalisation", *[c for c in out.columns if c != "normalisation"]]]
    return _corrected(out)


def sweep_summary(sweep: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """CCC of the shared-code sweep per level, condition and dimension, with its n and interval.

    Returns:
        ``shared_code, condition, dimension, clips, trials, mean, sd`` (over trials, each
        trial's mean over clips) and ``ci_low, ci_high`` (95 % BCa over clips, each clip
        averaged over trials; :func:`aggregate_trials`).
    """
    ccc = sweep[sweep["metric"] == "ccc"]
    rows = []
    for level, g in ccc.groupby("shared_code", sort=True):
        agg = aggregate_trials(g, best=1, n_boot=n_boot, seed=seed)
        rows.append(agg.assign(shared_code=level))
    out = pd.concat(rows, ignore_index=True).rename(columns={"all_mean": "mean", "all_sd": "sd"})
    cols = ["shared_code", "condition", "dimension", "clips", "trials", "mean", "sd", "ci_low",
            "ci_high"]  # fmt: skip
    return out[cols]
