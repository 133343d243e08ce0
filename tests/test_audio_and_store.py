"""Bad input is named and explained: audio files, corpus folders, label tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_ser.corpora import Corpus, audio, load_audio, read_corpus, write_corpus
from mer_ser.corpora.audio import AudioRepair, write_wav
from mer_ser.errors import AlignmentError, AnnotationError, AudioError, CorpusError


def test_missing_audio_is_named(tmp_path):
    with pytest.raises(AudioError, match=r"nope\.wav: audio file not found"):
        load_audio(tmp_path / "nope.wav")


def test_corrupt_audio_is_named(tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioError, match=r"corrupt\.wav: cannot read audio"):
        load_audio(bad)


def test_empty_audio_is_named(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, dtype=np.int16), 16000)
    with pytest.raises(AudioError, match=r"empty\.wav: audio file is empty"):
        load_audio(p)


def test_silent_audio_is_named_unless_allowed(tmp_path):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(1600, dtype=np.int16), 16000)
    with pytest.raises(AudioError, match=r"silent\.wav: audio is silent"):
        load_audio(p)
    y, sr = load_audio(p, allow_silent=True)
    assert sr == 16000 and len(y) == 1600 and not y.any()


def test_nan_samples_are_named(tmp_path):
    p = tmp_path / "nan.wav"
    y = np.full(100, 0.1, dtype=np.float32)
    y[10] = np.nan
    sf.write(p, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: audio contains NaN"):
        load_audio(p)


def test_stereo_44k_is_downmixed_and_resampled(tmp_path):
    """Documented repair: a 440 Hz stereo tone at 44.1 kHz comes back mono, 16 kHz, 440 Hz."""
    sr = 44100
    t = np.arange(sr) / sr
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    p = tmp_path / "stereo.wav"
    sf.write(p, np.stack([tone, tone], axis=1), sr)
    audio._REPORTED.clear()
    with pytest.warns(AudioRepair) as record:
        y, out_sr = load_audio(p, sr=16000)
    messages = sorted(str(w.message) for w in record)
    assert "stereo.wav: downmixed 2 channels to mono" in messages[0]
    assert "stereo.wav: resampled 44100 Hz to 16000 Hz" in messages[1]
    load_audio(p, sr=16000)  # the same repairs are not reported again (filterwarnings=error)
    assert out_sr == 16000 and y.ndim == 1 and len(y) == 16000
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spec) * out_sr / len(y) == pytest.approx(440, abs=1)
    assert np.abs(y).max() == pytest.approx(0.5, abs=0.01)


def test_write_wav_stores_16_bit_samples_deterministically(tmp_path, rng):
    y = np.clip(0.3 * rng.standard_normal(1000), -1.2, 1.2)
    y[:2] = [1.5, -1.5]  # beyond full scale: clipped
    write_wav(tmp_path / "a.wav", y, 16000)
    write_wav(tmp_path / "b.wav", y, 16000)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    pcm, sr = sf.read(tmp_path / "a.wav", dtype="int16")  # read back by libsndfile
    want = np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)
    assert sr == 16000 and sf.info(tmp_path / "a.wav").subtype == "PCM_16"
    np.testing.assert_array_equal(pcm, want)
    back, _ = load_audio(tmp_path / "a.wav", sr=16000)
    # half a step of rounding plus the reader's 1/32768 scale against the writer's 1/32767
    np.testing.assert_allclose(back, np.clip(y, -1, 1), atol=2 / 32767)


def _tiny_corpus(root, *, gold=None, static=None, clips=None):
    clips = (
        clips
        if clips is not None
        else pd.DataFrame(
            {
                "clip_id": ["c1", "c2"],
                "domain": ["speech", "music"],
                "language": ["en", "zxx"],
                "audio_path": ["audio/c1.wav", "audio/c2.wav"],
                "duration": [4.0, 4.0],
                "sr": 16000,
                "group": ["s1", "p1"],
                "split": "",
            }
        ).set_index("clip_id")
    )
    return Corpus("tiny", root, clips, gold=gold, static=static)


def _gold(n=101):
    t = np.arange(n) * 0.04
    return pd.DataFrame(
        {"clip_id": "c1", "time": t, "arousal": np.linspace(-0.5, 0.5, n), "valence": 0.1}
    )


def test_corpus_round_trips_through_its_folder(tmp_path):
    static = pd.DataFrame(
        {
            "arousal": [0.5],
            "valence": [-0.5],
            "arousal_raw": [5.5],
            "valence_raw": [2.5],
            "category": ["angry"],
            "quadrant": ["Q2"],
        },
        index=pd.Index(["c2"], name="clip_id"),
    )
    c = _tiny_corpus(tmp_path, gold=_gold(), static=static)
    write_corpus(c)
    back = read_corpus(tmp_path)
    pd.testing.assert_frame_equal(back.clips, c.clips, check_dtype=False)
    pd.testing.assert_frame_equal(back.gold, c.gold, check_dtype=False)
    assert back.static.loc["c2", "quadrant"] == "Q2"
    assert back.kind == "continuous"


def test_frame_labels_resample_and_compensate_delay(tmp_path):
    c = _tiny_corpus(tmp_path, gold=_gold())
    y = c.frame_labels("c1", 3)
    assert y.shape == (3, 2)
    assert y[1, 0] > y[0, 0]  # arousal rises linearly
    np.testing.assert_allclose(c.frame_labels("c1", 3, delay=1)[0], y[1])


def test_labels_shorter_than_features_are_an_alignment_error(tmp_path):
    c = _tiny_corpus(tmp_path, gold=_gold(n=30))  # 1.2 s of labels
    with pytest.raises(AlignmentError, match=r"tiny:c1: labels end at 1\.16 s"):
        c.frame_labels("c1", 3)


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (
            lambda cl: cl.assign(domain=["speech", "noise"]),
            CorpusError,
            r"unknown domains \['noise'\]",
        ),
        (lambda cl: cl.drop(columns="group"), CorpusError, r"lacks columns \['group'\]"),
        (lambda cl: pd.concat([cl, cl.iloc[:1]]), CorpusError, r"duplicate clip ids \['c1'\]"),
    ],
)
def test_bad_clip_tables_are_rejected(tmp_path, mutate, error, message):
    base = _tiny_corpus(tmp_path).clips
    with pytest.raises(error, match=message):
        _tiny_corpus(tmp_path, clips=mutate(base))


def test_bad_gold_values_are_rejected(tmp_path):
    g = _gold()
    g.loc[3, "arousal"] = np.nan
    with pytest.raises(AnnotationError, match="gold has NaN arousal"):
        _tiny_corpus(tmp_path, gold=g)
    g = _gold().assign(valence=3.0)
    with pytest.raises(AnnotationError, match=r"valence outside \[-1, 1\]"):
        _tiny_corpus(tmp_path, gold=g)
    with pytest.raises(CorpusError, match=r"labels for unknown clips \['zz'\]"):
        _tiny_corpus(tmp_path, gold=_gold().assign(clip_id="zz"))


def test_folder_without_corpus_json_is_named(tmp_path):
    with pytest.raises(CorpusError, match=r"no corpus\.json; unfinished build"):
        read_corpus(tmp_path)


def test_ragged_label_csv_is_named(tmp_path):
    c = _tiny_corpus(tmp_path, gold=_gold())
    write_corpus(c)
    path = tmp_path / "labels" / "gold.csv"
    path.write_text(path.read_text() + "c1,9.0,0.1,0.2,0.3,0.4\n")
    with pytest.raises(AnnotationError, match=r"gold\.csv: cannot parse CSV"):
        read_corpus(tmp_path)


def test_nan_in_a_label_file_names_the_folder(tmp_path):
    c = _tiny_corpus(tmp_path, gold=_gold())
    write_corpus(c)
    path = tmp_path / "labels" / "gold.csv"
    lines = path.read_text().splitlines()
    lines[5] = "c1,0.16,,0.1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match=rf"{tmp_path}: tiny: gold has NaN arousal"):
        read_corpus(tmp_path)
