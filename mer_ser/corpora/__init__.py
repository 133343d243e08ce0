"""Corpora: the data model, label utilities, audio reading and the built-in corpus.

Public face:
    :class:`Corpus`, :func:`read_corpus`, :func:`write_corpus`, :func:`load_builtin`,
    :func:`load_audio`, and the label helpers in :mod:`mer_ser.corpora.labels`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mer_ser.corpora import labels
from mer_ser.corpora.adapters import ADAPTERS
from mer_ser.corpora.audio import load_audio
from mer_ser.corpora.model import Corpus, validate
from mer_ser.corpora.store import read_corpus, write_corpus
from mer_ser.corpora.synthetic import SyntheticConfig, build_corpus
from mer_ser.corpora.synthetic.build import GENERATOR_VERSION

__all__ = [
    "Corpus",
    "builtin_root",
    "labels",
    "load",
    "load_audio",
    "load_builtin",
    "open_corpora",
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


def load(kind: str, root: str | os.PathLike, /, **options) -> Corpus:
    """Load a corpus by name from a local copy.

    Args:
        kind: ``"builtin:<part>"`` for a part of the built-in corpus, ``"mer_ser"`` for any
            folder in the package's own format, or an adapter's name (``"recola"``, ``"deam"``,
            ``"msp_podcast"``, ``"4q"``, ...; see :data:`mer_ser.corpora.adapters.ADAPTERS`).
        root: the folder (for adapters: the copy's root; anchors are searched below it).
        **options: adapter options (e.g. ``subset="me14"`` for DEAM, ``name=`` for the corpus'
            name; ``kind`` and ``root`` are positional only, so any option name is free).

    Raises:
        ValueError: unknown name.
        CorpusError, AnnotationError, AudioError: the copy is missing files or malformed;
            the message names the path.
    """
    if kind.startswith("builtin:"):
        return read_corpus(Path(root) / kind.split(":", 1)[1])
    if kind == "mer_ser":
        return read_corpus(root)

    if kind in ADAPTERS:
        return ADAPTERS[kind](root, **options)
    raise ValueError(
        f"unknown corpus {kind!r}; known: 'builtin:<part>', 'mer_ser', {sorted(ADAPTERS)}"
    )


def builtin_root(
    data_root: str | os.PathLike,
    profile: str,
    seed: int,
    shared_code: float,
    parts: tuple[str, ...] = (),
    labels: str = "realistic",
) -> Path:
    """Folder of one built-in corpus: ``<data_root>/builtin/<profile>_seed<S>_sc<X>_v<generator>``.

    The generator version is part of the name, so code that generates different bytes never
    reuses a corpus built by older code. A label model other than ``realistic`` adds
    ``_labels-<name>``; a build of only some ``parts`` gets their names as a suffix
    (``..._v<generator>_music_continuous``).
    """
    name = f"{profile}_seed{seed}_sc{shared_code:g}_v{GENERATOR_VERSION}"
    if labels != "realistic":
        name += f"_labels-{labels}"
    if parts:
        name += "_" + "+".join(sorted(parts))
    return Path(data_root) / "builtin" / name


def open_corpora(
    specs,
    *,
    data_root: str | os.PathLike,
    profile: str = "default",
    seed: int = 0,
    shared_code: float = 0.75,
    labels: str = "realistic",
    progress: bool = True,
    only_parts: bool = False,
) -> dict[str, Corpus]:
    """Open the corpora named by a notebook's ``corpora`` parameter (building the built-in one).

    Args:
        specs: names such as ``"builtin:speech_continuous"`` (a part of the built-in corpus) or
            ``"mer_ser:/path/to/folder"`` (any folder in the package's format).
        data_root: where built-in corpora and caches live.
        profile: built-in corpus profile (``quick``, ``default``, ``paper``).
        seed: built-in corpus seed.
        shared_code: built-in corpus' shared-code level (see ``synthetic.cues``).
        labels: built-in corpus' label model (``realistic`` or ``easy``, see
            ``synthetic.config.LabelModel``).
        progress: progress bar while generating.
        only_parts: generate only the requested built-in parts (in their own folder, see
            :func:`builtin_root`) instead of the whole built-in corpus; e.g. the
            ``shared_code`` sweep, which needs only the music at each level.

    Returns:
        Corpus by name (the part name for built-in parts, else the corpus' name), in the order
        of ``specs``; a repeated spec appears once.

    Raises:
        ValueError: two different specs give corpora of the same name (pass a ``name``).
    """
    out: dict[str, Corpus] = {}
    seen: dict[str, str] = {}

    def add(c: Corpus, spec) -> None:
        if c.name in out and seen[c.name] != repr(spec):
            raise ValueError(
                f"two corpora named {c.name!r} ({seen[c.name]} and {spec!r}); give one a "
                "'name' option, e.g. {'kind': ..., 'root': ..., 'name': 'deam_me14'}"
            )
        out[c.name], seen[c.name] = c, repr(spec)

    builtin = [s.split(":", 1)[1] for s in specs if isinstance(s, str) and s.startswith("builtin:")]
    if builtin:
        parts = tuple(sorted(set(builtin))) if only_parts else ()
        root = builtin_root(data_root, profile, seed, shared_code, parts, labels)
        cfg = SyntheticConfig(
            profile=profile, seed=seed, shared_code=shared_code, parts=parts, labels=labels
        )
        built = build_corpus(root, cfg, progress=progress)
        missing = sorted(set(builtin) - set(built))
        if missing:
            raise ValueError(f"unknown built-in parts {missing}; known: {sorted(built)}")
    for spec in specs:
        if isinstance(spec, dict):  # {"kind": "deam", "root": "/data/DEAM", **options}
            opts = dict(spec)
            try:
                kind, path = opts.pop("kind"), opts.pop("root")
            except KeyError as e:
                raise ValueError(f"corpus spec {spec!r} needs 'kind' and 'root'") from e
            add(load(kind, path, **opts), spec)
        elif spec.startswith("builtin:"):
            part = spec.split(":", 1)[1]
            out[part], seen[part] = built[part], repr(spec)
        elif ":" in spec:
            kind, path = spec.split(":", 1)
            add(load(kind, path), spec)
        else:
            raise ValueError(
                f"corpus spec {spec!r} must look like 'builtin:<part>' or 'kind:<path>'"
            )
    return out
