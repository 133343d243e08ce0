"""Tiny copies of real corpus layouts (``docs/corpora.md``), written by the tests.

Folder names, file names, headers and quirks are the real ones (spaces and parentheses in DEAM
folders, leading spaces in headers, ragged rows, the ``valence_ max_mean`` typo, optional
``WorkerId`` columns, ``;``-separated RECOLA ratings with trailing spaces in rater names, quoted
4Q metadata, zero-padded ids, mixed sample rates and channel counts). Values are made up but
deterministic, and every function returns what it wrote so tests can check value by value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(path: Path, seconds: float, *, sr: int = 16000, channels: int = 1, f0: float = 220.0):
    """A short harmonic tone with a slow amplitude envelope (not silent, not constant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * f0 * t) * (1.2 + np.sin(2 * np.pi * 0.3 * t)) / 2.2
    y += 0.05 * np.sin(2 * np.pi * 3 * f0 * t)
    data = np.stack([y] * channels, axis=1) if channels > 1 else y
    fmt = {".mp3": "MP3", ".flac": "FLAC", ".wav": "WAV"}[path.suffix]
    sf.write(str(path), data.astype(np.float32), sr, format=fmt)
    return path


def _trace(n: int, seed: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 0.05, n))
    x = np.tanh(x)
    return np.round(lo + (x + 1) / 2 * (hi - lo), 4)


# ----------------------------------------------------------------------------------- RECOLA
def write_recola(root: Path, *, seconds: float = 12.0, n: dict | None = None) -> dict:
    """AVEC 2016 RECOLA: ``recordings_audio``, gold ARFFs, ``;`` rating CSVs; test unlabelled."""
    n = n or {"train": 2, "dev": 2, "test": 1}
    frames = round(seconds / 0.04) + 1
    t = np.round(np.arange(frames) * 0.04, 2)
    gold, ratings = {}, {}
    for part, count in n.items():
        for i in range(1, count + 1):
            cid = f"{part}_{i}"
            tone(root / "recordings_audio" / f"{cid}.wav", seconds, sr=44100, f0=150 + 20 * i)
            if part == "test":
                continue
            for d, dim in enumerate(("arousal", "valence")):
                g = _trace(frames, 10 * i + d + {"train": 0, "dev": 3}[part])
                gold[(cid, dim)] = g
                lines = [
                    f"@relation GOLDSTANDARD_{dim.upper()}",
                    "",
                    "@attribute Instance_name string",
                    "@attribute frameTime numeric",
                    "@attribute GoldStandard numeric",
                    "",
                    "@data",
                    "",
                ]
                quote = "'" if i % 2 else ""  # quoted and unquoted Instance_name both occur
                lines += [
                    f"{quote}{cid}{quote},{tt:.6f},{v:.6f}" for tt, v in zip(t, g, strict=False)
                ]
                p = root / "ratings_gold_standard" / dim / f"{cid}.arff"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text("\n".join(lines) + "\n")
                r = np.stack([_trace(frames, 100 * i + 10 * d + k) for k in range(6)], 1)
                r = np.round(r, 2)
                ratings[(cid, dim)] = r
                rows = ["time;FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3"]
                rows += [
                    f"{tt:.2f};" + ";".join(f"{v:.2f}" for v in rr)
                    for tt, rr in zip(t, r, strict=False)
                ]
                p = root / "ratings_individual" / dim / f"{cid}.csv"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text("\n".join(rows) + "\n")
    return {"times": t, "gold": gold, "ratings": ratings}


# ------------------------------------------------------------------------------------- DEAM
DEAM_SONGS = {  # song id -> (seconds, sample rate, channels, subset)
    "2": (17.5, 44100, 2, "2013"),
    "3": (17.0, 22050, 1, "2013"),
    "1001": (17.5, 48000, 2, "2014"),
    "2001": (19.0, 44100, 2, "2015"),
}


def write_deam(root: Path, songs: dict | None = None) -> dict:
    """DEAM as unzipped from its three archives (``DEAM_audio``, ``DEAM_Annotations``, metadata)."""
    songs = songs or DEAM_SONGS
    ann = root / "DEAM_Annotations" / "annotations"
    avg = ann / "annotations averaged per song"
    dyn = avg / "dynamic (per second annotations)"
    rater = ann / "annotations per each rater" / "dynamic (per second annotations)"
    for sid, (sec, sr, ch, _) in songs.items():
        tone(root / "DEAM_audio" / "MEMD_audio" / f"{sid}.mp3", sec, sr=sr, channels=ch)
    longest = max(s[0] for s in songs.values())
    cols = [int(ms) for ms in np.arange(15000, longest * 1000 + 1, 500)]
    header = "song_id," + ",".join(f"sample_{ms}ms" for ms in cols)
    values = {}
    for d, dim in enumerate(("arousal", "valence")):
        lines = [header]
        for k, (sid, (sec, *_)) in enumerate(songs.items()):
            n = sum(ms <= sec * 1000 for ms in cols)
            v = _trace(n, 7 * k + d)
            values[(sid, dim)] = (np.asarray(cols[:n]) / 1000.0, v)
            cells = [f"{x:.4f}" for x in v]
            # 2013-style rows end with empty cells; a 2015 row is the longest; one row is short
            # with no trailing commas (ragged)
            tail = [""] * (len(cols) - n) if sid != "3" else []
            lines.append(",".join([sid, *cells, *tail]))
        dyn.mkdir(parents=True, exist_ok=True)
        (dyn / f"{dim}.csv").write_text("\n".join(lines) + "\n")
        for k, (sid, (sec, *_)) in enumerate(songs.items()):
            n = sum(ms <= sec * 1000 for ms in cols)
            worker = k % 2 == 0  # some per-rater files start with WorkerId, others do not
            head = ("WorkerId," if worker else "") + ",".join(f"sample_{ms}ms" for ms in cols[:n])
            rows = [head]
            for r in range(3):
                v = _trace(n, 1000 + 31 * k + 7 * r + d)
                rows.append((f"W{r:03d}," if worker else "") + ",".join(f"{x:.3f}" for x in v))
            p = rater / dim / f"{sid}.csv"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("\n".join(rows) + "\n")
    song_level = avg / "song_level"
    song_level.mkdir(parents=True, exist_ok=True)
    static = {}
    lines = ["song_id, valence_mean, valence_std, arousal_mean, arousal_std"]
    lines2 = [
        "song_id, valence_mean, valence_std, valence_ max_mean, valence_max_std, "
        "valence_min_mean, valence_min_std, arousal_mean, arousal_std, arousal_max_mean, "
        "arousal_max_std, arousal_min_mean, arousal_min_std"
    ]
    for k, sid in enumerate(songs):
        v, a = round(1.6 + 0.9 * k, 1), round(8.1 - 1.1 * k, 1)
        static[sid] = (a, v)
        if int(sid) <= 2000:
            lines.append(f"{sid},{v},0.94,{a},0.63")
        else:
            lines2.append(f"{sid},{v},0.98,5.0,1.41,2.2,0.98,{a},0.8,8.6,0.49,3.4,1.02")
    (song_level / "static_annotations_averaged_songs_1_2000.csv").write_text("\n".join(lines))
    (song_level / "static_annotations_averaged_songs_2000_2058.csv").write_text(
        "\n".join(lines2) + "\n"
    )
    md = root / "metadata"
    md.mkdir(parents=True, exist_ok=True)
    by_year = {y: [s for s, v in songs.items() if v[3] == y] for y in ("2013", "2014", "2015")}
    (md / "metadata_2013.csv").write_text(
        "song_id,file_name,Artist,Song title,start of the segment (min.sec),"
        "end of the segment (min.sec),Genre\n"
        + "".join(f"{s},{s}.mp3,Artist\t{s},Title,0.30,1.15,Rock\n" for s in by_year["2013"])
    )
    (md / "metadata_2014.csv").write_text(
        "Id,Artist,Album,Track,Genre,start,end\n"
        + "".join(f"{s},A,B,C,Jazz,0,45,tag1,tag2,tag3\n" for s in by_year["2014"])
    )
    (md / "metadata_2015.csv").write_text(
        "id,file_name,title,artist,album,genre\n"
        + "".join(f"{s},{s}.mp3,T,A,n/a,Pop,Extra\n" for s in by_year["2015"])
    )
    return {"dynamic": values, "static": static, "cols": cols}


# ------------------------------------------------------------------------------ MSP-Podcast
MSP_ROWS = [  # the first two rows are the real head rows of labels_consensus.csv
    ("MSP-PODCAST_0001_0008.wav", "N", 2.2, 4.0, 2.6, "30", "Male", "Test1"),
    ("MSP-PODCAST_0001_0009.wav", "N", 3.777778, 3.555556, 3.777778, "39", "Male", "Test1"),
    ("MSP-PODCAST_0002_0001.wav", "A", 6.2, 1.8, 5.0, "Unknown", "Unknown", "Train"),
    ("MSP-PODCAST_0003_0004.wav", "H", 5.6, 6.4, 4.1, "112", "Female", "Development"),
    ("MSP-PODCAST_0004_0002.wav", "S", 2.0, 2.2, 3.0, "112", "Female", "Train"),
]


def write_msp_podcast(root: Path, *, version: str = "consensus") -> list:
    """``MSP-PODCAST-Publish-<ver>/`` with ``Audios/`` and one of the label files.

    ``version``: ``"consensus"`` (1.11+/2.0), ``"concensus"`` (v1.6-1.8 spelling), ``"json"``
    or ``"txt"`` (the older block format).
    One labelled file has no audio, and one audio file has no labels.
    """
    base = root / "MSP-PODCAST-Publish-1.8"
    for i, (f, *_) in enumerate(MSP_ROWS[:-1]):
        tone(base / "Audios" / f, 2.5 + 0.25 * i, f0=180 + 10 * i)
    tone(base / "Audios" / "MSP-PODCAST_9999_0001.wav", 2.0)
    labels = base / "Labels"
    labels.mkdir(parents=True, exist_ok=True)
    if version == "json":  # some releases (e.g. 1.12): keyed by file name
        import json

        keys = ["EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]
        data = {r[0]: dict(zip(keys, r[1:], strict=True)) for r in MSP_ROWS}
        (labels / "labels_consensus.json").write_text(json.dumps(data, indent=1))
    elif version == "txt":
        blocks = []
        for f, c, a, v, d, *_ in MSP_ROWS:
            blocks.append(
                f"{f}; {c}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f};\n"
                f"WORKER00000001; Neutral; Neutral; A:1.000000; V:4.000000; D:2.000000;\n"
            )
        (labels / "labels.txt").write_text("\n".join(blocks))
    else:
        name = "labels_consensus.csv" if version == "consensus" else "labels_concensus.csv"
        lines = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
        lines += [",".join(map(str, r)) for r in MSP_ROWS]
        (labels / name).write_text("\n".join(lines) + "\n")
    return MSP_ROWS


# --------------------------------------------------------------------------------------- 4Q
FOURQ = [
    ("MT0000040632", "Q1", "Gipsy Kings"),
    ("MT0000004637", "Q3", "Harry Connick; Jr."),
    ("MT0000011357", "Q2", "Band"),
    ("MT0000022222", "Q4", "Band"),
    ("MT0000033333", "Q4", "Other"),
]


def write_4q(root: Path) -> list:
    """``MER_audio_taffc_dataset/`` with ``Q1..Q4`` folders, the annotations and quoted metadata."""
    base = root / "MER_audio_taffc_dataset"
    for i, (song, q, _) in enumerate(FOURQ):
        tone(base / q / f"{song}.mp3", 3.0, sr=22050 if i % 2 else 44100, channels=2, f0=200 + i)
    (base / "panda_dataset_taffc_annotations.csv").write_text(
        "Song,Quadrant\n" + "".join(f"{s},{q}\n" for s, q, _ in FOURQ)
    )
    head = (
        '"Song","Artist","Title","Quadrant","PQuad","MoodsTotal","Moods","MoodsFoundStr",'
        '"MoodsStr","MoodsStrSplit","Genres","GenresStr","Sample","SampleURL"'
    )
    rows = [head]
    for s, q, artist in FOURQ:
        rows.append(
            f'"{s}","{artist}","A ""quoted"" title","{q}",0.75,4,3,"fiery; sexy",'
            f'"Cathartic; Fiery","Cathartic; Fiery",2,"International; Jazz",1,"http://x"'
        )
    (base / "panda_dataset_taffc_metadata.csv").write_text("\n".join(rows) + "\n")
    return FOURQ


# --------------------------------------------------------------------------------- emoMusic
def write_emomusic(root: Path) -> dict:
    """The 2013 "1000 songs" layout: 61 2-Hz columns, songs_info.csv at the root."""
    cols = [int(ms) for ms in np.arange(15000, 45001, 500)]
    header = "song_id," + ",".join(f"sample_{ms}ms" for ms in cols)
    vals = {}
    for d, dim in enumerate(("arousal", "valence")):
        lines = [header]
        for k, sid in enumerate(("2", "3", "5")):
            v = _trace(len(cols), 50 + 3 * k + d)
            vals[(sid, dim)] = v
            lines.append(",".join([sid, *(f"{x:.15f}" for x in v)]))
        p = root / "annotations" / f"{dim}_cont_average.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n")
    (root / "annotations" / "static_annotations.csv").write_text(
        "song_id,mean_arousal,std_arousal,mean_valence,std_valence\n"
        "2,3.1,0.9,5.2,1.1\n3,6.0,1.0,2.4,0.8\n5,4.4,1.2,7.7,0.5\n"
    )
    (root / "songs_info.csv").write_text(
        "song_id,file_name,Artist,Song title,start of the segment (min.sec),"
        "end of the segment (min.sec),Genre,Mediaeval 2013 set\n"
        "2,2.mp3,A\tB,T,0.30,1.15,Rock,development\n3,3.mp3,C,T,0.30,1.15,Pop,development\n"
        "5,5.mp3,D,T,0.30,1.15,Jazz,evaluation\n"
    )
    for sid in ("2", "3", "5"):
        tone(root / "clips_45seconds" / f"{sid}.mp3", 45.5, sr=44100, channels=2)
    return {"dynamic": vals, "cols": cols}


# ------------------------------------------------------------------------------------ PMEmo
def write_pmemo(root: Path) -> dict:
    base = root / "PMEmo2019"
    truth = {}
    rows = ["musicId,frameTime,Arousal(mean),Valence(mean)"]
    for mid, n in ((1, 6), (4, 5)):
        t = 15.5 + 0.5 * np.arange(n)
        a, v = (_trace(n, mid + k, 0, 1) for k in (0, 1))
        truth[str(mid)] = (t, a, v)
        rows += [f"{mid},{tt},{aa},{vv}" for tt, aa, vv in zip(t, a, v, strict=False)]
        tone(base / "chorus" / f"{mid}.mp3", 19.0, sr=44100, channels=2)
    tone(base / "chorus" / "9.mp3", 18.0)  # a chorus without annotations (767 of 794)
    (base / "annotations").mkdir(parents=True, exist_ok=True)
    (base / "annotations" / "dynamic_annotations.csv").write_text("\n".join(rows) + "\n")
    (base / "annotations" / "static_annotations.csv").write_text(
        "musicId,Arousal(mean),Valence(mean)\n1,0.4,0.575\n4,0.25,0.3\n9,0.5,0.5\n"
    )
    (base / "metadata.csv").write_text(
        "musicId,fileName,title,artist,album,duration,chorus_start_time,chorus_end_time\n"
    )
    return truth


# ---------------------------------------------------------------------------------- SEMAINE
def write_semaine(root: Path) -> dict:
    """One AVEC 2012 copy's layout: ``.dat`` traces at 49.979 Hz; ``tests`` in file names."""
    truth = {}
    for part, file_part, session in (
        ("train", "train", "001"),
        ("devel", "devel", "002"),
        ("test", "tests", "003"),
    ):
        for d, dim in enumerate(("arousal", "valence", "power", "expectancy")):
            v = _trace(150, int(session) * 10 + d, -0.6, 0.6)
            truth[(f"{file_part.rstrip('s')}_{session}", dim)] = v
            p = (
                root
                / "emotion labels"
                / part
                / f"FC_{part}_labels"
                / f"labels_continuous_{file_part}{session}_{dim}.dat"
            )
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("\n".join(f"{x:.6f}" for x in v) + "\n")
        tone(root / "audio" / f"{file_part}_audio{session}.wav", 3.2, sr=48000)
    return truth


# --------------------------------------------------------------------------- generic tables
def write_continuous_csv(root: Path) -> dict:
    """A music-psychology-like set: one long CSV on a 1-9 scale at 1 Hz, audio in pieces/."""
    rows = ["Piece,Composer,Second,Arousal,Valence"]
    truth = {}
    for k, piece in enumerate(("bach_01", "grieg_02")):
        a, v = _trace(8, k, 1, 9), _trace(8, k + 5, 1, 9)
        truth[piece] = (a, v)
        rows += [f"{piece},C{k},{s},{x},{y}" for s, x, y in zip(range(8), a, v, strict=False)]
        tone(root / "pieces" / f"{piece}.wav", 8.0)
    (root / "ratings.csv").write_text("\n".join(rows) + "\n")
    return truth


def write_static_csv(root: Path) -> None:
    """A CH-818-like private set: ``id,valence,arousal`` on -10..10 plus audio."""
    (root / "labels.csv").write_text(
        "ID,Valence,Arousal,Singer\n001,5,8,A\n002,-4,6,B\n003,-2,-7,A\n"
    )
    for i in ("001", "002", "003"):
        tone(root / "audio" / f"{i}.mp3", 2.0, sr=44100, channels=2)


# ------------------------------------------------------------------------------------ EMOPIA
EMOPIA_CLIPS = [
    "Q1__8v0MFBZoco_0",
    "Q1__8v0MFBZoco_1",
    "Q2_aYe-2Glruu4_2",
    "Q3_zjr_-ql5Avk_0",
    "Q4_e8NQ2NH0nc8_0",
]


def write_emopia(root: Path) -> list:
    base = root / "EMOPIA_2.2"
    (base / "midis").mkdir(parents=True, exist_ok=True)
    (base / "label.csv").write_text(
        "ID,4Q,annotator\n" + "".join(f"{c},{c[1]},a1\n" for c in EMOPIA_CLIPS)
    )
    (base / "metadata_by_song.csv").write_text(
        "songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ\ne8NQ2NH0nc8,0,0,0,1,4\n"
    )
    (base / "split").mkdir()
    (base / "split" / "train.csv").write_text(
        "fname,label\n" + "".join(f"{c},Q{c[1]}\n" for c in EMOPIA_CLIPS[:3])
    )
    (base / "split" / "test.csv").write_text(
        "fname,label\n" + "".join(f"{c},Q{c[1]}\n" for c in EMOPIA_CLIPS[3:])
    )
    for c in EMOPIA_CLIPS[:-1]:  # the user built audio for all clips but one
        tone(base / "audios" / "seg" / f"{c}.mp3", 2.0, sr=22050)
    return EMOPIA_CLIPS


# ------------------------------------------------------------------------------- Soundtracks
def write_soundtracks(root: Path) -> dict:
    """OSF layout: Set1/Set1/ (nested unzip), Set2/; lowercase ``number`` in Set 1 with two
    trailing empty columns; Set 2 with ``link`` to Set 1."""
    (root / "mean_ratings_set1.csv").write_text(
        "number,valence,energy,tension,anger,fear,happy,sad,tender,TARGET,,\n"
        "001,4.83,6.83,3.17,1.00,1.00,7.33,1.00,1.00,HAPPY,,\n"
        "002,2.10,2.50,6.00,1.00,5.50,1.00,6.00,1.00,SAD,,\n"
    )
    (root / "mean_ratings_set2.csv").write_text(
        "Number,Valence,Energy,Tension,Anger,Fear,Happy,Sad,Tender,Beauty,Liking,TARGET,"
        "soundtrack,link\n"
        "001,2.56,7.73,8.38,6.39,4.40,1.21,1.75,1.01,4.71,4.97,ANGER_HIGH,Lethal weapon 3,002\n"
    )
    for s, n in (("1", "001"), ("1", "002"), ("2", "001")):
        folder = root / "Set1" / "Set1" if s == "1" else root / "Set2"
        tone(folder / f"{n}.mp3", 2.0, sr=44100, channels=2)
    return {"1_001": (6.83, 4.83), "1_002": (2.50, 2.10), "2_001": (7.73, 2.56)}


# ----------------------------------------------------------------- instrumental compilation
def write_instrumental(root: Path) -> None:
    """The three tracklists and the split file of the thesis' data repository (real head rows)."""
    (root / "deam-final-tracklist.csv").write_text(
        "songId,clipId,songNumberOfClips,artist,title,secondsSlice,duration,arousalAvg,"
        "arousalStd,valenceAvg,valenceStd\n"
        "4,4_1,2,Kevin MacLeod,Slow Burn,15.0-25.0,10.0,0.1766,0.012,0.1188,0.036\n"
        "4,4_2,2,Kevin MacLeod,Slow Burn,30.0-45.0,15.0,0.2931,0.0157,0.1939,0.02\n"
    )
    (root / "soundtracks-final-tracklist.csv").write_text(
        "Set,Nro,Filename,FoundByAPI,Title,Artist,SpotifyId,Valence,Arousal\n"
        "1,53,1_053,1,The Stranger,James Horner,42cxGI452dmBWVdjdefkUC,-0.15,-0.7\n"
        '1,7,1_007,1,"Cleve and his Mule - Scherzo (From ""How The West Was Won"")",The City of '
        "Prague Philharmonic Orchestra,3qcGMnBOMfldUmazYExz8E,0.1,0.3\n"
    )
    (root / "emopia-final-tracklist.csv").write_text(
        "ytId,Q,clipname,ytTitle\n"
        '3N2G21U7guk,1,Q1_3N2G21U7guk_3.mp3,"""King of Kings"" - Hillsong (Piano Cover)"\n'
        'JYVXM0qNQAg,2,Q2_JYVXM0qNQAg_1.mp3,"ytId\nJYVXM0qNQAg    Soffia la notte\n'
        'Name: vidTitle, dtype: object"\n'
    )
    (root / "MER-stratified-splits.json").write_text(
        '{"train": ["s_1_053", "d_4_1", "e_Q1_3N2G21U7guk_3.mp3"], '
        '"val": ["d_4_2"], "test": ["s_1_007", "e_Q2_JYVXM0qNQAg_1.mp3"]}'
    )


# ---------------------------------------------------------------------------- EmoDB, RAVDESS
def write_emodb(root: Path) -> None:
    for name in ("03a01Fa", "08b02Wb", "10a04Nc", "16b10Tz", "11a05Lb"):
        tone(root / "wav" / f"{name}.wav", 1.5)
    tone(root / "wav" / "readme_notes.wav", 1.0)  # not an EmoDB name: audio without labels
    (root / "labels").mkdir(exist_ok=True)


def write_ravdess(root: Path) -> None:
    for actor, names in (
        ("01", ["03-01-01-01-01-01-01", "03-01-05-02-01-02-01", "03-02-03-01-01-01-01"]),
        ("18", ["03-01-02-01-02-01-18"]),
    ):
        for n in names:
            sub = (
                "Audio_Song_Actors_01-24"
                if n.split("-")[1] == "02"
                else "Audio_Speech_Actors_01-24"
            )
            tone(root / sub / f"Actor_{actor}" / f"{n}.wav", 1.2, sr=48000)


# ------------------------------------------------------------------------ LibriSpeech, AISHELL
def write_librispeech(root: Path, *, seconds: float | None = None) -> None:
    """LibriSpeech's layout; utterances of 1, 1.5, 2, ... s (or all ``seconds`` long)."""
    base = root / "LibriSpeech"
    base.mkdir(parents=True)
    (base / "SPEAKERS.TXT").write_text(
        ";ID|SEX|SUBSET|MINUTES|NAME\n1089 | M | test-clean | 25 | X\n"
    )
    for subset, spk, chap, n in (
        ("dev-clean", "3570", "5694", 3),
        ("test-clean", "1089", "134686", 2),
    ):
        d = base / subset / spk / chap
        lines = []
        for i in range(n):
            uid = f"{spk}-{chap}-{i:04d}"
            tone(d / f"{uid}.flac", seconds or 1.0 + 0.5 * i)
            lines.append(f"{uid} HE HOPED THERE WOULD BE STEW FOR DINNER")
        (d / f"{spk}-{chap}.trans.txt").write_text("\n".join(lines) + "\n")


def write_aishell(root: Path, *, seconds: float = 1.0) -> None:
    """AISHELL-1's layout: four utterances of ``seconds``, one transcript line without audio."""
    base = root / "data_aishell"
    (base / "transcript").mkdir(parents=True)
    utts = [
        ("train", "S0002", "BAC009S0002W0122"),
        ("train", "S0002", "BAC009S0002W0123"),
        ("dev", "S0724", "BAC009S0724W0121"),
        ("test", "S0764", "BAC009S0764W0121"),
    ]
    for part, spk, uid in utts:
        tone(base / "wav" / part / spk / f"{uid}.wav", seconds)
    lines = [f"{u} 而 对 楼市 成交 抑制 作用 最 大 的 限 购" for *_, u in utts[:3]]
    lines.append("BAC009S0002W0999 没有 音频")  # a transcript entry without audio
    (base / "transcript" / "aishell_transcript_v0.8.txt").write_text("\n".join(lines) + "\n")
