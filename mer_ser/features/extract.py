"""Run an extractor over a corpus: cached, parallel over files, with a progress bar."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mer_ser._io import parallel_map
from mer_ser.corpora.audio import RepairLog, load_audio
from mer_ser.corpora.labels import frame_centres, resample_labels
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AudioError
from mer_ser.features.cache import FeatureCache
from mer_ser.features.cues import CueMeasures, cue_table


class NoFrames(UserWarning):
    """Clips too short for an extractor's window gave no feature frames."""


@dataclass
class ExtractionReport:
    """What one :func:`extract` call did."""

    extracted: int = 0  # files computed
    cached: int = 0  # files read from the cache
    seconds_of_audio: float = 0.0  # audio duration of the computed files
    wall_seconds: float = 0.0  # time spent computing


def _compute(args) -> tuple[float, int, RepairLog]:
    """Extract and cache one file; returns its seconds of audio, frames and repairs."""
    audio_file, duration, extractor, key, cache_root = args
    log = RepairLog()
    y, sr = load_audio(audio_file, sr=extractor.sr, duration=duration, log=log)
    try:
        features = extractor(y, sr)
    except Exception as e:  # a clip the extractor cannot handle: name it, keep the cause
        raise AudioError(
            f"{audio_file}: {extractor.name} failed on this clip ({len(y) / sr:.3f} s): "
            f"{type(e).__name__}: {e}"
        ) from e
    FeatureCache(cache_root).store(key, extractor, features)
    return len(y) / sr, len(features), log


def extract(
    corpus: Corpus,
    extractor,
    *,
    cache_dir: str | os.PathLike,
    n_jobs: int | None = None,
    progress: bool = True,
    report: ExtractionReport | None = None,
) -> dict[str, np.ndarray]:
    """Features of every clip of a corpus.

    Each file's decoded length is checked against the clip table. Repairs made on load
    (downmix, resampling, float peaks beyond [-1, 1]) are reported once per kind with the
    number of files (:class:`~mer_ser.corpora.audio.AudioRepair`), and clips too short to
    give any frame once with their count (:class:`NoFrames`).

    Args:
        corpus: the clips to process.
        extractor: e.g. :class:`~mer_ser.features.compare.ComParE1Hz`; a frozen dataclass with
            ``name``, ``sr`` and ``__call__(y, sr)``.
        cache_dir: root of the feature cache (shared across corpora and notebooks).
        n_jobs: worker processes for cache misses (default: all cores; at most the extractor's
            ``workers`` when it sets one, e.g. a model that threads itself).
        progress: show a progress bar over files.
        report: filled with counts and timings when given.

    Returns:
        clip id -> feature array, in the corpus' clip order.

    Raises:
        AudioError: a file is unreadable, truncated, shorter or longer than the clip table
            says, or the extractor fails on it (the file is named).
    """
    workers = getattr(extractor, "workers", None)  # an extractor that keeps its own threads
    if workers:
        n_jobs = min(n_jobs or workers, workers)
    cache = FeatureCache(cache_dir)
    keys = {cid: cache.key(corpus.audio_file(cid), extractor) for cid in corpus.clips.index}
    out: dict[str, np.ndarray] = {}
    todo = []
    for cid, key in keys.items():
        arr = cache.load(key, extractor)
        if arr is None:
            duration = float(corpus.clips.at[cid, "duration"])
            todo.append((corpus.audio_file(cid), duration, extractor, key, str(cache.root)))
        else:
            out[cid] = arr
    rep = report if report is not None else ExtractionReport()
    rep.cached += len(out)
    if todo:
        t0 = time.perf_counter()
        repairs = RepairLog()
        for dur, _, log in parallel_map(
            _compute,
            todo,
            n_jobs=n_jobs,
            unit="file",
            desc=f"{extractor.name} {corpus.name}",
            progress=progress,
        ):
            rep.seconds_of_audio += dur
            repairs.merge(log)
        repairs.warn(f"{corpus.name} ({corpus.root})")
        rep.extracted += len(todo)
        rep.wall_seconds += time.perf_counter() - t0
        for cid, key in keys.items():
            if cid not in out:
                arr = cache.load(key, extractor)
                if arr is None:
                    raise RuntimeError(f"{cache.path(key, extractor)}: feature cache write lost")
                out[cid] = arr
    empty = [cid for cid in corpus.clips.index if len(out[cid]) == 0]
    if empty:
        warnings.warn(
            f"{corpus.name}: {len(empty)} clip{'s' if len(empty) != 1 else ''} too short for "
            f"{extractor.name} gave no frames and are left out downstream (e.g. "
            f"{corpus.audio_file(empty[0])}, {corpus.clips.at[empty[0], 'duration']:g} s)",
            NoFrames,
            stacklevel=2,
        )
    return {cid: out[cid] for cid in corpus.clips.index}


def frame_table(
    features: dict[str, np.ndarray], columns: list[str], *, win: float = 2.0, hop: float = 1.0
) -> pd.DataFrame:
    """Stack per-clip frame features into one DataFrame indexed by ``(clip_id, time)``.

    ``time`` is the frame centre in seconds (the alignment convention of
    :mod:`mer_ser.corpora.labels`), like ``opensmile.Smile`` / ``audinterface.Feature`` output.
    """
    frames = []
    for cid, x in features.items():
        idx = pd.MultiIndex.from_arrays(
            [np.full(len(x), cid, dtype=object), frame_centres(len(x), win=win, hop=hop)],
            names=["clip_id", "time"],
        )
        frames.append(pd.DataFrame(x, index=idx, columns=columns))
    return pd.concat(frames) if frames else pd.DataFrame(columns=columns)


def default_cache_dir(data_root: str | os.PathLike) -> Path:
    """The feature cache beside a data root: ``<data_root>/cache/features``."""
    return Path(data_root) / "cache" / "features"


def cue_label_table(
    corpora: dict[str, Corpus],
    *,
    cache_dir: str | os.PathLike,
    win: float = 4.0,
    delay: float = 0.0,
    progress: bool = True,
) -> pd.DataFrame:
    """Shared-cue measures and gold labels per window for every continuously labelled clip.

    Args:
        corpora: corpora by name; those without continuous labels are skipped.
        cache_dir: feature cache root.
        win: window length in seconds (cues and labels averaged over the same window).
        delay: annotation delay to compensate in seconds: the labels of ``[t + delay, t + win +
            delay)`` are paired with the audio of ``[t, t + win)``.
        progress: progress bars.

    Returns:
        DataFrame with ``corpus, clip_id, domain, start, loudness_db, event_rate, brightness_hz,
        arousal, valence``.
    """
    ex = CueMeasures(win=win)
    parts = []
    for name, c in corpora.items():
        if c.gold is None:
            continue
        feats = extract(c, ex, cache_dir=cache_dir, progress=progress)
        for cid, m in feats.items():
            g = c.gold_track(cid)
            count = len(m)
            t = g["time"].to_numpy() - delay
            keep = t >= 0
            while count and (count * win + win / 2 - t[keep][-1]) > win:
                count -= 1  # windows whose delayed labels run past the annotation
            y = resample_labels(
                t[keep],
                g.loc[keep, ["arousal", "valence"]].to_numpy(),
                count,
                win=win,
                hop=win,
                source=f"{name}:{cid}",
            )
            tab = cue_table(m[:count], c.clips.at[cid, "domain"], win=win)
            tab.insert(0, "corpus", name)
            tab.insert(1, "clip_id", cid)
            tab.insert(2, "domain", c.clips.at[cid, "domain"])
            tab["arousal"], tab["valence"] = y[:, 0], y[:, 1]
            parts.append(tab)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def labelled_frames(
    corpora: dict[str, Corpus],
    features: dict[str, dict[str, np.ndarray]],
    *,
    win: float = 2.0,
    hop: float = 1.0,
    delay: int = 0,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Pool frame features of several corpora with their domain and gold labels.

    Args:
        corpora: corpora by name.
        features: per corpus, clip id -> ``(frames, d)`` features (from :func:`extract`).
        win: feature window in seconds.
        hop: feature hop in seconds.
        delay: annotation delay to compensate, in frames.

    Returns:
        ``(x, meta)``: features ``(N, d)`` and a DataFrame with ``corpus, clip_id, domain, time,
        arousal, valence`` per row (labels NaN for clips without continuous labels).
    """
    xs, metas = [], []
    for name, c in corpora.items():
        for cid, x in features[name].items():
            y = np.full((len(x), 2), np.nan)
            if c.gold is not None and len(x):
                y = c.frame_labels(cid, len(x), win=win, hop=hop, delay=delay)
            xs.append(x)
            metas.append(
                pd.DataFrame(
                    {
                        "corpus": name,
                        "clip_id": cid,
                        "domain": c.clips.at[cid, "domain"],
                        "time": frame_centres(len(x), win=win, hop=hop),
                        "arousal": y[:, 0],
                        "valence": y[:, 1],
                    }
                )
            )
    return np.concatenate(xs), pd.concat(metas, ignore_index=True)
