"""Experiments from a config file: any corpus, target, feature set, model and evaluation.

``mer-ser experiment CONFIG.toml`` and ``notebooks/10_experiment.ipynb`` run the same file
(:func:`load_config`, :func:`run_experiment`); ``docs/experiments.md`` lists every key and shows
one config per task. Example configs ship in ``mer_ser/recipes/examples``
(:func:`example_path`).
"""

from __future__ import annotations

from pathlib import Path

from mer_ser.recipes.bundle import export_experiment
from mer_ser.recipes.config import (
    ConfigError,
    ExperimentConfig,
    corpus_specs,
    load_config,
    parse_config,
)
from mer_ser.recipes.run import ExperimentResult, partitions, run_experiment

#: Folder of the shipped example configs.
EXAMPLES = Path(__file__).parent / "examples"

__all__ = [
    "EXAMPLES",
    "ConfigError",
    "ExperimentConfig",
    "ExperimentResult",
    "corpus_specs",
    "example_path",
    "examples",
    "export_experiment",
    "load_config",
    "parse_config",
    "partitions",
    "run_experiment",
]


def examples() -> list[str]:
    """Names of the shipped example configs."""
    return sorted(p.stem for p in EXAMPLES.glob("*.toml"))


def example_path(name: str) -> Path:
    """The file of a shipped example config (``"quadrant_svm"``) or ``name`` itself if a path.

    Raises:
        ConfigError: neither a file nor a shipped example.
    """
    p = Path(name)
    if p.is_file():
        return p
    q = EXAMPLES / f"{name}.toml"
    if q.is_file():
        return q
    raise ConfigError(f"{name}: no such config file or shipped example; examples: {examples()}")
