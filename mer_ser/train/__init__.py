"""Training: losses and metrics, the vmapped training engine, checkpoints.

Public face: :class:`TrainConfig`, :class:`Fold`, :func:`make_fit`, :func:`folds_from_masks`,
:func:`make_classifier_fit` (losses and metrics: :mod:`mer_ser.losses`; folds:
:mod:`mer_ser.experiments.splits`).
"""

from mer_ser.train.engine import (
    FitResult,
    Fold,
    Standardiser,
    TrainConfig,
    folds_from_masks,
    make_autoencoder_fit,
    make_classifier_fit,
    make_cpc_fit,
    make_fit,
)

__all__ = [
    "FitResult",
    "Fold",
    "Standardiser",
    "TrainConfig",
    "folds_from_masks",
    "losses",
    "make_autoencoder_fit",
    "make_classifier_fit",
    "make_cpc_fit",
    "make_fit",
]
