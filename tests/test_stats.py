"""Statistics of the transfer experiments against scipy and the definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mer_ser.stats import aggregate_trials, bonferroni, bootstrap_ci, cohens_d, compare_conditions


def _results(rng, conditions=("M2M", "S2M", "S2M_TL"), shift=(0.5, 0.2, 0.3), n=12, trials=10):
    rows = []
    for cond, mu in zip(conditions, shift, strict=True):
        inst_effect = rng.normal(0, 0.1, n)
        for t in range(trials):
            for i in range(n):
                for metric in ("ccc", "rmse"):
                    v = mu + inst_effect[i] + rng.normal(0, 0.05)
                    rows.append(
                        {
                            "condition": cond,
                            "source": cond[0],
                            "target": "music",
                            "dimension": "arousal",
                            "metric": metric,
                            "trial": t,
                            "instance": f"p{i:02d}",
                            "value": v if metric == "ccc" else 1 - v,
                        }
                    )
    return pd.DataFrame(rows)


def test_bonferroni_multiplies_and_caps():
    np.testing.assert_allclose(bonferroni([0.01, 0.2, 0.5], 3), [0.03, 0.6, 1.0])


def test_cohens_d_follows_the_definitions(rng):
    a, b = rng.normal(1, 1, 20), rng.normal(0, 2, 30)
    pooled = np.sqrt((19 * a.var(ddof=1) + 29 * b.var(ddof=1)) / 48)
    assert cohens_d(a, b) == pytest.approx((a.mean() - b.mean()) / pooled)
    c = a + rng.normal(0.3, 0.1, 20)
    assert cohens_d(c, a, paired=True) == pytest.approx((c - a).mean() / (c - a).std(ddof=1))


def test_t_tests_match_scipy_with_the_papers_bonferroni_factor(rng):
    res = _results(rng)
    out = compare_conditions(res, n_boot=500).set_index(["metric", "a", "b"])
    inst = res.groupby(["condition", "metric", "instance"])["value"].mean()
    a, b = inst.loc["M2M", "ccc"], inst.loc["S2M", "ccc"]
    t, p = stats.ttest_ind(a, b)
    row = out.loc[("ccc", "M2M", "S2M")]
    assert row["t"] == pytest.approx(t) and row["p"] == pytest.approx(p)
    assert row["p_bonferroni"] == pytest.approx(min(1.0, 3 * p))
    assert row["df"] == 22 and row["diff_ci_low"] < a.mean() - b.mean() < row["diff_ci_high"]
    assert len(out) == 2 * 3  # two metrics x three pairs


def test_paired_tests_use_common_instances(rng):
    res = _results(rng)
    out = compare_conditions(res, paired=True, n_boot=500).set_index(["metric", "a", "b"])
    inst = res.groupby(["condition", "metric", "instance"])["value"].mean()
    _, p = stats.ttest_rel(inst.loc["S2M", "ccc"], inst.loc["S2M_TL", "ccc"])
    assert out.loc[("ccc", "S2M", "S2M_TL"), "p"] == pytest.approx(p)
    assert out.loc[("ccc", "S2M", "S2M_TL"), "df"] == 11


def test_aggregates_report_the_papers_best_five_and_all_trials(rng):
    res = _results(rng)
    agg = aggregate_trials(res).set_index(["condition", "metric"])
    per_trial = res[(res.condition == "M2M")].groupby(["metric", "trial"])["value"].mean()
    ccc, rmse = per_trial.loc["ccc"].to_numpy(), per_trial.loc["rmse"].to_numpy()
    assert agg.loc[("M2M", "ccc"), "paper_best5"] == pytest.approx(np.sort(ccc)[-5:].mean())
    assert agg.loc[("M2M", "rmse"), "paper_best5"] == pytest.approx(np.sort(rmse)[:5].mean())
    assert agg.loc[("M2M", "ccc"), "all_mean"] == pytest.approx(ccc.mean())
    assert agg.loc[("M2M", "ccc"), "paper_best5"] >= agg.loc[("M2M", "ccc"), "all_mean"]


def test_bootstrap_interval_is_deterministic_and_shrinks_with_n(rng):
    x = rng.normal(0.4, 0.2, 400)
    lo, hi = bootstrap_ci(x, seed=1)
    assert (lo, hi) == bootstrap_ci(x, seed=1)
    assert lo < x.mean() < hi
    lo_s, hi_s = bootstrap_ci(x[:25], seed=1)
    assert hi - lo < hi_s - lo_s
