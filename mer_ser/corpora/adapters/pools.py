"""Unlabelled speech pools for pretraining: LibriSpeech and AISHELL-1, and a seeded draw.

:func:`draw_hours` draws a fixed amount of audio.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mer_ser.corpora.adapters._common import (
    audio_index,
    check_root,
    clip_table,
    find,
    find_optional,
    match,
    read_text,
)
from mer_ser.corpora.model import Corpus
from mer_ser.errors import AnnotationError, CorpusError

LIBRISPEECH_SUBSETS = (
    "train-clean-100",
    "train-clean-360",
    "train-other-500",
    "dev-clean",
    "dev-other",
    "test-clean",
    "test-other",
)


def draw_hours(corpus: Corpus, hours: float, *, seed: int = 0, name: str | None = None):
    """A seeded random subset of whole clips totalling at most ``hours`` of audio.

    Clips are taken in a random order (``numpy.random.default_rng(seed)``) while they fit, so
    the same seed always gives the same clips; groups (speakers) are not split or balanced.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(corpus))
    dur = corpus.clips["duration"].to_numpy()[order]
    take = order[np.cumsum(dur) <= hours * 3600.0]
    keep = corpus.clips.index[np.sort(take)]
    meta = {**corpus.meta, "draw": {"hours": hours, "seed": seed, "clips": len(keep)}}
    return dataclasses.replace(
        corpus, name=name or f"{corpus.name}_{hours:g}h", clips=corpus.clips.loc[keep], meta=meta
    )


def load_librispeech(root, *, name: str = "librispeech", subsets=None) -> Corpus:
    """LibriSpeech (English, unlabelled): speaker = group, subset = split.

    Layout ``{subset}/{speaker}/{chapter}/{speaker}-{chapter}-{NNNN}.flac`` with ``*.trans.txt``.

    Utterances without a transcript line (or lines without audio) are listed as unmatched.
    """
    root = check_root(root, "LibriSpeech")
    found = {s: find_optional(root, s, kind="dir") for s in subsets or LIBRISPEECH_SUBSETS}
    found = {s: p for s, p in found.items() if p is not None}
    if not found:
        raise CorpusError(
            f"{root}: no LibriSpeech subset folder ({', '.join(LIBRISPEECH_SUBSETS)})"
        )
    audio, split, listed = {}, {}, set()
    for subset, folder in found.items():
        for cid, p in audio_index(root, under=folder, extensions=(".flac",)).items():
            audio[cid] = p
            split[cid] = subset
        for t in folder.rglob("*.trans.txt"):
            for ln, line in enumerate(read_text(t).splitlines(), 1):
                if line.strip():
                    uid = line.split(" ", 1)[0]
                    if uid.count("-") != 2:
                        raise AnnotationError(f"{t}:{ln}: not '<speaker>-<chapter>-<NNNN> TEXT'")
                    listed.add(uid)
    ids, unmatched = match(name, root, listed, audio)
    return Corpus(
        name,
        root,
        clip_table(
            root,
            audio,
            ids,
            domain="speech",
            language="en",
            group=lambda c: c.split("-")[0],
            split=split,
        ),
        meta={
            "description": f"LibriSpeech ({', '.join(found)})",
            "adapter": "librispeech",
            "label_rate": None,
            "scale": None,
            "quadrant_table": "",
            "unmatched": unmatched,
        },
    )


def load_aishell(root, *, name: str = "aishell1") -> Corpus:
    """AISHELL-1 (Mandarin, unlabelled): speaker = group, partition = split.

    Layout ``wav/{train|dev|test}/S0002/BAC009S0002W0122.wav`` and
    ``transcript/aishell_transcript_v0.8.txt``; the speaker is characters 6..11 of the id.
    The transcript lists utterances without audio and vice versa:
    both are counted in ``meta["unmatched"]``.
    """
    root = check_root(root, "AISHELL-1")
    trans = find(root, "aishell_transcript_v0.8.txt", "AISHELL-1", what="transcript")
    listed = {ln.split(None, 1)[0] for ln in read_text(trans).splitlines() if ln.strip()}
    wav = find(root, "wav", "AISHELL-1", kind="dir", what="wav/ folder")
    audio, split = {}, {}
    for part in ("train", "dev", "test"):
        if (wav / part).is_dir():
            for cid, p in audio_index(root, under=wav / part, extensions=(".wav",)).items():
                audio[cid], split[cid] = p, part
    if not audio:
        tars = sorted(wav.rglob("*.tar.gz"))
        hint = f" ({len(tars)} speaker archives still packed: extract them)" if tars else ""
        raise CorpusError(f"{wav}: no train/dev/test WAV files{hint}")
    ids, unmatched = match(name, root, listed, audio)
    return Corpus(
        name,
        root,
        clip_table(
            root, audio, ids, domain="speech", language="zh", group=lambda c: c[6:11], split=split
        ),
        meta={
            "description": "AISHELL-1",
            "adapter": "aishell1",
            "label_rate": None,
            "scale": None,
            "quadrant_table": "",
            "unmatched": unmatched,
        },
    )
