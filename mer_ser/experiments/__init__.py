"""The published protocols, one module each, on the shared engine.

:mod:`~mer_ser.experiments.coutinho2017`: time-continuous arousal/valence regression, intra-domain,
cross-domain and cross-domain with DAE transfer between music and speech.
"""

from mer_ser.experiments.coutinho2017 import (
    CONDITIONS,
    PROTOCOLS,
    ConditionResult,
    ContinuousTrack,
    Protocol,
    results_frame,
)
from mer_ser.experiments.jobs import JobCache, default_jobs_dir
from mer_ser.experiments.sequences import SequenceSet, concatenate, load_sets, sequence_set

__all__ = [
    "CONDITIONS",
    "PROTOCOLS",
    "ConditionResult",
    "ContinuousTrack",
    "JobCache",
    "Protocol",
    "SequenceSet",
    "concatenate",
    "default_jobs_dir",
    "load_sets",
    "results_frame",
    "sequence_set",
]
