"""Experiment configs: a bad key or value is named with what is allowed; folds are grouped, nested
and stratified; scores agree with scikit-learn and numpy; the shipped examples run end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mer_ser import recipes
from mer_ser.recipes import ConfigError, parse_config
from mer_ser.recipes.samples import Samples

BASE = {"data": {"train": "builtin:speech_static", "target": "quadrant"}}


def _cfg(**sections):
    raw = {k: dict(v) for k, v in BASE.items()}
    for sec, body in sections.items():
        raw.setdefault(sec, {}).update(body)
    return parse_config(raw, source="my.toml")


def test_every_shipped_example_is_a_valid_config():
    names = recipes.examples()
    assert len(names) >= 6
    targets = set()
    for name in names:
        cfg = recipes.load_config(recipes.example_path(name))
        assert cfg.name == name and cfg.description
        targets.add(cfg.data.target)
    assert targets == {"quadrant", "category", "arousal", "arousal,valence"}


@pytest.mark.parametrize(
    "sections, message",
    [
        ({"data": {"targte": "x"}}, r"unknown key 'targte' in \[data\]; allowed: .*'target'"),
        ({"data": {"target": "emotion"}}, r"data.target = 'emotion' is not allowed; choose one of "
                                          r"\['quadrant', 'category'"),
        ({"features": {"set": "mfcc"}}, r"features.set = 'mfcc' is not allowed; choose one of"),
        ({"model": {"kind": "svm"}}, r"model.kind = 'svm' is not allowed; choose one of"),
        ({"evaluation": {"cv": "loso"}}, r"evaluation.cv = 'loso' is not allowed; choose one of "
                                         r"\['group', 'kfold', 'official'\]"),
        ({"evaluation": {"normalisation": "z"}}, r"choose one of \['source', 'domain'\]"),
        ({"evaluation": {"folds": "five"}}, r"evaluation.folds must be a number"),
        ({"evaluation": {"folds": 2}}, r"evaluation.folds = 2; nested cross-validation needs"),
        ({"evaluation": {"seeds": []}}, r"evaluation.seeds is empty"),
        ({"evaluation": {"seeds": 0}}, r"evaluation.seeds must be a list"),
        ({"model": {"balanced": "yes"}}, r"model.balanced must be true or false"),
        ({"model": {"kind": "ridge"}}, r"model.kind = 'ridge' cannot predict data.target = "
                                       r"'quadrant'; 'ridge' predicts"),
        ({"model": {"kind": "dcnn"}}, r"'dcnn' cannot take features.set = 'egemaps_functionals'"),
        ({"output": {"bundel": True}}, r"unknown key 'bundel' in \[output\]"),
        ({"features": {"set": "ssl"}}, r"features.set = 'ssl' needs features.model: a local "
                                       r"model folder"),
        ({"features": {"model": "/m"}}, r"features.model is read only with features.set = 'ssl'"),
        ({"features": {"set": "ssl", "model": "/m", "pooling": "max"}},
         r"features.pooling = 'max' is not allowed; choose one of \['mean', 'mean_std'\]"),
        ({"features": {"set": "ssl", "model": "/m", "layer": "last"}},
         r"features.layer must be a number"),
        ({"features": {"set": "ssl", "model": "/m", "device": "gpu"}},
         r"features.device = 'gpu' is not a torch device; choose 'cpu', 'cuda'"),
    ],
)  # fmt: skip
def test_a_bad_config_names_the_key_and_what_is_allowed(sections, message):
    with pytest.raises(ConfigError, match=message) as err:
        _cfg(**sections)
    assert str(err.value).startswith("my.toml: ")


def test_config_files_are_read_and_checked(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[data]\ntrain = ["a:/x", "b:/y"]\ntarget = "arousal, valence"\n'
                    '[features]\nset = "compare_lld_1hz"\n[model]\nkind = "lstm"\n'
                    'hidden = [32, 4]\n')  # fmt: skip
    cfg = recipes.load_config(path)
    assert cfg.name == "exp" and cfg.data.train == ("a:/x", "b:/y") and cfg.continuous
    assert cfg.model.hidden == (32, 4) and cfg.evaluation.cv == "group"
    json.dumps(cfg.to_dict())  # plain data, for the results' provenance
    path.write_text("[data\n")
    with pytest.raises(ConfigError, match=r"exp.toml: not valid TOML"):
        recipes.load_config(path)
    path.write_text('[data]\ntarget = "quadrant"\n')
    with pytest.raises(ConfigError, match=r"\[data\] needs 'train'"):
        recipes.load_config(path)
    with pytest.raises(ConfigError, match="no such config file or shipped example"):
        recipes.example_path("nosuch")
    assert recipes.corpus_specs({"train": "x:/a"}) == {"train": ("x:/a",)}
    with pytest.raises(ConfigError, match="unknown key 'music'"):
        recipes.corpus_specs({"music": "x:/a"})


def _samples(n=120, groups=24, seed=0, split=None):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), n // groups)
    y = rng.integers(0, 4, n).astype(np.int32)
    return Samples(
        corpus=np.full(n, "c", object), clip_ids=np.asarray([f"k{i}" for i in range(n)], object),
        domain=np.full(n, "speech", object), groups=np.asarray([f"c/{v}" for v in g], object),
        split=np.full(n, "") if split is None else split, y=y, x=rng.standard_normal((n, 5)),
    )  # fmt: skip


def test_grouped_folds_are_nested_and_never_split_a_speaker():
    s = _samples()
    parts = recipes.partitions(s, _cfg(evaluation={"folds": 5}), cross=False)
    assert len(parts) == 5
    tested = np.concatenate([p.test for p in parts])
    assert sorted(tested) == list(range(len(s)))  # every clip tested exactly once
    for k, p in enumerate(parts):
        assert not set(p.train) & (set(p.val) | set(p.test)) and not set(p.val) & set(p.test)
        assert len(p.train) + len(p.val) + len(p.test) == len(s)
        for a, b in ((p.train, p.test), (p.train, p.val), (p.val, p.test)):
            assert not set(s.groups[a]) & set(s.groups[b])
        np.testing.assert_array_equal(p.val, parts[(k + 1) % 5].test)  # the next fold validates
    kfold = recipes.partitions(s, _cfg(evaluation={"cv": "kfold", "folds": 5}), cross=False)
    shared = [set(s.groups[p.train]) & set(s.groups[p.test]) for p in kfold]
    assert any(shared)  # clips, not speakers, are the unit
    cross = recipes.partitions(s, _cfg(evaluation={"folds": 4}), cross=True)
    assert all(p.test is None and len(p.train) + len(p.val) == len(s) for p in cross)
    with pytest.raises(ConfigError, match=r"folds = 30 but the training corpora have 24 groups"):
        recipes.partitions(s, _cfg(evaluation={"folds": 30}), cross=False)


@pytest.mark.parametrize("kind", ["logistic", "linear_svm"])
def test_a_class_no_training_clip_has_keeps_its_column_and_is_never_decided(kind):
    """Four quadrants, none of the training clips in Q4: every fold's model still has a row per
    quadrant (so the members stack into one bundle), and Q4 gets probability 0."""
    from mer_ser.recipes.run import _fit_predict

    s = _samples()
    s.y[s.y == 3] = 0
    cfg = _cfg(model={"kind": kind})
    part = recipes.partitions(s, cfg, cross=False)[0]
    out = _fit_predict(cfg, s, s, part, 0, "quick", None, n_classes=4)
    model = out["member"]["model"]
    assert model.coef.shape == (4, 5) and model.classes == (0, 1, 2, 3)
    assert set(out["pred"]) <= {0, 1, 2}
    if kind == "logistic":
        assert out["prob"].shape == (len(part.test), 4) and (out["prob"][:, 3] == 0).all()
        np.testing.assert_allclose(out["prob"].sum(axis=1), 1.0)


def test_official_splits_are_used_and_a_missing_partition_is_named():
    split = np.asarray(["train"] * 80 + ["val"] * 20 + ["test"] * 20)
    s = _samples(split=split)
    (p,) = recipes.partitions(s, _cfg(evaluation={"cv": "official"}), cross=False)
    assert (p.train == np.arange(80)).all() and (p.test == np.arange(100, 120)).all()
    s = _samples(split=np.asarray(["train"] * 120))
    with pytest.raises(ConfigError, match=r"no \['val', 'test'\] clips"):
        recipes.partitions(s, _cfg(evaluation={"cv": "official"}), cross=False)


@pytest.mark.slow
def test_a_shipped_example_runs_through_the_cli_and_scores_as_scikit_learn(
    quick_root, data_root, tmp_path, capsys
):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    from mer_ser.cli import main

    out = tmp_path / "svm"
    argv = ["experiment", "ser_to_mer_quadrant_svm", "--profile", "quick", "--data-root",
            str(data_root), "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["experiment"] == "ser_to_mer_quadrant_svm" and line["models"] == 5
    for name in ("results.csv", "summary.md", "summary.csv", "predictions.csv", "figure.png"):
        assert (out / name).stat().st_size > 0
    pred = pd.read_csv(out / "predictions.csv")
    res = pd.read_csv(out / "results.csv")
    assert set(pred["corpus"]) == {"music_static"}  # cross-domain: every fold tests the music
    for fold, g in pred.groupby("fold"):
        r = res[res["fold"] == fold].set_index("metric")["value"]
        assert r["accuracy"] == pytest.approx(accuracy_score(g["true"], g["predicted"]), abs=1e-6)
        assert r["uar"] == pytest.approx(balanced_accuracy_score(g["true"], g["predicted"]),
                                         abs=1e-6)  # fmt: skip
        f1 = f1_score(g["true"], g["predicted"], average="macro",
                      labels=["Q1", "Q2", "Q3", "Q4"], zero_division=0)  # fmt: skip
        assert r["macro_f1"] == pytest.approx(f1, abs=1e-6)
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    pooled = balanced_accuracy_score(pred["true"], pred["predicted"])
    assert summary.loc["uar", "value"] == pytest.approx(pooled, abs=1e-6)
    assert summary.loc["uar", "ci_low"] < pooled < summary.loc["uar", "ci_high"]
    assert summary.loc["uar", "clips"] == pred["clip_id"].nunique()
    # every fold's model as a bundle, each standardising with its training partition: under
    # the source normalisation member (seed 0, fold f) decides each clip as fold f did
    from mer_ser import bundles
    from mer_ser.bundles import linear as linear_bundle
    from mer_ser.corpora import load_audio

    source = tmp_path / "source.toml"
    text = recipes.example_path("ser_to_mer_quadrant_svm").read_text()
    text = text.replace('normalisation = "domain"', 'normalisation = "source"')
    source.write_text(text.replace('name = "ser_to_mer_quadrant_svm"', 'name = "source"'))
    assert main([*argv[:1], str(source), *argv[2:-3], "--out", str(tmp_path / "src")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["bundle"] == str(bundles.models_dir(data_root) / "experiment_source")
    pred = pd.read_csv(tmp_path / "src" / "predictions.csv")
    bundle = bundles.load_bundle(line["bundle"])
    assert bundle.kind == "linear" and bundle.members == 5
    music = quick_root / "music_static" / "audio"
    for clip in pred["clip_id"].unique()[:3]:
        y, sr = load_audio(music / f"{clip}.wav", sr=16000)
        scores = linear_bundle.member_scores(bundle, linear_bundle.features(bundle, y, sr))
        decided = np.asarray(bundle.dimensions)[scores[:, 0].argmax(axis=1)]
        expect = pred[pred["clip_id"] == clip].sort_values("fold")["predicted"].tolist()
        assert decided.tolist() == expect
    table = bundles.predict(bundle, music / f"{clip}.wav")
    np.testing.assert_allclose(table[list(bundle.dimensions)].to_numpy()[0], scores[:, 0].mean(0))
    assert main(["experiment", "--list"]) == 0
    assert "ser_to_mer_quadrant_svm: SER -> MER" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\ntrain = "builtin:speech_static"\ntarget = "mood"\n')
    assert main(["experiment", str(bad), "--profile", "quick", "--data-root", str(data_root)]) == 2
    assert "data.target = 'mood' is not allowed" in capsys.readouterr().err


@pytest.mark.slow
def test_regression_and_continuous_examples_score_as_numpy(quick_root, data_root):
    from mer_ser.experiments import Data

    data = Data(data_root, profile="quick", progress=False)
    res = recipes.run_experiment(recipes.load_config(recipes.example_path("mer_arousal_ridge")),
                                 data, progress=False)  # fmt: skip
    p = res.predictions
    y, q = p["true"].to_numpy(), p["predicted"].to_numpy()
    ccc = 2 * np.cov(y, q, bias=True)[0, 1] / (y.var() + q.var() + (y.mean() - q.mean()) ** 2)
    assert res.summary.loc[("arousal", "ccc"), "value"] == pytest.approx(ccc, rel=1e-9)
    assert res.summary.loc[("arousal", "r"), "value"] == pytest.approx(np.corrcoef(y, q)[0, 1])
    cont = recipes.run_experiment(
        recipes.load_config(recipes.example_path("continuous_music_ridge")), data, progress=False
    )
    p = cont.predictions
    per_clip = []
    for _, g in p.groupby("clip_id"):
        a, b = g["arousal_true"].to_numpy(), g["arousal"].to_numpy()
        denom = a.var() + b.var() + (a.mean() - b.mean()) ** 2
        per_clip.append(2 * np.cov(a, b, bias=True)[0, 1] / denom)
    assert cont.summary.loc[("arousal", "ccc"), "value"] == pytest.approx(np.mean(per_clip),
                                                                          abs=1e-5)  # fmt: skip
    assert cont.summary.loc[("arousal", "ccc"), "clips"] == p["clip_id"].nunique()


@pytest.mark.slow
def test_an_lstm_on_windowed_functionals_is_a_continuous_bundle_each_member_as_its_fold(
    quick_root, data_root, tmp_path
):
    """The bundle reads eGeMAPS per 2-s window every second, as the experiment did, and its
    member ``(seed 0, fold f)`` predicts a clip exactly as fold ``f`` did in the experiment."""
    import jax.numpy as jnp

    from mer_ser import bundles
    from mer_ser.bundles import continuous
    from mer_ser.corpora import load_audio
    from mer_ser.experiments import Data
    from mer_ser.experiments.jobs import predict_stacked
    from mer_ser.features import SmileFunctionals
    from mer_ser.train.engine import Standardiser

    raw = {"data": {"train": "builtin:music_continuous", "target": "arousal,valence"},
           "features": {"set": "egemaps_functionals"},
           "model": {"kind": "lstm", "hidden": [8, 4], "max_epochs": 3, "patience": 2},
           "evaluation": {"folds": 3}}  # fmt: skip
    cfg = recipes.parse_config(raw, name="lstm_egemaps")
    res = recipes.run_experiment(cfg, Data(data_root, profile="quick", progress=False),
                                 progress=False)  # fmt: skip
    bundle = bundles.load_bundle(recipes.export_experiment(res, tmp_path / "b", profile="quick"))
    assert bundle.kind == "continuous" and bundle.n_features == 88
    assert bundle.manifest["features"]["name"] == "egemaps_functionals"
    p = res.predictions
    clip = p["clip_id"].iloc[0]
    rows = p[p["clip_id"] == clip]
    y, sr = load_audio(quick_root / "music_continuous" / "audio" / f"{clip}.wav", sr=16000)
    x = SmileFunctionals("eGeMAPSv02", win=2.0, hop=1.0)(y, sr)
    ex = continuous.extractor(bundle)
    np.testing.assert_array_equal(ex(y, sr), x)
    stats = Standardiser(*(bundle.arrays[f"stats/{n}"] for n in Standardiser._fields))
    m = jnp.ones((1, len(x)), bool)
    every = predict_stacked(continuous._continuous_apply(bundle), bundle.params, stats,
                            jnp.asarray(x[None]), m)  # fmt: skip
    fold = int(rows["fold"].iloc[0])
    np.testing.assert_allclose(every[fold, 0, : len(rows)], rows[["arousal", "valence"]],
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    table = bundles.predict(bundle, quick_root / "music_continuous" / "audio" / f"{clip}.wav")
    np.testing.assert_allclose(table[["arousal", "valence"]], every[:, 0].mean(axis=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


@pytest.mark.slow
def test_a_dcnn_on_categories_is_a_bundle_of_those_classes_each_run_as_its_fold(
    quick_root, data_root, tmp_path
):
    """A DCNN trained on a corpus' emotion categories keeps them as its classes: the bundle's
    tables have one column per category and a decided ``class``, and run ``f`` gives a clip the
    probabilities fold ``f`` gave it in the experiment."""
    from mer_ser import bundles
    from mer_ser.experiments import Data

    raw = {"data": {"train": "builtin:speech_static", "target": "category"},
           "features": {"set": "logmel3d"},
           "model": {"kind": "dcnn", "max_epochs": 2, "patience": 2},
           "evaluation": {"folds": 3}}  # fmt: skip
    cfg = recipes.parse_config(raw, name="dcnn_category")
    res = recipes.run_experiment(cfg, Data(data_root, profile="quick", progress=False),
                                 progress=False)  # fmt: skip
    assert res.classes == ("angry", "calm", "happy", "sad")  # the built-in speech categories
    bundle = bundles.load_bundle(recipes.export_experiment(res, tmp_path / "b", profile="quick"))
    assert bundle.kind == "quadrant" and bundle.dimensions == res.classes
    assert bundle.manifest["architecture"]["config"]["n_classes"] == len(res.classes)
    assert "quadrants" not in bundle.manifest["labels"]
    assert bundles.describe(bundle).startswith("classifier of angry/calm/happy/sad DCNN, ")
    p = res.predictions
    for clip in p["clip_id"].unique()[:2]:
        row = p[p["clip_id"] == clip].iloc[0]
        tables = bundles.predict_tables(bundle, quick_root / "speech_static" / "audio"
                                        / f"{clip}.wav")  # fmt: skip
        file = tables["file"]
        assert list(file.columns[: 1 + len(res.classes)]) == ["class", *res.classes]
        assert tables["window"].shape[0] == 1  # a short clip: one window, padded as in training
        run = bundles.quadrant.window_probabilities(
            bundle, *_reader(quick_root / "speech_static" / "audio" / f"{clip}.wav"), clip
        )[1]["quadrant"][int(row["fold"]), 0]
        want = row[[f"p_{c}" for c in res.classes]].to_numpy(float)
        np.testing.assert_allclose(run, want, rtol=1e-4, atol=1e-5)
    from mer_ser.widgets.files import bundle_models, file_corpus

    audio = quick_root / "speech_static" / "audio" / f"{clip}.wav"
    with pytest.raises(bundles.BundleError, match="angry/calm/happy/sad classifier bundle has no "):
        bundle_models([bundle], file_corpus([audio]))  # the scrubber draws quadrants only


def _reader(path):
    """``(read, n, sr)`` of an audio file, as ``bundles.predict`` reads it."""
    from mer_ser.bundles.audio import file_reader

    read, n, sr, _ = file_reader(path)
    return read, n, sr
