"""Functionals + linear models: the baselines every table reports.

A fitted model kept as arrays decides as scikit-learn does; ridge equals its normal equations;
openSMILE's functional sets come per clip and per window on the 1 Hz grid, through the cache; the
Rodningen track scores a linear baseline on its own splits as a row of Table 5.1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_ser.corpora.labels import n_frames
from mer_ser.experiments.quadrants import ClipSet
from mer_ser.experiments.rodningen2022 import Protocol, QuadrantTrack, ser_split, table5_1
from mer_ser.features import FeatureCache, SmileFunctionals, extract
from mer_ser.models import linear


def _blobs(n, k, d, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.standard_normal((n, d)) + 1.5 * np.eye(k, d)[y]
    return x, y


@pytest.mark.parametrize("kind", ["linear_svm", "logistic"])
@pytest.mark.parametrize("k", [2, 4])
def test_a_fitted_classifier_as_arrays_decides_as_scikit_learn(kind, k):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    x, y = _blobs(120, k, 6, 0)
    m = linear.fit(kind, x, y, c=0.1, seed=0)
    ref = (
        LinearSVC(C=0.1, class_weight="balanced", max_iter=20000, random_state=0)
        if kind == "linear_svm"
        else LogisticRegression(C=0.1, class_weight="balanced", max_iter=5000)
    ).fit(x, y)
    xt, _ = _blobs(50, k, 6, 1)
    np.testing.assert_array_equal(m.predict(xt), ref.predict(xt))
    assert m.coef.shape == (k, 6) and m.classes == tuple(range(k))
    if kind == "logistic":
        np.testing.assert_allclose(m.probabilities(xt), ref.predict_proba(xt), atol=1e-12)
    else:
        with pytest.raises(ValueError, match="no probabilities"):
            m.probabilities(xt)


@pytest.mark.parametrize("kind", ["linear_svm", "logistic"])
@pytest.mark.parametrize("present", [(0, 1, 3), (1, 2)])
def test_a_class_missing_from_training_is_never_decided_and_the_rest_are_unchanged(kind, present):
    """Over all four classes, a model trained on some of them decides and (logistic) gives the
    probabilities scikit-learn gives on its own classes, and 0 to the others."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    x, y = _blobs(200, 4, 6, 2)
    keep = np.isin(y, present)
    m = linear.fit(kind, x[keep], y[keep], c=0.1, seed=0).over((0, 1, 2, 3))
    ref = (
        LinearSVC(C=0.1, class_weight="balanced", max_iter=20000, random_state=0)
        if kind == "linear_svm"
        else LogisticRegression(C=0.1, class_weight="balanced", max_iter=5000)
    ).fit(x[keep], y[keep])
    xt, _ = _blobs(60, 4, 6, 3)
    np.testing.assert_array_equal(m.predict(xt), ref.predict(xt))
    assert m.classes == (0, 1, 2, 3) and m.coef.shape == (4, 6)
    if kind == "logistic":
        p = m.probabilities(xt)
        np.testing.assert_allclose(p[:, list(present)], ref.predict_proba(xt), atol=1e-12)
        absent = [c for c in range(4) if c not in present]
        assert (p[:, absent] == 0).all()
    with pytest.raises(ValueError, match=r"lack the model's classes \[3\]"):
        linear.fit(kind, x, y, c=0.1).over((0, 1, 2))


def test_ridge_solves_its_normal_equations():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 5))
    y = np.column_stack([x @ rng.standard_normal(5) + 2.0, x[:, 0] - 1.0]) + 0.1 * rng.random(
        (80, 2)
    )
    m = linear.fit("ridge", x, y, c=0.25)  # alpha = 1 / (2 c) = 2
    xc, yc = x - x.mean(0), y - y.mean(0)
    w = np.linalg.solve(xc.T @ xc + 2.0 * np.eye(5), xc.T @ yc)  # (5, 2)
    np.testing.assert_allclose(m.coef, w.T, rtol=1e-9)
    np.testing.assert_allclose(m.intercept, y.mean(0) - x.mean(0) @ w, rtol=1e-9)
    np.testing.assert_allclose(m.predict(x), x @ w + (y.mean(0) - x.mean(0) @ w), rtol=1e-9)


def test_the_regularisation_is_chosen_on_validation_recall():
    x, y = _blobs(200, 4, 8, 2)
    xv, yv = _blobs(100, 4, 8, 3)
    m, scores = linear.select("linear_svm", x, y, xv, yv)
    assert list(scores) == list(linear.GRID)
    assert scores[m.c] == max(scores.values())
    uar = np.mean([(m.predict(xv)[yv == c] == c).mean() for c in range(4)])
    assert scores[m.c] == pytest.approx(uar)


def test_bad_input_is_named():
    x, y = _blobs(20, 2, 3, 0)
    with pytest.raises(ValueError, match="one of"):
        linear.fit("svm", x, y)
    with pytest.raises(ValueError, match="two classes"):
        linear.fit("logistic", x, np.zeros(20))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        linear.fit("logistic", x, y)


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    sr = 16000
    t = np.arange(int(5.5 * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.1 * t))).astype(np.float32)
    y += 0.01 * np.random.default_rng(0).standard_normal(len(y)).astype(np.float32)
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    sf.write(path, y, sr)
    return path, y, sr


def test_opensmile_functionals_per_clip_and_per_window(tone):
    import opensmile

    _, y, sr = tone
    ref = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    clip = SmileFunctionals("eGeMAPSv02")
    out = clip(y, sr)
    assert out.shape == (1, 88) and clip.name == "egemapsv02_clip"
    np.testing.assert_allclose(out[0], ref.process_signal(y, sr).to_numpy()[0], rtol=1e-6)
    assert clip.columns() == list(ref.feature_names)
    win = SmileFunctionals("eGeMAPSv02", win=2.0, hop=1.0)
    frames = win(y, sr)
    assert frames.shape == (n_frames(5.5), 88) == (4, 88)
    for k in (0, 3):  # window k covers [k, k + 2) s: the 1 Hz grid of the continuous track
        seg = ref.process_signal(y[k * sr : (k + 2) * sr], sr).to_numpy()[0]
        np.testing.assert_allclose(frames[k], seg, rtol=1e-6)
    assert SmileFunctionals("ComParE_2016").dim == 6373
    with pytest.raises(ValueError, match="feature_set must be one of"):
        SmileFunctionals("GeMAPS")


def test_functionals_go_through_the_feature_cache(tone, tmp_path):
    from mer_ser.corpora.model import Corpus

    path, _, _ = tone
    clips = pd.DataFrame(
        {"domain": ["speech"], "language": ["en"], "audio_path": [path.name], "duration": [5.5],
         "sr": [16000], "group": ["s0"], "split": [""]},
        index=pd.Index(["c0"], name="clip_id"),
    )  # fmt: skip
    corpus = Corpus("tone", path.parent, clips)
    ex = SmileFunctionals("eGeMAPSv02")
    first = extract(corpus, ex, cache_dir=tmp_path, progress=False)
    key = FeatureCache(tmp_path).key(path, ex)
    assert FeatureCache(tmp_path).path(key, ex).is_file()
    again = extract(corpus, ex, cache_dir=tmp_path, progress=False, n_jobs=1)
    np.testing.assert_array_equal(first["c0"], again["c0"])


TINY = Protocol("tiny", runs=1, ser_fractions=(0.8, 0.2), models=("DCNN",), pad_seconds=1.0)


def _clips(name, domain, n, seed, offset):
    """Quadrant-labelled clips whose per-clip functionals shift with the quadrant."""
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 4, n).astype(np.int32)
    f = rng.standard_normal((n, 12)) + 1.2 * np.eye(4, 12)[q] + offset
    ids = tuple(f"{name}_{i}" for i in range(n))
    s = ClipSet(name, domain, ids, np.zeros((n, 3, 2, 3), np.float32), np.ones((n, 3), bool), q,
                np.asarray([f"{name}{i // 2}" for i in range(n)]), np.full(n, ""))  # fmt: skip
    return s, {c: f[i : i + 1] for i, c in enumerate(ids)}


def test_a_linear_baseline_is_a_row_of_table_5_1():
    from sklearn.svm import LinearSVC

    speech, fs = _clips("ser", "speech", 120, 0, 0.0)
    music, fm = _clips("mer", "music", 100, 1, 2.0)
    track = QuadrantTrack(TINY, speech=speech, music=music, seed=0)
    feats = {"speech": fs, "music": fm}
    mer = track.run_linear(feats, "MER2MER")
    ser = track.run_linear(feats, "SER2MER", "domain")
    # independent reference: standardise with the music training partition, fit at the chosen C
    sp = track.splits["music"]
    x = np.vstack([fm[c] for c in music.clip_ids])
    mean, std = x[sp.train].mean(0), x[sp.train].std(0)
    c = track.linear_models[("eGeMAPS SVM", "MER2MER", "source")].c
    ref = LinearSVC(C=c, class_weight="balanced", max_iter=20000, random_state=0)
    ref.fit((x[sp.train] - mean) / std, music.quadrant[sp.train])
    acc = (ref.predict((x[sp.test] - mean) / std) == music.quadrant[sp.test]).mean()
    got = mer[(mer["metric"] == "accuracy") & (mer["partition"] == "test")]["value"]
    assert got.tolist() == [pytest.approx(acc)]
    assert acc > 0.5  # the cue is learnable
    table = table5_1(pd.concat([mer, ser]), track.baseline()).set_index("experiment")
    assert table.loc["3b", "model"] == "eGeMAPS SVM" and table.loc["3b", "runs"] == 1
    assert table.loc["3a", "normalisation"] == "domain"
    assert table.loc["3b", "test_clips"] == len(sp.test)
    assert (
        table.loc["3a", "test_ci_low"]
        < table.loc["3a", "test_mean"]
        < table.loc["3a", "test_ci_high"]
    )
    assert track.confusion("eGeMAPS SVM", "MER2MER").sum() == len(sp.test)
    out = track.clip_outcomes()
    assert set(out["system"]) == {"eGeMAPS SVM MER2MER", "eGeMAPS SVM SER2MER (domain)"}


def test_the_ser_validation_split_can_keep_speakers_whole():
    speech, _ = _clips("ser", "speech", 120, 0, 0.0)
    grouped = Protocol("g", ser_fractions=(0.8, 0.2), ser_split="grouped")
    s = ser_split(speech, grouped, seed=0)
    assert not set(speech.groups[s.train]) & set(speech.groups[s.val])
    assert len(s.train) + len(s.val) == 120
    with pytest.raises(ValueError, match="ser_split"):
        ser_split(speech, Protocol("x", ser_split="speaker"), seed=0)


def test_a_linear_control_is_a_row_of_table_2():
    from sklearn.linear_model import LogisticRegression

    from mer_ser.experiments import gomez_canon as gc

    rng = np.random.default_rng(0)
    music, feats = {}, {}
    for lang in ("eng", "man"):
        n = 80
        q = (np.arange(n) % 4).astype(np.int32)
        ids = tuple(f"{lang}{i}" for i in range(n))
        music[lang] = gc.MusicPatches(lang, ids, q, np.asarray([f"s{i}" for i in range(n)]),
                                      np.zeros((n, 1, 1, 1), np.float32), np.arange(n))  # fmt: skip
        f = rng.standard_normal((n, 10)) + 2.0 * np.eye(4, 10)[q]
        feats[lang] = {c: f[i : i + 1] for i, c in enumerate(ids)}
    speech = {lang: np.zeros((2, 6, 128, 31, 1), np.float32) for lang in ("eng", "man")}
    lt = gc.LanguageTransfer("quick", speech=speech, music=music, progress=False)
    res = lt.linear_baseline("eng", feats["eng"])
    assert set(res["mode"]) == {"linear"} and set(res["setting"]) == {"music_eng"}
    assert set(res["head"]) == {"quadrant", "arousal", "valence"}
    # independent reference: the quadrant model refitted with scikit-learn at the chosen C
    tr, _, te = lt.splits["eng"]
    x = np.vstack([feats["eng"][c] for c in music["eng"].clip_ids])
    mean, std = x[tr].mean(0), x[tr].std(0)
    model = lt.linear_models[("eGeMAPS logistic", "quadrant", "eng")][0]
    ref = LogisticRegression(C=model.c, class_weight="balanced", max_iter=5000)
    ref.fit((x[tr] - mean) / std, music["eng"].quadrant[tr])
    acc = (ref.predict((x[te] - mean) / std) == music["eng"].quadrant[te]).mean()
    q = res[(res["head"] == "quadrant") & (res["metric"] == "accuracy")]["value"]
    assert q.tolist() == [pytest.approx(acc)] and acc > 0.5
    table = gc.table2(res).set_index(["model", "head"])
    assert table.loc[("eGeMAPS logistic", "Q"), "music_eng R"] == pytest.approx(acc)
    assert table.loc[("eGeMAPS logistic", "Q"), "music_eng R 95% CI (clips)"].endswith(
        f"({len(te)})"
    )
    out = lt.clip_outcomes()
    assert set(out["system"]) == {"eGeMAPS logistic music_eng"} and len(out) == len(te)


def _sequences(rng, name, domain, n, w):
    from mer_ser.experiments.sequences import SequenceSet, pad_sequences

    lengths = rng.integers(20, 40, n)
    xs = [rng.normal(2.0, 3.0, (t, 6)) for t in lengths]
    ys = [np.tanh(0.2 * (x - 2.0) @ w + 0.1 * rng.standard_normal((len(x), 2))) for x in xs]
    x, m = pad_sequences(xs)
    y = pad_sequences(ys)[0]
    return SequenceSet(name, domain, tuple(f"{name}{i}" for i in range(n)), x, m, y)


def test_the_continuous_ridge_baseline_uses_the_lstms_folds():
    import dataclasses

    from mer_ser.experiments import ContinuousTrack, results_frame
    from mer_ser.experiments.coutinho2017 import PROTOCOLS
    from mer_ser.experiments.splits import cv_masks

    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 2))
    music, speech = (_sequences(rng, d, d, 12, w) for d in ("music", "speech"))
    proto = dataclasses.replace(PROTOCOLS["quick"], folds=4)
    track = ContinuousTrack(proto, music=music, speech=speech, progress=False)
    res = track.run_linear("M2M")
    assert res.condition == "M2M ridge" and res.predictions.shape == (1, *music.y.shape)
    # fold 0 by hand: standardise with its training frames, solve ridge at the chosen penalty
    train, _, test = cv_masks(12, 4, nested=True)
    alpha = res.search[res.search["fold"] == 0].sort_values("val_ccc").iloc[-1]["alpha"]
    xt, yt = (
        music.x[train[0]][music.m[train[0]]].astype(np.float64),
        music.y[train[0]][music.m[train[0]]],
    )
    mean, std = xt.mean(0), xt.std(0)
    z = (xt - mean) / std
    zc, yc = z - z.mean(0), yt - yt.mean(0)
    coef = np.linalg.solve(zc.T @ zc + alpha * np.eye(6), zc.T @ yc)
    i = np.flatnonzero(test[0])[0]
    n = music.lengths[i]
    expect = ((music.x[i, :n] - mean) / std - z.mean(0)) @ coef + yt.mean(0)
    np.testing.assert_allclose(res.predictions[0, i, :n], expect, atol=1e-5)
    long = results_frame([res])
    ccc = long[(long["metric"] == "ccc")].groupby("dimension")["value"].mean()
    assert (ccc > 0.5).all()  # the labels are a noisy linear function of the features
    assert set(long["trial"]) == {0} and long["instance"].nunique() == 12
    with pytest.raises(ValueError, match="intra-domain"):
        track.run_linear("S2M")
    # other frame features on the same grid: one column more, same folds
    feats = {c: np.hstack([music.x[i, : music.lengths[i]], np.ones((music.lengths[i], 1))])
             for i, c in enumerate(music.clip_ids)}  # fmt: skip
    again = track.run_linear("M2M", feats, label="M2M other")
    np.testing.assert_allclose(again.predictions, res.predictions, atol=1e-4)
    feats[music.clip_ids[0]] = feats[music.clip_ids[0]][:3]
    with pytest.raises(Exception, match="feature frames"):
        track.run_linear("M2M", feats)
