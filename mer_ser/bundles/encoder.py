"""Encoder bundles: the denoising LSTM autoencoders pretrained on unlabelled music and speech.

Coutinho & Schuller 2017, "Pre-training of the first layer" (Table 5): an LSTM-DAE of ``H``
blocks reconstructs the logistic squashing of z-scored 1 Hz ComParE features from a copy
corrupted with Gaussian noise of standard deviation sigma; its encoder becomes the frozen first
layer of the CD_TL regressors. A bundle holds the DAEs of one (H, sigma) pair, one per trial,
with the pools' feature statistics (the paper's normalisation: the music and speech pools
z-scored together).

Applied to audio it gives two tables on the 1 Hz frame grid:

* ``"frame"``: the reconstruction RMSE of each frame (how familiar the frame is to the pools the
  DAEs learnt from), mean and standard deviation over trials;
* ``"code"``: every trial's hidden representation (``z000`` ...), indexed by ``(file, trial,
  start, end)``: the learnt features, for use as input to another model. Trials are not
  averaged: each DAE's units are its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mer_ser.bundles.audio import compare_1hz_chunked
from mer_ser.bundles.continuous import frames_table, padded_length
from mer_ser.bundles.store import MANIFEST, Bundle, BundleError, models_dir, save_bundle
from mer_ser.features import ComParE1Hz
from mer_ser.models.lstm import LSTMDAE
from mer_ser.train.checkpoint import flatten

#: An encoder's tables: reconstruction error per frame, and each trial's code per frame.
LEVELS = ("frame", "code")


def extractor(bundle: Bundle) -> ComParE1Hz:
    """The bundle's feature extractor."""
    feats = bundle.manifest["features"]
    if feats["name"] != "compare_1hz":
        raise BundleError(f"{bundle.path / MANIFEST}: unknown feature set {feats['name']!r}")
    return ComParE1Hz(**feats["config"])


def _program(bundle: Bundle):
    """``(states, fn)``: each trial's parameters and ``fn(params, x, m) -> (code, output)``."""
    if "program" not in bundle.cache:
        arch = bundle.manifest["architecture"]
        if arch.get("class") != "LSTMDAE":
            raise BundleError(
                f"{bundle.path / MANIFEST}: architecture {arch.get('class')!r} is not an LSTM-DAE"
            )
        cfg = arch["config"]
        n_in, size, peephole = int(cfg["n_in"]), int(cfg["n_hidden"]), bool(cfg["peephole"])
        graphdef, rest, states = None, None, []
        for k in range(bundle.members):
            model = LSTMDAE(n_in, size, peephole=peephole, rngs=nnx.Rngs(0))
            graphdef, params, rest = nnx.split(model, nnx.Param, ...)
            pure = jax.tree.map(lambda a, k=k: jnp.asarray(a[k]), bundle.params)
            nnx.replace_by_pure_dict(params, LSTMDAE.restrict(pure, {"hidden": int(cfg["active"])}))
            states.append(params)

        def run(p, x, m):
            dae = nnx.merge(graphdef, p, rest, copy=True)
            z = dae.encode(x, m)
            return z, jax.nn.sigmoid(dae.decoder(z))

        bundle.cache["program"] = (states, jax.jit(run))
    return bundle.cache["program"]


def encode(bundle: Bundle, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every trial's code and reconstruction RMSE of one feature sequence.

    Args:
        bundle: an encoder bundle.
        x: raw 1 Hz ComParE features ``(T, 260)`` (standardised here with the pools' statistics).

    Returns:
        ``(code, rmse)``: float32 ``(trials, T, H)`` and ``(trials, T)``.

    Raises:
        BundleError: ``x`` has another feature dimension than the model expects.
    """
    x = bundle.features(x)
    states, fn = _program(bundle)
    h = int(bundle.manifest["architecture"]["config"]["active"])
    n = len(x)
    codes, errors = [], []
    for k, p in enumerate(states):
        mean, std = bundle.arrays["stats/mean"][k], bundle.arrays["stats/std"][k]
        xs = ((x - mean) / std).astype(np.float32)  # every frame is valid
        xp = np.zeros((padded_length(n), x.shape[1]), np.float32)
        xp[:n] = xs
        m = np.arange(len(xp)) < n
        z, rec = fn(p, jnp.asarray(xp[None]), jnp.asarray(m[None]))
        z, rec = np.asarray(z[0, :n, :h]), np.asarray(rec[0, :n])
        target = 1.0 / (1.0 + np.exp(-xs.astype(np.float64)))  # the DAE's target, sigmoid(z)
        codes.append(z)
        errors.append(np.sqrt(np.mean((rec - target) ** 2, axis=1)).astype(np.float32))
    return np.stack(codes), np.stack(errors)


def predict_read(bundle: Bundle, read, n: int, sr: int, name: str) -> dict:
    """``{"frame": ..., "code": ...}`` of one signal (see the module docstring)."""
    ex = extractor(bundle)
    x = compare_1hz_chunked(read, n, sr, ex)
    if len(x) == 0:
        raise BundleError(f"{name}: shorter than one {ex.win:g}-s analysis window")
    code, rmse = encode(bundle, x)
    return {
        "frame": frames_table(
            name, rmse[..., None], ["reconstruction_rmse"], win=ex.win, hop=ex.hop
        ),
        "code": code_table(name, code, win=ex.win, hop=ex.hop),
    }


def code_table(file: str, code: np.ndarray, *, win: float, hop: float) -> pd.DataFrame:
    """Each trial's code per frame, indexed by ``(file, trial, start, end)``.

    Args:
        file: the file's name for the index.
        code: ``(trials, T, H)``.
        win: analysis window of a frame in s.
        hop: frame step in s.
    """
    trials, t, h = code.shape
    start = np.tile(np.arange(t) * hop, trials)
    index = pd.MultiIndex.from_arrays(
        [
            [file] * (trials * t),
            np.repeat(np.arange(trials), t),
            pd.to_timedelta(start, unit="s"),
            pd.to_timedelta(start + win, unit="s"),
        ],
        names=["file", "trial", "start", "end"],
    )
    return pd.DataFrame(
        code.reshape(trials * t, h), index=index, columns=[f"z{j:03d}" for j in range(h)]
    )


def empty(bundle: Bundle) -> dict:
    """The tables of no file."""
    h = int(bundle.manifest["architecture"]["config"]["active"])
    return {
        "frame": frames_table("", np.zeros((1, 0, 1)), ["reconstruction_rmse"], win=1.0, hop=1.0),
        "code": code_table("", np.zeros((1, 0, h)), win=1.0, hop=1.0),
    }


def describe(bundle: Bundle) -> str:
    """One line on an encoder bundle (``mer-ser models``)."""
    prov, scores = bundle.manifest.get("provenance", {}), bundle.manifest.get("scores", {})
    cfg = bundle.manifest["architecture"]["config"]
    pools = ", ".join(p["name"] for p in prov.get("pools", []))
    score = f"; held-out RMSE {scores['rmse']:.4f}, r {scores['r']:.3f}" if scores else ""
    return (
        f"{bundle.kind} LSTMDAE, H {cfg['active']}, sigma {prov.get('sigma', '?')}, pretrained "
        f"on {pools or '?'}, protocol {prov.get('protocol', '?')}, seed {prov.get('seed', '?')}, "
        f"{bundle.members} trials{score}"
    )


def export_daes(track, data_root: str | os.PathLike) -> list[Path]:
    """Export every (H, sigma) DAE of a continuous track as ``coutinho2017_DAE_H<H>_sigma<s>``.

    The DAEs trained under the paper's normalisation (the pools z-scored together), one bundle
    per pair of Table 5's grid, with its held-out reconstruction RMSE and r.

    Args:
        track: a :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack` whose pools are set.
        data_root: the notebooks' data root.

    Returns:
        The bundle folders.
    """
    dae = track.dae
    grid = dae.grid("paper")
    table = dae.table("paper")
    mean, std = dae.pool_statistics()
    p = track.protocol
    out = []
    for h in p.dae_hidden:
        for sigma in p.dae_noise:
            trained = dae.models(h, sigma, "paper")
            trials = trained.shape[1]
            row = table[(table["hidden"] == h) & np.isclose(table["sigma"], sigma)].iloc[0]
            sel = grid[
                (grid["stage"] == "sigma")
                & (grid["hidden"] == h)
                & np.isclose(grid["sigma"], sigma)
            ]
            ex = ComParE1Hz()
            manifest = {
                "kind": "encoder",
                "architecture": {
                    "class": "LSTMDAE",
                    "config": {
                        "n_in": int(mean.shape[0]),
                        "n_hidden": dae.size(h),
                        "peephole": bool(p.peephole),
                        "active": int(h),
                    },
                },
                "features": {
                    "name": ex.name,
                    "config": {"sr": ex.sr, "win": ex.win, "hop": ex.hop},
                    "dim": int(mean.shape[0]),
                },
                "labels": {
                    "dimensions": ["reconstruction_rmse"],
                    "code": f"z000 .. z{h - 1:03d}",
                    "target": "sigmoid of the z-scored features",
                    "frame_hop_s": ex.hop,
                    "frame_win_s": ex.win,
                },
                "ensemble": {
                    "trials": int(trials),
                    "folds": 1,
                    "reduce": "reconstruction: mean and sd over trials; code per trial",
                },
                "provenance": {
                    "paper": "Coutinho & Schuller 2017, PLoS ONE 12(6): e0179289 (Table 5)",
                    "hidden": int(h),
                    "sigma": float(sigma),
                    "learning_rate": float(row["chosen_lr"]),
                    "pools": [
                        {
                            "name": s.name,
                            "domain": s.domain,
                            "sha256": s.fingerprint(),
                            "clips": len(s),
                        }
                        for s in dae.pools
                    ],
                    "normalisation": "paper",
                    "protocol": p.name,
                    "seed": int(track.seed),
                    "cache_key": trained.key,
                },
                "scores": {
                    "rmse": float(row["rmse"]),
                    "r": float(row["r"]),
                    "held_out": "every fifth pool clip",
                    "trials": len(sel),
                },
            }
            arrays = {f"params/{k}": np.asarray(v) for k, v in flatten(trained.params).items()}
            arrays["stats/mean"] = np.repeat(mean[None], trials, axis=0)
            arrays["stats/std"] = np.repeat(std[None], trials, axis=0)
            name = f"coutinho2017_DAE_H{h}_sigma{sigma:g}"
            out.append(save_bundle(models_dir(data_root) / name, manifest, arrays))
    return out
