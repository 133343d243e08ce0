"""Profiles of the built-in corpus: how many clips of which kind, in one place.

Each profile mirrors the structure of the papers' data at a size that fits its purpose; the
reason for every reduction is written beside it. Totals (audio hours) are in
``figures/datasets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: Quadrant proportions of the MSP-Podcast v1.8 subset of Rodningen 2022, Table 4.1
#: (14,767 / 10,315 / 7,881 / 4,376 of 37,339 clips): the imbalanced SER side.
MSP_QUADRANTS = (14767 / 37339, 10315 / 37339, 7881 / 37339, 4376 / 37339)
BALANCED_QUADRANTS = (0.25, 0.25, 0.25, 0.25)


@dataclass(frozen=True)
class PartSpec:
    """One part of the built-in corpus (becomes one corpus folder)."""

    name: str  # folder and corpus name
    domain: str  # "speech" or "music"
    kind: str  # "continuous", "static" or "unlabelled"
    mirrors: str  # the real corpus it stands in for
    n_clips: int  # number of clips
    duration: tuple[float, float]  # clip length range in seconds (uniform draw)
    languages: tuple[
        str, ...
    ]  # cycled over clips; music: "en" 4Q-like, "zh" pentatonic, "zxx" instrumental
    label_rate: float = 0.0  # native rate of continuous labels in Hz
    n_raters: int = 0  # simulated raters per clip
    quadrants: tuple[float, ...] = BALANCED_QUADRANTS  # static parts: Q1..Q4 proportions
    scale: tuple[float, float] = (-1.0, 1.0)  # original rating scale of static labels


@dataclass(frozen=True)
class CorpusProfile:
    """A named size of the built-in corpus."""

    name: str
    parts: tuple[PartSpec, ...]
    reason: str  # why this size

    @property
    def hours(self) -> float:
        """Expected audio duration in hours."""
        return sum(p.n_clips * sum(p.duration) / 2 for p in self.parts) / 3600


def _parts(sizes: dict[str, tuple[int, tuple[float, float]]]) -> tuple[PartSpec, ...]:
    """The six parts with their clip counts and durations: ``{part: (n_clips, (min_s, max_s))}``."""
    parts = (
        PartSpec("speech_continuous", "speech", "continuous", "RECOLA / SEMAINE", 0, (0, 0),
                 ("fr", "en"), label_rate=25.0, n_raters=6),
        PartSpec("music_continuous", "music", "continuous", "Coutinho's music-psychology pieces",
                 0, (0, 0), ("zxx",), label_rate=2.0, n_raters=8),
        PartSpec("speech_pool", "speech", "unlabelled", "SEMAINE / LibriSpeech / AISHELL-1", 0,
                 (0, 0), ("en", "fr", "zh")),
        PartSpec("music_pool", "music", "unlabelled", "MediaEval 2014 (ME14)", 0, (0, 0),
                 ("zxx", "en", "zh")),
        PartSpec("speech_static", "speech", "static", "MSP-Podcast (Rodningen 2022 Table 4.1)", 0,
                 (0, 0), ("en",), n_raters=5, quadrants=MSP_QUADRANTS, scale=(1.0, 7.0)),
        PartSpec("music_static", "music", "static",
                 "4Q-Emotion (en), CH-818 (zh), instrumental MER compilation (zxx)", 0, (0, 0),
                 ("en", "zh", "zxx"), n_raters=5, scale=(1.0, 9.0)),
    )  # fmt: skip
    return tuple(replace(p, n_clips=sizes[p.name][0], duration=sizes[p.name][1]) for p in parts)


PROFILES: dict[str, CorpusProfile] = {
    "quick": CorpusProfile(
        "quick",
        _parts(
            {
                "speech_continuous": (10, (60, 60)),
                "music_continuous": (10, (60, 60)),
                "speech_pool": (6, (20, 20)),
                "music_pool": (6, (20, 20)),
                "speech_static": (32, (4, 4)),
                "music_static": (30, (5, 5)),
            }
        ),
        reason="tests and CI: about 29 minutes of audio, every part present, generated in "
        "seconds; 10 one-minute continuous clips per domain, the fewest on which the nested "
        "cross-validation of the continuous track learns arousal reliably",
    ),
    "default": CorpusProfile(
        "default",
        _parts(
            {
                "speech_continuous": (16, (90, 90)),
                "music_continuous": (16, (90, 90)),
                "speech_pool": (36, (40, 40)),
                "music_pool": (36, (40, 40)),
                "speech_static": (200, (4, 4)),
                "music_static": (150, (6, 6)),
            }
        ),
        reason="make figures on 2 CPU cores: about 2 hours of audio; continuous clips "
        "are 90 s instead of RECOLA's 300 s so nested cross-validation fits in minutes",
    ),
    "paper": CorpusProfile(
        "paper",
        _parts(
            {
                "speech_continuous": (23, (300, 300)),
                "music_continuous": (33, (43, 315)),
                "speech_pool": (180, (60, 60)),
                "music_pool": (180, (45, 45)),
                "speech_static": (1200, (5, 5)),
                "music_static": (600, (10, 15)),
            }
        ),
        reason="at least the papers' counts: 23 five-minute speech recordings (RECOLA), 33 music "
        "pieces of 43-315 s (Coutinho & Schuller 2017, Table 2 and MP_DB1-3), 3 h unlabelled "
        "speech in three languages, 2.25 h unlabelled music, 1,200 static speech clips, 600 "
        "static music clips of 10-15 s (Rodningen 2022)",
    ),
}


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that determines the built-in corpus' bytes."""

    profile: str = "default"  # key of PROFILES
    seed: int = 0  # master seed; every clip derives its own stream from (seed, part, clip)
    shared_code: float = 0.75  # share of music's shared cues driven by its labels (cues module)
    sr: int = 16000  # sample rate of the written audio
    parts: tuple[str, ...] = field(default=())  # subset of part names to build; () means all

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose from {sorted(PROFILES)}")
        if not 0.0 <= self.shared_code <= 1.0:
            raise ValueError(f"shared_code must lie in [0, 1], got {self.shared_code:g}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")
        if self.sr <= 0:
            raise ValueError(f"sr must be a positive sample rate in Hz, got {self.sr}")

    def resolved_parts(self) -> tuple[PartSpec, ...]:
        """The profile's parts, filtered by :attr:`parts`."""
        specs = PROFILES[self.profile].parts
        if self.parts:
            unknown = set(self.parts) - {p.name for p in specs}
            if unknown:
                raise ValueError(f"unknown parts {sorted(unknown)}")
            specs = tuple(p for p in specs if p.name in self.parts)
        return specs
