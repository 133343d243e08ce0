"""Splits and classification scores of the quadrant track, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from mer_ser import stats
from mer_ser.experiments.splits import stratified_group_split, stratified_split


def test_stratified_split_splits_every_class_in_the_given_fractions():
    labels = np.repeat([0, 1, 2, 3], [40, 25, 10, 7])
    part = stratified_split(labels, (0.7, 0.3), seed=3)
    for c, n in zip(range(4), (40, 25, 10, 7), strict=True):
        got = np.bincount(part[labels == c], minlength=2)
        assert got.sum() == n and abs(got[0] - 0.7 * n) < 1  # largest-remainder rounding
    assert np.array_equal(part, stratified_split(labels, (0.7, 0.3), seed=3))
    assert not np.array_equal(part, stratified_split(labels, (0.7, 0.3), seed=4))
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(labels, (0.7, 0.2))


def test_grouped_split_never_splits_a_song_and_keeps_the_quadrant_mix():
    """Rodningen 2022: MER 68 / 12 / 20 by quadrant, every song in one partition only."""
    rng = np.random.default_rng(0)
    songs = np.repeat(np.arange(120), rng.integers(1, 4, 120))  # 1-3 clips per song
    quadrant_of_song = rng.integers(0, 4, 120)
    labels = quadrant_of_song[songs]
    fractions = (0.68, 0.12, 0.20)
    part = stratified_group_split(labels, songs, fractions, seed=1)
    for s in np.unique(songs):
        assert len(set(part[songs == s])) == 1
    total = np.bincount(labels, minlength=4) / len(labels)
    for p, f in enumerate(fractions):
        sel = part == p
        assert abs(sel.mean() - f) < 0.03  # partition size
        mix = np.bincount(labels[sel], minlength=4) / sel.sum()
        assert np.abs(mix - total).max() < 0.06  # quadrant shares close to the whole's

    # The greedy assignment beats shuffled groups on class balance (averaged over seeds).
    def deviation(pp):
        return sum(
            np.abs(
                np.bincount(labels[pp == p], minlength=4) - f * np.bincount(labels, minlength=4)
            ).sum()
            for p, f in enumerate(fractions)
        )

    shuffled = [
        np.repeat(np.arange(3), np.round(np.array(fractions) * 120).astype(int))[
            np.random.default_rng(k).permutation(120)
        ][songs]
        for k in range(20)
    ]
    assert deviation(part) < np.mean([deviation(s) for s in shuffled]) / 2
    with pytest.raises(ValueError, match="groups cannot fill"):
        stratified_group_split([0, 1], [5, 5], fractions)


def test_confusion_and_scores_match_scikit_learn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 4, 200))
    p[p == 2] = 1  # class 2 never predicted: precision 0 by convention
    cm = stats.confusion(y, p, 4)
    np.testing.assert_array_equal(cm, confusion_matrix(y, p, labels=range(4)))
    sc = stats.classification_scores(cm)
    for avg in ("macro", "weighted"):
        ref = precision_recall_fscore_support(y, p, average=avg, zero_division=0)
        np.testing.assert_allclose(sc.loc[avg, ["precision", "recall", "f1"]], ref[:3], atol=1e-12)
    ref = precision_recall_fscore_support(y, p, labels=range(4), zero_division=0)
    np.testing.assert_allclose(sc.loc[[0, 1, 2, 3], "f1"], ref[2], atol=1e-12)
    assert sc.loc["accuracy", "f1"] == pytest.approx((y == p).mean())


def test_quadrant_confusion_read_as_arousal_and_valence():
    # rows: true Q1..Q4; Q1 -> Q2 is right on arousal, wrong on valence; Q1 -> Q4 the reverse.
    cm = np.array([[5, 3, 0, 2], [0, 4, 0, 0], [0, 0, 6, 1], [0, 0, 0, 7]])
    av = stats.av_breakdown(cm)
    # arousal: high = Q1, Q2 (row/col 1); low = Q3, Q4.
    np.testing.assert_array_equal(av["arousal"], [[14, 0], [2, 12]])
    # valence: positive = Q1, Q4 (row/col 1); negative = Q2, Q3.
    np.testing.assert_array_equal(av["valence"], [[10, 1], [3, 14]])
    assert av["arousal"].sum() == cm.sum()


def test_weighted_random_baseline_is_the_overlap_of_class_shares():
    train = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])
    test = np.repeat([0, 1, 2, 3], [25, 25, 25, 25])
    acc = stats.weighted_random_accuracy(train, test, 4)
    assert acc == pytest.approx(0.25)  # balanced test set: 1/K whatever the guesses
    test2 = np.repeat([0, 1, 2, 3], [70, 10, 10, 10])
    exact = stats.weighted_random_accuracy(train, test2, 4)
    assert exact == pytest.approx(0.5 * 0.7 + 0.3 * 0.1 + 0.15 * 0.1 + 0.05 * 0.1)
    rng = np.random.default_rng(0)  # and it is what guessing with the training shares achieves
    guesses = rng.choice(4, size=(4000, len(test2)), p=np.bincount(train) / len(train))
    assert (guesses == test2).mean() == pytest.approx(exact, abs=0.01)


def test_clip_set_from_a_4q_copy_pads_centres_and_masks(tmp_path):
    from corpus_fixtures import FOURQ, write_4q

    from mer_ser.corpora import load
    from mer_ser.experiments.quadrants import clip_set, valid_frames
    from mer_ser.features import LogMel3D, extract

    write_4q(tmp_path)
    c = load("4q", tmp_path)
    ex = LogMel3D(pad_seconds=4.0)  # the thesis pads to 15 s; 4 s keeps the test small
    with pytest.warns(UserWarning):  # stereo MP3s at 44.1/22.05 kHz: downmixed, resampled
        feats = extract(c, ex, cache_dir=tmp_path / "cache", n_jobs=1, progress=False)
    s = clip_set(c, feats, ex)
    assert s.x.shape == (5, 1 + 4 * 16000 // 240, 40, 3) and s.domain == "music"
    order = {song: q for song, q, _ in FOURQ}
    assert [f"Q{q + 1}" for q in s.quadrant] == [order[i] for i in s.clip_ids]
    np.testing.assert_array_equal(s.arousal, np.isin(s.quadrant, (0, 1)))
    # 3 s of audio centred in 4 s: the first and last 0.5 s of frames are padding.
    v = valid_frames(3.0, ex)
    assert abs(v.sum() - 3.0 * 16000 / 240) <= 1 and not v[:30].any() and not v[-30:].any()
    rows = [0, 2, 3]
    mean, std = s.channel_stats(rows)
    ref = np.concatenate([s.x[r][s.valid[r]].reshape(-1, 3) for r in rows]).astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, ref.std(axis=0), rtol=1e-6)
    z = s.standardise(mean, std).subset(rows)
    flat = np.concatenate([z.x[i][z.valid[i]].reshape(-1, 3) for i in range(3)])
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(flat.std(axis=0), 1, atol=1e-4)


def test_confusion_figure_has_one_row_normalised_panel_per_setting(tmp_path):
    from mer_ser import plots

    cm = np.array([[5, 3, 0, 2], [0, 4, 0, 0], [0, 0, 6, 1], [0, 0, 0, 0]])
    fig = plots.confusion_matrices({"SER2MER": cm, "MER2MER": np.eye(4) * 3})
    assert len(fig.axes) == 2
    shares = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(shares[0], [0.5, 0.3, 0.0, 0.2])
    assert not np.asarray(shares[3]).any()  # an empty row stays 0, not NaN
    plots.save(fig, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
