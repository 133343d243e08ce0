"""How hard a corpus' labels are: the statistics that make real annotated data difficult.

A generated corpus is only a fair test bed when its labels move, disagree and spread the way
real annotations do: if gold traces swing ten times more within a clip than real ones, or raters
agree twice as well, every model looks better on it than it would on real data. The statistics
here are computed the same way for any corpus (built-in or a local copy of a real one), on the
normalised [-1, 1] scale, and set beside reference values of a real corpus.

Continuous labels: the median over clips of the gold trace's standard deviation within a clip
(how much the emotion moves); the mean over clips and time points of the standard deviation
across raters (how much they disagree); the correlation of clip-mean arousal and valence across
clips. Static labels: the share of clips within half a point of the 1-9 midpoint (0.125 on the
normalised scale: ambiguous clips), the quadrant shares, the correlation of arousal and valence
across clips.

References (:data:`REFERENCES`): DEAM (Aljanaki, Yang & Soleymani 2017, PLoS ONE 12(3):
e0173392), the 2013 subset's public annotations (744 songs; continuous traces at 2 Hz and static
ratings on 1-9, both scaled to [-1, 1]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus

#: Half a point of a 1-9 scale on the normalised [-1, 1] scale.
NEAR_CENTRE = 0.125
_DEAM = "DEAM 2013 (Aljanaki et al. 2017)"
#: statistic -> dimension -> (low, high) of the real corpus, and its source.
REFERENCES = {
    ("within-clip sd of the gold trace (median over clips)", "arousal"): (0.025, 0.025, _DEAM),
    ("within-clip sd of the gold trace (median over clips)", "valence"): (0.026, 0.026, _DEAM),
    ("sd across raters (mean over clips and times)", "arousal"): (0.33, 0.33, _DEAM),
    ("sd across raters (mean over clips and times)", "valence"): (0.30, 0.30, _DEAM),
    ("correlation of clip-mean arousal and valence", "both"): (0.57, 0.57, _DEAM),
    ("share of clips within half a point of the midpoint", "arousal"): (0.20, 0.24, _DEAM),
    ("share of clips within half a point of the midpoint", "valence"): (0.20, 0.24, _DEAM),
    ("quadrant share", "Q1"): (0.36, 0.36, _DEAM),
    ("quadrant share", "Q2"): (0.10, 0.10, _DEAM),
    ("quadrant share", "Q3"): (0.39, 0.39, _DEAM),
    ("quadrant share", "Q4"): (0.16, 0.16, _DEAM),
}
_STATIC_R = "correlation of clip arousal and valence (static)"
_MOTION = "within-clip sd of the gold trace (median over clips)"


def within_clip_sd(gold: pd.DataFrame) -> dict[str, float]:
    """Median over clips of each dimension's standard deviation over a clip's gold trace."""
    sd = gold.groupby("clip_id")[["arousal", "valence"]].std(ddof=0)
    return {d: float(sd[d].median()) for d in ("arousal", "valence")}


def between_rater_sd(ratings: pd.DataFrame) -> dict[str, float]:
    """Mean over clips and time points of the standard deviation across raters."""
    sd = ratings.groupby(["clip_id", "time"])[["arousal", "valence"]].std(ddof=0)
    return {d: float(sd[d].mean()) for d in ("arousal", "valence")}


def clip_mean_correlation(labels: pd.DataFrame) -> float:
    """Pearson r of clip-mean arousal and valence across clips (``labels`` has ``clip_id``)."""
    means = labels.groupby("clip_id")[["arousal", "valence"]].mean()
    if len(means) < 3:
        return float("nan")
    return float(np.corrcoef(means["arousal"], means["valence"])[0, 1])


def realism_table(corpora: dict[str, Corpus]) -> pd.DataFrame:
    """Each corpus' label statistics beside the references of a real corpus.

    Returns:
        ``corpus, labels, statistic, dimension, value, reference_low, reference_high, source``:
        one row per statistic the corpus' labels allow (continuous: trace motion, rater
        disagreement, A-V correlation; static: ambiguous share, quadrant shares, A-V
        correlation); music corpora get the references, speech corpora none (no real speech
        corpus' statistics are given here).
    """
    rows = []

    def add(name, kind, stat, dim, value):
        music = set(corpora[name].clips["domain"]) == {"music"}
        ref = REFERENCES.get((stat, dim)) if music else None  # DEAM: a reference for music
        lo, hi, src = ref or (np.nan, np.nan, "")
        rows.append(
            {"corpus": name, "labels": kind, "statistic": stat, "dimension": dim, "value": value,
             "reference_low": lo, "reference_high": hi, "source": src}
        )  # fmt: skip

    for name, c in corpora.items():
        if c.gold is not None:
            for d, v in within_clip_sd(c.gold).items():
                add(
                    name, "continuous", "within-clip sd of the gold trace (median over clips)", d, v
                )
            if c.ratings is not None and c.ratings["rater"].nunique() > 1:
                for d, v in between_rater_sd(c.ratings).items():
                    add(name, "continuous", "sd across raters (mean over clips and times)", d, v)
            add(name, "continuous", "correlation of clip-mean arousal and valence", "both",
                clip_mean_correlation(c.gold))  # fmt: skip
        s = c.static
        if s is not None and {"arousal", "valence"} <= set(s.columns):
            st = s.dropna(subset=["arousal", "valence"])
            for d in ("arousal", "valence"):
                add(name, "static", "share of clips within half a point of the midpoint", d,
                    float((st[d].abs() <= NEAR_CENTRE).mean()))  # fmt: skip
            if "quadrant" in st:
                share = st["quadrant"].value_counts(normalize=True)
                for q in QUADRANTS:
                    add(name, "static", "quadrant share", q, float(share.get(q, 0.0)))
            r = np.corrcoef(st["arousal"], st["valence"])[0, 1] if len(st) > 2 else np.nan
            add(name, "static", _STATIC_R, "both", float(r))
    return pd.DataFrame(rows)
