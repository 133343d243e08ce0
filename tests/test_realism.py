"""The label-difficulty statistics of mer_ser.corpora.realism against numpy and definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer_ser.corpora.realism import (
    NEAR_CENTRE,
    REFERENCES,
    between_rater_sd,
    clip_mean_correlation,
    within_clip_sd,
)


def _traces(rng, clips=5, times=20, raters=3):
    rows = []
    for c in range(clips):
        base = rng.normal(0, 0.3, 2)
        for r in range(raters):
            for t in range(times):
                a, v = base + rng.normal(0, 0.1, 2)
                rows.append({"clip_id": f"c{c}", "rater": f"r{r}", "time": t / 2,
                             "arousal": a, "valence": v})  # fmt: skip
    return pd.DataFrame(rows)


def test_within_clip_motion_is_the_median_of_each_clips_sd(rng):
    ratings = _traces(rng)
    gold = ratings.groupby(["clip_id", "time"], as_index=False)[["arousal", "valence"]].mean()
    got = within_clip_sd(gold)
    for dim in ("arousal", "valence"):
        ref = np.median([g[dim].to_numpy().std() for _, g in gold.groupby("clip_id")])
        assert got[dim] == pytest.approx(ref)


def test_rater_disagreement_is_the_mean_sd_across_raters_at_each_time(rng):
    ratings = _traces(rng)
    got = between_rater_sd(ratings)
    cube = ratings.sort_values(["clip_id", "time", "rater"])["arousal"].to_numpy().reshape(5, 20, 3)
    assert got["arousal"] == pytest.approx(cube.std(axis=2).mean())


def test_clip_mean_correlation_is_pearsons_r_of_the_clip_means(rng):
    ratings = _traces(rng, clips=12)
    means = ratings.groupby("clip_id")[["arousal", "valence"]].mean()
    ref = np.corrcoef(means["arousal"], means["valence"])[0, 1]
    assert clip_mean_correlation(ratings) == pytest.approx(ref)
    assert np.isnan(clip_mean_correlation(ratings[ratings["clip_id"].isin(["c0", "c1"])]))


def test_half_a_point_of_a_nine_point_scale_and_the_references_are_consistent():
    assert NEAR_CENTRE == pytest.approx(0.5 / 4)  # 1..9 -> [-1, 1]: 4 points per unit
    shares = [REFERENCES[("quadrant share", q)][0] for q in ("Q1", "Q2", "Q3", "Q4")]
    assert sum(shares) == pytest.approx(1.0, abs=0.02)  # rounded shares of one corpus
    assert all(lo <= hi for lo, hi, _ in REFERENCES.values())
