"""The extractor of a bundle whose model reads a vector per clip or per 1 Hz frame.

Linear bundles, and continuous (LSTM) bundles trained by an experiment config on a feature set
other than 1 Hz ComParE, name their experiment feature set in the manifest
(``features.name``): ``compare_lld_1hz``, ``egemaps_functionals``, ``compare_functionals`` or
``ssl`` (with the self-supervised model, its layer, pooling and the SHA-256 of its weights in
``features.config``; weights that differ from the ones trained on are refused).
"""

from __future__ import annotations

from pathlib import Path

from mer_ser.bundles.store import BundleError
from mer_ser.features import ComParE1Hz, SmileFunctionals, SslEmbeddings, SslModelError
from mer_ser.features.smile import SET_NAMES as SMILE_SETS

#: The experiment feature sets a bundle can read.
NAMES = ("compare_lld_1hz", *SMILE_SETS, "ssl")


def vector_extractor(features: dict, where: Path, *, frames: bool):
    """The extractor of a manifest's ``features``: per clip, or per 2-s window every second.

    Args:
        features: the manifest's ``features`` (``name``, ``config``).
        where: the manifest, named in errors.
        frames: the 1 Hz grid (a time-continuous model) rather than one row per clip.

    Raises:
        BundleError: an unknown feature set, or an ``ssl`` model that is missing or whose
            weights differ from those the bundle was trained on.
    """
    name, win = features["name"], (2.0 if frames else None)
    if name == "compare_lld_1hz":
        return ComParE1Hz()
    if name in SMILE_SETS:
        return SmileFunctionals(SMILE_SETS[name], win=win, hop=1.0)
    if name == "ssl":
        return _ssl(features["config"], where, win)
    raise BundleError(f"{where}: unknown feature set {name!r}; a bundle reads {list(NAMES)}")


def _ssl(c: dict, where: Path, win) -> SslEmbeddings:
    """The self-supervised model the bundle was trained on, checked to have the same weights."""
    try:
        ex = SslEmbeddings(
            c["model"], layer=int(c["layer"]), win=win, hop=1.0, pooling=c["pooling"],
            trust_remote_code=bool(c.get("trust_remote_code", False)),
        )  # fmt: skip
    except SslModelError as e:
        raise BundleError(f"{where}: the bundle reads embeddings of {c['model']}: {e}") from e
    if ex.weights != c["weights"]:
        raise BundleError(
            f"{where}: trained on embeddings of {c['model']} with weights {c['weights'][:12]}, "
            f"and the weights there now are {ex.weights[:12]}; the model's inputs would differ"
        )
    return ex


def ssl_config(ex) -> dict:
    """The model, layer, pooling and weights' hash of an ``ssl`` extractor (else ``{}``)."""
    if not isinstance(ex, SslEmbeddings):
        return {}
    keys = ("model", "layer", "pooling", "trust_remote_code", "weights")
    return {k: getattr(ex, k) for k in keys}
