"""Model bundles: a trained model as a self-describing folder, and prediction on any audio.

A bundle is what leaves a notebook: everything needed to apply a trained model to a recording
that is in no corpus. Layout::

    <folder>/manifest.json      what the model is and where it comes from (below)
    <folder>/params.safetensors the ensemble's arrays, "/"-joined names, leading axis = member

The parameters are a `safetensors <https://huggingface.co/docs/safetensors>`_ file, readable
without mer_ser (``safetensors.numpy.load_file``). The manifest records:

* ``format`` / ``format_version``: :data:`FORMAT` and :data:`FORMAT_VERSION` (a newer bundle is
  refused with a message naming both versions),
* ``mer_ser_version``: the version that wrote it,
* ``kind``: ``"continuous"`` (1 Hz arousal/valence regression, Coutinho & Schuller 2017),
* ``architecture``: the model class and its constructor config,
* ``features``: the extractor and its config (``compare_1hz``: 260 ComParE functionals per
  second, 2-s windows, 1-s hop), with the input dimension,
* ``labels``: the dimensions, their scale and the time grid of the outputs,
* ``ensemble``: ``trials`` x ``folds`` members; a trial's prediction is the mean of its fold
  models, the bundle's the mean over trials, and its spread the trials' standard deviation,
* ``provenance``: condition, protocol, profile, seed, normalisation, the corpora trained on
  (names and content hashes) and the chosen hyper-parameters,
* ``scores``: the validation/test scores the notebook measured,
* ``files``: the SHA-256 of every data file (a corrupt or replaced file is detected on load).

Every member carries its own standardisation statistics (those of its training folds) inside
the parameters file, so the bundle's predictions on a clip equal the notebook's.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd
import soundfile as sf
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from tqdm.auto import tqdm

from mer_ser import __version__
from mer_ser._io import _umask, fsync_dir, sha256_file, write_json
from mer_ser.corpora.audio import RepairLog, check_readable, resample
from mer_ser.corpora.labels import n_frames
from mer_ser.errors import AudioError, MerSerError
from mer_ser.experiments.coutinho2017 import CONDITIONS
from mer_ser.experiments.jobs import predict_stacked
from mer_ser.features import ComParE1Hz
from mer_ser.features.compare import LLD_STEP, compare_lld, windowed_mean_std
from mer_ser.models import ContinuousRegressor
from mer_ser.train.checkpoint import flatten, unflatten
from mer_ser.train.engine import Standardiser, TrainConfig, make_fit

#: Manifest ``format`` of a mer_ser model bundle.
FORMAT = "mer_ser.bundle"
#: The newest bundle layout this version reads and the one it writes.
FORMAT_VERSION = 1
#: Kinds of model a bundle can hold.
KINDS = ("continuous",)
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
    """

    path: Path
    manifest: dict
    arrays: dict[str, np.ndarray] = field(repr=False)

    @property
    def name(self) -> str:
        """The bundle's name (its folder's name)."""
        return self.path.name

    @property
    def kind(self) -> str:
        """``"continuous"``."""
        return self.manifest["kind"]

    @property
    def n_features(self) -> int:
        """Input dimension the model expects."""
        return int(self.manifest["features"]["dim"])

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Output dimensions, in column order."""
        return tuple(self.manifest["labels"]["dimensions"])

    @functools.cached_property
    def members(self) -> tuple[dict, Standardiser]:
        """The members' stacked parameters (a pure dict) and statistics, built once per bundle."""
        prefix = "params/"
        params = unflatten(
            {k[len(prefix) :]: v for k, v in self.arrays.items() if k.startswith(prefix)}
        )
        return params, Standardiser(*(self.arrays[f"stats/{n}"] for n in Standardiser._fields))

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """Per-trial predictions on one feature sequence.

        Args:
            x: features, shape ``(T, F)`` with ``F = n_features``.

        Returns:
            float32 ``(trials, T, D)`` on the label scale: each trial the mean of its fold
            models.

        Raises:
            BundleError: ``x`` has another feature dimension than the model expects.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise BundleError(
                f"{self.path}: the model expects features of dimension {self.n_features} "
                f"({self.manifest['features']['name']}), got an array of shape {x.shape}"
            )
        return _continuous_predict(self, x)


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
    x_mean = bundle.arrays.get("stats/x_mean")
    if x_mean is None:
        raise BundleError(f"{where}: no standardisation statistics ('stats/x_mean')")
    if x_mean.shape[-1] != bundle.n_features:
        raise BundleError(
            f"{where}: the statistics have {x_mean.shape[-1]} features, the manifest says "
            f"{bundle.n_features}"
        )


# ---------------------------------------------------------------------------- continuous
def continuous_arrays(trained) -> dict[str, np.ndarray]:
    """A continuous job's parameters and statistics as bundle arrays.

    Args:
        trained: :class:`~mer_ser.experiments.jobs.Trained` of one candidate
            (``shape = (1, trials, folds)``).
    """
    if trained.shape[0] != 1:
        raise ValueError(f"select one candidate first (shape {trained.shape})")
    out = {f"params/{k}": np.asarray(v) for k, v in flatten(trained.params).items()}
    for name, v in trained.stats._asdict().items():
        out[f"stats/{name}"] = np.asarray(v)
    return out


def _continuous_apply(bundle: Bundle):
    """The regressor's ``apply`` (memoised per architecture config)."""
    arch = bundle.manifest["architecture"]
    if arch.get("class") != "ContinuousRegressor":
        raise BundleError(
            f"{bundle.path / MANIFEST}: architecture {arch.get('class')!r} is not a "
            "continuous regressor"
        )
    cfg = arch["config"]
    return _apply_for(int(cfg["n_features"]), tuple(cfg["hidden"]), bool(cfg["peephole"]))


@functools.cache
def _apply_for(n_features: int, hidden: tuple[int, int], peephole: bool):
    """``apply(params, stats, x, m)`` of a regressor, once per architecture (one trace)."""

    def build(rngs):
        return ContinuousRegressor(n_features, hidden, peephole=peephole, rngs=rngs)

    return make_fit(build, TrainConfig())[1]


def padded_length(n: int) -> int:
    """Frames a sequence of ``n`` is padded to for prediction: a power of two, at least 32.

    Files of any length then share a handful of compiled programs instead of compiling one per
    length; padded frames are masked, so they change no prediction.
    """
    return max(32, 1 << max(0, n - 1).bit_length())


def _continuous_predict(bundle: Bundle, x: np.ndarray) -> np.ndarray:
    ens = bundle.manifest["ensemble"]
    t, f = int(ens["trials"]), int(ens["folds"])
    params, stats = bundle.members
    n = len(x)
    xp = np.zeros((padded_length(n), x.shape[1]), np.float32)
    xp[:n] = x
    m = jnp.asarray(np.arange(len(xp)) < n)[None]
    pred = predict_stacked(_continuous_apply(bundle), params, stats, jnp.asarray(xp[None]), m)
    pred = pred[:, 0, :n]
    return pred.reshape(t, f, *pred.shape[1:]).mean(axis=1).astype(np.float32)


def frames_table(file: str, per_trial: np.ndarray, dimensions, *, win: float, hop: float):
    """Per-frame predictions as an audformat-style segmented table.

    Args:
        file: the file's name for the index.
        per_trial: ``(trials, T, D)``.
        dimensions: the ``D`` column names.
        win: analysis window of a frame in s (frame ``k`` covers ``[k hop, k hop + win)``).
        hop: frame step in s.

    Returns:
        DataFrame indexed by ``(file, start, end)`` (timedeltas) with one column per dimension
        (the trials' mean) and ``<dimension>_sd`` (their standard deviation, 0 for one trial).
    """
    n = per_trial.shape[1]
    start = pd.to_timedelta(np.arange(n) * hop, unit="s")
    end = pd.to_timedelta(np.arange(n) * hop + win, unit="s")
    index = pd.MultiIndex.from_arrays([[file] * n, start, end], names=["file", "start", "end"])
    mean = per_trial.mean(axis=0)
    sd = per_trial.std(axis=0) if per_trial.shape[0] > 1 else np.zeros_like(mean)
    cols = {d: mean[:, i] for i, d in enumerate(dimensions)}
    cols |= {f"{d}_sd": sd[:, i] for i, d in enumerate(dimensions)}
    return pd.DataFrame(cols, index=index)


# ---------------------------------------------------------------------------- audio
#: Audio file suffixes a folder is searched for.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def audio_files(inputs) -> list[Path]:
    """Files to predict: each input a file, or a folder searched recursively for audio.

    Raises:
        BundleError: an input does not exist, or a folder holds no audio file.
    """
    out: list[Path] = []
    for item in [inputs] if isinstance(inputs, str | os.PathLike) else inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise BundleError(f"{p}: no audio file ({', '.join(AUDIO_SUFFIXES)}) in folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise BundleError(f"{p}: no such file or folder")
    return out


def _chunks(read, n: int, file_sr: int, sr: int, chunk_s: int, margin_s: int = 1):
    """Mono ``sr``-rate pieces of a signal with a margin on both sides.

    Args:
        read: ``(start, stop) -> (samples, channels)`` float32 at ``file_sr``.
        n: the signal's length in samples at ``file_sr``.
        file_sr: the signal's sample rate.
        sr: the rate of the pieces (resampled when it differs).
        chunk_s: seconds of signal each piece stands for.
        margin_s: seconds of margin on each side.

    Yields:
        ``(y, skip, keep)``: the piece, and the number of seconds of margin before the part
        it stands for and that part's length in s (both whole seconds).
    """
    total = n / file_sr
    s = 0
    while s < total:
        lo, hi = max(0, s - margin_s), min(total, s + chunk_s + margin_s)
        data = read(round(lo * file_sr), round(hi * file_sr))
        y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
        if file_sr != sr:
            y = resample(y, file_sr, sr)
        yield y.astype(np.float32, copy=False), s - lo, min(chunk_s, total - s)
        s += chunk_s


#: ComParE LLDs whose openSMILE computation carries state from the start of the signal (pitch
#: tracking and the period-based voice-quality measures): they change at chunk boundaries.
STATEFUL_LLDS = ("F0final", "voicingFinal", "jitter", "shimmer", "HNR")


def compare_1hz_chunked(read, n: int, file_sr: int, extractor, chunk_s: int = 600) -> np.ndarray:
    """1 Hz ComParE features of a long signal, ``chunk_s`` seconds of audio at a time.

    A signal up to ``chunk_s`` long is one piece, with exactly the features of the whole
    signal. Longer ones are cut into pieces whose LLDs are computed with a 1-s margin on both
    sides and the margins' frames dropped; each 1-Hz window is pooled as soon as its frames have
    arrived, so memory stays bounded by a piece whatever the signal's length. The windows then
    match the whole signal's except for :data:`STATEFUL_LLDS`, which openSMILE computes with
    state carried from the start of the signal.
    """
    per_s = round(1.0 / LLD_STEP)
    per_win, per_hop = round(extractor.win * per_s), round(extractor.hop * per_s)
    count = n_frames(n / file_sr, win=extractor.win, hop=extractor.hop)
    out, done = [], 0  # windows pooled so far
    whole = n / file_sr <= chunk_s  # one piece: pooled at the end, as the corpus pipeline does
    buf, buf_start = None, 0  # LLD frames not yet pooled, and the index of the first one
    for y, skip, keep in _chunks(read, n, file_sr, extractor.sr, chunk_s):
        lld = compare_lld(y, extractor.sr)
        a = round(skip * per_s)
        kept = lld[a : a + round(keep * per_s)]
        buf = kept if buf is None else np.concatenate([buf, kept])
        ready = min(count, (buf_start + len(buf) - per_win) // per_hop + 1) - done
        if ready > 0 and not whole:  # windows whose frames have all arrived
            first = done * per_hop - buf_start
            out.append(windowed_mean_std(buf[first:], ready, win=extractor.win, hop=extractor.hop))
            done += ready
        drop = done * per_hop - buf_start
        buf, buf_start = buf[drop:], buf_start + drop
    if count == 0:
        return np.zeros((0, 2 * (0 if buf is None else buf.shape[1])), dtype=np.float32)
    if done < count:  # the last windows, short of frames at the signal's end
        out.append(windowed_mean_std(buf, count - done, win=extractor.win, hop=extractor.hop))
    return np.concatenate(out)


# ---------------------------------------------------------------------------- prediction
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


def _extractor(bundle: Bundle):
    feats = bundle.manifest["features"]
    if feats["name"] != "compare_1hz":
        raise BundleError(f"{bundle.path / MANIFEST}: unknown feature set {feats['name']!r}")
    return ComParE1Hz(**feats["config"])


def _file_reader(path: Path):
    """``(read, n, sr)`` of an audio file, reading only the requested samples."""
    check_readable(path)
    try:
        with sf.SoundFile(str(path)) as f:
            n, sr, channels = f.frames, f.samplerate, f.channels
    except Exception as e:  # libsndfile reports corrupt headers as several exception types
        raise AudioError(f"{path}: cannot read audio ({e})") from e
    if n <= 0:
        raise AudioError(f"{path}: audio file is empty (0 samples)")

    def read(start: int, stop: int) -> np.ndarray:
        try:
            with sf.SoundFile(str(path)) as f:
                f.seek(start)
                data = f.read(stop - start, dtype="float32", always_2d=True)
        except Exception as e:
            raise AudioError(f"{path}: cannot read audio ({e})") from e
        if not np.all(np.isfinite(data)):
            raise AudioError(f"{path}: audio contains NaN or infinite samples")
        return data

    return read, n, sr, channels


def predict_signal(bundle: Bundle, y: np.ndarray, sr: int, *, name: str = "signal"):
    """Predictions of a continuous bundle on one signal (see :func:`predict`)."""
    y = np.asarray(y, dtype=np.float32)
    data = y[:, None] if y.ndim == 1 else y
    read = lambda a, b: data[a:b]  # noqa: E731
    return _predict(bundle, read, len(data), int(sr), name)


def _predict(bundle: Bundle, read, n: int, sr: int, name: str, chunk_s: int = 600):
    ex = _extractor(bundle)
    x = compare_1hz_chunked(read, n, sr, ex, chunk_s=chunk_s)
    if len(x) == 0:
        raise BundleError(f"{name}: shorter than one {ex.win:g}-s analysis window")
    per_trial = bundle.predict_features(x)
    return frames_table(name, per_trial, bundle.dimensions, win=ex.win, hop=ex.hop)


def predict(
    model,
    audio,
    *,
    sr: int | None = None,
    data_root=None,
    progress: bool = False,
    errors: list | None = None,
) -> pd.DataFrame:
    """Apply a model bundle to audio.

    Args:
        model: a :class:`Bundle`, a bundle folder, or a bundle name under
            ``<data_root>/models``.
        audio: a path, a list of paths, a folder (searched recursively), or a signal (1-D, or
            ``(samples, channels)``) with its rate ``sr``. Any rate and channel count: channels
            are averaged and the signal resampled to the model's rate.
        sr: the signal's sample rate (arrays only).
        data_root: where bundle names are looked up.
        progress: a progress bar over files.
        errors: a list that collects ``(file, message)`` of files that could not be read
            (they are skipped); without it the first bad file raises.

    Returns:
        audformat-style frames: indexed by ``(file, start, end)``, one row per second (each
        covering its 2-s analysis window), a column per dimension with the ensemble's mean and
        ``<dimension>_sd`` with the spread across its trials.
    """
    bundle = resolve(model, data_root)
    if isinstance(audio, np.ndarray):
        if sr is None:
            raise BundleError("an array needs its sample rate: predict(model, y, sr=...)")
        return predict_signal(bundle, audio, sr)
    frames, log, rate = [], RepairLog(), _extractor(bundle).sr
    for path in tqdm(audio_files(audio), desc="predict", unit="file", disable=not progress):
        try:
            read, n, file_sr, channels = _file_reader(path)
            frames.append(_predict(bundle, read, n, file_sr, str(path)))
        except (AudioError, BundleError) as e:
            if errors is None:
                raise
            errors.append((str(path), str(e)))
            continue
        if channels > 1:
            log.add(("downmix", channels), path)
        if file_sr != rate:
            log.add(("resample", file_sr, rate), path)
    log.warn("predict")
    if not frames:
        return frames_table(
            "", np.zeros((1, 0, len(bundle.dimensions))), bundle.dimensions, win=1.0, hop=1.0
        )
    return pd.concat(frames)


# ---------------------------------------------------------------------------- export
def continuous_manifest(
    n_features: int, hidden, *, trials: int, folds: int, peephole: bool = True, active=None
) -> dict:
    """What every continuous bundle's manifest says of its model, features, labels and ensemble.

    Args:
        n_features: input dimension (260 ComParE features).
        hidden: the two LSTM layers' sizes the model is built with.
        trials: ensemble trials.
        folds: fold models per trial.
        peephole: peephole connections.
        active: the blocks in use when the layers are padded (``None``: all).
    """
    config = {
        "n_features": int(n_features),
        "hidden": [int(h) for h in hidden],
        "peephole": peephole,
    }
    if active is not None:
        config["active"] = [int(a) for a in active]
    ex = ComParE1Hz()
    return {
        "kind": "continuous",
        "architecture": {"class": "ContinuousRegressor", "config": config},
        "features": {
            "name": ex.name,
            "config": {"sr": ex.sr, "win": ex.win, "hop": ex.hop},
            "dim": int(n_features),
        },
        "labels": {
            "dimensions": ["arousal", "valence"],
            "scale": [-1.0, 1.0],
            "frame_hop_s": ex.hop,
            "frame_win_s": ex.win,
        },
        "ensemble": {
            "trials": int(trials),
            "folds": int(folds),
            "reduce": "mean over folds per trial; mean and sd over trials",
        },
    }


def export_continuous(track, condition: str, folder: str | os.PathLike, *, result=None) -> Path:
    """Write the final models of a continuous condition as a bundle.

    The bundle holds every trial's fold models of the condition as developed under the paper's
    normalisation (each member standardises its input with its own training folds'
    statistics, Coutinho & Schuller 2017, Sec. 4.3), so it applies to audio of any domain.

    Args:
        track: a :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack`.
        condition: ``M2M``, ``S2S``, ``S2M``, ``M2S``, ``S2M_TL`` or ``M2S_TL``.
        folder: the bundle folder (e.g. ``models_dir(data_root) / "coutinho2017_S2M"``).
        result: the condition's :class:`~mer_ser.experiments.continuous_results.ConditionResult`
            under the paper's normalisation, whose test scores the manifest records.

    Returns:
        The bundle folder.
    """
    if result is not None and (result.condition, result.normalisation) != (condition, "paper"):
        raise ValueError(
            f"result is {result.condition} under {result.normalisation!r}; the bundle of "
            f"{condition} records the scores of its models under the paper's normalisation"
        )
    dev = track.develop(condition)
    trained, chosen = dev.trained, dict(dev.chosen)
    _, src_domain, tgt_domain = CONDITIONS[condition]
    src = track.sets[src_domain]
    n_features = int(src.x.shape[-1])
    hidden = [int(h) for h in track.layer_sizes(chosen["h1"], chosen["h2"])]
    _, trials, folds = trained.shape
    manifest = {
        **continuous_manifest(
            n_features,
            hidden,
            trials=trials,
            folds=folds,
            peephole=bool(track.protocol.peephole),
            active=[int(chosen["h1"]), int(chosen["h2"])],
        ),
        "provenance": {
            "paper": "Coutinho & Schuller 2017, PLoS ONE 12(6): e0179289",
            "condition": condition,
            "source": {
                "name": src.name,
                "domain": src.domain,
                "sha256": src.fingerprint(),
                "clips": len(src),
            },
            "target": {"name": track.sets[tgt_domain].name, "domain": tgt_domain},
            "protocol": track.protocol.name,
            "seed": int(track.seed),
            "normalisation": "paper",
            "chosen": chosen,
        },
        "scores": _scores(result),
    }
    return save_bundle(folder, manifest, continuous_arrays(trained))


def export_conditions(track, results: dict, data_root: str | os.PathLike) -> list[Path]:
    """Export continuous conditions as ``<data_root>/models/coutinho2017_<condition>``.

    Args:
        track: the :class:`~mer_ser.experiments.coutinho2017.ContinuousTrack` that ran them.
        results: condition -> its result under the paper's normalisation (scores recorded).
        data_root: the notebooks' data root.

    Returns:
        The bundle folders, in the order of ``results``.
    """
    root = models_dir(data_root)
    return [
        export_continuous(track, c, root / f"coutinho2017_{c}", result=r)
        for c, r in results.items()
    ]


def _scores(result) -> dict:
    """Mean test CCC, r and RMSE per dimension (over trials and clips) and validation CCC."""
    if result is None:
        return {}
    out: dict = {"clips": len(result.clip_ids), "trials": int(result.predictions.shape[0])}
    for metric, v in result.metrics().items():
        for i, dim in enumerate(("arousal", "valence")):
            out[f"test_{metric}_{dim}"] = float(np.nanmean(v[..., i]))
    out["dev_ccc"] = float(np.mean(result.dev_by_trial))
    return out
