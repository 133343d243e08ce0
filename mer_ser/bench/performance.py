"""The performance notebook's measurements: one tidy table of speed figures and its targets.

``notebooks/09_performance.ipynb`` measures on the machine it runs on and adds what was recorded
on a GPU machine (``benchmarks/gpu_*.json`` of :mod:`mer_ser.bench.gpu`, committed with the
machine's description):

* (a) training-step time of mer_ser against the same model in PyTorch, in one run: the
  continuous regressor (Coutinho & Schuller 2017: 260 -> LSTM 200 -> LSTM 10 -> 2, batch 31 x
  100 frames, 1 - CCC, SGD with momentum) and the DCNN (Rodningen 2022, section 4.4.1);
* (b) throughput of K vmapped regressors (model-steps per second) against a sequential PyTorch
  loop over K models, K = 1 ... 1000;
* (c) ComParE 1 Hz feature extraction in times real time per core, and a rerun over the cached
  corpus;
* (d) the wall time of each notebook of ``make figures`` (``build/notebook_times_<profile>.json``);
* (e) the GPU figures beside the CPU ones.

Every row of :func:`performance_table` has ``part`` (a-e), ``measure``, ``setting``, ``device``,
``source`` ("this run" or the file it was read from), ``value`` and ``unit``, and where there is
one, the PyTorch ``reference``, the ``ratio`` (speedup of mer_ser; for the matmul-rate row, the
share of the device's matrix-product ceiling given as its ``reference``), the issue's ``target`` and
whether it is ``met``. Timings are measurements: they differ between runs and machines, unlike
every other figure of the package.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mer_ser.bench import training as bench
from mer_ser.bench.features import cached_rerun, extraction_speed
from mer_ser.bench.machine import describe
from mer_ser.bench.training import matmul_ceiling_gflops
from mer_ser.models.conv import DCNN

#: Each speed target's threshold (:data:`TARGET_TEXT` says
#: what it bounds and in which direction).
TARGETS = {
    "cpu_regressor_vs_torch": 1.25,  # x PyTorch step rate, continuous regressor, CPU
    "gpu_k100_vs_torch_loop": 10.0,  # x a sequential PyTorch loop, K = 100, one GPU
    "gpu_conv_vs_torch_best": 1.5,  # DCNN and ADCRNN step vs PyTorch's fastest settings
    "gpu_thesis_speedup": 10.0,  # the thesis' experiments vs its A100 hours
    "features_x_real_time_per_core": 50.0,  # ComParE 1 Hz
    "predict_x_real_time_per_core": 50.0,  # a continuous bundle on a WAV file, end to end
    "cached_rerun_seconds": 5.0,
    "make_figures_minutes": 20.0,  # default profile, 2 cores
    "paper_profile_gpu_minutes": 30.0,  # continuous track, one GPU
}


@dataclass(frozen=True)
class PerfConfig:
    """What the notebook times, per profile.

    The K sweep uses a smaller per-model batch than part (a) on a CPU: at the full shape one
    step of K = 1000 regressors takes about 100 s on 2 cores. The ratio against PyTorch is taken
    at the same shape, so it stays comparable; the GPU record uses the full shape. The
    ``default`` profile keeps the notebook under two minutes on 2 cores (it runs inside
    ``make figures``); ``paper`` times longer.
    """

    regressor_steps: int = 50  # part (a): in rounds of mer_ser then PyTorch, fastest of each
    regressor_rounds: int = 5
    regressor_batch: int = 31  # sequences per step (the bench's shape: Coutinho & Schuller's
    regressor_frames: int = 100  # 1 Hz sequences, a batch of them as one gradient step)
    dcnn_batch: int = 4
    dcnn_frames: int = 1001  # Rodningen 2022: 1001 x 40 x 3 log-mel inputs
    dcnn_steps: int = 2
    k_values: tuple[int, ...] = (1, 10, 100, 1000)
    k_batch: int = 2
    k_frames: int = 25
    k_model_steps: int = 300  # model-steps timed per K (at least one step)
    feature_clips: int = 2  # clips per corpus for the one-core extraction speed
    predict_seconds: float = 120.0  # audio predicted end to end by a continuous bundle


PROFILES = {
    "quick": PerfConfig(
        regressor_steps=3,
        regressor_rounds=1,
        dcnn_batch=2,
        dcnn_frames=201,
        dcnn_steps=1,
        k_values=(1, 8),
        k_batch=2,
        k_frames=10,
        k_model_steps=40,
        feature_clips=1,
        predict_seconds=10.0,
    ),
    "default": PerfConfig(),
    "paper": PerfConfig(
        regressor_steps=200,
        dcnn_batch=8,
        dcnn_steps=5,
        k_model_steps=2000,
        feature_clips=6,
        predict_seconds=600.0,
    ),
}


def describe_machine() -> dict:
    """The machine as notebook 09 states it: a measured matmul rate, then ``machine.describe()``.

    ``matmul_gflops`` is what JAX reaches on large float32 matrix products on the default device
    (:func:`mer_ser.bench.training.matmul_ceiling_gflops`). A shared machine's speed varies from
    day to day, so the figure lets two runs' timings be compared; it is also the ceiling against
    which part (a) reads the regressor's matrix-product rate.
    """
    return {"matmul_gflops": round(matmul_ceiling_gflops(), 1), **describe()}


def device_label(info: dict) -> str:
    """A short label of the machine for tables and plots: ``"cpu: AMD EPYC (avx512f), 2 cores"``."""
    if info["accelerator"].startswith("cpu"):
        simd = f" ({info['simd']})" if info.get("simd") else ""
        return f"cpu: {info['cpu']}{simd}, {info['cores']} cores"
    return f"{info['accelerator']}"


def row(part, measure, setting, device, value, unit, *, source="this run", **extra) -> dict:
    """One measurement as a row of :func:`performance_table` (``extra``: ratio, target, ...)."""
    return {
        "part": part,
        "measure": measure,
        "setting": setting,
        "device": device,
        "source": source,
        "value": value,
        "unit": unit,
        **extra,
    }


def _met(value, target, higher_is_better=True):
    if value is None or target is None or not np.isfinite(value):
        return None
    return bool(value >= target) if higher_is_better else bool(value <= target)


# ------------------------------------------------------------------------------------- (a)
def training_rows(cfg: PerfConfig, device: str, matmul_gflops: float) -> list[dict]:
    """(a) seconds per training step, mer_ser and PyTorch measured one after the other.

    Each framework runs as it trains: mer_ser's regressor ten steps per call of one compiled
    ``lax.scan`` (:func:`mer_ser.bench.training.regressor_step_jax`), PyTorch one Python call per
    step; the two (and the products of the fourth row) take turns over
    ``cfg.regressor_rounds`` rounds and each keeps its fastest
    (:func:`~mer_ser.bench.training.compare_regressor_steps`), so a spell of load on a shared
    machine does not decide the ratios. A third row states the regressor's step as
    matrix-product work (:func:`~mer_ser.bench.training.regressor_matmul_flops` over the step
    time, in GFLOP/s) against
    ``matmul_gflops``, the rate JAX reaches on large products on the same device
    (:func:`describe_machine`, measured once per run); its ``ratio`` is that share (the
    issue's CPU target reads "about 70% of this CPU's float32 matrix-multiply ceiling"), which,
    unlike the ratio to PyTorch, does not move with PyTorch's own kernels on the machine.
    A fourth row times the first LSTM layer's matrix products alone
    (:func:`~mer_ser.bench.training.first_layer_products`, 97 % of the step's product work):
    no implementation of the step built on JAX's products on this device can be faster, so
    PyTorch's step over it is the highest ratio to PyTorch the step could reach here.
    """
    rows = []
    shape = {"batch": cfg.regressor_batch, "frames": cfg.regressor_frames}
    turns = bench.compare_regressor_steps(
        steps=cfg.regressor_steps, rounds=cfg.regressor_rounds, **shape
    )
    jx, th = turns["mer_ser"], turns["torch"]
    cpu = device.startswith("cpu")
    rows.append(
        row(
            "a",
            "continuous regressor step",
            f"260-200-10-2, batch {cfg.regressor_batch} x {cfg.regressor_frames} frames"
            " (mer_ser: 10 steps per compiled scan, as its engine trains)",
            device,
            jx,
            "s",
            reference=th,
            ratio=th / jx if th else None,
            target=TARGETS["cpu_regressor_vs_torch"] if cpu else None,
            target_name="cpu_regressor_vs_torch" if cpu else None,
            met=_met(th / jx, TARGETS["cpu_regressor_vs_torch"]) if th and cpu else None,
        )
    )
    gflop = bench.regressor_matmul_flops(cfg.regressor_batch, cfg.regressor_frames) / 1e9
    rows.append(
        row(
            "a",
            "continuous regressor matmul rate",
            f"{gflop:.2f} GFLOP of matrix products per step; reference: JAX on 1024 x 1024"
            " float32 products, this device",
            device,
            gflop / jx,
            "GFLOP/s",
            reference=matmul_gflops,
            ratio=gflop / jx / matmul_gflops,
        )
    )
    products = turns["products"]
    rows.append(
        row(
            "a",
            "continuous regressor first-layer products alone",
            "the first LSTM layer's matrix products of one step timed alone (input projection,"
            " both recurrent chains, both weight gradients): a lower bound on the step;"
            " ratio: PyTorch's step over it",
            device,
            products["total"],
            "s",
            reference=th,
            ratio=th / products["total"] if th else None,
        )
    )
    shape = {"batch": cfg.dcnn_batch, "frames": cfg.dcnn_frames, "steps": cfg.dcnn_steps}
    jd = bench.conv_step_jax(DCNN, **shape)
    td = bench.dcnn_step_torch(**shape)
    rows.append(
        row(
            "a",
            "DCNN step",
            f"batch {cfg.dcnn_batch} x {cfg.dcnn_frames} x 40 x 3",
            device,
            jd,
            "s",
            reference=td,
            ratio=td / jd if td else None,
        )
    )
    return rows


# ------------------------------------------------------------------------------------- (b)
def vmapped_rows(cfg: PerfConfig, device: str) -> list[dict]:
    """(b) model-steps per second of K vmapped regressors, and against a sequential torch loop.

    A sequential PyTorch loop over K models advances ``1 / t`` model-steps per second whatever
    K is (``t``: one model's step), so its reference is measured once at the same shape.
    """
    shape = {"batch": cfg.k_batch, "frames": cfg.k_frames}
    th = bench.regressor_step_torch(steps=max(3, cfg.k_model_steps // 10), **shape)
    rows = []
    for k in cfg.k_values:
        steps = max(1, cfg.k_model_steps // k)
        s = bench.regressor_step_jax(steps=steps, k=k, warmup=1 if k >= 100 else 2, **shape)
        torch_rate = 1.0 / th if th else None
        rows.append(
            row(
                "b",
                "vmapped regressors",
                f"K={k}, batch {cfg.k_batch} x {cfg.k_frames} frames",
                device,
                k / s,
                "model-steps/s",
                k=k,
                reference=torch_rate,
                ratio=(k / s) / torch_rate if th else None,
            )
        )
    return rows


# ------------------------------------------------------------------------------------- (c)
def feature_rows(corpora: dict, cache_dir, cfg: PerfConfig, device: str) -> list[dict]:
    """(c) ComParE 1 Hz: one core on a few clips per corpus, then a rerun over the cached corpus.

    Args:
        corpora: name -> corpus; the first ``cfg.feature_clips`` clips of each are extracted
            by one process into an empty cache (times real time per core).
        cache_dir: the feature cache the notebooks filled. Every clip of ``corpora`` is read
            back from it (the cache-hit rerun), after a first pass that computes any clip
            missing there (its count is in the row's ``setting``).
        cfg: the profile's settings.
        device: :func:`device_label` of this machine.
    """
    few = {name: c.subset(c.clips.index[: cfg.feature_clips]) for name, c in corpora.items()}
    speed = extraction_speed(few, n_jobs=1)
    target = TARGETS["features_x_real_time_per_core"]
    rows = [
        row(
            "c",
            "ComParE 1 Hz extraction",
            f"{speed['audio_seconds']:.0f} s of audio, 1 process",
            device,
            speed["x_real_time_per_core"],
            "x real time per core",
            target=target,
            target_name="features_x_real_time_per_core",
            met=_met(speed["x_real_time_per_core"], target),
        )
    ]
    filled = cached_rerun(corpora, cache_dir=cache_dir)["extracted"]
    rerun = cached_rerun(corpora, cache_dir=cache_dir)
    target = TARGETS["cached_rerun_seconds"]
    rows.append(
        row(
            "c",
            "cached rerun",
            f"{rerun['clips']} clips ({filled} were not cached before)",
            device,
            rerun["seconds"],
            "s",
            target=target,
            target_name="cached_rerun_seconds",
            met=_met(rerun["seconds"], target, higher_is_better=False)
            if rerun["extracted"] == 0
            else None,
        )
    )
    return rows


def prediction_rows(cfg: PerfConfig, device: str) -> list[dict]:
    """(c) ``mer-ser predict`` end to end: a continuous bundle on a WAV file.

    :func:`mer_ser.bench.prediction.prediction_speed` on ``cfg.predict_seconds`` of audio, in
    times real time per core (audio seconds per CPU second the prediction used).
    """
    from mer_ser.bench.prediction import prediction_speed

    speed = prediction_speed(cfg.predict_seconds)
    target = TARGETS["predict_x_real_time_per_core"]
    return [
        row(
            "c",
            "bundle prediction",
            f"{speed['audio_seconds']:.0f} s WAV, continuous bundle (ComParE 1 Hz + LSTM 64/10,"
            " 3 x 4 members)",
            device,
            speed["x_real_time_per_core"],
            "x real time per core",
            target=target,
            target_name="predict_x_real_time_per_core",
            met=_met(speed["x_real_time_per_core"], target),
        )
    ]


# ------------------------------------------------------------------------------------- (d)
def notebook_rows(times: dict, device: str, *, this_notebook: tuple[str, float] | None = None):
    """(d) each notebook's wall time, from :func:`mer_ser.figures.read_notebook_times`.

    Notebooks of one ``mer-ser figures`` run may overlap (``jobs=2`` runs the two tracks side
    by side), so each row has its ``start_s`` within the run, and the run's total is its span:
    the last notebook's end, plus this notebook's time so far.

    Args:
        times: notebook stem -> ``{"wall_s", "cpu_s", "run": {"started", "cold", "start_s"}}``.
        device: :func:`device_label` of this machine.
        this_notebook: ``(stem, seconds so far)`` of the notebook computing the table, which
            cannot have its own final time yet; it is placed after the others.

    Returns:
        One row per notebook (``cores_busy``: its CPU seconds over its wall seconds, a lower
        bound, since workers a forkserver started are not always counted) and a total
        row, whose target (``make figures`` under 20 minutes) is judged only when every
        notebook comes from one run started on an empty data root.
    """
    rows = []
    runs = set()
    for stem, t in sorted(times.items()):
        if this_notebook and stem == this_notebook[0]:
            continue
        run = t.get("run", {})
        runs.add((run.get("started"), run.get("cold")))
        rows.append(
            row(
                "d",
                "notebook wall time",
                stem,
                device,
                t["wall_s"],
                "s",
                start_s=run.get("start_s"),
                cores_busy=t["cpu_s"] / t["wall_s"] if t.get("wall_s") else None,
                run=run.get("started"),
                cold=run.get("cold"),
            )
        )
    if len(runs) == 1 and all(r["start_s"] is not None for r in rows):
        end = max(r["start_s"] + r["value"] for r in rows)
    else:  # no common clock: the notebooks as if one after the other
        end = 0.0
        for r in rows:
            r["start_s"], end = end, end + r["value"]
    if this_notebook:
        rows.append(
            row(
                "d",
                "notebook wall time",
                this_notebook[0],
                device,
                this_notebook[1],
                "s",
                start_s=end,
            )
        )
        end += this_notebook[1]
    one_cold_run = len(runs) == 1 and next(iter(runs))[1] is True
    if len(runs) > 1:
        setting = "notebooks of several runs"
    else:
        setting = "one run from an empty data root" if one_cold_run else "one run, filled data root"
    target = TARGETS["make_figures_minutes"]
    rows.append(
        row(
            "d",
            "make figures",
            setting,
            device,
            end / 60,
            "min",
            target=target,
            target_name="make_figures_minutes",
            met=_met(end / 60, target, higher_is_better=False) if one_cold_run else None,
            run=next(iter(runs))[0] if len(runs) == 1 else None,
        )
    )
    return rows


# ------------------------------------------------------------------------------------- (e)
def recorded_gpu_rows(bench_dir: str | os.PathLike) -> list[dict]:
    """(e) the figures recorded on a GPU machine: ``gpu_*.json`` records of ``mer-ser bench gpu``.

    Records made at toy shapes (``size`` other than ``"full"``) or on a CPU are skipped: this
    run measures its own CPU. Each record gives, on its machine: the DCNN and ADCRNN steps
    against PyTorch's fastest settings (and in float32 against float32), the thesis' two
    experiments projected from the fastest step, each track's ``paper`` profile projected at
    its jobs' fewest epochs (the setting names the hours at the most), the continuous
    regressor's step and the K sweep.
    """
    rows = []
    for path in sorted(Path(bench_dir).glob("gpu_*.json")):
        try:
            rec = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a JSON benchmark record ({e})") from e
        if not isinstance(rec, dict) or rec.get("bench") != "gpu" or "machine" not in rec:
            raise ValueError(f"{path}: not a record of `mer-ser bench gpu`")
        device = str(rec["machine"].get("accelerator", "cpu"))
        if device.startswith("cpu") or rec.get("size") != "full":
            continue
        m = rec["machine"]
        src = f"{path.name} (JAX {m.get('jax')}, PyTorch {m.get('torch')})"
        rows += _gpu_conv_rows(rec, device, src)
        rows += _gpu_paper_rows(rec, device, src)
        reg = rec.get("regressor") or {}
        if "mer_ser_s_per_step" in reg:
            rows.append(
                row(
                    "e",
                    "continuous regressor step",
                    f"260-200-10-2, batch {reg['batch']} x {reg['frames']} frames",
                    device,
                    reg["mer_ser_s_per_step"],
                    "s",
                    source=src,
                    reference=reg.get("torch_s_per_step"),
                    ratio=reg.get("speedup_vs_torch"),
                )
            )
        for v in rec.get("vmapped") or []:
            k, ratio = v["k"], v.get("speedup_vs_torch_loop")
            target = TARGETS["gpu_k100_vs_torch_loop"] if k == 100 else None
            rows.append(
                row(
                    "e",
                    "vmapped regressors",
                    f"K={k}, batch {reg.get('batch', 31)} x {reg.get('frames', 100)} frames",
                    device,
                    v["model_steps_per_s"],
                    "model-steps/s",
                    source=src,
                    k=k,
                    reference=v.get("torch_sequential_model_steps_per_s"),
                    ratio=ratio,
                    target=target,
                    target_name="gpu_k100_vs_torch_loop" if target else None,
                    met=_met(ratio, target) if target and ratio else None,
                )
            )
    return rows


def _gpu_conv_rows(rec: dict, device: str, src: str) -> list[dict]:
    """The convolutional models' steps and the thesis projection of one GPU record."""
    rows = []
    target = TARGETS["gpu_conv_vs_torch_best"]
    for name, label in (("dcnn", "DCNN"), ("adcrnn", "ADCRNN")):
        c = (rec.get("conv") or {}).get(name) or {}
        if c.get("mer_ser_best_s") is None:
            continue
        shape = f"batch {c['batch']} x {c['frames']} x 40 x 3"
        torch = [c[k] for k in ("torch_float32_s", "torch_best_s") if c.get(k) is not None]
        ratio = c.get("speedup_vs_torch_best")
        rows.append(
            row(
                "e",
                f"{label} step",
                f"{shape}; mer_ser {c['mer_ser_best_dtype']}, PyTorch's fastest of float32 and"
                " channels_last + autocast bfloat16",
                device,
                c["mer_ser_best_s"],
                "s",
                source=src,
                reference=min(torch) if torch else None,
                ratio=ratio,
                target=target,
                target_name="gpu_conv_vs_torch_best",
                met=_met(ratio, target) if ratio else None,
            )
        )
        if c.get("mer_ser_float32_s") and c.get("torch_float32_s"):
            rows.append(
                row(
                    "e",
                    f"{label} step, float32",
                    f"{shape}; both frameworks in float32",
                    device,
                    c["mer_ser_float32_s"],
                    "s",
                    source=src,
                    reference=c["torch_float32_s"],
                    ratio=c.get("speedup_vs_torch_float32"),
                )
            )
        t = (rec.get("thesis") or {}).get(name) or {}
        if "hours_at_200_epochs" in t:
            rows.append(
                row(
                    "e",
                    f"thesis experiment, {label}",
                    f"Rodningen 2022's SER2MER + MER2MER, 5 runs each, projected at 200 epochs"
                    f" ({t['hours_at_31_epochs']:.2f} h at 31); reference: the thesis' A100 hours",
                    device,
                    t["hours_at_200_epochs"],
                    "h",
                    source=src,
                    reference=t["thesis_hours"],
                    ratio=t["speedup_at_least"],
                    target=TARGETS["gpu_thesis_speedup"],
                    target_name="gpu_thesis_speedup",
                    met=_met(t["speedup_at_least"], TARGETS["gpu_thesis_speedup"]),
                )
            )
    return rows


#: The tracks of a GPU record's ``paper_profiles`` and the papers they follow.
_TRACKS = {
    "continuous": "continuous track (Coutinho & Schuller 2017)",
    "quadrant": "quadrant track (Rodningen 2022)",
    "language": "language track (Gomez-Canon et al.), SCAE and CPC",
}


def _gpu_paper_rows(rec: dict, device: str, src: str) -> list[dict]:
    """Each track's projected ``paper`` profile: minutes at the fewest epochs, and the most."""
    rows = []
    pp = rec.get("paper_profiles") or {}
    for track, label in _TRACKS.items():
        p = pp.get(track) or {}
        if "hours_min_epochs" not in p:
            continue
        lo, hi = 60 * p["hours_min_epochs"], 60 * p["hours_max_epochs"]
        judged = track == "continuous"
        target = TARGETS["paper_profile_gpu_minutes"] if judged else None
        # A projection between lo and hi: met when even the most epochs fit, missed when even
        # the fewest do not, not judged in between.
        met = None
        if judged:
            met = True if hi <= target else (False if lo > target else None)
        rows.append(
            row(
                "e",
                "paper profile (projected)",
                f"{label}: {p['jobs']} jobs, each at its fewest epochs (patience + 1);"
                f" {hi:.0f} min at the most ({pp.get('compute_dtype', 'float32')})",
                device,
                lo,
                "min",
                source=src,
                target=target,
                target_name="paper_profile_gpu_minutes" if judged else None,
                met=met,
            )
        )
    return rows


COLUMNS = [
    "part",
    "measure",
    "setting",
    "device",
    "source",
    "value",
    "unit",
    "reference",
    "ratio",
    "k",
    "start_s",
    "cores_busy",
    "run",
    "cold",
    "target",
    "target_name",
    "met",
]


def performance_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as one frame with every column of :data:`COLUMNS` (missing entries empty)."""
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df:
            df[col] = None
    met = df["met"].astype(object)
    df["met"] = met.where(met.notna(), None)  # True, False or None (not judged)
    return df[COLUMNS]


#: What each target of :data:`TARGETS` asks, for :func:`targets_table`.
TARGET_TEXT = {
    "cpu_regressor_vs_torch": "CPU: continuous regressor step rate >= 1.25x PyTorch",
    "gpu_k100_vs_torch_loop": "one GPU: K = 100 vmapped regressors >= 10x a PyTorch loop",
    "gpu_conv_vs_torch_best": "one GPU: DCNN and ADCRNN steps >= 1.5x PyTorch (channels_last"
    " + autocast)",
    "gpu_thesis_speedup": "one GPU: the thesis' DCNN and ADCRNN experiments >= 10x faster than"
    " its A100 hours",
    "features_x_real_time_per_core": "ComParE 1 Hz >= 50x real time per core",
    "predict_x_real_time_per_core": "mer-ser predict, continuous bundle >= 50x real time per core",
    "cached_rerun_seconds": "rerun over a cached corpus < 5 s",
    "make_figures_minutes": "make figures (default, 2 cores) < 20 min",
    "paper_profile_gpu_minutes": "one GPU: continuous track, paper profile < 30 min",
}


def targets_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every target of :data:`TARGETS`: what was measured, on which device, and whether it is met.

    A target with no row in ``df`` (e.g. a GPU target on a run without a GPU record) is listed
    as not measured, so the table never hides one.
    """
    out = []
    for name, text in TARGET_TEXT.items():
        rows = df[df["target_name"] == name]
        if rows.empty:
            out.append({"target": text, "device": "-", "measured": "not measured", "met": "-"})
        for r in rows.itertuples():
            measured = (
                f"{r.ratio:.2f}x" if pd.notna(r.ratio) else f"{r.value:.3g} {r.unit}"
            ) + f" ({r.setting}; {r.source})"
            met = {True: "yes", False: "**no**"}.get(r.met, "not judged")
            out.append({"target": text, "device": r.device, "measured": measured, "met": met})
    return pd.DataFrame(out, columns=["target", "device", "measured", "met"])
