"""Self-supervised embeddings: frame times follow the convolutional encoder's receptive field, rows
pool the frames of their window of the 1 Hz grid, every model family loads from a local folder,
the cache follows the weights, and an experiment config trains, scores and bundles on them.

The models are tiny and randomly initialised (``transformers`` configs saved to a temporary
folder): nothing is downloaded. They need the optional ``ssl`` extra (``make env-ssl``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

torch = pytest.importorskip("torch", reason="the optional `ssl` extra is not installed")
transformers = pytest.importorskip("transformers", reason="the optional `ssl` extra")

from mer_ser.corpora.labels import n_frames  # noqa: E402
from mer_ser.corpora.model import Corpus  # noqa: E402
from mer_ser.features import FeatureCache, SslEmbeddings, SslModelError, extract  # noqa: E402
from mer_ser.features.ssl import ConvGeometry, pool  # noqa: E402

SR = 16000
#: A small encoder with wav2vec 2.0's real convolutional geometry (7 layers, 20 ms hop).
TINY = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
            conv_dim=(8,) * 7, num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2)  # fmt: skip
FAMILIES = {
    "wav2vec2": ("Wav2Vec2Config", "Wav2Vec2Model"),
    "hubert": ("HubertConfig", "HubertModel"),
    "wavlm": ("WavLMConfig", "WavLMModel"),
}


def _save(folder, family="wav2vec2", seed=0, **overrides):
    cfg_name, model_name = FAMILIES[family]
    torch.manual_seed(seed)
    config = getattr(transformers, cfg_name)(**(TINY | overrides))
    getattr(transformers, model_name)(config).eval().save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=SR).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("ssl_models")
    return {f: _save(root / f, f, seed=i) for i, f in enumerate(FAMILIES)}


def _signal(seconds, seed=0):
    t = np.arange(round(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + t) / (1 + t.max()) + 0.05 * noise).astype(
        np.float32
    )


def _hidden(folder, y, layer):
    """The reference: ``transformers`` run directly, every hidden state of one input."""
    fe = transformers.AutoFeatureExtractor.from_pretrained(folder)
    net = transformers.AutoModel.from_pretrained(folder).eval()
    with torch.inference_mode():
        out = net(**fe(y, sampling_rate=SR, return_tensors="pt"), output_hidden_states=True)
    return out.hidden_states[layer][0].double().numpy()


def test_the_frame_step_and_receptive_field_are_wav2vec2s_20_ms_and_400_samples():
    """Baevski et al. 2020, section 4.2: the encoder's output frequency is about 49 Hz with a
    stride of about 20 ms between samples and a receptive field of 400 input samples or 25 ms."""
    base = transformers.Wav2Vec2Config()
    geo = ConvGeometry.of(base.conv_kernel, base.conv_stride)
    assert (geo.stride, geo.field) == (320, 400)
    assert geo.count(399) == 0 and geo.count(400) == 1 and geo.count(719) == 1
    assert geo.count(720) == 2 and geo.count(SR) == 49
    np.testing.assert_allclose(geo.times(3, SR), (np.arange(3) * 320 + 199.5) / SR)


def test_each_frame_sees_exactly_the_samples_its_receptive_field_names(tmp_path):
    """Perturb one sample: the convolutional features that change are the frames ``i`` with
    ``i S <= j < i S + R`` (layer-normalised convolutions, so nothing mixes across time)."""
    folder = _save(tmp_path / "w", feat_extract_norm="layer", conv_bias=True)
    net = transformers.AutoModel.from_pretrained(folder).eval()
    geo = ConvGeometry.of(net.config.conv_kernel, net.config.conv_stride)
    x = torch.from_numpy(_signal(0.25))[None]
    with torch.inference_mode():
        base = net.feature_extractor(x)[0].numpy()  # (channels, frames)
    assert base.shape[1] == geo.count(x.shape[1])
    for j in (0, 319, 320, 1999, 2000, 3999):
        bumped = x.clone()
        bumped[0, j] += 1.0
        with torch.inference_mode():
            moved = np.abs(net.feature_extractor(bumped)[0].numpy() - base).max(axis=0) > 1e-6
        i = np.arange(base.shape[1])
        np.testing.assert_array_equal(
            moved, (i * geo.stride <= j) & (j < i * geo.stride + geo.field)
        )


def test_window_rows_pool_the_frames_whose_centres_lie_in_the_window(models):
    y = _signal(5.5)
    ex = SslEmbeddings(str(models["wav2vec2"]), layer=1, win=2.0, hop=1.0)
    rows = ex(y, SR)
    assert rows.shape == (n_frames(5.5), 16) == (4, 16)
    h = _hidden(models["wav2vec2"], y, 1)
    t = (np.arange(len(h)) * 320 + 199.5) / SR
    for k in range(4):  # window k covers [k, k + 2) s, as the gold standard's frame k
        inside = (t >= k) & (t < k + 2)
        assert inside.sum() == 100
        np.testing.assert_allclose(rows[k], h[inside].mean(axis=0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_gives_its_layers_mean_and_sd_per_clip(models, family):
    y = _signal(3.0, seed=1)
    last = SslEmbeddings(str(models[family]), layer=-1, pooling="mean_std")
    x = last(y, SR)
    assert x.shape == (1, 32) and last.dim == 32 and len(last.columns()) == 32
    h = _hidden(models[family], y, 2)  # layer -1 of a 2-block model is hidden state 2
    np.testing.assert_allclose(x[0, :16], h.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x[0, 16:], h.std(axis=0), rtol=1e-4, atol=1e-6)
    first = SslEmbeddings(str(models[family]), layer=0)(y, SR)
    np.testing.assert_allclose(first[0], _hidden(models[family], y, 0).mean(axis=0), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    assert not np.allclose(first[0], x[0, :16])


def test_long_clips_are_encoded_in_chunks_whose_frames_keep_their_own_times(models):
    folder = str(models["wav2vec2"])
    y = _signal(7.0, seed=2)
    ex = SslEmbeddings(folder, layer=1, chunk=2.0)
    h, t = ex.frames(y, SR)
    expect_h, expect_t = [], []
    for a in range(0, 7 * SR, 2 * SR):  # 2-s chunks (a multiple of the 20 ms step)
        seg = y[a : a + 2 * SR]
        expect_h.append(_hidden(folder, seg, 1))
        expect_t.append((a + np.arange(len(expect_h[-1])) * 320 + 199.5) / SR)
    np.testing.assert_allclose(h, np.concatenate(expect_h), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t, np.concatenate(expect_t))
    # a tail shorter than one receptive field joins the chunk before it
    short_tail = y[: 2 * SR + 100]
    h, t = ex.frames(short_tail, SR)
    assert len(h) == ConvGeometry(320, 400).count(len(short_tail))
    np.testing.assert_allclose(h, _hidden(folder, short_tail, 1), rtol=1e-5, atol=1e-6)


def test_pooling_matches_numpy_and_an_empty_window_takes_its_nearest_frame():
    rng = np.random.default_rng(3)
    h, t = rng.standard_normal((50, 4)), np.sort(rng.uniform(0, 5, 50))
    rows = pool(h, t, 5.0, win=2.0, hop=1.0, pooling="mean_std")
    for k in range(4):
        sel = h[(t >= k) & (t < k + 2)]
        np.testing.assert_allclose(rows[k], np.r_[sel.mean(0), sel.std(0)], rtol=1e-5)
    sparse = pool(h[:2], np.array([0.1, 3.9]), 5.0, win=1.0, hop=1.0)
    np.testing.assert_allclose(sparse[[0, 3]], h[:2], rtol=1e-6)
    np.testing.assert_allclose(sparse[1], h[0], rtol=1e-6)  # [1, 2) holds nothing: nearest is 0.1
    assert pool(h[:0], t[:0], 0.01, win=None, hop=1.0).shape == (0, 4)


def test_the_cache_key_follows_the_layer_and_the_weights(tmp_path):
    folder = _save(tmp_path / "model")
    path = tmp_path / "clips" / "c0.wav"
    path.parent.mkdir()
    sf.write(path, _signal(3.0), SR)
    clips = pd.DataFrame(
        {"domain": ["speech"], "language": ["en"], "audio_path": [path.name], "duration": [3.0],
         "sr": [SR], "group": ["s0"], "split": [""]},
        index=pd.Index(["c0"], name="clip_id"),
    )  # fmt: skip
    corpus = Corpus("one", path.parent, clips)
    cache = tmp_path / "cache"
    ex = SslEmbeddings(str(folder), layer=1, win=2.0)
    first = extract(corpus, ex, cache_dir=cache, progress=False)
    assert FeatureCache(cache).path(FeatureCache(cache).key(path, ex), ex).is_file()
    assert ex.name == "ssl_model_layer1_win2_hop1"
    again = extract(corpus, SslEmbeddings(str(folder), layer=1, win=2.0), cache_dir=cache,
                    progress=False)  # fmt: skip
    np.testing.assert_array_equal(first["c0"], again["c0"])
    other_layer = SslEmbeddings(str(folder), layer=0, win=2.0)
    assert FeatureCache(cache).key(path, other_layer) != FeatureCache(cache).key(path, ex)
    _save(folder, seed=7)  # new weights in the same folder
    retrained = SslEmbeddings(str(folder), layer=1, win=2.0)
    assert retrained.weights != ex.weights
    assert FeatureCache(cache).key(path, retrained) != FeatureCache(cache).key(path, ex)


def test_a_model_that_is_not_here_is_named_with_what_to_do(tmp_path, monkeypatch, models):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(SslModelError, match=r"facebook/hubert-base-ls960: no such folder, .*not "
                                            r"on this machine.*hf download"):  # fmt: skip
        SslEmbeddings("facebook/hubert-base-ls960")
    with pytest.raises(SslModelError, match=r"\./nope: no such model folder"):
        SslEmbeddings("./nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text(json.dumps({"num_hidden_layers": 2}))
    (empty / "preprocessor_config.json").write_text(json.dumps({"sampling_rate": SR}))
    with pytest.raises(SslModelError, match=r"empty: no weight file"):
        SslEmbeddings(str(empty))
    with pytest.raises(SslModelError, match=r"layer 3 does not exist; the model has 3 hidden"):
        SslEmbeddings(str(models["hubert"]), layer=3)
    with pytest.raises(ValueError, match=r"device must be cpu, cuda, .* got 'gpu'"):
        SslEmbeddings(str(models["hubert"]), device="gpu")
    with pytest.raises(ValueError, match=r"takes 16000 Hz audio, got 22050 Hz"):
        SslEmbeddings(str(models["hubert"]))(np.zeros(22050, np.float32), 22050)
    (empty / "config.json").write_text("{not json")
    with pytest.raises(SslModelError, match=r"config.json: not valid JSON"):
        SslEmbeddings(str(empty))


@pytest.mark.slow
def test_an_experiment_on_embeddings_scores_bundles_and_refuses_other_weights(
    quick_root, data_root, tmp_path
):
    from mer_ser import bundles, recipes
    from mer_ser.bundles import linear as linear_bundle
    from mer_ser.corpora import load_audio
    from mer_ser.experiments import Data

    folder = _save(tmp_path / "w2v")
    raw = {
        "data": {"train": "builtin:music_continuous", "target": "arousal,valence"},
        "features": {"set": "ssl", "model": str(folder), "layer": 1},
        "model": {"kind": "ridge"},
        "evaluation": {"folds": 4},
    }
    cfg = recipes.parse_config(raw, name="ssl_ridge")
    data = Data(data_root, profile="quick", progress=False)
    res = recipes.run_experiment(cfg, data, progress=False)
    p = res.predictions
    clip = p["clip_id"].iloc[0]
    music = quick_root / "music_continuous" / "audio"
    y, _ = load_audio(music / f"{clip}.wav", sr=SR)
    rows = p[p["clip_id"] == clip]
    # one prediction per frame of the gold standard: window k of [k, k + 2) s, centred at k + 1
    np.testing.assert_array_equal(rows["time"], np.arange(len(rows)) + 1.0)
    assert 0 < len(rows) <= n_frames(len(y) / SR)
    out = recipes.export_experiment(res, tmp_path / "bundle", profile="quick")
    bundle = bundles.load_bundle(out)
    assert bundle.manifest["features"]["config"]["weights"] == SslEmbeddings(str(folder)).weights
    x = linear_bundle.features(bundle, y, SR)
    np.testing.assert_allclose(x, SslEmbeddings(str(folder), layer=1, win=2.0)(y, SR), rtol=1e-6)
    member = res.members[int(rows["fold"].iloc[0])]  # one seed: members are the folds
    z = (x[: len(rows)] - member["mean"]) / member["std"]
    np.testing.assert_allclose(member["model"].scores(z), rows[["arousal", "valence"]], atol=1e-5)
    _save(folder, seed=5)  # the folder now holds other weights
    with pytest.raises(bundles.BundleError, match=r"trained on embeddings of .* weights"):
        bundles.predict(bundles.load_bundle(out), music / f"{clip}.wav")
