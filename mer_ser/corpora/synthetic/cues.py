"""The cue model of the built-in corpus, after Juslin & Laukka (2003, Psychol. Bull. 129(5), Table 7).

Arousal ``a`` and valence ``v`` (both in [-1, 1]) are realised through acoustic cues. Shared
cues exist in both domains; the others belong to one domain.

=================  ========  ====================================  ======================================
cue                kind      speech (espeak-ng + signal stage)     music (numpy synthesis)
=================  ========  ====================================  ======================================
tempo / rate       shared    speaking rate 160 * 2^(0.55 a) wpm;   tempo 100 * 2^(0.6 a) bpm; notes per
                             pause 0.55 * 2^(-a) s                 beat 1 / 2 / 4 at a < -1/3 / < 1/3 / else
loudness           shared    gain 9 a dB                           gain 9 a dB
pitch level        shared    SSML pitch +(30 a + 10 v) %           register +round(6 a) semitones
pitch variability  shared    SSML range +(70 a) %                  melodic leaps up to 2 + round(3 (a+1)) steps
brightness         shared    shelf tilt 10 a dB above 1.5 kHz      harmonic roll-off k^-(2.2 - a)
attack             shared    (implicit in vocal effort)            attack 60 * 2^(-2 a) ms
roughness          shared    40 Hz AM, depth 0.45 max(0, -v)       40 Hz AM, depth 0.45 max(0, -v)
mode               music     -                                     major if v >= 0 else minor
consonance         music     -                                     added minor second, 0.6 max(0, -v)
hollowness         music     -                                     even partials at gain 0.5 - 0.5 a
inharmonicity      music     -                                     partials stretched, B = 0.015 (1 + a)
percussion         shared    -                                     drums when a_s > -0.3, density with a_s
contour shape      speech    final "!" if v > 0.25 else "."        -
formant shift      speech    spectrum scaled by 1 + 0.05 v         -
=================  ========  ====================================  ======================================

``shared_code`` (``s`` in [0, 1]) sets how much the two domains share: music realises its
*shared* cues from the drivers ``a_s = s a + sqrt(1 - s^2) u_a`` and ``v_s = s v + sqrt(1 - s^2)
u_v``, where ``u_a``, ``u_v`` are latents independent of the labels with the same statistics. At
``s = 1`` both domains realise arousal/valence through the same cues; at ``s = 0`` music's shared
cues carry no information about its labels (only its own cues do: mode and consonance for
valence, the timbre of the notes for arousal), so a model should not transfer in either
direction while a music model still learns both dimensions. Music's own arousal cues are
timbral and have no counterpart in speech: the even partials fade when aroused (a hollow,
clarinet-like sound) and the partials stretch away from the harmonic series (a metallic,
bell-like sound; the stiff-string law of Fletcher, Blackham & Stratton 1962). Juslin &
Laukka's articulation (staccato when aroused) is left out on purpose: short notes modulate the
energy envelope the way faster speech does, so a music-trained model would predict speech
arousal at ``s = 0`` through the envelope statistics both domains share. Percussion is a
device only music has, but it is driven like a shared cue: drums add loudness, onsets and
high-frequency energy, the acoustic features speech uses for arousal, so a label-driven drum
part would let arousal transfer through them even at ``s = 0``. Speech always realises its
labels directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def relu(x: float) -> float:
    """max(x, 0)."""
    return max(float(x), 0.0)


def shared_driver(latent: np.ndarray, independent: np.ndarray, shared_code: float) -> np.ndarray:
    """Mix a label latent with an independent one: ``s z + sqrt(1 - s^2) u`` (see module doc)."""
    s = float(shared_code)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"shared_code must lie in [0, 1], got {s}")
    return np.clip(s * latent + np.sqrt(max(0.0, 1.0 - s * s)) * independent, -1.0, 1.0)


@dataclass(frozen=True)
class SpeechCues:
    """Per-sentence speech parameters (see the module table)."""

    rate_wpm: float  # espeak-ng words per minute
    pause_s: float  # silence after the sentence
    gain_db: float  # loudness
    pitch_pct: float  # SSML pitch change in percent
    range_pct: float  # SSML pitch-range change in percent
    tilt_db: float  # high-shelf gain above 1.5 kHz
    rough_depth: float  # 40 Hz amplitude-modulation depth
    final_punct: str  # contour shape
    formant_factor: float  # spectral scaling factor

    @classmethod
    def from_av(cls, a: float, v: float) -> SpeechCues:
        """Speech cues for arousal ``a`` and valence ``v``."""
        return cls(
            rate_wpm=160.0 * 2.0 ** (0.55 * a),
            pause_s=0.55 * 2.0 ** (-a),
            gain_db=9.0 * a,
            pitch_pct=30.0 * a + 10.0 * v,
            range_pct=70.0 * a,
            tilt_db=10.0 * a,
            rough_depth=0.45 * relu(-v),
            final_punct="!" if v > 0.25 else ".",
            formant_factor=1.0 + 0.05 * v,
        )


@dataclass(frozen=True)
class MusicCues:
    """Per-bar music parameters (see the module table)."""

    tempo_bpm: float
    notes_per_beat: int
    gain_db: float
    register: int  # semitones
    max_leap: int  # scale steps
    rolloff: float  # harmonic amplitude exponent
    attack_s: float
    rough_depth: float
    major: bool
    dissonance: float
    percussion: float  # 0 = none, up to 1 = dense
    even: float  # gain of the even partials: 1.0 full .. 0.0 hollow
    inharmonicity: float  # stiff-string coefficient B: 0 harmonic .. 0.03 bell-like

    @classmethod
    def from_drivers(cls, a_s: float, v_s: float, a: float, v: float) -> MusicCues:
        """Music cues from the shared-cue drivers ``(a_s, v_s)`` and the labels ``(a, v)``."""
        return cls(
            tempo_bpm=100.0 * 2.0 ** (0.6 * a_s),
            notes_per_beat=1 if a_s < -1 / 3 else (2 if a_s < 1 / 3 else 4),
            gain_db=9.0 * a_s,
            register=round(6 * a_s),
            max_leap=2 + round(3 * (a_s + 1)),
            rolloff=2.2 - a_s,
            attack_s=0.06 * 2.0 ** (-2.0 * a_s),
            rough_depth=0.45 * relu(-v_s),
            major=bool(v >= 0),
            dissonance=0.6 * relu(-v),
            percussion=0.0 if a_s <= -0.3 else min(1.0, (a_s + 0.3) / 1.1),
            even=0.5 - 0.5 * float(np.clip(a, -1.0, 1.0)),
            inharmonicity=0.015 * (1.0 + float(np.clip(a, -1.0, 1.0))),
        )
