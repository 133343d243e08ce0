"""Descriptive tables of corpora: sizes, durations, quadrant balance, rater agreement, AV points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser.corpora import labels as _labels
from mer_ser.corpora.model import Corpus


def corpus_summary(corpora: dict[str, Corpus]) -> pd.DataFrame:
    """One row per corpus: its size, labels, quadrant balance and rater agreement.

    Columns: kind, domain(s), languages, clips, groups, hours, clip length range, label rate,
    raters, quadrant shares (static corpora) and mean Cronbach's alpha over clips (corpora with
    per-rater traces).
    """
    rows = []
    for name, c in corpora.items():
        d = c.clips["duration"]
        row = {
            "corpus": name,
            "kind": c.kind,
            "domain": "/".join(sorted(set(c.clips["domain"]))),
            "languages": "/".join(sorted(set(c.clips["language"]))),
            "clips": len(c),
            "groups": c.clips["group"].nunique(),
            "hours": d.sum() / 3600,
            "clip_s_min": d.min(),
            "clip_s_max": d.max(),
            "label_rate_hz": c.meta.get("label_rate", 0.0) if c.gold is not None else np.nan,
            "raters": c.ratings["rater"].nunique() if c.ratings is not None else np.nan,
        }
        if c.static is not None:
            share = c.static["quadrant"].value_counts(normalize=True)
            for q in _labels.QUADRANTS:
                row[f"share_{q}"] = float(share.get(q, 0.0))
        if c.ratings is not None:
            alpha = _labels.agreement_table(c.ratings)
            row["alpha_arousal"] = alpha["alpha_arousal"].mean()
            row["alpha_valence"] = alpha["alpha_valence"].mean()
        rows.append(row)
    return pd.DataFrame(rows).set_index("corpus")


def av_points(corpora: dict[str, Corpus], *, rate: float = 1.0) -> pd.DataFrame:
    """Every labelled arousal/valence point of some corpora.

    Continuous gold standards give one point per ``1/rate`` s window (the Coutinho & Schuller
    Fig 6 convention); static corpora give one point per clip.

    Returns:
        DataFrame with columns ``corpus, domain, clip_id, kind, arousal, valence``.
    """
    rows = []
    hop = 1.0 / rate
    for name, c in corpora.items():
        if c.gold is not None:
            for cid in c.gold["clip_id"].unique():
                count = _labels.n_frames(float(c.clips.at[cid, "duration"]), win=2 * hop, hop=hop)
                y = c.frame_labels(cid, count, win=2 * hop, hop=hop)
                rows.append(
                    pd.DataFrame(
                        {
                            "corpus": name,
                            "domain": c.clips.at[cid, "domain"],
                            "clip_id": cid,
                            "kind": "continuous",
                            "arousal": y[:, 0],
                            "valence": y[:, 1],
                        }
                    )
                )
        if c.static is not None:
            s = c.static.dropna(subset=["arousal", "valence"])
            rows.append(
                pd.DataFrame(
                    {
                        "corpus": name,
                        "domain": c.clips.loc[s.index, "domain"].to_numpy(),
                        "clip_id": s.index,
                        "kind": "static",
                        "arousal": s["arousal"].to_numpy(),
                        "valence": s["valence"].to_numpy(),
                    }
                )
            )
    cols = ["corpus", "domain", "clip_id", "kind", "arousal", "valence"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
