"""The published protocols, one module each, on the shared engine.

Each paper's protocol table is its module's ``PROTOCOLS`` (profiles ``quick``, ``default``,
``paper``):

* :mod:`~mer_ser.experiments.coutinho2017`: time-continuous arousal/valence regression,
  intra-domain, cross-domain and cross-domain with DAE transfer between music and speech;
* :mod:`~mer_ser.experiments.rodningen2022`: SER->MER against MER->MER quadrant classification;
* :mod:`~mer_ser.experiments.gomez_canon`: speech-pretrained encoders (SCAE, CPC, LSTM-DAE)
  transferred to music quadrants, by language.

Shared parts: :class:`~mer_ser.experiments.data.Data` (the one way in: corpus specs to each
track's input), :mod:`~mer_ser.experiments.splits` (every fold and partition),
:mod:`~mer_ser.experiments.jobs` (cached, vmapped training jobs),
:mod:`~mer_ser.experiments.dae` (the LSTM-DAE pretraining on unlabelled pools),
:mod:`~mer_ser.experiments.continuous_results` (the continuous track's per-clip results),
:mod:`~mer_ser.experiments.sequences` and :mod:`~mer_ser.experiments.quadrants` (padded sets).
"""

from mer_ser.experiments.continuous_results import ConditionResult, curves_frame, results_frame
from mer_ser.experiments.coutinho2017 import CONDITIONS, ContinuousTrack
from mer_ser.experiments.data import Data
from mer_ser.experiments.jobs import JobCache, default_jobs_dir
from mer_ser.experiments.sequences import SequenceSet, concatenate, sequence_set

__all__ = [
    "CONDITIONS",
    "ConditionResult",
    "ContinuousTrack",
    "Data",
    "JobCache",
    "SequenceSet",
    "concatenate",
    "curves_frame",
    "default_jobs_dir",
    "results_frame",
    "sequence_set",
]
