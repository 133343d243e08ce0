"""Features: ComParE at 1 Hz, 3-D log-mel, mel patches, shared-cue measures; a feature cache.

Public face: :class:`ComParE1Hz`, :class:`LogMel3D`, :class:`ChannelStandardiser`,
:class:`MelPatches`, :class:`SmileFunctionals` (eGeMAPS / ComParE functionals),
:class:`SslEmbeddings` (wav2vec 2.0 / HuBERT / WavLM / MERT layers; the optional ``ssl`` extra),
:class:`FeatureCache`, :func:`extract`, :func:`frame_table`,
:func:`cue_table`.
"""

from mer_ser.errors import CorruptCacheEntry
from mer_ser.features.cache import FeatureCache
from mer_ser.features.compare import ComParE1Hz, windowed_mean_std
from mer_ser.features.cues import CueMeasures, cue_table
from mer_ser.features.extract import (
    ExtractionReport,
    NoFrames,
    cue_label_table,
    default_cache_dir,
    extract,
    frame_table,
    labelled_frames,
)
from mer_ser.features.mel import ChannelStandardiser, LogMel3D, MelPatches
from mer_ser.features.smile import SmileFunctionals
from mer_ser.features.ssl import SslEmbeddings, SslModelError

__all__ = [
    "ChannelStandardiser",
    "ComParE1Hz",
    "CorruptCacheEntry",
    "CueMeasures",
    "ExtractionReport",
    "FeatureCache",
    "LogMel3D",
    "MelPatches",
    "NoFrames",
    "SmileFunctionals",
    "SslEmbeddings",
    "SslModelError",
    "cue_label_table",
    "cue_table",
    "default_cache_dir",
    "extract",
    "frame_table",
    "labelled_frames",
    "windowed_mean_std",
]
