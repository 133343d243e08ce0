"""The time-continuous protocol of Coutinho & Schuller 2017 on the quick built-in corpus.

The built-in corpus has a known ground truth: speech and music express arousal through shared
cues whose share in music is ``shared_code``. These tests check the protocol's mechanics (search
order, frozen transfer layers, long-format results, resuming from the job cache) and that its
results have the properties the data were built with.
"""

from __future__ import annotations

import numpy as np
import pytest

from mer_ser import bundles
from mer_ser.experiments import CONDITIONS, ContinuousTrack, Data, results_frame
from mer_ser.experiments.jobs import JobCache

#: Every test here trains the continuous track on the quick corpus (minutes).
pytestmark = pytest.mark.slow


def _track(data_root, quick_root, cache_dir):
    music, speech, *pools = Data(data_root, profile="quick", progress=False).sequences(
        [
            "builtin:music_continuous",
            "builtin:speech_continuous",
            "builtin:music_pool",
            "builtin:speech_pool",
        ]
    )
    return ContinuousTrack(
        "quick", music=music, speech=speech, pools=pools, cache_dir=cache_dir, progress=False
    )


@pytest.fixture(scope="module")
def jobs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(scope="module")
def track(data_root, quick_root, jobs_dir):
    return _track(data_root, quick_root, jobs_dir)


@pytest.fixture(scope="module")
def sweep(track, data_root):
    levels = {}
    for level in (0.0, 0.5, 1.0):
        data = Data(data_root, profile="quick", shared_code=level, progress=False)
        (levels[level],) = data.sequences(["builtin:music_continuous"], only_parts=True)
    long = track.shared_code_sweep(levels, normalisation="domain")
    ccc = long[(long["metric"] == "ccc") & (long["dimension"] == "arousal")]
    out = ccc.groupby(["condition", "shared_code"])["value"].mean()
    print("cross-domain arousal CCC by shared_code (quick):", out.round(3).to_dict())
    return out


def _mean(result, metric="ccc", dim=0):
    return float(result.metrics()[metric][..., dim].mean())


@pytest.mark.slow
def test_dae_grid_reports_every_hidden_size_and_sigma_with_a_chosen_learning_rate(track):
    table = track.pretrain_table()
    p = track.protocol
    assert len(table) == len(p.dae_hidden) * len(p.dae_noise)
    assert set(table["chosen_lr"]) <= set(p.dae_learning_rates)
    assert ((table["rmse"] > 0) & (table["rmse"] < 0.5)).all()
    assert (table["r"] > 0.5).all()  # the DAEs reconstruct the held-out pool clips


@pytest.mark.slow
def test_intra_domain_arousal_is_learned_in_both_domains(track):
    m2m, s2s = track.run("M2M"), track.run("S2S")
    print(f"intra-domain arousal CCC (quick): M2M {_mean(m2m):.3f}, S2S {_mean(s2s):.3f}")
    assert _mean(m2m) > 0.15, _mean(m2m)
    assert _mean(s2s) > 0.2, _mean(s2s)


@pytest.mark.slow
def test_transfer_models_keep_the_dae_encoder_frozen(track):
    dev = track.develop("S2M_TL")
    size = track.layer_sizes(dev.chosen["h1"], dev.chosen["h2"])[0]
    enc = track.dae_encoders(dev.chosen["h1"], dev.chosen["dae_sigma"], "paper", size)["lstm1"]
    trials, folds = dev.trained.shape[1:]
    for name, w in dev.trained.params["lstm1"].items():
        w = np.asarray(w).reshape(trials, folds, *w.shape[1:])
        for f in range(folds):  # every fold model of trial t carries DAE trial t's encoder
            np.testing.assert_array_equal(w[:, f], np.asarray(enc[name]), err_msg=name)


@pytest.mark.slow
def test_the_search_follows_the_papers_order(track):
    search = track.develop("M2S").search
    steps = list(dict.fromkeys(search["step"]))
    assert steps == ["hidden1", "hidden2", "learning_rate", "noise"]
    assert (search.loc[search["step"] == "hidden1", "noise"] == 0).all()
    assert {"dev_ccc", "diverged"} <= set(search.columns)


def test_results_are_long_format_with_one_row_per_trial_instance_dimension_and_metric(track):
    r = track.run("S2M")
    long = results_frame([r])
    cols = ["condition", "source", "target", "dimension", "metric", "trial", "instance", "value"]
    assert list(long.columns[:8]) == cols
    n_target = len(track.sets["music"])
    assert len(long) == track.protocol.trials * n_target * 2 * 3
    assert set(long["normalisation"]) == {"paper"} and long["h1"].notna().all()
    assert CONDITIONS["S2M"] == ("CD", "speech", "music")


@pytest.mark.slow
def test_cross_domain_arousal_transfers_when_the_code_is_shared(sweep):
    for cond in ("S2M", "M2S"):
        assert sweep[(cond, 1.0)] > 0.2, sweep


def test_cross_domain_arousal_does_not_transfer_without_a_shared_code(sweep):
    for cond in ("S2M", "M2S"):
        assert abs(sweep[(cond, 0.0)]) < 0.15, sweep


def test_cross_domain_transfer_rises_with_the_shared_code(sweep):
    for cond in ("S2M", "M2S"):
        assert sweep[(cond, 0.0)] + 0.1 < min(sweep[(cond, 0.5)], sweep[(cond, 1.0)]), sweep
    assert sweep[("M2M", 0.0)] < sweep[("M2M", 0.5)] < sweep[("M2M", 1.0)], sweep


def test_a_second_run_resumes_from_the_job_cache_without_training(
    track, data_root, quick_root, jobs_dir, monkeypatch
):
    first = track.run("M2M")

    def no_training(self, trained):
        raise AssertionError("a finished job was trained again")

    monkeypatch.setattr(JobCache, "store", no_training)
    again = _track(data_root, quick_root, jobs_dir).run("M2M")
    np.testing.assert_array_equal(first.predictions, again.predictions)
    assert first.chosen == again.chosen


def test_every_sweep_level_reports_both_ceilings(sweep):
    for cond in ("M2M", "S2S", "S2M", "M2S"):
        assert {lvl for c, lvl in sweep.index if c == cond} == {0.0, 0.5, 1.0}
    assert sweep[("S2S", 0.0)] == sweep[("S2S", 1.0)]  # speech is not rebuilt between levels


def test_a_bundle_predicts_each_clip_as_the_track_did(track, tmp_path):
    result = track.run("S2M")
    folder = bundles.export_continuous(track, "S2M", tmp_path / "S2M", result=result)
    bundle = bundles.load_bundle(folder)
    music = track.sets["music"]
    for i in (0, len(music) - 1):
        n = int(music.lengths[i])
        got = bundle.predict_features(music.x[i, :n])
        np.testing.assert_array_equal(got, result.predictions[:, i, :n])  # bit for bit
    assert bundle.manifest["scores"]["clips"] == len(music)
    assert bundle.manifest["provenance"]["source"]["sha256"] == track.sets["speech"].fingerprint()
    with pytest.raises(ValueError, match="paper's normalisation"):
        bundles.export_continuous(track, "S2M", tmp_path / "x", result=track.run("S2M", "domain"))


def test_dae_bundles_reconstruct_the_held_out_pool_clips_as_table_5_says(track, tmp_path):
    """Each exported (H, sigma) encoder, applied to the held-out pool clips' raw features,
    reconstructs them with each trial's Table 5 RMSE; its code has H units per trial."""
    from mer_ser.bundles.encoder import encode
    from mer_ser.experiments.dae import HOLD_OUT_EVERY
    from mer_ser.experiments.sequences import concatenate

    folders = bundles.export_daes(track, tmp_path)
    p = track.protocol
    assert len(folders) == len(p.dae_hidden) * len(p.dae_noise)
    pool = concatenate(track.dae.pools, "pool")
    held = np.flatnonzero(np.arange(len(pool)) % HOLD_OUT_EVERY == 0)
    grid = track.dae.grid("paper")
    for folder in folders:
        bundle = bundles.load_bundle(folder)
        h, sigma = bundle.manifest["provenance"]["hidden"], bundle.manifest["provenance"]["sigma"]
        sq = []
        for i in held:
            code, rmse = encode(bundle, pool.x[i, : pool.lengths[i]])
            assert code.shape == (p.dae_trials, pool.lengths[i], h)
            sq.append(rmse.astype(np.float64) ** 2)
        got = np.sqrt(np.concatenate(sq, axis=1).mean(axis=1))  # per trial, over every value
        rows = grid[(grid["stage"] == "sigma") & (grid["hidden"] == h)
                    & np.isclose(grid["sigma"], sigma)].sort_values("trial")  # fmt: skip
        np.testing.assert_allclose(got, rows["rmse"], rtol=1e-4)
    y = np.random.default_rng(0).standard_normal(16000 * 5).astype(np.float32) * 0.1
    tables = bundles.predict_tables(bundle, y, sr=16000)
    assert list(tables["frame"].columns) == ["reconstruction_rmse", "reconstruction_rmse_sd"]
    assert len(tables["frame"]) == 4 and len(tables["code"]) == 4 * p.dae_trials
    assert tables["code"].index.names == ["file", "trial", "start", "end"]
    assert "encoder LSTMDAE" in bundles.describe(bundle)
