"""Speech-pretrained encoders transferred to music quadrants (Gomez-Canon et al. 2020, 2021).

Data (2021, section 3.1 and Table 1): unlabelled speech per language (English: LibriSpeech;
Mandarin: AISHELL-1; ``mix``: equal shares of both) in two amounts (Experiment 1: 3 h,
Experiment 2: 30 h), 85 / 15 % pretraining train / validation; quadrant-labelled music with
lyrics (English: 4Q-Emotion; Mandarin: CH-818), 70 % train (of which 85 / 15 % train /
validation) and 30 % test, stratified by class. Features: 1 s log-mel patches, 128 bands x 31
frames, 50 % overlap (:class:`~mer_ser.features.MelPatches`).

Encoders (2021, section 3.3): the SCAE (denoising, Gaussian noise 0.3, MSE, Adam 1e-3) and CPC
(4 past patches, 2 future terms, binary consecutive-or-not objective, Adam 1e-3 with decay
4e-6), each pretrained on each speech pool. The 2020 paper's third encoder (section III-B,
Table II), Coutinho & Schuller's LSTM-DAE on 260 ComParE features at 1 Hz: **DAE-Classifier**
(windows of 5 s, 100 hidden blocks) and **DAE-Sparsity** (10 s, an over-complete 800), its
weights "kept fixed" under a new LSTM block and a softmax over the quadrants
(:class:`~mer_ser.models.PackedDAEClassifier`); quadrant head only, as Table II.

Transfer (2020, section III-C; 2021, section 3.3, Fig. 2): the encoder with the multi-task head
(quadrant, arousal, valence). **Feat. Ext.**: encoder frozen, the head trained at lr 1e-4.
**Full**: then "releasing the weights of the whole network and continue training" at lr 5e-4,
i.e. each Full run starts from its Feat. Ext. run. **Baseline CNN** (2020, section IV-B): the same
architecture trained on the music only. 4 runs each.

Settings: ``<speech>2<music>`` for speech ``eng``, ``man``, ``mix`` and music ``eng``, ``man``.

Scores (2020, Table II; 2021, Table 2): precision, recall and F-score per head, "macro-weighted":
the support-weighted average over classes (scikit-learn's ``average="weighted"``; it reproduces
the 2020 English baseline exactly: a model that always predicts the 48 % class scores P 0.23,
R 0.48, F 0.31). Predictions are made per patch and aggregated to clips: a clip's class is the
arg-max of its patches' mean quadrant probabilities (arousal and valence: mean probability above
0.5), and scores are computed over test clips.

Decisions the papers leave open, stated: patches are standardised with one mean and standard
deviation of the pretraining pool's training patches (the baseline: of the music's training
patches); each encoder is pretrained once and the 4 runs are transfer runs (run ``k`` of Full
starts from run ``k`` of Feat. Ext.); a frozen encoder runs in inference mode, so Feat. Ext. trains
the head on latents computed once (:class:`~mer_ser.models.LatentClassifier`, exactly equal);
early stopping on the validation loss with the best epoch kept (Keras' usual callback; the papers
give no epoch counts). The DAE encoders: features standardised per feature with the pool's
training statistics, the DAE reconstructs their sigmoid (its outputs are sigmoid, as Coutinho &
Schuller's) from inputs with Gaussian noise 0.3, Adam 1e-3 (the 2020 paper gives only the SCAE's
noise and rate and says it "reproduced the model"); the new LSTM block has 100 cells and trains
at Feat. Ext.'s rate 1e-4; speech windows do not overlap, music windows step by 1 s, and a clip
shorter than a window is one masked window; clips are scored as with patches (mean window
probabilities).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mer_ser import metrics
from mer_ser._io import sha256_arrays
from mer_ser.corpora import open_corpora
from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus
from mer_ser.errors import CorpusError
from mer_ser.experiments.jobs import (
    JobCache,
    classifier_state,
    job_key,
    run_classifier_job,
    run_job,
)
from mer_ser.experiments.splits import stratified_group_split, stratified_split
from mer_ser.features import ComParE1Hz, default_cache_dir, extract
from mer_ser.features.mel import MelPatches
from mer_ser.models.autoencoders import CPC, SCAE, LatentClassifier, SCAEClassifier, SCAEEncoder
from mer_ser.models.lstm import LSTMDAE, PackedDAEClassifier
from mer_ser.train.engine import (
    Fold,
    TrainConfig,
    _deep_merge,
    make_autoencoder_fit,
    make_classifier_fit,
    make_cpc_fit,
    make_fit,
)

#: Speech pools and music sets by language, in Table 2's order of settings.
SPEECH = ("man", "eng", "mix")
MUSIC = ("man", "eng")
SETTINGS = tuple(f"{s}2{m}" for m in MUSIC for s in SPEECH)
#: ISO 639 codes of the two languages.
LANGUAGE_CODES = {"eng": "en", "man": "zh"}
MODES = {"feat_ext": "Feat. Ext.", "full": "Full"}
#: The notebook's ``corpora`` keys of this protocol.
CORPORA = ("speech_eng", "speech_man", "music_eng", "music_man")
WINDOW = CPC.n_past + 2  # patches per CPC window: 4 past, 2 future
#: The 2020 paper's LSTM-DAE encoders (section III-B): seconds of 1 Hz ComParE frames per window
#: and DAE hidden blocks.
DAE_VARIANTS = {"DAE-Classifier": (5, 100), "DAE-Sparsity": (10, 800)}
ENCODERS = ("SCAE", "CPC", *DAE_VARIANTS)


@dataclass(frozen=True)
class Protocol:
    """Amounts, epochs and runs of one profile (``paper`` = the papers)."""

    name: str
    runs: int = 4
    amounts: dict = field(default_factory=lambda: {"exp1": 3 * 3600.0, "exp2": 30 * 3600.0})
    encoders: tuple[str, ...] = ENCODERS
    modes: tuple[str, ...] = ("feat_ext", "full")
    full_encoders: tuple[str, ...] = ("SCAE", "CPC")  # encoders that also get a Full mode
    full_amounts: tuple[str, ...] = ("exp1", "exp2")  # amounts whose encoders get a Full mode
    pretrain_epochs: int = 100
    cpc_epochs: int = 100
    pretrain_patience: int = 10
    feat_ext_epochs: int = 100
    full_epochs: int = 100
    baseline_epochs: int = 100
    dae_pretrain_epochs: int = 100
    dae_epochs: int = 100
    patience: int = 10
    batch_size: int = 32
    lr_pretrain: float = 1e-3
    cpc_decay: float = 4e-6
    lr_feat_ext: float = 1e-4
    lr_full: float = 5e-4
    head_block: int = 256  # 2021: task blocks of 256 (2020: 512)
    dae_noise: float = 0.3
    dae_lstm: int = 100  # cells of the DAE-Classifier's new LSTM block
    cpc_objective: str = "binary"  # or "infonce"
    music_fractions: tuple[float, float, float] = (0.7 * 0.85, 0.7 * 0.15, 0.3)
    pretrain_val: float = 0.15
    music_patch_stride: int = 1  # 1: every 50 %-overlapping patch; 2: every other one
    reductions: tuple[str, ...] = ()

    def config(self, stage: str) -> TrainConfig:
        """Adam and early stopping of ``scae``, ``cpc``, ``feat_ext``, ``full`` or ``baseline``."""
        epochs, lr, patience, decay = {
            "scae": (self.pretrain_epochs, self.lr_pretrain, self.pretrain_patience, 0.0),
            "cpc": (self.cpc_epochs, self.lr_pretrain, self.pretrain_patience, self.cpc_decay),
            "feat_ext": (self.feat_ext_epochs, self.lr_feat_ext, self.patience, 0.0),
            "full": (self.full_epochs, self.lr_full, self.patience, 0.0),
            "baseline": (self.baseline_epochs, self.lr_full, self.patience, 0.0),
            "dae_pretrain": (self.dae_pretrain_epochs, self.lr_pretrain, self.pretrain_patience,
                             0.0),
            "dae": (self.dae_epochs, self.lr_feat_ext, self.patience, 0.0),
        }[stage]  # fmt: skip
        cfg = TrainConfig(
            optimizer="adam",
            learning_rate=lr,
            lr_decay=decay,
            batch_size=self.batch_size,
            max_epochs=epochs,
            patience=patience,
            monitor="loss",
        )
        if stage == "dae_pretrain":  # inputs standardised beforehand, targets in (0, 1)
            return dataclasses.replace(
                cfg,
                loss="mse",
                input_noise=self.dae_noise,
                standardise_inputs=False,
                standardise_outputs=False,
            )
        if stage == "dae":
            return dataclasses.replace(cfg, freeze=("encoder",))
        return cfg


PROTOCOLS = {
    "paper": Protocol("paper"),
    "default": Protocol(
        "default",
        runs=2,
        amounts={"exp1": 3.0, "exp2": 30.0},
        encoders=("SCAE", "CPC", "DAE-Classifier"),
        full_encoders=("SCAE",),
        full_amounts=("exp2",),
        pretrain_epochs=2,
        cpc_epochs=3,
        feat_ext_epochs=8,
        full_epochs=2,
        baseline_epochs=3,
        dae_pretrain_epochs=30,
        dae_epochs=60,
        patience=4,
        music_patch_stride=3,
        reductions=(
            "speech per pool 3 h / 30 h -> 3 s / 30 s (one and nine windows of 6 patches; the "
            "1:10 ratio of Experiments 1 and 2 kept): an SCAE step costs about 50 ms per patch "
            "on 2 cores",
            "pretraining 2 epochs (SCAE) and 3 (CPC); Feat. Ext. 8 epochs, Full 2, baseline 3, "
            "patience 4: the 2-core budget",
            "Full mode for the SCAE of Experiment 2 only (CPC-Full and Experiment 1's Full in "
            "`paper`): a Full epoch costs about 17 ms per patch",
            "runs 4 -> 2; every third 50 %-overlapping music patch (4 per 6 s clip)",
            "DAE-Classifier only (DAE-Sparsity, 800 blocks on 10 s windows, in `paper`: the "
            "built-in music clips last 6 s); DAE pretraining 30 epochs, its classifier 60 "
            "(an epoch of a 1 Hz LSTM on these sets costs milliseconds)",
        ),
    ),
}
#: Tests only: the default's structure, smaller still.
PROTOCOLS["quick"] = dataclasses.replace(
    PROTOCOLS["default"],
    name="quick",
    amounts={"exp1": 4.0, "exp2": 14.0},
    pretrain_epochs=1,
    cpc_epochs=1,
    feat_ext_epochs=4,
    full_epochs=1,
    baseline_epochs=1,
    dae_pretrain_epochs=3,
    dae_epochs=6,
    patience=2,
    batch_size=16,
    reductions=("tests only: 4 s / 14 s of speech, 1-6 epochs, 2 runs, every third patch",),
)


@dataclass(frozen=True)
class MusicPatches:
    """Quadrant-labelled music as patches.

    Attributes:
        name: corpus name.
        clip_ids: ``C`` clip ids.
        quadrant: ``(C,)`` 0..3 for Q1..Q4.
        groups: ``(C,)`` song of each clip (never on both sides of a split).
        x: ``(P, 128, 31, 1)`` log-mel patches (dB).
        clip: ``(P,)`` clip index of each patch.
        stride: every ``stride``-th patch of a clip was kept (patch ``k`` of a clip starts at
            mel frame ``k * stride * patch_step``).
    """

    name: str
    clip_ids: tuple[str, ...]
    quadrant: np.ndarray
    groups: np.ndarray
    x: np.ndarray
    clip: np.ndarray
    stride: int = 1

    def rows(self, clips) -> np.ndarray:
        """Patch rows of the clips ``clips`` (indices)."""
        return np.flatnonzero(np.isin(self.clip, np.asarray(clips)))


def select_language(corpus: Corpus, code: str) -> Corpus:
    """The clips of ``corpus`` in language ``code`` (``"en"``, ``"zh"``).

    A corpus whose clips are all of undetermined language (``"und"``, e.g. a 4Q-Emotion copy) is
    taken whole: choosing it for a language says what it is.

    Raises:
        CorpusError: the corpus has other languages but none is ``code``.
    """
    langs = set(corpus.clips["language"].astype(str))
    if code in langs:
        return corpus.subset(corpus.clips.index[corpus.clips["language"] == code])
    if langs == {"und"}:
        return corpus
    raise CorpusError(f"{corpus.name}: no clip in language {code!r} (it has {sorted(langs)})")


def music_patches(corpus: Corpus, features: dict[str, np.ndarray], stride: int = 1):
    """:class:`MusicPatches` of the quadrant-labelled clips with at least one patch.

    Args:
        corpus: a static corpus with a ``quadrant`` column.
        features: clip id -> ``(n, 1, 128, 31)`` from :class:`~mer_ser.features.MelPatches`.
        stride: keep every ``stride``-th patch of each clip.
    """
    if corpus.static is None or "quadrant" not in corpus.static:
        raise CorpusError(f"{corpus.name}: corpus has no quadrant labels")
    q = corpus.static["quadrant"]
    ids = [
        c
        for c in corpus.clips.index
        if c in q.index and isinstance(q[c], str) and c in features and len(features[c]) > 0
    ]
    if not ids:
        raise CorpusError(f"{corpus.name}: no clip has both a quadrant and a 1 s patch")
    parts = [features[c][::stride, 0, :, :, None] for c in ids]
    return MusicPatches(
        corpus.name,
        tuple(ids),
        np.asarray([QUADRANTS.index(q[c]) for c in ids], dtype=np.int32),
        corpus.clips.loc[ids, "group"].astype(str).to_numpy(),
        np.concatenate(parts).astype(np.float32),
        np.repeat(np.arange(len(ids)), [len(p) for p in parts]),
        stride,
    )


def speech_blocks(corpus: Corpus, features: dict[str, np.ndarray]) -> np.ndarray:
    """Every run of ``WINDOW`` consecutive patches of every clip, ``(n, WINDOW, 128, 31, 1)``.

    Blocks do not overlap within a clip, so each patch appears at most once.
    """
    out = []
    for c in corpus.clips.index:
        f = features.get(c)
        if f is None:
            continue
        n = len(f) // WINDOW
        if n:
            out.append(f[: n * WINDOW, 0, :, :, None].reshape(n, WINDOW, *f.shape[2:], 1))
    if not out:
        raise CorpusError(f"{corpus.name}: no clip is long enough for {WINDOW} consecutive patches")
    return np.concatenate(out).astype(np.float32)


def frame_windows(frames, window: int) -> np.ndarray:
    """Non-overlapping windows of ``window`` 1 Hz frames of every clip, ``(n, window, F)``.

    ``frames``: per clip ``(T, F)`` (:class:`~mer_ser.features.ComParE1Hz`). Each frame appears at
    most once; a clip's last ``T mod window`` frames are left out.
    """
    out = [
        f[: (len(f) // window) * window].reshape(-1, window, f.shape[1])
        for f in frames
        if len(f) >= window
    ]
    if not out:
        raise CorpusError(f"no speech clip is long enough for a window of {window} frames")
    return np.concatenate(out).astype(np.float32)


def music_windows(music: MusicPatches, frames: dict, window: int, hop: int = 1) -> MusicPatches:
    """The clips of ``music`` as packed windows of ``window`` 1 Hz frames (step ``hop``).

    Same clips, quadrants and songs as ``music`` (so splits made on it apply); ``x`` is
    ``(P, window, F + 1)`` with a last channel marking valid frames (1) and padding (0): a clip
    shorter than ``window`` gives one masked window
    (:class:`~mer_ser.models.PackedDAEClassifier`).

    Raises:
        CorpusError: a clip has no frame (shorter than the 2 s feature window) or none at all.
    """
    parts = []
    for c in music.clip_ids:
        f = frames.get(c)
        if f is None or len(f) == 0:
            raise CorpusError(
                f"{music.name}: clip {c!r} has no 1 Hz feature frame (audio shorter than 2 s)"
            )
        f = np.hstack([f, np.ones((len(f), 1), f.dtype)])
        if len(f) < window:
            parts.append(np.pad(f, ((0, window - len(f)), (0, 0)))[None])
        else:
            starts = range(0, len(f) - window + 1, hop)
            parts.append(np.stack([f[i : i + window] for i in starts]))
    return MusicPatches(
        music.name,
        music.clip_ids,
        music.quadrant,
        music.groups,
        np.concatenate(parts).astype(np.float32),
        np.repeat(np.arange(len(parts)), [len(p) for p in parts]),
    )


def window_seconds(extractor: MelPatches) -> float:
    """Audio covered by one window of ``WINDOW`` consecutive patches."""
    frames = (WINDOW - 1) * extractor.patch_step + extractor.patch_frames
    return frames * extractor.hop_length / extractor.sr


def _split_sizes(n: int, val: float) -> tuple[int, int]:
    """Training and validation sizes of ``n`` windows split ``1 - val`` / ``val``."""
    part = stratified_split(np.zeros(n), (1 - val, val))
    return int((part == 0).sum()), int((part == 1).sum())


def draw_pool(
    blocks: dict[str, np.ndarray],
    language: str,
    seconds: float,
    *,
    extractor=None,
    seed,
    window_s: float | None = None,
):
    """A seeded draw of ``seconds`` of speech as windows (``mix``: half English, half Mandarin).

    A window covers ``window_s`` seconds (default: :func:`window_seconds` of ``extractor``; 5
    for the DAE-Classifier's 5 frames at 1 Hz).

    Raises:
        CorpusError: the pool holds less speech than asked for.
    """
    sec = window_s if window_s is not None else window_seconds(extractor or MelPatches())
    n = max(1, round(seconds / sec))
    sources = ("eng", "man") if language == "mix" else (language,)
    shares = [n // len(sources) + (i < n % len(sources)) for i in range(len(sources))]
    out = []
    for i, (src, k) in enumerate(zip(sources, shares, strict=True)):
        b = blocks[src]
        if k > len(b):
            have = len(b) * sec
            raise CorpusError(
                f"speech pool {src!r}: {seconds:g} s asked for ({k} windows), it holds "
                f"{have:.0f} s ({len(b)} windows); use a larger pool or a smaller amount"
            )
        rng = np.random.default_rng([seed, i, len(b)])
        out.append(b[np.sort(rng.permutation(len(b))[:k])])
    return np.concatenate(out)


def _chunked(fn, x, *args, chunk: int = 128):
    """``fn(*args, x_chunk)`` over fixed-size chunks of ``x``, outputs concatenated.

    The last chunk is zero-padded, so one compiled program serves every length.
    """
    outs = []
    for i in range(0, len(x), chunk):
        part = x[i : i + chunk]
        n = len(part)
        if n < chunk:
            part = np.concatenate([part, np.zeros((chunk - n, *part.shape[1:]), part.dtype)])
        out = jax.device_get(fn(*args, jnp.asarray(part)))
        outs.append(jax.tree.map(lambda a, n=n: np.asarray(a)[:n], out))
    return jax.tree.map(lambda *a: np.concatenate(a), *outs)


def _fold(train, val, widths=None):
    """One engine fold of rows ``train`` and ``val``, padded to ``widths`` (train, val) if given.

    Padding rows have weight 0; folds of equal widths (and data of equal shapes) share one
    compiled fit.
    """
    tw, vw = widths or (len(train), len(val))

    def pack(idx, width):
        pad = (0, max(width, 1) - len(idx))
        return np.pad(np.asarray(idx, np.int32), pad), np.pad(np.ones(len(idx), np.float32), pad)

    return Fold(*pack(train, tw), *pack(val, vw))


def _scores(prob: dict[str, np.ndarray], y_clip: np.ndarray, clip: np.ndarray, clips):
    """Per-head confusion of clip-level decisions from patch probabilities.

    ``prob``: ``"quadrant"`` ``(P, 4)`` softmax and, for multi-task models, ``"arousal"`` /
    ``"valence"`` ``(P,)`` sigmoid. Returns head -> ``(K, K)`` confusion over the clips ``clips``
    (rows true), for the heads in ``prob``.
    """
    idx = {c: np.flatnonzero(clip == c) for c in clips}
    y = y_clip[np.asarray(clips)]
    q = np.stack([prob["quadrant"][idx[c]].mean(axis=0) for c in clips])
    out = {"quadrant": metrics.confusion(y, q.argmax(axis=1), 4)}
    for head, positive in (("arousal", (0, 1)), ("valence", (0, 3))):
        if head in prob:
            p = np.asarray([prob[head][idx[c]].mean() for c in clips])
            out[head] = metrics.confusion(
                np.isin(y, positive).astype(int), (p > 0.5).astype(int), 2
            )
    return out


def head_scores(cm: np.ndarray) -> dict[str, float]:
    """Weighted precision, recall, F-score (the papers' "macro-weighted") and accuracy."""
    sc = metrics.classification_scores(cm)
    return {
        "precision": float(sc.loc["weighted", "precision"]),
        "recall": float(sc.loc["weighted", "recall"]),
        "f1": float(sc.loc["weighted", "f1"]),
        "macro_f1": float(sc.loc["macro", "f1"]),
        "accuracy": float(sc.loc["accuracy", "f1"]),
    }


class LanguageTransfer:
    """Gomez-Canon et al.'s experiments on speech pools and music sets of two languages.

    Args:
        protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS`.
        speech: ``{"eng": blocks, "man": blocks}`` from :func:`speech_blocks`.
        music: ``{"eng": MusicPatches, "man": MusicPatches}``.
        extractor: the :class:`~mer_ser.features.MelPatches` that made them.
        frames: 1 Hz ComParE frames for the DAE encoders, from :func:`load_frame_sets`:
            ``{"speech": {"eng": [(T, 260), ...], "man": [...]}, "music": {"eng": {clip id:
            (T, 260)}, "man": {...}}}`` (the music clips those of ``music``).
        cache_dir: trained jobs (``None``: no cache).
        seed: draws, splits and every run.
        progress: a progress bar over the experiments in :meth:`run`.
        cached_only: never train: a job missing from ``cache_dir`` raises
            :class:`~mer_ser.experiments.jobs.NotTrained` (reading results another run made).

    Attributes:
        confusions: ``(encoder, mode, setting, amount)`` -> test-clip confusion summed over runs.
        jobs: ``(encoder, mode, setting, amount)`` -> the trained runs.
        pretraining: ``(encoder, speech, amount)`` -> windows, seconds, epochs, loss.
    """

    def __init__(
        self,
        protocol,
        *,
        speech,
        music,
        extractor=None,
        frames=None,
        cache_dir=None,
        seed=0,
        progress=True,
        cached_only=False,
    ):
        self.protocol = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
        unknown = set(self.protocol.encoders) - set(ENCODERS)
        if unknown:
            raise ValueError(f"unknown encoders {sorted(unknown)}; choose from {ENCODERS}")
        self.speech, self.music, self.frames = speech, music, frames
        self.extractor = extractor or MelPatches()
        self.cache = JobCache(cache_dir, read_only=cached_only)
        self.seed = seed
        self.progress = progress
        p = self.protocol
        self.splits = {}
        for lang, m in music.items():
            part = stratified_group_split(m.quadrant, m.groups, p.music_fractions, seed=seed)
            self.splits[lang] = [np.flatnonzero(part == k) for k in range(3)]
        self._fits: dict = {}
        self._memo: dict = {}
        self.confusions: dict = {}
        self.pretraining: dict = {}
        self.jobs: dict = {}  # (encoder, mode, setting, amount) -> trained runs

    # -- shared compiled fits (one per stage: jobs of equal shapes compile once) ---------------
    def _fit(self, stage: str, variant: str | None = None):
        if (stage, variant) not in self._fits:
            p, cfg = self.protocol, self.protocol.config(stage)
            if stage == "dae_pretrain":
                hidden = DAE_VARIANTS[variant][1]
                # one program for every pool and amount (run_job compiles once per fit)
                job_fit, apply = make_fit(lambda r: LSTMDAE(260, hidden, rngs=r), cfg)[0], None
            elif stage == "dae":
                job_fit, apply = make_classifier_fit(self._build("dae", variant), cfg)
            elif stage == "scae":
                fit, apply = make_autoencoder_fit(lambda r: SCAE(rngs=r), cfg)
                job_fit = lambda k, fold, x, y, pre=None: fit(k, fold, x)  # noqa: E731
            elif stage == "cpc":
                fit, apply = make_cpc_fit(lambda r: CPC(rngs=r), cfg, objective=p.cpc_objective)
                job_fit = lambda k, fold, x, y, pre=None: fit(k, fold, x)  # noqa: E731
            elif stage == "feat_ext":
                job_fit, apply = make_classifier_fit(self._build("latent"), cfg)
            else:
                job_fit, apply = make_classifier_fit(self._build("classifier"), cfg)
            self._fits[(stage, variant)] = (job_fit, apply)
        return self._fits[(stage, variant)]

    def _build(self, kind: str, variant: str | None = None):
        block = self.protocol.head_block
        if kind == "dae":
            hidden, cells = DAE_VARIANTS[variant][1], self.protocol.dae_lstm
            return lambda r: PackedDAEClassifier(260, hidden, cells, rngs=r)
        return {
            "scae": lambda r: SCAE(rngs=r),
            "cpc": lambda r: CPC(rngs=r),
            "latent": lambda r: LatentClassifier(block=block, rngs=r),
            "classifier": lambda r: SCAEClassifier(block=block, rngs=r),
        }[kind]

    # -- pretraining ---------------------------------------------------------------------------
    def pretrain(self, encoder: str, language: str, amount: str):
        """The encoder pretrained on a speech pool: ``(job, mean, std)`` (cached).

        ``encoder``: ``"SCAE"`` or ``"CPC"``; ``language``: ``"eng"``, ``"man"``, ``"mix"``;
        ``amount``: a key of the protocol's ``amounts``.
        """
        memo = ("pretrain", encoder, language, amount)
        if memo in self._memo:
            return self._memo[memo]
        p = self.protocol
        w = draw_pool(
            self.speech, language, p.amounts[amount], extractor=self.extractor, seed=self.seed
        )
        part = stratified_split(np.zeros(len(w)), (1 - p.pretrain_val, p.pretrain_val),
                                seed=self.seed)  # fmt: skip
        train_w, val_w = np.flatnonzero(part == 0), np.flatnonzero(part == 1)
        mean, std = float(w[train_w].mean()), float(w[train_w].std()) or 1.0
        ws = (w - mean) / std
        stage = encoder.lower()
        # Every amount is trained at the largest amount's shapes (zero windows and weight-0 fold
        # entries added), so one compiled program serves both experiments.
        n_max = max(self._windows(a) for a in p.amounts)
        widths = _split_sizes(n_max, p.pretrain_val)
        ws = np.concatenate([ws, np.zeros((n_max - len(ws), *ws.shape[1:]), ws.dtype)])
        if encoder == "SCAE":  # patches of the windows
            x = ws.reshape(-1, *ws.shape[2:])
            rows = lambda idx: (idx[:, None] * WINDOW + np.arange(WINDOW)).ravel()  # noqa: E731
            fold = _fold(rows(train_w), rows(val_w), tuple(w * WINDOW for w in widths))
        else:
            x, fold = ws, _fold(train_w, val_w, widths)
        fit, _ = self._fit(stage)
        spec = {
            "kind": "gomez_canon_pretrain",
            "encoder": encoder,
            "language": language,
            "seconds": p.amounts[amount],
            "data": sha256_arrays(("windows",), (w,)),
            "cfg": dataclasses.asdict(p.config(stage)),
            "objective": p.cpc_objective if encoder == "CPC" else "mse",
            "seed": self.seed,
        }
        job = run_classifier_job(
            fit,
            key=job_key(spec),
            seed=self.seed,
            runs=1,
            fold=fold,
            x=jnp.asarray(x),
            labels=jnp.zeros(len(x), jnp.int32),
            cache=self.cache,
        )
        self.pretraining[(encoder, language, amount)] = {
            "windows": len(w),
            "seconds": len(w) * window_seconds(self.extractor),
            "epochs": int(job.epochs[0]),
            "best_val_loss": float(job.best_val[0]),
        }
        self._memo[memo] = (job, mean, std)
        return self._memo[memo]

    def _windows(self, amount: str, window_s: float | None = None) -> int:
        sec = window_s if window_s is not None else window_seconds(self.extractor)
        return max(1, round(self.protocol.amounts[amount] / sec))

    # -- the 2020 paper's LSTM-DAE encoders ----------------------------------------------------
    def _dae_speech(self, variant: str) -> dict[str, np.ndarray]:
        if self.frames is None:
            raise ValueError(
                f"{variant} needs 1 Hz ComParE frames: pass frames=load_frame_sets(...)"
            )
        memo = ("dae_speech", variant)
        if memo not in self._memo:
            window = DAE_VARIANTS[variant][0]
            sp = self.frames["speech"]
            self._memo[memo] = {k: frame_windows(sp[k], window) for k in ("eng", "man")}
        return self._memo[memo]

    def _dae_music(self, variant: str, lang: str) -> MusicPatches:
        memo = ("dae_music", variant, lang)
        if memo not in self._memo:
            window = DAE_VARIANTS[variant][0]
            self._memo[memo] = music_windows(self.music[lang], self.frames["music"][lang], window)
        return self._memo[memo]

    def pretrain_dae(self, variant: str, language: str, amount: str):
        """The LSTM-DAE of ``variant`` pretrained on a speech pool: ``(job, mean, std)`` (cached).

        Coutinho & Schuller's DAE as the 2020 paper reproduces it: windows of the variant's
        length, features standardised with the pool's training statistics (``mean``, ``std``:
        ``(260,)``), the sigmoid of the clean input reconstructed from the input with Gaussian
        noise (``dae_noise``), MSE, Adam; the best validation epoch kept.
        """
        memo = ("pretrain", variant, language, amount)
        if memo in self._memo:
            return self._memo[memo]
        p = self.protocol
        window, hidden = DAE_VARIANTS[variant]
        w = draw_pool(self._dae_speech(variant), language, p.amounts[amount], seed=self.seed,
                      window_s=float(window))  # fmt: skip
        part = stratified_split(np.zeros(len(w)), (1 - p.pretrain_val, p.pretrain_val),
                                seed=self.seed)  # fmt: skip
        train_w, val_w = np.flatnonzero(part == 0), np.flatnonzero(part == 1)
        flat = w[train_w].reshape(-1, w.shape[-1]).astype(np.float64)
        mean, std = flat.mean(axis=0), flat.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        ws = ((w - mean) / std).astype(np.float32)
        n_max = max(self._windows(a, window) for a in p.amounts)  # one shape for all amounts
        ws = np.concatenate([ws, np.zeros((n_max - len(ws), *ws.shape[1:]), ws.dtype)])
        fold = _fold(train_w, val_w, _split_sizes(n_max, p.pretrain_val))
        spec = {
            "kind": "gomez_canon_dae",
            "variant": variant,
            "hidden": hidden,
            "language": language,
            "seconds": p.amounts[amount],
            "data": sha256_arrays(("windows",), (w,)),
            "cfg": dataclasses.asdict(p.config("dae_pretrain")),
            "seed": self.seed,
        }
        x = jnp.asarray(ws)
        job = run_job(
            self._fit("dae_pretrain", variant)[0],
            key=job_key(spec),
            seed=self.seed,
            trials=1,
            folds=jax.tree.map(lambda a: np.asarray(a)[None], fold),
            x=x,
            m=jnp.ones(x.shape[:2], bool),
            y=jax.nn.sigmoid(x),
            cache=self.cache,
        )
        self.pretraining[(variant, language, amount)] = {
            "windows": len(w),
            "seconds": float(len(w) * window),
            "epochs": int(job.epochs[0]),
            "best_val_loss": float(job.best_val[0]),
        }
        self._memo[memo] = (job, mean, std)
        return self._memo[memo]

    def _dae_inputs(self, variant: str, lang: str, mean, std) -> np.ndarray:
        """Packed music windows with features standardised by the pool's statistics."""
        m = self._dae_music(variant, lang)
        valid = m.x[..., -1:]
        feats = np.where(valid > 0, (m.x[..., :-1] - mean) / std, 0.0)
        return np.concatenate([feats, valid], axis=-1).astype(np.float32)

    def _dae_probabilities(self, variant: str, job, run: int, x) -> np.ndarray:
        """Quadrant softmax ``(n, 4)`` of run ``run`` of a DAE classifier job on windows ``x``."""
        memo = ("predict", "dae", variant)
        if memo not in self._memo:
            apply = self._fit("dae", variant)[1]
            self._memo[memo] = jax.jit(lambda s, x: apply(s, x))
        state = classifier_state(self._build("dae", variant), job, run)
        return np.asarray(jax.nn.softmax(_chunked(self._memo[memo], x, state), axis=-1))

    def _transfer_dae(self, variant: str, setting: str, amount: str) -> pd.DataFrame:
        """The DAE classifier (frozen pretrained DAE, new LSTM block, softmax) on one music set."""
        p = self.protocol
        speech_lang, _, lang = setting.partition("2")
        dae, mean, std = self.pretrain_dae(variant, speech_lang, amount)
        encoder = jax.tree.map(lambda a: np.asarray(a)[0], dae.params["encoder"])
        m = self._dae_music(variant, lang)
        xs = self._dae_inputs(variant, lang, mean, std)
        fold = self._music_fold(lang, {k: self._dae_music(variant, k) for k in self.music})
        spec = {"kind": "gc_dae", "variant": variant, "pretrained": dae.key,
                "music": _music_fingerprint(m), "split": [s.tolist() for s in self.splits[lang]],
                "runs": p.runs, "dae_lstm": p.dae_lstm,
                "cfg": dataclasses.asdict(p.config("dae")), "seed": self.seed}  # fmt: skip
        presets = [({"encoder": encoder}, {})] * p.runs
        job = self._job(("dae", variant), spec, xs, m, fold, presets)
        self.jobs[(variant, "feat_ext", setting, amount)] = job
        test = m.rows(self.splits[lang][2])
        probs = [{"quadrant": self._dae_probabilities(variant, job, k, xs[test])}
                 for k in range(p.runs)]  # fmt: skip
        kw = {"encoder": variant, "setting": setting, "amount": amount, "normalisation": "source"}
        return pd.DataFrame(self._rows(probs, lang, mode="feat_ext", music=m, **kw))

    def _encoder_preset(self, encoder: str, job):
        """``({"encoder": params}, {"encoder": batch statistics})`` of a pretrained job."""
        memo = ("preset", job.key)
        if memo not in self._memo:  # each encoder serves both music sets
            params, rest = classifier_state(self._build(encoder.lower()), job, 0)
            state = nnx.to_pure_dict(nnx.filter_state(rest, nnx.BatchStat))
            self._memo[memo] = ({"encoder": params["encoder"]}, {"encoder": state["encoder"]})
        return self._memo[memo]

    def _latents(self, preset, x) -> np.ndarray:
        """The frozen encoder's latents of patches ``x`` (inference mode), ``(P, 2, 31, 128)``."""
        model = SCAEEncoder(rngs=nnx.Rngs(0))
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        nnx.replace_by_pure_dict(params, preset[0]["encoder"])
        nnx.replace_by_pure_dict(rest, _deep_merge(nnx.to_pure_dict(rest), preset[1]["encoder"]))
        if "encode" not in self._memo:
            self._memo["encode"] = jax.jit(
                lambda p, r, x: nnx.merge(graphdef, p, r, copy=True)(x, train=False)
            )
        return _chunked(self._memo["encode"], x, params, rest)

    # -- transfer ------------------------------------------------------------------------------
    def _music_fold(self, lang: str, sets: dict | None = None):
        """The training / validation rows of one music set, padded to the widest set's.

        ``sets``: the music sets as rows (default: the patches; the DAE: its windows).
        """
        sets = sets or self.music
        widths = [tuple(len(m.rows(self.splits[k][i])) for i in (0, 1)) for k, m in sets.items()]
        m, (tr, va, _) = sets[lang], self.splits[lang]
        return _fold(m.rows(tr), m.rows(va), tuple(max(w) for w in zip(*widths, strict=True)))

    def _job(self, stage, spec, x, music: MusicPatches, fold, presets=None):
        """The protocol's runs of a transfer stage on one music set (labels: clip quadrants).

        ``stage``: a stage name, or ``(stage, variant)`` for the DAE classifiers.
        """
        labels = music.quadrant[music.clip]
        fit, _ = self._fit(*(stage if isinstance(stage, tuple) else (stage,)))
        return run_classifier_job(
            fit,
            key=job_key(spec),
            seed=self.seed,
            runs=self.protocol.runs,
            fold=fold,
            x=jnp.asarray(x),
            labels=jnp.asarray(labels),
            cache=self.cache,
            presets=presets,
        )

    def _probabilities(self, stage, job, x, runs=None) -> list[dict[str, np.ndarray]]:
        """Patch probabilities per run: quadrant softmax, arousal and valence sigmoid.

        ``runs``: which runs (default: all).
        """
        kind = "latent" if stage == "feat_ext" else "classifier"  # Full and baseline share it
        build = self._build(kind)
        if ("predict", kind) not in self._memo:
            _, apply = self._fit(stage)
            self._memo[("predict", kind)] = jax.jit(lambda s, x: apply(s, x, heads=True))
        fn = self._memo[("predict", kind)]
        out = []
        for k in range(len(job.epochs)) if runs is None else runs:
            logits = _chunked(fn, x, classifier_state(build, job, k))
            out.append(
                {
                    "quadrant": np.asarray(jax.nn.softmax(logits["quadrant"], axis=-1)),
                    "arousal": np.asarray(jax.nn.sigmoid(logits["arousal"])),
                    "valence": np.asarray(jax.nn.sigmoid(logits["valence"])),
                }
            )
        return out

    def _rows(self, probs, lang, *, encoder, setting, mode, amount, normalisation, music=None):
        """Score rows of every run (``probs``: per run, on the test rows of ``music``, in order).

        ``music``: the rows' set (default: the music's patches).
        """
        m, test = music or self.music[lang], self.splits[lang][2]
        clip = m.clip[m.rows(test)]
        rows, total = [], 0
        for r, prob in enumerate(probs):
            cms = _scores(prob, m.quadrant, clip, test)
            total = total + cms["quadrant"]
            for head, cm in cms.items():
                for metric, v in head_scores(cm).items():
                    rows.append(
                        {"protocol": "gomezcanon2021", "encoder": encoder, "setting": setting,
                         "mode": mode, "head": head, "run": r, "metric": metric, "value": v,
                         "normalisation": normalisation, "partition": "test", "amount": amount}
                    )  # fmt: skip
        self.confusions[(encoder, mode, setting, amount)] = total
        return rows

    def transfer(self, encoder: str, setting: str, amount: str) -> pd.DataFrame:
        """Feat. Ext. (and Full where the protocol asks) of one pretrained encoder on one music set.

        Returns:
            Long format ``protocol, encoder, setting, mode, head, run, metric, value,
            normalisation, partition, amount``: weighted precision, recall, F-score, macro F1
            and accuracy per head on the music's test clips.
        """
        speech_lang, _, lang = setting.partition("2")
        if setting not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if encoder in DAE_VARIANTS:
            return self._transfer_dae(encoder, setting, amount)
        p = self.protocol
        job, mean, std = self.pretrain(encoder, speech_lang, amount)
        preset = self._encoder_preset(encoder, job)
        m = self.music[lang]
        xs = (m.x - mean) / std  # the pretraining pool's statistics
        test = m.rows(self.splits[lang][2])
        fold = self._music_fold(lang)
        z = self._latents(preset, xs)
        base = {"encoder": encoder, "pretrained": job.key, "music": _music_fingerprint(m),
                "split": [s.tolist() for s in self.splits[lang]], "runs": p.runs,
                "head_block": p.head_block, "seed": self.seed}  # fmt: skip
        cfg = dataclasses.asdict(p.config("feat_ext"))
        fe = self._job("feat_ext", {**base, "kind": "gc_feat_ext", "cfg": cfg}, z, m, fold)
        self.jobs[(encoder, "feat_ext", setting, amount)] = fe
        kw = {"encoder": encoder, "setting": setting, "amount": amount, "normalisation": "source"}
        rows = []
        if "feat_ext" in p.modes:
            probs = self._probabilities("feat_ext", fe, z[test])
            rows += self._rows(probs, lang, mode="feat_ext", **kw)
        if "full" in p.modes and encoder in p.full_encoders and amount in p.full_amounts:
            presets = []  # run k continues from Feat. Ext. run k, every weight released
            for k in range(p.runs):
                head = classifier_state(self._build("latent"), fe, k)[0]["head"]
                presets.append(({**preset[0], "head": head}, preset[1]))
            cfg = dataclasses.asdict(p.config("full"))
            spec = {**base, "kind": "gc_full", "init": fe.key, "cfg": cfg}
            full = self._job("full", spec, xs, m, fold, presets)
            self.jobs[(encoder, "full", setting, amount)] = full
            rows += self._rows(self._probabilities("full", full, xs[test]), lang, mode="full", **kw)
        return pd.DataFrame(rows)

    def baseline(self, lang: str) -> pd.DataFrame:
        """The baseline CNN: the classifier's architecture trained on the music only.

        Randomly initialised, every weight trained at Full's learning rate, patches standardised
        with the music's own training statistics. Rows as :meth:`transfer` (``encoder`` "CNN",
        ``setting`` ``music_<lang>``, ``mode`` "baseline", ``amount`` "none").
        """
        p = self.protocol
        m = self.music[lang]
        tr = m.rows(self.splits[lang][0])
        mean, std = float(m.x[tr].mean()), float(m.x[tr].std()) or 1.0
        xs = (m.x - mean) / std
        spec = {"kind": "gc_baseline", "music": _music_fingerprint(m), "runs": p.runs,
                "split": [s.tolist() for s in self.splits[lang]], "head_block": p.head_block,
                "cfg": dataclasses.asdict(p.config("baseline")), "seed": self.seed}  # fmt: skip
        job = self._job("baseline", spec, xs, m, self._music_fold(lang))
        self.jobs[("CNN", "baseline", f"music_{lang}", "none")] = job
        probs = self._probabilities("baseline", job, xs[m.rows(self.splits[lang][2])])
        kw = {"encoder": "CNN", "setting": f"music_{lang}", "amount": "none"}
        return pd.DataFrame(self._rows(probs, lang, mode="baseline", normalisation="domain", **kw))

    def run(self, *, amounts=None, encoders=None, settings=SETTINGS) -> pd.DataFrame:
        """Every (amount, encoder, setting) transfer and the two baselines, in one frame."""
        from tqdm.auto import tqdm

        p = self.protocol
        todo = [(a, e, s) for a in amounts or list(p.amounts) for e in encoders or p.encoders
                for s in settings]  # fmt: skip
        bar = tqdm(total=len(MUSIC) + len(todo), desc="gomez-canon", unit="experiment",
                   disable=not self.progress, leave=False)  # fmt: skip
        out = []
        for lang in MUSIC:
            out.append(self.baseline(lang))
            bar.update()
        for amount, encoder, setting in todo:
            bar.set_postfix_str(f"{encoder} {setting} {amount}")
            out.append(self.transfer(encoder, setting, amount))
            bar.update()
        bar.close()
        return pd.concat(out, ignore_index=True)

    def patch_probabilities(self, encoder: str, mode: str, setting: str, amount: str, *,
                            run: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:  # fmt: skip
        """Quadrant probabilities over time of each test clip, from one trained run.

        The transfer is trained (or read from the cache) as :meth:`transfer` does. Each patch
        (each window for the DAE classifiers) is placed at its centre: a patch of mel frames
        ``s .. s + 30`` at frame ``s + 15`` (librosa's centred frames), a window of 1 Hz frames
        ``i .. i + W - 1`` midway between their centres ``i + 1 .. i + W`` s.

        Args:
            encoder: ``"SCAE"``, ``"CPC"``, a DAE variant or ``"CNN"`` (the baseline: ``setting``
                ``music_<lang>``, ``amount`` ``"none"``).
            mode: ``"feat_ext"``, ``"full"`` or ``"baseline"``.
            setting: as :meth:`transfer`.
            amount: as :meth:`transfer`.
            run: which run.

        Returns:
            clip id -> ``(time (P,), prob (P, 4))`` for the music set's test clips.
        """
        key = (encoder, mode, setting, amount)
        if key not in self.jobs:
            if mode == "baseline":
                self.baseline(setting.removeprefix("music_"))
            else:
                self.transfer(encoder, setting, amount)
        if key not in self.jobs:
            raise ValueError(f"{key}: not part of the protocol (modes {self.protocol.modes})")
        lang = setting.split("2")[-1].removeprefix("music_")
        test = self.splits[lang][2]
        job = self.jobs[key]
        if encoder in DAE_VARIANTS:
            m = self._dae_music(encoder, lang)
            _, mean, std = self.pretrain_dae(encoder, setting.split("2")[0], amount)
            rows = m.rows(test)
            x = self._dae_inputs(encoder, lang, mean, std)[rows]
            prob = self._dae_probabilities(encoder, job, run, x)
            window = DAE_VARIANTS[encoder][0]
            start = _rank_in_clip(m.clip)[rows]  # 1 s steps
            times = start + (window + 1) / 2
        else:
            m = self.music[lang]
            rows = m.rows(test)
            if mode == "baseline":
                tr = m.rows(self.splits[lang][0])
                mean, std = float(m.x[tr].mean()), float(m.x[tr].std()) or 1.0
            else:
                _, mean, std = self.pretrain(encoder, setting.split("2")[0], amount)
            xs = (m.x[rows] - mean) / std
            if mode == "feat_ext":
                pre = self._encoder_preset(encoder, self.pretrain(encoder, setting.split("2")[0],
                                                                  amount)[0])  # fmt: skip
                xs = self._latents(pre, xs)
            prob = self._probabilities(mode, job, xs, runs=[run])[0]["quadrant"]
            ex = self.extractor
            frame = _rank_in_clip(m.clip)[rows] * m.stride * ex.patch_step + ex.patch_frames // 2
            times = frame * ex.hop_length / ex.sr
        clip = m.clip[rows]
        return {m.clip_ids[c]: (times[clip == c], prob[clip == c]) for c in test}

    def pretraining_summary(self) -> pd.DataFrame:
        """Windows, seconds, epochs and best validation loss of each pretrained encoder."""
        rows = [{"encoder": e, "speech": lang, "amount": a, **v}
                for (e, lang, a), v in sorted(self.pretraining.items())]  # fmt: skip
        return pd.DataFrame(rows)


def table2(results: pd.DataFrame, amount: str = "exp2") -> pd.DataFrame:
    """The analog of Gomez-Canon et al. 2021, Table 2 (and of 2020, Table II).

    Rows: ``model`` ("DAE-Classifier", "SCAE-Feat. Ext.", ...) x ``head`` (Q, A, V; the DAE
    classifiers have the quadrant head only, as 2020's Table II); columns: ``<setting> P``,
    ``<setting> R``, ``<setting> F`` for the settings in Table 2's order, each the mean over runs
    of the weighted precision, recall and F-score on the music's test clips. The baseline CNN
    (trained on music only) has one column block per music set instead.
    """
    sel = results[(results["protocol"] == "gomezcanon2021")]
    metrics = {"precision": "P", "recall": "R", "f1": "F"}
    sel = sel[sel["metric"].isin(list(metrics))]
    head = {"quadrant": "Q", "arousal": "A", "valence": "V"}
    rows = []
    groups = [(e, md) for e in ("SCAE", "CPC") for md in MODES]
    for enc, mode in [*((v, "feat_ext") for v in DAE_VARIANTS), *groups, ("CNN", "baseline")]:
        g = sel[(sel["encoder"] == enc) & (sel["mode"] == mode)]
        if mode != "baseline":
            g = g[g["amount"] == amount]
        if g.empty:
            continue
        if mode == "baseline":
            name = "Baseline CNN"
        else:
            name = enc if enc in DAE_VARIANTS else f"{enc}-{MODES[mode]}"
        means = g.groupby(["head", "setting", "metric"])["value"].mean()
        order = [f"music_{m}" for m in MUSIC] if mode == "baseline" else list(SETTINGS)
        for h, short in head.items():
            if h not in set(g["head"]):
                continue
            row = {"model": name, "head": short}
            for s in order:
                for met, col in metrics.items():
                    row[f"{s} {col}"] = means.get((h, s, met), np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def load_patch_sets(corpora: dict, *, data_root, profile="default", seed=0, shared_code=0.75,
                    extractor=None, music_stride: int = 1, n_jobs=None, progress=True):  # fmt: skip
    """Open the four corpora of the protocol and extract (cached) mel patches.

    Args:
        corpora: ``{"speech_eng", "speech_man", "music_eng", "music_man"}`` -> corpus spec
            (``"builtin:speech_pool"``, ``"librispeech:/path"``, ``"aishell1:/path"``,
            ``"builtin:music_static"``, ``"4q:/path"``, a ``static_csv`` dict for CH-818, ...).
            Each is narrowed to its side's language (:func:`select_language`).
        data_root: where built-in corpora and caches live.
        profile: built-in corpus profile.
        seed: built-in corpus seed.
        shared_code: built-in corpus' shared-code level.
        extractor: :class:`~mer_ser.features.MelPatches` (default: the papers').
        music_stride: keep every ``stride``-th music patch.
        n_jobs: feature-extraction processes (default: all cores).
        progress: progress bars.

    Returns:
        ``(speech, music)``: ``{"eng": blocks, "man": blocks}`` and ``{"eng": MusicPatches,
        "man": MusicPatches}``.
    """
    extractor = extractor or MelPatches()
    cache = default_cache_dir(data_root)
    speech, music = {}, {}
    for side, lang, c in _open_sides(corpora, data_root, profile, seed, shared_code, progress):
        feats = extract(c, extractor, cache_dir=cache, n_jobs=n_jobs, progress=progress)
        if side == "speech":
            speech[lang] = speech_blocks(c, feats)
        else:
            music[lang] = music_patches(c, feats, music_stride)
    return speech, music


def load_frame_sets(corpora: dict, *, data_root, profile="default", seed=0, shared_code=0.75,
                    n_jobs=None, progress=True):  # fmt: skip
    """The 1 Hz ComParE frames of the protocol's four corpora (the DAE encoders' input).

    Arguments as :func:`load_patch_sets` (the same corpora, narrowed to the same languages);
    features come from :class:`~mer_ser.features.ComParE1Hz` through the feature cache (the
    continuous track's pools are usually cached already).

    Returns:
        ``{"speech": {"eng": [(T, 260), ...], "man": [...]}, "music": {"eng": {clip id: (T,
        260)}, "man": {...}}}``: the ``frames`` argument of :class:`LanguageTransfer`.
    """
    cache = default_cache_dir(data_root)
    out: dict = {"speech": {}, "music": {}}
    for side, lang, c in _open_sides(corpora, data_root, profile, seed, shared_code, progress):
        feats = extract(c, ComParE1Hz(), cache_dir=cache, n_jobs=n_jobs, progress=progress)
        if side == "speech":
            out["speech"][lang] = [feats[k] for k in c.clips.index if k in feats]
        else:
            out["music"][lang] = dict(feats)
    return out


def _open_sides(corpora, data_root, profile, seed, shared_code, progress):
    """``(side, lang, corpus)`` of the four corpora, each narrowed to its language."""
    need = list(CORPORA)
    missing = sorted(set(need) - set(corpora))
    if missing:
        raise ValueError(f"corpora needs the keys {need}; missing {missing}")
    specs = [corpora[k] for k in need]
    opened = open_corpora(specs, data_root=data_root, profile=profile, seed=seed,
                          shared_code=shared_code, progress=progress)  # fmt: skip
    by_spec = {repr(s): c for s, c in zip(_unique(specs), opened.values(), strict=True)}
    out = []
    for k in need:
        side, lang = k.split("_")
        out.append((side, lang, select_language(by_spec[repr(corpora[k])], LANGUAGE_CODES[lang])))
    return out


def data_summary(speech: dict, music: dict, extractor: MelPatches | None = None) -> pd.DataFrame:
    """Windows and seconds of each speech pool; clips, patches and quadrants of each music set."""
    sec = window_seconds(extractor or MelPatches())
    rows = [{"set": f"speech_{k}", "windows": len(b), "seconds": len(b) * sec}
            for k, b in speech.items()]  # fmt: skip
    for k, m in music.items():
        row = {"set": f"music_{k}", "corpus": m.name, "clips": len(m.clip_ids), "patches": len(m.x)}
        row.update({f"Q{q + 1}": int((m.quadrant == q).sum()) for q in range(4)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("set")


def _rank_in_clip(clip: np.ndarray) -> np.ndarray:
    """Position of each row within its clip (rows of a clip are consecutive)."""
    starts = np.r_[0, np.flatnonzero(np.diff(clip)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(clip)]))
    return np.arange(len(clip)) - first


def _unique(specs):
    seen, out = set(), []
    for s in specs:
        if repr(s) not in seen:
            seen.add(repr(s))
            out.append(s)
    return out


def _music_fingerprint(m: MusicPatches) -> str:
    return sha256_arrays((m.name, "|".join(m.clip_ids)), (m.x, m.clip, m.quadrant))
