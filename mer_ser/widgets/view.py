"""What the clip scrubber shows, as plain arrays: one clip's audio, spectrogram and emotion curves.

A :class:`ClipView` is built once per (clip, models) choice and is all the widget needs: the
browser receives it in one message and draws every frame from it, and :func:`render_png` draws
the same view with matplotlib (headless export, the notebook's figure).

Curves are arousal / valence in [-1, 1] over time in seconds:

* ``gold``: the corpus' gold standard (``Corpus.gold``), at its native rate;
* ``rater``: each rater's trace when the corpus has them (``Corpus.ratings``);
* ``model``: a continuous regressor's prediction, one value per 1 Hz feature frame placed at the
  frame's centre (2 s windows, 1 s hop: :func:`~mer_ser.corpora.labels.frame_centres`).

Quadrant curves are a patch-wise classifier's Q1..Q4 probabilities over time (each patch at its
centre); their expected arousal and valence (``P(Q1) + P(Q2) - P(Q3) - P(Q4)`` and ``P(Q1) +
P(Q4) - P(Q2) - P(Q3)``) put them on the same arousal-valence plane.
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass, field

import numpy as np

from mer_ser._io import atomic_write
from mer_ser.corpora.labels import frame_centres

#: Colours of curve kinds and of models in order (matplotlib's tab10, colour-blind safe order).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
GOLD_COLOUR = "#111111"
RATER_COLOUR = "#9a9a9a"


@dataclass(frozen=True)
class Curve:
    """One arousal-valence trajectory.

    Attributes:
        name: legend label.
        kind: ``"gold"``, ``"rater"`` or ``"model"``.
        time: ``(T,)`` seconds, increasing.
        arousal: ``(T,)`` in [-1, 1].
        valence: ``(T,)`` in [-1, 1].
        colour: CSS colour.
        arousal_sd: ``(T,)`` spread of the arousal (across a model's trials), or ``None``.
        valence_sd: ``(T,)`` spread of the valence, or ``None``.
    """

    name: str
    kind: str
    time: np.ndarray
    arousal: np.ndarray
    valence: np.ndarray
    colour: str = GOLD_COLOUR
    arousal_sd: np.ndarray | None = None
    valence_sd: np.ndarray | None = None

    def __post_init__(self):
        t = np.asarray(self.time, float)
        for what in ("arousal", "valence", "arousal_sd", "valence_sd"):
            if getattr(self, what) is None:
                continue
            v = np.asarray(getattr(self, what), float)
            if v.shape != t.shape:
                raise ValueError(f"curve {self.name!r}: {what} has shape {v.shape}, time {t.shape}")
        if len(t) and np.any(np.diff(t) <= 0):
            raise ValueError(f"curve {self.name!r}: time must increase")

    def at(self, t: float) -> tuple[float, float]:
        """Arousal and valence at time ``t`` (linear interpolation, held at the ends)."""
        return (
            float(np.interp(t, self.time, self.arousal)),
            float(np.interp(t, self.time, self.valence)),
        )

    def trail(self, t: float, seconds: float) -> np.ndarray:
        """The last ``seconds`` of points up to ``t``: ``(n, 2)`` valence, arousal, oldest first."""
        sel = (self.time >= t - seconds) & (self.time <= t)
        pts = np.column_stack([self.valence[sel], self.arousal[sel]])
        return np.vstack([pts, [self.at(t)[::-1]]])


@dataclass(frozen=True)
class QuadrantCurve:
    """A patch-wise quadrant classifier's probabilities over time.

    Attributes:
        name: legend label.
        time: ``(P,)`` patch centres in seconds.
        prob: ``(P, 4)`` probabilities of Q1..Q4 (rows sum to 1).
        colour: CSS colour.
    """

    name: str
    time: np.ndarray
    prob: np.ndarray
    colour: str = PALETTE[0]

    def __post_init__(self):
        p = np.asarray(self.prob, float)
        if p.ndim != 2 or p.shape[1] != 4 or len(p) != len(self.time):
            raise ValueError(f"quadrant curve {self.name!r}: prob must be (len(time), 4)")
        if not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
            raise ValueError(f"quadrant curve {self.name!r}: probabilities must sum to 1")

    def expected_av(self) -> Curve:
        """The expected arousal and valence of the quadrant probabilities (module docstring)."""
        p = np.asarray(self.prob, float)
        a = p[:, 0] + p[:, 1] - p[:, 2] - p[:, 3]
        v = p[:, 0] + p[:, 3] - p[:, 1] - p[:, 2]
        return Curve(self.name, "model", np.asarray(self.time, float), a, v, self.colour)


@dataclass(frozen=True)
class ClipView:
    """One clip as the scrubber shows it.

    Attributes:
        corpus: corpus name.
        clip_id: the clip.
        audio: ``(n,)`` mono float32 in [-1, 1].
        sr: its sample rate.
        spectrogram: ``(bands, columns)`` uint8 image of the log-mel spectrogram (0 quiet, 255
            loud; low bands first), at most ``max_columns`` columns over the whole clip.
        curves: gold, rater and model trajectories.
        quadrants: quadrant-probability curves.
    """

    corpus: str
    clip_id: str
    audio: np.ndarray
    sr: int
    spectrogram: np.ndarray
    curves: tuple[Curve, ...] = ()
    quadrants: tuple[QuadrantCurve, ...] = field(default=())

    @property
    def duration(self) -> float:
        """Length of the clip in seconds."""
        return len(self.audio) / self.sr

    def av_curves(self) -> list[Curve]:
        """Every curve on the arousal-valence plane: the trajectories, then the quadrant models'."""
        return [*self.curves, *(q.expected_av() for q in self.quadrants)]

    def points(self, t: float) -> dict[str, tuple[float, float]]:
        """Each curve's ``(arousal, valence)`` at time ``t`` (the AV plane's current points)."""
        return {c.name: c.at(t) for c in self.av_curves()}

    def curves_frame(self):
        """Every curve shown, long format, times in seconds.

        Columns ``curve, kind, time, arousal, valence``, with ``arousal_sd``, ``valence_sd``
        where a model has a spread and ``Q1`` .. ``Q4`` for quadrant models.
        """
        import pandas as pd

        parts = []
        for c in self.curves:
            part = {"curve": c.name, "kind": c.kind, "time": c.time, "arousal": c.arousal,
                    "valence": c.valence}  # fmt: skip
            if c.arousal_sd is not None:
                part |= {"arousal_sd": c.arousal_sd, "valence_sd": c.valence_sd}
            parts.append(pd.DataFrame(part))
        for q in self.quadrants:
            av = q.expected_av()
            part = {"curve": q.name, "kind": "quadrant", "time": q.time, "arousal": av.arousal,
                    "valence": av.valence}  # fmt: skip
            part |= {f"Q{k + 1}": np.asarray(q.prob)[:, k] for k in range(4)}
            parts.append(pd.DataFrame(part))
        if not parts:
            return pd.DataFrame(columns=["curve", "kind", "time", "arousal", "valence"])
        return pd.concat(parts, ignore_index=True)

    def wav_bytes(self, sr: int = 16000) -> bytes:
        """The audio as a 16-bit PCM WAV file (resampled to at most ``sr``), for the browser."""
        import soundfile as sf

        y, rate = self.audio, self.sr
        if rate > sr:
            import librosa

            y, rate = librosa.resample(y, orig_sr=rate, target_sr=sr), sr
        buf = io.BytesIO()
        sf.write(buf, np.clip(y, -1, 1), rate, format="WAV", subtype="PCM_16")
        return buf.getvalue()


def spectrogram_ticks(sr: int, n_mels: int = 64) -> list[tuple[float, str]]:
    """Frequency labels of the spectrogram image: ``(height fraction from the bottom, label)``.

    The image's bands are mel bands (``librosa.mel_frequencies``, 0 Hz to Nyquist); the labels
    are round frequencies placed where they fall on that scale.
    """
    import librosa

    top = librosa.hz_to_mel(sr / 2)
    out = []
    for hz in (0, 500, 1000, 2000, 4000, 8000, 16000):
        if hz <= sr / 2:
            label = f"{hz // 1000}k" if hz >= 1000 else str(hz)
            out.append((float(librosa.hz_to_mel(hz) / top), label))
    return out


def spectrogram_image(y: np.ndarray, sr: int, *, n_mels: int = 64, max_columns: int = 1200):
    """A log-mel spectrogram as a ``(n_mels, columns)`` uint8 image for display.

    Frames are max-pooled in time to at most ``max_columns`` columns, so a 10-minute clip costs
    the browser no more than a short one; the dB range shown is the loudest 80 dB.
    """
    import librosa

    hop = 256
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=hop, n_mels=n_mels)
    db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
    n = db.shape[1]
    if n > max_columns:
        edges = np.linspace(0, n, max_columns + 1).astype(int)
        db = np.maximum.reduceat(db, edges[:-1], axis=1)
    return np.round((db + 80.0) / 80.0 * 255).clip(0, 255).astype(np.uint8)


def frame_curve(name: str, pred: np.ndarray, colour: str, *, sd=None, win: float = 2.0,
                hop: float = 1.0):  # fmt: skip
    """A regressor's per-frame ``(T, 2)`` arousal/valence prediction as a :class:`Curve`.

    ``sd``: ``(T, 2)`` spread across the model's trials (drawn as a band), or ``None``.
    """
    pred = np.asarray(pred, float)
    t = frame_centres(len(pred), win=win, hop=hop)
    spread = (
        (None, None) if sd is None else (np.asarray(sd, float)[:, 0], np.asarray(sd, float)[:, 1])
    )
    return Curve(name, "model", t, pred[:, 0], pred[:, 1], colour, *spread)


def clip_view(corpus, clip_id: str, *, predictions=None, quadrants=None, sr: int = 16000,
              max_columns: int = 1200) -> ClipView:  # fmt: skip
    """Build the :class:`ClipView` of one clip of a :class:`~mer_ser.corpora.Corpus`.

    Args:
        corpus: the corpus (built-in or adapted); gold and rater traces are taken when present.
        clip_id: the clip.
        predictions: model name -> per-frame ``(T, 2)`` arousal/valence predictions (1 Hz
            frames), a ``(predictions, spread)`` pair (the spread across trials, ``(T, 2)``),
            or a ready :class:`Curve`.
        quadrants: model name -> ``(time, prob)`` patch-wise quadrant probabilities, or a
            ready :class:`QuadrantCurve`.
        sr: audio rate to load at.
        max_columns: spectrogram width.

    Raises:
        KeyError: the clip is not in the corpus (the message names both).
    """
    base = clip_base(corpus, clip_id, sr=sr, max_columns=max_columns)
    return with_models(base, predictions, quadrants)


def clip_base(corpus, clip_id: str, *, sr: int = 16000, max_columns: int = 1200) -> ClipView:
    """A clip's audio, spectrogram, gold standard and raters, without models.

    The expensive part of :func:`clip_view`, which a scrubber keeps while models are toggled.
    """
    if clip_id not in corpus.clips.index:
        raise KeyError(f"{corpus.name}: no clip {clip_id!r}")
    y, rate = corpus.load_audio(clip_id, sr=sr)
    curves: list[Curve] = []
    if corpus.gold is not None and (corpus.gold["clip_id"] == clip_id).any():
        g = corpus.gold_track(clip_id)
        t, a, v = (g[k].to_numpy(float) for k in ("time", "arousal", "valence"))
        curves.append(Curve("gold standard", "gold", t, a, v))
    if corpus.ratings is not None:
        r = corpus.ratings[corpus.ratings["clip_id"] == clip_id]
        for rater, tr in r.groupby("rater", sort=True):
            tr = tr.sort_values("time")
            curves.append(Curve(f"rater {rater}", "rater", tr["time"].to_numpy(float),
                                tr["arousal"].to_numpy(float), tr["valence"].to_numpy(float),
                                RATER_COLOUR))  # fmt: skip
    spec = spectrogram_image(y, rate, max_columns=max_columns)
    return ClipView(corpus.name, clip_id, y, rate, spec, tuple(curves))


def with_models(base: ClipView, predictions=None, quadrants=None) -> ClipView:
    """``base`` with model curves added (arguments as :func:`clip_view`)."""
    colours = iter(PALETTE * 4)
    curves = list(base.curves)
    for name, p in (predictions or {}).items():
        if isinstance(p, Curve):
            curves.append(p)
        elif isinstance(p, tuple):
            curves.append(frame_curve(name, p[0], next(colours), sd=p[1]))
        else:
            curves.append(frame_curve(name, p, next(colours)))
    quads = []
    for name, q in (quadrants or {}).items():
        quads.append(q if isinstance(q, QuadrantCurve) else QuadrantCurve(name, *q, next(colours)))
    return dataclasses.replace(base, curves=tuple(curves), quadrants=tuple(quads))


def render_png(view: ClipView, position: float, path: str | os.PathLike | None = None, *,
               trail: float = 5.0, dpi: int = 110) -> bytes:  # fmt: skip
    """Draw the scrubber's view at ``position`` seconds with matplotlib; PNG bytes (and a file).

    Panels as in the browser: spectrogram, arousal, valence (and quadrant probabilities when a
    quadrant model is shown) with the cursor, and the arousal-valence plane with each curve's
    current point and its fading trail of the last ``trail`` seconds.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = 3 + (1 if view.quadrants else 0)
    fig = plt.figure(figsize=(12, 2.0 + 1.5 * rows))
    grid = fig.add_gridspec(rows, 2, width_ratios=(3.2, 1.3), wspace=0.18, hspace=0.35)
    dur = view.duration
    ax0 = fig.add_subplot(grid[0, 0])
    ax0.imshow(view.spectrogram, origin="lower", aspect="auto", cmap="magma",
               extent=(0, dur, 0, view.spectrogram.shape[0]))  # fmt: skip
    ticks = spectrogram_ticks(view.sr, view.spectrogram.shape[0])
    ax0.set_yticks([f * view.spectrogram.shape[0] for f, _ in ticks], [lab for _, lab in ticks])
    ax0.set_ylabel("Hz (mel scale)")
    ax0.set_title(f"{view.corpus} / {view.clip_id}   t = {position:.1f} s", loc="left")
    axes = [ax0]
    for i, dim in enumerate(("arousal", "valence")):
        ax = fig.add_subplot(grid[1 + i, 0], sharex=ax0)
        for c in view.av_curves():
            lw = 2.0 if c.kind == "gold" else (0.8 if c.kind == "rater" else 1.5)
            ax.plot(c.time, getattr(c, dim), color=c.colour, lw=lw,
                    label=c.name if i == 0 and c.kind != "rater" else None)  # fmt: skip
            sd = getattr(c, f"{dim}_sd")
            if sd is not None:
                m = np.asarray(getattr(c, dim))
                ax.fill_between(c.time, m - sd, m + sd, color=c.colour, alpha=0.2, lw=0)
        ax.set_ylim(-1.05, 1.05)
        ax.set_yticks([-1, 0, 1])
        ax.set_ylabel(dim)
        ax.axhline(0, color="#cccccc", lw=0.6)
        axes.append(ax)
    if view.quadrants:
        ax = fig.add_subplot(grid[3, 0], sharex=ax0)
        q = view.quadrants[0]
        ax.stackplot(q.time, np.asarray(q.prob).T, labels=("Q1", "Q2", "Q3", "Q4"),
                     colors=("#e45756", "#f58518", "#4c78a8", "#54a24b"), alpha=0.8)  # fmt: skip
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
        ax.set_ylabel(f"P(Q) {q.name}", fontsize=8)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
        axes.append(ax)
    for ax in axes:
        ax.axvline(position, color="#00a0ff", lw=1.5)
        ax.set_xlim(0, dur)
    axes[-1].set_xlabel("time (s)")
    if len(axes) > 1 and axes[1].get_legend_handles_labels()[0]:  # above the panels, not on them
        axes[1].legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, ncol=4,
                       frameon=False, borderaxespad=0.1)  # fmt: skip
    av = fig.add_subplot(grid[:, 1])
    av.axhline(0, color="#bbbbbb", lw=0.8)
    av.axvline(0, color="#bbbbbb", lw=0.8)
    for (x, y), label in zip(((0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)),
                             ("Q1", "Q2", "Q3", "Q4"), strict=True):  # fmt: skip
        av.text(x, y, label, color="#cccccc", ha="center", va="center", fontsize=14)
    for c in view.av_curves():
        if c.kind == "rater":
            continue
        pts = c.trail(position, trail)
        n = len(pts)
        for k in range(1, n):
            av.plot(pts[k - 1 : k + 1, 0], pts[k - 1 : k + 1, 1], color=c.colour,
                    alpha=0.15 + 0.85 * k / max(n - 1, 1), lw=1.5)  # fmt: skip
        av.scatter(*pts[-1], color=c.colour, s=60, zorder=3, edgecolor="white", label=c.name)
    av.set_xlim(-1, 1)
    av.set_ylim(-1, 1)
    av.set_aspect("equal")
    av.set_xlabel("valence")
    av.set_ylabel("arousal")
    av.yaxis.set_label_position("right")
    av.yaxis.tick_right()
    av.set_title("arousal-valence plane", fontsize=10)
    if av.get_legend_handles_labels()[0]:  # below the plane: the curves stay visible
        av.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=7, ncol=2,
                  frameon=False)  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        with atomic_write(path) as f:
            f.write(data)
    return data
