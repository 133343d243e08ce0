"""Self-supervised embeddings (wav2vec 2.0, HuBERT, WavLM, MERT) per clip or on the 1 Hz grid.

The hidden states of one transformer layer of a pretrained self-supervised model, pooled per clip
(the input of a clip-level classifier) or per window of the continuous track's 1 Hz grid:

* **wav2vec 2.0**: Baevski et al. 2020, "wav2vec 2.0: A Framework for Self-Supervised Learning of
  Speech Representations", NeurIPS.
* **HuBERT**: Hsu et al. 2021, "HuBERT: Self-Supervised Speech Representation Learning by Masked
  Prediction of Hidden Units", IEEE/ACM TASLP 29.
* **WavLM**: Chen et al. 2022, "WavLM: Large-Scale Self-Supervised Pre-Training for Full Stack
  Speech Processing", IEEE JSTSP 16(6).
* **MERT**: Li et al. 2024, "MERT: Acoustic Music Understanding Model with Large-Scale
  Self-supervised Training", ICLR (its checkpoints ship their own model code:
  ``trust_remote_code=True``).

Optional: the ``ssl`` extra (``transformers`` and ``torch``; ``make env-ssl``). **The weights must
be on this machine**: a local folder in ``save_pretrained`` layout (``config.json``, the weights,
``preprocessor_config.json``) or a hub id already in the Hugging Face cache. With network, a hub id
missing from the cache is downloaded on first use; without it, the error says what to fetch.

Frame timing. The models' convolutional feature encoder (Baevski et al. 2020, section 2) has
kernels ``k_j`` and strides ``s_j``; output frame ``i`` sees samples ``[i S, i S + R)`` with
``S = prod s_j`` and ``R = 1 + sum_j (k_j - 1) prod_{l<j} s_l`` (``S = 320``, ``R = 400``: 25 ms
every 20 ms at 16 kHz). Its time is the centre of that span, ``(i S + (R - 1) / 2) / sr``. Long
clips are encoded in chunks of ``chunk`` seconds (attention is quadratic in length); each chunk's
frames carry their own times.

Pooling. Per clip (``win=None``): the mean (``"mean"``) or mean and standard deviation
(``"mean_std"``) of every frame: ``(1, d)`` or ``(1, 2 d)``. Per window (``win``, ``hop``):
window ``k`` covers ``[k hop, k hop + win)``, the convention of :mod:`mer_ser.corpora.labels`,
and pools the frames whose times lie in it, so with ``win=2, hop=1`` row ``k`` aligns with the
gold standard's frame ``k``: ``(n_frames(duration, win, hop), d)``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from mer_ser.corpora.labels import n_frames
from mer_ser.errors import MerSerError

#: How frames are pooled over a clip or a window.
POOLINGS = ("mean", "mean_std")
#: The torch devices an extractor may run on: ``cpu``, ``cuda``, ``cuda:1``, ``mps``, ...
DEVICE = re.compile(r"(cpu|cuda|mps|xpu)(:\d+)?")
#: Weight files whose bytes identify a model (the cache key's ``weights``).
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt")


class SslModelError(MerSerError):
    """A self-supervised model cannot be found, loaded or used: the message names it and the fix."""


def model_folder(model: str) -> Path:
    """The local folder of ``model``: a folder path, or a hub id (``owner/name``).

    A hub id is looked up in the Hugging Face cache first; one missing from it is downloaded
    when the hub can be reached (and ``HF_HUB_OFFLINE`` is not set).

    Raises:
        SslModelError: ``model`` is neither a folder nor a hub id whose files can be had.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if model.startswith((".", "/", "~")) or not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", model):
        raise SslModelError(f"{model}: no such model folder")
    return _hub_folder(model)


@functools.cache
def _hub_folder(model: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise SslModelError(_no_extra(model)) from e
    try:
        return Path(snapshot_download(model, local_files_only=True))
    except Exception:  # not cached: fetch it if the hub can be reached
        pass
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        raise SslModelError(_not_local(model, "HF_HUB_OFFLINE is set"))
    try:
        return Path(snapshot_download(model))
    except Exception as e:
        first = (str(e).splitlines() or [""])[0]
        raise SslModelError(_not_local(model, f"{type(e).__name__}: {first}")) from e


def _not_local(model: str, why: str) -> str:
    return (
        f"{model}: no such folder, and as a hub id its weights are not on this machine and "
        f"could not be downloaded ({why}). Fetch them once where there is network "
        f"(`hf download {model} --local-dir <folder>`) and give the folder instead of the hub id"
    )


def _no_extra(model: str) -> str:
    return (
        f"{model}: self-supervised embeddings need the optional `ssl` extra "
        "(pip install 'mer_ser[ssl]', or make env-ssl): transformers and torch"
    )


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise SslModelError(f"{path}: missing; a model folder needs {path.name}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SslModelError(f"{path}: not valid JSON ({e})") from e


@functools.cache
def _fingerprint(folder: Path, stamp: tuple) -> str:
    """SHA-256 over ``config.json`` and the weight files' bytes (``stamp``: names, sizes, times)."""
    h = hashlib.sha256()
    for name, *_ in stamp:
        h.update(name.encode() + b"\0")
        with open(folder / name, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
    return h.hexdigest()


def weights_fingerprint(folder: str | os.PathLike) -> str:
    """A SHA-256 identifying a model folder's configuration and weights (cached per file state).

    Raises:
        SslModelError: the folder has no weight file.
    """
    folder = Path(folder)
    files = sorted({p for pattern in WEIGHT_FILES for p in folder.glob(pattern)})
    if not files:
        raise SslModelError(
            f"{folder}: no weight file ({', '.join(WEIGHT_FILES)}); a model folder in "
            "save_pretrained layout holds them beside config.json"
        )
    stamp = tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in [folder / "config.json", *files]
    )
    return _fingerprint(folder, stamp)


@dataclass(frozen=True)
class ConvGeometry:
    """The feature encoder's frame step ``stride`` and receptive field ``field``, in samples.

    Attributes:
        stride: ``S = prod s_j``.
        field: ``R = 1 + sum_j (k_j - 1) prod_{l<j} s_l``.
    """

    stride: int
    field: int

    @classmethod
    def of(cls, kernels, strides) -> ConvGeometry:
        """From the convolutions' kernels and strides (``conv_kernel``, ``conv_stride``)."""
        if len(kernels) != len(strides) or not kernels:
            raise ValueError(f"conv_kernel {kernels} and conv_stride {strides} do not match")
        field, jump = 1, 1
        for k, s in zip(kernels, strides, strict=True):
            field += (k - 1) * jump
            jump *= s
        return cls(stride=jump, field=field)

    def count(self, samples: int) -> int:
        """Number of frames of ``samples`` input samples."""
        return 0 if samples < self.field else (samples - self.field) // self.stride + 1

    def times(self, count: int, sr: int, offset: int = 0) -> np.ndarray:
        """Centre times in seconds of ``count`` frames of input starting at sample ``offset``."""
        return (offset + np.arange(count) * self.stride + (self.field - 1) / 2) / sr


def pool(
    h: np.ndarray, times: np.ndarray, duration: float, *, win, hop: float, pooling: str = "mean"
) -> np.ndarray:
    """Pool frame embeddings per clip or per window of a grid.

    Args:
        h: frame embeddings ``(t, d)``.
        times: their centre times in seconds ``(t,)``.
        duration: the clip's length in seconds.
        win: window length in seconds, or ``None`` for one row per clip.
        hop: window step in seconds.
        pooling: ``"mean"`` or ``"mean_std"``.

    Returns:
        float32 ``(1, d')`` per clip or ``(n_frames(duration, win, hop), d')`` per window, with
        ``d' = d`` (mean) or ``2 d`` (mean, then standard deviation). A window holding no frame time
        (only possible when ``win`` is shorter than the frame step) takes its nearest frame.
    """
    h = np.asarray(h, np.float64)
    if win is None:
        member = np.ones((1, len(h)), bool) if len(h) else np.zeros((0, 0), bool)
    else:
        count = n_frames(duration, win=win, hop=hop)
        start = np.arange(count)[:, None] * hop
        member = (times[None, :] >= start - 1e-9) & (times[None, :] < start + win - 1e-9)
        empty = ~member.any(axis=1)
        if empty.any() and len(h):
            centre = start[empty, 0] + win / 2
            member[empty, np.abs(times[None, :] - centre[:, None]).argmin(axis=1)] = True
    if member.shape[0] == 0 or len(h) == 0:
        width = h.shape[1] * (2 if pooling == "mean_std" else 1)
        return np.zeros((member.shape[0] if len(h) else 0, width), np.float32)
    w = member / member.sum(axis=1, keepdims=True)
    mean = w @ h
    if pooling == "mean":
        return mean.astype(np.float32)
    var = np.maximum(w @ (h * h) - mean**2, 0.0)
    return np.concatenate([mean, np.sqrt(var)], axis=1).astype(np.float32)


@functools.cache
def _load(folder: Path, weights: str, trust_remote_code: bool, device: str):
    """The feature extractor and the model of a folder, on ``device`` in evaluation mode."""
    try:
        from transformers import AutoFeatureExtractor, AutoModel
    except ImportError as e:
        raise SslModelError(_no_extra(str(folder))) from e
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the extraction's own bar counts files
    try:
        fe = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=trust_remote_code)
        net = AutoModel.from_pretrained(folder, trust_remote_code=trust_remote_code)
    except Exception as e:
        raise SslModelError(
            f"{folder}: cannot load the model ({type(e).__name__}: {e}); MERT checkpoints need "
            "trust_remote_code=True"
        ) from e
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return fe, net.to(device).eval()


@dataclass(frozen=True)
class SslEmbeddings:
    """One layer of a self-supervised model's hidden states, pooled per clip or per window.

    Call it on a mono signal at ``sr``: ``(1, d)`` per clip, ``(n_frames(duration, win, hop), d)``
    per window (``2 d`` columns with ``pooling="mean_std"``), ``d`` the model's hidden size.

    Attributes:
        model: a local model folder, or a hub id (see :func:`model_folder`).
        layer: which of ``transformers``' ``hidden_states``: ``0`` is the transformer's input (the
            projected convolutional features), ``i`` the output of block ``i``; negative counts
            from the last (``-1``).
        win: window length in seconds; ``None``: one row for the whole clip.
        hop: window step in seconds (with ``win``).
        pooling: ``"mean"`` or ``"mean_std"``.
        chunk: longest input encoded at once, in seconds.
        trust_remote_code: run the model code that ships with the checkpoint (MERT).
        device: torch device (``"cpu"``, ``"cuda"``).
        sr: the model's sampling rate; ``0``: read from its ``preprocessor_config.json``.
        weights: SHA-256 of the folder's config and weights (set on construction), so the feature
            cache misses when the weights change.
        name: cache folder and progress label (set from the other fields).
        version: bump when the computation changes (invalidates caches).

    Raises:
        SslModelError: on construction, when the model cannot be found or lacks its files.
    """

    model: str
    layer: int = -1
    win: float | None = None
    hop: float = 1.0
    pooling: str = "mean"
    chunk: float = 30.0
    trust_remote_code: bool = False
    device: str = "cpu"
    sr: int = 0
    weights: str = ""
    name: str = ""
    version: int = 1

    #: One process: the model is loaded once and uses torch's own threads.
    workers: ClassVar[int] = 1

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}")
        if self.win is not None and not (self.win > 0 and self.hop > 0):
            raise ValueError(f"win and hop must be positive, got {self.win}, {self.hop}")
        if not DEVICE.fullmatch(self.device):
            raise ValueError(f"device must be cpu, cuda, cuda:<n>, mps or xpu, got {self.device!r}")
        if not self.chunk >= 1.0:
            raise ValueError(f"chunk must be at least 1 s, got {self.chunk}")
        folder = model_folder(self.model)
        config = self.config(folder)
        layers = int(config.get("num_hidden_layers", 0)) + 1
        if not -layers <= self.layer < layers:
            raise SslModelError(
                f"{self.model}: layer {self.layer} does not exist; the model has {layers} hidden "
                f"states (0 .. {layers - 1}, or -1 .. -{layers})"
            )
        if not self.sr:
            pre = _read_json(folder / "preprocessor_config.json")
            object.__setattr__(self, "sr", int(pre.get("sampling_rate", 16000)))
        if not self.weights:
            object.__setattr__(self, "weights", weights_fingerprint(folder))
        if not self.name:
            slug = re.sub(r"[^\w.-]+", "-", Path(self.model.rstrip("/")).name or "model")
            level = "clip" if self.win is None else f"win{self.win:g}_hop{self.hop:g}"
            pooled = "" if self.pooling == "mean" else f"_{self.pooling}"
            object.__setattr__(self, "name", f"ssl_{slug}_layer{self.layer}{pooled}_{level}")

    @staticmethod
    def config(folder: str | os.PathLike) -> dict:
        """A model folder's ``config.json``."""
        return _read_json(Path(folder) / "config.json")

    @property
    def folder(self) -> Path:
        """The model's local folder."""
        return model_folder(self.model)

    @property
    def geometry(self) -> ConvGeometry:
        """The convolutional feature encoder's frame step and receptive field."""
        c = self.config(self.folder)
        return ConvGeometry.of(tuple(c["conv_kernel"]), tuple(c["conv_stride"]))

    @property
    def short(self) -> str:
        """The model's name and layer, for tables: ``"wav2vec2-base L-1"``."""
        return f"{Path(self.model.rstrip('/')).name} L{self.layer}"

    @property
    def dim(self) -> int:
        """Number of columns: the hidden size, doubled with ``mean_std``."""
        d = int(self.config(self.folder)["hidden_size"])
        return 2 * d if self.pooling == "mean_std" else d

    def columns(self) -> list[str]:
        """Column names: ``<stat>_<unit>`` of the layer's hidden units."""
        d = int(self.config(self.folder)["hidden_size"])
        stats = ["mean"] if self.pooling == "mean" else ["mean", "std"]
        return [f"{s}_{i}" for s in stats for i in range(d)]

    def frames(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
        """The chosen layer's frame embeddings of one clip and their centre times.

        Args:
            y: mono signal ``(n,)`` at the model's rate.
            sr: its sampling rate (must be :attr:`sr`).

        Returns:
            float32 ``(t, d)`` embeddings and float64 ``(t,)`` times in seconds.
        """
        if sr != self.sr:
            raise ValueError(f"{self.model} takes {self.sr} Hz audio, got {sr} Hz")
        import torch

        fe, net = _load(self.folder, self.weights, self.trust_remote_code, self.device)
        geo = ConvGeometry.of(tuple(net.config.conv_kernel), tuple(net.config.conv_stride))
        y = np.asarray(y, np.float32)
        step = max(geo.field, round(self.chunk * sr / geo.stride) * geo.stride)
        starts = list(range(0, len(y), step))
        if len(starts) > 1 and len(y) - starts[-1] < geo.field:
            starts.pop()  # a tail shorter than one frame joins the chunk before it
        ends = [*starts[1:], len(y)]
        hs, ts = [], []
        for a, b in zip(starts, ends, strict=True):
            if b - a < geo.field:
                continue
            inputs = fe(y[a:b], sampling_rate=sr, return_tensors="pt")
            with torch.inference_mode():
                out = net(**{k: v.to(self.device) for k, v in inputs.items()},
                          output_hidden_states=True)  # fmt: skip
            h = out.hidden_states[self.layer][0].float().cpu().numpy()
            hs.append(h)
            ts.append(geo.times(len(h), sr, offset=a))
        if not hs:
            return np.zeros((0, int(net.config.hidden_size)), np.float32), np.zeros(0)
        return np.concatenate(hs), np.concatenate(ts)

    def __call__(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Pooled embeddings of one clip: float32 ``(1, d)`` or ``(windows, d)``."""
        h, t = self.frames(y, sr)
        return pool(h, t, len(y) / sr, win=self.win, hop=self.hop, pooling=self.pooling)
