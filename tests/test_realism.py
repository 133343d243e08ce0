"""The label-difficulty statistics of mer_ser.corpora.realism against numpy and definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer_ser.corpora.model import Corpus
from mer_ser.corpora.realism import (
    NEAR_CENTRE,
    REFERENCES,
    TABLE6_INTRA,
    between_rater_sd,
    clip_mean_correlation,
    implied_gold_sd,
    realism_table,
    within_clip_sd,
)
from mer_ser.corpora.synthetic import build as synth
from mer_ser.corpora.synthetic.config import LABEL_MODELS, SyntheticConfig
from mer_ser.papers import COUTINHO_TABLE6


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
    for dom in ("music", "speech"):
        shares = [
            REFERENCES[(dom, "static", "quadrant share", q)][0] for q in ("Q1", "Q2", "Q3", "Q4")
        ]
        assert sum(shares) == pytest.approx(1.0)
    assert all(lo <= hi for lo, hi, _ in REFERENCES.values())


def test_the_table6_values_are_the_papers():
    for (dom, dim), (rmse, r, ccc) in TABLE6_INTRA.items():
        paper = COUTINHO_TABLE6[{"music": "M2M", "speech": "S2S"}[dom]][dim]
        assert (rmse, r, ccc) == (paper["rmse"], paper["r"], paper["ccc"])


@pytest.mark.parametrize("values", list(TABLE6_INTRA.values()))
def test_implied_gold_sd_bounds_every_prediction_that_reproduces_the_metrics(values):
    rmse, r, ccc = values
    lo, hi = implied_gold_sd(rmse, r, ccc)
    assert 0 < lo < hi
    # Inside the range: a prediction sd and a mean offset reproduce RMSE, r and CCC exactly.
    s, p = rmse**2 / (1 - ccc), ccc * rmse**2 / (2 * r * (1 - ccc))
    for g in np.linspace(lo, hi, 7)[1:-1]:
        sp = p / g
        d2 = s - sp**2 - g**2
        assert d2 >= 0
        cov = r * sp * g
        assert np.sqrt(sp**2 + g**2 - 2 * cov + d2) == pytest.approx(rmse)
        assert 2 * cov / (sp**2 + g**2 + d2) == pytest.approx(ccc)
    # Outside it no prediction does: the offset would need a negative square.
    for g in (0.97 * lo, 1.03 * hi):
        assert s - (p / g) ** 2 - g**2 < 0


def _labels_only(labels: str, n_continuous: int = 160, n_static: int = 600) -> dict[str, Corpus]:
    """The labelled parts of a large built-in corpus, labels only (no audio is rendered)."""
    import dataclasses

    cfg = SyntheticConfig(profile="default", labels=labels)
    out = {}
    for spec in cfg.resolved_parts():
        if spec.kind == "unlabelled":
            continue
        n = n_continuous if spec.kind == "continuous" else n_static
        spec = dataclasses.replace(spec, n_clips=n)
        plans = synth.plan_part(spec, cfg)
        clips = pd.DataFrame({
            "clip_id": [p.clip_id for p in plans], "domain": spec.domain,
            "language": [p.language for p in plans], "audio_path": "", "sr": 16000,
            "duration": [p.duration for p in plans], "group": [p.group for p in plans],
            "split": "",
        }).set_index("clip_id")  # fmt: skip
        out[spec.name] = Corpus(spec.name, ".", clips, **synth._labels_for(spec, plans))
    return out


def test_the_realistic_label_model_lands_inside_every_reference_range():
    table = realism_table(_labels_only("realistic"))
    ref = table.dropna(subset=["reference_low"])
    # Every referenced statistic of every labelled part is covered ...
    assert set(ref["corpus"]) == {"speech_continuous", "music_continuous", "speech_static",
                                  "music_static"}  # fmt: skip
    assert len(ref) == len(REFERENCES)
    # ... and lies in the published range, up to the sampling error of a finite corpus.
    tol = {"correlation of clip-mean arousal and valence": 0.1, "quadrant share": 0.05}
    for _, row in ref.iterrows():
        t = tol.get(row["statistic"], 0.015)
        assert row["reference_low"] - t <= row["value"] <= row["reference_high"] + t, row.to_dict()


def test_the_easy_label_model_is_easier_than_real_data():
    easy = realism_table(_labels_only("easy", 40, 200)).set_index(
        ["corpus", "statistic", "dimension"]
    )
    real = realism_table(_labels_only("realistic", 40, 200)).set_index(
        ["corpus", "statistic", "dimension"]
    )
    motion = ("music_continuous", "within-clip sd of the gold trace (median over clips)", "arousal")
    raters = ("music_continuous", "sd across raters (mean over clips and times)", "arousal")
    near = ("music_static", "share of clips within half a point of the midpoint", "valence")
    assert easy.loc[motion, "value"] > easy.loc[motion, "reference_high"]  # moves too much
    assert easy.loc[raters, "value"] < easy.loc[raters, "reference_low"] < real.loc[raters, "value"]
    assert easy.loc[near, "value"] < 0.02 < 0.15 < real.loc[near, "value"]


def test_label_model_defaults_cite_their_ranges():
    lm = LABEL_MODELS["realistic"]
    assert (
        lm.music_av_r
        == REFERENCES[
            ("music", "continuous", "correlation of clip-mean arousal and valence", "both")
        ][0]
    )
    assert lm.static_rater_sd == pytest.approx(1.65 / 4, abs=0.005)  # DEAM: 1.65 points on 1-9
    assert lm.near_centre == NEAR_CENTRE
    assert lm.music_raters >= 35 and lm.speech_raters == 6  # MP pieces: 35-52; RECOLA: 6
    with pytest.raises(ValueError, match="unknown label model"):
        SyntheticConfig(labels="hard")
