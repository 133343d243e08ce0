"""Quadrant bundles: the quadrant tracks' models leave the notebooks and score any recording as
the notebooks scored their clips."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_ser import bundles
from mer_ser.bundles.quadrant import window_probabilities
from mer_ser.corpora.audio import AudioRepair, load_audio
from mer_ser.experiments import Data
from mer_ser.experiments import gomez_canon as gc
from mer_ser.experiments.jobs import classifier_state
from mer_ser.experiments.rodningen2022 import PROTOCOLS, QuadrantTrack

QUICK = dataclasses.replace(PROTOCOLS["quick"], runs=2, max_epochs=2, patience=2)
GC_QUICK = dataclasses.replace(
    gc.PROTOCOLS["quick"], encoders=("SCAE", "DAE-Classifier"), feat_ext_epochs=2, dae_epochs=2
)


def _reader(path):
    return bundles.file_reader(path)[:3]


@pytest.fixture(scope="module")
def rodningen(data_root, quick_root, tmp_path_factory):
    """A two-epoch quadrant track on the quick built-in corpus, its results and its bundles."""
    data = Data(data_root, profile="quick", seed=0, progress=False)
    corpora = {"speech": "builtin:speech_static", "music": "builtin:music_static"}
    track = QuadrantTrack.from_corpora(data, corpora, QUICK)
    results = pd.concat([track.run("DCNN", s) for s in ("MER2MER", "SER2MER")])
    root = tmp_path_factory.mktemp("rodningen_models")
    exported = bundles.export_rodningen(track, results, root)
    music = data.corpora([corpora["music"]])[0]
    return track, results, {p.name: p for p in exported}, music


def test_a_quadrant_bundle_scores_a_clip_file_as_the_track_did(rodningen):
    track, results, exported, music = rodningen
    assert sorted(exported) == ["rodningen2022_DCNN_MER2MER", "rodningen2022_DCNN_SER2MER"]
    for setting, stats_from in (("MER2MER", "music"), ("SER2MER", "speech")):
        bundle = bundles.load_bundle(exported[f"rodningen2022_DCNN_{setting}"])
        trained, build, apply, _ = track.system("DCNN", setting)
        x = track.sets["music"].standardise(*track.channel_statistics(stats_from)).x
        test = track.splits["music"].test
        i = int(test[0])
        clip = track.sets["music"].clip_ids[i]
        fn = jax.jit(apply)  # the track's scoring: its test clips in one batch
        want = np.stack(
            [
                jax.nn.softmax(fn(classifier_state(build, trained, k), x[test]))[0]
                for k in range(len(trained.epochs))
            ]
        )
        path = music.root / music.clips.loc[clip, "audio_path"]
        spans, probs = window_probabilities(bundle, *_reader(path), name=str(path))
        assert spans.shape == (1, 2)  # a clip no longer than the model's 5 s is one window
        np.testing.assert_allclose(probs["quadrant"][:, 0], want, rtol=0, atol=1e-7)
        row = bundles.predict(bundle, path).iloc[0]
        np.testing.assert_allclose(
            row[["Q1", "Q2", "Q3", "Q4"]].astype(float), want.mean(0), atol=1e-6
        )
        np.testing.assert_allclose(
            row[["Q1_sd", "Q4_sd"]].astype(float), want.std(0)[[0, 3]], atol=1e-6
        )
        assert row["quadrant"] == f"Q{int(want.mean(0).argmax()) + 1}"
        scores = bundle.manifest["scores"]
        mine = results[(results["setting"] == setting) & (results["partition"] == "test")]
        acc = mine.loc[mine["metric"] == "accuracy", "value"].mean()
        assert scores["test_accuracy"] == pytest.approx(acc)
        assert scores["clips"] == len(track.splits["music"].test)
        prov = bundle.manifest["provenance"]
        assert prov["normalisation"]["domain"] == stats_from
        trained_on = "music" if setting == "MER2MER" else "speech"
        assert prov["trained_on"] == [
            {"name": track.sets[trained_on].name, "domain": trained_on,
             "clips": len(track.sets[trained_on]), "sha256": track.sets[trained_on].fingerprint()}
        ]  # fmt: skip
        assert bundle.manifest["features"]["input_shape"] == list(x.shape[1:])


def test_a_long_recording_is_scored_window_by_window(rodningen, tmp_path):
    """Windows of the model's 5 s every 2.5 s, the last ending at the end; the file's
    probabilities are the mean over windows of each run's, then over runs."""
    _, _, exported, _ = rodningen
    bundle = bundles.load_bundle(exported["rodningen2022_DCNN_MER2MER"])
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(16000 * 21 + 800)).astype(np.float32)  # 21.05 s
    sf.write(tmp_path / "long.wav", y, 16000, subtype="FLOAT")
    tables = bundles.predict_tables(bundle, tmp_path / "long.wav")
    win = tables["window"]
    start = win.index.get_level_values("start").total_seconds().to_numpy()
    end = win.index.get_level_values("end").total_seconds().to_numpy()
    np.testing.assert_allclose(start, [*np.arange(0, 16.05, 2.5), 16.05], atol=1e-9)
    np.testing.assert_allclose(end - start, 5.0, atol=1e-9)
    q = ["Q1", "Q2", "Q3", "Q4"]
    np.testing.assert_allclose(win[q].sum(axis=1), 1.0, atol=1e-6)
    file_row = tables["file"].iloc[0]
    np.testing.assert_allclose(file_row[q].astype(float), win[q].mean(axis=0), atol=1e-6)
    assert file_row["windows"] == len(win) and file_row["duration"] == pytest.approx(21.05)
    _, probs = window_probabilities(bundle, *_reader(tmp_path / "long.wav"), name="long")
    per_run = probs["quadrant"].mean(axis=1)  # (runs, 4)
    np.testing.assert_allclose(
        file_row[[f"{c}_sd" for c in q]].astype(float), per_run.std(0), atol=1e-6
    )
    stereo = np.stack([y, y], axis=1)
    sf.write(tmp_path / "stereo.wav", stereo, 16000, subtype="FLOAT")
    with pytest.warns(AudioRepair, match="downmixed 2 channels"):
        again = bundles.predict(bundle, tmp_path / "stereo.wav", level="window")
    np.testing.assert_allclose(again[q].to_numpy(), win[q].to_numpy(), atol=1e-6)
    with pytest.raises(bundles.BundleError, match="tables are"):
        bundles.predict(bundle, tmp_path / "long.wav", level="frame")


def test_a_quadrant_bundle_refuses_inputs_that_do_not_fit(rodningen, tmp_path):
    _, _, exported, _ = rodningen
    bundle = bundles.load_bundle(exported["rodningen2022_DCNN_MER2MER"])
    manifest = dict(bundle.manifest)
    manifest["features"] = {**manifest["features"], "config": {**manifest["features"]["config"],
                            "hop_length": 480}}  # fmt: skip
    broken = bundles.Bundle(bundle.path, manifest, bundle.arrays)
    y = np.zeros(16000 * 3, np.float32)
    with pytest.raises(bundles.BundleError, match="expects inputs of shape"):
        bundles.predict(broken, y, sr=16000)
    with pytest.raises(bundles.BundleError, match="0 samples"):
        bundles.predict(bundle, np.zeros(0, np.float32), sr=16000)


@pytest.fixture(scope="module")
def language(data_root, quick_root, tmp_path_factory):
    """The language track's SCAE (Feat. Ext. and Full) and DAE-Classifier, quick and short."""
    data = Data(data_root, profile="quick", seed=0, progress=False)
    corpora = {
        "speech_eng": "builtin:speech_pool",
        "speech_man": "builtin:speech_pool",
        "music_eng": "builtin:music_static",
        "music_man": "builtin:music_static",
    }
    lt = gc.LanguageTransfer.from_corpora(data, corpora, GC_QUICK)
    results = lt.run(amounts=["exp2"], settings=["mix2eng"])
    root = tmp_path_factory.mktemp("gc_models")
    exported = bundles.export_language_transfer(lt, results, root)
    music = data.corpora([corpora["music_eng"]])[0]
    return lt, results, {p.name: p for p in exported}, music


@pytest.mark.slow
def test_language_track_bundles_score_every_patch_as_the_track_did(language):
    """Feat. Ext. (frozen encoder + head) and Full score a test clip's patches as the track's
    patch probabilities; the DAE-Classifier its windows of 1 Hz frames."""
    lt, results, exported, music = language
    assert sorted(exported) == [
        "gomezcanon2020_DAE-Classifier_mix2eng",
        "gomezcanon2021_SCAE-feat_ext_mix2eng",
        "gomezcanon2021_SCAE-full_mix2eng",
    ]
    for encoder, mode, name in (
        ("SCAE", "feat_ext", "gomezcanon2021_SCAE-feat_ext_mix2eng"),
        ("SCAE", "full", "gomezcanon2021_SCAE-full_mix2eng"),
        ("DAE-Classifier", "feat_ext", "gomezcanon2020_DAE-Classifier_mix2eng"),
    ):
        bundle = bundles.load_bundle(exported[name])
        job = lt.jobs[(encoder, mode, "mix2eng", "exp2")]
        enc = lt.encoder(encoder)
        m, rows, times, prob = enc.probabilities(lt, mode, "mix2eng", "exp2", 1, job)
        c = m.clip[rows[0]]
        mine = rows[m.clip[rows] == c]  # the first test clip's patches (or windows)
        path = music.root / music.clips.loc[m.clip_ids[c], "audio_path"]
        spans, probs = window_probabilities(bundle, *_reader(path), name=str(path))
        got = probs["quadrant"][1]  # run 1
        centre = spans.mean(axis=1)
        if encoder == "SCAE":  # the track keeps every stride-th patch of a clip
            got, centre = got[:: m.stride], centre[:: m.stride]
        assert len(got) == len(mine)
        np.testing.assert_allclose(got, prob[m.clip[rows] == c], rtol=0, atol=2e-6)
        if encoder == "DAE-Classifier" and len(got) == 1:  # shorter than a window: one padded
            np.testing.assert_allclose(spans[0], [0.0, sf.info(path).duration])  # window
        else:
            np.testing.assert_allclose(centre, times[m.clip[rows] == c], atol=0.02)
        assert set(probs) == ({"quadrant", "arousal", "valence"} if encoder == "SCAE"
                              else {"quadrant"})  # fmt: skip
        scores = bundle.manifest["scores"]
        sel = results[
            (results["encoder"] == encoder)
            & (results["mode"] == mode)
            & (results["head"] == "quadrant")
            & (results["metric"] == "accuracy")
        ]
        assert scores["test_accuracy"] == pytest.approx(sel["value"].mean())


@pytest.mark.slow
def test_a_dae_bundle_needs_one_second_of_features(language):
    _, _, exported, _ = language
    bundle = bundles.load_bundle(exported["gomezcanon2020_DAE-Classifier_mix2eng"])
    with pytest.raises(bundles.BundleError, match="shorter than one window"):
        bundles.predict(bundle, np.zeros(16000, np.float32), sr=16000)
    table = bundles.predict(bundle, 0.1 * np.ones(16000 * 3, np.float32), sr=16000)
    assert table["windows"].item() == 1  # two 1 Hz frames, padded to a window of five


@pytest.mark.slow
def test_the_file_table_carries_the_multitask_heads(language):
    _, _, exported, music = language
    bundle = bundles.load_bundle(exported["gomezcanon2021_SCAE-full_mix2eng"])
    clip = music.clips.index[0]
    y, sr = load_audio(music.root / music.clips.loc[clip, "audio_path"], sr=None)
    tables = bundles.predict_tables(bundle, y, sr=sr)
    assert {"p_arousal_high", "p_valence_positive", "p_arousal_high_sd"} <= set(tables["file"])
    p = tables["window"]["p_arousal_high"]
    assert ((p >= 0) & (p <= 1)).all()


def test_an_adcrnn_bundle_scores_audio_as_its_track(tmp_path):
    """The thesis' second model through the same export: synthetic 1 s clips, two epochs."""
    from test_rodningen import TINY, _clips

    from mer_ser.features import LogMel3D

    proto = dataclasses.replace(TINY, models=("ADCRNN",), learning_rate={"ADCRNN": 1e-3},
                                max_epochs=2, runs=2)  # fmt: skip
    speech = _clips("ser", "speech", 40, (0.4, 0.3, 0.2, 0.1), 0, 0.0)
    music = _clips("mer", "music", 40, (0.25, 0.25, 0.25, 0.25), 1, 3.0)
    track = QuadrantTrack(proto, speech=speech, music=music, seed=0)
    results = track.run("ADCRNN", "MER2MER")
    (folder,) = bundles.export_rodningen(track, results, tmp_path)
    bundle = bundles.load_bundle(folder)
    assert folder.name == "rodningen2022_ADCRNN_MER2MER"
    arch = bundle.manifest["architecture"]
    assert arch == {"class": "ADCRNN", "config": {"n_frames": 67, "n_mels": 40}}
    y = (0.1 * np.random.default_rng(1).standard_normal(16000)).astype(np.float32)
    spans, probs = window_probabilities(bundle, lambda a, b: y[a:b, None], len(y), 16000, "y")
    trained, build, apply, _ = track.system("ADCRNN", "MER2MER")
    mean, std = track.channel_statistics("music")
    x = ((LogMel3D(pad_seconds=1.0, hop_length=240)(y, 16000) - mean) / std).astype(np.float32)
    fn = jax.jit(apply)
    want = np.stack([jax.nn.softmax(fn(classifier_state(build, trained, k), x[None]))[0]
                     for k in range(2)])  # fmt: skip
    np.testing.assert_allclose(probs["quadrant"][:, 0], want, atol=1e-6)
    assert spans.tolist() == [[0.0, 1.0]]
