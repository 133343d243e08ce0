"""Label utilities: resampling to the feature rate, annotation delay, scales, quadrants, agreement.

Window alignment convention (used by every 1 Hz feature and label in the package):
    feature frame ``k`` summarises the audio window ``[k * hop, k * hop + win)`` seconds
    (Coutinho & Schuller 2017, section "Acoustic features": 2 s windows, 1 s step, so 1 Hz).
    Its label is the mean of the native-rate label samples whose time stamps fall in the
    ``hop``-long interval centred on the window centre, ``[c_k - hop/2, c_k + hop/2)`` with
    ``c_k = k * hop + win / 2``. Where a label track is sparser than the frame rate (no sample
    in the interval), the label is linearly interpolated at ``c_k`` between the samples around
    it. Labels are never extrapolated: a frame with no sample in its interval and its centre
    before the first or after the last time stamp (DEAM's unannotated first 15 s) has no label
    (NaN), and so do the frames a delay compensation shifts past the end of the annotation.
    A clip of ``d`` seconds has ``floor((d - win) / hop) + 1`` frames (0 when ``d < win``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mer_ser.errors import AlignmentError, AnnotationError

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


def n_frames(duration: float, *, win: float = 2.0, hop: float = 1.0) -> int:
    """Number of complete analysis windows in a clip (see the module's alignment convention)."""
    if duration < win:
        return 0
    return int(np.floor((duration - win) / hop + 1e-9)) + 1


def frame_centres(count: int, *, win: float = 2.0, hop: float = 1.0) -> np.ndarray:
    """Centre times in seconds of ``count`` frames, shape ``(count,)``."""
    return np.arange(count) * hop + win / 2.0


def resample_labels(
    times: np.ndarray,
    values: np.ndarray,
    count: int,
    *,
    win: float = 2.0,
    hop: float = 1.0,
    source: str = "labels",
) -> np.ndarray:
    """Resample a native-rate label track onto the feature frames.

    Args:
        times: sample times in seconds, shape ``(n,)``, increasing.
        values: label values, shape ``(n,)`` or ``(n, d)``.
        count: number of feature frames to produce (from :func:`n_frames`).
        win: feature window length in seconds.
        hop: feature hop in seconds (1 / frame rate).
        source: file or clip named in error messages.

    Returns:
        float64 array of shape ``(count,)`` or ``(count, d)``; NaN on frames outside the
        annotated span (see the module's alignment convention).

    Raises:
        AnnotationError: NaN values, non-increasing times, or fewer than one sample.
        AlignmentError: the labels end more than one hop before the last frame centre.
    """
    times = np.asarray(times, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    squeeze = vals.ndim == 1
    vals = vals[:, None] if squeeze else vals
    if times.ndim != 1 or len(times) != len(vals) or len(times) == 0:
        raise AnnotationError(f"{source}: need one time stamp per label row, got {times.shape}")
    if np.isnan(vals).any():
        bad = int(np.flatnonzero(np.isnan(vals).any(axis=1))[0])
        raise AnnotationError(f"{source}: NaN label at row {bad} (t={times[bad]:.3f} s)")
    if np.any(np.diff(times) <= 0):
        raise AnnotationError(f"{source}: label time stamps are not strictly increasing")
    centres = frame_centres(count, win=win, hop=hop)
    if count and centres[-1] - times[-1] > hop:
        raise AlignmentError(
            f"{source}: labels end at {times[-1]:.2f} s but features need labels up to "
            f"{centres[-1]:.2f} s ({count} frames); labels and audio have different lengths"
        )
    lo = np.searchsorted(times, centres - hop / 2.0, side="left")
    hi = np.searchsorted(times, centres + hop / 2.0, side="left")
    csum = np.vstack([np.zeros((1, vals.shape[1])), np.cumsum(vals, axis=0)])
    n = (hi - lo)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (csum[hi] - csum[lo]) / n
    empty = (hi - lo) == 0
    inside = (centres >= times[0]) & (centres <= times[-1])
    if empty.any():
        for j in range(vals.shape[1]):
            mean[empty, j] = np.where(
                inside[empty], np.interp(centres[empty], times, vals[:, j]), np.nan
            )
    return mean[:, 0] if squeeze else mean


def shift_labels(y: np.ndarray, delay_frames: int) -> np.ndarray:
    """Compensate the raters' reaction delay by pairing frame ``t`` with label ``t + delay``.

    Annotators respond to what they hear a few seconds late (2-5 s in the built-in corpus'
    simulated raters; about 2-4 s in RECOLA/AVEC practice), so the label at frame ``t + d``
    describes the audio at frame ``t``. The last ``d`` frames have no label after the shift
    (NaN, never a repeated one), so the sequence keeps its length.

    Args:
        y: labels, shape ``(T,)`` or ``(T, d)``.
        delay_frames: non-negative shift in frames (seconds at 1 Hz).

    Returns:
        float64 array of the same shape.
    """
    if delay_frames < 0:
        raise ValueError(f"delay_frames must be >= 0, got {delay_frames}")
    y = np.asarray(y, dtype=np.float64)
    if delay_frames == 0 or len(y) == 0:
        return y.copy()
    d = min(delay_frames, len(y))
    return np.concatenate([y[d:], np.full((d, *y.shape[1:]), np.nan)], axis=0)


def normalise_scale(x, lo: float, hi: float, *, source: str = "labels") -> np.ndarray:
    """Map values on an original scale ``[lo, hi]`` linearly onto ``[-1, 1]``.

    Args:
        x: values on the original scale (e.g. MSP-Podcast 1-7, DEAM static 1-9).
        lo: the scale's minimum.
        hi: the scale's maximum.
        source: named in error messages.

    Raises:
        AnnotationError: a value lies outside the scale, or is NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    if hi <= lo:
        raise ValueError(f"scale maximum {hi} must exceed minimum {lo}")
    if np.isnan(x).any():
        raise AnnotationError(f"{source}: NaN value on scale [{lo}, {hi}]")
    if (x < lo - 1e-9).any() or (x > hi + 1e-9).any():
        raise AnnotationError(
            f"{source}: values {x.min():g}..{x.max():g} outside the declared scale [{lo}, {hi}]"
        )
    return 2.0 * (x - lo) / (hi - lo) - 1.0


def quadrant_from_av(arousal, valence) -> np.ndarray:
    """Arousal-valence quadrant of each point (Russell's plane; 4Q / EMOPIA naming).

    Q1 = +V +A, Q2 = -V +A, Q3 = -V -A, Q4 = +V -A (Russell's circumplex, named as in 4Q and
    EMOPIA).
    Zero counts as positive on both axes.

    Returns:
        Array of strings ``"Q1".."Q4"`` with the broadcast shape of the inputs.
    """
    a = np.asarray(arousal, dtype=np.float64)
    v = np.asarray(valence, dtype=np.float64)
    q = np.where(a >= 0, np.where(v >= 0, 1, 2), np.where(v >= 0, 4, 3))
    return np.asarray(QUADRANTS, dtype=object)[q - 1]


@dataclass(frozen=True)
class QuadrantTable:
    """A documented category -> quadrant mapping (``None`` excludes the category).

    Attributes:
        name: the convention's name, recorded with every corpus that used it.
        mapping: lower-case category name -> ``"Q1".."Q4"`` or ``None``.
    """

    name: str
    mapping: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, categories, *, source: str = "labels") -> np.ndarray:
        """Map category names to quadrants; unknown categories raise, excluded ones give None."""
        out = []
        for c in np.asarray(categories, dtype=object).ravel():
            key = str(c).strip().lower()
            if key not in self.mapping:
                raise AnnotationError(
                    f"{source}: category {c!r} is not in quadrant table {self.name!r} "
                    f"(known: {sorted(self.mapping)})"
                )
            out.append(self.mapping[key])
        return np.asarray(out, dtype=object).reshape(np.shape(categories))


#: The default table: each category's quadrant from the signs of its valence and arousal in the
#: NRC-VAD lexicon (Mohammad 2018); neutral excluded, disgust Q2 as in the lexicon, surprise Q1.
QUADRANT_TABLE_LEXICON = QuadrantTable(
    "lexicon",
    {
        "happiness": "Q1",
        "happy": "Q1",
        "joy": "Q1",
        "excited": "Q1",
        "surprise": "Q1",
        "surprised": "Q1",
        "anger": "Q2",
        "angry": "Q2",
        "fear": "Q2",
        "fearful": "Q2",
        "anxiety": "Q2",
        "tense": "Q2",
        "disgust": "Q2",
        "sadness": "Q3",
        "sad": "Q3",
        "boredom": "Q3",
        "bored": "Q3",
        "depressed": "Q3",
        "calm": "Q4",
        "relaxed": "Q4",
        "tender": "Q4",
        "tenderness": "Q4",
        "contentment": "Q4",
        "neutral": None,
        "q1": "Q1",
        "q2": "Q2",
        "q3": "Q3",
        "q4": "Q4",
        "hvha": "Q1",
        "lvha": "Q2",
        "lvla": "Q3",
        "hvla": "Q4",
    },
)

#: Schuller et al. (ASRU 2009 / TAFFC 2010) binary arousal/valence mapping used in cross-corpus SER:
#: disgust and boredom low arousal, neutral positive valence
#: and low arousal (so Q4), surprise high arousal and positive valence.
QUADRANT_TABLE_SCHULLER = QuadrantTable(
    "schuller2009",
    {
        "anger": "Q2",
        "fear": "Q2",
        "joy": "Q1",
        "happiness": "Q1",
        "surprise": "Q1",
        "boredom": "Q3",
        "disgust": "Q3",
        "sadness": "Q3",
        "neutral": "Q4",
        "calm": "Q4",
    },
)


def cronbach_alpha(ratings: np.ndarray) -> float:
    """Cronbach's alpha of raters over time steps (raters as items).

    alpha = k / (k - 1) * (1 - sum_i var(r_i) / var(sum_i r_i)), with sample variances.

    Args:
        ratings: shape ``(time, raters)``.

    Returns:
        alpha; NaN with fewer than 2 raters or a constant sum.
    """
    r = np.asarray(ratings, dtype=np.float64)
    k = r.shape[1]
    if k < 2:
        return float("nan")
    total = r.sum(axis=1).var(ddof=1)
    if total == 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - r.var(axis=0, ddof=1).sum() / total))


def agreement_table(ratings: pd.DataFrame) -> pd.DataFrame:
    """Cronbach's alpha per clip and dimension from a long rater table.

    Args:
        ratings: columns ``clip_id, rater, time, arousal, valence``.

    Returns:
        DataFrame indexed by clip id with columns ``alpha_arousal``, ``alpha_valence``.
    """
    rows = {}
    for clip, g in ratings.groupby("clip_id", sort=True):
        row = {}
        for dim in ("arousal", "valence"):
            wide = g.pivot(index="time", columns="rater", values=dim).to_numpy()
            row[f"alpha_{dim}"] = cronbach_alpha(wide)
        rows[clip] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("clip_id")
