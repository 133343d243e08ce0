"""Time-continuous corpora besides RECOLA and DEAM: PMEmo, SEMAINE and a generic CSV adapter.

PMEmo 2019 and SEMAINE (AVEC 2012) in their published layouts (``docs/corpora.md``); the generic
adapter serves private sets such as the music-psychology pieces of Coutinho & Schuller 2017.
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
    read_text,
    static_table,
)
from mer_ser.corpora.labels import normalise_scale
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError, CorpusError


def _long_gold(df: pd.DataFrame, path: Path, ids, t, a, v, scale) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "clip_id": df[ids].astype(str).str.strip(),
            "time": numeric(df[t], path, "time"),
            "arousal": normalise_scale(numeric(df[a], path, "arousal"), *scale, source=str(path)),
            "valence": normalise_scale(numeric(df[v], path, "valence"), *scale, source=str(path)),
        }
    )
    if out.duplicated(["clip_id", "time"]).any():
        raise AnnotationError(f"{path}: repeated (clip, time) rows")
    return out.sort_values(["clip_id", "time"], kind="stable").reset_index(drop=True)


def load_pmemo(root, *, name: str = "pmemo") -> Corpus:
    """PMEmo 2019: long-format 2 Hz dynamic annotations in [0, 1], static means, choruses.

    Dynamic labels start at about 15 s (read, not assumed); audio is ``chorus/{musicId}.mp3``;
    the song is its own group.
    """
    root = check_root(root, "PMEmo")
    dyn_path = find(root, "dynamic_annotations.csv", "PMEmo")
    df = read_ragged_csv(dyn_path)
    gold = _long_gold(
        df,
        dyn_path,
        column(df, dyn_path, "musicId"),
        column(df, dyn_path, "frameTime"),
        column(df, dyn_path, "Arousal(mean)"),
        column(df, dyn_path, "Valence(mean)"),
        (0.0, 1.0),
    )
    static = None
    st_path = find_optional(root, "static_annotations.csv")
    if st_path is not None:
        st = read_ragged_csv(st_path)
        a = numeric(st[column(st, st_path, "Arousal(mean)")], st_path, "arousal")
        v = numeric(st[column(st, st_path, "Valence(mean)")], st_path, "valence")
        ids_st = st[column(st, st_path, "musicId")].astype(str)
        static = static_table(ids_st, a, v, scale=(0.0, 1.0), source=str(st_path))
    audio = audio_index(root, under=find_optional(root, "chorus", kind="dir"))
    ids, unmatched = match(name, root, set(gold["clip_id"]), audio)
    if static is not None:
        static = static[static.index.isin(ids)]
    return Corpus(
        name,
        root,
        clip_table(root, audio, ids, domain="music", language="und"),
        gold=gold[gold["clip_id"].isin(ids)].reset_index(drop=True),
        static=static,
        meta={
            "description": "PMEmo 2019 (choruses)",
            "adapter": "pmemo",
            "label_rate": 2.0,
            "scale": [0.0, 1.0],
            "quadrant_table": "quadrant_from_av" if static is not None else "",
            "unmatched": unmatched,
        },
    )


#: AVEC 2012 fully-continuous labels are sampled at the video frame rate.
SEMAINE_RATE = 49.979
_SEMAINE_DEFAULT = (
    "**/labels_continuous_{part}{session}_{dimension}.dat",
    "**/{part}_audio{session}.wav",
)


def load_semaine(
    root,
    *,
    name: str = "semaine",
    label_pattern: str = _SEMAINE_DEFAULT[0],
    audio_pattern: str = _SEMAINE_DEFAULT[1],
    rate: float = SEMAINE_RATE,
) -> Corpus:
    """SEMAINE / Solid-SAL in an AVEC 2012 layout, matched with user-supplied patterns.

    Copies differ, so both patterns are arguments (globs relative to ``root`` with the fields
    ``{part}``, ``{session}`` and ``{dimension}``). The defaults follow one known AVEC 2012 copy:
    ``labels_continuous_{part}{NNN}_{arousal|valence}.dat`` with one float per line at
    ``rate`` Hz (49.979, the video frame rate) and ``{part}_audio{NNN}.wav``. The test
    partition is spelled ``tests`` in some file names; ``{part}`` accepts any word. The
    partition is the split and the session the group.
    """
    root = check_root(root, "SEMAINE")

    def regex(pattern: str) -> re.Pattern:
        name_part = Path(pattern).name
        esc = re.escape(name_part)
        for f, r in (
            ("part", r"(?P<part>[a-z]+)"),
            ("session", r"(?P<session>\d+)"),
            ("dimension", r"(?P<dimension>[a-z]+)"),
        ):
            esc = esc.replace(re.escape("{" + f + "}"), r)
        return re.compile("^" + esc + "$", re.IGNORECASE)

    def glob(pattern: str) -> str:
        return re.sub(r"(\{[a-z]+\})+", "*", pattern)

    lab_re, aud_re = regex(label_pattern), regex(audio_pattern)
    labels: dict[tuple[str, str], dict[str, Path]] = {}
    for p in sorted(root.glob(glob(label_pattern))):
        m = lab_re.match(p.name)
        if m and m.group("dimension").lower() in ("arousal", "valence"):
            key = (m.group("part").lower().rstrip("s"), m.group("session"))
            labels.setdefault(key, {})[m.group("dimension").lower()] = p
    if not labels:
        raise CorpusError(f"{root}: no SEMAINE label files match '{label_pattern}'")
    audio_files = {}
    for p in sorted(root.glob(glob(audio_pattern))):
        m = aud_re.match(p.name)
        if m:
            audio_files[f"{m.group('part').lower().rstrip('s')}_{m.group('session')}"] = p
    audio = audio_files
    both = {f"{p}_{s}": d for (p, s), d in labels.items() if {"arousal", "valence"} <= set(d)}
    ids, unmatched = match(name, root, both, audio)
    gold = []
    for cid in ids:
        tracks = {}
        for dim, p in both[cid].items():
            vals = [ln.split()[0] for ln in read_text(p).splitlines() if ln.strip()]
            tracks[dim] = numeric(vals, p, dim)
        n = min(len(tracks["arousal"]), len(tracks["valence"]))
        gold.append(
            pd.DataFrame(
                {
                    "clip_id": cid,
                    "time": np.arange(n) / rate,
                    "arousal": tracks["arousal"][:n],
                    "valence": tracks["valence"][:n],
                }
            )
        )
    gold_df = pd.concat(gold, ignore_index=True)
    lo, hi = (
        float(gold_df[["arousal", "valence"]].min().min()),
        float(gold_df[["arousal", "valence"]].max().max()),
    )
    if lo < -1 - 1e-9 or hi > 1 + 1e-9:
        raise AnnotationError(f"{root}: SEMAINE labels {lo:g}..{hi:g} outside [-1, 1]")
    return Corpus(
        name,
        root,
        clip_table(
            root,
            audio,
            ids,
            domain="speech",
            language="en",
            group=lambda c: c.split("_")[1],
            split=lambda c: c.split("_")[0],
        ),
        gold=gold_df,
        meta={
            "description": "SEMAINE Solid-SAL (AVEC 2012)",
            "adapter": "semaine",
            "label_rate": rate,
            "scale": [-1.0, 1.0],
            "quadrant_table": "",
            "patterns": [label_pattern, audio_pattern],
            "unmatched": unmatched,
        },
    )


def load_continuous_csv(
    root,
    *,
    labels: str,
    domain: str,
    scale: tuple[float, float] = (-1.0, 1.0),
    name: str = "continuous_csv",
    id_column: str = "clip_id",
    time_column: str | None = "time",
    arousal_column: str = "arousal",
    valence_column: str = "valence",
    rate: float | None = None,
    language: str = "und",
    group_column: str | None = None,
    audio: str | None = None,
) -> Corpus:
    """A generic time-continuous corpus: a CSV of arousal/valence traces plus audio files.

    Args:
        root: corpus folder.
        labels: the label CSV relative to ``root``: one long-format file with ``id_column``,
            or a glob of one file per clip (the file stem is the clip id).
        domain: ``"speech"`` or ``"music"``.
        scale: the values' original scale ``(lo, hi)``, mapped onto [-1, 1].
        name: corpus name.
        id_column: the clip id column (matched ignoring case and spaces; with one file per
            clip the file stem is the id).
        time_column: the time column in seconds; ``None`` with ``rate`` for traces without
            times (sample ``k`` at ``k / rate`` s).
        arousal_column: the arousal column.
        valence_column: the valence column.
        rate: the traces' native rate in Hz (estimated from the times when omitted).
        language: ISO 639 code (``zxx``: no linguistic content).
        group_column: optional column with the group (piece, composer, speaker).
        audio: folder of the audio files relative to ``root`` (default: search all of it);
            audio file stems are clip ids.
    """
    root = check_root(root, name)
    files = sorted(root.glob(labels)) if any(c in labels for c in "*?[") else [root / labels]
    if not files or not files[0].is_file():
        raise CorpusError(f"{root}: no label file matches '{labels}'")
    parts, groups = [], {}
    for f in files:
        df = read_ragged_csv(f)
        if len(files) > 1 or id_column.lower() not in [c.lower() for c in df.columns]:
            df.insert(0, "__id", f.stem)
            idc = "__id"
        else:
            idc = column(df, f, id_column)
        if time_column is None:
            if rate is None:
                raise ValueError("time_column=None needs the traces' rate")
            df["__t"] = df.groupby(idc).cumcount() / rate
            tc = "__t"
        else:
            tc = column(df, f, time_column)
        parts.append(
            _long_gold(
                df, f, idc, tc, column(df, f, arousal_column), column(df, f, valence_column), scale
            )
        )
        if group_column:
            gc = column(df, f, group_column)
            groups.update(dict(zip(df[idc].astype(str), df[gc].astype(str), strict=True)))
    gold = pd.concat(parts, ignore_index=True)
    if rate is None:
        steps = gold.groupby("clip_id")["time"].diff().dropna()
        rate = float(1.0 / steps.median()) if len(steps) else None
    audio_files = audio_index(root, under=(root / audio) if audio else None)
    ids, unmatched = match(name, root, set(gold["clip_id"]), audio_files)
    return Corpus(
        name,
        root,
        clip_table(
            root,
            audio_files,
            ids,
            domain=domain,
            language=language,
            group=lambda c: groups.get(c, c),
        ),
        gold=gold[gold["clip_id"].isin(ids)].reset_index(drop=True),
        meta={
            "description": f"generic continuous CSV ({labels})",
            "adapter": "continuous_csv",
            "label_rate": rate,
            "scale": list(scale),
            "quadrant_table": "",
            "unmatched": unmatched,
        },
    )
