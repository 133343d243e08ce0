"""Injected faults: nothing a researcher relies on is lost, and nothing is invented.

Each test injects one fault and states the behaviour it must get. ``docs/data-integrity.md``
lists them; ``test_the_fault_table_in_the_docs_lists_exactly_these_tests`` keeps the two equal.
The built-in corpus' own faults (interrupted and resumed builds, other configs, changed files)
are in ``tests/test_synthetic.py``, the command line's in ``tests/test_cli.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from corpus_fixtures import FOURQ, tone, write_4q, write_deam, write_ravdess
from sweep_tasks import NAME as TASK

from mer_ser import _io
from mer_ser import sweep as sw
from mer_ser.corpora import Corpus, load, read_corpus, write_corpus
from mer_ser.corpora.adapters import DuplicateWarning, UnmatchedWarning, probe
from mer_ser.corpora.audio import AudioRepair, load_audio, write_wav
from mer_ser.errors import AlignmentError, AnnotationError, AudioError, CorpusError
from mer_ser.features import ComParE1Hz, CueMeasures, MelPatches, NoFrames, extract
from mer_ser.features.extract import labelled_frames

pytestmark = pytest.mark.filterwarnings("ignore::mer_ser.corpora.adapters.UnmatchedWarning")

SR = 16000


def _clip(seconds: float, f0: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * f0 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t))).astype(
        np.float32
    )


def _corpus(root: Path, durations: dict[str, float], *, gold: pd.DataFrame | None = None,
            label_rate: float = 25.0, write: bool = True) -> Corpus:  # fmt: skip
    """A corpus in the package's format with one tone per clip (and optional gold labels)."""
    for cid, d in durations.items():
        if write:
            write_wav(root / "audio" / f"{cid}.wav", _clip(d), SR)
    clips = pd.DataFrame(
        {
            "clip_id": list(durations),
            "domain": "music",
            "language": "zxx",
            "audio_path": [f"audio/{c}.wav" for c in durations],
            "duration": list(durations.values()),
            "sr": SR,
            "group": list(durations),
            "split": "",
        }
    ).set_index("clip_id")
    return Corpus("t", root, clips, gold=gold, meta={"label_rate": label_rate})


def _gold(cid: str, times) -> pd.DataFrame:
    times = np.asarray(times, dtype=float)
    return pd.DataFrame({"clip_id": cid, "time": times, "arousal": 0.5, "valence": -0.25})


# ------------------------------------------------------------------ wrong data used silently
def test_a_truncated_wav_is_an_error_naming_the_file(tmp_path):
    wav = tmp_path / "clip.wav"
    write_wav(wav, _clip(3.0), SR)
    wav.write_bytes(wav.read_bytes()[: wav.stat().st_size // 3])
    with pytest.raises(AudioError, match=r"clip\.wav: truncated: the header declares 96000 bytes"):
        load_audio(wav)
    with pytest.raises(AudioError, match=r"clip\.wav: truncated"):
        probe(wav)


def test_audio_shorter_than_its_clip_table_says_is_an_error(tmp_path):
    c = _corpus(tmp_path, {"a": 3.0})
    write_wav(tmp_path / "audio" / "a.wav", _clip(1.0), SR)  # replaced by a shorter file
    with pytest.raises(AudioError, match=r"a\.wav: decodes to 1\.00 s but the clip table says 3"):
        c.load_audio("a")
    with pytest.raises(AudioError, match=r"a\.wav: decodes to 1\.00 s"):
        extract(c, ComParE1Hz(), cache_dir=tmp_path / "cache", n_jobs=1, progress=False)


def test_frames_before_the_first_annotation_get_no_label(tmp_path):
    """A continuous track that starts at 15 s (DEAM): earlier frames are NaN, not back-filled."""
    gold = _gold("a", np.arange(15.0, 20.01, 0.5))
    c = _corpus(tmp_path, {"a": 20.0}, gold=gold, label_rate=2.0, write=False)
    features = {"t": {"a": np.zeros((19, 3), np.float32)}}
    _, frames = labelled_frames({"t": c}, features)
    labelled = frames["arousal"].notna().to_numpy()
    np.testing.assert_array_equal(labelled, frames["time"].to_numpy() >= 14.5)
    _, shifted = labelled_frames({"t": c}, features, delay=3)
    a, b = frames["arousal"].to_numpy(), shifted["arousal"].to_numpy()
    np.testing.assert_array_equal(b[:-3], a[3:])  # frame t gets label t + 3 ...
    assert np.isnan(b[-3:]).all()  # ... and the last three have none (not the final one repeated)


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (np.arange(0, 60.01, 0.04), r"clip 'a' run to 60 s but its audio .* lasts 8 s"),
        (np.arange(0, 8001, 40.0), "the time column looks like milliseconds"),
    ],
)
def test_labels_running_past_their_audio_are_an_error_naming_the_clip(tmp_path, times, message):
    with pytest.raises(AlignmentError, match=message):
        _corpus(tmp_path, {"a": 8.0}, gold=_gold("a", times), write=False)
    _corpus(tmp_path, {"a": 8.0}, gold=_gold("a", np.arange(0, 8.03, 0.04)), write=False)


def _rewrite(path: Path, edit) -> None:
    path.write_text(edit(path.read_text()))


def test_4q_conflicting_duplicate_ids_are_an_error_and_identical_ones_merge(tmp_path):
    write_4q(tmp_path)
    ann = next(tmp_path.rglob("panda_dataset_taffc_annotations.csv"))
    meta = next(tmp_path.rglob("panda_dataset_taffc_metadata.csv"))
    original = ann.read_text()
    _rewrite(ann, lambda t: t + "MT0000040632,Q3\n")
    with pytest.raises(
        AnnotationError, match=r"annotations\.csv: song 'MT0000040632' is listed 2 times"
    ):
        load("4q", tmp_path)
    ann.write_text(original + "MT0000040632,Q1\n")
    _rewrite(meta, lambda t: t + t.splitlines()[1] + "\n")  # a repeated metadata row
    with pytest.warns(DuplicateWarning, match="repeated row with identical values merged"):
        c = load("4q", tmp_path)
    assert len(c) == len(FOURQ) and c.static.at["MT0000040632", "quadrant"] == "Q1"
    assert c.clips.at["MT0000040632", "group"] == "Gipsy Kings"  # not 'nan'


def test_deam_gaps_inside_a_row_and_repeated_songs(tmp_path):
    write_deam(tmp_path)
    arousal = next(tmp_path.rglob("dynamic (per second annotations)/arousal.csv"))
    original = arousal.read_text()
    lines = original.splitlines()
    cells = lines[1].split(",")
    cells[3] = ""  # an empty cell between annotated ones
    arousal.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    with pytest.raises(
        AnnotationError, match=r"arousal\.csv: 'song 2' has an empty sample_16000ms"
    ):
        load("deam", tmp_path, ratings=False)
    arousal.write_text(original + lines[1] + "\n")  # the same song row twice
    with pytest.warns(DuplicateWarning, match=r"arousal\.csv: 1 repeated row"):
        load("deam", tmp_path, ratings=False)


def test_a_clip_stored_twice_is_kept_once_and_different_content_is_an_error(tmp_path):
    write_4q(tmp_path)
    base = tmp_path / "MER_audio_taffc_dataset"
    flat = base / "all"
    flat.mkdir()
    for p in base.glob("Q?/*.mp3"):
        shutil.copy(p, flat / p.name)  # a flat folder holding every clip too
    song, q, _ = FOURQ[0]
    tone(base / q / f"{song}.wav", 3.0, sr=44100, channels=2, f0=200)  # a wav beside its mp3
    with pytest.warns(DuplicateWarning, match=r"6 clip files stored twice .* merged"):
        c = load("4q", tmp_path)
    assert c.audio_file(song).suffix == ".wav"  # lossless wins
    assert {c.audio_file(s).parent.name for s, *_ in FOURQ} <= {"Q1", "Q2", "Q3", "Q4"}
    tone(flat / f"{song}.mp3", 5.0, f0=300)  # same id, other audio
    with pytest.raises(CorpusError, match=rf"{song}\.mp3: audio id '{song}' also at .* different"):
        load("4q", tmp_path)


# ----------------------------------------------------------------------- finished work lost
def test_a_store_never_deletes_a_result_it_merely_cannot_read(tmp_path, monkeypatch):
    unit = sw.Unit(TASK, {"seed": 0})
    store = sw.ResultStore(tmp_path)
    store.write(unit, pd.DataFrame({"ccc": [0.5]}))
    real = Path.read_bytes

    def denied(self):
        if self.suffix == ".parquet":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(sw.StoreError, match=r"\.parquet: cannot read .*nothing was deleted"):
        store.done(unit)
    monkeypatch.undo()
    assert store.read(unit)["ccc"].tolist() == [0.5]
    store.result_path(unit).write_bytes(b"garbage")  # verified corrupt: removed, warned
    with pytest.warns(sw.RerunWarning, match="does not match its checksum"):
        assert not store.done(unit)
    assert not store.result_path(unit).exists()


def test_a_checkpoint_save_killed_between_its_renames_keeps_the_old_one(tmp_path, monkeypatch):
    from mer_ser.train import checkpoint as ck

    path = tmp_path / "ckpt"
    ck.save(path, {"w": np.arange(3.0)}, {"v": 1})
    real = os.replace

    def killed(src, dst):
        if Path(dst) == path:  # the old checkpoint is aside, the new one about to land
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(ck.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        ck.save(path, {"w": np.arange(3.0) + 10}, {"v": 2})
    monkeypatch.undo()
    assert not path.exists()
    with pytest.warns(RuntimeWarning, match="restoring the previous checkpoint"):
        state, config = ck.restore(path)
    np.testing.assert_array_equal(state["w"], np.arange(3.0))
    assert config == {"v": 1}
    ck.save(path, {"w": np.arange(3.0) + 20}, {"v": 3})  # the next save completes normally
    state, config = ck.restore(path)
    assert config == {"v": 3} and not (tmp_path / ".ckpt.prev").exists()


def test_a_corrupt_checkpoint_raises_checkpoint_error_naming_the_path(tmp_path):
    from mer_ser.train.checkpoint import CheckpointError, restore, save

    path = save(tmp_path / "ckpt", {"w": np.arange(4.0)}, {"v": 1})
    (path / "config.json").write_text("{")
    with pytest.raises(CheckpointError, match=r"ckpt/config\.json: cannot read the config"):
        restore(path)
    path = save(tmp_path / "ckpt", {"w": np.arange(4.0)}, {"v": 1})
    blob = (path / "state.npz").read_bytes()
    (path / "state.npz").write_bytes(blob[:-9])  # truncated
    with pytest.raises(CheckpointError, match=r"ckpt/state\.npz: cannot restore.*checksum"):
        restore(path)
    path = save(tmp_path / "ckpt", {"w": np.arange(4.0)}, {"v": 1})
    with pytest.raises(CheckpointError, match=r"'w' is float64\[4\], expected float32\[4\]"):
        restore(path, like={"w": np.zeros(4, np.float32)})
    with pytest.raises(CheckpointError, match=r"no array 'b'"):
        restore(path, like={"w": np.zeros(4), "b": np.zeros(1)})


def test_atomic_write_syncs_the_folder_and_removes_temp_files_of_killed_writers(
    tmp_path, monkeypatch
):
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    orphan = tmp_path / f".table.csv.{_io._HOST}-{dead}.abc123.tmp"
    orphan.write_text("half")
    live = tmp_path / f".other.csv.{_io._HOST}-{os.getpid()}.def456.tmp"
    live.write_text("being written")
    foreign = tmp_path / f".x.csv.otherhost-{dead}.ghi789.tmp"
    foreign.write_text("another machine's writer")
    synced = []
    monkeypatch.setattr(_io, "fsync_dir", lambda d: synced.append(Path(d)))
    _io.write_text(tmp_path / "table.csv", "a,b\n")
    assert synced == [tmp_path]
    assert not orphan.exists() and live.exists() and foreign.exists()


def test_figures_told_to_write_elsewhere_never_write_into_the_checkout(tmp_path):
    from mer_ser._io import repo_root
    from mer_ser.figures import default_build_dir

    root = repo_root()
    assert default_build_dir(root, None, tmp_path / "data") == tmp_path / "data" / "build"
    assert default_build_dir(root, tmp_path / "figs", None) == (tmp_path / "figs_build").resolve()
    assert default_build_dir(root, None, None) == root / "build"


# --------------------------------------------------------- clear errors instead of tracebacks
def test_clips_too_short_for_an_extractor_are_named_not_a_scipy_traceback(tmp_path):
    c = _corpus(tmp_path, {"long": 6.0, "tiny": 0.3})
    with pytest.warns(NoFrames, match=r"1 clip too short for cues .*tiny\.wav"):
        cues = extract(c, CueMeasures(win=4.0), cache_dir=tmp_path / "cache", n_jobs=1,
                       progress=False)  # fmt: skip
    assert cues["tiny"].shape == (0, 4) and cues["long"].shape == (1, 4)
    with pytest.warns(NoFrames, match=r"1 clip too short for compare_1hz .*tiny\.wav, 0\.3 s"):
        extract(c, ComParE1Hz(), cache_dir=tmp_path / "cache", n_jobs=1, progress=False)
    with pytest.warns(NoFrames, match="too short for mel_patches"):
        extract(c, MelPatches(), cache_dir=tmp_path / "cache", n_jobs=1, progress=False)


def test_an_extractor_failing_on_one_clip_names_the_file(tmp_path):
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Fragile:
        sr: int = SR
        name: str = "fragile"
        version: int = 1

        def __call__(self, y, sr):
            raise ValueError("window_length must be less than or equal to the size of x")

    c = _corpus(tmp_path, {"a": 2.0})
    with pytest.raises(AudioError, match=r"a\.wav: fragile failed on this clip \(2\.000 s\)"):
        extract(c, Fragile(), cache_dir=tmp_path / "cache", n_jobs=1, progress=False)


def test_corrupt_corpus_files_are_named(tmp_path):
    c = _corpus(tmp_path, {"a": 3.0}, gold=_gold("a", np.arange(0, 3.01, 0.04)))
    write_corpus(c)
    (tmp_path / "corpus.json").write_text('{"name": ')
    with pytest.raises(CorpusError, match=r"corpus\.json: not valid JSON"):
        read_corpus(tmp_path)
    write_corpus(c)
    gold = tmp_path / "labels" / "gold.csv"
    gold.write_text(gold.read_text().replace("0.500000", "high", 1))
    with pytest.raises(AnnotationError, match=r"gold\.csv: arousal value 'high' in row 2"):
        read_corpus(tmp_path)
    gold.write_text("clip_id,time\na,0\n")
    with pytest.raises(
        AnnotationError, match=r"gold\.csv: missing columns \['arousal', 'valence'\]"
    ):
        read_corpus(tmp_path)


def test_unreadable_files_say_permission_denied(tmp_path, monkeypatch):
    write_4q(tmp_path)
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: not str(p).endswith("MT0000011357.mp3") and real(p, mode)
    )
    with pytest.raises(AudioError, match=r"MT0000011357\.mp3: permission denied"):
        load("4q", tmp_path)
    monkeypatch.undo()
    ann = next(tmp_path.rglob("panda_dataset_taffc_annotations.csv"))

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(CorpusError, match=rf"{re.escape(str(ann))}: permission denied"):
        load("4q", tmp_path)


def test_a_folder_named_like_an_audio_file_is_reported(tmp_path):
    write_4q(tmp_path)
    (tmp_path / "MER_audio_taffc_dataset" / "Q1" / "MT0000099999.mp3").mkdir()
    with pytest.warns(UnmatchedWarning, match=r"1 folder named like audio files.*MT0000099999"):
        load("4q", tmp_path)


def test_ravdess_unknown_codes_and_options_are_clear_errors(tmp_path):
    write_ravdess(tmp_path)
    with pytest.raises(ValueError, match="channel must be 'speech' or 'song', got 'sing'"):
        load("ravdess", tmp_path, channel="sing")
    tone(tmp_path / "Audio_Speech_Actors_01-24" / "Actor_02" / "03-01-09-01-01-01-02.wav", 1.0)
    with pytest.raises(AnnotationError, match=r"03-01-09-01-01-01-02\.wav: emotion code '09'"):
        load("ravdess", tmp_path)


def test_float_audio_beyond_full_scale_is_reported(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, 25 * _clip(1.0), SR, subtype="FLOAT")
    from mer_ser.corpora import audio

    audio._REPORTED.clear()
    with pytest.warns(AudioRepair, match=r"loud\.wav: float samples beyond \[-1, 1\]"):
        y, _ = load_audio(path)
    assert np.abs(y).max() > 10  # reported, not silently rescaled


def test_repairs_are_reported_once_per_kind_per_corpus_with_a_count(tmp_path):
    durations = {f"c{i}": 2.0 for i in range(5)}
    c = _corpus(tmp_path, durations, write=False)
    (tmp_path / "audio").mkdir()
    for cid in durations:
        sf.write(tmp_path / "audio" / f"{cid}.wav", np.stack([_clip(2.0)] * 2, 1), SR)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        extract(c, ComParE1Hz(), cache_dir=tmp_path / "cache", n_jobs=2, progress=False)
    repairs = [str(w.message) for w in record if issubclass(w.category, AudioRepair)]
    assert len(repairs) == 1
    assert re.search(r"downmixed 2 channels to mono in 5 files \(e\.g\. .*c\d\.wav\)", repairs[0])


def test_the_fault_table_in_the_docs_lists_exactly_these_tests():
    from mer_ser._io import repo_root

    doc = (repo_root() / "docs" / "data-integrity.md").read_text()
    listed = set(re.findall(r"`(test_\w+)`", doc))
    here = {n for n in globals() if n.startswith("test_")} - {
        "test_the_fault_table_in_the_docs_lists_exactly_these_tests"
    }
    others = set()
    for name in ("test_synthetic.py", "test_cli.py", "test_sweep.py", "test_notebooks.py"):
        src = (repo_root() / "tests" / name).read_text()
        others |= set(re.findall(r"^def (test_\w+)", src, flags=re.M))
    assert here <= listed
    assert listed <= here | others
