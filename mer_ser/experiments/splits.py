"""Every fold and partition of the protocols, in one place.

* :func:`leave_one_out`, :func:`cv_masks`: the nested leave-one-out cross-validation of Coutinho &
  Schuller 2017 (test instance, the next one validates, the rest train) and its k-fold version
  for the smaller profiles, as boolean membership masks the engine turns into folds
  (:func:`mer_ser.train.folds_from_masks`).
* :func:`stratified_split`: class-stratified random partition (Gomez-Canon et al. 2020/2021: 70 %
  train / 30 % test "stratified by class", then 85 % / 15 % train / validation).
* :func:`stratified_group_split`: class-stratified partition that never puts one group (song,
  speaker) in two partitions (Rodningen 2022, section 4.5: MER 68 / 12 / 20 "stratified by
  quadrant" with "every song in one partition only"; the thesis' data repository recommends
  scikit-learn's ``StratifiedGroupKFold`` for it).

The stratified splits return one partition index per item and are deterministic for a seed.
"""

from __future__ import annotations

import numpy as np


def _targets(n: int, fractions) -> np.ndarray:
    """Integer partition sizes summing to ``n`` (largest remainders)."""
    f = np.asarray(fractions, dtype=np.float64)
    if (f < 0).any() or not np.isclose(f.sum(), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    raw = f * n
    size = np.floor(raw).astype(int)
    order = np.argsort(-(raw - size), kind="stable")
    size[order[: n - size.sum()]] += 1
    return size


def stratified_split(labels, fractions, *, seed: int = 0) -> np.ndarray:
    """Partition items so that every class is split in the given fractions.

    Args:
        labels: class of each item, shape ``(N,)``.
        fractions: share of each partition, e.g. ``(0.7, 0.3)``; must sum to 1.
        seed: random seed of the shuffle within each class.

    Returns:
        ``(N,)`` int partition index. Within every class the partition sizes are the fractions
        rounded by largest remainders.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out = np.empty(len(labels), dtype=int)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        out[idx] = np.repeat(np.arange(len(fractions)), _targets(len(idx), fractions))
    return out


def stratified_group_split(labels, groups, fractions, *, seed: int = 0) -> np.ndarray:
    """Partition items by group, keeping each partition's class mix close to the whole's.

    Greedy, as scikit-learn's ``StratifiedGroupKFold`` but for unequal partitions: groups are
    visited largest first (ties in a seeded random order) and each goes to the partition where
    it most reduces the squared distance between the partitions' per-class counts and their
    targets (``fraction x class total``), with a penalty for exceeding a partition's size.

    Args:
        labels: class of each item, ``(N,)``.
        groups: group of each item (song, speaker), ``(N,)``; a group is never split.
        fractions: share of each partition, e.g. ``(0.68, 0.12, 0.20)``.
        seed: random seed of the group order.

    Returns:
        ``(N,)`` int partition index.

    Raises:
        ValueError: fewer groups than partitions.
    """
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    classes, y = np.unique(labels, return_inverse=True)
    names, g = np.unique(groups, return_inverse=True)
    k = len(fractions)
    if len(names) < k:
        raise ValueError(f"{len(names)} groups cannot fill {k} partitions")
    frac = np.asarray(fractions, dtype=np.float64)
    _targets(len(labels), frac)  # validates the fractions
    counts = np.zeros((len(names), len(classes)))
    np.add.at(counts, (g, y), 1.0)
    target = frac[:, None] * counts.sum(axis=0)[None, :]  # (k, classes)
    size_target = frac * len(labels)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(names)), -counts.sum(axis=1)))
    have = np.zeros((k, len(classes)))
    part_of_group = np.empty(len(names), dtype=int)
    for gi in order:
        best, best_cost = 0, np.inf
        for p in range(k):
            trial = have.copy()
            trial[p] += counts[gi]
            over = np.maximum(trial.sum(axis=1) - size_target, 0.0)
            cost = ((trial - target) ** 2).sum() + (over**2).sum()
            if cost < best_cost - 1e-12:
                best, best_cost = p, cost
        have[best] += counts[gi]
        part_of_group[gi] = best
    return part_of_group[g]


def leave_one_out(n: int, *, nested: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-out folds of Coutinho & Schuller 2017.

    Nested: in fold ``k`` sequence ``k`` is the test instance, ``(k + 1) mod n`` the validation
    instance and the other ``n - 2`` train. Not nested: one held out, ``n - 1`` train, and the
    held-out instance also serves for validation (the CD development phase).

    Returns:
        ``(train, val, test)`` boolean masks of shape ``(n, n)``.
    """
    eye = np.eye(n, dtype=bool)
    val = np.roll(eye, 1, axis=1) if nested else eye.copy()
    train = ~(eye | val)
    return train, val, eye


def cv_masks(n: int, k: int | None, *, nested: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-validation membership masks ``(train, val, test)``, each ``(F, n)`` bool.

    ``k=None`` (or ``k >= n``) is the paper's leave-one-out (:func:`leave_one_out`).
    Otherwise the instances form ``k`` contiguous groups; nested fold ``g`` tests on group ``g``,
    validates on group ``g + 1 (mod k)`` and trains on the rest; non-nested fold ``g`` holds out
    group ``g`` for validation and trains on the rest.
    """
    if k is None or k >= n:
        return leave_one_out(n, nested=nested)
    if k < (3 if nested else 2):
        raise ValueError(f"need at least {3 if nested else 2} folds, got {k}")
    group = np.zeros(n, int)
    for g, rows in enumerate(np.array_split(np.arange(n), k)):
        group[rows] = g
    test = group[None, :] == np.arange(k)[:, None]
    val = np.roll(test, -1, axis=0) if nested else test.copy()
    return ~(test | val), val, test
