"""The published protocols, one module each, on the shared engine.

Each paper's protocol table is its module's ``PROTOCOLS`` (profiles ``quick``, ``default``,
``paper``):

* :mod:`~mer_ser.experiments.coutinho2017`: time-continuous arousal/valence regression,
  intra-domain, cross-domain and cross-domain with DAE transfer between music and speech;
* :mod:`~mer_ser.experiments.rodningen2022`: SER->MER against MER->MER quadrant classification;
* :mod:`~mer_ser.experiments.gomez_canon`: speech-pretrained encoders (SCAE, CPC, LSTM-DAE)
  transferred to music quadrants, by language.

Shared parts: :mod:`~mer_ser.experiments.splits` (every fold and partition),
:mod:`~mer_ser.experiments.jobs` (cached, vmapped training jobs),
:mod:`~mer_ser.experiments.sequences` and :mod:`~mer_ser.experiments.quadrants` (padded sets).
"""

from mer_ser.experiments.coutinho2017 import (
    CONDITIONS,
    ConditionResult,
    ContinuousTrack,
    results_frame,
)
from mer_ser.experiments.jobs import JobCache, default_jobs_dir
from mer_ser.experiments.sequences import SequenceSet, concatenate, load_sets, sequence_set

__all__ = [
    "CONDITIONS",
    "ConditionResult",
    "ContinuousTrack",
    "JobCache",
    "SequenceSet",
    "concatenate",
    "default_jobs_dir",
    "load_sets",
    "results_frame",
    "sequence_set",
]
