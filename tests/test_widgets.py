"""The clip scrubber, headless: the view it shows, the message it sends, its exports.

The same widget in a real browser is tested in ``tests/test_notebooks.py``
(``test_scrubber_scrubs_in_jupyterlab_in_a_real_browser``).
"""

from __future__ import annotations

import numpy as np
import pytest
from corpus_fixtures import write_recola

from mer_ser.corpora import load
from mer_ser.corpora.adapters import UnmatchedWarning
from mer_ser.widgets import (
    ClipScrubber,
    ContinuousPredictions,
    Curve,
    QuadrantCurve,
    QuadrantPredictions,
    clip_view,
)
from mer_ser.widgets.view import spectrogram_image

# RECOLA's 44.1 kHz audio is resampled to 16 kHz for display (reported once per process)
pytestmark = pytest.mark.filterwarnings("ignore::mer_ser.corpora.audio.AudioRepair")


@pytest.fixture(scope="module")
def recola(tmp_path_factory):
    """A RECOLA copy in its real layout: 12 s clips, 25 Hz gold standard, six raters."""
    root = tmp_path_factory.mktemp("recola") / "RECOLA_2016 (AVEC)"
    truth = write_recola(root)
    with pytest.warns(UnmatchedWarning):
        return load("recola", root.parent), truth


def test_curves_interpolate_and_trail_like_numpy():
    t = np.array([1.0, 2.0, 3.0, 5.0])
    c = Curve("m", "model", t, np.array([0.0, 0.5, -0.5, 1.0]), np.array([1.0, 0.0, 0.0, -1.0]))
    for s in (0.0, 1.5, 2.75, 4.0, 9.0):
        assert c.at(s) == (np.interp(s, t, c.arousal), np.interp(s, t, c.valence))
    trail = c.trail(3.5, 2.0)  # points at 2 and 3 s, then the current point; (valence, arousal)
    np.testing.assert_allclose(trail, [[0.0, 0.5], [0.0, -0.5], [-0.25, -0.125]])
    with pytest.raises(ValueError, match="arousal has shape"):
        Curve("bad", "model", t, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="time must increase"):
        Curve("bad", "model", t[::-1], np.zeros(4), np.zeros(4))


def test_quadrant_probabilities_map_to_expected_arousal_and_valence():
    """Q1 (+a, +v), Q2 (+a, -v), Q3 (-a, -v), Q4 (-a, +v): the expectation of the signs."""
    p = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0.4, 0.3, 0.2, 0.1]])
    av = QuadrantCurve("q", np.arange(5.0), p).expected_av()
    np.testing.assert_allclose(av.arousal, [1, 1, -1, -1, 0.4 + 0.3 - 0.2 - 0.1], atol=1e-12)
    np.testing.assert_allclose(av.valence, [1, -1, -1, 1, 0.4 - 0.3 - 0.2 + 0.1], atol=1e-12)
    with pytest.raises(ValueError, match="sum to 1"):
        QuadrantCurve("q", np.arange(2.0), np.full((2, 4), 0.5))


def test_long_clips_cost_the_browser_a_bounded_image():
    """A 10-minute clip is max-pooled to the column budget; a short one keeps its frames."""
    sr = 16000
    rng = np.random.default_rng(0)
    long = spectrogram_image(rng.normal(0, 0.1, 600 * sr).astype(np.float32), sr, max_columns=800)
    assert long.shape == (64, 800) and long.dtype == np.uint8
    y = rng.normal(0, 0.1, 2 * sr).astype(np.float32)
    y[sr : sr + 512] *= 30  # a loud burst in the second half
    short = spectrogram_image(y, sr, max_columns=800)
    assert short.shape == (64, 1 + 2 * sr // 256)
    pooled = spectrogram_image(y, sr, max_columns=25)
    # the pooled column holding the burst is as loud as the loudest frame of the burst
    assert pooled.max() == short.max() == 255
    assert pooled[:, 12:14].max() == 255 and pooled[:, :10].max() < 255


def test_a_clip_view_holds_audio_gold_raters_and_models(recola):
    corpus, truth = recola
    pred = np.column_stack([np.linspace(-1, 1, 11), np.zeros(11)])  # 12 s: 11 frames at 1 Hz
    v = clip_view(corpus, "dev_1", predictions={"S2S": pred},
                  quadrants={"quad": (np.array([1.0, 6.0]), np.eye(4)[[0, 2]])})  # fmt: skip
    assert v.duration == pytest.approx(12.0) and v.sr == 16000
    kinds = [c.kind for c in v.curves]
    assert kinds == ["gold"] + ["rater"] * 6 + ["model"]
    gold = v.curves[0]
    np.testing.assert_allclose(gold.arousal, truth["gold"][("dev_1", "arousal")], atol=1e-6)
    model = v.curves[-1]
    np.testing.assert_allclose(model.time, np.arange(11) + 1.0)  # frame centres, 2 s windows
    assert v.points(6.0)["S2S"] == pytest.approx((0.0, 0.0))
    assert v.points(5.0)["quad"] == pytest.approx((-0.6, -0.6))  # 1 -> 6 s: Q1 -> Q3
    wav = v.wav_bytes()
    assert wav[:4] == b"RIFF" and len(wav) == 44 + 2 * len(v.audio)
    with pytest.raises(KeyError, match="no clip 'nope'"):
        clip_view(corpus, "nope")


def test_scrubber_sends_one_clip_and_follows_its_pickers(recola, tmp_path):
    corpus, _ = recola
    preds = {c: np.zeros((11, 2)) + i / 10 for i, c in enumerate(("dev_1", "dev_2"))}
    quad = {"dev_2": (np.array([2.0, 8.0]), np.eye(4)[[1, 3]])}
    models = [ContinuousPredictions("M2M", corpus.name, preds),
              QuadrantPredictions("SCAE-Full", corpus.name, quad)]  # fmt: skip
    s = ClipScrubber(corpus, models, trail=3.0, export_dir=tmp_path)
    cv = s.canvas
    # the first clip a model predicts is shown, with every model that predicts it
    assert s.view.clip_id == "dev_1" and s.model_picker.value == ("M2M",)
    assert len(cv.spectrogram) == np.prod(cv.spec_shape) and cv.audio[:4] == b"RIFF"
    assert cv.curves[0]["name"] == "gold standard" and cv.curves[-1]["name"] == "M2M"
    token = cv.clip_token
    s.select(clip="dev_2")
    assert cv.clip_token == token + 1 and cv.title == "recola / dev_2"
    assert s.model_picker.value == ("M2M", "SCAE-Full") and len(cv.quadrants) == 1
    s.position = 5.0
    assert cv.position == 5.0 and s.points()["M2M"] == pytest.approx((0.1, 0.1))
    s.position = 99.0  # clamped to the clip
    assert s.position == pytest.approx(12.0)
    audio = cv.audio
    s.select(models=["M2M"])
    assert cv.quadrants == [] and cv.clip_token == token + 2
    assert cv.audio is audio  # a model toggle does not resend (or rebuild) the clip's audio
    s.position = 4.0
    s.export_button.click()
    out = sorted(tmp_path.glob("scrubber_recola_dev_2_*.png"))
    assert len(out) == 1 and out[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "0004.00s" in out[0].name and str(out[0]) in s.status_line.value
    with pytest.raises(ValueError, match="corpora that are not given"):
        ClipScrubber(corpus, [ContinuousPredictions("x", "deam", {})])


def test_condition_results_become_models_of_their_target_clips():
    """The test predictions of the development-best trial, cut to each clip's valid frames."""
    from types import SimpleNamespace

    pred = np.arange(2 * 2 * 4 * 2, dtype=float).reshape(2, 2, 4, 2)  # trials, clips, T, 2
    result = SimpleNamespace(condition="S2M", target="music", clip_ids=("a", "b"),
                             predictions=pred, mask=np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool),
                             best_trial=lambda: 1)  # fmt: skip
    m = ContinuousPredictions.from_condition(result)
    assert m.name == "S2M" and m.corpus == "music"
    np.testing.assert_array_equal(m.predictions["a"], pred[1, 0, :3])
    np.testing.assert_array_equal(m.predictions["b"], pred[1, 1])


def test_any_audio_file_opens_with_model_bundles_and_exports_its_curves(tmp_path):
    """A recording in no corpus: scored by a continuous bundle (curve and trial spread as
    ``predict`` gives them), its own label drawn as gold, curves exported as CSV."""
    from datetime import UTC, datetime

    import pandas as pd
    import soundfile as sf

    from mer_ser import bundles
    from mer_ser.bench.prediction import random_bundle

    folder = random_bundle(tmp_path / "models" / "toy", hidden=(8, 4), trials=3, folds=2)
    t = np.arange(9 * 22050) / 22050
    y = 0.2 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.4 * t))
    sf.write(tmp_path / "rec.wav", np.stack([y, y], axis=1), 22050)
    s = ClipScrubber(data_root=tmp_path, export_dir=tmp_path / "out")
    assert s.bundle_picker.options == ("toy",) and s.view is None  # nothing shown yet
    label = pd.DataFrame({"time": [0.0, 4.0, 8.0], "arousal": [-0.5, 0.0, 0.5],
                          "valence": [0.1, 0.2, 0.3]})  # fmt: skip
    s.open_file(tmp_path / "rec.wav", label=label)
    assert (s.view.corpus, s.view.clip_id) == ("files", "rec.wav")
    assert [c["name"] for c in s.canvas.curves] == ["gold standard", "toy"]
    want = bundles.predict(folder, tmp_path / "rec.wav")
    curve = s.view.curves[1]
    np.testing.assert_allclose(curve.arousal, want["arousal"], rtol=1e-6)
    np.testing.assert_allclose(curve.valence_sd, want["valence_sd"], rtol=1e-6)
    np.testing.assert_allclose(curve.time, np.arange(len(want)) + 1.0)  # frame centres
    sent = s.canvas.curves[1]
    assert sent["sa"] == [round(float(v), 4) for v in want["arousal_sd"]]
    labels = [lab for _, lab in s.canvas.spec_ticks]
    assert labels[0] == "0" and labels[-1] == "8k"  # 16 kHz audio: up to 8 kHz
    fracs = [f for f, _ in s.canvas.spec_ticks]
    assert fracs == sorted(fracs) and fracs[-1] == pytest.approx(1.0)
    out = pd.read_csv(s.export_csv())
    assert set(out["curve"]) == {"gold standard", "toy"}
    assert len(out[out["curve"] == "toy"]) == len(want)
    np.testing.assert_allclose(out.loc[out["curve"] == "gold standard", "arousal"], [-0.5, 0, 0.5])
    # the path field and the Open button; a file that is not audio is reported, not raised
    (tmp_path / "notes.wav").write_text("not audio")
    s.file_path.value = str(tmp_path / "notes.wav")
    s.open_button.click()
    assert "cannot open" in s.status_line.value and "notes.wav" in s.status_line.value
    # an upload is written under the export folder and opened
    data = (tmp_path / "rec.wav").read_bytes()
    item = {"name": "take 2.wav", "type": "audio/wav", "size": len(data),
            "content": memoryview(data), "last_modified": datetime.now(UTC)}  # fmt: skip
    s.upload.value = (item,)
    assert s.view.clip_id == "take 2.wav" and (tmp_path / "out" / "uploads" / "take 2.wav").exists()
    assert s._clip.options == ("rec.wav", "take 2.wav")
    np.testing.assert_allclose(s.view.curves[0].arousal, curve.arousal)  # same audio, same curve


def _linear_bundle(folder, target, rng, classes=()):
    """A random linear bundle on eGeMAPS functionals (two members)."""
    from mer_ser.bundles import save_bundle
    from mer_ser.bundles.linear import linear_manifest

    k = len(classes) or 2
    manifest = linear_manifest(
        "logistic" if classes else "ridge", target,
        features={"name": "egemaps_functionals", "config": {"sr": 16000}, "dim": 88},
        classes=classes, trials=1, folds=2,
    )  # fmt: skip
    arrays = {"params/coef": 0.05 * rng.standard_normal((2, k, 88)),
              "params/intercept": 0.1 * rng.standard_normal((2, k)),
              "stats/mean": rng.standard_normal((2, 88)),
              "stats/std": 1 + rng.random((2, 88))}  # fmt: skip
    return save_bundle(folder, manifest, arrays)


def test_a_linear_model_on_the_time_continuous_target_draws_its_curve(tmp_path, rng):
    """Linear bundles on the 1 Hz grid are offered with their members' spread; clip-level ones,
    which give one value per file, are not, and are refused with the reason."""
    import soundfile as sf

    from mer_ser import bundles
    from mer_ser.widgets.files import bundle_models, file_corpus

    frames = _linear_bundle(tmp_path / "models" / "ridge_av", "arousal,valence", rng)
    _linear_bundle(
        tmp_path / "models" / "clip_q", "quadrant", rng, classes=("Q1", "Q2", "Q3", "Q4")
    )
    t = np.arange(6 * 16000) / 16000
    sf.write(tmp_path / "rec.wav", 0.2 * np.sin(2 * np.pi * 440 * t) * (1 + t / 6), 16000)
    s = ClipScrubber(data_root=tmp_path, export_dir=tmp_path / "out")
    assert s.bundle_picker.options == ("ridge_av",)
    s.open_file(tmp_path / "rec.wav")
    want = bundles.predict(frames, tmp_path / "rec.wav")
    curve = s.view.curves[-1]
    assert curve.name == "ridge_av" and len(want) == 5  # 2-s windows every 1 s of 6 s
    np.testing.assert_allclose(curve.arousal, want["arousal"], rtol=1e-6)
    np.testing.assert_allclose(curve.valence_sd, want["valence_sd"], rtol=1e-6)
    assert (want["valence_sd"] > 0).all()  # two members that disagree
    with pytest.raises(bundles.BundleError, match=r"clip_q: a clip-level linear bundle has no "
                                                  r"emotion curve"):  # fmt: skip
        bundle_models(["clip_q"], file_corpus([tmp_path / "rec.wav"]), data_root=tmp_path)
