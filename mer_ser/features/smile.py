"""openSMILE's standard functional sets: eGeMAPSv02 and ComParE_2016, per clip or per window.

The two sets every SER and MER paper compares against:

* **eGeMAPSv02**: the 88 functionals of the extended Geneva Minimalistic Acoustic Parameter Set
  (Eyben et al. 2016, "The Geneva Minimalistic Acoustic Parameter Set (GeMAPS) for Voice
  Research and Affective Computing", IEEE Trans. Affective Computing 7(2)).
* **ComParE_2016**: the 6,373 functionals of the Computational Paralinguistics Challenge set
  (Schuller et al. 2016, Interspeech; the set whose 65 LLDs Coutinho & Schuller 2017 pool at
  1 Hz, see :mod:`mer_ser.features.compare`).

Per clip (``win=None``) the set is computed once over the whole file: one row, the input of a
clip-level (static) classifier. Per window (``win``, ``hop`` in seconds) window ``k`` covers
``[k hop, k hop + win)``: the 1 Hz grid of the continuous track when ``win=2, hop=1`` (the window
convention of :mod:`mer_ser.corpora.labels`), so its rows align with the gold standard's frames.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from mer_ser.corpora.labels import n_frames

#: openSMILE feature set -> number of functionals.
SETS = {"eGeMAPSv02": 88, "ComParE_2016": 6373}
#: An experiment config's feature set name -> its openSMILE set.
SET_NAMES = {"egemaps_functionals": "eGeMAPSv02", "compare_functionals": "ComParE_2016"}


@functools.cache
def _smile(feature_set: str):
    import opensmile

    return opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


@functools.cache
def functional_names(feature_set: str) -> tuple[str, ...]:
    """The column names of an openSMILE functional set, in its order."""
    return tuple(_smile(feature_set).feature_names)


@dataclass(frozen=True)
class SmileFunctionals:
    """openSMILE functionals of one set, per clip or per sliding window.

    Call it on a mono signal: ``(1, d)`` per clip, ``(n_frames(duration, win, hop), d)`` per
    window (``d`` = :data:`SETS` of the set).

    Attributes:
        feature_set: ``"eGeMAPSv02"`` or ``"ComParE_2016"``.
        win: window length in seconds; ``None``: one row for the whole clip.
        hop: window step in seconds (with ``win``).
        sr: audio is resampled to this rate first.
        name: cache folder and progress label (set from the other fields).
        version: bump when the computation changes (invalidates caches).
    """

    feature_set: str = "eGeMAPSv02"
    win: float | None = None
    hop: float = 1.0
    sr: int = 16000
    name: str = ""
    version: int = 1

    def __post_init__(self):
        if self.feature_set not in SETS:
            raise ValueError(f"feature_set must be one of {sorted(SETS)}, got {self.feature_set!r}")
        if self.win is not None and not (self.win > 0 and self.hop > 0):
            raise ValueError(f"win and hop must be positive, got {self.win}, {self.hop}")
        if not self.name:
            level = "clip" if self.win is None else f"win{self.win:g}_hop{self.hop:g}"
            object.__setattr__(self, "name", f"{self.feature_set.lower()}_{level}")

    @property
    def short(self) -> str:
        """``"eGeMAPS"`` or ``"ComParE"``: the set's name in tables."""
        return self.feature_set.split("v0")[0].split("_")[0]

    @property
    def dim(self) -> int:
        """Number of functionals."""
        return SETS[self.feature_set]

    def columns(self) -> list[str]:
        """The functionals' names, as openSMILE gives them."""
        return list(functional_names(self.feature_set))

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Functionals of one clip: float32 ``(1, d)`` or ``(windows, d)``."""
        y = np.asarray(y, dtype=np.float32)
        smile = _smile(self.feature_set)
        if self.win is None:
            return smile.process_signal(y, sr).to_numpy(np.float32)
        count = n_frames(len(y) / sr, win=self.win, hop=self.hop)
        out = np.zeros((count, self.dim), dtype=np.float32)
        width, step = round(self.win * sr), round(self.hop * sr)
        for k in range(count):
            out[k] = smile.process_signal(y[k * step : k * step + width], sr).to_numpy()[0]
        return out
