"""Checkpoints round-trip exactly; the training benchmark runs in the test environment."""

from __future__ import annotations

import json
import math

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


@pytest.mark.slow
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
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"half: not a complete mer_ser checkpoint"):
        restore(tmp_path / "half")


@pytest.mark.slow
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
    reg = out["regressor"]
    assert reg["mer_ser_gflops"] == pytest.approx(
        reg["matmul_gflop_per_step"] / reg["mer_ser_s_per_step"]
    )
    assert reg["mer_ser_fraction_of_ceiling"] == pytest.approx(
        reg["mer_ser_gflops"] / reg["matmul_ceiling_gflops"]
    )
    parts = reg["first_layer_products_s"]
    assert parts["total"] == pytest.approx(sum(v for k, v in parts.items() if k != "total"))
    assert reg["mer_ser_s_beyond_products"] == pytest.approx(
        reg["mer_ser_s_per_step"] - parts["total"]
    )


@pytest.mark.slow
def test_bench_train_with_no_dcnn_steps_times_the_regressor_only(capsys):
    from mer_ser.cli import main

    args = ["bench", "train", "--frames", "4", "--steps", "1", "--k", "1", "--dcnn-steps", "0"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["regressor"]["matmul_gflop_per_step"] > 0
    assert "dcnn" not in out


def _matmul_flops_of(jaxpr) -> int:
    """2 x multiply-adds of every dot_general in a jaxpr, a scan's body counted per iteration."""
    total = 0
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            (contracted, _), _ = eqn.params["dimension_numbers"]
            lhs = eqn.invars[0].aval.shape
            k = math.prod(lhs[i] for i in contracted)
            total += 2 * math.prod(eqn.outvars[0].aval.shape) * k
        times = eqn.params["length"] if eqn.primitive.name == "scan" else 1
        for value in eqn.params.values():
            for sub in value if isinstance(value, tuple | list) else (value,):
                sub = getattr(sub, "jaxpr", sub)
                if hasattr(sub, "eqns"):
                    total += times * _matmul_flops_of(sub)
    return total


@pytest.mark.parametrize("batch, frames", [(3, 5), (2, 9)])
def test_the_counted_matmul_work_is_the_matrix_products_the_step_traces(batch, frames):
    """The GFLOP/s the bench reports rest on a count derived from the equations; it must be the
    work of the benchmarked step itself (forward, hand-written LSTM backward, output layer)."""
    from mer_ser.bench import training as bench

    init, tx, step = bench.regressor_train_step()
    params = init(jax.random.key(0))
    x, y = jnp.zeros((batch, frames, 260)), jnp.zeros((batch, frames, 2))
    jaxpr = jax.make_jaxpr(step)(params, tx.init(params), x, y).jaxpr
    assert _matmul_flops_of(jaxpr) == bench.regressor_matmul_flops(batch, frames)


@pytest.mark.parametrize("batch, frames", [(3, 5), (31, 100)])
def test_the_products_timed_as_a_lower_bound_are_the_first_layers_counted_work(batch, frames):
    """The bench's lower bound times exactly the first layer's matrix products: the input
    projection, the forward and backward recurrent chains and both weight gradients, as counted
    from eqs. (1)-(5), nothing more and nothing less."""
    from mer_ser.bench import training as bench

    parts = bench.first_layer_products(batch, frames)
    traced = sum(_matmul_flops_of(jax.make_jaxpr(fn)(*args).jaxpr) for fn, args in parts.values())
    n_in, (h1, _), _ = bench.REGRESSOR["n_in"], bench.REGRESSOR["hidden"], bench.REGRESSOR["n_out"]
    assert traced == bench.lstm_matmul_flops(batch, frames, n_in, h1, input_grad=False)
    # Each recurrent chain is one product per frame, each reading the one before it.
    for name in ("recurrent_forward", "recurrent_backward"):
        (eqn,) = jax.make_jaxpr(parts[name][0])(*parts[name][1]).jaxpr.eqns
        assert eqn.primitive.name == "scan" and eqn.params["length"] == frames


def test_mer_ser_pytorch_and_the_products_are_timed_in_turns_each_keeping_its_fastest_round(
    monkeypatch,
):
    """One slow spell of a shared machine must not decide a ratio: the regressor's mer_ser step,
    its PyTorch step and the first layer's products alone take turns round by round, and each
    figure is that measurement's fastest round (per step)."""
    from mer_ser.bench import training as bench

    log = []
    monkeypatch.setattr(bench, "_regressor_runner_jax", lambda **kw: "jax")
    monkeypatch.setattr(bench, "_regressor_runner_torch", lambda **kw: "torch")
    monkeypatch.setattr(bench, "load_torch", lambda: object())
    jax_rounds, torch_rounds = iter([5.0, 3.0, 4.0]), iter([6.0, 7.0, 2.0])
    product_rounds = {"p": iter([0.3, 0.2, 0.4]), "q": iter([0.1, 0.5, 0.6])}

    def product_timers(batch, frames):
        def timer(name):
            log.append((name, None))
            return next(product_rounds[name])

        return {name: (lambda name=name: timer(name)) for name in product_rounds}

    def timed(run, calls, warmup):
        if warmup == 0:
            log.append(("jax", calls))
            return next(jax_rounds)  # seconds per dispatch of `inner` steps
        return 0.0  # compiling

    def timed_torch(torch, run, steps, warmup):
        if warmup == 0:
            log.append(("torch", steps))
            return next(torch_rounds)  # seconds per step
        return 0.0

    monkeypatch.setattr(bench, "_timed", timed)
    monkeypatch.setattr(bench, "timed_torch", timed_torch)
    monkeypatch.setattr(bench, "_product_timers", product_timers)
    out = bench.compare_regressor_steps(steps=60, rounds=3, inner=10)
    # 20 steps per round: 2 dispatches of 10 mer_ser steps, 20 PyTorch steps, each product part.
    assert log == [("jax", 2), ("torch", 20), ("p", None), ("q", None)] * 3
    assert out["mer_ser"] == pytest.approx(3.0 / 10) and out["torch"] == 2.0
    assert out["products"] == {"p": 0.2, "q": 0.1, "total": pytest.approx(0.3)}


def test_bench_predict_prints_its_figures(capsys):
    from mer_ser.cli import main

    assert main(["bench", "predict", "--seconds", "6"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["bench"] == "predict" and line["audio_seconds"] == 6.0
    assert line["x_real_time"] == pytest.approx(6.0 / line["seconds"], rel=0.05)
    # Per core: audio seconds per CPU second the prediction used, all threads together.
    assert line["x_real_time_per_core"] == pytest.approx(6.0 / line["cpu_seconds"], rel=0.05)
    assert line["cores"] >= 1 and line["peak_rss_mib"] > line["rss_growth_mib"] >= 0


def test_the_benchmark_bundle_predicts_one_row_per_second(tmp_path):
    from mer_ser.bench.prediction import prediction_speed

    speed = prediction_speed(8.0, hidden=(4, 2), trials=2, folds=1)
    assert speed["frames"] == 7 and speed["seconds"] > 0
