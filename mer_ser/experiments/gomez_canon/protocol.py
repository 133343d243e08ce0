"""Gomez-Canon et al.'s protocol tables: settings, encoders and the three profiles' budgets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mer_ser.models.autoencoders import CPC
from mer_ser.train.engine import TrainConfig

#: The papers' speech pools and music sets, in Table 2's order of settings.
SPEECH = ("man", "eng", "mix")
MUSIC = ("man", "eng")
SETTINGS = tuple(f"{s}2{m}" for m in MUSIC for s in SPEECH)
#: ISO 639 codes of the papers' two language names; any other language is named by its code
#: (``"de"``, ``"fr"``, ...).
LANGUAGE_CODES = {"eng": "en", "man": "zh"}
MODES = {"feat_ext": "Feat. Ext.", "full": "Full"}
#: The notebook's ``corpora`` keys of the papers' case; in general ``speech_<language>`` and
#: ``music_<language>`` for any languages (:func:`languages_of`).
CORPORA = ("speech_eng", "speech_man", "music_eng", "music_man")
WINDOW = CPC.n_past + 2  # patches per CPC window: 4 past, 2 future


def music_language(setting: str) -> str:
    """A setting's music: ``"mix2eng"`` -> ``"eng"``, a baseline's ``"music_man"`` -> ``"man"``."""
    return setting.split("2")[-1].removeprefix("music_")


def language_code(language: str) -> str:
    """The ISO 639 code of a pool or music set's language: the papers' names, or the code itself."""
    return LANGUAGE_CODES.get(language, language)


def _ordered(languages, paper: tuple[str, ...]) -> list[str]:
    """The papers' languages in Table 2's order, then any other in alphabetical order."""
    langs = set(languages)
    return [x for x in paper if x in langs] + sorted(langs - set(paper))


def mix_languages(speech_languages, mix: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The two speech languages the ``mix`` pool draws from in equal shares.

    ``mix`` (a protocol's choice) when given; else English and Mandarin when both are there (the
    papers), else the first two in order. Empty with fewer than two languages.

    Raises:
        ValueError: ``mix`` names a language without a speech pool, or not two.
    """
    langs = _ordered(speech_languages, SPEECH)
    if mix:
        if len(mix) != 2 or not set(mix) <= set(langs):
            raise ValueError(f"mix must name two of the speech pools {langs}, got {list(mix)}")
        return tuple(mix)
    if {"eng", "man"} <= set(langs):
        return ("eng", "man")
    return tuple(langs[:2]) if len(langs) >= 2 else ()


def settings_for(speech_languages, music_languages) -> tuple[str, ...]:
    """Every ``<speech>2<music>`` setting of the languages present, in Table 2's order.

    The speech side is each pool's language and ``mix`` (when there are two or more pools); the
    papers' English and Mandarin give exactly :data:`SETTINGS`.
    """
    speech = _ordered(speech_languages, SPEECH)
    if len(speech) >= 2:
        speech.append("mix")
    return tuple(f"{s}2{m}" for m in _ordered(music_languages, MUSIC) for s in speech)


def languages_of(corpora) -> list[tuple[str, str]]:
    """``(side, language)`` of each ``speech_<language>`` / ``music_<language>`` key.

    Other keys (another track's, in a ``corpora`` dict shared between notebooks) are left alone.

    Raises:
        ValueError: a malformed language (``mix``, empty), or no speech or no music.
    """
    out = []
    for key in corpora:
        side, sep, lang = str(key).partition("_")
        if side not in ("speech", "music") or not sep:  # e.g. the continuous track's "music"
            continue
        if not lang or lang == "mix" or "2" in lang:
            raise ValueError(
                f"corpora key {key!r}: use speech_<language> and music_<language>, the language "
                "an ISO 639 code (speech_de, music_fr) or the papers' eng / man"
            )
        out.append((side, lang))
    for side in ("speech", "music"):
        if not any(s == side for s, _ in out):
            raise ValueError(
                f"corpora needs at least one {side}_<language> key, got {list(corpora)}"
            )
    return out


#: The 2020 paper's LSTM-DAE encoders (section III-B): seconds of 1 Hz ComParE frames per window
#: and DAE hidden blocks.
DAE_VARIANTS = {"DAE-Classifier": (5, 100), "DAE-Sparsity": (10, 800)}
ENCODERS = ("SCAE", "CPC", *DAE_VARIANTS)


@dataclass(frozen=True)
class Protocol:
    """Amounts, epochs and runs of one profile (``paper`` = the papers)."""

    name: str
    runs: int = 4
    amounts: dict = field(default_factory=lambda: {"exp1": 3 * 3600.0, "exp2": 30 * 3600.0})
    encoders: tuple[str, ...] = ENCODERS
    modes: tuple[str, ...] = ("feat_ext", "full")
    full_encoders: tuple[str, ...] = ("SCAE", "CPC")  # encoders that also get a Full mode
    full_amounts: tuple[str, ...] = ("exp1", "exp2")  # amounts whose encoders get a Full mode
    pretrain_epochs: int = 100
    cpc_epochs: int = 100
    pretrain_patience: int = 10
    feat_ext_epochs: int = 100
    full_epochs: int = 100
    baseline_epochs: int = 100
    dae_pretrain_epochs: int = 100
    dae_epochs: int = 100
    patience: int = 10
    batch_size: int = 32
    lr_pretrain: float = 1e-3
    cpc_decay: float = 4e-6
    lr_feat_ext: float = 1e-4
    lr_full: float = 5e-4
    head_block: int = 256  # 2021: task blocks of 256 (2020: 512)
    dae_noise: float = 0.3
    dae_lstm: int = 100  # cells of the DAE-Classifier's new LSTM block
    cpc_objective: str = "binary"  # or "infonce"
    music_fractions: tuple[float, float, float] = (0.7 * 0.85, 0.7 * 0.15, 0.3)
    pretrain_val: float = 0.15
    music_patch_stride: int = 1  # 1: every 50 %-overlapping patch; 2: every other one
    #: "bfloat16": mixed precision on a GPU (:mod:`mer_ser.train.precision`); not a paper setting.
    compute_dtype: str = "float32"
    #: The two speech languages of the ``mix`` pool (default: see :func:`mix_languages`).
    mix: tuple[str, ...] = ()
    reductions: tuple[str, ...] = ()

    def config(self, stage: str) -> TrainConfig:
        """Adam and early stopping of ``scae``, ``cpc``, ``feat_ext``, ``full`` or ``baseline``."""
        epochs, lr, patience, decay = {
            "scae": (self.pretrain_epochs, self.lr_pretrain, self.pretrain_patience, 0.0),
            "cpc": (self.cpc_epochs, self.lr_pretrain, self.pretrain_patience, self.cpc_decay),
            "feat_ext": (self.feat_ext_epochs, self.lr_feat_ext, self.patience, 0.0),
            "full": (self.full_epochs, self.lr_full, self.patience, 0.0),
            "baseline": (self.baseline_epochs, self.lr_full, self.patience, 0.0),
            "dae_pretrain": (self.dae_pretrain_epochs, self.lr_pretrain, self.pretrain_patience,
                             0.0),
            "dae": (self.dae_epochs, self.lr_feat_ext, self.patience, 0.0),
        }[stage]  # fmt: skip
        cfg = TrainConfig(
            optimizer="adam",
            learning_rate=lr,
            lr_decay=decay,
            batch_size=self.batch_size,
            max_epochs=epochs,
            patience=patience,
            monitor="loss",
            compute_dtype=self.compute_dtype,
        )
        if stage == "dae_pretrain":  # inputs standardised beforehand, targets in (0, 1)
            return dataclasses.replace(
                cfg,
                loss="mse",
                input_noise=self.dae_noise,
                standardise_inputs=False,
                standardise_outputs=False,
            )
        if stage == "dae":
            return dataclasses.replace(cfg, freeze=("encoder",))
        return cfg


PROTOCOLS = {
    "paper": Protocol("paper"),
    "default": Protocol(
        "default",
        runs=2,
        amounts={"exp1": 3.0, "exp2": 30.0},
        encoders=("SCAE", "CPC", "DAE-Classifier"),
        full_encoders=("SCAE",),
        full_amounts=("exp2",),
        pretrain_epochs=2,
        cpc_epochs=3,
        feat_ext_epochs=8,
        full_epochs=2,
        baseline_epochs=8,
        dae_pretrain_epochs=30,
        dae_epochs=60,
        patience=4,
        music_patch_stride=3,
        reductions=(
            "speech per pool 3 h / 30 h -> 3 s / 30 s (one and nine windows of 6 patches; the "
            "1:10 ratio of Experiments 1 and 2 kept): an SCAE step costs about 50 ms per patch "
            "on 2 cores",
            "pretraining 2 epochs (SCAE) and 3 (CPC); Feat. Ext. 8 epochs, Full 2, patience 4: "
            "the 2-core budget; the baseline CNN gets Feat. Ext.'s 8 epochs, the budget of the "
            "heads it is compared with",
            "Full mode for the SCAE of Experiment 2 only (CPC-Full and Experiment 1's Full in "
            "`paper`): a Full epoch costs about 17 ms per patch",
            "runs 4 -> 2; every third 50 %-overlapping music patch (4 per 6 s clip)",
            "DAE-Classifier only (DAE-Sparsity, 800 blocks on 10 s windows, in `paper`: the "
            "built-in music clips last 6 s); DAE pretraining 30 epochs, its classifier 60 "
            "(an epoch of a 1 Hz LSTM on these sets costs milliseconds)",
        ),
    ),
}
#: Tests only: the default's structure, smaller still.
PROTOCOLS["quick"] = dataclasses.replace(
    PROTOCOLS["default"],
    name="quick",
    amounts={"exp1": 4.0, "exp2": 14.0},
    pretrain_epochs=1,
    cpc_epochs=1,
    feat_ext_epochs=4,
    full_epochs=1,
    baseline_epochs=4,
    dae_pretrain_epochs=3,
    dae_epochs=6,
    patience=2,
    batch_size=16,
    reductions=("tests only: 4 s / 14 s of speech, 1-6 epochs, 2 runs, every third patch",),
)
