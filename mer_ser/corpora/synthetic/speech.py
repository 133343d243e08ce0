"""Synthesised emotional speech: espeak-ng (through ctypes) plus a signal-level cue stage.

espeak-ng comes from the ``espeakng-loader`` wheel, which bundles ``libespeak-ng`` and its voice
data, so no system package is needed. Prosody (rate, pitch, pitch range) is set per sentence with
SSML ``<prosody>``; loudness, vocal effort (spectral tilt), roughness and formant shift are
applied to the signal (see :mod:`mer_ser.corpora.synthetic.cues` for the mapping).

espeak-ng keeps internal state between utterances, so the same sentence synthesised twice in one
process can differ by a few samples, and its breathy variants draw noise from a generator seeded
per process. The corpus builder therefore renders each clip in a fresh worker process (a
deterministic sequence of calls from a clean start) and seeds espeak-ng's generator before every
sentence, which makes every clip byte-identical across runs.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, lfilter

from mer_ser.corpora.audio import resample
from mer_ser.corpora.synthetic import latent as _latent
from mer_ser.corpora.synthetic.cues import SpeechCues
from mer_ser.corpora.synthetic.texts import SENTENCES

_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_ESPEAK_CHARS_UTF8 = 0x01
_ESPEAK_SSML = 0x10
_ESPEAK_PITCH = 3
_ESPEAK_RANGE = 4
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

#: espeak-ng voices per language; ``+variant`` selects a male or female variant.
VOICES = {
    "en": ("en+m1", "en+f2", "en+m3", "en+f3", "en-us+m2", "en-us+f1", "en+m4", "en+f4"),
    "fr": ("fr+m1", "fr+f2", "fr+m3", "fr+f3", "fr+m2", "fr+f1", "fr+m4", "fr+f4"),
    "zh": ("cmn+m1", "cmn+f2", "cmn+m3", "cmn+f3", "cmn+m2", "cmn+f1", "cmn+m4", "cmn+f4"),
}


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: an espeak-ng voice variant with its own base pitch and range."""

    id: str
    language: str  # "en", "fr" or "zh"
    voice: str  # espeak-ng voice name with variant
    base_pitch: int  # espeak-ng pitch parameter, 0-99
    base_range: int  # espeak-ng range parameter, 0-99


class _Engine:
    """Process-wide espeak-ng handle (the library is not re-entrant)."""

    _lock = threading.Lock()
    _instance: _Engine | None = None

    def __init__(self):
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        data = espeakng_loader.get_data_path().encode()
        self.sr = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sr <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise with data at {data.decode()}")
        self._chunks: list[np.ndarray] = []

        def _collect(wav, n, _events):
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(_collect)  # keep a reference: ctypes does not
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Engine:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def synth(self, ssml: str, speaker: Speaker, seed: int = 0) -> np.ndarray:
        """Synthesise one SSML utterance; returns int16 samples at ``self.sr``.

        ``seed`` seeds espeak-ng's noise generator (breathy variants draw aspiration noise).
        """
        with self._lock:
            self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
            if self.lib.espeak_SetVoiceByName(speaker.voice.encode()) != 0:
                raise RuntimeError(f"espeak-ng has no voice {speaker.voice!r}")
            self.lib.espeak_SetParameter(_ESPEAK_PITCH, speaker.base_pitch, 0)
            self.lib.espeak_SetParameter(_ESPEAK_RANGE, speaker.base_range, 0)
            self._chunks.clear()
            text = ssml.encode("utf-8")
            flags = _ESPEAK_CHARS_UTF8 | _ESPEAK_SSML
            rc = self.lib.espeak_Synth(text, len(text) + 1, 0, 0, 0, flags, None, None)
            if rc != 0:
                raise RuntimeError(f"espeak-ng failed (status {rc}) on {ssml!r}")
            if not self._chunks:
                return np.zeros(0, dtype=np.int16)
            return np.concatenate(self._chunks)


def sentence_ssml(text: str, cues: SpeechCues) -> str:
    """The SSML of one sentence: rate, pitch and pitch range from the cue model."""
    rate = 100.0 * cues.rate_wpm / 175.0  # espeak-ng's default rate is 175 wpm
    return (
        f'<speak><prosody rate="{rate:.0f}%" pitch="{cues.pitch_pct:+.0f}%" '
        f'range="{cues.range_pct:+.0f}%">{text}{cues.final_punct}</prosody></speak>'
    )


def apply_signal_cues(y: np.ndarray, cues: SpeechCues, sr: int, t0: float) -> np.ndarray:
    """Formant shift, vocal-effort tilt, roughness and loudness of one sentence.

    Args:
        y: the synthesised sentence, float, shape ``(n,)`` at ``sr``.
        cues: its cue values.
        sr: sample rate.
        t0: start time in the clip (keeps the roughness modulation phase continuous).
    """
    # Formant shift: read the signal faster/slower (scales the whole spectral envelope).
    f = cues.formant_factor
    n_out = max(1, round(len(y) / f))
    y = np.interp(np.arange(n_out) * f, np.arange(len(y)), y)
    # Vocal effort: high-shelf tilt (first-order high-pass branch added with gain).
    b, a = butter(1, 1500.0 / (sr / 2.0), btype="high")
    y = y + (10.0 ** (cues.tilt_db / 20.0) - 1.0) * lfilter(b, a, y)
    # Roughness: 40 Hz amplitude modulation.
    if cues.rough_depth > 0:
        t = t0 + np.arange(len(y)) / sr
        y = y * (1.0 - cues.rough_depth * (0.5 + 0.5 * np.sin(2 * np.pi * 40.0 * t)))
    return y * 10.0 ** (cues.gain_db / 20.0)


def render_speech(
    rng: np.random.Generator,
    duration: float,
    arousal: np.ndarray,
    valence: np.ndarray,
    speaker: Speaker,
    *,
    sr: int = 16000,
    level_db: float = -14.0,
) -> np.ndarray:
    """Render ``duration`` seconds of speech whose cues follow the latent trajectories.

    Sentences are drawn from the built-in text list of the speaker's language; each sentence
    realises the latent arousal/valence at its expected midpoint, followed by a pause whose
    length is itself a cue.

    Args:
        rng: random generator (sentence choice, noise floor).
        duration: clip length in seconds; the result has exactly ``round(duration * sr)`` samples.
        arousal: latent arousal at :data:`~mer_ser.corpora.synthetic.latent.LATENT_RATE`.
        valence: latent valence at the same rate.
        speaker: voice and base prosody.
        sr: output sample rate.
        level_db: overall level at zero arousal (leaves headroom for +9 dB).

    Returns:
        float32 signal, shape ``(round(duration * sr),)``.
    """
    engine = _Engine.get()
    n_total = round(duration * sr)
    out = np.zeros(n_total + sr * 30)
    pos = int(rng.uniform(0.1, 0.6) * sr)
    texts = SENTENCES[speaker.language]
    while pos < n_total:
        t_mid = pos / sr + 1.2
        cues = SpeechCues.from_av(
            float(_latent.at(arousal, t_mid)), float(_latent.at(valence, t_mid))
        )
        text = texts[int(rng.integers(len(texts)))]
        pcm = engine.synth(sentence_ssml(text, cues), speaker, int(rng.integers(2**31)))
        y = resample(pcm.astype(np.float64) / 32768.0, engine.sr, sr).astype(np.float64)
        y = apply_signal_cues(y, cues, sr, pos / sr)
        end = min(pos + len(y), len(out))
        out[pos:end] += y[: end - pos]
        pos = end + int(cues.pause_s * sr)
    out = out[:n_total] * 10.0 ** (level_db / 20.0)
    out += 10.0 ** (-65.0 / 20.0) * rng.standard_normal(n_total)  # microphone noise floor
    return np.tanh(out).astype(np.float32)
