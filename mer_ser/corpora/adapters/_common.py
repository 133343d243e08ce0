"""Shared helpers of the corpus adapters: the loader rules every adapter follows.

1. Anchor files are *found* under the given root (copies unzip into different parents).
2. CSV headers are stripped of whitespace; alternative spellings matched case-insensitively.
3. Ragged CSV rows are padded with NaN or truncated, never a pandas error.
4. Zero-padded ids stay strings.
5. Audio sample rate and channel count are data: read with ``soundfile.info`` here, repaired
   (downmix, resample) when loaded (:func:`mer_ser.corpora.load_audio`).
6. What does not match (audio without labels, labels without audio) is counted, listed in
   ``corpus.meta["unmatched"]`` and reported with a :class:`UnmatchedWarning`.
7. Nothing is resolved by accident: a clip stored twice with the same content is kept once (by
   :data:`AUDIO_PREFERENCE`, with one :class:`DuplicateWarning`), two different files with one
   id are an error; a label row listed twice is merged when identical and an error when the
   copies disagree (:func:`unique_rows`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from mer_ser._io import sha256_file
from mer_ser.corpora.audio import check_readable, wav_truncation
from mer_ser.corpora.labels import normalise_scale, quadrant_from_av
from mer_ser.errors import AnnotationError, AudioError, CorpusError

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")

#: Which copy of a clip stored more than once is kept: one in the layout's canonical folder
#: first, then lossless over lossy formats in this order, then the shallower and
#: alphabetically first path.
AUDIO_PREFERENCE = (".wav", ".flac", ".ogg", ".mp3")


class UnmatchedWarning(UserWarning):
    """Clips with audio but no labels, or labels but no audio, were left out of a corpus."""


class DuplicateWarning(UserWarning):
    """Copies of the same clip or the same label row were merged into one."""


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
    try:
        raw = path.read_bytes()
    except PermissionError as e:
        raise CorpusError(f"{path}: permission denied (cannot read the annotation file)") from e
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
    root: Path,
    *,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
    under: Path | None = None,
    canonical=None,
) -> dict[str, Path]:
    """Audio files below ``under`` (default ``root``) by file stem.

    A clip stored more than once (quadrant folders plus a flat folder holding every clip; an mp3
    beside its wav) is kept once when the copies hold the same audio: byte-identical, or of the
    same duration within 0.1 s. The copy kept follows :data:`AUDIO_PREFERENCE`; one
    :class:`DuplicateWarning` says how many clips were merged and names one choice made.

    Args:
        root: the corpus root.
        extensions: file name endings that count as audio (case-insensitive).
        under: the folder to search (default ``root``).
        canonical: ``path -> bool``, true for the layout's own folder (e.g. 4Q's ``Q1``..``Q4``);
            its copies win.

    Raises:
        CorpusError: two files with one id hold different audio (both are named).
        AudioError: a copy that must be compared cannot be read.

    Warns:
        UnmatchedWarning: folders named like audio files (they are not read).
    """
    base = under or root
    ext = {e.lower() for e in extensions}
    found: dict[str, list[Path]] = {}
    folders = []
    for p in sorted(base.rglob("*")):
        if p.suffix.lower() not in ext:
            continue
        if p.is_dir():
            folders.append(p)
        elif p.is_file():
            found.setdefault(p.stem, []).append(p)
    if folders:
        shown = ", ".join(str(f) for f in folders[:3]) + (" ..." if len(folders) > 3 else "")
        warnings.warn(
            f"{base}: {len(folders)} folder{'s' if len(folders) != 1 else ''} named like audio "
            f"files, not read as audio: {shown}",
            UnmatchedWarning,
            stacklevel=2,
        )

    def rank(p: Path) -> tuple:
        suffix = p.suffix.lower()
        order = AUDIO_PREFERENCE.index(suffix) if suffix in AUDIO_PREFERENCE else 9
        return (not (canonical and canonical(p)), order, len(p.relative_to(base).parts), str(p))

    out: dict[str, Path] = {}
    merged: list[tuple[Path, Path]] = []
    for stem, paths in found.items():
        keep, *others = sorted(paths, key=rank)
        for other in others:
            if not _same_audio(keep, other):
                raise CorpusError(
                    f"{other}: audio id {stem!r} also at {keep}, with different content; "
                    "remove one copy or point the adapter at one folder"
                )
            merged.append((keep, other))
        out[stem] = keep
    if merged:
        kept, dropped = merged[0]
        warnings.warn(
            f"{base}: {len(merged)} clip file{'s' if len(merged) != 1 else ''} stored twice with "
            f"the same audio merged, e.g. kept {kept.relative_to(base)} over "
            f"{dropped.relative_to(base)} (canonical folder first, then "
            f"{' > '.join(AUDIO_PREFERENCE)})",
            DuplicateWarning,
            stacklevel=2,
        )
    return out


def _same_audio(a: Path, b: Path) -> bool:
    """Whether two files hold the same clip: equal bytes, or durations within 0.1 s."""
    if a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b):
        return True
    return abs(probe(a)[0] - probe(b)[0]) <= 0.1


def probe(path: Path) -> tuple[float, int]:
    """``(duration in s, sample rate)`` of an audio file, without decoding it.

    Raises:
        AudioError: the file is unreadable (permission), corrupt, truncated or empty.
    """
    check_readable(path)
    try:
        truncated = wav_truncation(path)
        info = sf.info(str(path))
    except PermissionError as e:
        raise AudioError(f"{path}: permission denied (cannot read the audio file)") from e
    except Exception as e:  # libsndfile raises several types for unreadable files
        raise AudioError(f"{path}: cannot read audio ({e})") from e
    if truncated:
        raise AudioError(f"{path}: {truncated}")
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


def unique_rows(df: pd.DataFrame, key, path: Path, *, what: str = "id") -> pd.DataFrame:
    """``df`` with every ``key`` once: identical repeats merged, disagreeing repeats refused.

    Args:
        df: a label or metadata table.
        key: the column (or columns) that identify a row.
        path: the file, named in messages.
        what: what the key is, for messages (``"song"``, ``"clip"``).

    Returns:
        ``df`` without the repeated rows (the first copy of each kept, order kept).

    Raises:
        AnnotationError: one key appears with different values; the file, the key and the
            disagreeing values are named.

    Warns:
        DuplicateWarning: once per file when identical repeats were merged.
    """
    key = [key] if isinstance(key, str) else list(key)
    if not df.duplicated(key).any():
        return df
    distinct = df.drop_duplicates()
    clash = distinct.duplicated(key, keep=False)
    if clash.any():
        first = distinct[clash].iloc[0][key].tolist()
        rows = distinct[clash & (distinct[key] == first).all(axis=1)]
        shown = "; ".join(
            ", ".join(f"{c}={v}" for c, v in r.items() if c not in key) for _, r in rows.iterrows()
        )
        ident = first[0] if len(first) == 1 else tuple(first)
        raise AnnotationError(
            f"{path}: {what} {ident!r} is listed {len(rows)} times with different values ({shown})"
        )
    repeats = int(df.duplicated().sum())
    example = df[df.duplicated()].iloc[0][key].tolist()
    warnings.warn(
        f"{path}: {repeats} repeated row{'s' if repeats != 1 else ''} with identical values "
        f"merged (e.g. {what} {example[0] if len(example) == 1 else tuple(example)!r})",
        DuplicateWarning,
        stacklevel=2,
    )
    return df.drop_duplicates()


def natural_key(s: str):
    """Sort ``"2" < "10"`` and ``"S0002" < "S0010"`` while keeping ids as strings."""
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
