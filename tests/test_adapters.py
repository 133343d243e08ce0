"""Corpus adapters on fixture trees that copy each real layout (``tests/corpus_fixtures.py``)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from corpus_fixtures import (
    DEAM_SONGS,
    EMOPIA_CLIPS,
    FOURQ,
    MSP_ROWS,
    write_4q,
    write_aishell,
    write_continuous_csv,
    write_deam,
    write_emodb,
    write_emomusic,
    write_emopia,
    write_instrumental,
    write_librispeech,
    write_msp_podcast,
    write_pmemo,
    write_ravdess,
    write_recola,
    write_semaine,
    write_soundtracks,
    write_static_csv,
)

from mer_ser.corpora import load, open_corpora
from mer_ser.corpora.adapters import UnmatchedWarning
from mer_ser.errors import AnnotationError, CorpusError

pytestmark = pytest.mark.filterwarnings("ignore::mer_ser.corpora.adapters.UnmatchedWarning")


# ------------------------------------------------------------------------------------ RECOLA
@pytest.fixture(scope="module")
def recola_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("recola") / "RECOLA_2016 (AVEC)"
    return root, write_recola(root)


def test_recola_reads_gold_arffs_ratings_and_splits(recola_tree):
    root, truth = recola_tree
    with pytest.warns(UnmatchedWarning, match="1 audio without labels"):
        c = load("recola", root.parent)  # the anchors are found below any parent
    assert list(c.clips.index) == ["dev_1", "dev_2", "train_1", "train_2"]
    assert c.clips.loc["train_2", "split"] == "train" and c.clips.loc["dev_1", "sr"] == 44100
    assert c.clips.loc["dev_2", "group"] == "dev_2" and c.clips.loc["dev_1", "language"] == "fr"
    assert c.meta["unmatched"]["audio_without_labels"] == ["test_1"]
    assert c.meta["label_rate"] == 25.0
    for cid in ("train_1", "dev_2"):
        g = c.gold_track(cid)
        np.testing.assert_allclose(g["time"], truth["times"], atol=1e-9)
        np.testing.assert_allclose(g["arousal"], truth["gold"][(cid, "arousal")], atol=1e-6)
        np.testing.assert_allclose(g["valence"], truth["gold"][(cid, "valence")], atol=1e-6)
    r = c.ratings[c.ratings["clip_id"] == "dev_1"]
    assert sorted(r["rater"].unique()) == ["FF1", "FF2", "FF3", "FM1", "FM2", "FM3"]
    fm2 = r[r["rater"] == "FM2"].sort_values("time")
    np.testing.assert_allclose(fm2["valence"], truth["ratings"][("dev_1", "valence")][:, 1])


def test_recola_errors_name_the_path(recola_tree, tmp_path):
    root, _ = recola_tree
    with pytest.raises(CorpusError, match="root folder not found"):
        load("recola", tmp_path / "nope")
    with pytest.raises(CorpusError, match="ratings_gold_standard"):
        load("recola", tmp_path)
    broken = tmp_path / "copy"
    shutil.copytree(root, broken)
    bad = broken / "ratings_gold_standard" / "valence" / "train_1.arff"
    bad.write_text(bad.read_text().replace("@data", "@dat"))
    with pytest.raises(AnnotationError, match=r"train_1\.arff.*not an ARFF"):
        load("recola", broken)
    (broken / "ratings_gold_standard" / "valence" / "train_1.arff").unlink()
    with pytest.raises(AnnotationError, match="only one dimension"):
        load("recola", broken)


# -------------------------------------------------------------------------------------- DEAM
@pytest.fixture(scope="module")
def deam_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("deam")
    return root, write_deam(root)


def test_deam_reads_ragged_dynamic_static_and_raters(deam_tree):
    root, truth = deam_tree
    c = load("deam", root)
    assert list(c.clips.index) == list(DEAM_SONGS)  # ids as strings, in natural order
    for sid, (sec, sr, _, year) in DEAM_SONGS.items():
        assert c.clips.loc[sid, "sr"] == sr and c.clips.loc[sid, "split"] == year
        assert abs(c.clips.loc[sid, "duration"] - sec) < 0.1
        g = c.gold_track(sid)
        t, a = truth["dynamic"][(sid, "arousal")]
        np.testing.assert_allclose(g["time"], t)
        np.testing.assert_allclose(g["arousal"], a, atol=1e-9)
        np.testing.assert_allclose(g["valence"], truth["dynamic"][(sid, "valence")][1])
        a_raw, v_raw = truth["static"][sid]
        assert c.static.loc[sid, "arousal_raw"] == a_raw
        assert c.static.loc[sid, "valence"] == pytest.approx((v_raw - 5) / 4)
    assert c.gold["time"].min() == 15.0 and c.meta["label_rate"] == 2.0
    raters = c.ratings.groupby("clip_id")["rater"].unique()
    assert sorted(raters["2"]) == ["W000", "W001", "W002"]  # file with a WorkerId column
    assert sorted(raters["3"]) == ["r0", "r1", "r2"]  # file without


def test_deam_me14_subset_and_errors(deam_tree, tmp_path):
    root, _ = deam_tree
    me14 = load("deam", root, subset="me14", ratings=False)
    assert dict(me14.clips["split"]) == {"2": "train", "3": "train", "1001": "test"}
    with pytest.raises(ValueError, match="subset"):
        load("deam", root, subset="2016")
    broken = tmp_path / "deam"
    shutil.copytree(root, broken)
    dyn = next(broken.rglob("dynamic (per second annotations)/arousal.csv"))
    dyn.write_text(dyn.read_text().replace("-0.", "x0.", 1))
    with pytest.raises(AnnotationError, match=r"arousal\.csv.*not a number"):
        load("deam", broken)


def test_a_notebook_spec_dict_passes_adapter_options(deam_tree):
    root, _ = deam_tree
    (c,) = open_corpora(
        [{"kind": "deam", "root": str(root), "subset": "2015"}], data_root=root
    ).values()
    assert list(c.clips.index) == ["2001"]
    # the documented pool spec: a `name` option keeps two copies of one adapter apart
    named = open_corpora(
        [{"kind": "deam", "root": str(root), "subset": "2015", "name": "deam_2015"}], data_root=root
    )
    assert list(named) == ["deam_2015"] and named["deam_2015"].name == "deam_2015"


# ------------------------------------------------------------------------------- MSP-Podcast
@pytest.mark.parametrize("version", ["consensus", "concensus", "json", "txt"])
def test_msp_podcast_every_label_file_spelling(tmp_path, version):
    write_msp_podcast(tmp_path, version=version)
    with pytest.warns(UnmatchedWarning) as rec:
        c = load("msp_podcast", tmp_path)
    text = " ".join(str(w.message) for w in rec)
    assert "MSP-PODCAST_0004_0002" in text and "MSP-PODCAST_9999_0001" in text
    assert len(c) == 4
    for f, _cls, a, v, _, spk, _, split in MSP_ROWS[:-1]:
        cid = f[:-4]
        row = c.static.loc[cid]
        assert row["arousal_raw"] == pytest.approx(a) and row["valence_raw"] == pytest.approx(v)
        assert row["arousal"] == pytest.approx((a - 4) / 3)
        q = ("Q1" if v >= 4 else "Q2") if a >= 4 else ("Q4" if v >= 4 else "Q3")
        assert row["quadrant"] == q
        if version != "txt":
            assert c.clips.loc[cid, "split"] == split
            assert c.clips.loc[cid, "group"] == (spk if spk != "Unknown" else f"unknown:{cid}")
    assert c.static.loc["MSP-PODCAST_0002_0001", "category"] == "anger"


def test_msp_podcast_without_labels_is_a_clear_error(tmp_path):
    (tmp_path / "Audios").mkdir()
    with pytest.raises(CorpusError, match="no MSP-Podcast labels"):
        load("msp_podcast", tmp_path)


# ---------------------------------------------------------------------------------------- 4Q
def test_4q_quadrants_folders_and_artist_groups(tmp_path):
    write_4q(tmp_path)
    c = load("4q", tmp_path)
    assert len(c) == len(FOURQ)
    for song, q, artist in FOURQ:
        assert c.static.loc[song, "quadrant"] == q and c.clips.loc[song, "group"] == artist
    assert set(c.clips["sr"]) == {22050, 44100} and c.static["arousal"].isna().all()


def test_4q_folder_disagreeing_with_annotations_is_an_error(tmp_path):
    write_4q(tmp_path)
    base = tmp_path / "MER_audio_taffc_dataset"
    (base / "Q1" / "MT0000040632.mp3").rename(base / "Q2" / "MT0000040632.mp3")
    with pytest.raises(AnnotationError, match=r"MT0000040632\.mp3: in folder Q2"):
        load("4q", tmp_path)


# ---------------------------------------------------------------------- other continuous sets
def test_emomusic_dynamic_static_and_mediaeval_split(tmp_path):
    truth = write_emomusic(tmp_path)
    c = load("emomusic", tmp_path)
    assert dict(c.clips["split"]) == {"2": "development", "3": "development", "5": "evaluation"}
    g = c.gold_track("3")
    assert len(g) == 61 and g["time"].iloc[-1] == 45.0
    np.testing.assert_allclose(g["valence"], truth["dynamic"][("3", "valence")], atol=1e-12)
    assert c.static.loc["5", "valence_raw"] == 7.7 and c.static.loc["5", "quadrant"] == "Q4"


def test_pmemo_long_format_in_unit_range(tmp_path):
    truth = write_pmemo(tmp_path)
    with pytest.warns(UnmatchedWarning, match="1 audio without labels"):
        c = load("pmemo", tmp_path)
    assert list(c.clips.index) == ["1", "4"] and c.meta["unmatched"]["audio_without_labels"] == [
        "9"
    ]
    t, a, _v = truth["4"]
    g = c.gold_track("4")
    np.testing.assert_allclose(g["time"], t)
    np.testing.assert_allclose(g["arousal"], 2 * a - 1, atol=1e-12)  # [0, 1] -> [-1, 1]
    assert c.static.loc["1", "valence"] == pytest.approx(0.15)


def test_semaine_with_the_default_patterns(tmp_path):
    truth = write_semaine(tmp_path)
    c = load("semaine", tmp_path)
    assert list(c.clips.index) == ["devel_002", "test_003", "train_001"]  # 'tests' -> 'test'
    g = c.gold_track("test_003")
    assert g["time"].iloc[1] == pytest.approx(1 / 49.979)
    np.testing.assert_allclose(g["arousal"], truth[("test_003", "arousal")], atol=1e-9)
    assert c.clips.loc["devel_002", "split"] == "devel" and c.clips.loc["train_001", "sr"] == 48000
    with pytest.raises(CorpusError, match="no SEMAINE label files"):
        load("semaine", tmp_path, label_pattern="**/{part}_{session}_{dimension}.csv")


def test_generic_continuous_csv(tmp_path):
    truth = write_continuous_csv(tmp_path)
    c = load(
        "continuous_csv",
        tmp_path,
        labels="ratings.csv",
        domain="music",
        scale=(1, 9),
        id_column="piece",
        time_column="second",
        group_column="composer",
        language="zxx",
    )
    assert c.meta["label_rate"] == 1.0 and c.clips.loc["grieg_02", "group"] == "C1"
    _a, v = truth["bach_01"]
    np.testing.assert_allclose(c.gold_track("bach_01")["valence"], (v - 5) / 4, atol=1e-12)
    with pytest.raises(AnnotationError, match="outside the declared scale"):
        load(
            "continuous_csv",
            tmp_path,
            labels="ratings.csv",
            domain="music",
            id_column="piece",
            time_column="second",
        )  # the default [-1, 1] scale is wrong here


# ---------------------------------------------------------------------- other static sets
def test_generic_static_csv(tmp_path):
    write_static_csv(tmp_path)
    c = load(
        "static_csv",
        tmp_path,
        labels="labels.csv",
        domain="music",
        scale=(-10, 10),
        id_column="ID",
        group_column="Singer",
    )
    assert list(c.static["quadrant"]) == ["Q1", "Q2", "Q3"] and c.clips.loc["003", "group"] == "A"
    assert c.static.loc["002", "valence"] == pytest.approx(-0.4)
    with pytest.raises(ValueError, match="scale"):
        load("static_csv", tmp_path, labels="labels.csv", domain="music", id_column="ID")


def test_emopia_clip_names_splits_and_song_groups(tmp_path):
    from mer_ser.corpora.adapters.static import emopia_clip

    assert emopia_clip("Q1__8v0MFBZoco_0.mp3") == ("Q1", "_8v0MFBZoco", "0")
    assert emopia_clip("Q3_zjr_-ql5Avk_0") == ("Q3", "zjr_-ql5Avk", "0")
    write_emopia(tmp_path)
    with pytest.warns(UnmatchedWarning, match="1 labels without audio"):
        c = load("emopia", tmp_path)
    assert list(c.clips.index) == sorted(EMOPIA_CLIPS[:-1])
    assert c.clips.loc["Q1__8v0MFBZoco_1", "group"] == "_8v0MFBZoco"
    assert c.clips.loc["Q3_zjr_-ql5Avk_0", "split"] == "test"
    assert c.static.loc["Q2_aYe-2Glruu4_2", "quadrant"] == "Q2"


def test_soundtracks_sets_scales_and_links(tmp_path):
    truth = write_soundtracks(tmp_path)
    c = load("soundtracks", tmp_path)
    for cid, (energy, valence) in truth.items():
        assert c.static.loc[cid, "arousal_raw"] == energy
        assert c.static.loc[cid, "valence"] == pytest.approx((valence - 5) / 4)
    assert c.clips.loc["2_001", "group"] == "1_002"  # Set 2 excerpt 001 is Set 1's 002
    # 1_001: energy 6.83 (above the midpoint 5), valence 4.83 (just below it) -> Q2
    assert c.static.loc["1_001", "quadrant"] == "Q2" and c.static.loc["1_002", "category"] == "sad"


@pytest.mark.filterwarnings("ignore::mer_ser.corpora.audio.AudioRepair")
def test_instrumental_compilation_cut_and_loaded(tmp_path):
    from mer_ser.corpora.adapters import cut_instrumental_clips

    write_instrumental(tmp_path)
    songs = tmp_path / "copies" / "MEMD_audio"
    songs.mkdir(parents=True)
    from corpus_fixtures import tone

    tone(songs / "4.mp3", 46.0, sr=44100, channels=2)
    st = tmp_path / "st"
    tone(st / "Set1" / "053.mp3", 20.0)
    tone(st / "Set1" / "007.mp3", 12.0)
    emo = tmp_path / "emo"
    tone(emo / "Q1_3N2G21U7guk_3.mp3", 5.0)
    report = cut_instrumental_clips(
        tmp_path, deam=tmp_path / "copies", soundtracks=st, emopia=emo, out=tmp_path / "clips"
    )
    assert sorted(report["written"]) == [
        "d_4_1",
        "d_4_2",
        "e_Q1_3N2G21U7guk_3",
        "s_1_007",
        "s_1_053",
    ]
    assert report["missing"] == ["e_Q2_JYVXM0qNQAg_1"]
    again = cut_instrumental_clips(tmp_path, deam=tmp_path / "copies", out=tmp_path / "clips")
    assert len(again["kept"]) == 5 and not again["written"]  # resumes, nothing recomputed
    c = load("instrumental", tmp_path, audio="clips")
    assert c.clips.loc["d_4_1", "duration"] == pytest.approx(10.0, abs=0.01)
    assert c.clips.loc["s_1_053", "duration"] == pytest.approx(15.0, abs=0.01)
    assert c.clips.loc["d_4_2", "split"] == "val" and c.clips.loc["d_4_1", "group"] == "deam:4"
    assert c.static.loc["d_4_2", "arousal"] == pytest.approx(0.2931)
    assert c.static.loc["s_1_053", "quadrant"] == "Q3"
    assert c.static.loc["e_Q1_3N2G21U7guk_3", "quadrant"] == "Q1"


def test_emodb_names_speakers_and_quadrant_table(tmp_path):
    from mer_ser.corpora.labels import QUADRANT_TABLE_SCHULLER

    write_emodb(tmp_path)
    c = load("emodb", tmp_path)
    assert c.meta["unmatched"]["audio_without_labels"] == ["readme_notes"]
    assert c.static.loc["03a01Fa", "category"] == "happiness"
    assert c.static.loc["11a05Lb", "quadrant"] == "Q3"
    assert pd.isna(c.static.loc["10a04Nc", "quadrant"])  # lexicon: neutral has no quadrant
    assert c.clips.loc["08b02Wb", "group"] == "08" and c.meta["speaker_sex"]["08"] == "female"
    s = load("emodb", tmp_path, table=QUADRANT_TABLE_SCHULLER)
    assert (
        s.static.loc["10a04Nc", "quadrant"] == "Q4" and s.meta["quadrant_table"] == "schuller2009"
    )


def test_ravdess_fields(tmp_path):
    write_ravdess(tmp_path)
    c = load("ravdess", tmp_path)
    assert sorted(c.clips.index) == [
        "03-01-01-01-01-01-01",
        "03-01-02-01-02-01-18",
        "03-01-05-02-01-02-01",
    ]
    assert c.static.loc["03-01-05-02-01-02-01", "category"] == "angry"
    assert c.static.loc["03-01-05-02-01-02-01", "intensity"] == "strong"
    assert c.static.loc["03-01-02-01-02-01-18", "quadrant"] == "Q4"  # calm
    assert c.clips.loc["03-01-02-01-02-01-18", "group"] == "18"
    song = load("ravdess", tmp_path, channel="song")
    assert list(song.clips.index) == ["03-02-03-01-01-01-01"]


def test_librispeech_and_aishell_pools_with_a_seeded_draw(tmp_path):
    from mer_ser.corpora.adapters import draw_hours

    write_librispeech(tmp_path / "ls")
    ls = load("librispeech", tmp_path / "ls")
    assert len(ls) == 5 and ls.clips.loc["1089-134686-0001", "split"] == "test-clean"
    assert ls.clips.loc["3570-5694-0002", "group"] == "3570" and ls.kind == "unlabelled"
    d1 = draw_hours(ls, 3.0 / 3600, seed=1)
    assert d1.clips["duration"].sum() <= 3.0 + 1e-9 and len(d1) >= 1
    assert list(draw_hours(ls, 3.0 / 3600, seed=1).clips.index) == list(d1.clips.index)
    write_aishell(tmp_path / "ai")
    with pytest.warns(UnmatchedWarning) as rec:
        ai = load("aishell1", tmp_path / "ai")
    assert "BAC009S0002W0999" in str(rec[0].message) or "BAC009S0002W0999" in str(rec[1].message)
    assert ai.meta["unmatched"]["audio_without_labels"] == ["BAC009S0764W0121"]
    assert ai.clips.loc["BAC009S0724W0121", "group"] == "S0724"
    assert ai.clips.loc["BAC009S0724W0121", "split"] == "dev"


def test_every_adapter_refuses_a_missing_root(tmp_path):
    from mer_ser.corpora.adapters import ADAPTERS

    for name in ADAPTERS:
        opts = {"labels": "x.csv", "domain": "music"} if name.endswith("_csv") else {}
        with pytest.raises(CorpusError, match="not found"):
            load(name, tmp_path / "missing", **opts)


def test_deam_sequences_start_at_the_first_annotated_frame(deam_tree):
    """Frames before 15 s (not annotated in DEAM) are left out, never extrapolated."""
    from mer_ser.corpora.labels import n_frames
    from mer_ser.experiments.sequences import sequence_set

    root, truth = deam_tree
    c = load("deam", root, ratings=False)
    feats = {
        cid: np.arange(n_frames(c.clips.loc[cid, "duration"]), dtype=np.float32)[:, None]
        * np.ones((1, 3), np.float32)
        for cid in c.clips.index
    }
    s = sequence_set(c, feats)
    for i, cid in enumerate(s.clip_ids):
        n = int(s.m[i].sum())
        assert s.x[i, 0, 0] == 14.0  # frame 14: window 14-16 s, centre 15 s
        assert n == len(feats[cid]) - 14
        _t, a = truth["dynamic"][(cid, "arousal")]
        assert s.y[i, 0, 0] == pytest.approx(a[0], abs=1e-6)  # the label at 15.0 s only
        assert s.y[i, 1, 0] == pytest.approx(a[1:3].mean(), abs=1e-6)  # [15.5, 16.5): 15.5, 16.0


def _break(path, old, new):
    path.write_text(path.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    "case",
    [
        "pmemo_off_scale",
        "emopia_mislabelled",
        "soundtracks_no_set_folder",
        "instrumental_bad_json",
        "librispeech_bad_transcript",
        "aishell_packed",
        "msp_bad_txt",
        "4q_unknown_quadrant",
        "emomusic_missing",
    ],
)
def test_malformed_copies_fail_naming_the_file(tmp_path, case):
    """One realistic way each remaining adapter's input goes wrong, and the error it gives."""
    if case == "pmemo_off_scale":
        write_pmemo(tmp_path)
        f = next(tmp_path.rglob("dynamic_annotations.csv"))
        _break(f, "1,15.5,", "1,15.5,7")  # a percentage slipped in: outside [0, 1]
        err, pattern, name = AnnotationError, r"dynamic_annotations\.csv.*outside", "pmemo"
    elif case == "emopia_mislabelled":
        write_emopia(tmp_path)
        _break(next(tmp_path.rglob("label.csv")), "Q2_aYe-2Glruu4_2,2", "Q2_aYe-2Glruu4_2,3")
        err, pattern, name = AnnotationError, r"label\.csv: clip Q2_aYe-2Glruu4_2", "emopia"
    elif case == "soundtracks_no_set_folder":
        write_soundtracks(tmp_path)
        shutil.rmtree(tmp_path / "Set2")
        err, pattern, name = CorpusError, "no Set2/ folder", "soundtracks"
    elif case == "instrumental_bad_json":
        write_instrumental(tmp_path)
        (tmp_path / "MER-stratified-splits.json").write_text('{"train": [')
        err, name = AnnotationError, "instrumental"
        pattern = r"MER-stratified-splits\.json: not JSON"
    elif case == "librispeech_bad_transcript":
        write_librispeech(tmp_path)
        t = next(tmp_path.rglob("3570-5694.trans.txt"))
        t.write_text(t.read_text() + "3570_5694_0009 NO DASHES\n")
        err, pattern, name = AnnotationError, r"3570-5694\.trans\.txt:4", "librispeech"
    elif case == "aishell_packed":
        write_aishell(tmp_path)
        wav = tmp_path / "data_aishell" / "wav"
        shutil.rmtree(wav)
        wav.mkdir()
        (wav / "S0002.tar.gz").write_bytes(b"")
        err, pattern, name = CorpusError, "1 speaker archives still packed", "aishell1"
    elif case == "msp_bad_txt":
        write_msp_podcast(tmp_path, version="txt")
        _break(next(tmp_path.rglob("labels.txt")), "A:2.200000; V:4.000000", "2.2; 4.0")
        err, pattern, name = AnnotationError, r"labels\.txt:1: not a", "msp_podcast"
    elif case == "4q_unknown_quadrant":
        write_4q(tmp_path)
        _break(next(tmp_path.rglob("panda_dataset_taffc_annotations.csv")), ",Q3", ",Q5")
        err, pattern, name = AnnotationError, r"annotations\.csv: unknown quadrants \['Q5'\]", "4q"
    else:
        write_emomusic(tmp_path)
        (tmp_path / "annotations" / "valence_cont_average.csv").unlink()
        err, pattern, name = CorpusError, "valence_cont_average.csv", "emomusic"
    with pytest.raises(err, match=pattern):
        load(name, tmp_path)


def test_unreadable_audio_is_an_error_naming_the_file(tmp_path):
    from mer_ser.errors import AudioError

    write_4q(tmp_path)
    bad = tmp_path / "MER_audio_taffc_dataset" / "Q4" / "MT0000022222.mp3"
    bad.write_bytes(b"not an mp3 at all")
    with pytest.raises(AudioError, match=r"MT0000022222\.mp3: cannot read audio"):
        load("4q", tmp_path)
