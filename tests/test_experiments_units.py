"""The building blocks of the time-continuous protocol: folds, metrics, padded sets, job cache."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from scipy import stats as st

from mer_ser.errors import CorruptCacheEntry
from mer_ser.experiments.continuous_results import sequence_metrics
from mer_ser.experiments.jobs import JobCache, Trained, job_key, learning_curves, predict, run_job
from mer_ser.experiments.sequences import SequenceSet, concatenate, pad_sequences
from mer_ser.experiments.splits import cv_masks, leave_one_out
from mer_ser.models.lstm import ContinuousRegressor
from mer_ser.train.engine import TrainConfig, folds_from_masks, make_fit


@pytest.mark.parametrize("n,k", [(16, 4), (16, 8), (9, 3), (7, None), (5, 5)])
def test_nested_folds_test_every_instance_once_and_never_train_on_it(n, k):
    train, val, test = cv_masks(n, k, nested=True)
    assert (test.sum(axis=0) == 1).all()  # each instance is tested exactly once
    assert not (train & (val | test)).any() and not (val & test).any()
    assert ((train | val | test).sum(axis=0) == len(train)).all()  # and trains elsewhere
    if k is None or k >= n:  # the paper's leave-one-out
        ref = leave_one_out(n, nested=True)
        for a, b in zip((train, val, test), ref, strict=True):
            np.testing.assert_array_equal(a, b)


def test_development_folds_hold_out_each_instance_once():
    train, val, test = cv_masks(10, 5, nested=False)
    np.testing.assert_array_equal(val, test)
    assert (val.sum(axis=0) == 1).all() and not (train & val).any()
    with pytest.raises(ValueError, match="at least 3 folds"):
        cv_masks(10, 2, nested=True)


def _ccc64(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    cov = np.mean((a - a.mean()) * (b - b.mean()))
    return 2 * cov / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)


def test_sequence_metrics_match_float64_references_on_padded_sequences(rng):
    lengths = [30, 17, 25]
    y, m = pad_sequences([rng.uniform(-1, 1, (n, 2)) for n in lengths])
    pred = (y * 0.6 + rng.normal(0, 0.3, y.shape)).astype(np.float32)
    pred[~m] = 99.0  # padding must not matter
    out = sequence_metrics(pred[None], y, m)
    for i, n in enumerate(lengths):
        for d in range(2):
            a, b = pred[i, :n, d], y[i, :n, d]
            assert out["ccc"][0, i, d] == pytest.approx(_ccc64(a, b), abs=1e-5)
            assert out["r"][0, i, d] == pytest.approx(st.pearsonr(a, b)[0], abs=1e-5)
            rmse = np.sqrt(np.mean((a.astype(np.float64) - b) ** 2))
            assert out["rmse"][0, i, d] == pytest.approx(rmse, abs=1e-5)


def _set(rng, lengths, name="s", domain="music", labelled=True):
    x, m = pad_sequences([rng.normal(3.0, 2.0, (n, 6)) for n in lengths])
    y = pad_sequences([rng.uniform(-1, 1, (n, 2)) for n in lengths])[0] if labelled else None
    ids = tuple(f"c{i}" for i in range(len(lengths)))
    return SequenceSet(name, domain, ids, x, m, y)


def test_domain_standardisation_uses_valid_frames_only_and_keeps_padding_zero(rng):
    s = _set(rng, [20, 12, 7]).standardised()
    v = s.x[s.m].astype(np.float64)
    np.testing.assert_allclose(v.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(v.std(axis=0), 1, atol=1e-4)
    assert (s.x[~s.m] == 0).all() and s.normalisation == "domain"


def test_concatenated_pools_keep_every_frame_and_drop_labels(rng):
    a, b = _set(rng, [5, 9], "a"), _set(rng, [4], "b", domain="speech")
    c = concatenate([a, b], "pool")
    assert c.y is None and c.clip_ids == ("a/c0", "a/c1", "b/c0")
    np.testing.assert_array_equal(c.lengths, [5, 9, 4])
    np.testing.assert_array_equal(c.x[2, :4], b.x[0, :4])
    assert c.fingerprint() != a.fingerprint()


def _tiny_job(rng, tmp_path, hyper, cache=True):
    data = _set(rng, [12, 10, 11, 9])
    fit, apply = make_fit(
        lambda r: ContinuousRegressor(6, (4, 2), rngs=r),
        TrainConfig(learning_rate=0.05, max_epochs=3, patience=3),
    )
    tr, va, _ = cv_masks(4, None, nested=False)
    jc = JobCache(tmp_path / "jobs" if cache else None)
    key = job_key({"test": "tiny", "hyper": hyper})
    x, m, y = (jax.numpy.asarray(a) for a in (data.x, data.m, data.y))
    args = dict(key=key, seed=3, trials=2, folds=folds_from_masks(tr, va), x=x, m=m, y=y)
    return fit, apply, args, jc, data


@pytest.mark.slow
def test_a_job_trains_candidates_x_trials_x_folds_and_a_zero_learning_rate_changes_nothing(
    rng, tmp_path
):
    hyper = [
        {"learning_rate": 0.0, "input_noise": 0.0},
        {"learning_rate": 0.05, "input_noise": 0.1},
    ]
    fit, apply, args, jc, data = _tiny_job(rng, tmp_path, hyper)
    trained = run_job(fit, hyper=hyper, cache=jc, **args)
    assert trained.shape == (2, 2, 4) and trained.epochs.shape == (16,)
    w = trained.params["lstm1"]["w_x"]  # (K, 6, 16)
    # Candidate 0 (lr 0) keeps the initialisation, which depends on the trial only.
    np.testing.assert_array_equal(w[0], w[1])  # trial 0, folds 0 and 1
    assert not np.array_equal(w[0], w[4])  # trial 1
    assert not np.array_equal(w[0], w[8])  # candidate 1 trained
    pred = predict(apply, trained, args["x"], args["m"], chunk=5)
    assert pred.shape == (16, 4, data.x.shape[1], 2)


@pytest.mark.slow
def test_finished_jobs_are_loaded_not_retrained_and_corrupt_entries_are_rebuilt(rng, tmp_path):
    hyper = [{"learning_rate": 0.05, "input_noise": 0.0}]
    fit, _, args, jc, _ = _tiny_job(rng, tmp_path, hyper)
    first = run_job(fit, hyper=hyper, cache=jc, **args)

    def must_not_train(*a, **k):
        raise AssertionError("a cached job was retrained")

    again = run_job(must_not_train, hyper=hyper, cache=jc, **args)
    for a, b in zip(jax.tree.leaves(first.params), jax.tree.leaves(again.params), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.val_loss, again.val_loss)
    path = jc.path(args["key"])
    path.write_bytes(path.read_bytes()[:-100])  # truncated by a crash or a full disk
    with pytest.warns(CorruptCacheEntry, match="corrupt training-job cache entry"):
        rebuilt = run_job(fit, hyper=hyper, cache=jc, **args)
    np.testing.assert_array_equal(rebuilt.params["out"]["w"], first.params["out"]["w"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(jc.load(args["key"]), Trained)


@pytest.mark.slow
def test_same_seed_same_models_bitwise(rng, tmp_path):
    hyper = [{"learning_rate": 0.05, "input_noise": 0.2}]
    fit, _, args, _, _ = _tiny_job(rng, tmp_path, hyper, cache=False)
    a = run_job(fit, hyper=hyper, **args)
    b = run_job(fit, hyper=hyper, **args)
    for u, v in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(u, v)


def test_learning_curves_average_the_models_still_training():
    from types import SimpleNamespace

    nan = np.nan
    job = SimpleNamespace(
        epochs=np.array([2, 4]),  # the budget is 4: the first model stopped early
        train_loss=np.array([[1.0, 0.8, nan, nan], [2.0, 1.0, 0.5, 0.4]]),
        val_loss=np.array([[1.2, 0.9, nan, nan], [2.2, 1.1, 0.7, 0.6]]),
    )
    c = learning_curves(job)
    assert c["epoch"].tolist() == [0, 1, 2, 3] and c["models"].tolist() == [2, 2, 1, 1]
    np.testing.assert_allclose(c["train_loss"], [1.5, 0.9, 0.5, 0.4])
    np.testing.assert_allclose(c["val_loss"], [1.7, 1.0, 0.7, 0.6])
    assert (c["stopped_early"] == 0.5).all()
