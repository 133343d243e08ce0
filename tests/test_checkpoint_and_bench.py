"""Checkpoints round-trip exactly; the training benchmark runs in the test environment."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mer_ser.models import ContinuousRegressor
from mer_ser.train.checkpoint import CheckpointError, restore, save


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model = ContinuousRegressor(20, (8, 4), rngs=nnx.Rngs(3))
    state = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    save(tmp_path / "ck", state, {"hidden": [8, 4], "seed": 3})
    back, cfg = restore(tmp_path / "ck", like=state)
    assert cfg == {"hidden": [8, 4], "seed": 3}
    fresh = ContinuousRegressor(20, (8, 4), rngs=nnx.Rngs(99))
    x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 9, 20)), jnp.float32)
    state_fresh = nnx.state(fresh, nnx.Param)
    nnx.replace_by_pure_dict(state_fresh, back)
    nnx.update(fresh, state_fresh)
    np.testing.assert_array_equal(fresh(x), model(x))


def test_vmapped_states_round_trip(tmp_path):
    keys = jax.random.split(jax.random.key(0), 4)
    stacked = jax.vmap(
        lambda k: nnx.to_pure_dict(nnx.state(ContinuousRegressor(6, (4, 2), rngs=nnx.Rngs(k))))
    )(keys)
    save(tmp_path / "many", stacked, {"k": 4})
    back, _ = restore(tmp_path / "many")
    for a, b in zip(jax.tree.leaves(stacked), jax.tree.leaves(back), strict=True):
        np.testing.assert_array_equal(a, b)


def test_saving_over_a_checkpoint_replaces_it_whole(tmp_path):
    state = {"w": np.arange(3.0)}
    save(tmp_path / "ck", state, {"v": 1})
    save(tmp_path / "ck", {"w": np.arange(3.0) + 1}, {"v": 2})
    back, cfg = restore(tmp_path / "ck")
    assert cfg == {"v": 2} and list(back["w"]) == [1.0, 2.0, 3.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temporary folders left


def test_incomplete_checkpoint_is_named(tmp_path):
    (tmp_path / "half" / "state").mkdir(parents=True)
    with pytest.raises(CheckpointError, match=r"half: not a complete mer_ser checkpoint"):
        restore(tmp_path / "half")


def test_bench_train_prints_its_figures(capsys):
    from mer_ser.cli import main

    rc = main(
        [
            "bench",
            "train",
            "--frames",
            "8",
            "--steps",
            "2",
            "--k",
            "1,2",
            "--dcnn-batch",
            "1",
            "--dcnn-steps",
            "1",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["regressor"]["mer_ser_s_per_step"] > 0
    assert out["regressor"]["mer_ser_s_per_dispatched_step"] > 0
    assert [r["k"] for r in out["vmapped"]] == [1, 2]
    assert out["dcnn"]["mer_ser_s_per_step"] > 0
