"""One data model for every corpus, real or built-in.

A :class:`Corpus` is a clip table plus up to three kinds of labels:

========================  =====================================================================
``clips``                 one row per clip, indexed by ``clip_id``: ``domain`` (``speech`` or
                          ``music``), ``language`` (ISO 639 code, ``zxx`` for no linguistic
                          content), ``audio_path`` (relative to the corpus root), ``duration`` (s),
                          ``sr`` (Hz, as stored), ``group`` (speaker, song or composition: the
                          unit cross-validation keeps on one side), ``split`` (official split or
                          ``""``).
``gold``                  time-continuous gold standard, long format ``clip_id, time, arousal,
                          valence`` at the corpus' native rate ``meta["label_rate"]`` (Hz), values
                          in [-1, 1].
``ratings``               the individual raters' traces, ``clip_id, rater, time, arousal,
                          valence`` (RECOLA, DEAM, the built-in corpus).
``static``                clip-level labels indexed by ``clip_id``: ``arousal``, ``valence`` in
                          [-1, 1], ``arousal_raw``, ``valence_raw`` on the original scale
                          ``meta["scale"]``, ``category`` and ``quadrant`` (Q1..Q4 through the
                          table named in ``meta["quadrant_table"]``).
========================  =====================================================================

The real corpora (``docs/corpora.md``) fit this model: RECOLA (25 Hz gold standard from
the AVEC 2016 ARFFs plus six raters' CSV traces; speaker = group; train/dev splits), DEAM (2 Hz
dynamic averages from 15 s plus per-rater files; static 1-9 song-level labels; song = group),
MSP-Podcast (static 1-7 arousal/valence, a primary category mapped to quadrants; speaker = group;
Train/Development/Test1 splits), EMOPIA (quadrant labels only, Q1..Q4 directly; song = group so
clips of one song stay together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mer_ser.corpora import labels as _labels
from mer_ser.corpora.audio import load_audio
from mer_ser.errors import AlignmentError, AnnotationError, CorpusError

CLIP_COLUMNS = ("domain", "language", "audio_path", "duration", "sr", "group", "split")
GOLD_COLUMNS = ("clip_id", "time", "arousal", "valence")
RATING_COLUMNS = ("clip_id", "rater", "time", "arousal", "valence")
STATIC_COLUMNS = ("arousal", "valence", "arousal_raw", "valence_raw", "category", "quadrant")
DOMAINS = ("speech", "music")


@dataclass(frozen=True)
class Corpus:
    """A corpus in the project's data model (see the module docstring for every column).

    Attributes:
        name: short name, e.g. ``"speech_continuous"`` or ``"recola"``.
        root: folder that ``clips.audio_path`` is relative to.
        clips: clip table indexed by ``clip_id``.
        gold: continuous gold standard (long format) or ``None``.
        ratings: per-rater continuous traces (long format) or ``None``.
        static: clip-level labels indexed by ``clip_id`` or ``None``.
        meta: ``label_rate`` (Hz), ``scale`` (original static scale), ``quadrant_table``,
            ``description``, and for generated corpora the generator's resolved config.
    """

    name: str
    root: Path
    clips: pd.DataFrame
    gold: pd.DataFrame | None = None
    ratings: pd.DataFrame | None = None
    static: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        validate(self)

    def __len__(self) -> int:
        return len(self.clips)

    def __repr__(self) -> str:
        kinds = [k for k in ("gold", "ratings", "static") if getattr(self, k) is not None]
        hours = self.clips["duration"].sum() / 3600
        return f"Corpus({self.name!r}, {len(self)} clips, {hours:.2f} h, labels={kinds})"

    @property
    def kind(self) -> str:
        """``"continuous"``, ``"static"`` or ``"unlabelled"``."""
        if self.gold is not None:
            return "continuous"
        if self.static is not None:
            return "static"
        return "unlabelled"

    def subset(self, clip_ids, *, name: str | None = None) -> Corpus:
        """The corpus restricted to ``clip_ids`` (clips and every label table), in clip order."""
        keep = self.clips.index[self.clips.index.isin(list(clip_ids))]

        def rows(df):
            if df is None:
                return None
            if "clip_id" in df.columns:
                return df[df["clip_id"].isin(keep)].reset_index(drop=True)
            return df.loc[df.index.isin(keep)]

        return Corpus(
            name or self.name,
            self.root,
            self.clips.loc[keep],
            gold=rows(self.gold),
            ratings=rows(self.ratings),
            static=rows(self.static),
            meta=dict(self.meta),
        )

    def audio_file(self, clip_id: str) -> Path:
        """Absolute path of a clip's audio file."""
        return self.root / self.clips.at[clip_id, "audio_path"]

    def load_audio(self, clip_id: str, *, sr: int | None = 16000) -> tuple[np.ndarray, int]:
        """Load a clip as mono float32 at ``sr`` (see :func:`mer_ser.corpora.audio.load_audio`).

        Raises:
            AudioError: as ``load_audio``, and when the decoded length disagrees with the clip
                table's ``duration``.
        """
        return load_audio(
            self.audio_file(clip_id), sr=sr, duration=float(self.clips.at[clip_id, "duration"])
        )

    def gold_track(self, clip_id: str) -> pd.DataFrame:
        """The gold-standard trace of one clip: columns ``time, arousal, valence``."""
        if self.gold is None:
            raise CorpusError(f"{self.name}: corpus has no continuous labels")
        g = self.gold[self.gold["clip_id"] == clip_id]
        if g.empty:
            raise CorpusError(f"{self.name}: clip {clip_id!r} has no continuous labels")
        return g[["time", "arousal", "valence"]].reset_index(drop=True)

    def frame_labels(
        self, clip_id: str, count: int, *, win: float = 2.0, hop: float = 1.0, delay: int = 0
    ) -> np.ndarray:
        """Gold arousal/valence on the feature frames of one clip.

        Args:
            clip_id: the clip.
            count: number of feature frames (rows of its feature matrix).
            win: feature window in seconds.
            hop: feature hop in seconds.
            delay: annotation delay to compensate, in frames (:func:`~.labels.shift_labels`).

        Returns:
            float64 array of shape ``(count, 2)``: columns arousal, valence.
        """
        g = self.gold_track(clip_id)
        y = _labels.resample_labels(
            g["time"].to_numpy(),
            g[["arousal", "valence"]].to_numpy(),
            count,
            win=win,
            hop=hop,
            source=f"{self.name}:{clip_id}",
        )
        return _labels.shift_labels(y, delay)


def validate(corpus: Corpus) -> None:
    """Check a corpus against the data model; raise with the corpus and the problem named.

    Raises:
        CorpusError: missing columns, duplicate or unknown clip ids, bad domains.
        AnnotationError: NaN or out-of-range label values.
    """
    name = corpus.name
    clips = corpus.clips
    missing = [c for c in CLIP_COLUMNS if c not in clips.columns]
    if missing:
        raise CorpusError(f"{name}: clip table lacks columns {missing}")
    if clips.index.name != "clip_id":
        raise CorpusError(f"{name}: clip table must be indexed by 'clip_id'")
    if clips.index.has_duplicates:
        dup = clips.index[clips.index.duplicated()].tolist()[:5]
        raise CorpusError(f"{name}: duplicate clip ids {dup}")
    bad = sorted(set(clips["domain"]) - set(DOMAINS))
    if bad:
        raise CorpusError(f"{name}: unknown domains {bad} (expected {DOMAINS})")
    for attr, cols in (("gold", GOLD_COLUMNS), ("ratings", RATING_COLUMNS)):
        table = getattr(corpus, attr)
        if table is None:
            continue
        lack = [c for c in cols if c not in table.columns]
        if lack:
            raise CorpusError(f"{name}: {attr} table lacks columns {lack}")
        _check_values(table, name, attr)
        unknown = set(table["clip_id"]) - set(clips.index)
        if unknown:
            raise CorpusError(f"{name}: {attr} labels for unknown clips {sorted(unknown)[:5]}")
        _check_span(corpus, table, attr)
    if corpus.static is not None:
        lack = [c for c in ("arousal", "valence", "quadrant") if c not in corpus.static.columns]
        if lack:
            raise CorpusError(f"{name}: static table lacks columns {lack}")
        _check_values(corpus.static, name, "static", allow_nan=True)
        # A row needs arousal/valence, a quadrant, or at least a category (e.g. EmoDB neutral,
        # which the lexicon table maps to no quadrant).
        cols = [c for c in ("arousal", "valence", "quadrant", "category") if c in corpus.static]
        if corpus.static[cols].isna().all(axis=1).any():
            raise AnnotationError(
                f"{name}: static rows with neither arousal/valence, quadrant nor category"
            )
        unknown = set(corpus.static.index) - set(clips.index)
        if unknown:
            raise CorpusError(f"{name}: static labels for unknown clips {sorted(unknown)[:5]}")


def _check_span(corpus: Corpus, table: pd.DataFrame, what: str) -> None:
    """Continuous labels may end at most one label period after their clip's audio.

    A longer track is labels for other audio (a wrong file), or time stamps in another unit
    (milliseconds read as seconds).
    """
    if table.empty:
        return
    ends = table.groupby("clip_id", sort=True)["time"].max()
    durations = corpus.clips.loc[ends.index, "duration"].astype(float)
    rate = corpus.meta.get("label_rate") or 0.0
    period = 1.0 / float(rate) if rate else 0.0
    for cid in ends.index[(ends - durations).to_numpy() > period + 1e-6]:
        end, duration = float(ends[cid]), float(durations[cid])
        own = period or float(
            np.median(np.diff(np.sort(table.loc[table["clip_id"] == cid, "time"])))
        )
        if end - duration <= own + 1e-6:
            continue
        hint = (
            "; the time column looks like milliseconds, not seconds"
            if duration > 0 and 300 <= end / duration <= 3000
            else ""
        )
        raise AlignmentError(
            f"{corpus.name}: {what} labels of clip {cid!r} run to {end:g} s but its audio "
            f"({corpus.clips.at[cid, 'audio_path']}) lasts {duration:g} s, more than one label "
            f"period ({own:g} s) longer{hint}"
        )


def _check_values(table: pd.DataFrame, name: str, what: str, allow_nan: bool = False) -> None:
    # Static corpora with categorical labels only (EMOPIA, 4Q) have no arousal/valence values.
    for dim in ("arousal", "valence"):
        v = table[dim].to_numpy(dtype=np.float64)
        if not allow_nan and np.isnan(v).any():
            raise AnnotationError(f"{name}: {what} has NaN {dim} values")
        if (np.abs(v[~np.isnan(v)]) > 1 + 1e-9).any():
            raise AnnotationError(f"{name}: {what} {dim} outside [-1, 1]; normalise the scale")
