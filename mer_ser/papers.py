"""The papers' reported results beside this run's, claim by claim.

Each function returns one table per track: every number a paper reports that this package
measures too (the paper's value, this run's value with its 95 % interval and the ``n`` it rests
on) and every comparison the paper draws from them (the paper's direction, this run's paired
test). ``status`` says what became of each:

* ``reproduced``: the paper's value lies inside this run's interval (consistent with it at this
  run's ``n``; a wide interval makes that a weak statement); or the comparison goes the
  paper's way and is significant here (Holm-corrected ``p < 0.05``), or, where the paper found
  no difference, none is significant here;
* ``diverged``: the value lies outside the interval; or the comparison is significant the other
  way, not significant where the paper found a difference, or significant where it found none;
* ``not testable here``: the data cannot answer it (e.g. the language of lyrics, asked of
  instrumental music), with the reason.

``why`` gives the one line behind each status. On the built-in corpus a paper's *values* are not
expected to reappear (other data); its *comparisons* are the test of the method.

Sources: Coutinho & Schuller 2017, Table 6 and section "Results" (PLoS ONE 12(6): e0179289);
Rodningen 2022, Table 5.1 and chapter 5; Gomez-Canon et al. 2021, Table 2 and section 4.2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_ser import stats
from mer_ser.experiments.gomez_canon.protocol import MODES
from mer_ser.metrics import wilson_interval

#: Coutinho & Schuller 2017, Table 6 (mean of the 5 best of 10 trials): condition -> dimension ->
#: metric -> value. The M2S_TL column is omitted; the paper's comparisons of M2S_TL are in
#: :data:`COUTINHO_CLAIMS`.
COUTINHO_TABLE6 = {
    "M2M": {"arousal": {"rmse": 0.194, "r": 0.517, "ccc": 0.317},
            "valence": {"rmse": 0.265, "r": 0.175, "ccc": 0.090}},
    "S2M": {"arousal": {"rmse": 0.223, "r": 0.524, "ccc": 0.276},
            "valence": {"rmse": 0.260, "r": 0.256, "ccc": 0.133}},
    "S2M_TL": {"arousal": {"rmse": 0.223, "r": 0.542, "ccc": 0.269},
               "valence": {"rmse": 0.265, "r": 0.218, "ccc": 0.117}},
    "S2S": {"arousal": {"rmse": 0.105, "r": 0.821, "ccc": 0.749},
            "valence": {"rmse": 0.109, "r": 0.448, "ccc": 0.332}},
    "M2S": {"arousal": {"rmse": 0.142, "r": 0.693, "ccc": 0.545},
            "valence": {"rmse": 0.143, "r": 0.228, "ccc": 0.164}},
}  # fmt: skip

#: Coutinho & Schuller 2017, "Results" (t-tests on the test instances): ``(a, relation, b,
#: dimension, metric)``; ``">"``: a performs better (lower RMSE, higher r and CCC), ``"="``: no
#: significant difference.
COUTINHO_CLAIMS = (
    ("M2M", "=", "S2M", "arousal", "ccc"),
    ("M2M", "=", "S2M_TL", "arousal", "ccc"),
    ("M2M", ">", "S2M", "arousal", "rmse"),
    ("M2M", ">", "S2M_TL", "arousal", "rmse"),
    ("S2M", ">", "M2M", "valence", "ccc"),
    ("S2M_TL", ">", "M2M", "valence", "ccc"),
    ("S2M", ">", "S2M_TL", "valence", "ccc"),
    ("S2M", ">", "M2M", "valence", "r"),
    ("S2S", ">", "M2S", "arousal", "ccc"),
    ("S2S", ">", "M2S_TL", "arousal", "ccc"),
    ("M2S", "=", "M2S_TL", "arousal", "ccc"),
    ("S2S", ">", "M2S", "valence", "ccc"),
    ("S2S", ">", "M2S_TL", "valence", "ccc"),
    ("M2S", "=", "M2S_TL", "valence", "ccc"),
)

#: Rodningen 2022, Table 5.1: test accuracy (mean over runs) per experiment, and the SER models'
#: accuracy on the speech validation partition (SER2SER).
RODNINGEN_TABLE5_1 = {
    ("DCNN", "SER2MER", "test"): 0.3317,
    ("DCNN", "MER2MER", "test"): 0.431,
    ("ADCRNN", "SER2MER", "test"): 0.307,
    ("ADCRNN", "MER2MER", "test"): 0.492,
    ("DCNN", "SER2MER", "validation"): 0.415,
    ("ADCRNN", "SER2MER", "validation"): 0.534,
}
#: Rodningen 2022, chapter 5: MER2MER beats SER2MER with either model.
RODNINGEN_CLAIMS = (("DCNN", ">"), ("ADCRNN", ">"))

#: Gomez-Canon et al. 2021, Table 2 (Experiment 2): the quadrant head's weighted recall (the
#: accuracy) per model and setting.
GOMEZ_TABLE2_Q_RECALL = {
    "SCAE-Feat. Ext.": {"man2man": 0.55, "eng2man": 0.58, "mix2man": 0.57,
                        "eng2eng": 0.50, "man2eng": 0.53, "mix2eng": 0.53},
    "SCAE-Full": {"man2man": 0.58, "eng2man": 0.60, "mix2man": 0.58,
                  "eng2eng": 0.57, "man2eng": 0.57, "mix2eng": 0.56},
    "CPC-Feat. Ext.": {"man2man": 0.50, "eng2man": 0.49, "mix2man": 0.52,
                       "eng2eng": 0.29, "man2eng": 0.29, "mix2eng": 0.35},
    "CPC-Full": {"man2man": 0.59, "eng2man": 0.59, "mix2man": 0.59,
                 "eng2eng": 0.48, "man2eng": 0.45, "mix2eng": 0.51},
}  # fmt: skip

COLUMNS = ["track", "source", "claim", "normalisation", "paper", "this_run", "ci_low", "ci_high",
           "n", "status", "why"]  # fmt: skip
_BETTER = {"ccc": 1, "r": 1, "rmse": -1}


def _value_row(track, source, claim, paper, value, lo, hi, n, normalisation="") -> dict:
    if np.isnan(value):
        status, why = "not testable here", "not measured in this run"
    elif lo <= paper <= hi:
        status = "reproduced"
        why = f"the paper's {paper:.3f} lies inside [{lo:.3f}, {hi:.3f}] ({n} clips)"
    else:
        side = "above" if paper > hi else "below"
        status = "diverged"
        why = f"the paper's {paper:.3f} lies {side} [{lo:.3f}, {hi:.3f}] ({n} clips)"
    return {"track": track, "source": source, "claim": claim, "normalisation": normalisation,
            "paper": paper, "this_run": value, "ci_low": lo, "ci_high": hi, "n": n,
            "status": status, "why": why}  # fmt: skip


def _claim_status(relation: str, diff: float, p_holm: float, a: str, b: str) -> tuple[str, str]:
    """``diff``: a's advantage over b (positive: a better); ``p_holm``: the corrected p."""
    sig = p_holm < 0.05
    got = "no significant difference" if not sig else f"{a if diff > 0 else b} better"
    text = f"{got} (advantage {diff:+.3f}, Holm p = {p_holm:.3g})"
    if relation == "=":
        return ("reproduced" if not sig else "diverged"), text
    return ("reproduced" if sig and diff > 0 else "diverged"), text


def coutinho2017(long: pd.DataFrame, tests: pd.DataFrame, *, best: int) -> pd.DataFrame:
    """Table 6's values and the paper's t-test conclusions beside this run's.

    Args:
        long: :func:`~mer_ser.experiments.results_frame` of the six conditions under ``paper``
            and the cross-domain ones under ``domain``.
        tests: :func:`mer_ser.stats.table6_tests` of ``long``.
        best: ``k`` of the best-trials aggregate.

    Returns:
        :data:`COLUMNS`. Values: the paper's best-5 mean against this run's all-trial mean and
        its clip-bootstrap interval (``n`` test clips), normalisation ``paper``. Claims: each of
        :data:`COUTINHO_CLAIMS` under each normalisation, from the paired tests.
    """
    rows = []
    agg = stats.aggregate_trials(long[long["normalisation"] == "paper"], best=best)
    agg = agg.set_index(["condition", "dimension", "metric"])
    for cond, dims in COUTINHO_TABLE6.items():
        for dim, metrics in dims.items():
            for metric, paper in metrics.items():
                key = (cond, dim, metric)
                a = agg.loc[key] if key in agg.index else None
                v, lo, hi, n = ((a["all_mean"], a["ci_low"], a["ci_high"], int(a["clips"]))
                                if a is not None else (np.nan,) * 3 + (0,))  # fmt: skip
                rows.append(_value_row("coutinho2017", "Table 6", f"{cond} {dim} {metric}",
                                       paper, v, lo, hi, n, "paper"))  # fmt: skip
    t = tests.set_index(["normalisation", "dimension", "metric", "a", "b"])
    for norm in dict.fromkeys(tests["normalisation"]):
        for a, rel, b, dim, metric in COUTINHO_CLAIMS:
            if (norm, dim, metric, a, b) in t.index:
                r, sign = t.loc[(norm, dim, metric, a, b)], 1
            elif (norm, dim, metric, b, a) in t.index:
                r, sign = t.loc[(norm, dim, metric, b, a)], -1
            else:
                continue
            adv = sign * (r["mean_a"] - r["mean_b"]) * _BETTER[metric]
            status, why = _claim_status(rel, adv, r["p_holm"], a, b)
            rows.append({"track": "coutinho2017", "source": "Results (t-tests)",
                         "claim": f"{a} {rel} {b} ({dim} {metric})", "normalisation": norm,
                         "paper": np.nan, "this_run": adv, "ci_low": np.nan, "ci_high": np.nan,
                         "n": int(r["clips"]), "status": status, "why": why})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def rodningen2022(table: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Table 5.1's accuracies and the thesis' SER2MER-below-MER2MER conclusion beside this run's.

    Args:
        table: :func:`~mer_ser.experiments.rodningen2022.table5_1`.
        tests: :func:`mer_ser.stats.clip_tests` of the track's comparisons.

    Returns:
        :data:`COLUMNS`: test accuracies against this run's with their Wilson intervals over the
        test clips (SER2MER under ``source``, the thesis' normalisation), SER2SER against the
        speech validation partition, then MER2MER > SER2MER per model from the paired tests.
    """
    rows = []
    t51 = table[table["experiment"] != "0"].set_index(["model", "setting", "normalisation"])
    for (model, setting, part), paper in RODNINGEN_TABLE5_1.items():
        key = (model, setting, "source")
        name = f"{model} {'SER2SER' if part == 'validation' else setting} accuracy"
        if key in t51.index:
            r = t51.loc[key]
            v, lo, hi, n = (r[f"{part}_mean"], r[f"{part}_ci_low"], r[f"{part}_ci_high"],
                            int(r[f"{part}_clips"]))  # fmt: skip
        else:
            v, lo, hi, n = np.nan, np.nan, np.nan, 0
        rows.append(_value_row("rodningen2022", "Table 5.1", name, paper, v, lo, hi, n, "source"))
    by = tests.set_index(["a", "b"]) if len(tests) else None
    for model, _ in RODNINGEN_CLAIMS:
        for norm in ("source", "domain"):
            key = (f"{model} SER2MER ({norm})", f"{model} MER2MER")
            if by is None or key not in by.index:
                continue
            r = by.loc[key]
            status, why = _claim_status(">", -r["diff"], r["p_holm"], "MER2MER", "SER2MER")
            rows.append({"track": "rodningen2022", "source": "chapter 5",
                         "claim": f"{model} MER2MER > SER2MER", "normalisation": norm,
                         "paper": np.nan, "this_run": -r["diff"], "ci_low": -r["diff_ci_high"],
                         "ci_high": -r["diff_ci_low"], "n": int(r["clips"]), "status": status,
                         "why": why})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def gomezcanon2021(results: pd.DataFrame, *, lyrics: bool, amount: str = "exp2") -> pd.DataFrame:
    """Table 2's quadrant recall (accuracy) per model and setting beside this run's.

    Args:
        results: the long results of :meth:`~mer_ser.experiments.gomez_canon.LanguageTransfer.run`.
        lyrics: whether the music has sung lyrics in the settings' languages (the papers' 4Q
            and CH-818 do; the built-in music is instrumental). Without them the values are
            still compared, but every row says that the papers' question, whether speech of the
            lyrics' language helps, cannot be asked of this music.
        amount: the speech amount of Table 2 (``"exp2"``: Experiment 2).

    Returns:
        :data:`COLUMNS`: one row per model and setting, this run's quadrant recall (mean over
        runs) with its Wilson interval over the test clips.
    """
    sel = results[(results["head"] == "quadrant") & (results["metric"] == "recall")
                  & (results["amount"] == amount)]  # fmt: skip
    label = sel["encoder"] + "-" + sel["mode"].map(MODES)
    recall = sel.groupby([label, sel["setting"]])["value"].mean()
    clips = sel.groupby([label, sel["setting"]])["clips"].first()
    rows = []
    for model, settings in GOMEZ_TABLE2_Q_RECALL.items():
        for setting, paper in settings.items():
            key = (model, setting)
            v, n = (float(recall[key]), int(clips[key])) if key in recall.index else (np.nan, 0)
            lo, hi = wilson_interval(v, n) if n else (np.nan, np.nan)
            row = _value_row("gomezcanon2021", "Table 2 (Q recall)", f"{model} {setting}",
                             paper, v, float(lo), float(hi), n)  # fmt: skip
            if not lyrics and row["status"] != "not testable here":
                row["why"] += "; instrumental music: the lyrics' language cannot matter here"
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
