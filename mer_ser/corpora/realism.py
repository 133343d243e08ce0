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

References (:data:`REFERENCES`, by domain and kind of labels), each for the kind of corpus a
built-in part mirrors:

* continuous music (full pieces rated in the lab, as in Coutinho & Schuller 2017): within-clip
  motion implied by their Table 6 (M2M, :func:`implied_gold_sd`); rater disagreement between
  Schubert (2013, Psychology of Music 41(3): 350-371; average sd 12.2 % of the scale range for
  continuous ratings of full pieces) and DEAM 2013's crowd raters; DEAM 2013's A-V correlation
  of clip means (Aljanaki, Yang & Soleymani 2017, PLoS ONE 12(3): e0173392; 744 songs, traces at
  2 Hz scaled to [-1, 1]);
* continuous speech (RECOLA): within-clip motion implied by Table 6 (S2S);
* static music: DEAM 2013's share of clips near the midpoint; balanced quadrants, as in 4Q
  (Panda, Malheiro & Paiva 2018: 225 clips per quadrant);
* static speech: the MSP-Podcast quadrant shares of Rodningen 2022, Table 4.1.

DEAM's 45-s pop excerpts move far less within a clip (median sd 0.025 / 0.026) than full pieces;
that value is kept in :data:`DEAM_EXCERPT_MOTION` for comparison with excerpt corpora.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus
from mer_ser.corpora.synthetic.config import MSP_QUADRANTS

#: Half a point of a 1-9 scale on the normalised [-1, 1] scale.
NEAR_CENTRE = 0.125
#: Coutinho & Schuller 2017, Table 6: (RMSE, r, CCC) of the intra-domain models, per domain and
#: dimension (M2M on the music pieces, S2S on RECOLA).
TABLE6_INTRA = {
    ("music", "arousal"): (0.194, 0.517, 0.317),
    ("music", "valence"): (0.265, 0.175, 0.090),
    ("speech", "arousal"): (0.105, 0.821, 0.749),
    ("speech", "valence"): (0.109, 0.448, 0.332),
}
#: Median within-clip sd of DEAM 2013's gold traces (45-s excerpts): arousal, valence.
DEAM_EXCERPT_MOTION = (0.025, 0.026)


def implied_gold_sd(rmse: float, r: float, ccc: float) -> tuple[float, float]:
    """The range of gold-trace standard deviations consistent with a reported RMSE, r and CCC.

    With prediction sd ``p``, gold sd ``g``, covariance ``c = r p g`` and mean offset ``d``:
    ``MSE = p^2 + g^2 - 2c + d^2`` and ``CCC = 2c / (p^2 + g^2 + d^2)`` (Lin 1989), so
    ``p^2 + g^2 + d^2 = MSE / (1 - CCC) = S`` and ``p g = CCC MSE / (2 r (1 - CCC)) = P``.
    Since ``d^2 >= 0``, ``g^2 + P^2 / g^2 <= S``, which bounds ``g``. Applied to averages over
    sequences it describes a typical sequence, an approximation.

    Returns:
        ``(low, high)``: the smallest and largest gold sd the three values allow.
    """
    mse = rmse**2
    s = mse / (1.0 - ccc)
    p = ccc * mse / (2.0 * r * (1.0 - ccc))
    root = np.sqrt(max(s * s - 4.0 * p * p, 0.0))
    return float(np.sqrt((s - root) / 2.0)), float(np.sqrt((s + root) / 2.0))


_MOTION = "within-clip sd of the gold trace (median over clips)"
_RATERS = "sd across raters (mean over clips and times)"
_CLIP_R = "correlation of clip-mean arousal and valence"
_NEAR = "share of clips within half a point of the midpoint"
_SHARE = "quadrant share"
_STATIC_R = "correlation of clip arousal and valence (static)"
_DEAM = "DEAM 2013 (Aljanaki et al. 2017)"
_T6 = "implied by Coutinho & Schuller 2017, Table 6 ({})"
#: (domain, labels, statistic, dimension) -> (low, high, source) of real corpora.
REFERENCES = {
    **{
        (dom, "continuous", _MOTION, dim): (*implied_gold_sd(*v), _T6.format(cond))
        for (dom, dim), v in TABLE6_INTRA.items()
        for cond in [{"music": "M2M", "speech": "S2S"}[dom]]
    },
    ("music", "continuous", _RATERS, "arousal"): (0.244, 0.33, "Schubert 2013 (lab); " + _DEAM),
    ("music", "continuous", _RATERS, "valence"): (0.244, 0.30, "Schubert 2013 (lab); " + _DEAM),
    ("music", "continuous", _CLIP_R, "both"): (0.57, 0.57, _DEAM),
    ("music", "static", _NEAR, "arousal"): (0.20, 0.24, _DEAM),
    ("music", "static", _NEAR, "valence"): (0.20, 0.24, _DEAM),
    **{("music", "static", _SHARE, q): (0.25, 0.25, "4Q (Panda et al. 2018)") for q in QUADRANTS},
    **{
        ("speech", "static", _SHARE, q): (v, v, "MSP-Podcast (Rodningen 2022, Table 4.1)")
        for q, v in zip(QUADRANTS, MSP_QUADRANTS, strict=True)
    },
}


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
        correlation); each beside the :data:`REFERENCES` entry of its domain and kind of labels,
        where one exists.
    """
    rows = []

    def add(name, kind, stat, dim, value):
        domains = set(corpora[name].clips["domain"])
        ref = REFERENCES.get((domains.pop(), kind, stat, dim)) if len(domains) == 1 else None
        lo, hi, src = ref or (np.nan, np.nan, "")
        rows.append(
            {"corpus": name, "labels": kind, "statistic": stat, "dimension": dim, "value": value,
             "reference_low": lo, "reference_high": hi, "source": src}
        )  # fmt: skip

    for name, c in corpora.items():
        if c.gold is not None:
            for d, v in within_clip_sd(c.gold).items():
                add(name, "continuous", _MOTION, d, v)
            if c.ratings is not None and c.ratings["rater"].nunique() > 1:
                for d, v in between_rater_sd(c.ratings).items():
                    add(name, "continuous", _RATERS, d, v)
            add(name, "continuous", _CLIP_R, "both", clip_mean_correlation(c.gold))
        s = c.static
        if s is not None and {"arousal", "valence"} <= set(s.columns):
            st = s.dropna(subset=["arousal", "valence"])
            for d in ("arousal", "valence"):
                add(name, "static", _NEAR, d, float((st[d].abs() <= NEAR_CENTRE).mean()))
            if "quadrant" in st:
                share = st["quadrant"].value_counts(normalize=True)
                for q in QUADRANTS:
                    add(name, "static", _SHARE, q, float(share.get(q, 0.0)))
            r = np.corrcoef(st["arousal"], st["valence"])[0, 1] if len(st) > 2 else np.nan
            add(name, "static", _STATIC_R, "both", float(r))
    return pd.DataFrame(rows)
