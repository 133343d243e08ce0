"""Flax NNX models of the three papers.

Coutinho & Schuller 2017: :class:`LSTM`, :class:`LSTMDAE`, :class:`ContinuousRegressor`.
Gomez-Canon et al. 2020/2021: :class:`SCAE`, :class:`SCAEClassifier`, :class:`CPC`,
:class:`MultiTaskHead`, :class:`LatentClassifier`, :class:`DAEClassifier`,
:class:`PackedDAEClassifier`.
Rodningen 2022: :class:`DCNN`, :class:`ADCRNN`.
"""

from mer_ser.models.autoencoders import (
    CPC,
    SCAE,
    LatentClassifier,
    MultiTaskHead,
    SCAEClassifier,
)
from mer_ser.models.conv import ADCRNN, DCNN, attention_pool, count_params
from mer_ser.models.lstm import (
    LSTM,
    LSTMDAE,
    ContinuousRegressor,
    DAEClassifier,
    Dense,
    PackedDAEClassifier,
)

__all__ = [
    "ADCRNN",
    "CPC",
    "DCNN",
    "LSTM",
    "LSTMDAE",
    "SCAE",
    "ContinuousRegressor",
    "DAEClassifier",
    "Dense",
    "LatentClassifier",
    "MultiTaskHead",
    "PackedDAEClassifier",
    "SCAEClassifier",
    "attention_pool",
    "count_params",
]
