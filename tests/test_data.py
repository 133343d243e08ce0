"""The one way in: corpus specs become each track's input, every distinct spec opened once."""

from __future__ import annotations

import numpy as np
import pytest
from corpus_fixtures import write_emodb, write_recola

from mer_ser.corpora import load
from mer_ser.experiments import Data
from mer_ser.experiments import gomez_canon as gc
from mer_ser.features import ComParE1Hz, LogMel3D, extract

#: EmoDB's fixture holds one file that is not an EmoDB name (reported, left out); RECOLA's audio
#: is 44.1 kHz (resampled, reported).
pytestmark = [
    pytest.mark.filterwarnings("ignore::mer_ser.corpora.adapters.UnmatchedWarning"),
    pytest.mark.filterwarnings("ignore::mer_ser.corpora.audio.AudioRepair"),
]


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpora")
    write_recola(base / "RECOLA", seconds=6.0, n={"train": 2, "dev": 1})
    write_emodb(base / "EmoDB")
    return base


def test_a_repeated_spec_is_opened_and_extracted_once_and_gives_the_same_set(roots, tmp_path):
    data = Data(tmp_path, progress=False, n_jobs=1)
    spec = f"recola:{roots / 'RECOLA'}"
    other = {"kind": "recola", "root": str(roots / "RECOLA"), "name": "recola_pool"}
    first, again, pool = data.sequences([spec, spec, other])
    assert first is again  # the labelled set and the pool read from the same folder
    assert pool is not first and pool.clip_ids == first.clip_ids  # another spec: its own set
    assert first.y is not None and first.domain == "speech"
    # the values are the feature cache's, shaped as sequence_set shapes them
    corpus = load("recola", roots / "RECOLA")
    feats = extract(corpus, ComParE1Hz(), cache_dir=tmp_path / "cache" / "features", progress=False)
    for i, cid in enumerate(first.clip_ids):
        valid = first.m[i]
        assert np.count_nonzero(valid) <= len(feats[cid])
        np.testing.assert_array_equal(first.x[i, valid], feats[cid][: np.count_nonzero(valid)])


def test_specs_come_back_in_the_order_given(roots, tmp_path):
    data = Data(tmp_path, progress=False, n_jobs=1)
    a, b = f"recola:{roots / 'RECOLA'}", f"emodb:{roots / 'EmoDB'}"
    assert [c.name for c in data.corpora([a, b])] == ["recola", "emodb"]
    assert [c.name for c in data.corpora([b, a, b])] == ["emodb", "recola", "emodb"]


def test_clip_sets_hold_one_log_mel_tensor_per_quadrant_labelled_clip(roots, tmp_path):
    data = Data(tmp_path, progress=False, n_jobs=1)
    ex = LogMel3D()
    (clips,) = data.clips([f"emodb:{roots / 'EmoDB'}"], ex)
    corpus = load("emodb", roots / "EmoDB")
    labelled = corpus.static["quadrant"].dropna()
    assert set(clips.clip_ids) == set(labelled.index)
    assert clips.x.shape[1:] == (1001, 40, 3)
    assert [("Q1", "Q2", "Q3", "Q4")[q] for q in clips.quadrant] == [
        labelled[c] for c in clips.clip_ids
    ]


def test_the_gomez_canon_loaders_name_the_missing_keys(tmp_path):
    with pytest.raises(ValueError, match=r"at least one music_<language> key"):
        gc.patch_sets(Data(tmp_path, progress=False), {"speech_eng": "builtin:speech_pool"})
    with pytest.raises(ValueError, match=r"corpora key 'speech_mix': use speech_<language>"):
        gc.patch_sets(Data(tmp_path, progress=False), {"speech_mix": "builtin:speech_pool"})
