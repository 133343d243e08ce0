"""The instrumental MER compilation of Rodningen 2022 (section 4.2.2).

The thesis' data repository (``instrumentalMER-data-thesis``) publishes tracklists, not audio.

Three tracklists select instrumental material from three corpora:

* ``deam-final-tracklist.csv``: ``songId,clipId,songNumberOfClips,artist,title,secondsSlice,
  duration,arousalAvg,arousalStd,valenceAvg,valenceStd``: 10-15 s slices (``"15.0-30.0"``) of
  DEAM songs with their dynamic labels averaged, already in [-1, 1];
* ``soundtracks-final-tracklist.csv``: ``Set,Nro,Filename,FoundByAPI,Title,Artist,SpotifyId,
  Valence,Arousal``: Soundtracks excerpts (``Filename`` ``1_053`` = Set 1, ``053.mp3``),
  normalised to [-1, 1] and cut to at most 15 s;
* ``emopia-final-tracklist.csv``: ``ytId,Q,clipname,ytTitle``: EMOPIA clips with their quadrant
  (titles may hold quoted line breaks).

``MER-stratified-splits.json`` (optional) holds the thesis' train/validation/test ids, spelled
``s_<Filename>``, ``d_<clipId>`` and ``e_<clipname>``; these are the clip ids here too. The clip
audio is cut from the user's copies of the three corpora by :func:`cut_instrumental_clips`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

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
from mer_ser.corpora.audio import load_audio, write_wav
from mer_ser.corpora.labels import quadrant_from_av
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError

TRACKLISTS = {
    "deam": "deam-final-tracklist.csv",
    "soundtracks": "soundtracks-final-tracklist.csv",
    "emopia": "emopia-final-tracklist.csv",
}
#: Rodningen 2022: Soundtracks segments "clipped to the maximum duration possible between 10-15
#: seconds"; the tracklist gives no offset, so the first 15 s are used.
SOUNDTRACKS_MAX_S = 15.0


def read_tracklists(root: Path) -> pd.DataFrame:
    """All three tracklists as one table.

    Columns ``clip_id, source, source_file, start, end, group, arousal, valence, quadrant``
    (``start``/``end`` in seconds, NaN where the whole file is used).
    """
    rows = []
    p = find(root, TRACKLISTS["deam"], "instrumental MER", what="DEAM tracklist")
    df = read_ragged_csv(p)
    for _, r in df.iterrows():
        start, end = (float(x) for x in str(r[column(df, p, "secondsSlice")]).split("-"))
        rows.append(
            {
                "clip_id": f"d_{r[column(df, p, 'clipId')]}",
                "source": "deam",
                "source_file": str(r[column(df, p, "songId")]),
                "start": start,
                "end": end,
                "group": f"deam:{r[column(df, p, 'songId')]}",
                "arousal": r[column(df, p, "arousalAvg")],
                "valence": r[column(df, p, "valenceAvg")],
            }
        )
    p = find(root, TRACKLISTS["soundtracks"], "instrumental MER", what="Soundtracks tracklist")
    df = read_ragged_csv(p)
    for _, r in df.iterrows():
        f = str(r[column(df, p, "Filename")])
        title = f"{r[column(df, p, 'Artist')]}|{r[column(df, p, 'Title')]}".lower()
        rows.append(
            {
                "clip_id": f"s_{f}",
                "source": "soundtracks",
                "source_file": f,
                "start": 0.0,
                "end": SOUNDTRACKS_MAX_S,
                "group": f"soundtracks:{title}",
                "arousal": r[column(df, p, "Arousal")],
                "valence": r[column(df, p, "Valence")],
            }
        )
    p = find(root, TRACKLISTS["emopia"], "instrumental MER", what="EMOPIA tracklist")
    df = read_ragged_csv(p)
    for _, r in df.iterrows():
        stem = Path(str(r[column(df, p, "clipname")])).stem
        q = str(r[column(df, p, "Q")]).strip()
        rows.append(
            {
                "clip_id": f"e_{stem}",
                "source": "emopia",
                "source_file": stem,
                "start": np.nan,
                "end": np.nan,
                "group": f"emopia:{r[column(df, p, 'ytId')]}",
                "arousal": np.nan,
                "valence": np.nan,
                "quadrant": q if q.startswith("Q") else f"Q{q}",
            }
        )
    out = pd.DataFrame(rows)
    for dim in ("arousal", "valence"):
        out[dim] = numeric(out[dim], root, dim)
    av = out["arousal"].notna()
    out.loc[av, "quadrant"] = quadrant_from_av(out.loc[av, "arousal"], out.loc[av, "valence"])
    if out["clip_id"].duplicated().any():
        dup = out["clip_id"][out["clip_id"].duplicated()].tolist()[:5]
        raise AnnotationError(f"{root}: clips listed twice in the tracklists: {dup}")
    return out


def _splits(root: Path) -> dict[str, str]:
    p = find_optional(root, "MER-stratified-splits.json")
    if p is None:
        return {}
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as e:
        raise AnnotationError(f"{p}: not JSON ({e})") from e
    return {Path(cid).stem: part for part, ids in data.items() for cid in ids}


def load_instrumental(root, *, name: str = "instrumental_mer", audio: str | None = None):
    """The compilation: static [-1, 1] arousal/valence or quadrants, splits and song groups.

    DEAM and Soundtracks clips carry arousal/valence, EMOPIA clips quadrants; the thesis' splits
    are read from ``MER-stratified-splits.json``; segments of one song share a group.

    Args:
        root: folder with the tracklists (and the clip audio, by default).
        name: corpus name.
        audio: folder of clip audio named by clip id (``d_4_1.wav``, ...), relative to ``root``.
    """
    root = check_root(root, "instrumental MER")
    t = read_tracklists(root).set_index("clip_id")
    files = audio_index(root, under=(root / audio) if audio else None)
    ids, unmatched = match(name, root, t.index, files)
    t = t.loc[ids]
    static = static_table(ids, t["arousal"], t["valence"], quadrant=t["quadrant"])
    static["source"] = t["source"].to_numpy()
    return Corpus(
        name,
        root,
        clip_table(
            root,
            files,
            ids,
            domain="music",
            language="zxx",
            group=dict(zip(ids, t["group"], strict=True)),
            split=_splits(root),
        ),
        static=static,
        meta={
            "description": "instrumental MER compilation (Rodningen 2022)",
            "adapter": "instrumental",
            "label_rate": None,
            "scale": [-1.0, 1.0],
            "quadrant_table": "quadrant_from_av; EMOPIA quadrants given",
            "unmatched": unmatched,
        },
    )


def cut_instrumental_clips(
    root, *, deam=None, soundtracks=None, emopia=None, out=None, sr: int = 22050
) -> dict[str, list[str]]:
    """Cut the compilation's clips from local copies of DEAM, Soundtracks and EMOPIA.

    Each clip is written as ``<out>/<clip_id>.wav`` (mono, ``sr`` Hz, atomically); existing
    clips are kept, so an interrupted run resumes.

    Args:
        root: folder with the tracklists.
        deam: root of the user's DEAM copy (``None``: skip the DEAM clips).
        soundtracks: root of the Soundtracks copy (``Set1/``, ``Set2/``).
        emopia: folder of the user-built EMOPIA clip audio.
        out: output folder (default ``<root>/clips``).
        sr: sample rate of the clips.

    Returns:
        ``{"written": [...], "kept": [...], "missing": [...]}`` clip ids (missing: no source
        audio found in the given copies).
    """
    root = check_root(root, "instrumental MER")
    out = Path(out) if out else root / "clips"
    t = read_tracklists(root)
    sources = {}
    for key, src, pattern in (
        ("deam", deam, "MEMD_audio"),
        ("soundtracks", soundtracks, None),
        ("emopia", emopia, None),
    ):
        if src is None:
            continue
        base = check_root(src, key)
        if key == "soundtracks":
            idx = {}
            for s in (1, 2):
                folder = find_optional(base, f"Set{s}", kind="dir")
                if folder is not None:
                    idx.update({f"{s}_{k}": p for k, p in audio_index(base, under=folder).items()})
            sources[key] = idx
        else:
            under = find_optional(base, pattern, kind="dir") if pattern else None
            sources[key] = audio_index(base, under=under)
    report = {"written": [], "kept": [], "missing": []}

    for _, r in tqdm(list(t.iterrows()), desc="cutting clips", unit="clip"):
        dest = out / f"{r['clip_id']}.wav"
        if dest.is_file():
            report["kept"].append(r["clip_id"])
            continue
        path = sources.get(r["source"], {}).get(r["source_file"])
        if path is None:
            report["missing"].append(r["clip_id"])
            continue
        y, _ = load_audio(path, sr=sr)
        if not np.isnan(r["start"]):
            y = y[int(r["start"] * sr) : int(r["end"] * sr)]
        write_wav(dest, y, sr)
        report["written"].append(r["clip_id"])
    return report
