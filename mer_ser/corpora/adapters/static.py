"""Static and categorical corpora: MSP-Podcast, 4Q, EMOPIA, Soundtracks, EmoDB, RAVDESS.

Every adapter here returns a corpus with a ``static`` table: ``arousal``/``valence`` in [-1, 1]
(NaN where the corpus has categories only), the raw values on the original scale
(``meta["scale"]``), ``category`` and ``quadrant`` through the quadrant table named in
``meta["quadrant_table"]`` (``docs/corpora.md``, "Quadrants"; a :class:`QuadrantTable`
argument changes the convention).
"""

from __future__ import annotations

import json
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
    unique_rows,
)
from mer_ser.corpora.labels import (
    QUADRANT_TABLE_LEXICON,
    QuadrantTable,
)
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError, CorpusError

#: MSP-Podcast primary-emotion codes (official label README).
MSP_CATEGORIES = {
    "A": "anger",
    "S": "sadness",
    "H": "happiness",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "N": "neutral",
    "O": "other",
    "X": "no agreement",
}
MSP_SCALE = (1.0, 7.0)


def _msp_from_consensus(path: Path) -> pd.DataFrame:
    if path.suffix == ".json":
        data = json.loads(read_text(path))
        df = pd.DataFrame.from_dict(data, orient="index")
        df.insert(0, "FileName", df.index)
        df = df.astype(str)
    else:
        df = read_ragged_csv(path)
    need = {
        "file": column(df, path, "FileName"),
        "cls": column(df, path, "EmoClass"),
        "act": column(df, path, "EmoAct"),
        "val": column(df, path, "EmoVal"),
    }
    out = pd.DataFrame(
        {
            "file": df[need["file"]].astype(str),
            "cls": df[need["cls"]].astype(str).str.strip(),
            "act": numeric(df[need["act"]], path, "EmoAct"),
            "val": numeric(df[need["val"]], path, "EmoVal"),
        }
    )
    for k, names in (("spk", ("SpkrID",)), ("gender", ("Gender",)), ("split", ("Split_Set",))):
        try:
            out[k] = df[column(df, path, *names)].astype(str).to_numpy()
        except AnnotationError:
            out[k] = ""
    return out


def _msp_from_labels_txt(path: Path) -> pd.DataFrame:
    """The older block format: ``FILE.wav; N; A:2.4; V:4.0; D:2.8;`` then worker lines."""
    rows = []
    for ln, line in enumerate(read_text(path).splitlines(), 1):
        s = line.strip()
        if not s or s.upper().startswith("WORKER"):
            continue
        cells = [c.strip() for c in s.split(";") if c.strip()]
        vals = {c[0]: c[2:] for c in cells[2:] if len(c) > 2 and c[1] == ":"}
        if len(cells) < 4 or not cells[0].lower().endswith(".wav") or not {"A", "V"} <= set(vals):
            raise AnnotationError(f"{path}:{ln}: not a 'FILE.wav; C; A:..; V:..; D:..;' line")
        rows.append(
            {
                "file": cells[0],
                "cls": cells[1],
                "act": numeric([vals["A"]], path, "A")[0],
                "val": numeric([vals["V"]], path, "V")[0],
                "spk": "",
                "gender": "",
                "split": "",
            }
        )
    if not rows:
        raise AnnotationError(f"{path}: no label blocks")
    return pd.DataFrame(rows)


def load_msp_podcast(root, *, name: str = "msp_podcast") -> Corpus:
    """Load a local copy of MSP-Podcast (any release).

    Labels come from ``Labels/labels_consensus.csv`` (or the v1.6-1.8 spelling
    ``labels_concensus.csv``, the ``.json`` variant, or the older ``labels.txt`` blocks).
    ``EmoAct``/``EmoVal`` are means of 7-point SAM ratings (1-7) mapped to [-1, 1]; the quadrant
    comes from arousal and valence (the consensus category is kept in ``category``). The speaker
    (``SpkrID``; ``Unknown`` speakers each their own group) is the group and ``Split_Set`` the
    split. Partitions published without labels (Test3) simply have no rows.
    """
    root = check_root(root, "MSP-Podcast")
    path = None
    for pattern in (
        "labels_consensus.csv",
        "labels_concensus.csv",
        "labels_consensus.json",
        "labels.txt",
    ):
        path = find_optional(root, pattern)
        if path is not None:
            break
    if path is None:
        raise CorpusError(
            f"{root}: no MSP-Podcast labels (Labels/labels_consensus.csv, labels_concensus.csv, "
            "labels_consensus.json or labels.txt) under this root"
        )
    df = _msp_from_labels_txt(path) if path.suffix == ".txt" else _msp_from_consensus(path)
    df["id"] = df["file"].str.replace(r"\.wav$", "", regex=True)
    df = unique_rows(df, "id", path, what="file").set_index("id")
    audio_dir = find_optional(root, "Audios", kind="dir")
    audio = audio_index(root, under=audio_dir)
    ids, unmatched = match(name, root, df.index, audio)
    df = df.loc[ids]
    cats = [MSP_CATEGORIES.get(c, c) for c in df["cls"]]
    static = static_table(
        ids, df["act"], df["val"], category=cats, scale=MSP_SCALE, source=str(path)
    )
    spk = {
        i: (s if s not in ("", "Unknown", "nan") else f"unknown:{i}")
        for i, s in zip(ids, df["spk"], strict=True)
    }
    clips = clip_table(
        root,
        audio,
        ids,
        domain="speech",
        language="en",
        group=spk,
        split=dict(zip(ids, df["split"], strict=True)),
    )
    return Corpus(
        name,
        root,
        clips,
        static=static,
        meta={
            "description": f"MSP-Podcast ({path.name})",
            "adapter": "msp_podcast",
            "label_rate": None,
            "scale": list(MSP_SCALE),
            "quadrant_table": "quadrant_from_av",
            "category_codes": MSP_CATEGORIES,
            "unmatched": unmatched,
        },
    )


def load_4q(root, *, name: str = "4q") -> Corpus:
    """Load the 4Q audio emotion dataset (Panda et al. 2018, ``MER_audio_taffc_dataset/``).

    Quadrants from ``panda_dataset_taffc_annotations.csv``; the audio folder ``Q1..Q4`` must
    agree with it (a disagreement is an error naming both). No arousal/valence values. Artist
    from the metadata file (when present) is the group, so one artist's songs stay together.
    """
    root = check_root(root, "4Q")
    ann = find(root, "panda_dataset_taffc_annotations.csv", "4Q", what="annotations CSV")
    df = read_ragged_csv(ann)
    song, quad = column(df, ann, "Song"), column(df, ann, "Quadrant")
    df = pd.DataFrame({"song": df[song].astype(str), "quadrant": df[quad].astype(str).str.upper()})
    df = unique_rows(df, "song", ann, what="song")
    labels = dict(zip(df["song"], df["quadrant"], strict=True))
    bad = sorted({q for q in labels.values() if q not in ("Q1", "Q2", "Q3", "Q4")})
    if bad:
        raise AnnotationError(f"{ann}: unknown quadrants {bad}")
    labels_q = ("Q1", "Q2", "Q3", "Q4")
    base = ann.parent
    audio = audio_index(root, under=base, canonical=lambda p: p.parent.name.upper() in labels_q)
    for cid, p in audio.items():
        folder = p.parent.name.upper()
        if cid in labels and folder in ("Q1", "Q2", "Q3", "Q4") and folder != labels[cid]:
            raise AnnotationError(f"{p}: in folder {folder} but {ann.name} says {labels[cid]}")
    ids, unmatched = match(name, root, labels, audio)
    group = {}
    meta_file = find_optional(base, "panda_dataset_taffc_metadata.csv")
    if meta_file is not None:
        md = read_ragged_csv(meta_file)
        md = pd.DataFrame(
            {
                "song": md[column(md, meta_file, "Song")],
                "artist": md[column(md, meta_file, "Artist")],
            }
        ).dropna(subset=["song"])
        md = unique_rows(md, "song", meta_file, what="song").dropna(subset=["artist"])
        group = dict(zip(md["song"].astype(str), md["artist"].astype(str), strict=True))
    nan = np.full(len(ids), np.nan)
    static = static_table(
        ids, nan, nan, category=[labels[i] for i in ids], quadrant=[labels[i] for i in ids]
    )
    return Corpus(
        name,
        root,
        clip_table(
            root, audio, ids, domain="music", language="und", group=lambda c: group.get(c, c)
        ),
        static=static,
        meta={
            "description": "4Q audio emotion dataset (Panda, Malheiro & Paiva 2018)",
            "adapter": "4q",
            "label_rate": None,
            "scale": None,
            "quadrant_table": "given (Russell quadrants)",
            "unmatched": unmatched,
        },
    )


_EMODB = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")
EMODB_EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
EMODB_MALE = {"03", "10", "11", "12", "15"}


def load_emodb(root, *, name: str = "emodb", table: QuadrantTable = QUADRANT_TABLE_LEXICON):
    """Load EmoDB (Berlin): labels from the file names ``SSTTTEV.wav`` (speaker = group).

    Categories go to quadrants through ``table`` (default ``lexicon``; neutral has none).
    Files whose names do not follow the pattern are listed as audio without labels.
    """
    root = check_root(root, "EmoDB")
    wav = find(root, "wav", "EmoDB", kind="dir", what="wav/ folder")
    audio = audio_index(root, under=wav)
    labels = {k: _EMODB.match(k) for k in audio if _EMODB.match(k)}
    ids, unmatched = match(name, root, labels, audio)
    cats = [EMODB_EMOTIONS[labels[i].group(3)] for i in ids]
    quads = table(cats, source=str(wav))
    nan = np.full(len(ids), np.nan)
    static = static_table(ids, nan, nan, category=cats, quadrant=quads)
    return Corpus(
        name,
        root,
        clip_table(
            root, audio, ids, domain="speech", language="de", group=lambda c: labels[c].group(1)
        ),
        static=static,
        meta={
            "description": "Berlin Database of Emotional Speech (EmoDB)",
            "adapter": "emodb",
            "label_rate": None,
            "scale": None,
            "quadrant_table": table.name,
            "speaker_sex": {
                s: ("male" if s in EMODB_MALE else "female")
                for s in sorted({labels[i].group(1) for i in ids})
            },
            "unmatched": unmatched,
        },
    )


_RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}


def load_ravdess(
    root,
    *,
    name: str = "ravdess",
    channel: str = "speech",
    table: QuadrantTable = QUADRANT_TABLE_LEXICON,
):
    """Load RAVDESS audio (``Actor_NN/03-01-EE-II-SS-RR-AA.wav``); the actor is the group.

    Args:
        root: folder above ``Audio_Speech_Actors_01-24`` / ``Audio_Song_Actors_01-24``.
        name: corpus name.
        channel: ``"speech"`` (vocal channel 01) or ``"song"`` (02; the domain is still
            speech: sung by actors, but the corpus' question is vocal expression).
        table: category -> quadrant convention (``lexicon``: calm Q4, neutral none).
    """
    root = check_root(root, "RAVDESS")
    if channel not in ("speech", "song"):
        raise ValueError(f"RAVDESS channel must be 'speech' or 'song', got {channel!r}")
    want = {"speech": "01", "song": "02"}[channel]
    audio = {k: p for k, p in audio_index(root).items() if _RAVDESS.match(k)}
    if not audio:
        raise CorpusError(f"{root}: no RAVDESS files named like 03-01-01-01-01-01-01.wav")
    labels = {k: _RAVDESS.match(k) for k in audio if _RAVDESS.match(k).group(2) == want}
    audio = {k: p for k, p in audio.items() if k in labels}
    ids, unmatched = match(name, root, labels, audio)
    for i in ids:
        if labels[i].group(3) not in RAVDESS_EMOTIONS:
            raise AnnotationError(
                f"{audio[i]}: emotion code {labels[i].group(3)!r} (third field) is not a RAVDESS "
                f"code {sorted(RAVDESS_EMOTIONS)}"
            )
    cats = [RAVDESS_EMOTIONS[labels[i].group(3)] for i in ids]
    nan = np.full(len(ids), np.nan)
    static = static_table(ids, nan, nan, category=cats, quadrant=table(cats, source=str(root)))
    static["intensity"] = ["strong" if labels[i].group(4) == "02" else "normal" for i in ids]
    return Corpus(
        name,
        root,
        clip_table(
            root, audio, ids, domain="speech", language="en", group=lambda c: labels[c].group(7)
        ),
        static=static,
        meta={
            "description": f"RAVDESS ({channel})",
            "adapter": "ravdess",
            "label_rate": None,
            "scale": None,
            "quadrant_table": table.name,
            "unmatched": unmatched,
        },
    )


def emopia_clip(name: str) -> tuple[str, str, str]:
    """``Q{q}_{YouTubeID}_{index}`` -> ``(quadrant, song id, clip index)``.

    YouTube ids may contain ``_`` and ``-`` or start with ``_`` (a double underscore), so the
    quadrant is characters 1..2 and the index follows the *last* underscore.
    """
    stem = Path(name).stem
    if not re.match(r"^Q[1-4]_.+_\d+$", stem):
        raise AnnotationError(f"{name!r} is not an EMOPIA clip name Q<q>_<YouTubeID>_<index>")
    return f"Q{stem[1]}", stem[3 : stem.rindex("_")], stem[stem.rindex("_") + 1 :]


def load_emopia(root, *, name: str = "emopia", audio: str | None = None) -> Corpus:
    """EMOPIA (Zenodo 1.0/2.x): quadrant labels of piano clips; audio built by the user.

    Labels come from ``label.csv`` (``ID,4Q,annotator``; clip names also carry the quadrant,
    and a disagreement is an error). The official splits (``split/train.csv``, ``val.csv``,
    ``test.csv``: ``fname,label``) give the split when present. The YouTube song is the group,
    so clips of one song stay together. Audio is not in the archive: clips are searched under
    ``audio`` (default: anywhere below ``root``, e.g. ``audios/seg/Q1_xxx_0.mp3``).
    """
    root = check_root(root, "EMOPIA")
    lab = find(root, "label.csv", "EMOPIA", what="label.csv")
    df = read_ragged_csv(lab)
    idc, qc = column(df, lab, "ID", "fname"), column(df, lab, "4Q", "label")
    df = unique_rows(df[[idc, qc]], idc, lab, what="clip")
    labels = {}
    for cid, q in zip(df[idc].astype(str), df[qc].astype(str), strict=True):
        quad, _, _ = emopia_clip(cid)
        given = q if q.upper().startswith("Q") else f"Q{q}"
        if given.upper() != quad:
            raise AnnotationError(f"{lab}: clip {cid} is named {quad} but labelled {q}")
        labels[Path(cid).stem] = quad
    split = {}
    for part in ("train", "val", "test"):
        p = find_optional(root, f"split/{part}.csv")
        if p is not None:
            sp = read_ragged_csv(p)
            split.update({Path(f).stem: part for f in sp[column(sp, p, "fname")].astype(str)})
    files = audio_index(root, under=(root / audio) if audio else None)
    files = {k: v for k, v in files.items() if re.match(r"^Q[1-4]_.+_\d+$", k)}
    ids, unmatched = match(name, root, labels, files)
    nan = np.full(len(ids), np.nan)
    q = [labels[i] for i in ids]
    return Corpus(
        name,
        root,
        clip_table(
            root,
            files,
            ids,
            domain="music",
            language="zxx",
            group=lambda c: emopia_clip(c)[1],
            split=split,
        ),
        static=static_table(ids, nan, nan, category=q, quadrant=q),
        meta={
            "description": "EMOPIA (pop piano clips)",
            "adapter": "emopia",
            "label_rate": None,
            "scale": None,
            "quadrant_table": "given (Russell quadrants)",
            "unmatched": unmatched,
        },
    )


SOUNDTRACKS_SCALE = (1.0, 9.0)


def load_soundtracks(root, *, name: str = "soundtracks", sets: tuple[int, ...] = (1, 2)):
    """Soundtracks (Eerola & Vuoskoski 2011): ``mean_ratings_set{1,2}.csv`` + ``NNN.mp3``.

    Ids are ``{set}_{NNN}`` (zero padding kept). Valence and energy (the energy-arousal of the
    three-dimensional model) on the README's 1-9 scale map to [-1, 1]; tension stays in
    ``tension_raw``; ``TARGET`` is the category and the quadrant comes from valence and energy.
    Set 2's ``link`` names the Set 1 excerpt with the same audio, which becomes the shared group.
    """
    root = check_root(root, "Soundtracks")
    rows, audio = [], {}
    for s in sets:
        csv_path = find(root, f"mean_ratings_set{s}.csv", "Soundtracks")
        df = read_ragged_csv(csv_path)
        df = df[[c for c in df.columns if not c.lower().startswith("unnamed") and c]]
        num = df[column(df, csv_path, "number")].astype(str).str.zfill(3)
        link = df[column(df, csv_path, "link")] if "link" in map(str.lower, df.columns) else None
        for i, n in enumerate(num):
            rows.append(
                {
                    "id": f"{s}_{n}",
                    "valence": numeric(
                        [df[column(df, csv_path, "valence")].iloc[i]], csv_path, "valence"
                    )[0],
                    "energy": numeric(
                        [df[column(df, csv_path, "energy")].iloc[i]], csv_path, "energy"
                    )[0],
                    "tension": numeric(
                        [df[column(df, csv_path, "tension")].iloc[i]], csv_path, "tension"
                    )[0],
                    "target": df[column(df, csv_path, "TARGET")].iloc[i],
                    "group": f"1_{str(link.iloc[i]).zfill(3)}"
                    if link is not None and isinstance(link.iloc[i], str)
                    else f"{s}_{n}",
                }
            )
        folder = find_optional(root, f"Set{s}", kind="dir")
        if folder is None:
            raise CorpusError(f"{root}: no Set{s}/ folder with the Set {s} excerpts")
        audio.update({f"{s}_{k}": p for k, p in audio_index(root, under=folder).items()})
    df = pd.DataFrame(rows).set_index("id")
    ids, unmatched = match(name, root, df.index, audio)
    df = df.loc[ids]
    static = static_table(
        ids,
        df["energy"],
        df["valence"],
        category=df["target"].str.lower(),
        scale=SOUNDTRACKS_SCALE,
        source=str(root),
    )
    static["tension_raw"] = df["tension"].to_numpy()
    return Corpus(
        name,
        root,
        clip_table(
            root,
            audio,
            ids,
            domain="music",
            language="zxx",
            group=dict(zip(ids, df["group"], strict=True)),
        ),
        static=static,
        meta={
            "description": "Soundtracks (Eerola & Vuoskoski 2011), film music excerpts",
            "adapter": "soundtracks",
            "label_rate": None,
            "scale": list(SOUNDTRACKS_SCALE),
            "arousal_is": "energy",
            "quadrant_table": "quadrant_from_av",
            "unmatched": unmatched,
        },
    )


def load_static_csv(
    root,
    *,
    labels: str,
    domain: str,
    name: str = "static_csv",
    scale: tuple[float, float] | None = None,
    id_column: str = "clip_id",
    arousal_column: str | None = "arousal",
    valence_column: str | None = "valence",
    category_column: str | None = None,
    table: QuadrantTable = QUADRANT_TABLE_LEXICON,
    language: str = "und",
    group_column: str | None = None,
    split_column: str | None = None,
    audio: str | None = None,
) -> Corpus:
    """A generic clip-level corpus (e.g. CH-818): a CSV of labels plus audio named by id.

    The CSV holds ids with arousal/valence (on ``scale``) and/or categories.

    Args:
        root: corpus folder.
        labels: the CSV relative to ``root``.
        domain: ``"speech"`` or ``"music"``.
        name: corpus name.
        scale: original scale of arousal/valence ``(lo, hi)`` (required with those columns).
        id_column: the id column (names are matched ignoring case and spaces).
        arousal_column: arousal column, or ``None``.
        valence_column: valence column, or ``None``.
        category_column: category column, or ``None``.
        group_column: group column (singer, album), or ``None``.
        split_column: split column, or ``None``.
        table: category -> quadrant convention when there are no arousal/valence values.
        language: ISO 639 code.
        audio: audio folder relative to ``root`` (default: all of it).
    """
    root = check_root(root, name)
    path = root / labels
    df = read_ragged_csv(path)
    df = unique_rows(df, column(df, path, id_column), path, what="clip")
    ids = df[column(df, path, id_column)].astype(str).to_numpy()
    n = len(df)
    has_av = arousal_column is not None and valence_column is not None
    if has_av and scale is None:
        raise ValueError("arousal/valence columns need their scale=(lo, hi)")
    a_raw = (
        numeric(df[column(df, path, arousal_column)], path, "arousal")
        if has_av
        else np.full(n, np.nan)
    )
    v_raw = (
        numeric(df[column(df, path, valence_column)], path, "valence")
        if has_av
        else np.full(n, np.nan)
    )
    cats = (
        df[column(df, path, category_column)].astype(str).to_numpy()
        if category_column
        else np.full(n, np.nan, dtype=object)
    )
    if has_av:
        quad, convention = None, "quadrant_from_av"
    elif category_column:
        quad, convention = table(cats, source=str(path)), table.name
    else:
        raise ValueError("need arousal/valence columns or a category column")
    static = static_table(
        ids,
        a_raw,
        v_raw,
        category=cats,
        quadrant=quad,
        scale=scale if has_av else None,
        source=str(path),
    )
    if static.index.has_duplicates:
        raise AnnotationError(
            f"{path}: ids listed twice: {static.index[static.index.duplicated()][:5].tolist()}"
        )
    files = audio_index(root, under=(root / audio) if audio else None)
    keep, unmatched = match(name, root, static.index, files)
    extra = {}
    for key, col in (("group", group_column), ("split", split_column)):
        if col:
            extra[key] = dict(zip(ids, df[column(df, path, col)].astype(str), strict=True))
    return Corpus(
        name,
        root,
        clip_table(root, files, keep, domain=domain, language=language, **extra),
        static=static.loc[keep],
        meta={
            "description": f"generic static CSV ({labels})",
            "adapter": "static_csv",
            "label_rate": None,
            "scale": list(scale) if scale else None,
            "quadrant_table": convention,
            "unmatched": unmatched,
        },
    )
