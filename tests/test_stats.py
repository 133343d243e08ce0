"""Statistics of the transfer experiments against scipy and the definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mer_ser.stats import (
    aggregate_trials,
    bonferroni,
    bootstrap_ci,
    clip_tests,
    cohens_d,
    compare_conditions,
    holm,
    paired_permutation_test,
    wilson_interval,
)


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


def test_holm_steps_down_and_stays_monotone():
    # p sorted: 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> max so far 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    p = np.random.default_rng(0).uniform(0, 0.2, 30)
    assert (holm(p) <= bonferroni(p, 30) + 1e-15).all() and (holm(p) >= p).all()


def test_conditions_on_the_same_clips_get_paired_tests_by_default(rng):
    res = _results(rng)
    out = compare_conditions(res).set_index(["metric", "a", "b"])
    inst = res.groupby(["condition", "metric", "instance"])["value"].mean()
    a, b = inst.loc["S2M", "ccc"], inst.loc["S2M_TL", "ccc"]
    t, p = stats.ttest_rel(a, b)
    row = out.loc[("ccc", "S2M", "S2M_TL")]
    assert row["test"] == "paired t" and row["clips"] == 12 and row["df"] == 11
    assert row["t"] == pytest.approx(t) and row["p"] == pytest.approx(p)
    assert row["cohens_d"] == pytest.approx((a - b).mean() / (a - b).std(ddof=1))
    ci = stats.ttest_rel(a, b).confidence_interval()  # the test's own interval
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0) == (row["p"] < 0.05)
    # the family is the whole table: 2 metrics x 3 pairs
    assert len(out) == 6
    np.testing.assert_allclose(out["p_holm"], holm(out["p"]))
    np.testing.assert_allclose(out["p_bonferroni"], np.minimum(1, 6 * out["p"]))


def test_the_papers_unpaired_t_test_is_still_available(rng):
    res = _results(rng)
    out = compare_conditions(res, paired=False).set_index(["metric", "a", "b"])
    inst = res.groupby(["condition", "metric", "instance"])["value"].mean()
    a, b = inst.loc["M2M", "ccc"], inst.loc["S2M", "ccc"]
    t, p = stats.ttest_ind(a, b)
    row = out.loc[("ccc", "M2M", "S2M")]
    assert row["test"] == "Student t" and row["df"] == 22
    assert row["t"] == pytest.approx(t) and row["p"] == pytest.approx(p)
    assert row["diff_ci_low"] < a.mean() - b.mean() < row["diff_ci_high"]


def test_pairing_removes_the_clip_effect_both_conditions_share(rng):
    """Clips differ far more than conditions: only the paired test sees a consistent shift."""
    clip = rng.normal(0, 0.3, 16)
    rows = [
        {"condition": c, "target": "music", "dimension": "arousal", "metric": "ccc",
         "trial": 0, "instance": f"c{i}", "value": clip[i] + shift + rng.normal(0, 0.01)}
        for c, shift in (("M2M", 0.05), ("S2M", 0.0))
        for i in range(16)
    ]  # fmt: skip
    res = pd.DataFrame(rows)
    paired = compare_conditions(res)["p"].item()
    unpaired = compare_conditions(res, paired=False)["p"].item()
    assert paired < 1e-6 < 0.5 < unpaired


def test_aggregates_report_the_papers_best_k_all_trials_and_a_clip_interval(rng):
    res = _results(rng)
    agg = aggregate_trials(res, n_boot=999).set_index(["condition", "metric"])
    per_trial = res[(res.condition == "M2M")].groupby(["metric", "trial"])["value"].mean()
    ccc, rmse = per_trial.loc["ccc"].to_numpy(), per_trial.loc["rmse"].to_numpy()
    row = agg.loc[("M2M", "ccc")]
    assert row["k"] == 5 and row["clips"] == 12 and row["trials"] == 10
    assert row["best_k"] == pytest.approx(np.sort(ccc)[-5:].mean())
    assert agg.loc[("M2M", "rmse"), "best_k"] == pytest.approx(np.sort(rmse)[:5].mean())
    assert row["all_mean"] == pytest.approx(ccc.mean())
    assert row["best_k"] >= row["all_mean"]
    clips = res[(res.condition == "M2M") & (res.metric == "ccc")].groupby("instance")["value"]
    assert (row["ci_low"], row["ci_high"]) == bootstrap_ci(clips.mean().to_numpy(), n_boot=999)
    assert row["ci_low"] < row["all_mean"] < row["ci_high"]
    assert (
        aggregate_trials(res, best=3).set_index(["condition", "metric"]).loc[("M2M", "ccc"), "k"]
        == 3
    )


def test_the_clip_interval_has_the_width_of_the_normal_theory_interval(rng):
    x = rng.normal(0.4, 0.2, 2000)
    lo, hi = bootstrap_ci(x, n_boot=2000)
    assert hi - lo == pytest.approx(2 * 1.96 * x.std(ddof=1) / np.sqrt(len(x)), rel=0.1)
    assert bootstrap_ci(np.full(5, 0.3)) == (0.3, 0.3)  # no spread: no interval


def test_wilson_intervals_match_scipy():
    lo, hi = wilson_interval(16 / 30, 30)
    ref = stats.binomtest(16, 30).proportion_ci(method="wilson")
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert (round(float(lo), 2), round(float(hi), 2)) == (0.36, 0.70)
    lo, hi = wilson_interval(np.array([0.0, 1.0]), np.array([10, 10]))
    ref0 = stats.binomtest(0, 10).proportion_ci(method="wilson")
    assert (
        lo[0] == pytest.approx(0)
        and hi[0] == pytest.approx(ref0.high)
        and hi[1] == pytest.approx(1)
    )


def test_paired_permutation_test_is_exact_for_few_clips(rng):
    a, b = rng.uniform(0, 1, 8), rng.uniform(0, 1, 8)
    d = a - b
    signs = np.array(np.meshgrid(*[[-1, 1]] * 8)).reshape(8, -1).T  # all 256 sign patterns
    null = (signs * d).mean(axis=1)
    exact = np.mean(np.abs(null) >= abs(d.mean()) - 1e-12)
    assert paired_permutation_test(a, b) == pytest.approx(exact)
    assert paired_permutation_test(a, a) == 1.0


def test_bootstrap_interval_is_deterministic_and_shrinks_with_n(rng):
    x = rng.normal(0.4, 0.2, 400)
    lo, hi = bootstrap_ci(x, seed=1)
    assert (lo, hi) == bootstrap_ci(x, seed=1)
    assert lo < x.mean() < hi
    lo_s, hi_s = bootstrap_ci(x[:25], seed=1)
    assert hi - lo < hi_s - lo_s


def test_the_sweep_summary_gives_each_level_its_clips_trials_and_clip_interval(rng):
    from mer_ser.stats import sweep_summary

    parts = []
    for level in (0.0, 1.0):
        r = _results(rng, conditions=("S2M", "M2S"), shift=(level, 0.1), n=8, trials=3)
        parts.append(r.assign(shared_code=level))
    sweep = pd.concat(parts, ignore_index=True)
    out = sweep_summary(sweep, n_boot=999).set_index(["shared_code", "condition"])
    row = out.loc[(1.0, "S2M")]
    ccc = sweep[(sweep.shared_code == 1.0) & (sweep.condition == "S2M") & (sweep.metric == "ccc")]
    per_trial = ccc.groupby("trial")["value"].mean()
    assert (row["clips"], row["trials"]) == (8, 3)
    assert row["mean"] == pytest.approx(per_trial.mean())
    assert row["sd"] == pytest.approx(per_trial.std(ddof=1))
    clips = ccc.groupby("instance")["value"].mean().to_numpy()
    assert (row["ci_low"], row["ci_high"]) == bootstrap_ci(clips, n_boot=999)


def test_one_clip_gives_no_test_and_no_interval():
    assert np.isnan(paired_permutation_test([1.0], [0.0]))
    out = clip_tests(
        pd.DataFrame({"system": ["a", "b"], "clip": ["c0", "c0"], "correct": [1.0, 0.0]}),
        [("a", "b")],
    )
    assert out["clips"].item() == 1 and np.isnan(out["p"].item())
