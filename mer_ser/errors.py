"""Exceptions raised for bad input, and the warnings of repaired damage.

Each message names the file and what is wrong with it.
"""

from __future__ import annotations


class MerSerError(Exception):
    """Base class of the package's errors."""


class AudioError(MerSerError, ValueError):
    """An audio file cannot be used: unreadable, corrupt, empty or silent."""


class AnnotationError(MerSerError, ValueError):
    """An annotation file is malformed: missing columns, NaN values, ragged rows, bad scale."""


class AlignmentError(MerSerError, ValueError):
    """Labels and features of one clip do not line up in time."""


class CorpusError(MerSerError, ValueError):
    """A corpus folder is missing files or is not in the expected layout."""


class CorruptCacheEntry(UserWarning):
    """A cache entry (features, a training job) failed its checksum and will be rebuilt."""
