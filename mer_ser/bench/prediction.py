"""End-to-end prediction speed of a continuous model bundle: audio file in, 1 Hz curves out.

Used by ``mer-ser bench predict`` (the target "prediction with a continuous model at >= 50x real
time per CPU core"). The bundle has the default profile's architecture (ComParE 1 Hz, two LSTM
layers of 64 and 10 blocks, 3 trials x 4 folds) with random weights: the speed does not depend
on what the weights learned.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
import soundfile as sf
from flax import nnx

from mer_ser import bundles
from mer_ser.models import ContinuousRegressor
from mer_ser.train.checkpoint import flatten
from mer_ser.train.engine import Standardiser

N_FEATURES = 260


def random_regressors(k: int, hidden, *, n_features: int = N_FEATURES, seed: int = 0) -> dict:
    """Parameters of ``k`` randomly initialised regressors, stacked along a leading axis."""
    models = [
        nnx.to_pure_dict(
            nnx.state(ContinuousRegressor(n_features, hidden, rngs=nnx.Rngs(seed + i)), nnx.Param)
        )
        for i in range(k)
    ]
    return jax.tree.map(lambda *a: np.stack(a), *models)


def random_bundle(folder, *, hidden=(64, 10), trials: int = 3, folds: int = 4, seed: int = 0):
    """A continuous bundle of ``trials * folds`` randomly initialised regressors."""
    k = trials * folds
    params = random_regressors(k, hidden, seed=seed)
    ones = np.ones((k, N_FEATURES), np.float32)
    stats = Standardiser(0 * ones, ones, np.zeros((k, 2), np.float32), np.ones((k, 2), np.float32))
    arrays = {f"params/{n}": v for n, v in flatten(params).items()}
    arrays |= {f"stats/{n}": np.asarray(v) for n, v in stats._asdict().items()}
    manifest = bundles.continuous_manifest(N_FEATURES, hidden, trials=trials, folds=folds)
    manifest["provenance"] = {"condition": "benchmark (random weights)"}
    return bundles.save_bundle(folder, manifest, arrays)


def _audio(path: Path, seconds: float, sr: int = 16000, block_s: int = 60) -> None:
    """A modulated tone in noise, written a minute at a time.

    The benchmark's own memory stays small, so the peak it reports is the prediction's.
    """
    n, rng = int(seconds * sr), np.random.default_rng(0)
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for a in range(0, n, block_s * sr):
            t = np.arange(a, min(n, a + block_s * sr)) / sr
            noise = rng.standard_normal(len(t))
            y = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.3 * t)) + 0.01 * noise
            f.write(y.astype(np.float32))


def _cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used, all its threads together."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mib() -> float:
    """The process's peak resident memory so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prediction_speed(seconds: float = 600.0, **bundle_kwargs) -> dict:
    """Time :func:`mer_ser.bundles.predict` on a WAV file of ``seconds``, in steady state.

    A first short file and a prediction at the file's length come first, so the timing leaves
    out what a session pays once: openSMILE's set-up and compiling the model for a length
    (:func:`mer_ser.bundles.padded_length`).

    Speed per core is audio seconds per CPU second the prediction used (all threads), so it
    does not depend on how many cores sat idle. Memory: the process's peak resident size, and
    how much the prediction raised it above the peak after the warm-up (features are computed
    in 10-minute pieces, so this stays bounded whatever the file's length).

    Returns:
        ``audio_seconds``, ``frames``, ``seconds`` (wall), ``cpu_seconds``, ``x_real_time``,
        ``x_real_time_per_core``, ``cores`` (the CPUs this process may use), ``peak_rss_mib``
        and ``rss_growth_mib``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        bundle = bundles.load_bundle(random_bundle(Path(tmp) / "bundle", **bundle_kwargs))
        _audio(Path(tmp) / "warm.wav", 5.0)
        _audio(Path(tmp) / "a.wav", seconds)
        bundles.predict(bundle, Path(tmp) / "warm.wav")  # a first file: openSMILE's set-up
        frames = max(1, int(seconds) - 1)  # compile the model for the measured file's length
        bundle.predict_features(np.zeros((frames, N_FEATURES), np.float32))
        rss0, cpu0 = _peak_rss_mib(), _cpu_seconds()
        t0 = time.perf_counter()
        out = bundles.predict(bundle, Path(tmp) / "a.wav")
        dt = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        rss = _peak_rss_mib()
    return {
        "audio_seconds": seconds,
        "frames": len(out),
        "seconds": dt,
        "cpu_seconds": cpu,
        "x_real_time": seconds / dt,
        "x_real_time_per_core": seconds / max(cpu, 1e-9),
        "cores": len(os.sched_getaffinity(0)),
        "peak_rss_mib": rss,
        "rss_growth_mib": rss - rss0,
    }
