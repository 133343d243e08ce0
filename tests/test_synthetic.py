"""The built-in corpus: deterministic, resumable, proportioned as configured, and valid:
its shared cues follow the latent arousal in both domains (and stop following it in music when
the shared code is switched off)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mer_ser.corpora import load_builtin
from mer_ser.corpora.synthetic import (
    PROFILES,
    SyntheticConfig,
    build_corpus,
    latents,
    music,
    plan_part,
)
from mer_ser.corpora.synthetic import latent as L
from mer_ser.corpora.synthetic.config import MSP_QUADRANTS
from mer_ser.corpora.synthetic.cues import MusicCues, SpeechCues, shared_driver
from mer_ser.features import ComParE1Hz, CueMeasures, extract

SMALL = ("speech_static", "music_static")


def _digest(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_quick_profile_has_every_part(quick):
    assert set(quick) == {p.name for p in PROFILES["quick"].parts}
    hours = sum(c.clips["duration"].sum() for c in quick.values()) / 3600
    assert 0.4 < hours < 0.55  # "about 29 minutes"
    assert quick["speech_continuous"].kind == "continuous"
    assert quick["speech_pool"].kind == "unlabelled"
    assert set(quick["speech_pool"].clips["language"]) == {"en", "fr", "zh"}
    assert quick["music_static"].kind == "static"


@pytest.mark.slow
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path, quick_root):
    cfg = SyntheticConfig(profile="quick", seed=0, parts=SMALL)
    build_corpus(tmp_path / "a", cfg, progress=False)
    a = _digest(tmp_path / "a")
    reference = {k: v for k, v in _digest(quick_root).items() if k.startswith(SMALL)}
    assert {k: v for k, v in a.items() if k != "builtin.json"} == reference
    build_corpus(
        tmp_path / "b", SyntheticConfig(profile="quick", seed=1, parts=SMALL), progress=False
    )
    b = _digest(tmp_path / "b")
    wavs = [k for k in a if k.endswith(".wav")]
    assert wavs and all(a[k] != b[k] for k in wavs)


def test_speech_clips_are_identical_across_builds(tmp_path, quick_root):
    """espeak-ng keeps state between utterances; the builder's fresh workers make it repeatable."""
    build_corpus(
        tmp_path, SyntheticConfig(profile="quick", parts=("speech_continuous",)), progress=False
    )
    for wav in sorted((tmp_path / "speech_continuous" / "audio").glob("*.wav")):
        ref = quick_root / "speech_continuous" / "audio" / wav.name
        assert wav.read_bytes() == ref.read_bytes(), wav.name


def _killed_build(monkeypatch, out, cfg, after: int) -> None:
    """A build that dies (as under kill) once ``after`` clips are written."""
    from mer_ser.corpora.synthetic import build as B

    real = B.parallel_map

    def dying(*args, **kwargs):
        for i, result in enumerate(real(*args, **kwargs)):
            if i == after:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(B, "parallel_map", dying)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(out, cfg, progress=False, n_jobs=1)
    monkeypatch.setattr(B, "parallel_map", real)


ONE_PART = SyntheticConfig(profile="quick", seed=1, parts=("music_static",))


@pytest.fixture(scope="module")
def one_part_reference(tmp_path_factory):
    """A clean, uninterrupted build of ``ONE_PART`` and its file digests."""
    root = tmp_path_factory.mktemp("reference")
    build_corpus(root, ONE_PART, progress=False)
    return _digest(root)


@pytest.mark.slow
def test_a_killed_build_resumed_with_another_seed_is_refused_and_force_rebuilds(
    tmp_path, monkeypatch
):
    from mer_ser.corpora.synthetic.build import BuildMismatch

    _killed_build(monkeypatch, tmp_path, ONE_PART, after=4)
    other = SyntheticConfig(profile="quick", seed=7, parts=("music_static",))
    with pytest.raises(BuildMismatch, match=r"builtin\.json: folder holds a corpus built with"):
        build_corpus(tmp_path, other, progress=False)
    build_corpus(tmp_path, other, progress=False, force=True)
    clean = tmp_path.parent / "clean"
    build_corpus(clean, other, progress=False)
    assert _digest(tmp_path) == _digest(clean)


@pytest.mark.slow
def test_a_resumed_build_regenerates_exactly_the_missing_truncated_changed_and_unrecorded_clips(
    tmp_path, monkeypatch, one_part_reference
):
    _killed_build(monkeypatch, tmp_path, ONE_PART, after=6)
    audio = tmp_path / "music_static" / "audio"
    journal = (tmp_path / "builtin.journal").read_text().splitlines()
    finished = [line.split()[1].rsplit("/", 1)[1] for line in journal]
    assert len(finished) == 6
    truncated, changed = (audio / n for n in finished[:2])  # and finished[2] loses its record
    truncated.write_bytes(truncated.read_bytes()[:1000])
    changed.write_bytes(changed.read_bytes()[:-2] + b"\x01\x02")
    (tmp_path / "builtin.journal").write_text("\n".join(journal[:2] + journal[3:]) + "\n")
    untouched = {n: (audio / n).stat().st_mtime_ns for n in finished[3:]}
    build_corpus(tmp_path, ONE_PART, progress=False)
    assert _digest(tmp_path) == one_part_reference
    assert {n: (audio / n).stat().st_mtime_ns for n in untouched} == untouched
    assert not (tmp_path / "builtin.journal").exists()


def test_a_complete_build_verifies_its_files_and_regenerates_a_truncated_one(
    tmp_path, one_part_reference
):
    build_corpus(tmp_path, ONE_PART, progress=False)
    victim = tmp_path / "music_static" / "audio" / "ms0003.wav"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    (tmp_path / "music_static" / "labels" / "static.csv").write_text("clip_id\n")
    with pytest.warns(RuntimeWarning, match="missing or changed; regenerating"):
        build_corpus(tmp_path, ONE_PART, progress=False)
    assert _digest(tmp_path) == one_part_reference


def test_part_folders_that_no_manifest_records_are_not_reused(tmp_path):
    from mer_ser.corpora.synthetic.build import BuildMismatch

    (tmp_path / "music_static" / "audio").mkdir(parents=True)
    (tmp_path / "music_static" / "audio" / "ms0000.wav").write_bytes(b"RIFF")
    with pytest.raises(BuildMismatch, match="no build manifest"):
        build_corpus(tmp_path, ONE_PART, progress=False)


def test_a_corrupt_build_manifest_is_named(tmp_path):
    from mer_ser.errors import CorpusError

    (tmp_path / "builtin.json").write_text('{"config": ')
    with pytest.raises(CorpusError, match=r"builtin\.json: build manifest is not valid JSON"):
        build_corpus(tmp_path, ONE_PART, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shared_code": 5.0}, r"shared_code must lie in \[0, 1\], got 5"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"profile": "huge"}, "unknown profile 'huge'"),
    ],
)
def test_a_bad_config_is_rejected_before_anything_is_generated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SyntheticConfig(**kwargs)


def test_a_fresh_build_returns_exactly_what_a_later_run_reads(tmp_path):
    """Labels are stored in a fixed float format: the builder must hand out the stored values,
    or a from-scratch run and a rerun see different data (and retrain cached jobs)."""
    import pandas as pd

    cfg = SyntheticConfig(profile="quick", seed=0, parts=("speech_static",))
    fresh = build_corpus(tmp_path, cfg, progress=False)["speech_static"]
    again = load_builtin(tmp_path)["speech_static"]
    pd.testing.assert_frame_equal(fresh.static, again.static, check_exact=True)
    pd.testing.assert_frame_equal(fresh.clips, again.clips, check_exact=True)


def test_a_folder_built_with_another_config_is_refused(tmp_path):
    build_corpus(
        tmp_path, SyntheticConfig(profile="quick", parts=("music_static",)), progress=False
    )
    with pytest.raises(ValueError, match=r"built with .*choose another --out, or pass --force"):
        build_corpus(tmp_path, SyntheticConfig(profile="quick", seed=5, parts=("music_static",)))


@pytest.mark.parametrize(
    ("part", "props"), [("speech_static", MSP_QUADRANTS), ("music_static", (0.25,) * 4)]
)
def test_static_quadrants_match_the_configuration(quick, part, props):
    """Generated targets follow the configured proportions exactly; rater labels mostly agree.

    The labels are the mean of noisy votes (DEAM's spread), so clips near an axis can land in
    the neighbouring quadrant: most labels agree with the quadrant the audio expresses, not all.
    """
    spec = next(p for p in PROFILES["quick"].parts if p.name == part)
    plans = plan_part(spec, SyntheticConfig(profile="quick"))
    n = len(plans)
    target = np.array([sum(p.quadrant == q for p in plans) for q in ("Q1", "Q2", "Q3", "Q4")])
    assert np.abs(target - np.asarray(props) * n).max() < 1
    labels = quick[part].static["quadrant"].loc[[p.clip_id for p in plans]]
    agree = float(np.mean([p.quadrant == q for p, q in zip(plans, labels, strict=True)]))
    assert 0.55 < agree < 0.95, agree


def test_static_labels_keep_the_original_scale(quick):
    s = quick["speech_static"].static
    assert s["arousal_raw"].between(1, 7).all()
    np.testing.assert_allclose(s["arousal"], (s["arousal_raw"] - 4) / 3, atol=1e-6)


def test_raters_lag_the_latent_by_two_to_five_seconds(rng):
    lat = L.trajectory(rng, 300.0, mean=0.0, sd=0.5, tau=8.0)
    t = np.arange(0, 300, 0.04)
    ratings = L.simulate_raters(rng, lat, t, 6, noise_sd=0.02, gain_sd=0.0)
    z = L.at(lat, t)
    for r in range(6):
        lags = np.arange(0, 200)  # in 40 ms steps
        cc = [np.corrcoef(z[: len(z) - k], ratings[k:, r])[0, 1] for k in lags]
        assert 2.0 <= lags[int(np.argmax(cc))] * 0.04 <= 5.0


def test_ou_process_has_the_stationary_sd(rng):
    x = L.ou_process(rng, 200_000, mean=0.3, sd=0.2, tau=2.0, rate=10.0)
    assert x.mean() == pytest.approx(0.3, abs=0.02)
    assert x.std() == pytest.approx(0.2, rel=0.05)


def test_shared_driver_interpolates_between_labels_and_an_independent_latent(rng):
    z, u = np.tanh(rng.standard_normal(100)), np.tanh(rng.standard_normal(100))
    np.testing.assert_array_equal(shared_driver(z, u, 1.0), z)
    np.testing.assert_array_equal(shared_driver(z, u, 0.0), u)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        shared_driver(z, u, 1.5)


@pytest.mark.parametrize("field", ["rate_wpm", "gain_db", "pitch_pct", "range_pct", "tilt_db"])
def test_speech_cues_rise_with_arousal(field):
    lo, hi = SpeechCues.from_av(-0.8, 0.0), SpeechCues.from_av(0.8, 0.0)
    assert getattr(hi, field) > getattr(lo, field)
    assert SpeechCues.from_av(0.8, 0.0).pause_s < SpeechCues.from_av(-0.8, 0.0).pause_s


def test_music_cues_split_shared_and_music_only_drivers():
    c = MusicCues.from_drivers(a_s=0.9, v_s=0.0, a=-0.9, v=-0.5)
    assert c.tempo_bpm > 100 and c.gain_db > 0  # shared cues follow the driver...
    assert c.percussion > 0  # ...drums too (they change loudness and onset rate)...
    assert not c.major and c.dissonance > 0  # ...music-only cues follow the labels:
    aroused = MusicCues.from_drivers(a_s=-0.9, v_s=0.0, a=0.9, v=-0.5)
    assert aroused.inharmonicity > 0.02 > 0.005 > c.inharmonicity  # bell-like when aroused
    assert aroused.even < 0.2 < 0.9 < c.even  # even partials fade when aroused (hollow timbre)
    assert aroused.tempo_bpm < 100  # while the shared cues still follow the driver


@pytest.mark.parametrize("b", [0.0, 0.02])
def test_tone_partials_follow_the_stiff_string_law(b):
    """Partial k of a tone sounds at k f sqrt(1 + B k^2); the even ones at the ``even`` gain."""
    sr, f0 = 16000, 220.0
    y = music.tone(
        f0, 2.0, sr, timbre="brass", rolloff=1.6, attack=0.01, even=0.25, inharmonicity=b
    )
    y = y[: 2 * sr] * np.hanning(2 * sr)
    spec = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(2 * sr, 1 / sr)
    amp = {}
    for k in range(1, 9):
        expected = k * f0 * np.sqrt(1 + b * k * k)
        near = np.abs(freqs - expected) < 15
        peak = freqs[near][np.argmax(spec[near])]
        assert abs(peak - expected) < 1.0, (k, peak, expected)  # FFT bins are 0.5 Hz apart
        amp[k] = spec[near].max()
    # Brass rolls off as k^-(rolloff - 0.6) = k^-1; the even partials at a quarter of it.
    assert amp[2] / amp[1] == pytest.approx(0.25 * 2.0**-1, rel=0.15)
    assert amp[3] / amp[1] == pytest.approx(3.0**-1, rel=0.15)


def _block_means(x, block):
    n = len(x) // block
    return x[: n * block].reshape(n, block).mean(axis=1)


def _decoded(feats, target, clips):
    """Leave-one-clip-out ridge from standardised features to a target: Pearson r (float64)."""
    x = (feats - feats.mean(0)) / (feats.std(0) + 1e-9)
    pred = np.empty_like(target)
    for c in np.unique(clips):
        tr = clips != c
        xt, yt = x[tr], target[tr] - target[tr].mean()
        w = np.linalg.solve(xt.T @ xt + 100.0 * np.eye(x.shape[1]), xt.T @ yt)
        pred[~tr] = x[~tr] @ w + target[tr].mean()
    return np.corrcoef(pred, target)[0, 1]


def _cue_correlations(corpora, cfg, cache):
    """Pearson r of openSMILE loudness and the event-rate cue with latent arousal, per domain.

    For music also ``own``: how well arousal is decoded from all 260 features (leave one clip
    out), after removing what the valence latent predicts of it (mode and consonance follow
    valence, and music's clip means correlate across the two dimensions).
    """
    loud_col = ComParE1Hz().columns().index("audspec_lengthL1norm_sma_mean")
    win = 4.0
    out = {}
    for name, c in corpora.items():
        spec = next(p for p in PROFILES[cfg.profile].parts if p.name == name)
        plans = {p.clip_id: p for p in plan_part(spec, cfg)}
        feats = extract(c, ComParE1Hz(), cache_dir=cache, progress=False)
        cues = extract(c, CueMeasures(win=win), cache_dir=cache, progress=False)
        loud, rate, z_loud, z_rate, rows, z_av, clip = [], [], [], [], [], [], []
        for i, cid in enumerate(c.clips.index):
            lat = latents(plans[cid])
            z = lat["arousal"]
            t = np.arange(len(feats[cid])) + 1.0  # frame k is centred at k + 1 s
            rows.append(feats[cid])
            z_av.append(np.stack([L.at(z, t), L.at(lat["valence"], t)], axis=1))
            clip.append(np.full(len(t), i))
            # 1 Hz frames: frame k covers [k, k + 2) s; blocks of 4 frames ~ 4 s windows.
            f = feats[cid][:, loud_col]
            loud.append(_block_means(f, 4))
            z_loud.append(_block_means(L.at(z, np.arange(len(f)) + 1.0), 4))
            m = cues[cid]
            rate.append(m[:, 1] if c.clips["domain"].iloc[0] == "speech" else m[:, 2])
            z_rate.append(
                [L.at(z, np.linspace(k * win, (k + 1) * win, 17)).mean() for k in range(len(m))]
            )
        domain = c.clips["domain"].iloc[0]
        out[domain] = {
            "loudness": np.corrcoef(np.concatenate(loud), np.concatenate(z_loud))[0, 1],
            "rate": np.corrcoef(np.concatenate(rate), np.concatenate(z_rate))[0, 1],
        }
        if domain == "music":
            za = np.concatenate(z_av).astype(np.float64)
            v = np.column_stack([za[:, 1], np.ones(len(za))])
            resid = za[:, 0] - v @ np.linalg.lstsq(v, za[:, 0], rcond=None)[0]
            x = np.concatenate(rows).astype(np.float64)
            out[domain]["own"] = _decoded(x, resid, np.concatenate(clip))
    return out


@pytest.fixture(scope="module")
def continuous_at(tmp_path_factory):
    def build(shared_code):
        root = tmp_path_factory.mktemp(f"sc{shared_code}")
        cfg = SyntheticConfig(
            profile="quick",
            shared_code=shared_code,
            parts=("speech_continuous", "music_continuous"),
        )
        build_corpus(root / "c", cfg, progress=False)
        return _cue_correlations(load_builtin(root / "c"), cfg, root / "cache")

    return build


@pytest.mark.slow
def test_loudness_and_rate_cues_follow_arousal_in_both_domains(continuous_at):
    r = continuous_at(1.0)
    print("cue-arousal correlations at shared_code=1:", r)
    for domain in ("speech", "music"):
        assert r[domain]["loudness"] >= 0.6, (domain, r)
        assert r[domain]["rate"] >= 0.6, (domain, r)


@pytest.mark.slow
def test_without_a_shared_code_music_loudness_ignores_arousal(continuous_at):
    """Negative control: at shared_code = 0 music's loudness follows an independent latent."""
    r = continuous_at(0.0)
    print("cue-arousal correlations at shared_code=0:", r)
    assert abs(r["music"]["loudness"]) < 0.35, r
    assert r["speech"]["loudness"] >= 0.6, r


@pytest.mark.slow
def test_without_a_shared_code_music_keeps_its_own_arousal_cues(continuous_at):
    """The timbre of the notes carries music's arousal at shared_code = 0 (beyond valence's cues).

    On the quick profile's ten clips, decoding from features unrelated to the target stays
    below r = 0.3 (a permutation of the clips' targets).
    """
    r = continuous_at(0.0)
    assert r["music"]["own"] >= 0.3, r
