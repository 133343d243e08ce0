"""Prediction: a bundle of any kind applied to files, folders or signals.

Every kind tables its outputs audformat-style: a continuous model one row per 1-s frame
(``level="frame"``), a quadrant model one row per file (``"file"``) and one per window
(``"window"``), an encoder its reconstruction error per frame (``"frame"``) and each trial's code
(``"code"``), a linear model one row per file (a clip target) or per 1-s frame (time-continuous).
Files are read piece by piece (:mod:`mer_ser.bundles.audio`), any rate and channel count
(downmixed and resampled, reported once), a bad file reported and skipped when asked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mer_ser.bundles import continuous, encoder, linear, quadrant
from mer_ser.bundles.audio import audio_files, file_reader
from mer_ser.bundles.store import Bundle, BundleError, resolve
from mer_ser.corpora.audio import RepairLog
from mer_ser.errors import AudioError

#: The module that predicts each kind of bundle.
KIND_MODULES = {
    "continuous": continuous,
    "quadrant": quadrant,
    "encoder": encoder,
    "linear": linear,
}


def _kind(bundle: Bundle):
    return KIND_MODULES[bundle.kind]


def levels(bundle: Bundle) -> tuple[str, ...]:
    """The tables a bundle's predictions come in, the default first."""
    kind = _kind(bundle)
    return kind.levels(bundle) if hasattr(kind, "levels") else kind.LEVELS


def describe(bundle: Bundle) -> str:
    """One line on a bundle: its model, provenance and test scores."""
    return _kind(bundle).describe(bundle)


def sample_rate(bundle: Bundle) -> int:
    """The rate a bundle's features are computed at (inputs are resampled to it)."""
    if bundle.kind == "quadrant":
        return quadrant.sample_rate(bundle)
    return _kind(bundle).extractor(bundle).sr


def _signal_reader(y: np.ndarray):
    y = np.asarray(y, dtype=np.float32)
    data = y[:, None] if y.ndim == 1 else y
    return (lambda a, b: data[a:b]), len(data)


def predict_tables(
    model,
    audio,
    *,
    sr: int | None = None,
    data_root=None,
    progress: bool = False,
    errors: list | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of :func:`predict` at once: ``{level: table}`` (see :func:`levels`)."""
    bundle = resolve(model, data_root)
    kind = _kind(bundle)
    if isinstance(audio, np.ndarray):
        if sr is None:
            raise BundleError("an array needs its sample rate: predict(model, y, sr=...)")
        read, n = _signal_reader(audio)
        return kind.predict_read(bundle, read, n, int(sr), "signal")
    parts: dict[str, list] = {lv: [] for lv in levels(bundle)}
    log, rate = RepairLog(), sample_rate(bundle)
    for path in tqdm(audio_files(audio), desc="predict", unit="file", disable=not progress):
        try:
            read, n, file_sr, channels = file_reader(path)
            got = kind.predict_read(bundle, read, n, file_sr, str(path))
        except (AudioError, BundleError) as e:
            if errors is None:
                raise
            errors.append((str(path), str(e)))
            continue
        for lv, table in got.items():
            parts[lv].append(table)
        if channels > 1:
            log.add(("downmix", channels), path)
        if file_sr != rate:
            log.add(("resample", file_sr, rate), path)
    log.warn("predict")
    if not parts[levels(bundle)[0]]:
        return kind.empty(bundle)
    return {lv: pd.concat(tables) for lv, tables in parts.items()}


def predict(
    model,
    audio,
    *,
    sr: int | None = None,
    data_root=None,
    level: str | None = None,
    progress: bool = False,
    errors: list | None = None,
) -> pd.DataFrame:
    """Apply a model bundle to audio.

    Args:
        model: a :class:`~mer_ser.bundles.Bundle`, a bundle folder, or a bundle name under
            ``<data_root>/models``.
        audio: a path, a list of paths, a folder (searched recursively), or a signal (1-D, or
            ``(samples, channels)``) with its rate ``sr``. Any rate and channel count: channels
            are averaged and the signal resampled to the model's rate.
        sr: the signal's sample rate (arrays only).
        data_root: where bundle names are looked up.
        level: which table (default: the kind's first): ``"frame"`` for a continuous model,
            ``"file"`` or ``"window"`` for a quadrant model, ``"frame"`` or ``"code"`` for an
            encoder (:mod:`mer_ser.bundles.encoder`).
        progress: a progress bar over files.
        errors: a list that collects ``(file, message)`` of files that could not be read
            (they are skipped); without it the first bad file raises.

    Returns:
        audformat-style tables. Continuous: indexed by ``(file, start, end)``, one row per
        second (each covering its 2-s analysis window), a column per dimension with the
        ensemble's mean and ``<dimension>_sd`` with the spread across its trials. Quadrant,
        ``"file"``: indexed by ``file``, the decided ``quadrant``, the probabilities ``Q1`` ...
        ``Q4`` (mean over windows, then over runs) with ``Q1_sd`` ... across runs, the number of
        ``windows`` and the ``duration``; ``"window"``: indexed by ``(file, start, end)``, each
        window's probabilities (mean and sd over runs). Multi-task models add
        ``p_arousal_high`` and ``p_valence_positive``.

    Raises:
        BundleError: ``level`` is not one of the bundle's tables.
    """
    bundle = resolve(model, data_root)
    known = levels(bundle)
    level = level or known[0]
    if level not in known:
        raise BundleError(
            f"{bundle.path}: a {bundle.kind} model's tables are {known}, not {level!r}"
        )
    return predict_tables(
        bundle, audio, sr=sr, data_root=data_root, progress=progress, errors=errors
    )[level]


def predict_signal(bundle: Bundle, y: np.ndarray, sr: int, *, name: str = "signal", level=None):
    """Predictions of a bundle on one signal, tabled under ``name`` (see :func:`predict`)."""
    read, n = _signal_reader(y)
    tables = _kind(bundle).predict_read(bundle, read, n, int(sr), name)
    return tables[level or levels(bundle)[0]]
