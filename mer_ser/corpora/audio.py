"""Reading audio with clear errors: resampling and downmixing as documented repairs.

Real corpora mix sample rates and channel counts (DEAM: 44.1/48/22.05/16 kHz, 13 mono files;
``../shared/corpora.md`` section 0 rule 5), so both are treated as data: :func:`load_audio`
downmixes to mono (channel mean) and resamples to the requested rate (polyphase filter), and
reports each kind of repair once per process with an :class:`AudioRepair` warning naming the
first file it met.
Unreadable, empty and silent files raise :class:`~mer_ser.errors.AudioError` naming the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from mer_ser.errors import AudioError

#: Peak amplitude under which a clip counts as silent (about -100 dBFS).
SILENCE_PEAK = 1e-5

_REPORTED: set[tuple] = set()


class AudioRepair(UserWarning):
    """Audio was downmixed or resampled on load (reported once per kind of repair)."""


def _report_once(key: tuple, message: str) -> None:
    if key not in _REPORTED:
        _REPORTED.add(key)
        warnings.warn(message, AudioRepair, stacklevel=3)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono signal with a polyphase filter (exact rational ratio, deterministic).

    Args:
        y: signal, shape ``(n,)``.
        orig_sr: its sample rate in Hz.
        target_sr: the wanted rate in Hz.

    Returns:
        float32 signal of shape ``(round(n * target_sr / orig_sr),)``.
    """
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    g = np.gcd(int(orig_sr), int(target_sr))
    out = resample_poly(y.astype(np.float64), int(target_sr) // g, int(orig_sr) // g)
    return out.astype(np.float32)


def load_audio(
    path: str | os.PathLike, *, sr: int | None = 16000, allow_silent: bool = False
) -> tuple[np.ndarray, int]:
    """Read an audio file as a mono float32 signal.

    Args:
        path: a file libsndfile reads (WAV, FLAC, OGG, MP3 with libsndfile >= 1.1).
        sr: the sample rate to return in Hz; ``None`` keeps the file's own rate.
        allow_silent: return silent clips instead of raising.

    Returns:
        ``(y, sr)``: signal of shape ``(n,)`` in [-1, 1] and its sample rate.

    Raises:
        AudioError: the file is missing, unreadable or corrupt, has no samples, or is silent.

    Warns:
        AudioRepair: the first time a channel count or sample rate needs repairing.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile reports corrupt headers as several exception types
        raise AudioError(f"{path}: cannot read audio ({e})") from e
    if data.shape[0] == 0:
        raise AudioError(f"{path}: audio file is empty (0 samples)")
    if data.shape[1] > 1:
        _report_once(
            ("downmix", data.shape[1]),
            f"{path}: downmixing {data.shape[1]} channels to mono (reported once)",
        )
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    if not allow_silent and float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(f"{path}: audio is silent (peak below {SILENCE_PEAK:g})")
    if sr is not None and file_sr != sr:
        _report_once(
            ("resample", file_sr, sr), f"{path}: resampling {file_sr} Hz to {sr} Hz (reported once)"
        )
        y = resample(y, file_sr, sr)
        file_sr = sr
    return y.astype(np.float32, copy=False), int(file_sr)


def write_wav(path: str | os.PathLike, y: np.ndarray, sr: int) -> None:
    """Write a mono signal as 16-bit PCM WAV, atomically. Equal signals give equal bytes."""
    from mer_ser._io import atomic_write

    pcm = np.clip(np.round(np.asarray(y, dtype=np.float64) * 32767.0), -32768, 32767)
    with atomic_write(path) as f:
        sf.write(f, pcm.astype(np.int16), int(sr), format="WAV", subtype="PCM_16")
