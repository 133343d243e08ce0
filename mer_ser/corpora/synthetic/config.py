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
#: Balanced quadrants: 4Q-Emotion has 225 clips per quadrant by construction (Panda, Malheiro &
#: Paiva 2018), and Rodningen 2022's instrumental MER compilation is "well-balanced" (Table 4.3).
BALANCED_QUADRANTS = (0.25, 0.25, 0.25, 0.25)
#: Quadrant shares of DEAM 2013's static song ratings (744 songs; Aljanaki, Yang & Soleymani 2017):
#: unselected music leans to Q1/Q3. An option for ``LabelModel.music_quadrants``.
DEAM_QUADRANTS = (0.36, 0.10, 0.39, 0.16)


@dataclass(frozen=True)
class LabelModel:
    """How the built-in corpus' labels move, disagree and spread (what makes real labels hard).

    The ``realistic`` defaults (:data:`LABEL_MODELS`) take each number from a published source
    about the kind of corpus a part mirrors; ``figures/corpus_realism.md`` measures the result
    beside those references (:mod:`mer_ser.corpora.realism`). ``easy`` is the older generator's
    setting: traces that move more, raters that agree better, no ambiguous static clips, music
    clip means with no A-V correlation.

    Within-clip motion is set so the gold traces' standard deviation within a clip lies in the
    range implied by Coutinho & Schuller 2017, Table 6 (M2M for music pieces, S2S for RECOLA;
    :func:`mer_ser.corpora.realism.implied_gold_sd`): about 0.08-0.22 (arousal) and 0.07-0.27
    (valence) for full music pieces, 0.11-0.18 and 0.05-0.12 for RECOLA's speech. DEAM's 45-s
    pop excerpts move far less (median 0.025), which is why its references are not used for the
    continuous part, which mirrors full pieces.

    Attributes:
        name: preset name.
        speech_motion: stationary sd of speech's latent arousal (OU process, ``arctanh`` space).
        speech_valence_own: sd of speech valence's own motion, as a share of ``speech_motion``
            (the rest follows arousal with slope 0.6, Coutinho & Schuller 2017, Fig 6).
        music_motion: stationary sd of music's latent arousal and valence.
        music_spread: sd of music clip means (bivariate normal, clipped to +-0.8); 0 draws them
            uniformly over [-0.6, 0.6]^2 and independently (the ``easy`` setting).
        music_av_r: correlation of music clip-mean arousal and valence: DEAM 2013's +0.57.
        speech_raters: raters per continuous speech clip (RECOLA: six).
        music_raters: raters per continuous music piece (Coutinho & Schuller's MP pieces: 35-52).
        rater_bias_sd: sd of a music rater's constant offset.
        speech_rater_bias_sd: sd of a speech rater's constant offset: Table 6's S2S RMSE of
            0.105 leaves room for a gold offset of about 0.05 per RECOLA recording, which with
            six raters bounds the offsets' sd near 0.12.
        rater_gain_sd: sd of a rater's gain around 1.
        rater_noise_sd: stationary sd of a rater's slowly varying error (OU, 3 s).
        rater_lag: range of raters' reaction lags in seconds (drawn per rater).
        static_rater_sd: sd of one rater's static vote around the clip's value, on the
            normalised scale: DEAM's 1.65 points on 1-9 is 0.41.
        ambiguous: share of static clips whose value on a dimension is drawn within
            ``near_centre`` of the midpoint (before rater noise); DEAM's static labels have
            20-24 % of clips within half a point of the 1-9 midpoint after averaging raters.
        near_centre: half-width of the ambiguous band on the normalised scale.
        static_magnitude: range of ``|value|`` of the other static clips.
        music_quadrants: quadrant shares of the static music part; ``None`` keeps the part's
            (:data:`BALANCED_QUADRANTS`, as in 4Q and Rodningen's compilation).
    """

    name: str
    speech_motion: float
    speech_valence_own: float
    music_motion: float
    music_spread: float
    music_av_r: float
    speech_raters: int
    music_raters: int
    rater_bias_sd: float
    speech_rater_bias_sd: float
    rater_gain_sd: float
    rater_noise_sd: float
    rater_lag: tuple[float, float]
    static_rater_sd: float
    ambiguous: float
    near_centre: float
    static_magnitude: tuple[float, float]
    music_quadrants: tuple[float, ...] | None = None

    def __post_init__(self):
        if not -1.0 < self.music_av_r < 1.0:
            raise ValueError(f"music_av_r must lie in (-1, 1), got {self.music_av_r:g}")
        if not 0.0 <= self.ambiguous <= 1.0:
            raise ValueError(f"ambiguous must lie in [0, 1], got {self.ambiguous:g}")
        if min(self.speech_raters, self.music_raters) < 1:
            raise ValueError("speech_raters and music_raters must be at least 1")
        if self.music_quadrants is not None and (
            len(self.music_quadrants) != 4 or abs(sum(self.music_quadrants) - 1.0) > 1e-6
        ):
            raise ValueError(f"music_quadrants must be four shares summing to 1, got "
                             f"{self.music_quadrants}")  # fmt: skip


LABEL_MODELS: dict[str, LabelModel] = {
    "realistic": LabelModel(
        name="realistic",
        speech_motion=0.2,
        speech_valence_own=0.35,
        music_motion=0.24,
        music_spread=0.35,
        music_av_r=0.57,
        speech_raters=6,
        music_raters=35,
        rater_bias_sd=0.24,
        speech_rater_bias_sd=0.1,
        rater_gain_sd=0.25,
        rater_noise_sd=0.12,
        rater_lag=(1.0, 6.0),
        static_rater_sd=0.41,
        ambiguous=0.35,
        near_centre=0.125,
        static_magnitude=(0.15, 0.8),
    ),
    "easy": LabelModel(
        name="easy",
        speech_motion=0.35,
        speech_valence_own=0.7,
        music_motion=0.4,
        music_spread=0.0,
        music_av_r=0.0,
        speech_raters=6,
        music_raters=8,
        rater_bias_sd=0.08,
        speech_rater_bias_sd=0.08,
        rater_gain_sd=0.15,
        rater_noise_sd=0.08,
        rater_lag=(2.0, 5.0),
        static_rater_sd=0.12,
        ambiguous=0.0,
        near_centre=0.125,
        static_magnitude=(0.3, 0.8),
    ),
}


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
    labels: str = "realistic"  # key of LABEL_MODELS: how hard the labels are

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose from {sorted(PROFILES)}")
        if self.labels not in LABEL_MODELS:
            raise ValueError(
                f"unknown label model {self.labels!r}; choose from {sorted(LABEL_MODELS)}"
            )
        if not 0.0 <= self.shared_code <= 1.0:
            raise ValueError(f"shared_code must lie in [0, 1], got {self.shared_code:g}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")
        if self.sr <= 0:
            raise ValueError(f"sr must be a positive sample rate in Hz, got {self.sr}")

    @property
    def label_model(self) -> LabelModel:
        """The :class:`LabelModel` named by :attr:`labels`."""
        return LABEL_MODELS[self.labels]

    def resolved_parts(self) -> tuple[PartSpec, ...]:
        """The profile's parts (filtered by :attr:`parts`), raters and shares per label model."""
        lm = self.label_model
        raters = {"speech": lm.speech_raters, "music": lm.music_raters}
        specs = tuple(
            replace(p, n_raters=raters[p.domain]) if p.kind == "continuous"
            else replace(p, quadrants=lm.music_quadrants)
            if p.kind == "static" and p.domain == "music" and lm.music_quadrants else p
            for p in PROFILES[self.profile].parts
        )  # fmt: skip
        if self.parts:
            unknown = set(self.parts) - {p.name for p in specs}
            if unknown:
                raise ValueError(f"unknown parts {sorted(unknown)}")
            specs = tuple(p for p in specs if p.name in self.parts)
        return specs
