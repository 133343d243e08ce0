"""Reading audio with clear errors: resampling and downmixing as documented repairs.

Real corpora mix sample rates and channel counts (DEAM ships 44.1, 48, 22.05 and 16 kHz files,
a few of them mono), so both are treated as data: :func:`load_audio` downmixes to mono (channel
mean) and resamples to the requested rate (polyphase filter). Each kind of repair is reported
once: with a :class:`RepairLog` the caller collects them over a whole corpus and warns once per
kind with the count and an example file (:func:`mer_ser.features.extract` does); without one,
each kind is warned about once per process.

Unreadable, empty, truncated and silent files raise :class:`~mer_ser.errors.AudioError` naming
the file; so does a decoded length that disagrees with the clip table.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from mer_ser._io import atomic_write
from mer_ser.errors import AudioError

#: Peak amplitude under which a clip counts as silent (about -100 dBFS).
SILENCE_PEAK = 1e-5

_REPORTED: set[tuple] = set()


class AudioRepair(UserWarning):
    """Audio was downmixed or resampled on load, or held samples beyond [-1, 1]."""


def _describe(key: tuple) -> str:
    if key[0] == "downmix":
        return f"downmixed {key[1]} channels to mono"
    if key[0] == "resample":
        return f"resampled {key[1]} Hz to {key[2]} Hz"
    return "float samples beyond [-1, 1] (kept as stored; the features see the louder signal)"


@dataclass
class RepairLog:
    """Repairs made while loading many files: a count and one example file per kind.

    Pass one to :func:`load_audio` to collect instead of warning, :meth:`merge` the logs of
    worker processes, and :meth:`warn` once at the end.
    """

    counts: dict[tuple, int] = field(default_factory=dict)  # kind of repair -> files
    examples: dict[tuple, str] = field(default_factory=dict)  # kind of repair -> first file

    def add(self, key: tuple, path: str | os.PathLike) -> None:
        """Count one file repaired in the way ``key`` names."""
        self.counts[key] = self.counts.get(key, 0) + 1
        self.examples.setdefault(key, str(path))

    def merge(self, other: RepairLog) -> None:
        """Add another log's counts (e.g. a worker's)."""
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
            self.examples.setdefault(key, other.examples[key])

    def messages(self, where: str) -> list[str]:
        """One line per kind of repair: what, how many files, an example."""
        return [
            f"{where}: {_describe(key)} in {n} file{'s' if n != 1 else ''} "
            f"(e.g. {self.examples[key]})"
            for key, n in sorted(self.counts.items(), key=lambda kv: str(kv[0]))
        ]

    def warn(self, where: str, *, stacklevel: int = 2) -> None:
        """Warn once per kind of repair (:class:`AudioRepair`)."""
        for message in self.messages(where):
            warnings.warn(message, AudioRepair, stacklevel=stacklevel + 1)


def _report(key: tuple, path: Path, log: RepairLog | None) -> None:
    if log is not None:
        log.add(key, path)
    elif key not in _REPORTED:
        _REPORTED.add(key)
        warnings.warn(
            f"{path}: {_describe(key)} (reported once per process)", AudioRepair, stacklevel=3
        )


def wav_truncation(path: str | os.PathLike) -> str | None:
    """Why a WAV file is shorter than its header says, or ``None`` when it is not.

    libsndfile quietly reads a WAV whose ``data`` chunk holds fewer bytes than the header
    declares (a copy cut short) as a shorter clip; this reads the RIFF chunk headers itself.
    Files of other formats, and WAVs written as streams (declared size 0 or 0xFFFFFFFF), give
    ``None``.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        order = "little" if head[:4] == b"RIFF" else "big"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            n = int.from_bytes(chunk[4:8], order)
            if chunk[:4] == b"data":
                held = size - pos - 8
                if n not in (0, 0xFFFFFFFF) and n > held:
                    return (
                        f"truncated: the header declares {n} bytes of audio data but the file "
                        f"holds {held} ({100 * held / n:.0f} %)"
                    )
                return None
            pos += 8 + n + (n & 1)
    return None


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


def check_readable(path: Path, what: str = "audio file") -> None:
    """Raise :class:`AudioError` unless ``path`` is a readable file (the path and reason named)."""
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an {what}")
    if not path.is_file():
        raise AudioError(f"{path}: {what} not found")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied (cannot read the {what})")


def duration_tolerance(duration: float) -> float:
    """How far a decoded length may differ from a clip table's duration in s: 0.1 s or 1 %.

    Compressed formats decode a few milliseconds of encoder padding more or less than their
    headers announce; a truncated copy misses far more.
    """
    return max(0.1, 0.01 * float(duration))


def load_audio(
    path: str | os.PathLike,
    *,
    sr: int | None = 16000,
    allow_silent: bool = False,
    duration: float | None = None,
    log: RepairLog | None = None,
) -> tuple[np.ndarray, int]:
    """Read an audio file as a mono float32 signal.

    Args:
        path: a file libsndfile reads (WAV, FLAC, OGG, MP3 with libsndfile >= 1.1).
        sr: the sample rate to return in Hz; ``None`` keeps the file's own rate.
        allow_silent: return silent clips instead of raising.
        duration: the length in s a clip table records for this file; a decoded length that
            differs by more than :func:`duration_tolerance` raises.
        log: collect repairs here instead of warning (see :class:`RepairLog`).

    Returns:
        ``(y, sr)``: signal of shape ``(n,)`` and its sample rate. Integer formats give values
        in [-1, 1]; float files are returned as stored, and a peak beyond 1 is reported.

    Raises:
        AudioError: the file is missing, unreadable (permission), corrupt or truncated, has no
            samples, is silent, or is not as long as ``duration`` says.

    Warns:
        AudioRepair: a channel count or sample rate needed repairing, or float samples lie
            beyond [-1, 1] (once per kind, see the module docstring).
    """
    path = Path(path)
    check_readable(path)
    try:
        truncated = wav_truncation(path)
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except PermissionError as e:
        raise AudioError(f"{path}: permission denied (cannot read the audio file)") from e
    except Exception as e:  # libsndfile reports corrupt headers as several exception types
        raise AudioError(f"{path}: cannot read audio ({e})") from e
    if truncated:
        raise AudioError(f"{path}: {truncated}")
    if data.shape[0] == 0:
        raise AudioError(f"{path}: audio file is empty (0 samples)")
    if duration is not None and abs(data.shape[0] / file_sr - duration) > duration_tolerance(
        duration
    ):
        raise AudioError(
            f"{path}: decodes to {data.shape[0] / file_sr:.2f} s but the clip table says "
            f"{duration:.2f} s (a truncated or replaced file?)"
        )
    if data.shape[1] > 1:
        _report(("downmix", data.shape[1]), path, log)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    peak = float(np.max(np.abs(y)))
    if not allow_silent and peak < SILENCE_PEAK:
        raise AudioError(f"{path}: audio is silent (peak below {SILENCE_PEAK:g})")
    if peak > 1.0 + 1e-6:
        _report(("peak",), path, log)
    if sr is not None and file_sr != sr:
        _report(("resample", file_sr, sr), path, log)
        y = resample(y, file_sr, sr)
        file_sr = sr
    return y.astype(np.float32, copy=False), int(file_sr)


def write_wav(path: str | os.PathLike, y: np.ndarray, sr: int) -> None:
    """Write a mono signal as 16-bit PCM WAV, atomically. Equal signals give equal bytes."""
    pcm = np.clip(np.round(np.asarray(y, dtype=np.float64) * 32767.0), -32768, 32767)
    with atomic_write(path) as f:
        sf.write(f, pcm.astype(np.int16), int(sr), format="WAV", subtype="PCM_16")
