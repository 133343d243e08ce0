"""DEAM / MediaEval 2013-2015, its ME14 subset, and the 2013 emoMusic "1000 songs" layout.

DEAM::

    DEAM_audio/MEMD_audio/{song_id}.mp3
    DEAM_Annotations/annotations/annotations averaged per song/
        dynamic (per second annotations)/{arousal,valence}.csv   song_id,sample_15000ms,...
        song_level/static_annotations_averaged_songs_1_2000.csv  "song_id, valence_mean, ..."
        song_level/static_annotations_averaged_songs_2000_2058.csv
    DEAM_Annotations/annotations/annotations per each rater/
        dynamic (per second annotations)/{arousal,valence}/{song_id}.csv  [WorkerId,]sample_...
    metadata/metadata_2013.csv, metadata_2014.csv, metadata_2015.csv

Dynamic labels are 2 Hz from 15 s in [-1, 1] (the header spans the longest song; shorter rows
are empty or short: ragged rows are padded). Static song-level means are on the 9-point SAM
scale 1-9, mapped to [-1, 1] ((x - 5) / 4) with the raw values kept. The subset (``2013``,
``2014``, ``2015``) is the ``metadata_201X.csv`` that lists the song, never inferred from id
ranges; it is the clip's ``split``. Songs are their own groups.

emoMusic (the 2013 development data, 744 songs)::

    clips_45seconds/{song_id}.mp3
    annotations/{arousal,valence}_cont_average.csv   song_id,sample_15000ms,...,sample_45000ms
    annotations/static_annotations.csv               song_id,mean_arousal,std_arousal,...
    (annotations/)songs_info.csv                      ...,Mediaeval 2013 set
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mer_ser.corpora.adapters._common import (
    audio_index,
    check_root,
    clip_table,
    column,
    find,
    find_optional,
    match,
    numeric,
    read_ragged_csv,
    static_table,
    unique_rows,
)
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError

_SAMPLE = re.compile(r"^sample_(\d+)ms$", re.IGNORECASE)
DYNAMIC = "dynamic (per second annotations)"
SAM = (1.0, 9.0)


def _sample_columns(df: pd.DataFrame, path: Path, who: pd.Series) -> dict[str, float]:
    """The ``sample_<ms>ms`` columns and their times in s; a gap inside a row is an error.

    Rows may end early (shorter songs: ragged or empty trailing cells), but an empty cell
    followed by values would be interpolated over downstream, inventing a label.
    """
    times = {c: int(_SAMPLE.match(c).group(1)) / 1000.0 for c in df.columns if _SAMPLE.match(c)}
    if not times:
        raise AnnotationError(f"{path}: no sample_<ms>ms columns (columns: {list(df.columns)})")
    filled = df[list(times)].notna().to_numpy()
    gap = filled[:, 1:] & ~filled[:, :-1] & np.maximum.accumulate(filled, axis=1)[:, :-1]
    if gap.any():
        row, col = np.argwhere(gap)[0]
        empty = list(times)[col]
        raise AnnotationError(
            f"{path}: {who.iloc[row]!r} has an empty {empty} cell between annotated ones; "
            "fill it or cut the row there (gaps are not interpolated)"
        )
    return times


def read_dynamic(path: Path) -> pd.DataFrame:
    """A ``song_id,sample_15000ms,...`` file in long format ``clip_id, time, value``."""
    df = read_ragged_csv(path)
    id_col = column(df, path, "song_id")
    df = unique_rows(df, id_col, path, what="song")
    times = _sample_columns(df, path, "song " + df[id_col].astype(str))
    long = df[[id_col, *times]].melt(id_vars=[id_col], var_name="col", value_name="value")
    long = long.dropna(subset=["value"])
    long["value"] = numeric(long["value"], path, "dynamic")
    long["time"] = long.pop("col").map(times)
    long = long.rename(columns={id_col: "clip_id"})
    return long.sort_values(["clip_id", "time"], kind="stable")[["clip_id", "time", "value"]]


def _dynamic_pair(a_path: Path, v_path: Path) -> pd.DataFrame:
    a, v = read_dynamic(a_path), read_dynamic(v_path)
    both = a.merge(v, on=["clip_id", "time"], suffixes=("_a", "_v"), how="inner")
    return both.rename(columns={"value_a": "arousal", "value_v": "valence"})


def _static(paths: list[Path], a_names, v_names) -> pd.DataFrame:
    parts = []
    for p in paths:
        df = read_ragged_csv(p)
        idc = column(df, p, "song_id")
        a = numeric(df[column(df, p, *a_names)], p, "arousal")
        v = numeric(df[column(df, p, *v_names)], p, "valence")
        parts.append(static_table(df[idc].astype(str), a, v, scale=SAM, source=str(p)))
    out = pd.concat(parts).rename_axis("clip_id").reset_index()
    where = paths[0] if len(paths) == 1 else paths[0].parent
    return unique_rows(out, "clip_id", where, what="song").set_index("clip_id")


def _rater_file(path: Path) -> pd.DataFrame:
    df = read_ragged_csv(path)
    worker = next((c for c in df.columns if c.lower() == "workerid"), None)
    raters = df[worker].astype(str) if worker else [f"r{i}" for i in range(len(df))]
    df = df.drop(columns=[worker]) if worker else df
    df.insert(0, "rater", list(raters))
    times = _sample_columns(df, path, "rater " + df["rater"].astype(str))
    long = df[["rater", *times]].melt(id_vars=["rater"], var_name="col", value_name="value")
    long = long.dropna(subset=["value"])
    long["value"] = numeric(long["value"], path, "rating")
    long["time"] = long.pop("col").map(times)
    return long


def _ratings(rater_dir: Path, ids: list[str]) -> pd.DataFrame | None:
    parts = []
    for cid in ids:
        fa, fv = rater_dir / "arousal" / f"{cid}.csv", rater_dir / "valence" / f"{cid}.csv"
        if not (fa.is_file() and fv.is_file()):
            continue
        a, v = _rater_file(fa), _rater_file(fv)
        both = a.merge(v, on=["rater", "time"], suffixes=("_a", "_v"), how="inner")
        both.insert(0, "clip_id", cid)
        parts.append(both.rename(columns={"value_a": "arousal", "value_v": "valence"}))
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)[["clip_id", "rater", "time", "arousal", "valence"]]


def _subsets(root: Path) -> dict[str, str]:
    """Song id -> ``"2013"``/``"2014"``/``"2015"`` from the metadata files that list it."""
    out: dict[str, str] = {}
    for year in ("2013", "2014", "2015"):
        p = find_optional(root, f"metadata_{year}.csv")
        if p is None:
            continue
        df = read_ragged_csv(p)
        for sid in df[df.columns[0]].dropna().astype(str):
            out.setdefault(sid.strip(), year)
    return out


def load_deam(root, *, name: str = "deam", subset: str | None = None, ratings: bool = True):
    """Load a local copy of DEAM.

    Args:
        root: any folder above ``annotations/`` and ``MEMD_audio/``.
        name: the corpus name.
        subset: ``None`` (every song), ``"2013"``, ``"2014"``, ``"2015"``, or ``"me14"`` (the
            MediaEval 2014 task: 2013 songs as ``train``, 2014 songs as ``test``).
        ratings: also read the per-rater dynamic files.

    Returns:
        A continuous music corpus with 2 Hz dynamic gold labels and 1-9 static labels.
    """
    root = check_root(root, "DEAM")
    avg = find(root, "annotations averaged per song", "DEAM", kind="dir")
    dyn = find(avg, DYNAMIC, "DEAM", kind="dir", what="dynamic annotations folder")
    gold = _dynamic_pair(find(dyn, "arousal.csv", "DEAM"), find(dyn, "valence.csv", "DEAM"))
    statics = sorted(avg.rglob("static_annotations_averaged_songs_*.csv"))
    static = _static(statics, ("arousal_mean",), ("valence_mean",)) if statics else None
    subsets = _subsets(root)
    split = dict(subsets)
    keep = set(gold["clip_id"])
    if subset is not None:
        if subset == "me14":
            split = {
                k: {"2013": "train", "2014": "test"}[y]
                for k, y in subsets.items()
                if y in ("2013", "2014")
            }
        elif subset in ("2013", "2014", "2015"):
            split = {k: y for k, y in subsets.items() if y == subset}
        else:
            raise ValueError(f"subset must be None, '2013', '2014', '2015' or 'me14': {subset!r}")
        if not split:
            raise AnnotationError(f"{root}: no metadata_201X.csv lists songs for {subset!r}")
        keep &= set(split)
    audio_dir = find_optional(root, "MEMD_audio", kind="dir")
    audio = audio_index(root, under=audio_dir)
    if subset is not None:
        audio = {k: v for k, v in audio.items() if k in split}
    ids, unmatched = match(name, root, keep, audio)
    gold = gold[gold["clip_id"].isin(ids)].reset_index(drop=True)
    rater_table = None
    if ratings:
        per = find_optional(root, "annotations per each rater", kind="dir")
        rdyn = find_optional(per, DYNAMIC, kind="dir") if per is not None else None
        rater_table = _ratings(rdyn, ids) if rdyn is not None else None
    if static is not None:
        static = static[static.index.isin(ids)]
    clips = clip_table(root, audio, ids, domain="music", language="und", split=split)
    return Corpus(
        name,
        root,
        clips,
        gold=gold[["clip_id", "time", "arousal", "valence"]],
        ratings=rater_table,
        static=static,
        meta={
            "description": f"DEAM (MediaEval 2013-2015){'' if subset is None else ', ' + subset}",
            "adapter": "deam",
            "label_rate": 2.0,
            "scale": list(SAM),
            "quadrant_table": "quadrant_from_av" if static is not None else "",
            "unmatched": unmatched,
        },
    )


def load_emomusic(root, *, name: str = "emomusic") -> Corpus:
    """Load the 2013 emoMusic "1000 songs" layout (split from ``songs_info.csv``)."""
    root = check_root(root, "emoMusic")
    a = find(root, "arousal_cont_average.csv", "emoMusic")
    v = find(root, "valence_cont_average.csv", "emoMusic")
    gold = _dynamic_pair(a, v)
    sp = find_optional(root, "static_annotations.csv")
    static = _static([sp], ("mean_arousal",), ("mean_valence",)) if sp else None
    split = {}
    info = find_optional(root, "songs_info.csv")
    if info is not None:
        df = read_ragged_csv(info)
        col = column(df, info, "Mediaeval 2013 set")
        split = dict(zip(df[column(df, info, "song_id")].astype(str), df[col], strict=True))
    clips_dir = find_optional(root, "clips_45seconds", kind="dir")
    audio = audio_index(root, under=clips_dir)
    ids, unmatched = match(name, root, set(gold["clip_id"]), audio)
    if static is not None:
        static = static[static.index.isin(ids)]
    return Corpus(
        name,
        root,
        clip_table(root, audio, ids, domain="music", language="und", split=split),
        gold=gold[gold["clip_id"].isin(ids)].reset_index(drop=True),
        static=static,
        meta={
            "description": "MediaEval 2013 emoMusic (1000 songs), development data",
            "adapter": "emomusic",
            "label_rate": 2.0,
            "scale": list(SAM),
            "quadrant_table": "quadrant_from_av" if static is not None else "",
            "unmatched": unmatched,
        },
    )
