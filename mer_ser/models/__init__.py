"""Flax NNX models of the three papers.

Public face: :class:`LSTM`, :class:`LSTMDAE`, :class:`ContinuousRegressor`.
"""

from mer_ser.models.lstm import LSTM, LSTMDAE, ContinuousRegressor, Dense

__all__ = ["LSTM", "LSTMDAE", "ContinuousRegressor", "Dense"]
