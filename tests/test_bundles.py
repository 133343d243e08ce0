"""Model bundles: what a saved model holds, what loading refuses, and prediction on any audio."""

from __future__ import annotations

import dataclasses
import itertools
import json

import jax
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_ser import bundles
from mer_ser._io import _umask
from mer_ser.bench.prediction import random_regressors
from mer_ser.bundles.audio import chunks
from mer_ser.bundles.continuous import _apply_for
from mer_ser.corpora.audio import resample
from mer_ser.experiments.jobs import Trained, predict
from mer_ser.features import ComParE1Hz
from mer_ser.train.engine import Standardiser

N_IN, HIDDEN, TRIALS, FOLDS = 260, (6, 3), 2, 3


def _trained(seed: int = 0) -> Trained:
    """A random ensemble of TRIALS x FOLDS regressors with distinct statistics."""
    k = TRIALS * FOLDS
    params = random_regressors(k, HIDDEN, n_features=N_IN, seed=seed)
    rng = np.random.default_rng(seed)
    stats = Standardiser(
        rng.normal(size=(k, N_IN)).astype(np.float32),
        rng.uniform(0.5, 2.0, size=(k, N_IN)).astype(np.float32),
        rng.normal(scale=0.1, size=(k, 2)).astype(np.float32),
        rng.uniform(0.2, 0.5, size=(k, 2)).astype(np.float32),
    )
    z = np.zeros(k)
    return Trained("key", (1, TRIALS, FOLDS), params, stats, z, z, z, z[:, None], z[:, None], z)


def _manifest() -> dict:
    return bundles.continuous_manifest(N_IN, HIDDEN, trials=TRIALS, folds=FOLDS)


@pytest.fixture
def saved(tmp_path):
    trained = _trained()
    path = bundles.save_bundle(
        tmp_path / "models" / "m", _manifest(), bundles.continuous_arrays(trained)
    )
    return path, trained


def _tone(seconds: float, sr: int = 16000, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    f = 220 * (1 + 0.3 * np.sin(2 * np.pi * 0.1 * t))
    y = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    return (y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


# ------------------------------------------------------------------ what a bundle holds
@pytest.fixture
def responsive(tmp_path):
    """A bundle whose curve follows the test tone: members standardise with the tone's own
    feature statistics and have weights large enough to move their outputs."""
    trained = _trained()
    f = ComParE1Hz()(_tone(12.0), 16000)
    k = trained.stats.x_mean.shape[0]
    trained = dataclasses.replace(
        trained,
        params=jax.tree.map(lambda a: 5 * a, trained.params),
        stats=Standardiser(
            np.tile(f.mean(axis=0), (k, 1)).astype(np.float32),
            np.tile(f.std(axis=0) + 1e-3, (k, 1)).astype(np.float32),
            np.zeros((k, 2), np.float32),
            np.ones((k, 2), np.float32),
        ),
    )
    return bundles.save_bundle(tmp_path / "r", _manifest(), bundles.continuous_arrays(trained))


def _curves(out) -> dict:
    """File name -> ``(frames, 2)`` arousal and valence of a prediction table."""
    return {
        f.split("/")[-1]: g[["arousal", "valence"]].to_numpy() for f, g in out.groupby(level="file")
    }


def test_a_bundle_is_a_safetensors_file_and_a_manifest_with_checksums(saved):
    from safetensors.numpy import load_file

    path, trained = saved
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == bundles.FORMAT
    assert manifest["format_version"] == bundles.FORMAT_VERSION
    assert manifest["mer_ser_version"]
    assert set(manifest["files"]) == {"params.safetensors"}
    arrays = load_file(str(path / "params.safetensors"))  # readable without mer_ser
    np.testing.assert_array_equal(arrays["stats/x_mean"], trained.stats.x_mean)


def test_bundle_predictions_equal_the_ensemble_the_notebook_evaluates(saved):
    path, trained = saved
    bundle = bundles.load_bundle(path)
    x = np.random.default_rng(1).normal(size=(17, N_IN)).astype(np.float32)
    got = bundle.predict_features(x)
    apply = _apply_for(N_IN, HIDDEN, True)
    ref = predict(apply, trained, x[None], np.ones((1, 17), bool))  # (K, 1, T, 2)
    ref = ref[:, 0].reshape(TRIALS, FOLDS, 17, 2).mean(axis=1)
    np.testing.assert_array_equal(got, ref)
    assert got.shape == (TRIALS, 17, 2)


def test_a_bundle_replaced_in_place_is_complete_and_leaves_no_temporary_folder(saved):
    path, _ = saved
    other = _trained(seed=5)
    bundles.save_bundle(path, _manifest(), bundles.continuous_arrays(other))
    b = bundles.load_bundle(path)
    np.testing.assert_array_equal(b.arrays["stats/x_mean"], other.stats.x_mean)
    assert [p.name for p in path.parent.iterdir()] == ["m"]


def test_a_writer_killed_between_its_renames_leaves_the_previous_bundle_readable(saved):
    path, trained = saved
    path.rename(path.with_name(".m.old"))  # the state after the first of save_bundle's renames
    b = bundles.load_bundle(path)
    np.testing.assert_array_equal(b.arrays["stats/x_mean"], trained.stats.x_mean)


def test_a_bundle_gets_the_usual_permissions(saved):
    path, _ = saved
    assert path.stat().st_mode & 0o777 == 0o777 & ~_umask()


# ------------------------------------------------------------------ what loading refuses
def _corrupt(path):
    raw = bytearray((path / "params.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (path / "params.safetensors").write_bytes(bytes(raw))


def _edit_manifest(key, value):
    def edit(path):
        m = json.loads((path / "manifest.json").read_text())
        m[key] = value
        (path / "manifest.json").write_text(json.dumps(m))

    return edit


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "params.safetensors").unlink(), "params.safetensors: missing"),
        (lambda p: (p / "manifest.json").unlink(), "manifest.json: missing"),
        (lambda p: (p / "manifest.json").write_text("{not json"), "not valid JSON"),
        (_corrupt, "corrupt"),
        (_edit_manifest("format", "something.else"), "not a mer_ser model bundle"),
        (_edit_manifest("format_version", bundles.FORMAT_VERSION + 1), "upgrade mer_ser"),
        (_edit_manifest("kind", "quadrant-ish"), "unknown kind"),
        (_edit_manifest("ensemble", {"trials": 5, "folds": 1}), "5 members"),
    ],
)
def test_loading_a_damaged_bundle_names_the_file_and_the_fault(saved, damage, message):
    path, _ = saved
    damage(path)
    with pytest.raises(bundles.BundleError, match=message) as e:
        bundles.load_bundle(path)
    assert str(path) in str(e.value)


def test_features_of_another_dimension_are_refused(saved):
    bundle = bundles.load_bundle(saved[0])
    with pytest.raises(bundles.BundleError, match="dimension 260"):
        bundle.predict_features(np.zeros((10, 88), np.float32))


def test_an_unknown_bundle_name_lists_the_bundles_there(saved, tmp_path):
    with pytest.raises(bundles.BundleError, match=r"bundles under .*: m"):
        bundles.resolve("nope", data_root=tmp_path)
    assert bundles.resolve("m", data_root=tmp_path).name == "m"


# ------------------------------------------------------------------ prediction on audio
def test_features_of_a_recording_shorter_than_a_chunk_are_the_whole_signals():
    y = _tone(23.0)
    data = y[:, None]
    got = bundles.compare_1hz_chunked(lambda a, b: data[a:b], len(y), 16000, ComParE1Hz())
    np.testing.assert_array_equal(got, ComParE1Hz()(y, 16000))


def test_chunked_features_match_the_whole_signal_but_for_voice_quality():
    y = _tone(23.0)
    whole = ComParE1Hz()(y, 16000)
    data = y[:, None]
    chunked = bundles.compare_1hz_chunked(
        lambda a, b: data[a:b], len(y), 16000, ComParE1Hz(), chunk_s=7
    )
    assert chunked.shape == whole.shape == (22, 260)
    # openSMILE's pitch, jitter, shimmer and HNR carry state from the start of the signal; every
    # other LLD looks at a few frames around each one, which the 1-s margin covers.
    names = ComParE1Hz().columns()
    keep = [i for i, n in enumerate(names) if not any(v in n for v in bundles.STATEFUL_LLDS)]
    assert len(keep) == 260 - 24
    err = np.abs(chunked - whole)[:, keep] / (whole[:, keep].std(axis=0) + 1e-6)
    assert err.max() < 0.02


def test_long_signals_are_pooled_piece_by_piece_as_over_all_their_frames():
    """Windows pooled as their frames arrive equal windows pooled over all the pieces' frames
    at once (the same frames: only the summation's starting point differs)."""
    from mer_ser.features.compare import compare_lld, windowed_mean_std

    y = _tone(23.0)
    data = y[:, None]
    ex = ComParE1Hz()
    got = bundles.compare_1hz_chunked(lambda a, b: data[a:b], len(y), 16000, ex, chunk_s=7)
    frames = [
        compare_lld(piece, 16000)[round(skip * 100) : round(skip * 100) + round(keep * 100)]
        for piece, skip, keep in chunks(lambda a, b: data[a:b], len(y), 16000, 16000, 7)
    ]
    want = windowed_mean_std(np.concatenate(frames), len(got), win=ex.win, hop=ex.hop)
    assert got.shape == want.shape == (22, 260)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_long_file_is_read_piece_by_piece(tmp_path):
    """Bounded memory on long recordings: a file is never read whole, only pieces of the chunk
    length plus 1-s margins, which together cover every sample (stereo 22.05 kHz here)."""
    y = _tone(23.0, sr=22050)
    sf.write(tmp_path / "long.wav", np.stack([y, -y], axis=1), 22050, subtype="FLOAT")
    read, n, sr, channels = bundles.file_reader(tmp_path / "long.wav")
    calls = []

    def recording(a, b):
        calls.append((a, b))
        return read(a, b)

    bundles.compare_1hz_chunked(recording, n, sr, ComParE1Hz(), chunk_s=7)
    assert (n, sr, channels) == (len(y), 22050, 2)
    assert max(b - a for a, b in calls) <= (7 + 2) * sr  # a piece and its two margins
    assert calls[0][0] == 0 and calls[-1][1] == n
    assert all(a2 <= b1 for (_, b1), (a2, _) in itertools.pairwise(calls))
    assert len(calls) == 4  # 23 s in pieces of 7 s


def test_predicting_a_file_gives_one_row_per_second_with_the_trials_spread(saved, tmp_path):
    path, _ = saved
    y = _tone(12.0)
    sf.write(tmp_path / "a.wav", y, 16000, subtype="FLOAT")
    out = bundles.predict(path, tmp_path / "a.wav")
    assert list(out.index.names) == ["file", "start", "end"]
    assert len(out) == 11
    assert list(out.columns) == ["arousal", "valence", "arousal_sd", "valence_sd"]
    assert (out["arousal_sd"] > 0).all()
    starts = out.index.get_level_values("start").total_seconds()
    ends = out.index.get_level_values("end").total_seconds()
    np.testing.assert_array_equal(starts, np.arange(11.0))
    np.testing.assert_array_equal(ends - starts, 2.0)
    same = bundles.predict(path, y, sr=16000)
    np.testing.assert_array_equal(out.to_numpy(), same.to_numpy())


def test_stereo_and_resampled_copies_give_the_same_curve(responsive, tmp_path):
    y = _tone(12.0)
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "mono.wav", y, 16000, subtype="FLOAT")
    sf.write(audio / "stereo.wav", np.stack([y, y], axis=1), 16000, subtype="FLOAT")
    sf.write(audio / "44k.wav", resample(y, 16000, 44100), 44100, subtype="FLOAT")
    with pytest.warns(UserWarning):
        curves = _curves(bundles.predict(responsive, audio))
    mono = curves["mono.wav"]
    assert np.ptp(mono, axis=0).min() > 0.02  # the curve moves
    np.testing.assert_allclose(curves["stereo.wav"], mono, atol=1e-6)
    # Resampling to 44.1 kHz and back low-passes the top of the 8 kHz band, which the tone's
    # white noise floor fills and the highest spectral bands of ComParE read.
    np.testing.assert_allclose(curves["44k.wav"], mono, atol=0.08)


def test_an_mp3_copy_gives_the_same_curve_within_its_coding_loss(responsive, tmp_path):
    y = _tone(12.0, sr=22050)
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "a.wav", y, 22050, subtype="FLOAT")
    sf.write(audio / "a.mp3", y, 22050, format="MP3", subtype="MPEG_LAYER_III",
             compression_level=0.0)  # fmt: skip
    with pytest.warns(UserWarning, match="resample"):
        curves = _curves(bundles.predict(responsive, audio))
    wav = curves["a.wav"]
    assert curves["a.mp3"].shape == wav.shape == (11, 2)
    assert np.ptp(wav, axis=0).min() > 0.02  # the curve moves
    # MP3 drops what the ear masks (here the tone's faint noise floor, which some spectral
    # features read): every second within 0.03 on the [-1, 1] scale.
    np.testing.assert_allclose(curves["a.mp3"], wav, atol=0.03)


def test_a_folder_with_a_corrupt_file_still_predicts_the_others(saved, tmp_path):
    path, _ = saved
    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "good.wav", _tone(5.0), 16000)
    (audio / "bad.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    errors = []
    out = bundles.predict(path, audio, errors=errors)
    assert set(out.index.get_level_values("file")) == {str(audio / "good.wav")}
    assert [e[0] for e in errors] == [str(audio / "bad.wav")]
    with pytest.raises(Exception, match=r"bad\.wav"):
        bundles.predict(path, audio)


def test_mer_ser_predict_is_the_bundles_predict():
    import mer_ser

    assert mer_ser.predict is bundles.predict


def test_the_command_line_refuses_windows_of_a_frame_model_and_reports_bad_files(
    saved, tmp_path, capsys
):
    from mer_ser.cli import main

    path, _ = saved
    sf.write(tmp_path / "good.wav", _tone(5.0), 16000)
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    out = tmp_path / "p.csv"
    argv = ["predict", "--model", str(path), "--out", str(out), str(tmp_path / "good.wav")]
    assert main([*argv, "--windows", str(tmp_path / "w.csv")]) == 2
    assert "no per-window table" in capsys.readouterr().err and not out.exists()
    assert main([*argv, str(tmp_path / "bad.wav")]) == 1  # the good file is still predicted
    assert len(pd.read_csv(out)) == 4 and "skipped" in capsys.readouterr().err
