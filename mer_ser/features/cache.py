"""A content-addressed feature cache: atomic, self-checking, rebuilt when corrupt.

An entry's key hashes the audio file's bytes, the extractor's name and parameters and the
package's feature version, so changing any of them misses the cache, while renaming or moving a
corpus does not. Each entry is an ``.npy`` file preceded by a small header holding the SHA-256
of the array bytes; a truncated or altered entry fails the check, is reported once as a warning
and recomputed.
"""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from pathlib import Path

import numpy as np

from mer_ser._io import read_checked, sha256_file, sha256_json, write_checked
from mer_ser.errors import CorruptCacheEntry


def extractor_key(extractor) -> dict:
    """The extractor's identity: class name and every dataclass field (its parameters)."""
    return {"class": type(extractor).__name__, **dataclasses.asdict(extractor)}


class FeatureCache:
    """Feature arrays on disk under ``root/<extractor name>/<key[:2]>/<key>.npy``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def key(self, audio_file: str | os.PathLike, extractor) -> str:
        """Cache key of one file and extractor."""
        return sha256_json(
            {"audio": sha256_file(audio_file), "extractor": extractor_key(extractor)}
        )

    def path(self, key: str, extractor) -> Path:
        """Where the entry of ``key`` lives."""
        return self.root / extractor.name / key[:2] / f"{key}.npy"

    def load(self, key: str, extractor) -> np.ndarray | None:
        """The cached array, or ``None`` when absent or corrupt (corrupt entries are removed)."""
        path = self.path(key, extractor)
        if not path.is_file():
            return None
        try:
            return np.load(io.BytesIO(read_checked(path)), allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            warnings.warn(
                f"{path}: corrupt feature cache entry ({e}); recomputing",
                CorruptCacheEntry,
                stacklevel=2,
            )
            path.unlink(missing_ok=True)
            return None

    def store(self, key: str, extractor, array: np.ndarray) -> Path:
        """Write an entry atomically."""
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        path = self.path(key, extractor)
        write_checked(path, buf.getvalue())
        return path
