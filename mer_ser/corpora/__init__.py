"""Corpora: the data model, label utilities, audio reading and the built-in corpus.

Public face:
    :class:`Corpus`, :func:`read_corpus`, :func:`write_corpus`, :func:`load_builtin`,
    :func:`load_audio`, and the label helpers in :mod:`mer_ser.corpora.labels`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mer_ser.corpora import labels
from mer_ser.corpora.audio import load_audio
from mer_ser.corpora.model import Corpus, validate
from mer_ser.corpora.store import read_corpus, write_corpus

__all__ = [
    "Corpus",
    "labels",
    "load",
    "load_audio",
    "load_builtin",
    "read_corpus",
    "validate",
    "write_corpus",
]


def load_builtin(root: str | os.PathLike, parts=None) -> dict[str, Corpus]:
    """Read the parts of a built-in corpus folder (written by ``mer-ser corpus build``).

    Args:
        root: the folder given to ``build_corpus``.
        parts: part names to read (default: every part present).
    """
    root = Path(root)
    names = parts or sorted(p.name for p in root.iterdir() if (p / "corpus.json").is_file())
    return {n: read_corpus(root / n) for n in names}


def load(name: str, root: str | os.PathLike) -> Corpus:
    """Load a corpus by name from a local copy.

    ``name`` is ``"builtin:<part>"`` for a part of the built-in corpus or ``"mer_ser"`` for any
    folder in the package's own format. Adapters for the real corpora (RECOLA, DEAM, MSP-Podcast,
    EMOPIA, ...) register further names.
    """
    if name.startswith("builtin:"):
        return read_corpus(Path(root) / name.split(":", 1)[1])
    if name == "mer_ser":
        return read_corpus(root)
    raise ValueError(f"unknown corpus {name!r}; known: 'builtin:<part>', 'mer_ser'")
