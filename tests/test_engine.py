"""The training engine: learns, stops early, guards divergence, vmaps over trials x folds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mer_ser.experiments.splits import leave_one_out
from mer_ser.models import LSTMDAE, ContinuousRegressor
from mer_ser.train import TrainConfig, folds_from_masks, make_fit
from mer_ser.train.engine import deep_merge

N, T, F = 6, 40, 12


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, T, F)).astype(np.float32)
    w = rng.standard_normal((F, 2)).astype(np.float32)
    y = np.tanh(np.cumsum(x @ w, axis=1) / 8).astype(np.float32)
    m = np.ones((N, T), bool)
    m[1, 25:] = False
    m[4, 12:] = False
    return x, m, y


def build(r):
    return ContinuousRegressor(F, (16, 4), rngs=r)


def _one(fold, k):
    return jax.tree.map(lambda a: a[k], fold)


@pytest.mark.slow
def test_training_lowers_the_loss(data):
    x, m, y = data
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-2, max_epochs=15, patience=100)
    fit, apply = make_fit(build, cfg)
    tr, va, _ = leave_one_out(N)
    res = jax.jit(fit)(jax.random.key(0), _one(folds_from_masks(tr, va), 0), x, m, y)
    hist = np.asarray(res.train_loss)
    assert int(res.epochs) == 15 and hist[-1] < hist[0] - 0.2
    pred = apply(res.params, res.stats, jnp.asarray(x), jnp.asarray(m))
    assert pred.shape == (N, T, 2)


def test_dae_learns_to_reconstruct(data):
    x, m, _ = data
    target = 1 / (1 + np.exp(-x))  # features scaled into (0, 1)
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=3e-2,
        max_epochs=20,
        patience=100,
        loss="mse",
        input_noise=0.1,
        standardise_outputs=False,
    )
    fit, _ = make_fit(lambda r: LSTMDAE(F, 8, rngs=r), cfg)
    tr, va, _ = leave_one_out(N)
    res = jax.jit(fit)(jax.random.key(1), _one(folds_from_masks(tr, va), 0), x, m, target)
    hist = np.asarray(res.train_loss)
    assert hist[-1] < 0.5 * hist[0], hist


@pytest.mark.slow
def test_vmapped_models_equal_independent_runs(data):
    """K = trials x folds models in one program give the runs one gets one model at a time.

    Bitwise equality does not hold on XLA's CPU backend. Matrix products are bitwise equal under
    ``vmap`` (shapes up to 3100 x 800), but large reductions are not (a sum
    over 3100 rows changes its rounding once batched), and neither are some fused element-wise
    kernels: even the standardiser rewritten as pairwise sums of halves (element-wise additions
    only) still differed, consistent with LLVM contracting multiply-adds into FMAs differently
    in differently shaped loops. So trajectories agree to float32 precision (a few 1e-7 after one
    epoch), with early stopping off.
    """
    x, m, y = data
    cfg = TrainConfig(optimizer="adam", learning_rate=3e-3, max_epochs=5, patience=100)
    fit, _ = make_fit(build, cfg)
    tr, va, _ = leave_one_out(N)
    folds = folds_from_masks(np.tile(tr, (2, 1)), np.tile(va, (2, 1)))  # 2 trials x 6 folds
    keys = jax.random.split(jax.random.key(5), 2 * N)
    many = jax.jit(jax.vmap(fit, in_axes=(0, 0, None, None, None)))(keys, folds, x, m, y)
    single = jax.jit(fit)
    for k in (0, 5, 7, 11):
        one = single(keys[k], _one(folds, k), x, m, y)
        for a, b in zip(jax.tree.leaves(one.params), jax.tree.leaves(many.params), strict=True):
            np.testing.assert_allclose(np.asarray(b)[k], a, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(many.train_loss)[k], one.train_loss, atol=1e-5)


@pytest.mark.slow
def test_a_vmapped_model_does_not_depend_on_the_other_models_in_its_batch(data):
    """Bitwise: reordering the batch or retraining its other members leaves a model unchanged.

    This is the part of "vmap equals independent runs" that holds bit for bit on XLA's CPU
    backend (see the test above): for a fixed number K of models, model k's result depends
    only on its own seed, fold and the data, not on its position in the batch nor on the other
    models' seeds and folds. (Its rounding may change with K itself: XLA compiles a differently
    shaped program.)
    """
    x, m, y = data
    cfg = TrainConfig(optimizer="adam", learning_rate=3e-3, max_epochs=4, patience=100)
    fit, _ = make_fit(build, cfg)
    many = jax.jit(jax.vmap(fit, in_axes=(0, 0, None, None, None)))
    tr, va, _ = leave_one_out(N)
    folds = folds_from_masks(np.tile(tr, (2, 1)), np.tile(va, (2, 1)))  # 2 trials x 6 folds
    keys = jax.random.split(jax.random.key(5), 2 * N)
    ref = many(keys, folds, x, m, y)

    perm = np.random.default_rng(0).permutation(2 * N)
    shuffled = many(keys[perm], jax.tree.map(lambda a: a[perm], folds), x, m, y)
    for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(shuffled), strict=True):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a)[perm])

    k = 3  # keep model 3; give every other model another seed and another fold
    others = jax.random.split(jax.random.key(99), 2 * N).at[k].set(keys[k])
    rolled = np.roll(np.arange(2 * N), 5)
    rolled[k] = k
    mixed = many(others, jax.tree.map(lambda a: a[rolled], folds), x, m, y)
    for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(mixed), strict=True):
        np.testing.assert_array_equal(np.asarray(b)[k], np.asarray(a)[k])
    assert not np.array_equal(mixed.params["out"]["w"][0], ref.params["out"]["w"][0])


@pytest.mark.slow
def test_same_seed_is_bitwise_reproducible(data):
    x, m, y = data
    fit, _ = make_fit(build, TrainConfig(optimizer="sgd", learning_rate=1e-2, max_epochs=3))
    tr, va, _ = leave_one_out(N)
    fold = _one(folds_from_masks(tr, va), 2)
    a = jax.jit(fit)(jax.random.key(9), fold, x, m, y)
    b = jax.jit(fit)(jax.random.key(9), fold, x, m, y)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(u, v)
    c = jax.jit(fit)(jax.random.key(10), fold, x, m, y)
    assert not np.array_equal(a.params["out"]["w"], c.params["out"]["w"])


@pytest.mark.slow
def test_early_stopping_keeps_the_best_epoch(data):
    x, m, y = data
    cfg = TrainConfig(optimizer="adam", learning_rate=5e-2, max_epochs=200, patience=4)
    fit, _ = make_fit(build, cfg)
    tr, va, _ = leave_one_out(N)
    res = jax.jit(fit)(jax.random.key(2), _one(folds_from_masks(tr, va), 3), x, m, y)
    epochs, best = int(res.epochs), int(res.best_epoch)
    val = np.asarray(res.val_loss)
    assert epochs < 200 and epochs == best + 4 + 1
    assert float(res.best_val_loss) == pytest.approx(np.nanmin(val))
    assert np.isnan(val[epochs:]).all()


@pytest.mark.slow
def test_a_diverging_model_stops_and_the_others_carry_on(data):
    x, m, y = data
    x = x.copy()
    x[0, 3, 0] = np.nan  # sequence 0 poisons whoever trains on it
    train = np.array(
        [[True, True, True, False, False, False], [False, True, True, True, False, False]]
    )
    val = np.array([[False] * 5 + [True]] * 2)
    cfg = TrainConfig(
        optimizer="adam", learning_rate=1e-2, max_epochs=6, patience=100, standardise_inputs=False
    )
    fit, _ = make_fit(build, cfg)
    res = jax.jit(jax.vmap(fit, in_axes=(0, 0, None, None, None)))(
        jax.random.split(jax.random.key(0), 2), folds_from_masks(train, val), x, m, y
    )
    assert list(np.asarray(res.diverged)) == [True, False]
    assert int(res.epochs[0]) == 1 and int(res.epochs[1]) == 6


@pytest.mark.slow
def test_standardisation_uses_training_sequences_only(data):
    x, m, y = data
    x = x.copy()
    x[5] += 100.0  # the validation sequence of fold 4 is far off
    fit, _ = make_fit(build, TrainConfig(max_epochs=1))
    tr, va, _ = leave_one_out(N)
    folds = folds_from_masks(tr, va)
    res = jax.jit(fit)(jax.random.key(0), _one(folds, 4), x, m, y)
    sel = tr[4]
    frames = x[sel][m[sel]]
    np.testing.assert_allclose(res.stats.x_mean, frames.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(res.stats.x_std, frames.std(axis=0), rtol=1e-4)


@pytest.mark.slow
def test_frozen_first_layer_does_not_move(data):
    x, m, y = data
    cfg = TrainConfig(optimizer="sgd", learning_rate=1e-1, max_epochs=3, freeze=("lstm1",))
    fit, _ = make_fit(build, cfg)
    tr, va, _ = leave_one_out(N)
    key = jax.random.key(4)
    res = jax.jit(fit)(key, _one(folds_from_masks(tr, va), 0), x, m, y)
    from flax import nnx

    k_init, _ = jax.random.split(key)
    init = nnx.to_pure_dict(nnx.state(build(nnx.Rngs(k_init)), nnx.Param))
    np.testing.assert_array_equal(res.params["lstm1"]["w_x"], init["lstm1"]["w_x"])
    assert not np.array_equal(res.params["lstm2"]["w_x"], init["lstm2"]["w_x"])


def test_leave_one_out_folds_follow_the_paper():
    tr, va, te = leave_one_out(5)
    assert (tr.sum(1) == 3).all() and (va.sum(1) == 1).all() and (te.sum(1) == 1).all()
    assert not (tr & va).any() and not (tr & te).any() and not (va & te).any()
    tr, va, te = leave_one_out(5, nested=False)
    assert (tr.sum(1) == 4).all() and (va == te).all()


def _small_from_big(p, h1, h2):
    """Slice a (16, 4)-built regressor's pure dict down to a (h1, h2) one."""
    from mer_ser.models.lstm import resize_lstm

    lstm2 = resize_lstm(p["lstm2"], h2)
    lstm2["w_x"] = lstm2["w_x"][:h1]
    return {
        "lstm1": resize_lstm(p["lstm1"], h1),
        "lstm2": lstm2,
        "out": {"w": p["out"]["w"][:h2], "b": p["out"]["b"]},
    }


@pytest.mark.slow
def test_inactive_blocks_make_a_large_regressor_train_as_a_small_one(data):
    """Layer sizes as a vmap axis: a (16, 4) model restricted to (5, 2) is a (5, 2) model."""
    from flax import nnx

    x, m, y = data
    cfg = TrainConfig(optimizer="sgd", learning_rate=5e-2, max_epochs=8, patience=100)
    hyper = {"learning_rate": 5e-2, "input_noise": 0.1, "hidden1": 5.0, "hidden2": 2.0}
    fit_big, apply_big = make_fit(build, cfg, restrict=ContinuousRegressor.restrict)
    fold = _one(folds_from_masks(*leave_one_out(N)[:2]), 0)
    key = jax.random.key(7)
    big = jax.jit(fit_big)(key, fold, x, m, y, hyper=hyper)

    # Every weight into or out of blocks 5..15 (layer 1) and 2..3 (layer 2) is still exactly 0.
    p = jax.tree.map(np.asarray, big.params)
    l1 = p["lstm1"]
    assert not l1["w_x"].reshape(F, 4, 16)[..., 5:].any() and not l1["w_h"][5:].any()
    assert not l1["w_h"].reshape(16, 4, 16)[..., 5:].any() and not l1["w_c"][:, 5:].any()
    assert not p["lstm2"]["w_x"][5:].any() and not p["lstm2"]["w_h"][2:].any()
    assert not p["out"]["w"][2:].any() and l1["w_x"].reshape(F, 4, 16)[..., :5].all()

    # The small model started from the same (sliced) initial weights follows the same path.
    k_init, _ = jax.random.split(key)
    init = nnx.to_pure_dict(nnx.state(build(nnx.Rngs(k_init)), nnx.Param))
    start = _small_from_big(ContinuousRegressor.restrict(init, hyper), 5, 2)
    fit_small, apply_small = make_fit(lambda r: ContinuousRegressor(F, (5, 2), rngs=r), cfg)
    small = jax.jit(fit_small)(key, fold, x, m, y, hyper=hyper, preset=start)
    np.testing.assert_allclose(big.train_loss, small.train_loss, rtol=1e-4)
    pb = apply_big(big.params, big.stats, x, m)
    ps = apply_small(small.params, small.stats, x, m)
    np.testing.assert_allclose(pb, ps, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(
        _small_from_big(p, 5, 2)["lstm1"]["w_h"], small.params["lstm1"]["w_h"], atol=1e-5
    )


def test_inactive_blocks_of_a_dae_stay_off(data):
    x, m, _ = data
    cfg = TrainConfig(
        optimizer="sgd",
        learning_rate=0.5,
        max_epochs=5,
        patience=100,
        loss="mse",
        standardise_outputs=False,
    )
    fit, _ = make_fit(lambda r: LSTMDAE(F, 8, rngs=r), cfg, restrict=LSTMDAE.restrict)
    fold = _one(folds_from_masks(*leave_one_out(N)[:2]), 0)
    target = 1 / (1 + np.exp(-x))
    res = jax.jit(fit)(jax.random.key(2), fold, x, m, target, hyper={"hidden": 3.0})
    enc = jax.tree.map(np.asarray, res.params["encoder"])
    assert not enc["w_x"].reshape(F, 4, 8)[..., 3:].any() and not enc["w_h"][3:].any()
    assert not res.params["decoder"]["w"][3:].any()
    assert np.isfinite(res.train_loss[:5]).all() and res.train_loss[4] < res.train_loss[0]


def test_deep_merge_puts_the_new_leaves_into_nested_dicts_and_keeps_the_rest():
    base = {"encoder": {"conv": {"w": 1, "b": 2}, "gru": 3}, "head": 4}
    new = {"encoder": {"conv": {"w": 10}}, "extra": 5}
    assert deep_merge(base, new) == {
        "encoder": {"conv": {"w": 10, "b": 2}, "gru": 3},
        "head": 4,
        "extra": 5,
    }
    assert base["encoder"]["conv"]["w"] == 1  # the inputs are not changed
