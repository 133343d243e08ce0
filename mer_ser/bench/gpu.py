"""One prepared GPU check: the GPU path's speed figures in one run, written as one JSON record.

Run ``make gpu-check`` (or ``mer-ser bench gpu --out FILE``) on a machine with a GPU and the
``bench`` extra (PyTorch). In the order below, each section is written to the record as soon as
it is measured, so a run stopped early keeps what it measured; a section that would start after
``budget_s`` seconds is recorded as skipped.

1. ``machine``: :func:`mer_ser.bench.machine.describe` and JAX's float32 matrix-product rate.
2. ``conv``: one training step of Rodningen 2022's DCNN and ADCRNN (batch 32 x 1001 x 40 x 3,
   Adam, cross-entropy + L1) in mer_ser, float32 and mixed precision (bfloat16,
   :mod:`mer_ser.train.precision`), against the same models in PyTorch, float32 and with
   PyTorch's fast settings (``channels_last``, autocast to bfloat16, fused Adam;
   :mod:`mer_ser.bench.torch_reference`). ``speedup_vs_torch_best`` divides PyTorch's fastest
   step by mer_ser's fastest.
3. ``thesis``: the thesis' two experiments (Rodningen 2022, section 4.6: A100 totals) projected
   from the fastest step (:func:`mer_ser.bench.training.thesis_projection`).
4. ``paper_profiles``: each track's ``paper`` profile, timed for ``epochs`` epochs of its
   training engine at the profile's shapes and extrapolated to its whole workload
   (:func:`continuous_workload`, :func:`quadrant_workload`, :func:`language_workload`). Early
   stopping makes a job last between ``patience + 1`` and ``max_epochs`` epochs, so each track
   is stated at both ends; the figures are projections, not runs of the track.
5. ``regressor``: the continuous regressor's step against PyTorch
   (:func:`mer_ser.bench.training.compare_regressor_steps`).
6. ``vmapped``: K vmapped regressors against a sequential PyTorch loop.

``size="tiny"`` runs every section at toy shapes (how the test suite checks the script on a
CPU); only a ``"full"`` record carries figures worth reading.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from mer_ser.bench import training as bench
from mer_ser.bench.machine import describe
from mer_ser.bench.torch_reference import conv_step_torch
from mer_ser.models import ADCRNN, DCNN, ContinuousRegressor
from mer_ser.train import TrainConfig, folds_from_masks, make_classifier_fit, make_fit


@dataclass(frozen=True)
class CheckSize:
    """Shapes and step counts of one run of the check."""

    name: str
    conv_batch: int = 32  # Rodningen 2022, section 4.6
    conv_frames: int = 1001  # 15 s at a 15 ms hop (section 4.3)
    conv_steps: int = 20
    regressor_frames: int = 100
    regressor_steps: int = 300
    rounds: int = 5
    ks: tuple[int, ...] = (1, 10, 100, 1000)
    epochs: int = 2  # epochs timed per paper-profile job kind
    #: Data shrunk for the timed paper-profile fits: at most this many clips / frames (None:
    #: the profile's own). The workloads are always the profile's.
    max_clips: int | None = None
    max_frames: int | None = None
    trials: int | None = None  # trials per timed continuous job (None: the protocol's)


SIZES = {
    "full": CheckSize("full"),
    "tiny": CheckSize(
        "tiny",
        conv_batch=2,
        conv_frames=41,
        conv_steps=1,
        regressor_frames=5,
        regressor_steps=2,
        rounds=1,
        ks=(1, 2),
        epochs=1,
        max_clips=6,
        max_frames=8,
        trials=1,
    ),
}


# ------------------------------------------------------------------------- workloads
def _corpus_parts(profile: str = "paper") -> dict:
    from mer_ser.corpora.synthetic.config import PROFILES

    return {p.name: p for p in PROFILES[profile].parts}


def _mean_seconds(part) -> float:
    return sum(part.duration) / 2


def _language_share(part, language: str) -> int:
    """Clips of ``part`` in ``language`` (languages are cycled over the clips)."""
    langs = part.languages
    return sum(1 for i in range(part.n_clips) if langs[i % len(langs)] == language)


def continuous_workload(protocol=None, corpus: str = "paper") -> list[dict]:
    """Every training job of the continuous track (Coutinho & Schuller 2017) under a profile.

    Per condition (Table 6), the four search steps of :meth:`ContinuousTrack.develop` (#HB_1, for
    CD_TL with every DAE sigma; #HB_2; learning rate; sigma_model), one job per layer size
    unless ``pad_hidden``, each of ``candidates x trials x folds`` models; then the
    ``domain``-normalisation retraining of the four cross-domain conditions. The DAE grid
    (Table 5) on the pooled unlabelled sets: per ``H``, the learning-rate job and the sigma job,
    under the paper's normalisation, and the chosen ``H``'s two jobs again under the domain
    normalisation. Sequences are padded to the longest clip; one step is one mini-batch.

    Returns:
        One dict per job: ``kind`` (``"regressor"`` or ``"dae"``), ``condition``, ``step``,
        ``models``, ``steps_per_epoch``, ``frames``, ``max_epochs``, ``min_epochs``.
    """
    from mer_ser.experiments.coutinho2017 import CONDITIONS, PROTOCOLS
    from mer_ser.experiments.dae import HOLD_OUT_EVERY
    from mer_ser.experiments.splits import cv_masks

    p = protocol or PROTOCOLS["paper"]
    parts = _corpus_parts(corpus)
    sets = {d: parts[f"{d}_continuous"] for d in ("music", "speech")}
    jobs = []
    for cond, (block, src, _) in CONDITIONS.items():
        n = sets[src].n_clips
        train, _, _ = cv_masks(n, p.folds, nested=block == "ID")
        folds, n_train = train.shape[0], int(train.sum(axis=1).max())
        sigmas = len(p.dae_noise) if block == "CD_TL" else 1
        one = p.pad_hidden
        steps = [
            ("hidden1", [len(p.hidden1) * sigmas] if one else [sigmas] * len(p.hidden1)),
            ("hidden2", [len(p.hidden2)] if one else [1] * len(p.hidden2)),
            ("learning_rate", [len(p.learning_rates)]),
            ("noise", [len(p.noise)]),
        ]
        if block != "ID":
            steps.append(("domain_retrain", [1]))
        for step, cands in steps:
            for c in cands:
                jobs.append(
                    {
                        "kind": "regressor",
                        "condition": cond,
                        "step": step,
                        "models": c * p.trials * folds,
                        "steps_per_epoch": -(-n_train // p.batch_size),
                        "frames": math.ceil(sets[src].duration[1]),
                        "max_epochs": p.max_epochs,
                        "min_epochs": min(p.patience + 1, p.max_epochs),
                    }
                )
    pools = [parts["speech_pool"], parts["music_pool"]]
    n_pool = sum(q.n_clips for q in pools)
    n_train = n_pool - -(-n_pool // HOLD_OUT_EVERY)
    dae = []
    for h in p.dae_hidden:
        dae += [(h, len(p.dae_learning_rates)), (h, len(p.dae_noise))]
    dae += dae[:2]  # the domain normalisation: one H's two jobs
    for h, c in dae:
        jobs.append(
            {
                "kind": "dae",
                "condition": None,
                "step": f"dae_h{h}",
                "models": c * p.dae_trials,
                "steps_per_epoch": -(-n_train // p.dae_batch_size),
                "frames": math.ceil(max(q.duration[1] for q in pools)),
                "max_epochs": p.dae_max_epochs,
                "min_epochs": min(p.dae_patience + 1, p.dae_max_epochs),
            }
        )
    return jobs


def quadrant_workload(protocol=None, corpus: str = "paper") -> list[dict]:
    """Every training job of the quadrant track (Rodningen 2022) under a profile.

    SER2MER trains on the speech set's training share, MER2MER on the instrumental music set's
    (``zxx`` clips), each model (DCNN, ADCRNN) ``runs`` times, one run after the other, batch 32.
    """
    from mer_ser.experiments.rodningen2022 import PROTOCOLS

    p = protocol or PROTOCOLS["paper"]
    parts = _corpus_parts(corpus)
    n_ser = round(parts["speech_static"].n_clips * p.ser_fractions[0])
    n_mer = round(_language_share(parts["music_static"], "zxx") * p.mer_fractions[0])
    jobs = []
    for model in p.models:
        for exp, n in (("SER2MER", n_ser), ("MER2MER", n_mer)):
            jobs.append(
                {
                    "kind": model.lower(),
                    "condition": exp,
                    "step": "train",
                    "models": p.runs,
                    "runs_in_turn": True,
                    "steps_per_epoch": -(-n // p.batch_size),
                    "max_epochs": p.max_epochs,
                    "min_epochs": min(p.patience + 1, p.max_epochs),
                }
            )
    return jobs


def language_workload(protocol=None, corpus: str = "paper") -> list[dict]:
    """The SCAE and CPC jobs of the language track (Gomez-Canon et al. 2020/2021) under a profile.

    Pretraining of each encoder on each speech pool (``man``, ``eng``, ``mix``) and amount:
    every amount trains at the largest amount's shapes (weight-0 padding), so each costs the
    largest amount's steps. Transfer to each music set (``eng``, ``man``): *Feat. Ext.* of
    each encoder in each setting and amount, *Full* where the protocol has it, ``runs`` runs in
    turn, plus the baseline CNN per music set; music clips give one patch per 50 %-overlapping
    second. The LSTM-DAE encoders' jobs are not included.
    """
    from mer_ser.experiments.gomez_canon.data import split_sizes, window_seconds
    from mer_ser.experiments.gomez_canon.protocol import (
        MUSIC,
        PROTOCOLS,
        SETTINGS,
        SPEECH,
        WINDOW,
    )
    from mer_ser.features.mel import MelPatches

    p = protocol or PROTOCOLS["paper"]
    ex = MelPatches()
    parts = _corpus_parts(corpus)
    n_max = max(1, round(max(p.amounts.values()) / window_seconds(ex)))
    n_windows = split_sizes(n_max, p.pretrain_val)[0]
    frames = 1 + int(_mean_seconds(parts["music_static"]) * ex.sr) // ex.hop_length
    per_clip = -(-((frames - ex.patch_frames) // ex.patch_step + 1) // p.music_patch_stride)
    music = parts["music_static"]
    code = {"eng": "en", "man": "zh"}
    n_music = max(round(_language_share(music, code[m]) * p.music_fractions[0]) for m in MUSIC)
    music_steps = -(-n_music * per_clip // p.batch_size)
    jobs = []
    for enc in ("SCAE", "CPC"):
        if enc not in p.encoders:
            continue
        rows = n_windows * (WINDOW if enc == "SCAE" else 1)
        cfg = p.config(enc.lower())
        for lang in SPEECH:
            for amount in p.amounts:
                jobs.append(
                    {
                        "kind": enc.lower(),
                        "condition": f"{lang} {amount}",
                        "step": "pretrain",
                        "models": 1,
                        "steps_per_epoch": -(-rows // p.batch_size),
                        "max_epochs": cfg.max_epochs,
                        "min_epochs": min(cfg.patience + 1, cfg.max_epochs),
                    }
                )
        for setting in SETTINGS:
            for amount in p.amounts:
                modes = ["feat_ext"]
                if enc in p.full_encoders and amount in p.full_amounts:
                    modes.append("full")
                for mode in modes:
                    cfg = p.config(mode)
                    jobs.append(
                        {
                            "kind": "latent" if mode == "feat_ext" else "classifier",
                            "condition": f"{enc} {setting} {amount}",
                            "step": mode,
                            "models": p.runs,
                            "runs_in_turn": True,
                            "steps_per_epoch": music_steps,
                            "max_epochs": cfg.max_epochs,
                            "min_epochs": min(cfg.patience + 1, cfg.max_epochs),
                        }
                    )
    cfg = p.config("baseline")
    for lang in MUSIC:
        jobs.append(
            {
                "kind": "classifier",
                "condition": f"baseline {lang}",
                "step": "baseline",
                "models": p.runs,
                "runs_in_turn": True,
                "steps_per_epoch": music_steps,
                "max_epochs": cfg.max_epochs,
                "min_epochs": min(cfg.patience + 1, cfg.max_epochs),
            }
        )
    return jobs


# ------------------------------------------------------------------------- timing fits
def _fold(n_train: int, n_val: int):
    n = n_train + n_val
    tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
    tr[0, :n_train], va[0, n_train:] = True, True
    return folds_from_masks(tr, va)


def epoch_seconds(fit, args, epochs: int, *, vmapped: int | None = None) -> dict:
    """Seconds per epoch of a compiled fit run for exactly ``epochs`` epochs.

    ``fit(key, fold, *args)`` is the engine's fit, built with ``max_epochs = epochs`` and a
    patience that never stops it; ``vmapped`` models train in one program (a leading axis on
    keys and folds). Compilation is timed apart (``compile_s``).
    """
    fold0 = args[0]
    if vmapped:
        keys = jax.random.split(jax.random.key(0), vmapped)
        folds = jax.tree.map(lambda a: jnp.repeat(jnp.asarray(a), vmapped, axis=0), fold0)
        run = jax.jit(jax.vmap(fit, in_axes=(0, 0) + (None,) * (len(args) - 1)))
        call = (keys, folds, *args[1:])
    else:
        run = jax.jit(fit)
        call = (jax.random.key(0), jax.tree.map(lambda a: jnp.asarray(a)[0], fold0), *args[1:])
    t0 = time.perf_counter()
    compiled = run.lower(*call).compile()
    t1 = time.perf_counter()
    jax.block_until_ready(compiled(*call))
    t2 = time.perf_counter()
    return {"epoch_s": (t2 - t1) / epochs, "compile_s": t1 - t0, "epochs": epochs}


def _timing_cfg(cfg: TrainConfig, epochs: int) -> TrainConfig:
    return dataclasses.replace(cfg, max_epochs=epochs, patience=epochs + 1)


def _continuous_timings(size: CheckSize, compute_dtype: str) -> dict:
    """Epoch seconds of the paper regressor (one and all noise candidates) and of the DAE."""
    from mer_ser.experiments.coutinho2017 import PROTOCOLS
    from mer_ser.models.lstm import LSTMDAE

    p = PROTOCOLS["paper"]
    parts = _corpus_parts("paper")
    music = parts["music_continuous"]
    n = min(music.n_clips, size.max_clips or music.n_clips)
    t = min(math.ceil(music.duration[1]), size.max_frames or 10**9)
    trials = size.trials or p.trials
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((n, t, 260)), jnp.float32)
    m = jnp.ones((n, t), bool)
    y = jnp.asarray(rng.standard_normal((n, t, 2)), jnp.float32)
    cfg = _timing_cfg(p.training(compute_dtype=compute_dtype), size.epochs)
    fit, _ = make_fit(
        lambda r: ContinuousRegressor(260, (max(p.hidden1), max(p.hidden2)), rngs=r), cfg
    )
    fold = _fold(n - 2, 1)  # nested leave-one-out: one clip tests, one validates
    out = {"clips": n, "frames": t, "steps_per_epoch": n - 2, "hidden": [200, 10]}
    for name, cands in (("one_candidate", 1), ("all_noise_candidates", len(p.noise))):
        k = cands * trials * n
        out[name] = {
            "models": k,
            **epoch_seconds(fit, (fold, x, m, y), size.epochs, vmapped=k),
        }
    pools = [parts["speech_pool"], parts["music_pool"]]
    n_pool = min(sum(q.n_clips for q in pools), size.max_clips or 10**9, 48)
    t_pool = min(math.ceil(max(q.duration[1] for q in pools)), size.max_frames or 10**9)
    xp = jnp.asarray(rng.standard_normal((n_pool, t_pool, 260)), jnp.float32)
    mp = jnp.ones((n_pool, t_pool), bool)
    dcfg = _timing_cfg(
        TrainConfig(
            optimizer="sgd",
            batch_size=p.dae_batch_size,
            loss="mse",
            standardise_inputs=False,
            standardise_outputs=False,
            compute_dtype=compute_dtype,
        ),
        size.epochs,
    )
    dfit, _ = make_fit(lambda r: LSTMDAE(260, max(p.dae_hidden), rngs=r), dcfg)
    k = len(p.dae_noise) * (size.trials or p.dae_trials)
    out["dae"] = {
        "models": k,
        "clips": n_pool,
        "frames": t_pool,
        "steps_per_epoch": n_pool - 1,
        **epoch_seconds(
            dfit, (_fold(n_pool - 1, 1), xp, mp, jax.nn.sigmoid(xp)), size.epochs, vmapped=k
        ),
    }
    return out


def _interpolate(k: float, k0: float, e0: float, k1: float, e1: float) -> float:
    """Time at ``k`` models, linear through the timed ``(k0, e0)``, ``(k1, e1)``; ``e0`` below."""
    if k <= k0 or k1 == k0:
        return e0
    return e0 + (k - k0) * (e1 - e0) / (k1 - k0)


def continuous_epoch_seconds(job: dict, timing: dict) -> float:
    """Projected seconds per epoch of one :func:`continuous_workload` job.

    All models of a job advance together, one sequence step at a time (batch 1), so an epoch's
    time grows with ``steps_per_epoch x frames`` (scaled from the timed fit) and with the number
    of models (linear between the two timed sizes and beyond them). The timed regressor is the
    grid's largest (#HB 200, 10) and the timed DAE the largest H, which bounds the others from
    above.
    """
    if job["kind"] == "dae":
        d = timing["dae"]
        work = job["steps_per_epoch"] * job["frames"] / (d["steps_per_epoch"] * d["frames"])
        return d["epoch_s"] * work * max(1.0, job["models"] / d["models"])
    one, many = timing["one_candidate"], timing["all_noise_candidates"]
    per = _interpolate(
        job["models"], one["models"], one["epoch_s"], many["models"], many["epoch_s"]
    )
    return (
        per
        * job["steps_per_epoch"]
        * job["frames"]
        / (timing["steps_per_epoch"] * timing["frames"])
    )


def project(jobs: list[dict], epoch_s) -> dict:
    """A workload's hours at its jobs' fewest and most epochs.

    Args:
        jobs: dicts of a ``*_workload`` function.
        epoch_s: ``job -> seconds per epoch`` of the job (of one run, for runs in turn).

    Returns:
        ``{"jobs", "hours_min_epochs", "hours_max_epochs", "by_kind": {kind: [min, max]}}``.
    """
    lo = hi = 0.0
    by_kind: dict = {}
    for j in jobs:
        e = epoch_s(j) * (j["models"] if j.get("runs_in_turn") else 1)
        a, b = e * j["min_epochs"] / 3600, e * j["max_epochs"] / 3600
        lo, hi = lo + a, hi + b
        k = by_kind.setdefault(j["kind"], [0.0, 0.0])
        k[0], k[1] = k[0] + a, k[1] + b
    return {"jobs": len(jobs), "hours_min_epochs": lo, "hours_max_epochs": hi, "by_kind": by_kind}


def _classifier_step_seconds(build, x, y, cfg: TrainConfig, size: CheckSize, kind="classifier"):
    """Seconds per training step inside the engine (4 steps and a validation batch per epoch)."""
    from mer_ser.train.engine import make_autoencoder_fit, make_cpc_fit

    b = size.conv_batch
    cfg = _timing_cfg(dataclasses.replace(cfg, batch_size=b), size.epochs)
    fold = _fold(4 * b, b)
    if kind == "scae":
        fit, _ = make_autoencoder_fit(build, cfg)
        args = (fold, x)
    elif kind == "cpc":
        fit, _ = make_cpc_fit(build, cfg)
        args = (fold, x)
    else:
        fit, _ = make_classifier_fit(build, cfg)
        args = (fold, x, y)
    t = epoch_seconds(fit, args, size.epochs)
    return {**t, "s_per_step": t["epoch_s"] / 4, "batch": b}


def _quadrant_timings(size: CheckSize, compute_dtype: str) -> dict:
    from mer_ser.experiments.rodningen2022 import PROTOCOLS

    p = PROTOCOLS["paper"]
    n, t = 5 * size.conv_batch, size.conv_frames
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((n, t, 40, 3)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, n))
    out = {"frames": t}
    for name, cls in (("dcnn", DCNN), ("adcrnn", ADCRNN)):
        cfg = dataclasses.replace(p.training(name.upper()), compute_dtype=compute_dtype)
        out[name] = _classifier_step_seconds(lambda r, cls=cls: cls(t, rngs=r), x, y, cfg, size)
    return out


def _language_timings(size: CheckSize, compute_dtype: str) -> dict:
    from mer_ser.experiments.gomez_canon.protocol import PROTOCOLS, WINDOW
    from mer_ser.models.autoencoders import CPC, SCAE, LatentClassifier, SCAEClassifier

    p = PROTOCOLS["paper"]
    n = 5 * size.conv_batch
    rng = np.random.default_rng(0)
    patches = jnp.asarray(rng.standard_normal((n, 128, 31, 1)), jnp.float32)
    windows = jnp.asarray(rng.standard_normal((n, WINDOW, 128, 31, 1)), jnp.float32)
    latents = jnp.asarray(rng.standard_normal((n, 2, 31, 128)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, n))
    block = p.head_block
    todo = {
        "scae": (lambda r: SCAE(rngs=r), patches, "scae", p.config("scae")),
        "cpc": (lambda r: CPC(rngs=r), windows, "cpc", p.config("cpc")),
        "classifier": (
            lambda r: SCAEClassifier(block=block, rngs=r),
            patches,
            "classifier",
            p.config("full"),
        ),
        "latent": (
            lambda r: LatentClassifier(block=block, rngs=r),
            latents,
            "classifier",
            p.config("feat_ext"),
        ),
    }
    out = {}
    for name, (build, x, kind, cfg) in todo.items():
        cfg = dataclasses.replace(cfg, compute_dtype=compute_dtype)
        out[name] = _classifier_step_seconds(build, x, y, cfg, size, kind=kind)
    return out


# ------------------------------------------------------------------------- the check
def _write(record: dict, out: Path | None) -> None:
    """Write the record atomically (a temporary file renamed over ``out``)."""
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)


def _conv_section(size: CheckSize) -> dict:
    """DCNN and ADCRNN steps in mer_ser and PyTorch.

    mer_ser runs in both dtypes and, on a GPU, with both ways of running a dilated convolution
    (:data:`mer_ser.models.conv.GPU_DILATED_CONV`); the fastest is ``mer_ser_best_s``.
    """
    from mer_ser.models import conv as conv_module

    shape = {"batch": size.conv_batch, "frames": size.conv_frames, "steps": size.conv_steps}
    impls = ("phases", "native") if jax.default_backend() == "gpu" else (None,)
    default = conv_module.GPU_DILATED_CONV
    out = {}
    for name, cls in (("dcnn", DCNN), ("adcrnn", ADCRNN)):
        r: dict = {**shape, "dilated_conv_default": default}
        ours = {}
        for impl in impls:
            for dt in ("float32", "bfloat16"):
                key = f"mer_ser_{dt}_s" if impl in (None, default) else f"mer_ser_{dt}_{impl}_s"

                def step(cls=cls, dt=dt, impl=impl):
                    before = conv_module.GPU_DILATED_CONV
                    conv_module.GPU_DILATED_CONV = impl or before
                    try:
                        return bench.conv_step_jax(cls, compute_dtype=dt, **shape)
                    finally:
                        conv_module.GPU_DILATED_CONV = before

                r[key] = _guarded(step, r, key)
                if r[key] is not None:  # a CPU always runs dilations natively
                    ours[key] = (r[key], dt, impl or "native")
        r["torch_float32_s"] = _guarded(lambda name=name: conv_step_torch(name, **shape), r, "t32")
        r["torch_best_s"] = _guarded(
            lambda name=name: conv_step_torch(name, best=True, **shape), r, "tbest"
        )
        theirs = [r[k] for k in ("torch_float32_s", "torch_best_s") if r[k] is not None]
        if ours:
            s_best, dt, impl = min(ours.values())
            r["mer_ser_best_s"], r["mer_ser_best_dtype"] = s_best, dt
            r["mer_ser_best_dilated_conv"] = impl
            if theirs:
                r["speedup_vs_torch_best"] = min(theirs) / s_best
        if r.get("mer_ser_float32_s") and r["torch_float32_s"]:
            r["speedup_vs_torch_float32"] = r["torch_float32_s"] / r["mer_ser_float32_s"]
        out[name] = r
    return out


def _guarded(fn, record: dict, key: str):
    """``fn()``, or None with the error kept in ``record["errors"][key]``."""
    try:
        return fn()
    except Exception as e:  # one failing measurement must not lose the others
        record.setdefault("errors", {})[key] = f"{type(e).__name__}: {e}"
        return None


def _paper_profiles(size: CheckSize, compute_dtype: str) -> dict:
    """Each track's paper profile: timed epochs and the projection of its whole workload."""

    def per_step(timings):
        return lambda j: timings[j["kind"]]["s_per_step"] * j["steps_per_epoch"]

    def continuous():
        t = _continuous_timings(size, compute_dtype)
        return {
            "timed": t,
            **project(continuous_workload(), lambda j: continuous_epoch_seconds(j, t)),
        }

    def quadrant():
        t = _quadrant_timings(size, compute_dtype)
        return {"timed": t, **project(quadrant_workload(), per_step(t))}

    def language():
        t = _language_timings(size, compute_dtype)
        return {"timed": t, **project(language_workload(), per_step(t))}

    out = {
        "compute_dtype": compute_dtype,
        "note": "projections: timed epochs at the profile's shapes, scaled to every job of the "
        "track; each job between patience + 1 and max_epochs epochs",
    }
    for name, fn in (("continuous", continuous), ("quadrant", quadrant), ("language", language)):
        out[name] = _guarded(fn, out, name)
    return out


#: The sections of the check, in the order they run.
SECTIONS = ("machine", "conv", "thesis", "paper_profiles", "regressor", "vmapped")


def run_check(
    size: str | CheckSize = "full",
    out: str | os.PathLike | None = None,
    *,
    budget_s: float = 420.0,
    sections: tuple[str, ...] | None = None,
    log=print,
) -> dict:
    """Run the sections (module docstring), writing the record to ``out`` after each one.

    Args:
        size: ``"full"``, ``"tiny"`` or a :class:`CheckSize`.
        out: the JSON record's path (None: only returned).
        budget_s: a section that would start after this many seconds is skipped.
        sections: the sections to run (default: all). With some only, an existing record at
            ``out`` of the same size and accelerator keeps its other sections, and
            ``measured_at`` says when each section was measured.
        log: where progress lines go.

    Returns:
        The record: ``{"bench": "gpu", "size", "machine", <section>: ..., "seconds",
        "skipped": [...], "measured_at": {section: UTC time}}``.

    Raises:
        ValueError: an unknown section, or an existing record at ``out`` made at another size
            or on another accelerator than the sections to add.
    """
    size = SIZES[size] if isinstance(size, str) else size
    out = Path(out) if out is not None else None
    todo = tuple(sections or SECTIONS)
    unknown = set(todo) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}; the sections: {', '.join(SECTIONS)}")
    t0 = time.perf_counter()
    record: dict = {"bench": "gpu", "size": size.name, "skipped": [], "measured_at": {}}
    if sections and out is not None and out.exists():
        old = json.loads(out.read_text())
        here = describe()["accelerator"]
        if old.get("size") != size.name or old.get("machine", {}).get("accelerator") != here:
            raise ValueError(
                f"{out}: a record of size {old.get('size')} on "
                f"{old.get('machine', {}).get('accelerator')}, not {size.name} on {here}"
            )
        record = {**old, "skipped": [], "measured_at": dict(old.get("measured_at", {}))}

    def machine():
        return {"matmul_gflops": bench.matmul_ceiling_gflops(), **describe()}

    def thesis():
        conv = record.get("conv")
        if not conv or size.name != "full":
            return {"note": "needs the conv section at the thesis' shapes (size full)"}
        return {
            name: {
                "compute_dtype": conv[name]["mer_ser_best_dtype"],
                **bench.thesis_projection(name, conv[name]["mer_ser_best_s"], 1),
            }
            for name in ("dcnn", "adcrnn")
        }

    def regressor():
        shape = {"batch": 31, "frames": size.regressor_frames}
        turns = bench.compare_regressor_steps(
            steps=size.regressor_steps, rounds=size.rounds, **shape
        )
        jx, th = turns["mer_ser"], turns["torch"]
        return {
            **shape,
            "mer_ser_s_per_step": jx,
            "torch_s_per_step": th,
            "speedup_vs_torch": th / jx if th else None,
        }

    def vmapped():
        th = (record.get("regressor") or {}).get("torch_s_per_step")
        rows = []
        for k in size.ks:
            n = max(3, size.regressor_steps // k)
            s = bench.regressor_step_jax(frames=size.regressor_frames, steps=n, k=k)
            row = {"k": k, "steps": n, "s_per_step": s, "model_steps_per_s": k / s}
            if th:
                row["torch_sequential_model_steps_per_s"] = 1.0 / th
                row["speedup_vs_torch_loop"] = (k / s) * th
            rows.append(row)
        return rows

    steps = [
        ("machine", machine),
        ("conv", lambda: _conv_section(size)),
        ("thesis", thesis),
        ("paper_profiles", lambda: _paper_profiles(size, "bfloat16")),
        ("regressor", regressor),
        ("vmapped", vmapped),
    ]
    for name, fn in steps:
        if name not in todo and name != "machine":
            continue
        elapsed = time.perf_counter() - t0
        if elapsed > budget_s:
            record["skipped"].append(name)
            log(f"[gpu-check] {name}: skipped ({elapsed:.0f} s > budget {budget_s:.0f} s)")
            continue
        log(f"[gpu-check] {name} ...")
        try:
            record[name] = fn()
        except Exception as e:  # one failing section must not lose the others
            record[name] = {"error": f"{type(e).__name__}: {e}"}
        record["seconds"] = time.perf_counter() - t0
        record["measured_at"][name] = datetime.now(UTC).isoformat(timespec="seconds")
        log(f"[gpu-check] {name}: done at {record['seconds']:.0f} s")
        _write(record, out)
    return record


def default_record_path(root: str | os.PathLike = "benchmarks") -> Path:
    """``benchmarks/gpu_<device kind>.json``, e.g. ``gpu_nvidia_h200.json``."""
    dev = jax.devices()[0]
    kind = getattr(dev, "device_kind", dev.platform) or dev.platform
    slug = "".join(c if c.isalnum() else "_" for c in kind.lower()).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return Path(root) / f"gpu_{slug}.json"


def main(argv=None) -> int:
    """``python -m mer_ser.bench.gpu [--size full|tiny] [--out FILE] [--budget-s S]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--out", help="the JSON record (default: benchmarks/gpu_<device>.json)")
    ap.add_argument("--budget-s", type=float, default=420.0)
    ap.add_argument("--sections", help=f"comma-separated, of {','.join(SECTIONS)} (default: all)")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else default_record_path()
    sections = tuple(args.sections.split(",")) if args.sections else None
    record = run_check(
        args.size,
        out,
        budget_s=args.budget_s,
        sections=sections,
        log=lambda s: print(s, file=sys.stderr),
    )
    print(json.dumps({"out": str(out), "seconds": record.get("seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
