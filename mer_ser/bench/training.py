"""Training-speed benchmarks: mer_ser (JAX) against equivalent PyTorch models in the same run.

``mer-ser bench train`` prints one JSON line. Models and shapes:

* continuous regressor without peepholes, 260 -> LSTM 200 -> LSTM 10 -> 2, batch 31 sequences of
  ``T`` frames, 1 - CCC loss, SGD with momentum 0.9, float32. Each framework runs its own way:
  mer_ser ten steps per dispatch of one compiled scan (how its training engine runs an epoch;
  one dispatch per step is reported too), PyTorch one Python call per step;
* DCNN of Rodningen 2022 on ``(B, 1001, 40, 3)`` log-mel tensors, cross-entropy, Adam;
* throughput of K vmapped regressors (model-steps per second), against a sequential PyTorch loop
  over K models (K times the single-model step).

PyTorch is an optional benchmark dependency (``pip install -e .[bench]``); without it only the
mer_ser figures are reported.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mer_ser import losses
from mer_ser.bench.machine import describe
from mer_ser.bench.torch_reference import conv_step_torch, load_torch, timed_torch
from mer_ser.losses import l1_penalty
from mer_ser.models import ContinuousRegressor
from mer_ser.models.conv import ADCRNN, DCNN
from mer_ser.train import precision
from mer_ser.train.engine import merge_pure


def _timed(fn, steps: int, warmup: int = 2) -> float:
    """Seconds per call of ``fn`` (which returns something to block on)."""
    if steps < 1:
        raise ValueError(f"a benchmark needs at least one timed step, got {steps}")
    for _ in range(warmup):
        jax.block_until_ready(fn())
    t0 = time.perf_counter()
    out = None
    for _ in range(steps):
        out = fn()
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / steps


#: The benchmarked regressor: Coutinho & Schuller 2017's largest grid point without peepholes.
REGRESSOR = {"n_in": 260, "hidden": (200, 10), "n_out": 2}


def regressor_train_step(lr: float = 1e-3):
    """The benchmarked training step of one regressor, as pure functions.

    Returns:
        ``(init, tx, step)``: ``init(key)`` gives a pure parameter dict, ``tx`` the optimiser
        (SGD, momentum 0.9), and ``step(params, opt_state, x, y)`` one step of 1 - CCC on
        ``x (B, T, 260)``, ``y (B, T, 2)``, returning ``(params, opt_state, loss)``.
    """
    shape = REGRESSOR["n_in"], REGRESSOR["hidden"], REGRESSOR["n_out"]

    def build(key):
        return ContinuousRegressor(*shape, peephole=False, rngs=nnx.Rngs(key))

    def init(key):
        return nnx.to_pure_dict(nnx.state(build(key)))

    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: build(0)))
    tx = optax.sgd(lr, momentum=0.9)

    def loss_fn(params, x, y):
        pred = merge_pure(graphdef, abstract, params)(x)
        return losses.ccc_loss(pred, y, jnp.ones(x.shape[:2]))

    def step(params, opt_state, x, y):
        loss, g = jax.value_and_grad(loss_fn)(params, x, y)
        upd, opt_state = tx.update(g, opt_state, params)
        return optax.apply_updates(params, upd), opt_state, loss

    return init, tx, step


def lstm_matmul_flops(n_seq: int, frames: int, n_in: int, n_hidden: int, *, input_grad: bool):
    """Floating-point operations of the matrix products of one LSTM layer's training step.

    Two per multiply-add. With ``R = n_seq * frames`` rows and ``G = 4 * n_hidden`` gate
    pre-activations (eqs. 1-4 of Coutinho & Schuller 2017, all gates at once), the step does the
    input projection ``W_x x_t`` for all steps (``2 R n_in G``), the recurrent product
    ``W_h h_{t-1}`` at every step (``2 R n_hidden G``), and in the backward pass the gradient of
    ``W_x`` (``2 R n_in G``), the gradient reaching ``h_{t-1}`` at every step (``2 R G n_hidden``),
    the gradient of ``W_h`` over steps 1.. (``h_{-1} = 0``: ``2 n_seq (frames - 1) n_hidden G``)
    and, when the layer's input is itself trained (a second layer), the gradient of its input
    (``2 R G n_in``). Element-wise work (gates, peepholes, the loss) is not counted.
    """
    r, g = n_seq * frames, 4 * n_hidden
    flops = 2 * r * g * (2 * n_in + 2 * n_hidden) + 2 * n_seq * (frames - 1) * n_hidden * g
    return flops + (2 * r * g * n_in if input_grad else 0)


def regressor_matmul_flops(batch: int = 31, frames: int = 100) -> int:
    """Matrix-product FLOPs of one training step of the benchmarked regressor.

    Both LSTM layers (:func:`lstm_matmul_flops`; the first layer's input is data, so no input
    gradient) and the linear output layer (forward, weight gradient, input gradient). For
    260-200-10-2, batch 31 x 100 frames: 5.70 GFLOP, 97 % of it in the first layer.
    """
    n_in, (h1, h2), n_out = REGRESSOR["n_in"], REGRESSOR["hidden"], REGRESSOR["n_out"]
    return (
        lstm_matmul_flops(batch, frames, n_in, h1, input_grad=False)
        + lstm_matmul_flops(batch, frames, h1, h2, input_grad=True)
        + 3 * 2 * batch * frames * h2 * n_out
    )


def matmul_ceiling_gflops(n: int = 1024, seconds: float = 1.0) -> float:
    """GFLOP/s of large float32 ``n x n`` matrix products in JAX on the default device.

    The rate the same library reaches when matrix products are all there is: the ceiling
    against which a training step's matrix-product rate (:func:`regressor_matmul_flops` over its
    time) is read. Best of repeated timings (a shared machine only ever slows a run down).
    """
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    jax.block_until_ready(f(a))
    best, t_end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        jax.block_until_ready(f(a))
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def first_layer_products(batch: int = 31, frames: int = 100, seed: int = 0) -> dict:
    """The matrix products of one training step's first LSTM layer, each as its own program.

    The products :func:`lstm_matmul_flops` counts for the benchmarked regressor's first layer
    (97 % of the step's matrix-product work), at their shapes and with their data dependences:
    the input projection of all ``R = batch * frames`` rows, the ``frames`` recurrent products
    ``h_{t-1} W_h`` as a chain (each step's product reads the previous one's output, as the
    recurrence of eqs. 1-5 does), the ``frames`` products ``da_t W_h^T`` of the backward pass as a
    chain, and the two weight gradients. Timed alone (:func:`compare_regressor_steps`) they
    bound from below what any implementation of the step built on JAX's matrix products can
    take on this device: the element-wise work of the gates, the second layer, the loss and the
    update come on top.

    Returns:
        ``{name: (fn, args)}``: ``fn(*args)`` runs that part (jit it to time it).
    """
    n_in, (h, _), _ = REGRESSOR["n_in"], REGRESSOR["hidden"], REGRESSOR["n_out"]
    g, r, r1 = 4 * h, batch * frames, batch * (frames - 1)
    ks = jax.random.split(jax.random.key(seed), 6)
    x = jax.random.normal(ks[0], (r, n_in), jnp.float32)
    w_x = 0.1 * jax.random.normal(ks[1], (n_in, g), jnp.float32)
    w_h = 0.1 * jax.random.normal(ks[2], (h, g), jnp.float32)
    dz = jax.random.normal(ks[3], (r, g), jnp.float32)
    h_prev = jax.random.normal(ks[4], (r1, h), jnp.float32)
    h0 = jax.random.normal(ks[5], (batch, h), jnp.float32)

    def recurrent_forward(h0, w_h):  # h_t <- the first H columns of h_{t-1} W_h
        return jax.lax.scan(lambda c, _: ((c @ w_h)[:, :h], None), h0, None, length=frames)[0]

    def recurrent_backward(da0, w_h):  # da_{t-1} <- da_t W_h^T, once per gate block
        def step(da, _):
            return jnp.tile(da @ w_h.T, (1, 4)), None

        return jax.lax.scan(step, da0, None, length=frames)[0]

    return {
        "input_projection": (lambda x, w: x @ w, (x, w_x)),
        "recurrent_forward": (recurrent_forward, (h0, w_h)),
        "recurrent_backward": (recurrent_backward, (dz[:batch], w_h)),
        "input_weight_gradient": (lambda x, d: x.T @ d, (x, dz)),
        "recurrent_weight_gradient": (lambda hp, d: hp.T @ d, (h_prev, dz[batch:])),
    }


def _product_timers(batch: int, frames: int, calls: int = 3) -> dict:
    """Compiled timers of :func:`first_layer_products`, ``{name: timer}``.

    Each ``timer()`` returns the fastest of ``calls`` runs of that part, in seconds.
    """
    timers = {}
    for name, (fn, args) in first_layer_products(batch, frames).items():
        f = jax.jit(fn)
        jax.block_until_ready(f(*args))

        def timer(f=f, args=args):
            best = float("inf")
            for _ in range(calls):
                t0 = time.perf_counter()
                jax.block_until_ready(f(*args))
                best = min(best, time.perf_counter() - t0)
            return best

        timers[name] = timer
    return timers


def _fastest_in_turns(timers: dict, rounds: int) -> dict:
    """Call every timer once per round, in turn, for ``rounds`` rounds; each one's fastest.

    Taking turns gives every measurement the same spells of a shared machine's load, and the
    fastest round is the one least slowed by it (load only ever slows a run down).
    """
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(max(1, rounds)):
        for name, timer in timers.items():
            best[name] = min(best[name], timer())
    return best


def _regressor_runner_jax(*, batch, frames, k, lr, seed, inner):
    """``run()``: ``inner`` training steps of ``k`` vmapped regressors in one dispatch."""
    init, tx, step = regressor_train_step(lr)
    vstep = jax.vmap(step)

    def steps_fn(params, opt_state, x, y):
        def body(carry, _):
            p, o, _ = carry
            return vstep(p, o, x, y), None

        loss0 = jnp.zeros((k,), jnp.float32)
        return jax.lax.scan(body, (params, opt_state, loss0), None, length=inner)[0]

    keys = jax.random.split(jax.random.key(seed), k)
    params = jax.vmap(init)(keys)
    opt_state = jax.vmap(tx.init)(params)
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal((k, batch, frames, 260)), jnp.float32)
    y = jnp.asarray(rng.standard_normal((k, batch, frames, 2)), jnp.float32)
    run_steps = jax.jit(steps_fn, donate_argnums=(0, 1))
    state = {"p": params, "o": opt_state}

    def run():
        state["p"], state["o"], loss = run_steps(state["p"], state["o"], x, y)
        return loss

    return run


def regressor_step_jax(
    *, batch=31, frames=100, steps=300, k=1, lr=1e-3, seed=0, warmup: int = 2, inner: int = 10
) -> float:
    """Seconds per training step of ``k`` vmapped regressors (each with its own batch).

    The steps run as the training engine runs them (:func:`mer_ser.train.make_fit` scans over
    an epoch's mini-batches inside one compiled program): ``inner`` steps per call of one jitted
    ``lax.scan``, so one dispatch per ``inner`` steps. ``inner=1`` times one dispatch per step,
    which also pays each call's allocation of the step's temporary buffers (tens of MB here,
    fresh pages each time). ``steps`` steps are timed (rounded down to whole calls, at least
    one), after ``warmup`` untimed calls (the first one compiles).
    """
    inner = max(1, min(inner, steps))
    run = _regressor_runner_jax(batch=batch, frames=frames, k=k, lr=lr, seed=seed, inner=inner)
    return _timed(run, max(1, steps // inner), warmup=warmup) / inner


def compare_regressor_steps(
    *, batch=31, frames=100, steps=300, rounds: int = 5, lr=1e-3, seed=0, inner: int = 10
) -> dict:
    """The regressor's step in mer_ser and PyTorch and its first layer's products, in turns.

    ``rounds`` rounds, each timing ``steps / rounds`` steps of mer_ser (``inner`` per dispatch,
    as :func:`regressor_step_jax`), as many of PyTorch (:func:`regressor_step_torch`'s model) and
    each of :func:`first_layer_products`; every figure is its fastest round
    (:func:`_fastest_in_turns`), so no ratio between them hangs on one spell of load.

    Returns:
        ``{"mer_ser": s, "torch": s or None, "products": {part: s, ..., "total": s}}``: seconds
        per step (``torch`` is None without PyTorch) and seconds of each product part.
    """
    per_round = max(1, steps // max(1, rounds))
    inner = max(1, min(inner, per_round))
    calls = max(1, per_round // inner)
    jrun = _regressor_runner_jax(batch=batch, frames=frames, k=1, lr=lr, seed=seed, inner=inner)
    trun = _regressor_runner_torch(batch=batch, frames=frames, lr=lr, seed=seed)
    timers = {"mer_ser": lambda: _timed(jrun, calls, warmup=0) / inner}
    _timed(jrun, 1, warmup=1)  # compile
    if trun is not None:
        torch = load_torch()
        timers["torch"] = lambda: timed_torch(torch, trun, per_round, warmup=0)
        timed_torch(torch, trun, 1, warmup=2)
    parts = _product_timers(batch, frames)
    timers.update({f"products/{name}": t for name, t in parts.items()})
    best = _fastest_in_turns(timers, rounds)
    products = {name: best[f"products/{name}"] for name in parts}
    return {
        "mer_ser": best["mer_ser"],
        "torch": best.get("torch"),
        "products": {**products, "total": sum(products.values())},
    }


def conv_step_jax(
    model_cls=DCNN,
    *,
    batch=8,
    frames=1001,
    steps=5,
    k=1,
    unroll=None,
    seed=0,
    compute_dtype: str = "float32",
) -> float:
    """Seconds per training step of ``k`` vmapped quadrant classifiers (DCNN or ADCRNN).

    Adam, cross-entropy + L1, each model with its own batch (the runs of one experiment as a
    ``vmap`` axis, as :func:`mer_ser.experiments.jobs.run_classifier_job` trains them).
    Batch-norm statistics are threaded through the step like the parameters, so it stays pure.
    ``unroll`` sets the ADCRNN's recurrent loop unrolling (default: the class's);
    ``compute_dtype="bfloat16"`` runs the step in mixed precision as the training engine does
    (:mod:`mer_ser.train.precision`).
    """
    lr = 1e-4 if model_cls is DCNN else 1e-5  # Rodningen 2022, sections 4.4.1 / 4.4.2
    dt = precision.compute_dtype(compute_dtype)

    def build(key):
        m = model_cls(frames, rngs=nnx.Rngs(key))
        if unroll is not None:
            m.unroll = unroll
        return m

    graphdef, abstract, _ = nnx.split(nnx.eval_shape(lambda: build(0)), nnx.Param, ...)
    tx = optax.adam(lr)

    def init(key):
        _, p, r = nnx.split(build(key), nnx.Param, ...)
        p = nnx.to_pure_dict(p)
        return p, tx.init(p), r

    def loss_fn(p, rest, x, y, key):
        m = merge_pure(graphdef, abstract, precision.cast_floating(p, dt), rest)
        logits = m(x.astype(dt), train=True, key=key).astype(jnp.float32)
        new_rest = nnx.split(m, nnx.Param, ...)[2]
        return losses.cross_entropy(logits, y) + l1_penalty(p, model_cls.l1), new_rest

    def step(p, o, rest, x, y, key):
        (loss, rest), g = jax.value_and_grad(loss_fn, has_aux=True)(p, rest, x, y, key)
        upd, o = tx.update(g, o, p)
        return optax.apply_updates(p, upd), o, rest, loss

    vstep = jax.jit(jax.vmap(step), donate_argnums=(0, 1, 2))
    p, o, r = jax.vmap(init)(jax.random.split(jax.random.key(seed), k))
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal((k, batch, frames, 40, 3)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, (k, batch)))
    state = {"p": p, "o": o, "r": r, "k": jax.random.key(seed)}

    def run():
        state["k"], sub = jax.random.split(state["k"])
        state["p"], state["o"], state["r"], loss = vstep(
            state["p"], state["o"], state["r"], x, y, jax.random.split(sub, k)
        )
        return loss

    return _timed(run, steps, warmup=1)


def _regressor_runner_torch(*, batch, frames, lr, seed):
    """``run()``: one training step of the same regressor in PyTorch (``nn.LSTM``), or None."""
    torch = load_torch()
    if torch is None:
        return None
    torch.manual_seed(seed)
    dev = "cuda" if torch.cuda.is_available() else "cpu"

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = torch.nn.LSTM(260, 200, batch_first=True)
            self.l2 = torch.nn.LSTM(200, 10, batch_first=True)
            self.out = torch.nn.Linear(10, 2)

        def forward(self, x):
            return self.out(self.l2(self.l1(x)[0])[0])

    def ccc_loss(p, t):
        mp, mt = p.mean(1, keepdim=True), t.mean(1, keepdim=True)
        vp, vt = p.var(1, unbiased=False), t.var(1, unbiased=False)
        cov = ((p - mp) * (t - mt)).mean(1)
        ccc = 2 * cov / (vp + vt + (mp - mt).squeeze(1) ** 2)
        return 1 - ccc.mean()

    net = Net().to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    x = torch.randn(batch, frames, 260, device=dev)
    y = torch.randn(batch, frames, 2, device=dev)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = ccc_loss(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return run


def regressor_step_torch(*, batch=31, frames=100, steps=300, lr=1e-3, seed=0) -> float | None:
    """Seconds per training step of the same regressor in PyTorch (``nn.LSTM``), or None."""
    run = _regressor_runner_torch(batch=batch, frames=frames, lr=lr, seed=seed)
    return None if run is None else timed_torch(load_torch(), run, steps, warmup=3)


def dcnn_step_torch(*, batch=8, frames=1001, steps=5, seed=0) -> float | None:
    """Seconds per training step of the DCNN in PyTorch (float32), or None without PyTorch."""
    return conv_step_torch("dcnn", batch=batch, frames=frames, steps=steps, seed=seed)


#: Rodningen 2022, section 4.6: partition sizes of the experiments (SER train / MER train) and the
#: reported total training times on one A100 (Keras, TensorFlow 2.5): 2 h for all DCNN runs
#: (experiment 1), 27 h for all ADCRNN runs (experiment 2). Each experiment trains 5 runs on the
#: SER set (SER2MER) and 5 on the MER set (MER2MER), up to 200 epochs, patience 30.
THESIS = {
    "ser_train": 37114,
    "mer_train": 1045,
    "batch": 32,
    "runs": 5,
    "max_epochs": 200,
    "min_epochs": 31,
    "hours": {"dcnn": 2.0, "adcrnn": 27.0},
}


def thesis_projection(model: str, s_per_step: float, runs_per_step: int) -> dict:
    """Hours for one experiment of the thesis (SER2MER + MER2MER, 5 runs each) at a measured step.

    The thesis reports totals, not epochs, and early stopping makes each run last between 31
    and 200 epochs. So the projection is given at both ends: at 200 epochs it bounds our time
    from above and the speedup from below (the thesis' own runs lasted at most that long).

    Args:
        model: ``"dcnn"`` or ``"adcrnn"``.
        s_per_step: seconds per training step of ``runs_per_step`` vmapped runs, batch 32 each.
        runs_per_step: runs advanced by one step.
    """
    t = THESIS
    steps = -(-t["ser_train"] // t["batch"]) + -(-t["mer_train"] // t["batch"])  # per run-epoch
    per_epoch_all_runs = steps * s_per_step * t["runs"] / runs_per_step
    hours = {e: per_epoch_all_runs * e / 3600 for e in (t["min_epochs"], t["max_epochs"])}
    thesis = t["hours"][model]
    return {
        "steps_per_run_epoch": steps,
        "hours_at_31_epochs": hours[t["min_epochs"]],
        "hours_at_200_epochs": hours[t["max_epochs"]],
        "thesis_hours": thesis,
        "speedup_at_least": thesis / hours[t["max_epochs"]],
        "speedup_if_31_epochs": thesis / hours[t["min_epochs"]],
        # Mean epochs per run up to which the speedup is >= 10x.
        "epochs_for_10x": thesis * 3600 / 10 / per_epoch_all_runs,
    }


def run(
    *,
    frames=100,
    steps=300,
    ks=(1, 10, 100),
    k_steps=None,
    dcnn_batch=8,
    dcnn_steps=5,
    dcnn_frames=1001,
    adcrnn: bool = False,
    runs: int = 1,
    unrolls=(1,),
    thesis_epoch: bool = False,
    rounds: int = 5,
) -> dict:
    """All benchmarks; returns the JSON-ready result.

    ``dcnn_steps = 0`` times the regressor only. The regressor's mer_ser and PyTorch steps and
    its first layer's products alone are timed in ``rounds`` turns
    (:func:`compare_regressor_steps`).

    ``runs > 1`` also times that many vmapped classifier runs per step (how the quadrant track
    trains its runs); ``unrolls`` are the ADCRNN loop unrollings to compare (the fastest is used
    for the runs and the projection). ``thesis_epoch`` adds :func:`thesis_projection`.
    """
    out = {
        "bench": "train",
        **describe(),
        "regressor": {"batch": 31, "frames": frames, "steps": steps, "rounds": rounds},
    }
    turns = compare_regressor_steps(frames=frames, steps=steps, rounds=rounds)
    jx, th, products = turns["mer_ser"], turns["torch"], turns["products"]
    jx1 = regressor_step_jax(frames=frames, steps=max(1, steps // 10), inner=1)
    gflop = regressor_matmul_flops(out["regressor"]["batch"], frames) / 1e9
    ceiling = matmul_ceiling_gflops()
    out["regressor"].update(
        {
            "mer_ser_s_per_step": jx,
            "mer_ser_s_per_dispatched_step": jx1,
            "torch_s_per_step": th,
            "speedup_vs_torch": (th / jx) if th else None,
            # The same step as matrix-product work: the rate each framework sustains, and
            # mer_ser's share of the rate JAX reaches on large products on this device.
            "matmul_gflop_per_step": gflop,
            "mer_ser_gflops": gflop / jx,
            "torch_gflops": (gflop / th) if th else None,
            "matmul_ceiling_gflops": ceiling,
            "mer_ser_fraction_of_ceiling": gflop / jx / ceiling,
            # The first layer's matrix products timed alone: a lower bound on the step in JAX
            # here, and the ratio to PyTorch a step doing nothing else would have.
            "first_layer_products_s": products,
            "mer_ser_s_beyond_products": jx - products["total"],
            "products_only_speedup_vs_torch": (th / products["total"]) if th else None,
        }
    )
    sweep = []
    for k in ks:
        n = k_steps or max(3, steps // k)
        s = regressor_step_jax(frames=frames, steps=n, k=k)
        row = {"k": k, "steps": n, "s_per_step": s, "model_steps_per_s": k / s}
        if th:
            row["torch_sequential_model_steps_per_s"] = 1.0 / th
            row["speedup_vs_torch_loop"] = (k / s) * th
        sweep.append(row)
    out["vmapped"] = sweep
    if dcnn_steps < 1:  # the regressor only
        if adcrnn or runs > 1 or thesis_epoch:
            raise ValueError("--adcrnn, --runs and --thesis-epoch need --dcnn-steps >= 1")
        return out
    shape = {"batch": dcnn_batch, "frames": dcnn_frames, "steps": dcnn_steps}
    jd = conv_step_jax(DCNN, batch=dcnn_batch, frames=dcnn_frames, steps=dcnn_steps)
    td = dcnn_step_torch(batch=dcnn_batch, frames=dcnn_frames, steps=dcnn_steps)
    out["dcnn"] = {
        **shape,
        "mer_ser_s_per_step": jd,
        "torch_s_per_step": td,
        "speedup_vs_torch": (td / jd) if td else None,
    }
    best = {"dcnn": (jd, 1)}
    if runs > 1:
        jk = conv_step_jax(DCNN, batch=dcnn_batch, frames=dcnn_frames, steps=dcnn_steps, k=runs)
        out["dcnn"].update({"runs": runs, "s_per_step_all_runs": jk})
        best["dcnn"] = (jk, runs) if jk / runs <= jd else (jd, 1)
    if adcrnn:
        times = {
            u: conv_step_jax(
                ADCRNN, batch=dcnn_batch, frames=dcnn_frames, steps=dcnn_steps, unroll=u
            )
            for u in unrolls
        }
        u = min(times, key=times.get)
        out["adcrnn"] = {**shape, "s_per_step_by_unroll": times, "unroll": u}
        best["adcrnn"] = (times[u], 1)
        if runs > 1:
            ja = conv_step_jax(
                ADCRNN, batch=dcnn_batch, frames=dcnn_frames, steps=dcnn_steps, k=runs, unroll=u
            )
            out["adcrnn"].update({"runs": runs, "s_per_step_all_runs": ja})
            if ja / runs <= times[u]:
                best["adcrnn"] = (ja, runs)
    if thesis_epoch:
        if (dcnn_batch, dcnn_frames) != (THESIS["batch"], 1001):
            raise ValueError("the thesis projection needs --dcnn-batch 32 --dcnn-frames 1001")
        out["thesis"] = {
            name: {"runs_per_step": k, **thesis_projection(name, s, k)}
            for name, (s, k) in best.items()
        }
    return out
