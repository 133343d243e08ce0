"""Clip-level quadrant data for the classification track (Rodningen 2022; Gomez-Canon 2020/2021).

A :class:`ClipSet` holds one fixed-size 3-D log-mel tensor per clip (Rodningen 2022, section 4.3:
every clip centre-padded or centre-cropped to 15 s, so ``(1001, 40, 3)`` at 16 kHz) with its
quadrant, group (song, speaker) and official split, and which frames carry audio (the padding is
excluded from the channel statistics, as the thesis fits them on unpadded clips).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mer_ser._io import sha256_arrays
from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus
from mer_ser.errors import CorpusError
from mer_ser.features.mel import LogMel3D


@dataclass(frozen=True)
class ClipSet:
    """Quadrant-labelled clips as one tensor.

    Attributes:
        name: corpus name.
        domain: ``"speech"`` or ``"music"``.
        clip_ids: ``N`` clip ids.
        x: features ``(N, T, n_mels, 3)`` float32.
        valid: ``(N, T)`` frames whose centre lies inside the clip's audio (not padding).
        quadrant: ``(N,)`` int, 0..3 for Q1..Q4.
        groups: ``(N,)`` group of each clip (song, speaker): never on both sides of a split.
        split: ``(N,)`` the corpus' own split (``""`` where it has none).
        standardised: whether :meth:`standardise` was applied.
    """

    name: str
    domain: str
    clip_ids: tuple[str, ...]
    x: np.ndarray
    valid: np.ndarray
    quadrant: np.ndarray
    groups: np.ndarray
    split: np.ndarray
    standardised: bool = False

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def arousal(self) -> np.ndarray:
        """Binary high-arousal target (Q1, Q2) of the multi-task heads."""
        return np.isin(self.quadrant, (0, 1)).astype(np.int32)

    @property
    def valence(self) -> np.ndarray:
        """Binary positive-valence target (Q1, Q4)."""
        return np.isin(self.quadrant, (0, 3)).astype(np.int32)

    def channel_stats(self, rows=None) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and standard deviation over the valid frames of ``rows``.

        ``rows``: indices of the clips to use (default all), e.g. the training partition.
        """
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        v = self.valid[rows]
        sel = self.x[rows][v].astype(np.float64)  # (frames, n_mels, C)
        if sel.size == 0:
            raise CorpusError(f"{self.name}: no valid frame to compute statistics from")
        flat = sel.reshape(-1, sel.shape[-1])
        return flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-8)

    def fingerprint(self) -> str:
        """SHA-256 of the features, labels and names (a cache key for trained models)."""
        names = (self.name, self.domain, "|".join(self.clip_ids), str(self.standardised))
        return sha256_arrays(names, (self.x, self.valid, self.quadrant))

    def standardise(self, mean: np.ndarray, std: np.ndarray) -> ClipSet:
        """The set standardised per channel with given statistics (e.g. of a training fold)."""
        x = ((self.x - mean) / std).astype(np.float32)
        return dataclasses.replace(self, x=x, standardised=True)

    def subset(self, rows) -> ClipSet:
        """The clips at ``rows``."""
        rows = np.asarray(rows)
        return dataclasses.replace(
            self,
            clip_ids=tuple(np.asarray(self.clip_ids, dtype=object)[rows]),
            x=self.x[rows],
            valid=self.valid[rows],
            quadrant=self.quadrant[rows],
            groups=self.groups[rows],
            split=self.split[rows],
        )


def valid_frames(duration: float, extractor: LogMel3D) -> np.ndarray:
    """Frames of a centre-padded (or cropped) clip whose centre falls on real audio."""
    n = round(extractor.pad_seconds * extractor.sr) if extractor.pad_seconds else None
    length = round(duration * extractor.sr)
    total = n if n is not None else length
    frames = 1 + total // extractor.hop_length
    centre = np.arange(frames) * extractor.hop_length
    if n is None or length >= n:
        return np.ones(frames, dtype=bool)
    left = (n - length) // 2
    return (centre >= left) & (centre < left + length)


def clip_set(corpus: Corpus, features: dict[str, np.ndarray], extractor: LogMel3D) -> ClipSet:
    """A static corpus' quadrant-labelled clips (those with a quadrant and features).

    Args:
        corpus: a corpus with a ``static`` table holding ``quadrant``.
        features: clip id -> ``(T, n_mels, 3)`` from ``extractor`` (all the same ``T``).
        extractor: the :class:`~mer_ser.features.LogMel3D` that made them (for the padding).

    Raises:
        CorpusError: no static quadrants, mixed domains, or feature tensors of unequal shape.
    """
    if corpus.static is None or "quadrant" not in corpus.static:
        raise CorpusError(f"{corpus.name}: corpus has no quadrant labels")
    q = corpus.static["quadrant"]
    ids = [
        c for c in corpus.clips.index if c in q.index and isinstance(q[c], str) and c in features
    ]
    if not ids:
        raise CorpusError(f"{corpus.name}: no clip has both a quadrant and features")
    shapes = {features[c].shape for c in ids}
    if len(shapes) != 1:
        raise CorpusError(f"{corpus.name}: feature tensors differ in shape {sorted(shapes)[:3]}")
    domains = set(corpus.clips.loc[ids, "domain"])
    if len(domains) != 1:
        raise CorpusError(f"{corpus.name}: mixes domains {sorted(domains)}; split it first")
    x = np.stack([features[c] for c in ids]).astype(np.float32)
    valid = np.stack([valid_frames(corpus.clips.at[c, "duration"], extractor) for c in ids])
    if valid.shape[1] != x.shape[1]:
        raise CorpusError(
            f"{corpus.name}: {x.shape[1]} feature frames but {valid.shape[1]} expected from "
            "the extractor's padding"
        )
    return ClipSet(
        corpus.name,
        domains.pop(),
        tuple(ids),
        x,
        valid,
        np.asarray([QUADRANTS.index(q[c]) for c in ids], dtype=np.int32),
        corpus.clips.loc[ids, "group"].astype(str).to_numpy(),
        corpus.clips.loc[ids, "split"].astype(str).to_numpy(),
    )


def clip_matrix(features: dict[str, np.ndarray], clip_ids, name: str) -> np.ndarray:
    """One feature row per clip, in the order of ``clip_ids``: ``(N, d)`` float64.

    Args:
        features: clip id -> ``(1, d)`` (per-clip functionals) or ``(d,)``.
        clip_ids: the clips, in order.
        name: their corpus (for messages).

    Raises:
        CorpusError: a clip has no features, or more than one row.
    """
    missing = [c for c in clip_ids if c not in features]
    if missing:
        raise CorpusError(f"{name}: {len(missing)} clip(s) have no features (e.g. {missing[0]!r})")
    rows = [np.asarray(features[c], dtype=np.float64).reshape(-1, np.shape(features[c])[-1])
            for c in clip_ids]  # fmt: skip
    many = [c for c, r in zip(clip_ids, rows, strict=True) if len(r) != 1]
    if many:
        raise CorpusError(
            f"{name}: clip {many[0]!r} has {len(features[many[0]])} feature rows; per-clip "
            "features have one (use functionals over the whole clip)"
        )
    return np.vstack(rows)
