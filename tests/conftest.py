"""Shared fixtures: a seeded generator and the quick built-in corpus (built once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from mer_ser.corpora.synthetic import SyntheticConfig, build_corpus


@pytest.fixture
def rng():
    """A seeded numpy generator."""
    return np.random.default_rng(20170412)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    """A data root shared by the session's tests (corpora and feature caches)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def quick_root(data_root):
    """The quick built-in corpus (seed 0, default shared code), laid out as notebooks do."""
    from mer_ser.corpora import builtin_root

    root = builtin_root(data_root, "quick", 0, 0.75)
    build_corpus(root, SyntheticConfig(profile="quick", seed=0), progress=False)
    return root


@pytest.fixture(scope="session")
def quick(quick_root):
    """The quick built-in corpus' parts by name."""
    from mer_ser.corpora import load_builtin

    return load_builtin(quick_root)
