"""Shared helpers of the corpus adapters (the loader rules of ``../shared/corpora.md`` section 0).

1. Anchor files are *found* under the given root (copies unzip into different parents).
2. CSV headers are stripped of whitespace; alternative spellings matched case-insensitively.
3. Ragged CSV rows are padded with NaN or truncated, never a pandas error.
4. Zero-padded ids stay strings.
5. Audio sample rate and channel count are data: read with ``soundfile.info`` here, repaired
   (downmix, resample) when loaded (:func:`mer_ser.corpora.load_audio`).
6. What does not match (audio without labels, labels without audio) is counted, listed in
   ``corpus.meta["unmatched"]`` and reported with a :class:`UnmatchedWarning`.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from mer_ser.errors import AnnotationError, AudioError, CorpusError

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")


class UnmatchedWarning(UserWarning):
    """Clips with audio but no labels, or labels but no audio, were left out of a corpus."""


def check_root(root: str | os.PathLike, corpus: str) -> Path:
    """The corpus root as a :class:`Path`; a clear error when it is not a folder."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise CorpusError(f"{root}: {corpus} root folder not found")
    return root


def find(root: Path, pattern: str, corpus: str, *, kind: str = "file", what: str = "") -> Path:
    """The shallowest path under ``root`` matching the glob ``pattern`` (searched recursively).

    Args:
        root: the corpus root.
        pattern: a glob relative to any folder, e.g.
            ``"dynamic (per second annotations)/arousal.csv"``.
        corpus: corpus name for the error message.
        kind: ``"file"`` or ``"dir"``.
        what: what the anchor is, for the error message.

    Raises:
        CorpusError: nothing matches; the message names the root and the pattern.
    """
    want = Path.is_file if kind == "file" else Path.is_dir
    hits = [p for p in root.rglob(pattern) if want(p)]
    if not hits:
        raise CorpusError(
            f"{root}: no {what or kind} matching '{pattern}' anywhere under this {corpus} root "
            "(is it the right folder?)"
        )
    return min(hits, key=lambda p: (len(p.relative_to(root).parts), str(p)))


def find_optional(root: Path, pattern: str, *, kind: str = "file") -> Path | None:
    """Like :func:`find` but ``None`` when nothing matches."""
    try:
        return find(root, pattern, "", kind=kind)
    except CorpusError:
        return None


def read_text(path: Path) -> str:
    """A text file (UTF-8, BOM dropped, Latin-1 fallback); a clear error when unreadable."""
    if not path.is_file():
        raise CorpusError(f"{path}: annotation file not found")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_ragged_csv(path: Path, *, sep: str = ",", header: bool = True) -> pd.DataFrame:
    """A CSV whose rows may be shorter or longer than its header (DEAM, metadata files).

    Header names are stripped; short rows are padded with empty strings and cells beyond the
    header are dropped. Every value stays a string (ids keep their zero padding); empty cells
    become NaN.
    """
    rows = list(csv.reader(io.StringIO(read_text(path)), delimiter=sep))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise AnnotationError(f"{path}: file is empty")
    if header:
        names = [c.strip() for c in rows[0]]
        body = rows[1:]
    else:
        names = [str(i) for i in range(max(len(r) for r in rows))]
        body = rows
    n = len(names)
    body = [(r + [""] * n)[:n] for r in body]
    df = pd.DataFrame(body, columns=names, dtype=object)
    return df.map(lambda v: np.nan if str(v).strip() == "" else str(v).strip())


def column(df: pd.DataFrame, path: Path, *names: str) -> str:
    """The first column of ``df`` named like one of ``names`` (case- and space-insensitive)."""
    norm = {"".join(str(c).lower().split()): c for c in df.columns}
    for n in names:
        key = "".join(n.lower().split())
        if key in norm:
            return norm[key]
    raise AnnotationError(f"{path}: no column {' / '.join(names)} (columns: {list(df.columns)})")


def numeric(values, path: Path, what: str) -> np.ndarray:
    """Floats from strings; a clear error naming the file and the first bad cell."""
    out = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(out) & pd.Series(values).notna().to_numpy()
    if bad.any():
        first = next(iter(pd.Series(values)[bad]))
        raise AnnotationError(f"{path}: {what} value {first!r} is not a number")
    return out


def audio_index(
    root: Path, *, extensions: Iterable[str] = AUDIO_EXTENSIONS, under: Path | None = None
) -> dict[str, Path]:
    """Audio files below ``under`` (default ``root``) by file stem; duplicates are an error."""
    base = under or root
    ext = {e.lower() for e in extensions}
    out: dict[str, Path] = {}
    for p in sorted(base.rglob("*")):
        if p.suffix.lower() in ext and p.is_file():
            if p.stem in out:
                raise CorpusError(f"{p}: audio id {p.stem!r} also at {out[p.stem]}")
            out[p.stem] = p
    return out


def probe(path: Path) -> tuple[float, int]:
    """``(duration in s, sample rate)`` of an audio file, without decoding it."""
    try:
        info = sf.info(str(path))
    except Exception as e:  # libsndfile raises several types for unreadable files
        raise AudioError(f"{path}: cannot read audio ({e})") from e
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{path}: audio file is empty (0 samples)")
    return info.frames / info.samplerate, int(info.samplerate)


def clip_table(
    root: Path,
    audio: dict[str, Path],
    ids: Iterable[str],
    *,
    domain: str,
    language: str,
    group=None,
    split=None,
) -> pd.DataFrame:
    """The data model's clip table for ``ids`` (each must be in ``audio``).

    ``group`` and ``split`` map a clip id to its group / split (callables or dicts).
    """
    ids = list(ids)
    rows = []
    # libsndfile releases the GIL, so probing many files (MSP-Podcast: 260k) overlaps their I/O.
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = list(pool.map(probe, (audio[c] for c in ids)))
    for cid, (duration, sr) in zip(ids, probed, strict=True):
        path = audio[cid]
        g = group(cid) if callable(group) else (group or {}).get(cid, cid)
        s = split(cid) if callable(split) else (split or {}).get(cid, "")
        rows.append(
            {
                "clip_id": cid,
                "domain": domain,
                "language": language,
                "audio_path": path.relative_to(root).as_posix(),
                "duration": round(duration, 6),
                "sr": sr,
                "group": str(g),
                "split": "" if s is None or (isinstance(s, float) and np.isnan(s)) else str(s),
            }
        )
    if not rows:
        raise CorpusError(f"{root}: no clip has both audio and labels")
    return pd.DataFrame(rows).set_index("clip_id")


def match(
    corpus: str, root: Path, labelled: Iterable[str], audio: dict[str, Path]
) -> tuple[list[str], dict]:
    """Clip ids with both labels and audio, and the report of those with only one.

    Returns:
        ``(ids, unmatched)``: ``ids`` sorted; ``unmatched`` =
        ``{"labels_without_audio": [...], "audio_without_labels": [...]}`` (also warned about).
    """
    lab = set(map(str, labelled))
    aud = set(audio)
    report = {
        "labels_without_audio": sorted(lab - aud, key=natural_key),
        "audio_without_labels": sorted(aud - lab, key=natural_key),
    }
    for k, v in report.items():
        if v:
            shown = ", ".join(v[:8]) + (" ..." if len(v) > 8 else "")
            warnings.warn(
                f"{corpus} at {root}: {len(v)} {k.replace('_', ' ')} left out: {shown} "
                "(listed in corpus.meta['unmatched'])",
                UnmatchedWarning,
                stacklevel=3,
            )
    return sorted(lab & aud, key=natural_key), report


def natural_key(s: str):
    """Sort ``"2" < "10"`` and ``"S0002" < "S0010"`` while keeping ids as strings."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(s))]


def static_table(
    ids,
    arousal_raw,
    valence_raw,
    *,
    category=None,
    quadrant=None,
    scale=None,
    source: str = "labels",
) -> pd.DataFrame:
    """The data model's static table for ``ids``.

    Columns ``arousal, valence`` in [-1, 1], their raw values, ``category`` and ``quadrant``.

    Args:
        ids: clip ids.
        arousal_raw: arousal on the original ``scale`` (NaN where a corpus has categories only).
        valence_raw: valence on the original ``scale``.
        category: category per clip (default NaN).
        quadrant: quadrant per clip; default: from arousal and valence (``quadrant_from_av``).
        scale: original ``(lo, hi)`` mapped onto [-1, 1] (checked); ``None``: already [-1, 1].
        source: named in errors.
    """
    from mer_ser.corpora.labels import normalise_scale, quadrant_from_av

    a_raw = np.asarray(arousal_raw, dtype=np.float64)
    v_raw = np.asarray(valence_raw, dtype=np.float64)
    n = len(a_raw)
    a, v = a_raw, v_raw
    if scale is not None:
        a = normalise_scale(a_raw, *scale, source=source)
        v = normalise_scale(v_raw, *scale, source=source)
    if quadrant is None:
        quadrant = quadrant_from_av(a, v)
    return pd.DataFrame(
        {
            "arousal": a,
            "valence": v,
            "arousal_raw": a_raw,
            "valence_raw": v_raw,
            "category": list(category) if category is not None else [np.nan] * n,
            "quadrant": list(quadrant),
        },
        index=pd.Index([str(i) for i in ids], name="clip_id"),
    )
