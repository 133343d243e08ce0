"""Label utilities: frame alignment, delay, scales, quadrants, agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer_ser.corpora import labels as L
from mer_ser.errors import AlignmentError, AnnotationError


@pytest.mark.parametrize(
    ("duration", "win", "hop", "expected"),
    [
        (1.9, 2.0, 1.0, 0),
        (2.0, 2.0, 1.0, 1),
        (2.99, 2.0, 1.0, 1),
        (3.0, 2.0, 1.0, 2),
        (300.0, 2.0, 1.0, 299),
        (15.0, 4.0, 4.0, 3),
    ],
)
def test_n_frames_counts_complete_windows(duration, win, hop, expected):
    assert L.n_frames(duration, win=win, hop=hop) == expected


def test_frame_centres_follow_the_window_convention():
    np.testing.assert_allclose(L.frame_centres(3), [1.0, 2.0, 3.0])


def _reference_resample(times, values, count, win, hop):
    """Loop over frames: mean of samples in [c - hop/2, c + hop/2), else interpolate inside the
    annotated span, else no label."""
    out = np.empty(count)
    for k in range(count):
        c = k * hop + win / 2
        sel = (times >= c - hop / 2) & (times < c + hop / 2)
        if sel.any():
            out[k] = values[sel].mean()
        elif times[0] <= c <= times[-1]:
            out[k] = np.interp(c, times, values)
        else:
            out[k] = np.nan
    return out


@pytest.mark.parametrize("rate", [25.0, 2.0, 1.0, 0.5])
def test_resample_labels_matches_a_float64_loop(rng, rate):
    times = np.arange(0, 60, 1 / rate)
    values = rng.standard_normal(len(times))
    count = L.n_frames(60, win=2.0, hop=1.0)
    got = L.resample_labels(times, values, count)
    np.testing.assert_allclose(got, _reference_resample(times, values, count, 2.0, 1.0), atol=1e-12)


def test_resample_labels_keeps_columns(rng):
    times = np.arange(0, 10, 0.04)
    values = rng.standard_normal((len(times), 2))
    got = L.resample_labels(times, values, 8)
    assert got.shape == (8, 2)
    np.testing.assert_allclose(got[:, 1], L.resample_labels(times, values[:, 1], 8))


def test_resample_labels_rejects_nan_with_the_row_named():
    with pytest.raises(AnnotationError, match=r"ratings\.csv: NaN label at row 2 \(t=0\.080 s\)"):
        L.resample_labels(np.arange(5) * 0.04, [0, 0, np.nan, 0, 0], 1, source="ratings.csv")


def test_resample_labels_rejects_unsorted_times():
    with pytest.raises(AnnotationError, match="not strictly increasing"):
        L.resample_labels(np.array([0.0, 0.5, 0.5, 1.0]), np.zeros(4), 1)


def test_resample_labels_rejects_labels_shorter_than_the_features():
    times = np.arange(0, 10, 0.5)
    with pytest.raises(AlignmentError, match=r"clip7: labels end at 9\.50 s .* up to 28\.00 s"):
        L.resample_labels(times, np.zeros(len(times)), 28, source="clip7")


def test_frames_outside_the_annotated_span_get_no_label():
    """DEAM-like: 2 Hz labels from 15 s to 30 s; frames centred before 14.5 s are unlabelled."""
    times = np.arange(15.0, 30.01, 0.5)
    y = L.resample_labels(times, np.ones(len(times)), L.n_frames(31.5))
    centres = L.frame_centres(len(y))
    labelled = ~np.isnan(y)
    np.testing.assert_array_equal(labelled, (centres >= 14.5) & (centres < 30.5))
    assert np.all(y[labelled] == 1.0)


def test_shift_labels_pairs_frame_t_with_label_t_plus_delay():
    y = np.arange(6.0)
    np.testing.assert_array_equal(L.shift_labels(y, 2), [2, 3, 4, 5, np.nan, np.nan])
    np.testing.assert_array_equal(L.shift_labels(y, 0), y)
    with pytest.raises(ValueError, match=">= 0"):
        L.shift_labels(y, -1)


@pytest.mark.parametrize(
    ("x", "lo", "hi", "want"),
    [(1, 1, 7, -1), (7, 1, 7, 1), (4, 1, 7, 0), (5, 1, 9, 0), (-10, -10, 10, -1)],
)
def test_normalise_scale_maps_the_scale_onto_minus_one_one(x, lo, hi, want):
    assert L.normalise_scale(x, lo, hi) == pytest.approx(want)


def test_normalise_scale_rejects_values_off_the_scale():
    with pytest.raises(
        AnnotationError, match=r"static\.csv: values 0\.5\.\.8 outside .*\[1\.0, 7\.0\]"
    ):
        L.normalise_scale([0.5, 8], 1.0, 7.0, source="static.csv")


def test_quadrants_follow_russell_and_the_4q_naming():
    got = L.quadrant_from_av([0.5, 0.5, -0.5, -0.5, 0.0], [0.5, -0.5, -0.5, 0.5, 0.0])
    assert list(got) == ["Q1", "Q2", "Q3", "Q4", "Q1"]


@pytest.mark.parametrize(
    ("table", "category", "quadrant"),
    [
        (L.QUADRANT_TABLE_LEXICON, "Anger", "Q2"),
        (L.QUADRANT_TABLE_LEXICON, "disgust", "Q2"),
        (L.QUADRANT_TABLE_LEXICON, "neutral", None),
        (L.QUADRANT_TABLE_LEXICON, "HVLA", "Q4"),
        (L.QUADRANT_TABLE_SCHULLER, "disgust", "Q3"),
        (L.QUADRANT_TABLE_SCHULLER, "neutral", "Q4"),
    ],
)
def test_quadrant_tables_encode_the_documented_conventions(table, category, quadrant):
    assert table([category])[0] == quadrant


def test_quadrant_table_rejects_unknown_categories():
    with pytest.raises(
        AnnotationError, match=r"labels\.csv: category 'contempt' is not in .*schuller2009"
    ):
        L.QUADRANT_TABLE_SCHULLER(["contempt"], source="labels.csv")


def test_cronbach_alpha_matches_the_covariance_formula(rng):
    latent = rng.standard_normal(200)
    r = latent[:, None] + 0.7 * rng.standard_normal((200, 5))
    c = np.cov(r, rowvar=False)
    k = c.shape[0]
    want = k / (k - 1) * (1 - np.trace(c) / c.sum())
    assert L.cronbach_alpha(r) == pytest.approx(want, rel=1e-12)
    assert np.isnan(L.cronbach_alpha(r[:, :1]))


def test_agreement_table_is_per_clip(rng):
    t = np.arange(50.0)
    rows = []
    for clip, noise in (("a", 0.1), ("b", 3.0)):
        base = np.sin(t / 5)
        for r in range(4):
            rows.append(
                pd.DataFrame(
                    {
                        "clip_id": clip,
                        "rater": f"r{r}",
                        "time": t,
                        "arousal": base + noise * rng.standard_normal(50),
                        "valence": base + noise * rng.standard_normal(50),
                    }
                )
            )
    tab = L.agreement_table(pd.concat(rows))
    assert tab.loc["a", "alpha_arousal"] > 0.95 > tab.loc["b", "alpha_arousal"]
