"""One way in for every track's data: open corpora by spec, extract cached features, shape them.

A :class:`Data` holds what every notebook and command passes along (the data root and the
built-in corpus' profile, seed and shared-code level) and turns corpus specs into each track's
input::

    data = Data("data", profile="quick")
    music, speech, *pools = data.sequences(["builtin:music_continuous", "builtin:speech_continuous",
                                            "builtin:music_pool", "builtin:speech_pool"])
    speech_clips, music_clips = data.clips(["builtin:speech_static", "builtin:music_static"])

Each track opens itself from a notebook's ``corpora`` parameter through a :class:`Data`
(``ContinuousTrack.from_corpora``, ``QuadrantTrack.from_corpora``,
``LanguageTransfer.from_corpora``).

Every method opens each distinct spec once (a spec may repeat, e.g. the same folder as
labelled music and as a DAE pool) and extracts its features once through the feature cache.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from mer_ser.corpora import open_corpora
from mer_ser.corpora.model import Corpus
from mer_ser.experiments.quadrants import ClipSet, clip_set
from mer_ser.experiments.sequences import SequenceSet, sequence_set
from mer_ser.features import ComParE1Hz, default_cache_dir, extract
from mer_ser.features.mel import LogMel3D


def spec_key(spec) -> str:
    """A corpus spec as a string that is equal exactly when the specs are."""
    return json.dumps(spec, sort_keys=True) if isinstance(spec, dict) else str(spec)


@dataclass(frozen=True)
class Data:
    """Where a run's corpora live and how the built-in one is generated.

    Attributes:
        data_root: folder of the built-in corpora and of the feature and training-job caches.
        profile: built-in corpus profile (``quick``, ``default``, ``paper``).
        seed: built-in corpus seed.
        shared_code: built-in corpus' shared-code level (share of music's cues driven by its
            labels, 0..1).
        labels: built-in corpus' label model (``realistic``, ``easy``; see
            :class:`~mer_ser.corpora.synthetic.config.LabelModel`).
        n_jobs: feature-extraction processes (``None``: all cores).
        progress: progress bars while generating and extracting.
    """

    data_root: str | os.PathLike
    profile: str = "default"
    seed: int = 0
    shared_code: float = 0.75
    labels: str = "realistic"
    n_jobs: int | None = None
    progress: bool = True

    def corpora(self, specs, *, only_parts: bool = False) -> list[Corpus]:
        """One :class:`~mer_ser.corpora.model.Corpus` per spec, in order.

        Args:
            specs: ``"builtin:<part>"``, ``"<adapter>:/path"`` or ``{"kind", "root", ...}``
                dicts (see :func:`mer_ser.corpora.open_corpora`).
            only_parts: generate only the named built-in parts (the ``shared_code`` sweep).
        """
        unique = list({spec_key(s): s for s in specs}.values())
        opened = open_corpora(
            unique,
            data_root=self.data_root,
            profile=self.profile,
            seed=self.seed,
            shared_code=self.shared_code,
            labels=self.labels,
            progress=self.progress,
            only_parts=only_parts,
        )
        by_key = dict(zip(map(spec_key, unique), opened.values(), strict=True))
        return [by_key[spec_key(s)] for s in specs]

    def extract(self, corpus: Corpus, extractor) -> dict[str, np.ndarray]:
        """``{clip id: features}`` of one corpus, through the feature cache under the data root."""
        cache = default_cache_dir(self.data_root)
        return extract(
            corpus, extractor, cache_dir=cache, n_jobs=self.n_jobs, progress=self.progress
        )

    def features(self, specs, extractor, *, only_parts: bool = False):
        """``(corpus, {clip id: features})`` per spec, in order, extracted through the cache."""
        done: dict[str, tuple[Corpus, dict[str, np.ndarray]]] = {}
        out = []
        for spec, corpus in zip(specs, self.corpora(specs, only_parts=only_parts), strict=True):
            k = spec_key(spec)
            if k not in done:
                done[k] = (corpus, self.extract(corpus, extractor))
            out.append(done[k])
        return out

    def sequences(self, specs, *, only_parts: bool = False) -> list[SequenceSet]:
        """1 Hz ComParE sequences (Coutinho & Schuller 2017), one :class:`SequenceSet` per spec.

        Sets are labelled when the corpus has continuous labels; a repeated spec gives the same
        set object.
        """
        built: dict[str, SequenceSet] = {}
        feats = self.features(specs, ComParE1Hz(), only_parts=only_parts)
        for spec, (corpus, f) in zip(specs, feats, strict=True):
            if spec_key(spec) not in built:
                built[spec_key(spec)] = sequence_set(corpus, f)
        return [built[spec_key(s)] for s in specs]

    def clips(self, specs, extractor: LogMel3D | None = None) -> list[ClipSet]:
        """3-D log-mel tensors of quadrant-labelled clips (Rodningen 2022), one per spec."""
        extractor = extractor or LogMel3D()
        return [clip_set(c, f, extractor) for c, f in self.features(specs, extractor)]
