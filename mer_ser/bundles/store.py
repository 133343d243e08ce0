"""The bundle format: writing a bundle atomically, reading and checking it, finding it by name.

Layout of a bundle folder::

    <folder>/manifest.json      what the model is and where it comes from (below)
    <folder>/params.safetensors the ensemble's arrays, "/"-joined names, leading axis = member

The parameters are a `safetensors <https://huggingface.co/docs/safetensors>`_ file, readable
without mer_ser (``safetensors.numpy.load_file``): ``params/...`` the model's parameters (and
batch statistics), ``stats/...`` the statistics that standardise its input, ``encoder/...`` where
a frozen encoder is stored apart. The manifest records:

* ``format`` / ``format_version``: :data:`FORMAT` and :data:`FORMAT_VERSION` (a newer bundle is
  refused with a message naming both versions),
* ``mer_ser_version``: the version that wrote it,
* ``kind``: ``"continuous"`` (1 Hz arousal/valence regression, Coutinho & Schuller 2017),
  ``"quadrant"`` (quadrant classification, Rodningen 2022 and Gomez-Canon et al. 2020/2021),
  ``"encoder"`` (the pretrained LSTM-DAEs of Coutinho & Schuller 2017) or ``"linear"``
  (functionals + a linear model, from an experiment config),
* ``architecture``: the model class and its constructor config,
* ``features``: the extractor and its config, with the input dimension,
* ``labels``: the dimensions (or classes), their scale and the time grid of the outputs,
* ``ensemble``: ``trials`` x ``folds`` members (a quadrant model's runs are its trials),
* ``provenance``: the paper, protocol, profile, seed, normalisation, the corpora trained on
  (names and content hashes) and the chosen hyper-parameters,
* ``scores``: the validation/test scores the notebook measured,
* ``files``: the SHA-256 of every data file (a corrupt or replaced file is detected on load).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from mer_ser import __version__
from mer_ser._io import _umask, fsync_dir, sha256_file, write_json
from mer_ser.errors import MerSerError
from mer_ser.train.checkpoint import unflatten

FORMAT = "mer_ser.bundle"
#: The newest bundle layout this version reads and the one it writes.
FORMAT_VERSION = 1
#: Kinds of model a bundle can hold.
KINDS = ("continuous", "quadrant", "encoder", "linear")
MANIFEST = "manifest.json"
PARAMS = "params.safetensors"


class BundleError(MerSerError, ValueError):
    """A bundle is missing, incomplete, corrupt or does not fit the input (names the path)."""


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle.

    Attributes:
        path: the bundle folder.
        manifest: the parsed ``manifest.json`` (see the module docstring).
        arrays: the parameters file's arrays, ``{"/"-joined name: array}``; each leading axis
            is the ensemble member (``trials * folds``, trial-major).
        cache: what prediction builds once per bundle (each member's model state).
    """

    path: Path
    manifest: dict
    arrays: dict[str, np.ndarray] = field(repr=False)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The bundle's name (its folder's name)."""
        return self.path.name

    @property
    def kind(self) -> str:
        """``"continuous"`` or ``"quadrant"``."""
        return self.manifest["kind"]

    @property
    def n_features(self) -> int:
        """Input dimension per frame the model expects."""
        return int(self.manifest["features"]["dim"])

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Output columns: dimensions of a continuous model, classes of a quadrant model."""
        labels = self.manifest["labels"]
        return tuple(labels.get("dimensions", labels.get("classes", ())))

    @property
    def members(self) -> int:
        """Models in the ensemble (``trials * folds``)."""
        ens = self.manifest["ensemble"]
        return int(ens["trials"]) * int(ens["folds"])

    @functools.cached_property
    def params(self) -> dict:
        """The members' stacked parameters as a pure dict (built once per bundle)."""
        return self.tree("params")

    def tree(self, prefix: str) -> dict:
        """The arrays under ``prefix/`` as a nested pure dict."""
        p = f"{prefix}/"
        return unflatten({k[len(p) :]: v for k, v in self.arrays.items() if k.startswith(p)})

    def features(self, x) -> np.ndarray:
        """``x`` as float32 ``(T, n_features)`` frames.

        Raises:
            BundleError: ``x`` has another feature dimension than the model expects.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise BundleError(
                f"{self.path}: the model expects features of dimension {self.n_features} "
                f"({self.manifest['features']['name']}), got an array of shape {x.shape}"
            )
        return x

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """Per-trial predictions of a continuous model on one feature sequence.

        See :func:`mer_ser.bundles.continuous.predict_features`.
        """
        from mer_ser.bundles.continuous import predict_features

        return predict_features(self, x)


# ---------------------------------------------------------------------------- writing
def save_bundle(folder: str | os.PathLike, manifest: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write a bundle atomically: assembled beside ``folder``, then renamed into place.

    An existing bundle of the same name is replaced only once the new one is complete.

    Args:
        folder: the bundle folder to create (its name is the bundle's name).
        manifest: everything of the manifest but ``format``, ``format_version``,
            ``mer_ser_version`` and ``files``, which are filled in here.
        arrays: the parameters (see :class:`Bundle`).

    Returns:
        The bundle folder.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700; give the usual permissions
    try:
        flat = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        save_file(flat, str(tmp / PARAMS))
        full = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "mer_ser_version": __version__,
            **manifest,
            "files": {PARAMS: sha256_file(tmp / PARAMS)},
        }
        write_json(tmp / MANIFEST, full)
        old = _previous(folder)
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
        fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _previous(folder: Path) -> Path:
    """Where :func:`save_bundle` keeps the replaced bundle until the new one is in place."""
    return folder.with_name(f".{folder.name}.old")


# ---------------------------------------------------------------------------- reading
def load_bundle(folder: str | os.PathLike) -> Bundle:
    """Read and check a bundle.

    A writer killed between its two renames leaves the previous bundle beside the folder's
    name; it is read from there.

    Raises:
        BundleError: the folder or a file is missing, the manifest is not a mer_ser bundle or
            comes from a newer layout, a file's checksum does not match the manifest, or the
            parameters do not fit the architecture.
    """
    folder = Path(folder)
    if not folder.is_dir() and _previous(folder).is_dir():
        folder = _previous(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder}: no such bundle folder")
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath}: missing (not a mer_ser model bundle?)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{mpath}: not valid JSON ({e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{mpath}: 'format' is not {FORMAT!r} (not a mer_ser model bundle)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BundleError(
            f"{mpath}: bundle format version {version!r} was written by mer_ser "
            f"{manifest.get('mer_ser_version', '?')}; this mer_ser ({__version__}) reads "
            f"versions up to {FORMAT_VERSION}: upgrade mer_ser"
        )
    missing = [
        k
        for k in ("kind", "architecture", "features", "labels", "ensemble", "files")
        if k not in manifest
    ]
    if missing:
        raise BundleError(f"{mpath}: manifest lacks {', '.join(missing)}")
    if manifest["kind"] not in KINDS:
        raise BundleError(f"{mpath}: unknown kind {manifest['kind']!r}; known: {KINDS}")
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{path}: missing (the manifest lists it)")
        if sha256_file(path) != digest:
            raise BundleError(f"{path}: corrupt (its SHA-256 differs from the manifest's)")
    try:
        arrays = load_file(str(folder / PARAMS))
    except (SafetensorError, OSError, ValueError) as e:
        raise BundleError(f"{folder / PARAMS}: cannot read the parameters ({e})") from e
    bundle = Bundle(folder, manifest, arrays)
    _check_arrays(bundle)
    return bundle


def _check_arrays(bundle: Bundle) -> None:
    """The parameters have the members and input dimension the manifest says."""
    ens = bundle.manifest["ensemble"]
    k = int(ens["trials"]) * int(ens["folds"])
    where = bundle.path / PARAMS
    for name, a in bundle.arrays.items():
        if a.ndim == 0 or a.shape[0] != k:
            raise BundleError(
                f"{where}: array {name!r} has shape {a.shape}; the manifest's ensemble has "
                f"{k} members (leading axis)"
            )
    stat = "stats/x_mean" if bundle.kind == "continuous" else "stats/mean"
    mean = bundle.arrays.get(stat)
    if mean is None:
        raise BundleError(f"{where}: no standardisation statistics ({stat!r})")
    width = bundle.manifest["features"].get("stats_dim", bundle.n_features)
    if mean.ndim > 1 and mean.shape[-1] != width:
        raise BundleError(
            f"{where}: the statistics have {mean.shape[-1]} features, the manifest says {width}"
        )


# ---------------------------------------------------------------------------- finding
def models_dir(data_root: str | os.PathLike) -> Path:
    """Where notebooks export bundles: ``<data_root>/models``."""
    return Path(data_root) / "models"


def resolve(model, data_root: str | os.PathLike | None = None) -> Bundle:
    """A :class:`Bundle` from a bundle, a bundle folder, or a name under ``<data_root>/models``.

    Raises:
        BundleError: no such bundle (the message lists the names that exist).
    """
    if isinstance(model, Bundle):
        return model
    p = Path(model)
    if p.is_dir():
        return load_bundle(p)
    if data_root is not None and (models_dir(data_root) / str(model)).is_dir():
        return load_bundle(models_dir(data_root) / str(model))
    known = list_bundles(data_root) if data_root is not None else []
    hint = f"; bundles under {models_dir(data_root)}: {', '.join(known)}" if known else ""
    raise BundleError(f"{model}: no such bundle folder{hint}")


def list_bundles(data_root: str | os.PathLike) -> list[str]:
    """Names of the bundle folders under ``<data_root>/models`` (sorted)."""
    root = models_dir(data_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())
