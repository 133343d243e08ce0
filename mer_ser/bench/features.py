"""Feature-extraction speed: times real time per core, and a rerun over a cached corpus.

Used by ``mer-ser bench features`` and by ``notebooks/09_performance.ipynb`` (panel c and the
targets "ComParE 1 Hz at >= 50x real time per core; a rerun over a cached corpus under 5 s").
"""

from __future__ import annotations

import os
import tempfile
import time

from mer_ser.corpora import Corpus
from mer_ser.features.compare import ComParE1Hz, compare_lld
from mer_ser.features.extract import ExtractionReport, extract


def single_clip_speed(corpus: Corpus, extractor=None) -> float:
    """Times real time of one extractor call on the corpus' first clip, one core, steady state.

    A first call on one second of audio loads openSMILE's configuration and is not timed.
    """
    extractor = extractor or ComParE1Hz()
    y, sr = corpus.load_audio(corpus.clips.index[0])
    compare_lld(y[:sr], sr)
    t0 = time.perf_counter()
    extractor(y, sr)
    return len(y) / sr / (time.perf_counter() - t0)


def extraction_speed(
    corpora: dict[str, Corpus],
    *,
    extractor=None,
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> dict:
    """Extract every clip into an empty cache, then again from that cache.

    Args:
        corpora: name -> corpus, as :func:`mer_ser.corpora.open_corpora` gives them.
        extractor: default :class:`ComParE1Hz`.
        n_jobs: worker processes (default all cores; 1 measures one core).
        cache_dir: where the cache goes (default a temporary folder, removed afterwards).

    Returns:
        ``audio_seconds``, ``seconds`` (first pass), ``x_real_time`` (all workers),
        ``x_real_time_per_core`` (divided by the workers), ``rerun_seconds`` and
        ``rerun_extracted`` (0 when every file came from the cache), ``jobs``.
    """
    extractor = extractor or ComParE1Hz()
    jobs = n_jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        cache = cache_dir or tmp
        first = ExtractionReport()
        t0 = time.perf_counter()
        for c in corpora.values():
            extract(c, extractor, cache_dir=cache, n_jobs=jobs, report=first, progress=False)
        seconds = time.perf_counter() - t0
        rerun = cached_rerun(corpora, cache_dir=cache, extractor=extractor)
    return {
        "audio_seconds": first.seconds_of_audio,
        "seconds": seconds,
        "x_real_time": first.seconds_of_audio / seconds,
        "x_real_time_per_core": first.seconds_of_audio / seconds / min(jobs, first.extracted or 1),
        "rerun_seconds": rerun["seconds"],
        "rerun_extracted": rerun["extracted"],
        "jobs": jobs,
    }


def cached_rerun(corpora: dict[str, Corpus], *, cache_dir, extractor=None) -> dict:
    """Seconds to get every clip's features again from a filled cache (a notebook's rerun).

    Returns ``seconds``, ``clips``, ``cached`` and ``extracted`` (clips that were not in the
    cache and had to be computed: then the figure is not a cache-hit time).
    """
    extractor = extractor or ComParE1Hz()
    rep = ExtractionReport()
    t0 = time.perf_counter()
    clips = 0
    for c in corpora.values():
        clips += len(extract(c, extractor, cache_dir=cache_dir, report=rep, progress=False))
    return {
        "seconds": time.perf_counter() - t0,
        "clips": clips,
        "cached": rep.cached,
        "extracted": rep.extracted,
    }
