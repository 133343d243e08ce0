"""An experiment as a TOML file: which corpora, target, features, model and evaluation.

Every key, its allowed values and its default is in ``docs/experiments.md``; a wrong key or value
raises :class:`ConfigError` naming the file, the key and what is allowed::

    [data]
    train = "builtin:speech_static"     # any corpus spec, or a list of them
    test = "builtin:music_static"       # optional: cross-corpus / cross-domain
    target = "quadrant"                 # quadrant | category | arousal | valence | arousal,valence
    [features]
    set = "egemaps_functionals"
    [model]
    kind = "linear_svm"
    [evaluation]
    cv = "group"
    folds = 5
    normalisation = "source"
    seeds = [0, 1, 2]
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mer_ser.errors import MerSerError
from mer_ser.features.ssl import DEVICE, POOLINGS  # how ssl embeddings are pooled

#: Targets: clip classes, clip values, and the time-continuous pair.
TARGETS = ("quadrant", "category", "arousal", "valence", "arousal,valence")
CLASS_TARGETS = ("quadrant", "category")
#: Feature sets (see :func:`mer_ser.recipes.samples.extractor`).
FEATURE_SETS = (
    "compare_lld_1hz",
    "compare_functionals",
    "egemaps_functionals",
    "logmel3d",
    "ssl",
)
#: Model kinds: the linear baselines and the papers' networks.
MODELS = ("linear_svm", "logistic", "ridge", "lstm", "dcnn")
CV = ("group", "kfold", "official")
NORMALISATIONS = ("source", "domain")


class ConfigError(MerSerError, ValueError):
    """An experiment config is malformed: the message names the file, the key and the fix."""


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: corpora and target."""

    train: tuple = ()
    test: tuple = ()
    target: str = "quadrant"


@dataclass(frozen=True)
class FeaturesConfig:
    """``[features]``: the feature set (and, for ``ssl``, the model, its layer and pooling)."""

    set: str = "egemaps_functionals"
    model: str = ""  # ssl: a local model folder or a hub id in the Hugging Face cache
    layer: int = -1  # ssl: hidden state (0: the transformer's input, -1: its last block)
    pooling: str = "mean"  # ssl: mean | mean_std over the clip or the 1 Hz window
    trust_remote_code: bool = False  # ssl: run the checkpoint's own model code (MERT)
    device: str = "cpu"  # ssl: the torch device that runs the model ("cuda" on a GPU)


@dataclass(frozen=True)
class ModelConfig:
    """``[model]``: the model and its hyper-parameters (each kind reads its own)."""

    kind: str = "linear_svm"
    grid: tuple[float, ...] = ()  # linear: regularisation C searched on validation (() = default)
    balanced: bool = True  # linear classifiers: inverse-frequency class weights
    hidden: tuple[int, ...] = ()  # lstm: blocks in its two layers (() = the profile's)
    learning_rate: float = 0.0  # lstm / dcnn (0: the paper's)
    noise: float = 0.1  # lstm: Gaussian input noise
    max_epochs: int = 0  # lstm / dcnn (0: the profile's)
    patience: int = 0  # lstm / dcnn (0: the profile's)
    batch_size: int = 0  # dcnn (0: the profile's)


@dataclass(frozen=True)
class EvaluationConfig:
    """``[evaluation]``: cross-validation, normalisation, seeds."""

    cv: str = "group"
    folds: int = 5
    normalisation: str = "source"
    seeds: tuple[int, ...] = (0,)
    split_seed: int = 0


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: what is written besides the results."""

    bundle: bool = True  # the models of the first seed, trained on all training data


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment (see the module docstring)."""

    name: str
    data: DataConfig
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    description: str = ""
    source: str = ""  # the file it was read from

    @property
    def continuous(self) -> bool:
        """Whether the target is time-continuous (frame-level arousal and valence)."""
        return self.data.target == "arousal,valence"

    @property
    def classification(self) -> bool:
        """Whether the target is a clip class (quadrant or category)."""
        return self.data.target in CLASS_TARGETS

    def to_dict(self) -> dict:
        """The config as plain data (the results' provenance)."""
        return dataclasses.asdict(self)


SECTIONS = {
    "data": DataConfig,
    "features": FeaturesConfig,
    "model": ModelConfig,
    "evaluation": EvaluationConfig,
    "output": OutputConfig,
}
ALLOWED = {
    ("data", "target"): TARGETS,
    ("features", "set"): FEATURE_SETS,
    ("features", "pooling"): POOLINGS,
    ("model", "kind"): MODELS,
    ("evaluation", "cv"): CV,
    ("evaluation", "normalisation"): NORMALISATIONS,
}


def load_config(path: str | os.PathLike) -> ExperimentConfig:
    """Read and check an experiment TOML file.

    Raises:
        ConfigError: unreadable TOML, an unknown section or key, a value of the wrong type or
            outside its allowed values, or a combination that cannot run; the message names the
            file and the key.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such experiment config") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    return parse_config(raw, name=path.stem, source=str(path))


def parse_config(
    raw: dict, *, name: str = "experiment", source: str = "<config>"
) -> ExperimentConfig:
    """:func:`load_config` on an already parsed TOML document (a dict)."""
    raw = dict(raw)
    top = {"name", "description", *SECTIONS}
    unknown = sorted(set(raw) - top)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} at the top level; allowed: {sorted(top)}"
        )
    sections = {}
    for sec, cls in SECTIONS.items():
        body = raw.get(sec, {})
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: [{sec}] must be a table, got {body!r}")
        sections[sec] = _section(cls, sec, body, source)
    if "train" not in raw.get("data", {}):
        raise ConfigError(f"{source}: [data] needs 'train' (a corpus spec or a list of them)")
    cfg = ExperimentConfig(
        name=str(raw.get("name", name)),
        description=str(raw.get("description", "")),
        source=source,
        **sections,
    )
    check(cfg)
    return cfg


def _section(cls, sec: str, body: dict, source: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in body.items():
        if key not in fields:
            raise ConfigError(
                f"{source}: unknown key {key!r} in [{sec}]; allowed: {sorted(fields)}"
            )
        default = getattr(cls(), key)
        kwargs[key] = _coerce(value, default, f"{sec}.{key}", source)
        allowed = ALLOWED.get((sec, key))
        if allowed is not None and kwargs[key] not in allowed:
            raise ConfigError(
                f"{source}: {sec}.{key} = {value!r} is not allowed; choose one of {list(allowed)}"
            )
    return cls(**kwargs)


def _coerce(value, default, key: str, source: str):
    """``value`` in the type of the field's default (lists become tuples), or ConfigError."""
    if key in ("data.train", "data.test"):
        specs = value if isinstance(value, list) else [value]
        if not all(isinstance(s, str | dict) for s in specs) or not specs:
            raise ConfigError(
                f"{source}: {key} must be a corpus spec ('kind:/path', 'builtin:<part>' or an "
                f"inline table with kind and root) or a list of them, got {value!r}"
            )
        return tuple(specs)
    if key == "data.target" and isinstance(value, list):
        value = ",".join(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be true or false, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key} must be a list, got {value!r}")
        kind = type(default[0]) if default else (int if key == "model.hidden" else float)
        try:
            return tuple(kind(v) for v in value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{source}: {key} must be a list of numbers, got {value!r}") from e
    if isinstance(default, int | float) and not isinstance(value, bool):
        if isinstance(value, int | float) and (isinstance(default, float) or value == int(value)):
            return type(default)(value)
        raise ConfigError(f"{source}: {key} must be a number, got {value!r}")
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key} must be a string, got {value!r}")
        return value if key == "features.model" else value.replace(" ", "")
    raise ConfigError(f"{source}: {key} has an unsupported value {value!r}")


#: Which models fit which targets and features.
MODEL_TARGETS = {
    "linear_svm": CLASS_TARGETS,
    "logistic": CLASS_TARGETS,
    "ridge": ("arousal", "valence", "arousal,valence"),
    "lstm": ("arousal,valence",),
    "dcnn": CLASS_TARGETS,
}
_VECTORS = ("compare_lld_1hz", "compare_functionals", "egemaps_functionals", "ssl")
MODEL_FEATURES = {
    "linear_svm": _VECTORS,
    "logistic": _VECTORS,
    "ridge": _VECTORS,
    "lstm": _VECTORS,
    "dcnn": ("logmel3d",),
}


def check(cfg: ExperimentConfig) -> None:
    """Combinations that cannot run, named with their keys.

    Raises:
        ConfigError: e.g. a classifier for a continuous target, the DCNN on functionals, too
            few folds, no seeds.
    """
    src, m, f, e = cfg.source, cfg.model.kind, cfg.features.set, cfg.evaluation
    if cfg.data.target not in MODEL_TARGETS[m]:
        raise ConfigError(
            f"{src}: model.kind = {m!r} cannot predict data.target = {cfg.data.target!r}; "
            f"{m!r} predicts {list(MODEL_TARGETS[m])}"
        )
    if f not in MODEL_FEATURES[m]:
        raise ConfigError(
            f"{src}: model.kind = {m!r} cannot take features.set = {f!r}; "
            f"it takes {list(MODEL_FEATURES[m])}"
        )
    if f == "ssl" and not cfg.features.model:
        raise ConfigError(
            f"{src}: features.set = 'ssl' needs features.model: a local model folder (e.g. "
            "'/models/wav2vec2-base') or a hub id already downloaded "
            "(e.g. 'facebook/hubert-base-ls960')"
        )
    if not DEVICE.fullmatch(cfg.features.device):
        raise ConfigError(
            f"{src}: features.device = {cfg.features.device!r} is not a torch device; "
            "choose 'cpu', 'cuda', 'cuda:<n>', 'mps' or 'xpu'"
        )
    if f != "ssl" and cfg.features.model:
        raise ConfigError(
            f"{src}: features.model is read only with features.set = 'ssl', and the set is {f!r}"
        )
    if e.cv != "official" and e.folds < 3:
        raise ConfigError(
            f"{src}: evaluation.folds = {e.folds}; nested cross-validation needs at least 3 "
            "(one tests, the next validates, the rest train)"
        )
    if not e.seeds:
        raise ConfigError(f"{src}: evaluation.seeds is empty; give at least one seed")
    if cfg.model.kind == "lstm" and len(cfg.model.hidden) not in (0, 2):
        raise ConfigError(f"{src}: model.hidden must be two layer sizes, got {cfg.model.hidden}")


def corpus_specs(corpora: dict) -> dict:
    """``[data]`` ``train`` / ``test`` from a notebook's ``corpora`` parameter.

    Args:
        corpora: ``{"train": spec or [specs], "test": spec or [specs]}`` (``test`` optional).

    Raises:
        ConfigError: another key, or a value that is not a spec or a list of specs.
    """
    unknown = sorted(set(corpora) - {"train", "test"})
    if unknown:
        raise ConfigError(f"corpora: unknown key {unknown[0]!r}; allowed: ['test', 'train']")
    return {k: _coerce(v, (), f"data.{k}", "corpora") for k, v in corpora.items()}
