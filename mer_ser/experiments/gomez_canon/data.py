"""The protocol's data: speech pools as windows of mel patches or 1 Hz frames, music as patches.

:func:`patch_sets` and :func:`frame_sets` open the four corpora of the protocol
(:data:`~mer_ser.experiments.gomez_canon.protocol.CORPORA`) through a
:class:`~mer_ser.experiments.data.Data`; :func:`draw_pool` draws a seeded amount of speech (2021,
Table 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mer_ser._io import sha256_arrays
from mer_ser.corpora.labels import QUADRANTS
from mer_ser.corpora.model import Corpus
from mer_ser.errors import CorpusError
from mer_ser.experiments.data import Data
from mer_ser.experiments.gomez_canon.protocol import WINDOW, language_code, languages_of
from mer_ser.experiments.splits import stratified_split
from mer_ser.features import ComParE1Hz
from mer_ser.features.mel import MelPatches
from mer_ser.train.engine import Fold


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


def split_sizes(n: int, val: float) -> tuple[int, int]:
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
    mix: tuple[str, ...] = ("eng", "man"),
):
    """A seeded draw of ``seconds`` of speech as windows (``mix``: half from each of ``mix``).

    A window covers ``window_s`` seconds (default: :func:`window_seconds` of ``extractor``; 5
    for the DAE-Classifier's 5 frames at 1 Hz). The papers' mix is half English, half Mandarin.

    Raises:
        CorpusError: the pool holds less speech than asked for.
    """
    sec = window_s if window_s is not None else window_seconds(extractor or MelPatches())
    n = max(1, round(seconds / sec))
    sources = tuple(mix) if language == "mix" else (language,)
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


def fold(train, val, widths=None):
    """One engine fold of rows ``train`` and ``val``, padded to ``widths`` (train, val) if given.

    Padding rows have weight 0; folds of equal widths (and data of equal shapes) share one
    compiled fit.
    """
    tw, vw = widths or (len(train), len(val))

    def pack(idx, width):
        pad = (0, max(width, 1) - len(idx))
        return np.pad(np.asarray(idx, np.int32), pad), np.pad(np.ones(len(idx), np.float32), pad)

    return Fold(*pack(train, tw), *pack(val, vw))


def patch_sets(
    data: Data, corpora: dict, *, extractor: MelPatches | None = None, music_stride: int = 1
) -> tuple[dict[str, np.ndarray], dict[str, MusicPatches]]:
    """Mel patches of the protocol's four corpora (2021, section 3.1).

    Args:
        data: where the corpora and the feature cache are.
        corpora: ``{"speech_eng", "speech_man", "music_eng", "music_man"}`` -> corpus spec
            (``"builtin:speech_pool"``, ``"librispeech:/path"``, ``"aishell1:/path"``,
            ``"builtin:music_static"``, ``"4q:/path"``, a ``static_csv`` dict for CH-818, ...).
            Each is narrowed to its side's language (:func:`select_language`).
        extractor: :class:`~mer_ser.features.MelPatches` (default: the papers').
        music_stride: keep every ``stride``-th music patch.

    Returns:
        ``(speech, music)``: ``{"eng": blocks, "man": blocks}`` (:func:`speech_blocks`) and
        ``{"eng": MusicPatches, "man": MusicPatches}`` (:func:`music_patches`).

    Raises:
        ValueError: a key of another form than ``speech_<lang>`` / ``music_<lang>``.
        CorpusError: a corpus has no clip in its side's language.
    """
    return patches_of(data, language_sides(data, corpora), extractor, music_stride)


def patches_of(data: Data, sides, extractor: MelPatches | None = None, music_stride: int = 1):
    """:func:`patch_sets` of corpora already opened by :func:`language_sides`."""
    speech, music = {}, {}
    for side, lang, c in sides:
        feats = data.extract(c, extractor or MelPatches())
        if side == "speech":
            speech[lang] = speech_blocks(c, feats)
        else:
            music[lang] = music_patches(c, feats, music_stride)
    return speech, music


def frame_sets(data: Data, corpora: dict) -> dict:
    """1 Hz ComParE frames of the same four corpora (the DAE encoders' input).

    Arguments as :func:`patch_sets`.

    Returns:
        ``{"speech": {"eng": [(T, 260), ...], "man": [...]}, "music": {"eng": {clip id: (T,
        260)}, "man": {...}}}``: the ``frames`` argument of :class:`LanguageTransfer`.
    """
    return frames_of(data, language_sides(data, corpora))


def frames_of(data: Data, sides) -> dict:
    """:func:`frame_sets` of corpora already opened by :func:`language_sides`."""
    out: dict = {"speech": {}, "music": {}}
    for side, lang, c in sides:
        feats = data.extract(c, ComParE1Hz())
        if side == "speech":
            out["speech"][lang] = [feats[k] for k in c.clips.index if k in feats]
        else:
            out["music"][lang] = dict(feats)
    return out


def language_sides(data: Data, corpora: dict) -> list[tuple[str, str, Corpus]]:
    """``(side, lang, corpus narrowed to lang)`` for each ``speech_<lang>`` / ``music_<lang>``.

    The papers' keys are ``speech_eng``, ``speech_man``, ``music_eng``, ``music_man``; any
    other language is named by its ISO 639 code (``speech_de``, ``speech_fr``). Each corpus is
    opened once.

    Raises:
        ValueError: a key of another form, or no speech or no music key.
        CorpusError: a corpus has no clip in its side's language.
    """
    sides = languages_of(corpora)
    keys = [f"{side}_{lang}" for side, lang in sides]
    opened = data.corpora([corpora[k] for k in keys])
    return [(side, lang, select_language(corpus, language_code(lang)))
            for (side, lang), corpus in zip(sides, opened, strict=True)]  # fmt: skip


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


def rank_in_clip(clip: np.ndarray) -> np.ndarray:
    """Position of each row within its clip (rows of a clip are consecutive)."""
    starts = np.r_[0, np.flatnonzero(np.diff(clip)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(clip)]))
    return np.arange(len(clip)) - first


def music_fingerprint(m: MusicPatches) -> str:
    """A hash of a music set's name, clips, patches and labels (part of its jobs' keys)."""
    return sha256_arrays((m.name, "|".join(m.clip_ids)), (m.x, m.clip, m.quadrant))
