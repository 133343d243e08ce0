"""The papers-beside-this-run tables: what counts as reproduced, diverged or not testable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer_ser import papers, stats


def _long(rng, means, n=16, trials=3):
    """Long results with a per-clip effect shared by every condition (clips are the unit)."""
    clip = rng.normal(0, 0.05, n)
    rows = []
    for (cond, norm), mu in means.items():
        for t in range(trials):
            for i in range(n):
                v = mu + clip[i] + rng.normal(0, 0.01)
                for metric, value in (("ccc", v), ("r", v), ("rmse", 1 - v)):
                    for dim in ("arousal", "valence"):
                        rows.append({"condition": cond, "source": "s", "target": cond[-1],
                                     "dimension": dim, "metric": metric, "trial": t,
                                     "instance": f"c{i}", "value": value,
                                     "normalisation": norm})  # fmt: skip
    return pd.DataFrame(rows)


def test_values_inside_the_interval_are_reproduced_and_outside_diverged(rng):
    means = {("M2M", "paper"): 0.317, ("S2M", "paper"): 0.6, ("S2M_TL", "paper"): 0.6,
             ("S2S", "paper"): 0.75, ("M2S", "paper"): 0.1, ("M2S_TL", "paper"): 0.1}  # fmt: skip
    long = _long(rng, means)
    long.loc[long["condition"].isin(["M2M", "S2M", "S2M_TL"]), "target"] = "music"
    long.loc[~long["condition"].isin(["M2M", "S2M", "S2M_TL"]), "target"] = "speech"
    table = papers.coutinho2017(long, stats.table6_tests(long), best=2).set_index(
        ["claim", "normalisation"]
    )
    assert table.loc[("M2M arousal ccc", "paper"), "status"] == "reproduced"  # 0.317 built in
    row = table.loc[("M2S arousal ccc", "paper")]  # paper 0.545, here about 0.1
    assert row["status"] == "diverged" and "above" in row["why"] and row["n"] == 16
    assert row["ci_low"] < row["this_run"] < row["ci_high"] < 0.545
    # S2M is far better than M2M here: "M2M = S2M" diverges, "S2M > M2M (valence)" holds
    assert table.loc[("M2M = S2M (arousal ccc)", "paper"), "status"] == "diverged"
    assert table.loc[("S2M > M2M (valence ccc)", "paper"), "status"] == "reproduced"
    # RMSE: lower is better, so M2M (higher RMSE here) is not better than S2M
    rmse = table.loc[("M2M > S2M (arousal rmse)", "paper")]
    assert rmse["status"] == "diverged" and rmse["this_run"] < 0 and "S2M better" in rmse["why"]
    # equal conditions: "M2S = M2S_TL" holds
    assert table.loc[("M2S = M2S_TL (arousal ccc)", "paper"), "status"] == "reproduced"


def test_rodningen_rows_from_table_5_1_and_the_paired_tests():
    t51 = pd.DataFrame([
        {"experiment": "1a", "model": "DCNN", "setting": "SER2MER", "normalisation": "source",
         "test_clips": 30, "test_mean": 0.533, "test_ci_low": 0.361, "test_ci_high": 0.698,
         "validation_clips": 19, "validation_mean": 0.9, "validation_ci_low": 0.69,
         "validation_ci_high": 0.97},
        {"experiment": "1b", "model": "DCNN", "setting": "MER2MER", "normalisation": "source",
         "test_clips": 30, "test_mean": 0.45, "test_ci_low": 0.28, "test_ci_high": 0.62},
    ])  # fmt: skip
    tests = pd.DataFrame([{"a": "DCNN SER2MER (source)", "b": "DCNN MER2MER", "clips": 30,
                           "diff": 0.083, "diff_ci_low": -0.1, "diff_ci_high": 0.27, "p": 0.4,
                           "p_holm": 0.4}])  # fmt: skip
    table = papers.rodningen2022(t51, tests).set_index("claim")
    assert table.loc["DCNN SER2MER accuracy", "status"] == "diverged"  # 0.3317 below 0.361
    assert table.loc["DCNN MER2MER accuracy", "status"] == "reproduced"  # 0.431 inside
    assert table.loc["DCNN SER2SER accuracy", "status"] == "diverged"  # 0.415 below 0.69
    assert table.loc["ADCRNN MER2MER accuracy", "status"] == "not testable here"
    claim = table.loc["DCNN MER2MER > SER2MER"]
    assert claim["status"] == "diverged" and claim["this_run"] == pytest.approx(-0.083)
    assert (claim["ci_low"], claim["ci_high"]) == pytest.approx((-0.27, 0.1))


def test_gomez_canon_recall_with_wilson_intervals_and_the_lyrics_caveat():
    rows = [{"encoder": "SCAE", "mode": "feat_ext", "setting": "man2man", "head": "quadrant",
             "metric": "recall", "run": r, "value": v, "amount": "exp2", "clips": 30}
            for r, v in enumerate((0.5, 0.6))]  # fmt: skip
    table = papers.gomezcanon2021(pd.DataFrame(rows), lyrics=False).set_index("claim")
    row = table.loc["SCAE-Feat. Ext. man2man"]
    lo, hi = stats.wilson_interval(0.55, 30)
    assert (row["this_run"], row["ci_low"], row["ci_high"]) == pytest.approx((0.55, lo, hi))
    assert row["status"] == "reproduced" and "instrumental" in row["why"]
    assert table.loc["CPC-Full eng2eng", "status"] == "not testable here"
    with_lyrics = papers.gomezcanon2021(pd.DataFrame(rows), lyrics=True).set_index("claim")
    assert "instrumental" not in with_lyrics.loc["SCAE-Feat. Ext. man2man", "why"]
    assert np.isnan(table.loc["CPC-Full eng2eng", "this_run"])
