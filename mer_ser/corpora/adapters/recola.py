"""RECOLA in the AVEC 2015/2016 layout.

::

    <root>/recordings_audio/{train|dev|test}_{n}.wav
    <root>/ratings_gold_standard/{arousal|valence}/{train|dev}_{n}.arff   (25 Hz, 7,501 frames)
    <root>/ratings_individual/{arousal|valence}/{train|dev}_{n}.csv      (';', "time;FM1 ;...")

The gold standard is read from the ARFFs' last attribute (``GoldStandard``) at their
``frameTime``; the six raters' traces (FM1-3, FF1-3; names stripped of their trailing space) go
to ``ratings``. One subject per recording, so the recording is its own group; the partition
(``train``/``dev``/``test``) is the split. The test partition has no gold standard: its
recordings are listed in ``meta["unmatched"]["audio_without_labels"]``.
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
    find,
    find_optional,
    match,
    natural_key,
    numeric,
    read_ragged_csv,
    read_text,
)
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError

_ID = re.compile(r"^(train|dev|test)_\d+$")


def read_arff(path: Path) -> pd.DataFrame:
    """An ARFF file's data section as strings, with the attribute names as columns.

    Accepts quoted or unquoted string values and blank or comment lines anywhere.
    """
    names: list[str] = []
    rows: list[list[str]] = []
    in_data = False
    for ln, line in enumerate(read_text(path).splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        low = s.lower()
        if not in_data:
            if low.startswith("@attribute"):
                parts = s.split(None, 2)
                if len(parts) < 3:
                    raise AnnotationError(f"{path}:{ln}: malformed @attribute line {s!r}")
                names.append(parts[1].strip("'\""))
            elif low.startswith("@data"):
                in_data = True
            continue
        cells = [c.strip().strip("'\"") for c in s.split(",")]
        if len(cells) != len(names):
            raise AnnotationError(
                f"{path}:{ln}: {len(cells)} values, but {len(names)} attributes are declared"
            )
        rows.append(cells)
    if not in_data or not names:
        raise AnnotationError(f"{path}: not an ARFF file (no @attribute / @data section)")
    return pd.DataFrame(rows, columns=names)


def _gold(path: Path) -> pd.DataFrame:
    df = read_arff(path)
    time_col = next((c for c in df.columns if c.lower() == "frametime"), None)
    if time_col is None:
        raise AnnotationError(f"{path}: no frameTime attribute (attributes: {list(df.columns)})")
    return pd.DataFrame(
        {
            "time": numeric(df[time_col], path, "frameTime"),
            "value": numeric(df[df.columns[-1]], path, "gold-standard"),
        }
    )


def _ratings(path: Path) -> pd.DataFrame:
    df = read_ragged_csv(path, sep=";")
    if "time" not in [c.lower() for c in df.columns]:
        raise AnnotationError(f"{path}: no 'time' column (columns: {list(df.columns)})")
    time_col = next(c for c in df.columns if c.lower() == "time")
    long = df.melt(id_vars=[time_col], var_name="rater", value_name="value")
    long["time"] = numeric(long.pop(time_col), path, "time")
    long["value"] = numeric(long["value"], path, "rating")
    return long


def _pair(a: pd.DataFrame, v: pd.DataFrame, on: list[str], files: tuple[Path, Path]):
    both = a.merge(v, on=on, suffixes=("_a", "_v"), how="outer", validate="one_to_one")
    if both[["value_a", "value_v"]].isna().any().any():
        raise AnnotationError(
            f"{files[0]} and {files[1]}: arousal and valence frames do not line up "
            f"({len(a)} vs {len(v)} rows)"
        )
    return both.rename(columns={"value_a": "arousal", "value_v": "valence"})


def load_recola(root, *, name: str = "recola") -> Corpus:
    """Load a local copy of RECOLA (AVEC 2016 layout).

    Args:
        root: the folder holding ``recordings_audio/`` and ``ratings_gold_standard/`` (any
            parent works: the anchors are searched for).
        name: the corpus name.

    Returns:
        A continuous speech corpus (French) with the 25 Hz gold standard, the raters' traces
        when ``ratings_individual/`` is present, and train/dev splits.

    Raises:
        CorpusError: the root or an anchor folder is missing.
        AnnotationError: a malformed ARFF/CSV or mismatched arousal/valence frames.
    """
    root = check_root(root, "RECOLA")
    gold_dir = find(
        root, "ratings_gold_standard", "RECOLA", kind="dir", what="gold-standard folder"
    )
    audio_dir = find(root, "recordings_audio", "RECOLA", kind="dir", what="audio folder")
    for dim in ("arousal", "valence"):
        find(gold_dir, dim, "RECOLA", kind="dir", what=f"{dim} gold-standard folder")
    gold_files = {
        dim: {p.stem: p for p in sorted((gold_dir / dim).glob("*.arff"))}
        for dim in ("arousal", "valence")
    }
    only = set(gold_files["arousal"]) ^ set(gold_files["valence"])
    if only:
        raise AnnotationError(
            f"{gold_dir}: gold standard for only one dimension of {sorted(only, key=natural_key)}"
        )
    audio = {k: v for k, v in audio_index(root, under=audio_dir).items() if _ID.match(k)}
    ids, unmatched = match(name, root, gold_files["arousal"], audio)
    gold = []
    for cid in ids:
        files = (gold_files["arousal"][cid], gold_files["valence"][cid])
        g = _pair(_gold(files[0]), _gold(files[1]), ["time"], files)
        g.insert(0, "clip_id", cid)
        gold.append(g)
    ratings = None
    ind_dir = find_optional(root, "ratings_individual", kind="dir")
    if ind_dir is not None:
        parts = []
        for cid in ids:
            files = tuple(ind_dir / dim / f"{cid}.csv" for dim in ("arousal", "valence"))
            if not all(f.is_file() for f in files):
                continue
            r = _pair(_ratings(files[0]), _ratings(files[1]), ["time", "rater"], files)
            r.insert(0, "clip_id", cid)
            parts.append(r[["clip_id", "rater", "time", "arousal", "valence"]])
        ratings = pd.concat(parts, ignore_index=True) if parts else None
    clips = clip_table(
        root, audio, ids, domain="speech", language="fr", split=lambda c: c.split("_")[0]
    )
    gold_df = pd.concat(gold, ignore_index=True)[["clip_id", "time", "arousal", "valence"]]
    return Corpus(
        name,
        root,
        clips,
        gold=gold_df.astype({"time": np.float64}),
        ratings=ratings,
        meta={
            "description": "RECOLA (AVEC 2016 release): French dyadic remote collaboration",
            "adapter": "recola",
            "label_rate": 25.0,
            "scale": [-1.0, 1.0],
            "quadrant_table": "",
            "unmatched": unmatched,
        },
    )
