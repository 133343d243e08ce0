"""The built-in, generated affective corpus (speech via espeak-ng, music via numpy synthesis).

See :mod:`.cues` for the cue model, :mod:`.config` for the profiles and the label models (how
hard the labels are) and :mod:`.build` for the generator.
``build_corpus(out, SyntheticConfig(profile="quick", seed=0))`` writes it.
"""

from mer_ser.corpora.synthetic.build import build_corpus, latents, plan_part, profile_table
from mer_ser.corpora.synthetic.config import (
    LABEL_MODELS,
    PROFILES,
    CorpusProfile,
    LabelModel,
    PartSpec,
    SyntheticConfig,
)

__all__ = [
    "LABEL_MODELS",
    "PROFILES",
    "CorpusProfile",
    "LabelModel",
    "PartSpec",
    "SyntheticConfig",
    "build_corpus",
    "latents",
    "plan_part",
    "profile_table",
]
