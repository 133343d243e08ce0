"""Rodningen 2022's SER->MER / MER->MER machinery on small synthetic clip tensors.

The built-in corpus' sanity checks of the quadrant track (issue 5) are not here yet: on a 2-core
CPU the DCNN at the thesis' resolution needs far more than a test's budget.
"""

from __future__ import annotations

import numpy as np
import pytest

from mer_ser.experiments.quadrants import ClipSet
from mer_ser.experiments.rodningen2022 import Protocol, QuadrantTrack, mer_split, ser_split

TINY = Protocol(
    "tiny",
    runs=2,
    max_epochs=6,
    patience=6,
    batch_size=8,
    learning_rate={"DCNN": 1e-3},
    models=("DCNN",),
    ser_fractions=(0.8, 0.2),
    pad_seconds=1.0,
)


def _clips(name, domain, n, shares, seed, offset):
    """Clips whose quadrant shifts the mean of some mel bands (a learnable, shared cue)."""
    rng = np.random.default_rng(seed)
    q = rng.choice(4, size=n, p=shares).astype(np.int32)
    x = rng.standard_normal((n, 67, 40, 3)).astype(np.float32)
    for k in range(4):
        x[q == k, :, 10 * k : 10 * k + 10, 0] += 1.5
    x += offset  # a domain offset (what per-domain normalisation removes)
    groups = np.asarray([f"{name}{i // 2}" for i in range(n)])  # two clips per song/speaker
    return ClipSet(
        name,
        domain,
        tuple(f"{name}_{i}" for i in range(n)),
        x,
        np.ones((n, 67), bool),
        q,
        groups,
        np.full(n, ""),
    )


@pytest.fixture(scope="module")
def sets():
    speech = _clips("ser", "speech", 60, (0.4, 0.3, 0.2, 0.1), 0, 0.0)
    music = _clips("mer", "music", 60, (0.25, 0.25, 0.25, 0.25), 1, 3.0)
    return speech, music


def test_splits_follow_the_thesis(sets):
    speech, music = sets
    m = mer_split(music, TINY, seed=0)
    assert not set(music.groups[m.train]) & set(music.groups[m.test])
    assert abs(len(m.test) / 60 - 0.20) < 0.05 and abs(len(m.val) / 60 - 0.12) < 0.05
    s = ser_split(speech, TINY, seed=0)
    assert len(s.train) + len(s.val) == 60 and len(s.test) == 0


def test_experiments_learn_report_and_resume_from_the_cache(sets, tmp_path):
    speech, music = sets
    track = QuadrantTrack(TINY, speech=speech, music=music, cache_dir=tmp_path, seed=0)
    base = track.baseline()
    assert 0.15 < base["music"] < 0.35
    mer = track.run("DCNN", "MER2MER")
    cols = ["protocol", "encoder", "setting", "mode", "head", "run", "metric", "value"]
    assert list(mer.columns[:8]) == cols and set(mer["run"]) == {0, 1}
    acc = mer[(mer["metric"] == "accuracy") & (mer["partition"] == "test")]["value"]
    assert acc.mean() > base["music"] + 0.3, acc.tolist()
    cm = track.confusion("DCNN", "MER2MER")
    assert cm.sum() == 2 * len(track.splits["music"].test)
    # SER -> MER: the cue is shared, the domain offset is not; per-domain statistics remove it.
    dom = track.run("DCNN", "SER2MER", "domain")
    acc_dom = dom[(dom["metric"] == "accuracy") & (dom["partition"] == "test")]["value"]
    assert acc_dom.mean() > base["speech"] + 0.3, acc_dom.tolist()
    files = sorted(p.name for p in tmp_path.rglob("*.npz"))
    again = QuadrantTrack(TINY, speech=speech, music=music, cache_dir=tmp_path, seed=0)
    same = again.run("DCNN", "MER2MER")
    assert sorted(p.name for p in tmp_path.rglob("*.npz")) == files  # nothing retrained
    np.testing.assert_array_equal(same["value"], mer["value"])
    with pytest.raises(ValueError, match="setting"):
        track.run("DCNN", "MER2SER")
