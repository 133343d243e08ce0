"""Padded sequence sets: a corpus' 1 Hz features and gold labels as fixed-shape arrays.

Everything the time-continuous protocol trains on is a :class:`SequenceSet`: ``N`` clips
left-aligned and zero-padded to the longest, with a mask of valid frames, so cross-validation
folds are index sets into one array and every model of a vmapped run has the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mer_ser._io import sha256_arrays
from mer_ser.corpora.model import Corpus
from mer_ser.errors import CorpusError


@dataclass(frozen=True, eq=False)
class SequenceSet:
    """The clips of one corpus as padded arrays.

    Attributes:
        name: corpus name (``"music_continuous"``, ``"recola"``, ...).
        domain: ``"speech"`` or ``"music"``.
        clip_ids: clip ids, in row order.
        x: features, shape ``(N, T, F)`` float32, 0 on padded frames.
        m: valid frames, shape ``(N, T)`` bool.
        y: gold arousal and valence at the feature frames, shape ``(N, T, 2)`` float32 (0 on
            padding), or ``None`` for unlabelled sets (the DAE pools).
        normalisation: ``"raw"`` or ``"domain"`` (see :meth:`standardised`).
    """

    name: str
    domain: str
    clip_ids: tuple[str, ...]
    x: np.ndarray
    m: np.ndarray
    y: np.ndarray | None
    normalisation: str = "raw"

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def lengths(self) -> np.ndarray:
        """Valid frames per clip, shape ``(N,)``."""
        return self.m.sum(axis=1)

    def fingerprint(self) -> str:
        """SHA-256 of the arrays, names and normalisation (a cache key for trained models)."""
        names = (self.name, self.domain, self.normalisation, "|".join(self.clip_ids))
        return sha256_arrays(names, (self.x, self.m, self.y))

    def feature_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of every feature over all valid frames (float64)."""
        v = self.x[self.m].astype(np.float64)
        return v.mean(axis=0), np.maximum(v.std(axis=0), 1e-6)

    def standardised(self, stats: tuple[np.ndarray, np.ndarray] | None = None) -> SequenceSet:
        """Per-domain input standardisation: features z-scored with this set's own statistics.

        The usual cross-corpus practice (e.g. Schuller et al. 2010, "Cross-corpus acoustic
        emotion recognition"): it uses the features of the set, never its labels, so it is
        legitimate for an unlabelled target domain. Labels are left as they are.

        Args:
            stats: ``(mean, std)`` to use instead of this set's own (e.g. a pool's).
        """
        mu, sd = self.feature_stats() if stats is None else stats
        x = np.where(self.m[..., None], (self.x - mu) / sd, 0.0).astype(np.float32)
        return replace(self, x=x, normalisation="domain")


def pad_sequences(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Left-align and zero-pad ``(T_i, F)`` arrays to ``(N, max T_i, F)`` with a ``(N, T)`` mask."""
    n, t = len(arrays), max((len(a) for a in arrays), default=0)
    f = arrays[0].shape[1] if arrays else 0
    x = np.zeros((n, t, f), np.float32)
    m = np.zeros((n, t), bool)
    for i, a in enumerate(arrays):
        x[i, : len(a)] = a
        m[i, : len(a)] = True
    return x, m


def sequence_set(
    corpus: Corpus,
    features: dict[str, np.ndarray],
    *,
    labelled: bool | None = None,
    delay: int = 0,
    win: float = 2.0,
    hop: float = 1.0,
) -> SequenceSet:
    """A corpus' per-clip 1 Hz features (and gold labels) as a :class:`SequenceSet`.

    Args:
        corpus: the corpus.
        features: clip id -> ``(frames, F)`` features (from :func:`mer_ser.features.extract`).
        labelled: attach the gold arousal/valence traces (default: when the corpus has them).
        delay: annotation delay to compensate, in frames (0 in Coutinho & Schuller 2017).
        win: feature window in seconds (labels are averaged over the same frames).
        hop: feature hop in seconds.

    A labelled clip's sequence is its annotated span: frames without a label (before the first
    gold time stamp, as in DEAM's and PMEmo's unannotated first 15 s, or shifted past the end by
    ``delay``) are left out, never filled in.

    Raises:
        CorpusError: no clip has features, or a labelled set lacks a clip's gold trace.
    """
    ids = [c for c in corpus.clips.index if c in features and len(features[c])]
    if not ids:
        raise CorpusError(f"{corpus.name}: no clip has features")
    labelled = corpus.gold is not None if labelled is None else labelled
    if labelled and corpus.gold is None:
        raise CorpusError(f"{corpus.name}: corpus has no continuous labels")
    span = {c: slice(0, len(features[c])) for c in ids}
    y = None
    if labelled:
        ys = []
        for c in ids:
            lab = corpus.frame_labels(c, len(features[c]), win=win, hop=hop, delay=delay)
            known = np.flatnonzero(~np.isnan(lab).any(axis=1))
            span[c] = slice(known[0], known[-1] + 1) if len(known) else slice(0, 0)
            ys.append(lab[span[c]].astype(np.float32))
        if any(len(v) == 0 for v in ys):
            short = [c for c, v in zip(ids, ys, strict=True) if len(v) == 0]
            raise CorpusError(f"{corpus.name}: clips {short[:5]} have no frame inside their labels")
        y, _ = pad_sequences(ys)
    x, m = pad_sequences([np.asarray(features[c], np.float32)[span[c]] for c in ids])
    domains = set(corpus.clips.loc[ids, "domain"])
    if len(domains) != 1:
        raise CorpusError(f"{corpus.name}: mixes domains {sorted(domains)}; split it first")
    return SequenceSet(corpus.name, domains.pop(), tuple(ids), x, m, y)


def concatenate(sets: list[SequenceSet], name: str) -> SequenceSet:
    """Several unlabelled sets as one (the DAE's music + speech pool); labels dropped."""
    arrays = [s.x[i, : s.lengths[i]] for s in sets for i in range(len(s))]
    x, m = pad_sequences(arrays)
    ids = tuple(f"{s.name}/{c}" for s in sets for c in s.clip_ids)
    domain = "+".join(sorted({s.domain for s in sets}))
    norms = {s.normalisation for s in sets}
    return SequenceSet(name, domain, ids, x, m, None, norms.pop() if len(norms) == 1 else "mixed")


def frames_matrix(features: dict[str, np.ndarray], s: SequenceSet) -> np.ndarray:
    """Other frame features of a set's clips, padded as the set: ``(N, T, d)`` float32.

    Args:
        features: clip id -> ``(T_i, d)`` on the set's frame grid (at least as many frames as
            the clip has valid frames; extra frames are dropped).
        s: the set whose clips, order and padding to follow.

    Raises:
        CorpusError: a clip has no features, or fewer frames than its labelled ones.
    """
    out = None
    for i, (cid, n) in enumerate(zip(s.clip_ids, s.lengths, strict=True)):
        if cid not in features:
            raise CorpusError(f"{s.name}: clip {cid!r} has no features")
        f = np.asarray(features[cid], dtype=np.float32)
        if len(f) < n:
            raise CorpusError(
                f"{s.name}: clip {cid!r} has {len(f)} feature frames but {n} labelled ones; "
                "features must be on the same 1 Hz grid (2 s windows, 1 s hop)"
            )
        if out is None:
            out = np.zeros((len(s), s.x.shape[1], f.shape[-1]), dtype=np.float32)
        out[i, :n] = f[:n]
    return out
