"""ComParE 2013/2016 features at 1 Hz (Coutinho & Schuller 2017, section "Acoustic features").

openSMILE's ComParE set gives 65 low-level descriptors (LLDs) and their 65 first-order deltas
every 10 ms (Table 1 of the paper). Their mean and standard deviation over 2 s windows with a
1 s step give 2 x 130 = 260 features per second, aligned with 1 Hz labels (window convention in
:mod:`mer_ser.corpora.labels`).

One custom openSMILE configuration computes LLDs and deltas in a single pass (the stock
``ComParE_2016`` config computes the 6,373 functionals too and returns one level per call).
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_ser._io import sha256_json, write_text
from mer_ser.corpora.labels import n_frames

N_LLD = 65
LLD_STEP = 0.01  # seconds between LLD frames


def _config_text() -> str:
    import opensmile

    inc = Path(opensmile.__file__).parent / "core" / "config" / "compare"
    return "\n".join(
        [
            "[componentInstances:cComponentManager]",
            "instance[dataMemory].type=cDataMemory",
            r"\{\cm[source{?}:include external source]}",
            rf"\{{{inc / 'ComParE_2016_core.lld.conf.inc'}}}",
            "[componentInstances:cComponentManager]",
            "instance[mer_ser_lld].type=cVectorConcat",
            "[mer_ser_lld:cVectorConcat]",
            "reader.dmLevel = is13_lld_nzsmo;is13_lldA_smo;is13_lldB_smo;"
            "is13_lld_nzsmo_de;is13_lldA_smo_de;is13_lldB_smo_de",
            "writer.dmLevel = lld_and_deltas",
            "includeSingleElementFields = 1",
            r"\{\cm[sink{?}:include external sink]}",
            "",
        ]
    )


@functools.cache
def _smile():
    import opensmile

    text = _config_text()
    path = (
        Path(tempfile.gettempdir()) / f"mer_ser_compare_{sha256_json(text)[:12]}_{os.getuid()}.conf"
    )
    if not path.is_file():
        write_text(path, text)
    return opensmile.Smile(feature_set=str(path), feature_level="lld_and_deltas")


@functools.cache
def lld_names() -> tuple[str, ...]:
    """Names of the 130 ComParE LLD and delta columns, in openSMILE's order."""
    sr = 16000
    y = np.random.default_rng(0).standard_normal(sr).astype(np.float32) * 0.1
    return tuple(_smile().process_signal(y, sr).columns)


def compare_lld(y: np.ndarray, sr: int) -> np.ndarray:
    """ComParE LLDs and deltas every 10 ms.

    Args:
        y: mono signal, shape ``(n,)``.
        sr: sample rate in Hz.

    Returns:
        float32 array of shape ``(frames, 130)``; frame ``j`` starts at ``j * 10 ms``.
    """
    return _smile().process_signal(np.asarray(y, dtype=np.float32), sr).to_numpy(np.float32)


def windowed_mean_std(
    lld: np.ndarray, count: int, *, win: float = 2.0, hop: float = 1.0, step: float = LLD_STEP
) -> np.ndarray:
    """Mean and standard deviation of frame features over sliding windows.

    Window ``k`` pools the frames starting in ``[k * hop, k * hop + win)``.

    Args:
        lld: frame features, shape ``(frames, d)``.
        count: number of windows.
        win: window length in seconds.
        hop: window step in seconds.
        step: frame step of ``lld`` in seconds.

    Returns:
        float32 array ``(count, 2 d)``: the ``d`` means, then the ``d`` population standard
        deviations.
    """
    x = np.asarray(lld, dtype=np.float64)
    per_win, per_hop = round(win / step), round(hop / step)
    pad = max(0, (count - 1) * per_hop + per_win - len(x))
    if pad:  # openSMILE may drop the last partial frame; repeat the last one
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    csq = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
    lo = np.arange(count) * per_hop
    hi = lo + per_win
    mean = (csum[hi] - csum[lo]) / per_win
    var = np.maximum((csq[hi] - csq[lo]) / per_win - mean**2, 0.0)
    return np.hstack([mean, np.sqrt(var)]).astype(np.float32)


@dataclass(frozen=True)
class ComParE1Hz:
    """The 260 ComParE features per second of Coutinho & Schuller 2017.

    Call it on a mono signal to get an array of shape ``(frames, 260)``.
    """

    sr: int = 16000  # audio is resampled to this rate before extraction
    win: float = 2.0  # functional window in seconds (the paper: 2 s)
    hop: float = 1.0  # window step in seconds (the paper: 1 s, so 1 Hz)
    name: str = "compare_1hz"
    version: int = 1  # bump when the computation changes (invalidates caches)

    def columns(self) -> list[str]:
        """The 260 feature names: ``<lld>_mean`` for all LLDs, then ``<lld>_std``."""
        names = lld_names()
        return [f"{n}_mean" for n in names] + [f"{n}_std" for n in names]

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Features of one clip, shape ``(n_frames(duration), 260)``."""
        count = n_frames(len(y) / sr, win=self.win, hop=self.hop)
        if count == 0:
            return np.zeros((0, 2 * 2 * N_LLD), dtype=np.float32)
        return windowed_mean_std(compare_lld(y, sr), count, win=self.win, hop=self.hop)
