"""Audio for prediction: the files to predict, reading them piece by piece, features per piece.

Long recordings are never held whole: a file is read a piece at a time (with a margin on both
sides), downmixed and resampled to the model's rate, and its features are computed per piece.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from mer_ser.bundles.store import BundleError
from mer_ser.corpora.audio import check_readable, resample
from mer_ser.corpora.labels import n_frames
from mer_ser.errors import AudioError
from mer_ser.features.compare import LLD_STEP, compare_lld, windowed_mean_std

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


def chunks(read, n: int, file_sr: int, sr: int, chunk_s: int, margin_s: int = 1):
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
    for y, skip, keep in chunks(read, n, file_sr, extractor.sr, chunk_s):
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


def file_reader(path: Path):
    """``(read, n, sr, channels)`` of an audio file; ``read(start, stop)`` reads only those samples.

    Raises:
        AudioError: the file cannot be read, is empty, or holds NaN or infinite samples.
    """
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


def segment(read, n: int, file_sr: int, sr: int, start: float, stop: float, margin_s: float = 1.0):
    """Mono ``sr``-rate samples of ``[start, stop)`` s of a signal (resampled with a margin).

    Args:
        read: ``(start, stop) -> (samples, channels)`` float32 at ``file_sr``.
        n: the signal's length in samples at ``file_sr``.
        file_sr: the signal's sample rate.
        sr: the rate wanted.
        start: first second of the segment.
        stop: end of the segment in s (at most the signal's end).
        margin_s: seconds read on both sides so that resampling has no edge of its own.

    Returns:
        float32 ``(round((stop - start) * sr),)``.
    """
    lo = max(0, round((start - (margin_s if file_sr != sr else 0)) * file_sr))
    hi = min(n, round((stop + (margin_s if file_sr != sr else 0)) * file_sr))
    data = read(lo, hi)
    y = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if file_sr != sr:
        y = resample(y, file_sr, sr)
    a = round((start - lo / file_sr) * sr)
    return np.ascontiguousarray(y[a : a + round((stop - start) * sr)], dtype=np.float32)
