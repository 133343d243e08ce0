"""Features: ComParE at 1 Hz, 3-D log-mel, mel patches, and the feature cache."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from mer_ser.corpora.labels import n_frames
from mer_ser.features import (
    ChannelStandardiser,
    ComParE1Hz,
    CorruptCacheEntry,
    ExtractionReport,
    FeatureCache,
    LogMel3D,
    MelPatches,
    extract,
    frame_table,
    windowed_mean_std,
)


def test_windowed_mean_std_matches_a_float64_loop(rng):
    x = rng.standard_normal((1000, 7)).astype(np.float32)
    count = n_frames(10.0)
    got = windowed_mean_std(x, count)
    for k in range(count):
        block = x[k * 100 : k * 100 + 200].astype(np.float64)
        np.testing.assert_allclose(got[k, :7], block.mean(axis=0), atol=1e-5)
        np.testing.assert_allclose(got[k, 7:], block.std(axis=0), atol=1e-5)


def test_windowed_mean_std_pads_a_missing_last_frame(rng):
    x = rng.standard_normal((998, 3))
    got = windowed_mean_std(x, n_frames(10.0))
    np.testing.assert_allclose(got[-1, :3], np.vstack([x[800:], x[-1:], x[-1:]]).mean(0), atol=1e-5)


def test_compare_1hz_gives_260_features_per_second(quick):
    c = quick["speech_continuous"]
    y, sr = c.load_audio(c.clips.index[0])
    x = ComParE1Hz()(y, sr)
    assert x.shape == (n_frames(len(y) / sr), 260)
    cols = ComParE1Hz().columns()
    assert len(cols) == 260 and len(set(cols)) == 260
    assert cols[0] == "F0final_sma_mean" and cols[130] == "F0final_sma_std"
    assert "audspec_lengthL1norm_sma_de_mean" in cols
    assert np.isfinite(x).all() and (x[:, 130:] >= 0).all()


def test_compare_frame_table_is_indexed_by_clip_and_time(quick):
    c = quick["music_continuous"]
    y, sr = c.load_audio(c.clips.index[0])
    x = ComParE1Hz()(y[: 5 * sr], sr)
    df = frame_table({"mc": x}, ComParE1Hz().columns())
    assert list(df.index.names) == ["clip_id", "time"]
    assert list(df.index.get_level_values("time")) == [1.0, 2.0, 3.0, 4.0]


def test_logmel3d_has_the_thesis_shape_and_centre_padding(rng):
    """15 s at 16 kHz, hop 240 -> 1,001 frames of 40 mel bands x 3 channels (Rodningen 4.3)."""
    sr = 16000
    y = 0.1 * rng.standard_normal(5 * sr).astype(np.float32)
    f = LogMel3D()
    x = f(y, sr)
    assert x.shape == (1 + 15 * sr // 240, 40, 3)
    # 5 s of signal centred in 15 s: the first and last 4.5 s are padding at the dB floor.
    assert np.allclose(x[:250, :, 0], x[0, 0, 0]) and np.allclose(x[-250:, :, 0], x[0, 0, 0])
    assert x[500, :, 0].mean() > x[0, 0, 0] + 20
    unpadded = f(y, sr, pad=False)
    assert unpadded.shape == (1 + 5 * sr // 240, 40, 3)
    # Channel 0 is amplitude_to_db(ref=1) of the power-1 mel spectrogram, 300-8000 Hz.
    m = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=400, hop_length=240, n_mels=40, fmin=300, fmax=8000, power=1.0
    )
    np.testing.assert_allclose(unpadded[:, :, 0], 20 * np.log10(np.maximum(m, 1e-5)).T, atol=1e-3)


def test_logmel3d_crops_long_clips_to_the_centre(rng):
    sr = 16000
    y = np.concatenate([np.zeros(sr), 0.1 * rng.standard_normal(15 * sr), np.zeros(sr)])
    assert np.allclose(LogMel3D().fit_length(y), y[sr : 16 * sr])


def test_channel_standardiser_uses_training_statistics(rng):
    feats = [rng.normal(5.0, 2.0, (100, 40, 3)) for _ in range(4)]
    st = ChannelStandardiser().fit(feats)
    z = np.concatenate([st.transform(f) for f in feats])
    np.testing.assert_allclose(z.reshape(-1, 3).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.reshape(-1, 3).std(0), 1, atol=1e-5)
    with pytest.raises(RuntimeError, match="fit must be called"):
        ChannelStandardiser().transform(feats[0])


def test_mel_patches_are_one_second_with_half_overlap(rng):
    sr = 16000
    y = 0.1 * rng.standard_normal(4 * sr).astype(np.float32)
    p = MelPatches()(y, sr)
    m = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=512, n_mels=128), ref=1.0
    )
    n = (m.shape[1] - 31) // 15 + 1
    assert p.shape == (n, 1, 128, 31)
    np.testing.assert_allclose(p[2, 0], m[:, 30:61], atol=1e-4)
    assert MelPatches()(y[:1000], sr).shape == (0, 1, 128, 31)


def test_wrong_sample_rate_is_refused():
    with pytest.raises(ValueError, match="expects 16000 Hz audio, got 8000 Hz"):
        LogMel3D()(np.zeros(8000), 8000)


def test_second_extraction_reads_everything_from_the_cache(quick, tmp_path):
    c = quick["speech_static"]
    rep1, rep2 = ExtractionReport(), ExtractionReport()
    a = extract(c, ComParE1Hz(), cache_dir=tmp_path, report=rep1, progress=False, n_jobs=2)
    b = extract(c, ComParE1Hz(), cache_dir=tmp_path, report=rep2, progress=False)
    assert rep1.extracted == len(c) and rep2.extracted == 0 and rep2.cached == len(c)
    assert list(a) == list(c.clips.index)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_parameters_are_part_of_the_cache_key(quick, tmp_path):
    cache = FeatureCache(tmp_path)
    f = quick["speech_static"].audio_file("ss0000")
    assert cache.key(f, ComParE1Hz()) != cache.key(f, ComParE1Hz(win=3.0))
    assert cache.key(f, ComParE1Hz()) == cache.key(f, ComParE1Hz())


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_cache_entry_is_detected_and_rebuilt(quick, tmp_path, damage):
    c = quick["music_static"]
    ref = extract(c, ComParE1Hz(), cache_dir=tmp_path, progress=False, n_jobs=1)
    cache = FeatureCache(tmp_path)
    cid = c.clips.index[1]
    entry = cache.path(cache.key(c.audio_file(cid), ComParE1Hz()), ComParE1Hz())
    blob = entry.read_bytes()
    entry.write_bytes(
        blob[: len(blob) // 2]
        if damage == "truncate"
        else blob[:-8] + bytes(b ^ 0xFF for b in blob[-8:])
    )
    rep = ExtractionReport()
    with pytest.warns(CorruptCacheEntry, match=rf"{entry.name}: corrupt feature cache entry"):
        again = extract(c, ComParE1Hz(), cache_dir=tmp_path, progress=False, report=rep, n_jobs=1)
    assert rep.extracted == 1
    np.testing.assert_array_equal(again[cid], ref[cid])
