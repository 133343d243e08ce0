"""An experiment's labelled clips as arrays: labels, groups, splits and features, per side.

A :class:`Samples` is one side of an experiment (the training corpora, or the test corpora of a
cross-corpus run): every clip that has the target, in corpus order, with its features in the
shape its model takes:

=====================  =========================================================================
static functionals     ``x`` ``(N, d)``: openSMILE functionals of the whole clip, pooled
                       self-supervised embeddings (``ssl``), or the mean of the clip's 1 Hz
                       ComParE frames (``compare_lld_1hz``)
frames (continuous)    ``x`` ``(N, T, d)`` zero-padded with ``mask`` ``(N, T)``, ``gold``
                       ``(N, T, 2)``: the 1 Hz grid of Coutinho & Schuller 2017 (2 s windows,
                       1 s hop)
3-D log-mel (DCNN)     ``x`` ``(N, T, n_mels, 3)`` with ``mask`` ``(N, T)`` the frames on audio
                       (Rodningen 2022, section 4.3)
=====================  =========================================================================
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus
from mer_ser.errors import CorpusError
from mer_ser.experiments.data import Data
from mer_ser.experiments.quadrants import clip_matrix, valid_frames
from mer_ser.experiments.rodningen2022 import PROTOCOLS as QUADRANT_PROTOCOLS
from mer_ser.experiments.sequences import sequence_set
from mer_ser.features import ComParE1Hz, SmileFunctionals
from mer_ser.features.smile import SET_NAMES as SMILE_SETS
from mer_ser.features.ssl import SslEmbeddings
from mer_ser.recipes.config import ExperimentConfig

#: How official split names map onto partitions.
SPLIT_NAMES = {
    "train": "train", "training": "train",
    "dev": "val", "devel": "val", "development": "val", "val": "val", "validation": "val",
    "test": "test", "test1": "test", "test2": "test",
}  # fmt: skip


@dataclass(frozen=True)
class Samples:
    """One side of an experiment (see the module docstring for the shapes).

    Attributes:
        corpus: ``(N,)`` corpus name of each clip.
        clip_ids: ``(N,)`` clip ids.
        domain: ``(N,)`` ``speech`` or ``music``.
        groups: ``(N,)`` ``<corpus>/<group>`` (speaker, song; the clip where there is none).
        split: ``(N,)`` official partition: ``train``, ``val``, ``test`` (the usual names mapped:
            ``dev``, ``development``, ``Test1`` ...), another name as the corpus has it, or ``""``.
        y: class index ``(N,)`` int, target value ``(N,)`` float, or ``None`` (continuous).
        x: features.
        mask: valid frames ``(N, T)`` (frame features, log-mel) or ``None``.
        gold: ``(N, T, 2)`` arousal and valence per frame (continuous) or ``None``.
    """

    corpus: np.ndarray
    clip_ids: np.ndarray
    domain: np.ndarray
    groups: np.ndarray
    split: np.ndarray
    y: np.ndarray | None
    x: np.ndarray
    mask: np.ndarray | None = None
    gold: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.clip_ids)


def classes_of(cfg: ExperimentConfig, corpora: list[Corpus]) -> tuple[str, ...]:
    """The class names of a classification target (quadrants, or the categories present)."""
    if cfg.data.target == "quadrant":
        return QUADRANTS
    found = set()
    for c in corpora:
        if c.static is not None and "category" in c.static:
            found |= {v for v in c.static["category"].dropna().astype(str) if v}
    return tuple(sorted(found))


def load_side(
    data: Data, specs, cfg: ExperimentConfig, *, classes: tuple[str, ...] = (), side: str = "train"
) -> Samples:
    """The labelled clips of ``specs`` with their features, through the feature cache.

    Args:
        data: where the corpora and the cache are.
        specs: corpus specs (``data.train`` or ``data.test``).
        cfg: the experiment.
        classes: the class names (classification targets); clips of other classes are refused.
        side: ``"train"`` or ``"test"`` (for messages).

    Raises:
        CorpusError: a corpus lacks the target's labels, has no clip with them, or (test side)
            has classes the training side lacks.
    """
    parts = []
    for corpus in data.corpora(list(specs)):
        labelled = _labelled(corpus, cfg, side)
        parts.append(_features(data, labelled, cfg, classes))
    return _concatenate(parts)


def _labelled(corpus: Corpus, cfg: ExperimentConfig, side: str) -> Corpus:
    """The corpus restricted to the clips that carry the target."""
    target = cfg.data.target
    if cfg.continuous:
        if corpus.gold is None:
            raise CorpusError(
                f"{corpus.name} ({corpus.root}): data.target = 'arousal,valence' needs "
                f"time-continuous labels, and this {side} corpus has none"
            )
        ids = corpus.clips.index[corpus.clips.index.isin(set(corpus.gold["clip_id"]))]
    else:
        column = target
        if corpus.static is None or column not in corpus.static:
            raise CorpusError(
                f"{corpus.name} ({corpus.root}): data.target = {target!r} needs clip-level "
                f"'{column}' labels, and this {side} corpus has none"
            )
        v = corpus.static[column]
        ids = v.index[v.notna() & (v.astype(str) != "")]
    if len(ids) == 0:
        raise CorpusError(f"{corpus.name} ({corpus.root}): no clip has a {target!r} label")
    return corpus.subset(ids)


def _features(data: Data, corpus: Corpus, cfg: ExperimentConfig, classes) -> Samples:
    kind = cfg.features.set
    ids = list(corpus.clips.index)
    if cfg.continuous:
        ex = extractor(cfg)
        s = sequence_set(corpus, data.extract(corpus, ex))
        keep = np.asarray([ids.index(c) for c in s.clip_ids])
        return _samples(corpus, keep, None, s.x, s.m, s.y)
    if kind == "logmel3d":
        ex = QUADRANT_PROTOCOLS[data.profile].extractor()
        feats = data.extract(corpus, ex)
        x = np.stack([feats[c] for c in ids]).astype(np.float32)
        valid = np.stack([valid_frames(corpus.clips.at[c, "duration"], ex) for c in ids])
        keep, mask = np.arange(len(ids)), valid
    elif kind == "compare_lld_1hz":
        feats = data.extract(corpus, ComParE1Hz())
        keep = np.asarray([i for i, c in enumerate(ids) if len(feats[c])], dtype=int)
        x = np.stack([feats[ids[i]].astype(np.float64).mean(axis=0) for i in keep])
        mask = None
    else:  # openSMILE functionals or pooled embeddings of the whole clip
        feats = data.extract(corpus, extractor(cfg))
        x, keep, mask = clip_matrix(feats, ids, corpus.name), np.arange(len(ids)), None
    labels = corpus.static.loc[[ids[i] for i in keep], cfg.data.target]
    if cfg.classification:
        names = labels.astype(str).to_numpy()
        unknown = sorted(set(names) - set(classes))
        if unknown:
            raise CorpusError(
                f"{corpus.name} ({corpus.root}): {cfg.data.target} labels {unknown} are not among "
                f"the training classes {list(classes)}"
            )
        y = np.asarray([classes.index(v) for v in names], dtype=np.int32)
    else:
        y = labels.to_numpy(np.float64)
    return _samples(corpus, keep, y, x, mask, None)


def extractor(cfg: ExperimentConfig):
    """The extractor of a config's vector feature set (not ``logmel3d``).

    Per clip for a clip target; on the 1 Hz grid (2-s windows every second, the gold standard's
    frames) for the time-continuous one. ``compare_lld_1hz`` is on that grid either way (a clip
    target averages its frames).
    """
    f, win = cfg.features, (2.0 if cfg.continuous else None)
    if f.set == "compare_lld_1hz":
        return ComParE1Hz()
    if f.set == "ssl":
        return SslEmbeddings(
            ssl_model_spec(f.model), layer=f.layer, win=win, hop=1.0, pooling=f.pooling,
            trust_remote_code=f.trust_remote_code, device=f.device,
        )  # fmt: skip
    return SmileFunctionals(SMILE_SETS[f.set], win=win, hop=1.0)


def ssl_model_spec(model: str) -> str:
    """A local model folder as an absolute path (so bundles find it again); a hub id unchanged."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.is_dir() else model


def _samples(corpus: Corpus, keep, y, x, mask, gold) -> Samples:
    clips = corpus.clips.iloc[keep]
    dropped = len(corpus) - len(keep)
    if dropped:
        warnings.warn(
            f"{corpus.name}: {dropped} clip(s) too short for any feature frame are left out",
            UserWarning,
            stacklevel=3,
        )
    group = clips["group"].astype(str).to_numpy()
    group = np.where(group == "", clips.index.to_numpy(str), group)
    split = np.asarray([SPLIT_NAMES.get(s.lower(), s) for s in clips["split"].astype(str)])
    return Samples(
        corpus=np.full(len(clips), corpus.name, dtype=object),
        clip_ids=clips.index.to_numpy(object),
        domain=clips["domain"].to_numpy(object),
        groups=np.asarray([f"{corpus.name}/{g}" for g in group], dtype=object),
        split=split,
        y=y,
        x=x,
        mask=mask,
        gold=gold,
    )


def _concatenate(parts: list[Samples]) -> Samples:
    """One side from several corpora (frames padded to the longest)."""
    if len(parts) == 1:
        return parts[0]
    if parts[0].x.ndim == 2:
        x = np.concatenate([p.x for p in parts])
        mask = gold = None
    else:
        t = max(p.x.shape[1] for p in parts)

        def pad(a):
            width = [(0, 0), (0, t - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, width)

        x = np.concatenate([pad(p.x) for p in parts])
        mask = np.concatenate([pad(p.mask) for p in parts])
        gold = None if parts[0].gold is None else np.concatenate([pad(p.gold) for p in parts])
    y = None if parts[0].y is None else np.concatenate([p.y for p in parts])
    return Samples(
        *(np.concatenate([getattr(p, k) for p in parts])
          for k in ("corpus", "clip_ids", "domain", "groups", "split")),
        y=y, x=x, mask=mask, gold=gold,
    )  # fmt: skip
