"""The on-disk corpus format that the built-in generator writes and :func:`read_corpus` reads.

::

    <root>/corpus.json                   name, meta (label rate, scales, generator config)
    <root>/clips.csv                     clip_id, domain, language, audio_path, duration, sr,
                                         group, split
    <root>/audio/<clip_id>.wav           16-bit PCM
    <root>/labels/gold.csv               clip_id, time, arousal, valence            (continuous)
    <root>/labels/ratings.csv            clip_id, rater, time, arousal, valence     (continuous)
    <root>/labels/static.csv             clip_id, arousal, valence, ..., quadrant   (static)

Floats are written with a fixed format so the same corpus gives the same bytes. Every file is
written atomically; ``corpus.json`` is written last, so a folder without it is an unfinished build.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from mer_ser._io import atomic_write, write_json
from mer_ser.corpora.model import CLIP_COLUMNS, Corpus
from mer_ser.errors import AnnotationError, CorpusError

FLOAT_FORMAT = "%.6f"
_LABEL_FILES = {"gold": "gold.csv", "ratings": "ratings.csv", "static": "static.csv"}


def write_table(path: str | os.PathLike, df: pd.DataFrame, *, index: bool = False) -> None:
    """Write a CSV atomically with the package's fixed float format."""
    with atomic_write(path, "w") as f:
        df.to_csv(f, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_corpus(corpus: Corpus, root: str | os.PathLike | None = None) -> Path:
    """Write a corpus' tables (its audio must already be under ``root``).

    Returns:
        The corpus root.
    """
    root = Path(root or corpus.root)
    write_table(root / "clips.csv", corpus.clips.reset_index())
    for attr, fname in _LABEL_FILES.items():
        table = getattr(corpus, attr)
        if table is not None:
            write_table(root / "labels" / fname, table, index=attr == "static")
    write_json(root / "corpus.json", {"name": corpus.name, "meta": corpus.meta})
    return root


#: Columns each label file must hold, and which of them are numbers.
_REQUIRED = {
    "gold": (("clip_id", "time", "arousal", "valence"), ("time", "arousal", "valence")),
    "ratings": (("clip_id", "rater", "time", "arousal", "valence"), ("time", "arousal", "valence")),
    "static": (("clip_id", "arousal", "valence", "quadrant"), ("arousal", "valence")),
}


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], **kwargs)
    except PermissionError as e:
        raise CorpusError(f"{path}: permission denied (cannot read the table)") from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise AnnotationError(f"{path}: cannot parse CSV ({e})") from e


def _check_table(df: pd.DataFrame, path: Path, attr: str) -> None:
    """A label file has its columns, and numbers where numbers belong (the file is named)."""
    need, numbers = _REQUIRED[attr]
    lack = [c for c in need if c not in df.columns]
    if lack:
        raise AnnotationError(f"{path}: missing columns {lack} (columns: {list(df.columns)})")
    for col in numbers:
        bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise AnnotationError(
                f"{path}: {col} value {df[col].iloc[row]!r} in row {row + 2} is not a number"
            )


def read_corpus(root: str | os.PathLike) -> Corpus:
    """Read a corpus written by :func:`write_corpus`.

    Raises:
        CorpusError: the folder or one of its required files is missing.
        AnnotationError: a label file is malformed.
    """
    root = Path(root)
    meta_file = root / "corpus.json"
    if not meta_file.is_file():
        raise CorpusError(
            f"{root}: not a mer_ser corpus folder (no corpus.json; unfinished build?)"
        )
    try:
        info = json.loads(meta_file.read_text(encoding="utf-8"))
    except PermissionError as e:
        raise CorpusError(f"{meta_file}: permission denied") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorpusError(f"{meta_file}: not valid JSON ({e})") from e
    if not isinstance(info, dict) or "name" not in info:
        raise CorpusError(f"{meta_file}: not a mer_ser corpus description (no 'name')")
    clips_file = root / "clips.csv"
    if not clips_file.is_file():
        raise CorpusError(f"{clips_file}: clip table missing")
    clips = _read_csv(
        clips_file, dtype={"clip_id": str, "group": str, "split": str, "language": str}
    )
    lack = [c for c in ("clip_id", *CLIP_COLUMNS) if c not in clips.columns]
    if lack:
        raise CorpusError(f"{clips_file}: missing columns {lack}")
    clips["split"] = clips["split"].fillna("")
    clips = clips.set_index("clip_id")
    tables = {}
    for attr, fname in _LABEL_FILES.items():
        path = root / "labels" / fname
        if not path.is_file():
            tables[attr] = None
            continue
        dtype = {"clip_id": str, "rater": str, "category": str, "quadrant": str}
        df = _read_csv(path, dtype=dtype)
        _check_table(df, path, attr)
        if attr == "static":
            df = df.set_index("clip_id")
        tables[attr] = df
    try:
        return Corpus(info["name"], root, clips, meta=info.get("meta", {}), **tables)
    except (CorpusError, AnnotationError) as e:
        raise type(e)(f"{root}: {e}") from e
