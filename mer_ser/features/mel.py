"""Mel-spectrogram features of the quadrant-classification papers.

* :class:`LogMel3D`: Rodningen 2022, section 4.3: 16 kHz audio, 40 mel bands 300-8000 Hz,
  window 400, hop 240, ``power=1``, ``amplitude_to_db(ref=1)``, delta and delta-delta stacked as
  channels, audio centre-zero-padded (or centre-cropped) to 15 s; standardisation per channel with
  global statistics of unpadded training clips (:class:`ChannelStandardiser`).
* :class:`MelPatches`: Gomez-Canon et al. 2020/2021: 16 kHz, ``n_fft`` 1024, hop 512, 128 mel
  bands in dB, cut into 1 s patches of 31 frames with 50 % overlap (a 15-frame step).
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np


@dataclass(frozen=True)
class LogMel3D:
    """3-D log-mel (log-mel, delta, delta-delta) of Rodningen 2022, section 4.3.

    Call on a mono 16 kHz signal to get float32 ``(frames, n_mels, 3)`` (time first: the thesis'
    transpose that lets a CNN's output be reshaped per time step).
    """

    sr: int = 16000
    n_mels: int = 40
    fmin: float = 300.0
    fmax: float = 8000.0
    n_fft: int = 400  # window length 400 samples (25 ms)
    hop_length: int = 240
    power: float = 1.0  # energy (magnitude) spectrogram, then amplitude_to_db
    pad_seconds: float | None = 15.0  # centre zero-padding / cropping; None keeps the length
    name: str = "logmel3d"
    version: int = 1

    def fit_length(self, y: np.ndarray) -> np.ndarray:
        """Centre-pad with zeros (or centre-crop) to ``pad_seconds``."""
        if self.pad_seconds is None:
            return y
        n = round(self.pad_seconds * self.sr)
        if len(y) >= n:
            start = (len(y) - n) // 2
            return y[start : start + n]
        left = (n - len(y)) // 2
        return np.pad(y, (left, n - len(y) - left))

    def __call__(self, y: np.ndarray, sr: int, *, pad: bool = True) -> np.ndarray:
        """Features of one clip; ``pad=False`` skips the 15 s padding (for statistics)."""
        if sr != self.sr:
            raise ValueError(f"LogMel3D expects {self.sr} Hz audio, got {sr} Hz")
        y = self.fit_length(y) if pad else y
        m = librosa.feature.melspectrogram(
            y=np.asarray(y, dtype=np.float32),
            sr=sr,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            power=self.power,
        )
        logm = librosa.amplitude_to_db(m, ref=1.0)
        width = min(9, logm.shape[1] - (1 - logm.shape[1] % 2))
        if width >= 3:
            d1 = librosa.feature.delta(logm, width=width, order=1)
            d2 = librosa.feature.delta(logm, width=width, order=2)
        else:  # clips shorter than 3 frames have no meaningful derivative
            d1 = d2 = np.zeros_like(logm)
        return np.stack([logm, d1, d2], axis=-1).transpose(1, 0, 2).astype(np.float32)


@dataclass
class ChannelStandardiser:
    """Global per-channel standardisation of 3-D log-mel features (Rodningen 2022, section 4.3).

    Statistics come from *unpadded* training clips, so padding does not bias them.
    """

    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, features: list[np.ndarray]) -> ChannelStandardiser:
        """Fit on a list of ``(frames, n_mels, channels)`` arrays (unpadded)."""
        flat = np.concatenate([f.reshape(-1, f.shape[-1]) for f in features]).astype(np.float64)
        self.mean = flat.mean(axis=0)
        self.std = np.maximum(flat.std(axis=0), 1e-8)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise ``(..., channels)`` with the fitted statistics."""
        if self.mean is None:
            raise RuntimeError("ChannelStandardiser.fit must be called before transform")
        return ((x - self.mean) / self.std).astype(np.float32)


@dataclass(frozen=True)
class MelPatches:
    """1 s log-mel patches of Gomez-Canon et al. 2020 (section 3.1) / 2021.

    Call on a mono 16 kHz signal to get float32 ``(patches, 1, n_mels, patch_frames)``.
    """

    sr: int = 16000
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    patch_frames: int = 31  # 31 x 512 / 16 kHz = 0.99 s
    patch_step: int = 15  # 50 % overlap
    name: str = "mel_patches"
    version: int = 1

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Patches of one clip (zero patches if the clip is shorter than one patch)."""
        if sr != self.sr:
            raise ValueError(f"MelPatches expects {self.sr} Hz audio, got {sr} Hz")
        if 1 + len(y) // self.hop_length < self.patch_frames:  # shorter than one patch
            return np.zeros((0, 1, self.n_mels, self.patch_frames), dtype=np.float32)
        m = librosa.feature.melspectrogram(
            y=np.asarray(y, dtype=np.float32),
            sr=sr,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            power=2.0,
        )
        logm = librosa.power_to_db(m, ref=1.0)
        n = (logm.shape[1] - self.patch_frames) // self.patch_step + 1
        if n <= 0:
            return np.zeros((0, 1, self.n_mels, self.patch_frames), dtype=np.float32)
        idx = np.arange(n)[:, None] * self.patch_step + np.arange(self.patch_frames)[None, :]
        return logm[:, idx].transpose(1, 0, 2)[:, None].astype(np.float32)
