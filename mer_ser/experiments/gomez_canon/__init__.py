"""Speech-pretrained encoders transferred to music quadrants (Gomez-Canon et al. 2020, 2021).

Data (2021, section 3.1 and Table 1): unlabelled speech per language (English: LibriSpeech;
Mandarin: AISHELL-1; ``mix``: equal shares of both) in two amounts (Experiment 1: 3 h,
Experiment 2: 30 h), 85 / 15 % pretraining train / validation; quadrant-labelled music with
lyrics (English: 4Q-Emotion; Mandarin: CH-818), 70 % train (of which 85 / 15 % train /
validation) and 30 % test, stratified by class. Features: 1 s log-mel patches, 128 bands x 31
frames, 50 % overlap (:class:`~mer_ser.features.MelPatches`).

Encoders (2021, section 3.3): the SCAE (denoising, Gaussian noise 0.3, MSE, Adam 1e-3) and CPC
(4 past patches, 2 future terms, binary consecutive-or-not objective, Adam 1e-3 with decay
4e-6), each pretrained on each speech pool. The 2020 paper's third encoder (section III-B,
Table II), Coutinho & Schuller's LSTM-DAE on 260 ComParE features at 1 Hz: **DAE-Classifier**
(windows of 5 s, 100 hidden blocks) and **DAE-Sparsity** (10 s, an over-complete 800), its
weights "kept fixed" under a new LSTM block and a softmax over the quadrants
(:class:`~mer_ser.models.PackedDAEClassifier`); quadrant head only, as Table II.

Transfer (2020, section III-C; 2021, section 3.3, Fig. 2): the encoder with the multi-task head
(quadrant, arousal, valence). **Feat. Ext.**: encoder frozen, the head trained at lr 1e-4.
**Full**: then "releasing the weights of the whole network and continue training" at lr 5e-4,
i.e. each Full run starts from its Feat. Ext. run. **Baseline CNN** (2020, section IV-B): the same
architecture trained on the music only. 4 runs each.

Settings: ``<speech>2<music>`` for speech ``eng``, ``man``, ``mix`` and music ``eng``, ``man``
(the papers); any other languages by their ISO 639 codes, ``mix`` drawing equally from two pools
(:func:`settings_for`, :func:`mix_languages`): e.g. ``de2eng``, ``fr2eng``, ``mix2eng``.

Scores (2020, Table II; 2021, Table 2): precision, recall and F-score per head, "macro-weighted":
the support-weighted average over classes (scikit-learn's ``average="weighted"``; it reproduces
the 2020 English baseline exactly: a model that always predicts the 48 % class scores P 0.23,
R 0.48, F 0.31). Predictions are made per patch and aggregated to clips: a clip's class is the
arg-max of its patches' mean quadrant probabilities (arousal and valence: mean probability above
0.5), and scores are computed over test clips.

Decisions the papers leave open, stated: patches are standardised with one mean and standard
deviation of the pretraining pool's training patches (the baseline: of the music's training
patches); each encoder is pretrained once and the 4 runs are transfer runs (run ``k`` of Full
starts from run ``k`` of Feat. Ext.); a frozen encoder runs in inference mode, so Feat. Ext. trains
the head on latents computed once (:class:`~mer_ser.models.LatentClassifier`, exactly equal);
early stopping on the validation loss with the best epoch kept (Keras' usual callback; the papers
give no epoch counts). The DAE encoders: features standardised per feature with the pool's
training statistics, the DAE reconstructs their sigmoid (its outputs are sigmoid, as Coutinho &
Schuller's) from inputs with Gaussian noise 0.3, Adam 1e-3 (the 2020 paper gives only the SCAE's
noise and rate and says it "reproduced the model"); the new LSTM block has 100 cells and trains
at Feat. Ext.'s rate 1e-4; speech windows do not overlap, music windows step by 1 s, and a clip
shorter than a window is one masked window; clips are scored as with patches (mean window
probabilities).

Modules: :mod:`.protocol` (settings, encoders, the profiles' budgets), :mod:`.data` (pools and
music sets), :mod:`.encoders` (SCAE, CPC and the DAEs behind one interface), :mod:`.transfer`
(:class:`LanguageTransfer`: every experiment), :mod:`.scores` (clip decisions, Table 2).
"""

from mer_ser.experiments.gomez_canon.data import (
    MusicPatches,
    data_summary,
    draw_pool,
    frame_sets,
    frame_windows,
    music_patches,
    music_windows,
    patch_sets,
    select_language,
    speech_blocks,
    window_seconds,
)
from mer_ser.experiments.gomez_canon.encoders import (
    ENCODER_TYPES,
    CpcEncoder,
    DaeEncoder,
    Encoder,
    ScaeEncoder,
)
from mer_ser.experiments.gomez_canon.protocol import (
    CORPORA,
    DAE_VARIANTS,
    ENCODERS,
    LANGUAGE_CODES,
    MODES,
    MUSIC,
    PROTOCOLS,
    SETTINGS,
    SPEECH,
    WINDOW,
    Protocol,
    language_code,
    languages_of,
    mix_languages,
    music_language,
    settings_for,
)
from mer_ser.experiments.gomez_canon.scores import (
    TABLE2_ROWS,
    clip_confusions,
    head_scores,
    table2,
)
from mer_ser.experiments.gomez_canon.transfer import LanguageTransfer

__all__ = [
    "CORPORA",
    "DAE_VARIANTS",
    "ENCODERS",
    "ENCODER_TYPES",
    "LANGUAGE_CODES",
    "MODES",
    "MUSIC",
    "PROTOCOLS",
    "SETTINGS",
    "SPEECH",
    "TABLE2_ROWS",
    "WINDOW",
    "CpcEncoder",
    "DaeEncoder",
    "Encoder",
    "LanguageTransfer",
    "MusicPatches",
    "Protocol",
    "ScaeEncoder",
    "clip_confusions",
    "data_summary",
    "draw_pool",
    "frame_sets",
    "frame_windows",
    "head_scores",
    "language_code",
    "languages_of",
    "mix_languages",
    "music_language",
    "music_patches",
    "music_windows",
    "patch_sets",
    "select_language",
    "settings_for",
    "speech_blocks",
    "table2",
    "window_seconds",
]
