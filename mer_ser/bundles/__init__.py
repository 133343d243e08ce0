"""Model bundles: a trained model as a self-describing folder, and prediction on any audio.

A bundle is what leaves a notebook: everything needed to apply a trained model to a recording
that is in no corpus. The format and its checks are in :mod:`mer_ser.bundles.store`; the kinds:

* ``continuous`` (:mod:`mer_ser.bundles.continuous`): the 1 Hz arousal/valence regressors of
  Coutinho & Schuller 2017, an ensemble of every trial's fold models;
* ``quadrant`` (:mod:`mer_ser.bundles.quadrant`): the quadrant classifiers of Rodningen 2022
  (DCNN, ADCRNN) and Gomez-Canon et al. 2020/2021 (SCAE / CPC under the multi-task head, the
  DAE-Classifier), an ensemble of runs;
* ``encoder`` (:mod:`mer_ser.bundles.encoder`): the denoising LSTM autoencoders Coutinho &
  Schuller 2017 pretrain on unlabelled music and speech, one per trial.

:func:`predict` applies any of them to files, folders or signals (:mod:`mer_ser.bundles.predict`);
files are read piece by piece (:mod:`mer_ser.bundles.audio`).
"""

from mer_ser.bundles.audio import (
    AUDIO_SUFFIXES,
    STATEFUL_LLDS,
    audio_files,
    compare_1hz_chunked,
    file_reader,
)
from mer_ser.bundles.continuous import (
    continuous_arrays,
    continuous_manifest,
    export_conditions,
    export_continuous,
    frames_table,
    padded_length,
)
from mer_ser.bundles.encoder import export_daes
from mer_ser.bundles.predict import describe, levels, predict, predict_signal, predict_tables
from mer_ser.bundles.quadrant import export_language_transfer, export_rodningen
from mer_ser.bundles.store import (
    FORMAT,
    FORMAT_VERSION,
    KINDS,
    Bundle,
    BundleError,
    list_bundles,
    load_bundle,
    models_dir,
    resolve,
    save_bundle,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "FORMAT",
    "FORMAT_VERSION",
    "KINDS",
    "STATEFUL_LLDS",
    "Bundle",
    "BundleError",
    "audio_files",
    "compare_1hz_chunked",
    "continuous_arrays",
    "continuous_manifest",
    "describe",
    "export_conditions",
    "export_continuous",
    "export_daes",
    "export_language_transfer",
    "export_rodningen",
    "file_reader",
    "frames_table",
    "levels",
    "list_bundles",
    "load_bundle",
    "models_dir",
    "padded_length",
    "predict",
    "predict_signal",
    "predict_tables",
    "resolve",
    "save_bundle",
]
