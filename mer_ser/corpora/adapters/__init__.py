"""Adapters: a user's local copy of a real corpus -> the project's :class:`~mer_ser.corpora.Corpus`.

Each adapter follows the corpus' published layout (``docs/corpora.md``), searches for its
anchor files under the given root, keeps the original scale next to the [-1, 1] values, names
the quadrant convention it used, gives official splits and group ids, and lists what did not
match (``corpus.meta["unmatched"]``). Call them through :func:`mer_ser.corpora.load`::

    load("recola", "/data/RECOLA_2016")
    load("deam", "/data/DEAM", subset="me14")

or from a notebook's ``corpora`` parameter as ``"recola:/data/RECOLA_2016"`` (options: a dict
``{"kind": "deam", "root": "/data/DEAM", "subset": "me14"}``).
"""

from __future__ import annotations

from mer_ser.corpora.adapters._common import DuplicateWarning, UnmatchedWarning, probe
from mer_ser.corpora.adapters.continuous import load_continuous_csv, load_pmemo, load_semaine
from mer_ser.corpora.adapters.deam import load_deam, load_emomusic
from mer_ser.corpora.adapters.instrumental import cut_instrumental_clips, load_instrumental
from mer_ser.corpora.adapters.pools import draw_hours, load_aishell, load_librispeech
from mer_ser.corpora.adapters.recola import load_recola
from mer_ser.corpora.adapters.static import (
    load_4q,
    load_emodb,
    load_emopia,
    load_msp_podcast,
    load_ravdess,
    load_soundtracks,
    load_static_csv,
)

#: adapter name -> loader ``(root, **options) -> Corpus``.
ADAPTERS = {
    # time-continuous
    "recola": load_recola,
    "semaine": load_semaine,
    "deam": load_deam,
    "emomusic": load_emomusic,
    "pmemo": load_pmemo,
    "continuous_csv": load_continuous_csv,
    # static and categorical
    "msp_podcast": load_msp_podcast,
    "emopia": load_emopia,
    "4q": load_4q,
    "soundtracks": load_soundtracks,
    "instrumental": load_instrumental,
    "emodb": load_emodb,
    "ravdess": load_ravdess,
    "static_csv": load_static_csv,
    # unlabelled pretraining pools
    "librispeech": load_librispeech,
    "aishell1": load_aishell,
}

__all__ = [
    "DuplicateWarning",
    "probe",
    "ADAPTERS",
    "UnmatchedWarning",
    "cut_instrumental_clips",
    "draw_hours",
    *sorted(f.__name__ for f in ADAPTERS.values()),
]
