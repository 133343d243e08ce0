"""Synthesised music with tonal structure, rendered in numpy.

Each piece has a key and a four-chord progression (I-V-vi-IV in major, i-VI-III-VII in minor),
a bass line on the chord roots, a pad playing the chords and a melody that walks the scale with
a preference for chord tones, plus optional percussion (kick and hi-hat). Bar by bar, the cue
model (:mod:`mer_ser.corpora.synthetic.cues`) sets tempo, note density, loudness, register,
melodic leaps, brightness (harmonic roll-off), attack, roughness, mode, dissonance, the balance of
even partials, the partials' inharmonicity and drums.

Timbres: ``piano`` (decaying partials), ``strings`` (slow swell, vibrato), ``brass`` (bright,
brassy swell). Scales: ``diatonic`` (major/minor) or ``pentatonic`` (major/minor pentatonic, used
for the CH-818-like Mandarin-pop part).
"""

from __future__ import annotations

import numpy as np

from mer_ser.corpora.synthetic import latent as _latent
from mer_ser.corpora.synthetic.cues import MusicCues

TIMBRES = ("piano", "strings", "brass")
SCALES = {
    ("diatonic", True): (0, 2, 4, 5, 7, 9, 11),
    ("diatonic", False): (0, 2, 3, 5, 7, 8, 10),
    ("pentatonic", True): (0, 2, 4, 7, 9),
    ("pentatonic", False): (0, 3, 5, 7, 10),
}
#: Chord roots as scale-degree indices: I-V-vi-IV (major), i-VI-III-VII (minor).
PROGRESSIONS = {True: (0, 4, 5, 3), False: (0, 5, 2, 6)}


def midi_hz(m: float) -> float:
    """Frequency of a MIDI note number."""
    return 440.0 * 2.0 ** ((m - 69.0) / 12.0)


def degree_to_midi(degree: int, tonic: int, scale: tuple[int, ...]) -> int:
    """MIDI note of a (possibly negative or > octave) scale degree above ``tonic``."""
    octave, step = divmod(degree, len(scale))
    return tonic + 12 * octave + scale[step]


def tone(
    freq: float,
    dur: float,
    sr: int,
    *,
    timbre: str,
    rolloff: float,
    attack: float,
    t0: float = 0.0,
    rough: float = 0.0,
    release: float = 0.15,
    even: float = 1.0,
    inharmonicity: float = 0.0,
) -> np.ndarray:
    """One note: additive partials with a timbre-specific envelope.

    Args:
        freq: fundamental in Hz.
        dur: sounding duration in seconds (a release tail follows).
        sr: sample rate.
        timbre: one of :data:`TIMBRES`.
        rolloff: partial ``k`` has amplitude ``k ** -rolloff`` (brightness cue).
        attack: attack time in seconds.
        t0: onset time in the piece (keeps the roughness modulation phase continuous).
        rough: depth of 40 Hz amplitude modulation (roughness cue).
        release: length of the release tail in seconds.
        even: gain of the even partials (timbre: 1 full, towards 0 hollow, clarinet-like).
        inharmonicity: stiff-string coefficient ``B``: partial ``k`` sounds at
            ``k f sqrt(1 + B k^2)`` (Fletcher, Blackham & Stratton 1962, JASA 34(6)); 0 is
            harmonic, larger values a metallic, clangorous timbre.

    Returns:
        float64 signal with peak amplitude about 1.
    """
    n = max(1, int((dur + release) * sr))
    t = np.arange(n) / sr
    k = np.arange(1, 11)
    ratio = k * np.sqrt(1.0 + inharmonicity * k**2)  # partial frequency / fundamental
    k = k[(ratio * freq <= sr / 2 - 200) | (k == 1)]
    ratio = ratio[: len(k)]
    if timbre == "brass":
        amps = k ** -(rolloff - 0.6)
    else:
        amps = k**-rolloff
    # The even partials' gain changes the timbre, not the loudness: the power is kept.
    norm = amps.sum()
    hollow = np.where(k % 2 == 0, even * amps, amps)
    amps = hollow * np.sqrt((amps**2).sum() / (hollow**2).sum())
    if timbre == "strings":
        phase = 2 * np.pi * freq * (t + 0.003 / (2 * np.pi * 5.5) * np.sin(2 * np.pi * 5.5 * t))
    else:
        phase = 2 * np.pi * freq * t
    y = (amps[:, None] * np.sin(ratio[:, None] * phase[None, :])).sum(axis=0) / norm
    att = np.clip(t / max(attack, 1e-3), 0.0, 1.0)
    rel = np.clip((dur + release - t) / release, 0.0, 1.0)
    if timbre == "piano":
        body = np.exp(-t * 2.5)
    elif timbre == "strings":
        body = np.ones_like(t)
    else:
        body = 0.85 + 0.15 * np.clip(t / 0.2, 0, 1)
    y *= att * rel * body
    if rough > 0:
        y *= 1.0 - rough * (0.5 + 0.5 * np.sin(2 * np.pi * 40.0 * (t0 + t)))
    return y


def _add(out: np.ndarray, y: np.ndarray, start: int) -> None:
    end = min(len(out), start + len(y))
    if end > start:
        out[start:end] += y[: end - start]


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.18 * sr)) / sr
    f = 50.0 + 70.0 * np.exp(-t * 30.0)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * 18.0)


def _hihat(rng: np.random.Generator, sr: int) -> np.ndarray:
    n = int(0.05 * sr)
    noise = np.diff(rng.standard_normal(n + 1))  # first difference: a high-pass
    return 0.5 * noise * np.exp(-np.arange(n) / sr * 70.0)


def render_music(
    rng: np.random.Generator,
    duration: float,
    arousal: np.ndarray,
    valence: np.ndarray,
    arousal_shared: np.ndarray,
    valence_shared: np.ndarray,
    *,
    timbre: str,
    scale: str = "diatonic",
    sr: int = 16000,
    level_db: float = -17.0,
) -> np.ndarray:
    """Render a piece whose cues follow the latent trajectories, bar by bar.

    Args:
        rng: random generator (key, melody, drums).
        duration: length in seconds; the result has exactly ``round(duration * sr)`` samples.
        arousal: label arousal latent (music-only cues) at ``LATENT_RATE``.
        valence: label valence latent (mode, dissonance).
        arousal_shared: driver of the shared arousal cues (see ``cues.shared_driver``).
        valence_shared: driver of the shared valence cue (roughness).
        timbre: lead/pad timbre, one of :data:`TIMBRES`.
        scale: ``"diatonic"`` or ``"pentatonic"``.
        sr: sample rate.
        level_db: overall level at zero arousal.

    Returns:
        float32 signal, shape ``(round(duration * sr),)``.
    """
    if timbre not in TIMBRES:
        raise ValueError(f"unknown timbre {timbre!r}; choose from {TIMBRES}")
    n_total = round(duration * sr)
    out = np.zeros(n_total + 4 * sr)
    tonic = 48 + int(rng.integers(12))
    kick = _kick(sr)
    t, bar, melody = 0.0, 0, 7
    while t < duration:
        a, v = float(_latent.at(arousal, t)), float(_latent.at(valence, t))
        a_s, v_s = float(_latent.at(arousal_shared, t)), float(_latent.at(valence_shared, t))
        c = MusicCues.from_drivers(a_s, v_s, a, v)
        gain = 10.0 ** (c.gain_db / 20.0)
        sc = SCALES[(scale, c.major)]
        root_deg = PROGRESSIONS[c.major][bar % 4] % len(sc)
        beat = 60.0 / c.tempo_bpm
        key = tonic + c.register
        kw = {
            "rolloff": c.rolloff,
            "attack": c.attack_s,
            "rough": c.rough_depth,
            "even": c.even,
            "inharmonicity": c.inharmonicity,
        }
        bar_len = 4 * beat
        # Pad: the triad (or the pentatonic 1-3-5 stack) for the whole bar.
        for i in (0, 2, 4):
            f = midi_hz(degree_to_midi(root_deg + i, key, sc))
            y = tone(f, bar_len, sr, timbre="strings" if timbre == "piano" else timbre, t0=t, **kw)
            _add(out, 0.18 * gain * y, int(t * sr))
        if c.dissonance > 0:  # a minor second above the chord root
            f = midi_hz(degree_to_midi(root_deg, key, sc) + 1)
            y = tone(f, bar_len, sr, timbre="strings", t0=t, **kw)
            _add(out, 0.18 * c.dissonance * gain * y, int(t * sr))
        # Bass on every beat.
        for b in range(4):
            f = midi_hz(degree_to_midi(root_deg, key - 12, sc))
            y = tone(f, 0.9 * beat, sr, timbre="piano", t0=t + b * beat, **kw)
            _add(out, 0.3 * gain * y, int((t + b * beat) * sr))
        # Melody: a walk over the scale with leaps up to max_leap, drawn to chord tones.
        step = beat / c.notes_per_beat
        for j in range(4 * c.notes_per_beat):
            melody += int(rng.integers(-c.max_leap, c.max_leap + 1))
            melody = int(np.clip(melody, 3, 12))
            if rng.random() < 0.5:  # pull towards the nearest chord tone
                chord = [root_deg + i + len(sc) * o for i in (0, 2, 4) for o in (0, 1, 2)]
                melody = min(chord, key=lambda d: abs(d - melody))
            f = midi_hz(degree_to_midi(melody, key, sc))
            y = tone(f, 0.85 * step, sr, timbre=timbre, t0=t + j * step, **kw)
            _add(out, 0.35 * gain * y, int((t + j * step) * sr))
        # Percussion: kick on beats 1 and 3, hi-hats on subdivisions with probability.
        if c.percussion > 0:
            for b in (0, 2):
                _add(out, 0.5 * gain * kick, int((t + b * beat) * sr))
            for j in range(8):
                if rng.random() < c.percussion:
                    _add(out, 0.25 * gain * _hihat(rng, sr), int((t + j * beat / 2) * sr))
        t += bar_len
        bar += 1
    out = out[:n_total] * 10.0 ** (level_db / 20.0)
    out += 10.0 ** (-65.0 / 20.0) * rng.standard_normal(n_total)
    return np.tanh(out).astype(np.float32)
