"""Gomez-Canon et al. 2020/2021: scores, clip aggregation, pools, CPC objective, Feat. Ext. on
cached latents, and the protocol end to end on small synthetic patch sets."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from flax import nnx
from sklearn.metrics import precision_recall_fscore_support

from mer_ser import losses
from mer_ser.errors import CorpusError
from mer_ser.experiments import Data
from mer_ser.experiments import gomez_canon as gc
from mer_ser.experiments.jobs import classifier_state
from mer_ser.features import MelPatches
from mer_ser.metrics import wilson_interval
from mer_ser.models import LatentClassifier, SCAEClassifier
from mer_ser.train import TrainConfig, folds_from_masks, make_classifier_fit
from mer_ser.train.engine import make_optimizer


def test_weighted_scores_reproduce_the_2020_english_baseline():
    """Table II (2020): the English baseline CNN scores P 0.23, R 0.48, F 0.31, exactly what a
    model predicting one class that holds 48 % of the test clips gets with weighted averages."""
    y = np.repeat([0, 1, 2, 3], [48, 20, 16, 16])
    cm = np.zeros((4, 4))
    np.add.at(cm, (y, np.zeros_like(y)), 1)
    s = gc.head_scores(cm)
    assert (round(s["precision"], 2), round(s["recall"], 2), round(s["f1"], 2)) == (
        0.23,
        0.48,
        0.31,
    )


def test_weighted_scores_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    p[y == 2] = 2  # one class recalled fully, others at random
    cm = np.zeros((4, 4))
    np.add.at(cm, (y, p), 1)
    prec, rec, f1, _ = precision_recall_fscore_support(y, p, average="weighted", zero_division=0)
    s = gc.head_scores(cm)
    np.testing.assert_allclose([s["precision"], s["recall"], s["f1"]], [prec, rec, f1], rtol=1e-12)


def test_a_clip_is_the_argmax_of_its_patches_mean_probabilities():
    clip = np.array([0, 0, 0, 1, 1])
    prob = {
        # clip 0: patches vote Q1, Q1, Q2 but the mean favours Q2; clip 1: Q4
        "quadrant": np.array(
            [
                [0.4, 0.3, 0.2, 0.1],
                [0.4, 0.3, 0.2, 0.1],
                [0.0, 1.0, 0, 0],
                [0.1, 0.1, 0.1, 0.7],
                [0.3, 0.1, 0.1, 0.5],
            ]
        ),
        "arousal": np.array([0.9, 0.9, 0.0, 0.2, 0.2]),  # clip 0: mean 0.6 -> high
        "valence": np.array([0.1, 0.1, 0.1, 0.9, 0.7]),
    }
    y_clip = np.array([1, 3])  # Q2, Q4
    cms = gc.clip_confusions(prob, y_clip, clip, np.array([0, 1]))
    np.testing.assert_array_equal(np.diag(cms["quadrant"]), [0, 1, 0, 1])
    assert cms["arousal"][1, 1] == 1 and cms["arousal"][0, 0] == 1  # Q2 high, Q4 low: both right
    assert cms["valence"].trace() == 2  # Q2 negative (0.1), Q4 positive (0.8)


def test_cpc_batch_loss_matches_the_numpy_objective():
    rng = np.random.default_rng(1)
    pred, z = rng.normal(size=(2, 5, 2, 8))
    w = np.array([1, 1, 1, 0, 1.0])
    shift = 2
    sig = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
    pos = (pred * z).sum(-1)
    neg = (pred * np.roll(z, shift, axis=0)).sum(-1)
    terms = np.concatenate([-np.log(sig(pos)), -np.log(1 - sig(neg))])
    ww = np.concatenate([np.repeat(w[:, None], 2, 1)] * 2)
    expect = (terms * ww).sum() / ww.sum()
    got = losses.cpc_batch_loss(jnp.asarray(pred), jnp.asarray(z), shift, mask=jnp.asarray(w))
    np.testing.assert_allclose(float(got), expect, rtol=1e-5)


def test_learning_rate_decays_as_keras_legacy_decay():
    """lr_t = lr / (1 + decay t), t counting updates (Keras' ``decay``; CPC: 4e-6)."""
    cfg = TrainConfig(optimizer="sgd", momentum=0.0, learning_rate=0.5, lr_decay=0.25)
    params = {"w": jnp.zeros(())}
    tx = make_optimizer(cfg, params)
    state = tx.init(params)
    for t in range(4):
        upd, state = tx.update({"w": jnp.ones(())}, state, params)
        np.testing.assert_allclose(float(upd["w"]), -0.5 / (1 + 0.25 * t), rtol=1e-6)


def test_speech_pools_are_drawn_by_seed_and_mixed_half_and_half():
    ex = MelPatches()
    blocks = {"eng": np.zeros((40, 6, 2, 3, 1)), "man": np.ones((40, 6, 2, 3, 1))}
    for i in range(40):
        blocks["eng"][i] -= i  # tell the windows apart
    sec = gc.window_seconds(ex)
    assert sec == pytest.approx((5 * 15 + 31) * 512 / 16000)
    a = gc.draw_pool(blocks, "eng", 10 * sec, extractor=ex, seed=3)
    b = gc.draw_pool(blocks, "eng", 10 * sec, extractor=ex, seed=3)
    c = gc.draw_pool(blocks, "eng", 10 * sec, extractor=ex, seed=4)
    assert len(a) == 10 and np.array_equal(a, b) and not np.array_equal(a, c)
    mix = gc.draw_pool(blocks, "mix", 10 * sec, extractor=ex, seed=3)
    assert (mix[:, 0, 0, 0, 0] == 1).sum() == 5  # five Mandarin windows, five English
    with pytest.raises(CorpusError, match=r"speech pool 'man': 3000 s asked for"):
        gc.draw_pool(blocks, "man", 3000, extractor=ex, seed=0)


@pytest.mark.slow
def test_feat_ext_on_cached_latents_equals_training_with_a_frozen_encoder():
    """Feat. Ext.: a frozen encoder (inference mode, weights fixed) + head trained at lr 1e-4
    gives the same head as training LatentClassifier on the latents computed once."""
    n = 12
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(n, 128, 31, 1)).astype(np.float32))
    y = jnp.asarray(np.arange(n) % 4)
    tr, va = np.ones((1, n), bool), np.zeros((1, n), bool)
    tr[0, :3], va[0, :3] = False, True
    fold = jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))
    full = SCAEClassifier(block=32, frozen_encoder=True, rngs=nnx.Rngs(1))
    _, p_full, r_full = nnx.split(full, nnx.Param, ...)
    p_full = nnx.to_pure_dict(p_full)
    bstats = nnx.to_pure_dict(nnx.filter_state(r_full, nnx.BatchStat))
    # the pretrained encoder's batch statistics are not the initial ones
    bstats = jax.tree.map(lambda v: v + 0.3, bstats)
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-4, batch_size=4, max_epochs=2,
                      patience=5, freeze=("encoder",))  # fmt: skip
    fit_a, _ = make_classifier_fit(
        lambda r: SCAEClassifier(block=32, frozen_encoder=True, rngs=r), cfg
    )
    res_a = jax.jit(fit_a)(jax.random.key(0), fold, x, y, (p_full, bstats))

    # the latents of the frozen encoder in inference mode
    graphdef, p_enc, r_enc = nnx.split(full.encoder, nnx.Param, ...)
    pure = nnx.to_pure_dict(r_enc)
    nnx.replace_by_pure_dict(r_enc, {**pure, **_merge(pure, bstats["encoder"])})
    z = nnx.merge(graphdef, p_enc, r_enc)(x, train=False)
    cfg_b = dataclasses.replace(cfg, freeze=())
    fit_b, _ = make_classifier_fit(lambda r: LatentClassifier(block=32, rngs=r), cfg_b)
    res_b = jax.jit(fit_b)(jax.random.key(0), fold, z, y, ({"head": p_full["head"]}, {}))

    head_a, head_b = res_a.params[0]["head"], res_b.params[0]["head"]
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6), head_a, head_b
    )
    assert not np.allclose(head_a["outs"][0]["kernel"], p_full["head"]["outs"][0]["kernel"])
    np.testing.assert_allclose(res_a.val_loss[:2], res_b.val_loss[:2], rtol=1e-4)


def _merge(base, new):
    return {k: _merge(base[k], v) if isinstance(v, dict) else v for k, v in new.items()} | {
        k: v for k, v in base.items() if k not in new
    }


def _synthetic_patches(rng, n_clips, per_clip, name):
    """Music whose quadrant sets the level of two mel regions (arousal: low bands; valence:
    high bands), so the protocol has something to learn."""
    q = np.arange(n_clips) % 4
    x = rng.normal(size=(n_clips * per_clip, 128, 31, 1)).astype(np.float32)
    clip = np.repeat(np.arange(n_clips), per_clip)
    x[:, :32] += 2.0 * np.isin(q[clip], (0, 1))[:, None, None, None]
    x[:, 96:] += 2.0 * np.isin(q[clip], (0, 3))[:, None, None, None]
    return gc.MusicPatches(name, tuple(f"c{i}" for i in range(n_clips)), q.astype(np.int32),
                           np.asarray([f"s{i}" for i in range(n_clips)]), x, clip)  # fmt: skip


@pytest.mark.slow
def test_protocol_pretrains_transfers_scores_and_resumes(tmp_path):
    rng = np.random.default_rng(0)
    speech = {
        lang: rng.normal(size=(12, 6, 128, 31, 1)).astype(np.float32) for lang in ("eng", "man")
    }
    music = {
        "eng": _synthetic_patches(rng, 40, 2, "m_en"),
        "man": _synthetic_patches(rng, 40, 2, "m_zh"),
    }
    sec = gc.window_seconds(MelPatches())
    proto = dataclasses.replace(gc.PROTOCOLS["quick"], amounts={"exp1": 2 * sec, "exp2": 8 * sec},
                                feat_ext_epochs=20, baseline_epochs=8, full_epochs=2,
                                lr_feat_ext=1e-3)  # fmt: skip
    track = gc.LanguageTransfer(proto, speech=speech, music=music, cache_dir=tmp_path)
    # 70 / 30 stratified by class: 30 % of 40 clips are tested, 3 of each quadrant
    test = track.splits["eng"][2]
    assert len(test) == 12 and np.bincount(music["eng"].quadrant[test]).tolist() == [3, 3, 3, 3]
    res = pd.concat([track.baseline("eng"), track.transfer("SCAE", "mix2eng", "exp2"),
                     track.transfer("CPC", "man2eng", "exp1")])  # fmt: skip
    modes = set(zip(res["encoder"], res["mode"], res["amount"], strict=True))
    assert modes == {("CNN", "baseline", "none"), ("SCAE", "feat_ext", "exp2"),
                     ("SCAE", "full", "exp2"), ("CPC", "feat_ext", "exp1")}  # fmt: skip
    assert res["value"].between(0, 1).all()
    assert set(res["head"]) == {"quadrant", "arousal", "valence"}
    summary = track.pretraining_summary().set_index(["encoder", "speech", "amount"])
    assert summary.loc[("SCAE", "mix", "exp2"), "windows"] == 8
    assert summary.loc[("CPC", "man", "exp1"), "windows"] == 2
    # the music is learnable: the baseline beats chance on the quadrant head
    acc = res[(res["metric"] == "accuracy") & (res["head"] == "quadrant")]
    assert acc[acc["mode"] == "baseline"]["value"].mean() > 0.5
    cm = track.confusions[("SCAE", "full", "mix2eng", "exp2")]
    assert cm.sum() == proto.runs * len(test)
    # the patch probabilities over time (the clip scrubber's) give back the reported decisions
    pooled = np.zeros((4, 4))
    for r in range(proto.runs):
        pp = track.patch_probabilities("SCAE", "full", "mix2eng", "exp2", run=r)
        assert sorted(pp) == sorted(music["eng"].clip_ids[c] for c in test)
        for c in test:
            times, prob = pp[music["eng"].clip_ids[c]]
            np.testing.assert_allclose(times, [15 * 512 / 16000, 30 * 512 / 16000])
            pooled[music["eng"].quadrant[c], prob.mean(axis=0).argmax()] += 1
    np.testing.assert_array_equal(pooled, cm)
    # the control: the same head on a random, frozen SCAE encoder, trained on the music alone
    ctrl = track.random_control("eng")
    assert set(
        zip(ctrl["encoder"], ctrl["mode"], ctrl["setting"], ctrl["amount"], strict=True)
    ) == {("random SCAE", "feat_ext", "music_eng", "none")}
    pairs = track.comparisons("exp2")
    assert ("SCAE-Feat. Ext. mix2eng exp2", "SCAE-Full mix2eng exp2") in pairs
    assert ("SCAE-Feat. Ext. mix2eng exp2", "Random SCAE-Feat. Ext. music_eng") in pairs
    assert ("SCAE-Full mix2eng exp2", "Baseline CNN music_eng") in pairs
    assert ("SCAE-Full mix2eng exp2", "Random SCAE-Feat. Ext. music_eng") not in pairs
    # clip by clip: each system's mean share of runs right is its mean quadrant accuracy
    out = track.clip_outcomes().groupby("system")["correct"].mean()
    both = pd.concat([res, ctrl])
    q_acc = both[(both["metric"] == "accuracy") & (both["head"] == "quadrant")]
    q_acc = q_acc.groupby(["encoder", "mode", "setting"])["value"].mean()
    assert out["Random SCAE-Feat. Ext. music_eng"] == pytest.approx(
        q_acc[("random SCAE", "feat_ext", "music_eng")]
    )
    assert out["SCAE-Full mix2eng exp2"] == pytest.approx(q_acc[("SCAE", "full", "mix2eng")])
    t2 = gc.table2(both)
    assert list(t2["model"].unique()) == [
        "SCAE-Feat. Ext.", "SCAE-Full", "Baseline CNN", "Random SCAE-Feat. Ext."
    ]  # fmt: skip
    assert {"mix2eng P", "mix2eng R", "mix2eng F", "music_eng F"} <= set(t2.columns)
    n = len(test)
    r = t2.set_index(["model", "head"]).loc[("SCAE-Full", "Q")]
    lo, hi = wilson_interval(r["mix2eng R"], n)
    assert r["mix2eng R 95% CI (clips)"] == f"{lo:.2f}-{hi:.2f} ({n})"
    # a second track on the same cache trains nothing and reports the same numbers
    again = gc.LanguageTransfer(proto, speech=speech, music=music, cache_dir=tmp_path,
                                cached_only=True)  # fmt: skip  # any training would fail
    res2 = again.transfer("SCAE", "mix2eng", "exp2")
    sel = res[(res["encoder"] == "SCAE")].reset_index(drop=True)
    np.testing.assert_array_equal(res2["value"].to_numpy(), sel["value"].to_numpy())
    with pytest.raises(ValueError, match="setting"):
        track.transfer("SCAE", "eng2fr", "exp2")


def test_compare_frames_become_dae_windows_with_the_mask_as_last_channel():
    """Speech: non-overlapping windows, each frame once. Music: windows stepping by 1 s, the
    clips (and so the splits) of the patch set; a clip shorter than the window is one masked
    window; a clip without a frame is an error naming it."""
    speech = [np.arange(12 * 3, dtype=np.float32).reshape(12, 3), np.zeros((4, 3), np.float32)]
    w = gc.frame_windows(speech, 5)
    assert w.shape == (2, 5, 3)  # 12 frames: two windows, frames 10-11 left out; 4 frames: none
    np.testing.assert_array_equal(w.reshape(-1, 3), speech[0][:10])
    with pytest.raises(CorpusError, match="window of 20 frames"):
        gc.frame_windows(speech, 20)
    rng = np.random.default_rng(0)
    m = _synthetic_patches(rng, 3, 1, "m")
    frames = {"c0": np.ones((7, 3), np.float32), "c1": 2 * np.ones((5, 3), np.float32),
              "c2": 3 * np.ones((3, 3), np.float32)}  # fmt: skip
    mw = gc.music_windows(m, frames, 5)
    assert mw.clip_ids == m.clip_ids and mw.x.shape == (3 + 1 + 1, 5, 4)
    np.testing.assert_array_equal(mw.clip, [0, 0, 0, 1, 2])
    assert mw.x[..., -1].sum(axis=1).tolist() == [5, 5, 5, 5, 3]  # c2: 3 valid, 2 padded
    assert (mw.x[4, 3:] == 0).all()
    with pytest.raises(CorpusError, match="clip 'c1' has no 1 Hz feature frame"):
        gc.music_windows(m, {**frames, "c1": np.zeros((0, 3), np.float32)}, 5)


@pytest.mark.slow
def test_packed_dae_classifier_is_the_dae_classifier_with_its_mask():
    """The mask travels as the input's last channel; padding never reaches the decision."""
    from mer_ser.models import DAEClassifier, PackedDAEClassifier

    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 7)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    x[1, 3:] = 9.0  # garbage in the padding
    packed = PackedDAEClassifier(7, 6, 4, rngs=nnx.Rngs(3))
    plain = DAEClassifier(7, 6, 4, rngs=nnx.Rngs(3))
    xp = jnp.asarray(np.concatenate([x, mask[..., None].astype(np.float32)], axis=-1))
    got = np.asarray(packed(xp, train=True, key=jax.random.key(0)))
    np.testing.assert_allclose(got, np.asarray(plain(jnp.asarray(x), jnp.asarray(mask))),
                               rtol=1e-6)  # fmt: skip
    short = np.asarray(plain(jnp.asarray(x[1:, :3])))  # the unpadded 3-frame sequence
    np.testing.assert_allclose(got[1:], short, rtol=1e-5, atol=1e-6)


def test_dae_classifier_parameter_counts():
    """Peephole LSTM blocks (Coutinho & Schuller eqs. 1-5): 4 (n_in h + h h + h) + 3 h each."""
    from mer_ser.models import PackedDAEClassifier, count_params

    def lstm(n_in, h):
        return 4 * (n_in * h + h * h + h) + 3 * h

    for variant, (_, hidden) in gc.DAE_VARIANTS.items():
        n = count_params(lambda r, h=hidden: PackedDAEClassifier(260, h, 100, rngs=r))
        assert n == lstm(260, hidden) + lstm(hidden, 100) + (100 * 4 + 4), variant
    assert count_params(lambda r: PackedDAEClassifier(260, 100, 100, rngs=r)) == 225_804


def _synthetic_frames(rng, music: gc.MusicPatches, n_frames=6):
    """1 Hz frames whose quadrant shifts features 0-9 (arousal) and 10-19 (valence)."""
    speech = {lang: [rng.normal(size=(16, 260)).astype(np.float32) for _ in range(6)]
              for lang in ("eng", "man")}  # fmt: skip
    out = {}
    for i, c in enumerate(music.clip_ids):
        f = rng.normal(size=(n_frames, 260)).astype(np.float32)
        q = music.quadrant[i]
        f[:, :10] += 2.0 * (q in (0, 1))
        f[:, 10:20] += 2.0 * (q in (0, 3))
        out[c] = f
    return speech, out


@pytest.mark.slow
def test_dae_classifier_pretrains_on_speech_frames_and_keeps_its_encoder_fixed(tmp_path):
    """2020, section III-B: a DAE pretrained on each speech pool, its weights "kept fixed" under
    a new LSTM block and softmax; quadrant head only; windows of 5 s."""
    rng = np.random.default_rng(0)
    patches = {"eng": np.zeros((4, 6, 128, 31, 1), np.float32)}
    patches["man"] = patches["eng"]
    music = {"eng": _synthetic_patches(rng, 40, 1, "m_en"),
             "man": _synthetic_patches(rng, 40, 1, "m_zh")}  # fmt: skip
    sp_eng, mu_eng = _synthetic_frames(rng, music["eng"])
    _, mu_man = _synthetic_frames(rng, music["man"])
    frames = {"speech": sp_eng, "music": {"eng": mu_eng, "man": mu_man}}
    proto = dataclasses.replace(gc.PROTOCOLS["quick"], amounts={"exp1": 10.0, "exp2": 20.0},
                                dae_pretrain_epochs=3, dae_epochs=30, lr_feat_ext=3e-3)  # fmt: skip
    with pytest.raises(ValueError, match="needs 1 Hz ComParE frames"):
        gc.LanguageTransfer(proto, speech=patches, music=music).transfer(
            "DAE-Classifier", "eng2eng", "exp1"
        )
    track = gc.LanguageTransfer(proto, speech=patches, music=music, frames=frames,
                                cache_dir=tmp_path)  # fmt: skip
    res = track.transfer("DAE-Classifier", "eng2eng", "exp2")
    assert set(res["head"]) == {"quadrant"} and set(res["mode"]) == {"feat_ext"}
    assert len(res) == proto.runs * 5  # P, R, F, macro F1, accuracy per run
    acc = res[res["metric"] == "accuracy"]["value"].mean()
    assert acc > 0.5  # the quadrants are learnable from frames through the frozen encoder
    summary = track.pretraining_summary().set_index(["encoder", "speech", "amount"])
    assert summary.loc[("DAE-Classifier", "eng", "exp2"), "windows"] == 4  # 20 s / 5 s
    # the classifier's encoder is exactly the pretrained DAE's, in every run
    dae = track.pretrain_dae("DAE-Classifier", "eng", "exp2")[0]
    job = track.jobs[("DAE-Classifier", "feat_ext", "eng2eng", "exp2")]
    build = gc.ENCODER_TYPES["DAE-Classifier"].classifier(proto)
    for k in range(proto.runs):
        params = classifier_state(build, job, k)[0]
        jax.tree.map(np.testing.assert_array_equal, params["encoder"],
                     jax.tree.map(lambda a: a[0], dae.params["encoder"]))  # fmt: skip
    pp = track.patch_probabilities("DAE-Classifier", "feat_ext", "eng2eng", "exp2", run=1)
    times, prob = next(iter(pp.values()))  # 6 frames, 5 s windows: two windows, 1 s apart
    np.testing.assert_allclose(times, [3.0, 4.0])
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-5)
    t2 = gc.table2(res)
    assert t2["model"].tolist() == ["DAE-Classifier"] and t2["head"].tolist() == ["Q"]
    # cached: a second track trains nothing and reports the same numbers
    again = gc.LanguageTransfer(proto, speech=patches, music=music, frames=frames,
                                cache_dir=tmp_path, cached_only=True)  # fmt: skip
    res2 = again.transfer("DAE-Classifier", "eng2eng", "exp2")
    np.testing.assert_array_equal(res2["value"].to_numpy(), res["value"].to_numpy())


def test_latent_classifier_is_the_2021_head_without_the_encoder():
    """Fig. 2 of 2021: flatten (7,936) -> 3 x FC 512 -> per task 2 x FC 256 -> 4 / 1 / 1 outputs."""
    from mer_ser.models import count_params
    from mer_ser.models.autoencoders import SCAEEncoder

    trunk = (7936 * 512 + 512) + 2 * (512 * 512 + 512)
    blocks = 3 * ((512 * 256 + 256) + (256 * 256 + 256))
    outs = (256 * 4 + 4) + 2 * (256 + 1)
    head = count_params(lambda r: LatentClassifier(block=256, rngs=r))
    assert head == trunk + blocks + outs == 5_181_958
    full = count_params(lambda r: SCAEClassifier(block=256, rngs=r))
    assert full - head == count_params(lambda r: SCAEEncoder(rngs=r))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::mer_ser.corpora.adapters.UnmatchedWarning")
@pytest.mark.filterwarnings("ignore::mer_ser.corpora.audio.AudioRepair")  # 4Q: stereo mp3s
def test_patch_sets_come_from_real_corpus_layouts(tmp_path):
    """LibriSpeech and AISHELL-1 pools, 4Q-Emotion and a CH-818-like CSV set via the adapters."""
    from corpus_fixtures import write_4q, write_aishell, write_librispeech, write_static_csv

    write_librispeech(tmp_path, seconds=4.0)
    write_aishell(tmp_path, seconds=4.0)
    write_4q(tmp_path / "4Q")
    (tmp_path / "CH818").mkdir()
    write_static_csv(tmp_path / "CH818")
    ch818 = {"kind": "static_csv", "root": str(tmp_path / "CH818"), "labels": "labels.csv",
             "domain": "music", "scale": [-10, 10], "language": "zh", "name": "ch818",
             "id_column": "ID", "group_column": "Singer"}  # fmt: skip
    corpora = {
        "speech_eng": f"librispeech:{tmp_path / 'LibriSpeech'}",
        "speech_man": f"aishell1:{tmp_path / 'data_aishell'}",
        "music_eng": f"4q:{tmp_path / '4Q'}",
        "music_man": ch818,
    }
    data = Data(tmp_path / "data", progress=False)
    speech, music = gc.patch_sets(data, corpora)
    # a 4 s utterance holds 7 patches: one window of 6
    assert speech["eng"].shape == (5, 6, 128, 31, 1) and speech["man"].shape[1:] == (6, 128, 31, 1)
    assert music["eng"].name == "4q" and len(music["eng"].clip_ids) == 5  # "und": taken whole
    assert sorted(music["eng"].quadrant.tolist()) == [0, 1, 2, 3, 3]
    assert music["man"].quadrant.tolist() == [0, 1, 2]  # -10..10 arousal/valence -> Q1, Q2, Q3
    assert len(music["man"].x) == 3 * 3  # 2 s clips: 3 patches each
    frames = gc.frame_sets(data, corpora)
    assert [f.shape for f in frames["speech"]["eng"]] == [(3, 260)] * 5  # 4 s: 3 frames at 1 Hz
    assert set(frames["music"]["eng"]) == set(music["eng"].clip_ids)
    dae = gc.music_windows(music["man"], frames["music"]["man"], 5)
    assert dae.x.shape == (3, 5, 261) and dae.x[..., -1].sum(axis=1).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="at least one music_<language> key"):
        gc.patch_sets(data, {"speech_eng": corpora["speech_eng"]})
    with pytest.raises(CorpusError, match="no clip in language 'zh'"):
        gc.patch_sets(data, {**corpora, "speech_man": corpora["speech_eng"]})


def test_settings_come_from_the_languages_of_the_pools():
    assert gc.settings_for(["eng", "man"], ["eng", "man"]) == gc.SETTINGS  # the papers' Table 2
    assert gc.settings_for(["fr", "de"], ["eng"]) == ("de2eng", "fr2eng", "mix2eng")
    assert gc.settings_for(["de"], ["eng", "fr"]) == ("de2eng", "de2fr")  # one pool: no mix
    assert gc.mix_languages(["eng", "man", "de"]) == ("eng", "man")
    assert gc.mix_languages(["fr", "de", "it"]) == ("de", "fr")
    assert gc.mix_languages(["fr", "de", "it"], ("it", "fr")) == ("it", "fr")
    with pytest.raises(ValueError, match="mix must name two of the speech pools"):
        gc.mix_languages(["fr", "de"], ("fr", "es"))
    assert gc.language_code("man") == "zh" and gc.language_code("de") == "de"
    sides = gc.languages_of({"speech_de": 0, "speech_fr": 0, "music_eng": 0})
    assert sides == [("speech", "de"), ("speech", "fr"), ("music", "eng")]
    # keys of other tracks in a shared dict are left alone
    shared = {"music": 0, "speech": 0, "pools": 0, "speech_de": 0, "music_eng": 0}
    assert gc.languages_of(shared) == [("speech", "de"), ("music", "eng")]
    for bad in (
        {"speech_mix": 0, "music_eng": 0},
        {"speech_de": 0},
        {"pool_de": 0, "music_eng": 0},
    ):
        with pytest.raises(ValueError, match=r"speech_<language>|at least one"):
            gc.languages_of(bad)


def test_the_mix_pool_draws_half_from_each_of_its_two_languages():
    blocks = {lang: np.full((20, 6, 1, 1, 1), v, np.float32)
              for lang, v in (("de", 1.0), ("fr", 2.0), ("it", 3.0))}  # fmt: skip
    sec = gc.window_seconds(MelPatches())
    w = gc.draw_pool(blocks, "mix", 10 * sec, seed=0, mix=("de", "fr"))
    assert sorted(w[:, 0, 0, 0, 0].tolist()) == [1.0] * 5 + [2.0] * 5
    w = gc.draw_pool(blocks, "it", 4 * sec, seed=0)
    assert set(w[:, 0, 0, 0, 0].tolist()) == {3.0}


@pytest.mark.slow
def test_a_french_pool_setting_runs_on_the_built_in_corpus(quick_root, data_root):
    proto = dataclasses.replace(gc.PROTOCOLS["quick"], encoders=("SCAE",),
                                amounts={"exp1": 4.0})  # fmt: skip
    corpora = {"speech_fr": "builtin:speech_pool", "speech_eng": "builtin:speech_pool",
               "music_eng": "builtin:music_static"}  # fmt: skip
    data = Data(data_root, profile="quick", progress=False)
    lt = gc.LanguageTransfer.from_corpora(data, corpora, proto)
    assert lt.settings == ("eng2eng", "fr2eng", "mix2eng") and lt.mix == ("eng", "fr")
    res = lt.run()
    assert set(res["setting"]) == {"eng2eng", "fr2eng", "mix2eng", "music_eng"}
    t2 = gc.table2(res, "exp1")
    assert [c for c in t2.columns if c.endswith(" R")][:3] == ["eng2eng R", "fr2eng R", "mix2eng R"]
    assert set(lt.confusion_panels("fr2eng", "exp1")) >= {"SCAE-Feat. Ext.", "baseline CNN (eng)"}
    pairs = lt.comparisons("exp1")
    assert ("SCAE-Feat. Ext. fr2eng exp1", "SCAE-Feat. Ext. mix2eng exp1") in pairs
