"""The language-sensitive transfer experiments: every encoder, setting and amount, and baselines."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx
from tqdm.auto import tqdm

from mer_ser.experiments.data import Data
from mer_ser.experiments.gomez_canon.data import (
    MusicPatches,
    fold,
    frames_of,
    language_sides,
    music_fingerprint,
    patches_of,
    rank_in_clip,
    window_seconds,
)
from mer_ser.experiments.gomez_canon.encoders import ENCODER_TYPES, Encoder
from mer_ser.experiments.gomez_canon.protocol import (
    DAE_VARIANTS,
    ENCODERS,
    MODES,
    MUSIC,
    PROTOCOLS,
    _ordered,
    mix_languages,
    music_language,
    settings_for,
)
from mer_ser.experiments.gomez_canon.scores import clip_confusions, clip_quadrants, head_scores
from mer_ser.experiments.jobs import (
    JobCache,
    classifier_state,
    default_jobs_dir,
    job_key,
    learning_curves,
    run_classifier_job,
)
from mer_ser.experiments.quadrants import clip_matrix
from mer_ser.experiments.splits import stratified_group_split
from mer_ser.features.mel import MelPatches
from mer_ser.models import linear
from mer_ser.models.autoencoders import LatentClassifier, SCAEClassifier, SCAEEncoder
from mer_ser.train.engine import deep_merge, make_classifier_fit


class LanguageTransfer:
    """Gomez-Canon et al.'s experiments on speech pools and music sets by language.

    The papers' case is English and Mandarin (``eng``, ``man``); any languages work, named by
    their ISO 639 codes, and the settings are every speech pool (and ``mix`` of two of them)
    against every music set (:attr:`settings`).

    Args:
        protocol: a :class:`~mer_ser.experiments.gomez_canon.Protocol` or a key of
            :data:`~mer_ser.experiments.gomez_canon.PROTOCOLS`.
        speech: ``{"eng": blocks, "man": blocks}`` (or ``{"de": ..., "fr": ...}``) from
            :func:`~mer_ser.experiments.gomez_canon.speech_blocks`.
        music: ``{"eng": MusicPatches, "man": MusicPatches}`` (any languages).
        extractor: the :class:`~mer_ser.features.MelPatches` that made them.
        frames: 1 Hz ComParE frames for the DAE encoders, from
            :func:`~mer_ser.experiments.gomez_canon.frame_sets`: ``{"speech": {"eng":
            [(T, 260), ...], "man": [...]}, "music": {"eng": {clip id: (T, 260)}, "man": {...}}}``
            (the music clips those of ``music``).
        cache_dir: trained jobs (``None``: no cache).
        seed: draws, splits and every run.
        progress: a progress bar over the experiments in :meth:`run`.
        cached_only: never train: a job missing from ``cache_dir`` raises
            :class:`~mer_ser.experiments.jobs.NotTrained` (reading results another run made).

    Attributes:
        confusions: ``(encoder, mode, setting, amount)`` -> test-clip confusion summed over runs.
        jobs: ``(encoder, mode, setting, amount)`` -> the trained runs.
        pretraining: ``(encoder, speech, amount)`` -> windows, seconds, epochs, loss.
    """

    def __init__(
        self,
        protocol,
        *,
        speech,
        music,
        extractor=None,
        frames=None,
        cache_dir=None,
        seed=0,
        progress=True,
        cached_only=False,
    ):
        self.protocol = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
        unknown = set(self.protocol.encoders) - set(ENCODERS)
        if unknown:
            raise ValueError(f"unknown encoders {sorted(unknown)}; choose from {ENCODERS}")
        self.speech, self.music, self.frames = speech, music, frames
        #: Every ``<speech>2<music>`` setting of the languages present, in Table 2's order
        #: (:func:`~mer_ser.experiments.gomez_canon.settings_for`).
        self.settings = settings_for(speech, music)
        #: The music sets' languages in Table 2's order.
        self.music_languages = _ordered(music, MUSIC)
        #: The two languages the ``mix`` pool draws from in equal shares.
        self.mix = mix_languages(speech, self.protocol.mix)
        self.extractor = extractor or MelPatches()
        self.cache = JobCache(cache_dir, read_only=cached_only)
        self.seed = seed
        self.progress = progress
        p = self.protocol
        self.splits = {}
        for lang, m in music.items():
            part = stratified_group_split(m.quadrant, m.groups, p.music_fractions, seed=seed)
            self.splits[lang] = [np.flatnonzero(part == k) for k in range(3)]
        self._fits: dict = {}
        self._memo: dict = {}
        self.confusions: dict = {}
        self._outcomes: dict = {}
        self.pretraining: dict = {}
        self.jobs: dict = {}  # (encoder, mode, setting, amount) -> trained runs
        self.linear_models: dict = {}  # (label, head, lang) -> (model, mean, std)

    @classmethod
    def from_corpora(
        cls, data: Data, corpora: dict, protocol=None, *, cached_only: bool = False
    ) -> LanguageTransfer:
        """The experiments on a notebook's ``corpora`` (``speech_<lang>`` / ``music_<lang>`` keys).

        Patches come through ``data`` (:func:`patch_sets`, the protocol's music stride), and
        1 Hz frames (:func:`frame_sets`) when the protocol has a DAE encoder; jobs are cached
        under its data root; ``data.seed`` seeds draws, splits and every run.

        Args:
            data: where the corpora, the feature cache and the job cache are.
            corpora: ``{"speech_eng", "speech_man", "music_eng", "music_man"}`` -> spec.
            protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS` (default: the data's
                profile).
            cached_only: never train (see the class).
        """
        proto = (
            PROTOCOLS[protocol or data.profile] if isinstance(protocol, str | None) else protocol
        )
        sides = language_sides(data, corpora)  # each corpus opened once
        speech, music = patches_of(data, sides, music_stride=proto.music_patch_stride)
        dae = set(proto.encoders) & set(DAE_VARIANTS)
        return cls(
            proto,
            speech=speech,
            music=music,
            frames=frames_of(data, sides) if dae else None,
            cache_dir=default_jobs_dir(data.data_root),
            seed=data.seed,
            progress=data.progress,
            cached_only=cached_only,
        )

    # -- compiled fits, shared by every job of a stage (jobs of equal shapes compile once) -----
    def _fit(self, key: tuple, make):
        """``(fit, apply)`` under ``key``, made by ``make()`` once."""
        if key not in self._fits:
            self._fits[key] = make()
        return self._fits[key]

    def _stage_fit(self, stage: str):
        """The multi-task classifier's fit of ``feat_ext`` (on latents), ``full``, ``baseline``."""
        kind = "latent" if stage == "feat_ext" else "classifier"
        cfg = self.protocol.config(stage)
        return self._fit((stage,), lambda: make_classifier_fit(self.classifier(kind), cfg))

    def classifier(self, kind: str):
        """Build function of the multi-task classifier.

        ``kind``: ``"latent"`` (the head on a frozen encoder's latents) or ``"classifier"``
        (encoder and head).
        """
        block = self.protocol.head_block
        if kind == "latent":
            return lambda r: LatentClassifier(block=block, rngs=r)
        return lambda r: SCAEClassifier(block=block, rngs=r)

    def encoder(self, name: str) -> Encoder:
        """The encoder type of ``name`` (:data:`~mer_ser.experiments.gomez_canon.ENCODER_TYPES`)."""
        if name not in ENCODER_TYPES:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {name!r}")
        return ENCODER_TYPES[name]

    # -- pretraining ---------------------------------------------------------------------------
    def pretrain(self, encoder: str, language: str, amount: str):
        """The encoder pretrained on a speech pool: ``(job, mean, std)`` (cached).

        ``encoder``: a key of :data:`~mer_ser.experiments.gomez_canon.ENCODER_TYPES`;
        ``language``: a speech pool's language (``"eng"``, ``"man"``, ``"de"``, ...) or ``"mix"``
        (:attr:`mix`); ``amount``: a key of the protocol's ``amounts``.
        """
        return self.encoder(encoder).pretrain(self, language, amount)

    def pretrain_dae(self, variant: str, language: str, amount: str):
        """The LSTM-DAE of ``variant`` pretrained on a speech pool (as :meth:`pretrain`)."""
        return self.pretrain(variant, language, amount)

    def _windows(self, amount: str, window_s: float | None = None) -> int:
        sec = window_s if window_s is not None else window_seconds(self.extractor)
        return max(1, round(self.protocol.amounts[amount] / sec))

    def _latents(self, preset, x) -> np.ndarray:
        """The frozen encoder's latents of patches ``x`` (inference mode), ``(P, 2, 31, 128)``."""
        model = SCAEEncoder(rngs=nnx.Rngs(0))
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        nnx.replace_by_pure_dict(params, preset[0]["encoder"])
        nnx.replace_by_pure_dict(rest, deep_merge(nnx.to_pure_dict(rest), preset[1]["encoder"]))
        if "encode" not in self._memo:
            self._memo["encode"] = jax.jit(
                lambda p, r, x: nnx.merge(graphdef, p, r, copy=True)(x, train=False)
            )
        return self._chunked(self._memo["encode"], x, params, rest)

    @staticmethod
    def _chunked(fn, x, *args, chunk: int = 128):
        """``fn(*args, x_chunk)`` over fixed-size chunks of ``x``, outputs concatenated.

        The last chunk is zero-padded, so one compiled program serves every length.
        """
        outs = []
        for i in range(0, len(x), chunk):
            part = x[i : i + chunk]
            n = len(part)
            if n < chunk:
                part = np.concatenate([part, np.zeros((chunk - n, *part.shape[1:]), part.dtype)])
            out = jax.device_get(fn(*args, jnp.asarray(part)))
            outs.append(jax.tree.map(lambda a, n=n: np.asarray(a)[:n], out))
        return jax.tree.map(lambda *a: np.concatenate(a), *outs)

    # -- transfer ------------------------------------------------------------------------------
    def _music_fold(self, lang: str, sets: dict | None = None):
        """The training / validation rows of one music set, padded to the widest set's.

        ``sets``: the music sets as rows (default: the patches; the DAE: its windows).
        """
        sets = sets or self.music
        widths = [tuple(len(m.rows(self.splits[k][i])) for i in (0, 1)) for k, m in sets.items()]
        m, (tr, va, _) = sets[lang], self.splits[lang]
        return fold(m.rows(tr), m.rows(va), tuple(max(w) for w in zip(*widths, strict=True)))

    def _job(self, fit, spec, x, music: MusicPatches, f, presets=None):
        """The protocol's runs of a transfer stage on one music set (labels: clip quadrants)."""
        return run_classifier_job(
            fit,
            key=job_key(spec),
            seed=self.seed,
            runs=self.protocol.runs,
            fold=f,
            x=jnp.asarray(x),
            labels=jnp.asarray(music.quadrant[music.clip]),
            cache=self.cache,
            presets=presets,
        )

    def _probabilities(self, stage, job, x, runs=None) -> list[dict[str, np.ndarray]]:
        """Patch probabilities per run: quadrant softmax, arousal and valence sigmoid.

        ``runs``: which runs (default: all).
        """
        kind = "latent" if stage == "feat_ext" else "classifier"  # Full and baseline share it
        build = self.classifier(kind)
        if ("predict", kind) not in self._memo:
            _, apply = self._stage_fit(stage)
            self._memo[("predict", kind)] = jax.jit(lambda s, x: apply(s, x, heads=True))
        fn = self._memo[("predict", kind)]
        out = []
        for k in range(len(job.epochs)) if runs is None else runs:
            logits = self._chunked(fn, x, classifier_state(build, job, k))
            out.append(
                {
                    "quadrant": np.asarray(jax.nn.softmax(logits["quadrant"], axis=-1)),
                    "arousal": np.asarray(jax.nn.sigmoid(logits["arousal"])),
                    "valence": np.asarray(jax.nn.sigmoid(logits["valence"])),
                }
            )
        return out

    def _rows(self, probs, lang, *, encoder, setting, mode, amount, normalisation, music=None):
        """Score rows of every run (``probs``: per run, on the test rows of ``music``, in order).

        ``music``: the rows' set (default: the music's patches).
        """
        m, test = music or self.music[lang], self.splits[lang][2]
        clip = m.clip[m.rows(test)]
        rows, total, correct = [], 0, 0.0
        for r, prob in enumerate(probs):
            cms = clip_confusions(prob, m.quadrant, clip, test)
            total = total + cms["quadrant"]
            correct = correct + (clip_quadrants(prob["quadrant"], clip, test) == m.quadrant[test])
            for head, cm in cms.items():
                for metric, v in head_scores(cm).items():
                    rows.append(
                        {"protocol": "gomezcanon2021", "encoder": encoder, "setting": setting,
                         "mode": mode, "head": head, "run": r, "metric": metric, "value": v,
                         "normalisation": normalisation, "partition": "test", "amount": amount,
                         "clips": len(test)}
                    )  # fmt: skip
        key = (encoder, mode, setting, amount)
        self.confusions[key] = total
        self._outcomes[key] = pd.DataFrame(
            {"clip": np.asarray(m.clip_ids)[test], "correct": correct / len(probs),
             "runs": len(probs)}
        )  # fmt: skip
        return rows

    def transfer(self, encoder: str, setting: str, amount: str) -> pd.DataFrame:
        """The transfer experiments of one pretrained encoder on one music set.

        Mel-patch encoders: Feat. Ext. (and Full where the protocol asks); the DAE encoders:
        their classifier (frozen DAE, new LSTM block, softmax).

        Returns:
            Long format ``protocol, encoder, setting, mode, head, run, metric, value,
            normalisation, partition, amount``: weighted precision, recall, F-score, macro F1
            and accuracy per head on the music's test clips.
        """
        if setting not in self.settings:
            raise ValueError(f"setting must be one of {self.settings}, got {setting!r}")
        return self.encoder(encoder).transfer(self, setting, amount)

    def baseline(self, lang: str) -> pd.DataFrame:
        """The baseline CNN: the classifier's architecture trained on the music only.

        Randomly initialised, every weight trained at Full's learning rate, patches standardised
        with the music's own training statistics. Rows as :meth:`transfer` (``encoder`` "CNN",
        ``setting`` ``music_<lang>``, ``mode`` "baseline", ``amount`` "none").
        """
        p = self.protocol
        m = self.music[lang]
        mean, std = self._baseline_statistics(lang)
        xs = (m.x - mean) / std
        spec = {"kind": "gc_baseline", "music": music_fingerprint(m), "runs": p.runs,
                "split": [s.tolist() for s in self.splits[lang]], "head_block": p.head_block,
                "cfg": dataclasses.asdict(p.config("baseline")), "seed": self.seed}  # fmt: skip
        job = self._job(self._stage_fit("baseline")[0], spec, xs, m, self._music_fold(lang))
        self.jobs[("CNN", "baseline", f"music_{lang}", "none")] = job
        probs = self._probabilities("baseline", job, xs[m.rows(self.splits[lang][2])])
        kw = {"encoder": "CNN", "setting": f"music_{lang}", "amount": "none"}
        return pd.DataFrame(self._rows(probs, lang, mode="baseline", normalisation="domain", **kw))

    def random_control(self, lang: str) -> pd.DataFrame:
        """The control of Feat. Ext.: the SCAE encoder randomly initialised, frozen, with the head.

        Everything as Feat. Ext. (the head trained on the frozen encoder's latents, lr 1e-4, the
        same epochs) except that the encoder never saw speech; patches standardised with the
        music's own training statistics, as the baseline's. Feat. Ext. beating it is what says
        the pretraining, not the head, carries the transfer. Rows as :meth:`transfer`
        (``encoder`` "random SCAE", ``setting`` ``music_<lang>``, ``mode`` "feat_ext",
        ``amount`` "none").
        """
        p = self.protocol
        m = self.music[lang]
        mean, std = self._baseline_statistics(lang)
        xs = (m.x - mean) / std
        model = SCAEEncoder(rngs=nnx.Rngs(self.seed))
        _, params, rest = nnx.split(model, nnx.Param, ...)
        preset = ({"encoder": nnx.to_pure_dict(params)},
                  {"encoder": nnx.to_pure_dict(nnx.filter_state(rest, nnx.BatchStat))})  # fmt: skip
        z = self._latents(preset, xs)
        spec = {"kind": "gc_random_feat_ext", "music": music_fingerprint(m), "runs": p.runs,
                "split": [s.tolist() for s in self.splits[lang]], "head_block": p.head_block,
                "cfg": dataclasses.asdict(p.config("feat_ext")), "seed": self.seed}  # fmt: skip
        job = self._job(self._stage_fit("feat_ext")[0], spec, z, m, self._music_fold(lang))
        key = ("random SCAE", "feat_ext", f"music_{lang}", "none")
        self.jobs[key] = job
        probs = self._probabilities("feat_ext", job, z[m.rows(self.splits[lang][2])])
        kw = {"encoder": key[0], "setting": key[2], "amount": "none"}
        return pd.DataFrame(self._rows(probs, lang, mode="feat_ext", normalisation="domain", **kw))

    def linear_baseline(
        self, lang: str, features: dict, *, kind: str = "logistic", label: str = "eGeMAPS logistic"
    ) -> pd.DataFrame:
        """A functionals + linear-model control on one music set, beside the baseline CNN.

        One row of features per clip (e.g. openSMILE eGeMAPS functionals of the whole clip,
        :class:`~mer_ser.features.SmileFunctionals`), standardised with the music's training
        statistics; one model per head (quadrant; arousal high or not; valence positive or not),
        each regularisation chosen on the validation clips by unweighted average recall
        (:func:`mer_ser.models.linear.select`); it is convex, so one run. Logistic regression
        gives the heads' probabilities; an SVM's decisions count as probabilities 0 / 1.
        Rows as :meth:`transfer` (``encoder`` = ``label``, ``setting`` ``music_<lang>``,
        ``mode`` "linear", ``amount`` "none").

        Args:
            lang: the music set.
            features: clip id -> ``(1, d)`` for at least its clips.
            kind: ``"logistic"`` or ``"linear_svm"``.
            label: the control's name in the results and in Table 2.
        """
        m = self.music[lang]
        x = clip_matrix(features, m.clip_ids, m.name)
        tr, va, te = self.splits[lang]
        mean, std = x[tr].mean(axis=0), np.maximum(x[tr].std(axis=0), 1e-8)
        x = (x - mean) / std
        targets = {"quadrant": m.quadrant, "arousal": np.isin(m.quadrant, (0, 1)).astype(int),
                   "valence": np.isin(m.quadrant, (0, 3)).astype(int)}  # fmt: skip
        prob = {}
        for head, y in targets.items():
            model, _ = linear.select(kind, x[tr], y[tr], x[va], y[va], seed=self.seed)
            self.linear_models[(label, head, lang)] = (model, mean, std)
            p = (model.probabilities(x[te]) if kind == "logistic"
                 else np.eye(len(model.classes))[model.scores(x[te]).argmax(axis=1)])  # fmt: skip
            prob[head] = p if head == "quadrant" else p[:, 1]
        n = len(m.clip_ids)  # one row per clip: the clip's "patch"
        clips = MusicPatches(
            m.name, m.clip_ids, m.quadrant, m.groups, np.zeros((n, 1)), np.arange(n)
        )
        kw = {"encoder": label, "setting": f"music_{lang}", "amount": "none"}
        rows = self._rows([prob], lang, mode="linear", normalisation="domain", music=clips, **kw)
        return pd.DataFrame(rows)

    def _baseline_statistics(self, lang: str) -> tuple[float, float]:
        m = self.music[lang]
        tr = m.rows(self.splits[lang][0])
        return float(m.x[tr].mean()), float(m.x[tr].std()) or 1.0

    def run(self, *, amounts=None, encoders=None, settings=None) -> pd.DataFrame:
        """Every (amount, encoder, setting) transfer, the baselines and the random controls.

        ``settings``: default every setting of the languages present (:attr:`settings`).
        """
        p = self.protocol
        todo = [(a, e, s) for a in amounts or list(p.amounts) for e in encoders or p.encoders
                for s in settings or self.settings]  # fmt: skip
        bar = tqdm(total=2 * len(self.music) + len(todo), desc="gomez-canon", unit="experiment",
                   disable=not self.progress, leave=False)  # fmt: skip
        out = []
        for lang in self.music_languages:
            out.append(self.baseline(lang))
            bar.update()
            out.append(self.random_control(lang))
            bar.update()
        for amount, encoder, setting in todo:
            bar.set_postfix_str(f"{encoder} {setting} {amount}")
            out.append(self.transfer(encoder, setting, amount))
            bar.update()
        bar.close()
        return pd.concat(out, ignore_index=True)

    def _patch_times(self, m: MusicPatches, rows) -> np.ndarray:
        """Centre of each patch in seconds: mel frames ``s .. s + 30`` at frame ``s + 15``."""
        ex = self.extractor
        frame = rank_in_clip(m.clip)[rows] * m.stride * ex.patch_step + ex.patch_frames // 2
        return frame * ex.hop_length / ex.sr

    def clip_outcomes(self) -> pd.DataFrame:
        """Every experiment run so far, clip by clip: the share of its runs right on the clip.

        Returns:
            ``system`` (``"SCAE-Full mix2eng exp2"``, ``"Baseline CNN music_eng"``),
            ``encoder, mode, setting, amount, clip, correct, runs``: quadrant decisions on each
            music set's test clips (the systems of one music set share them).
        """
        frames = [
            out.assign(
                system=self._system(*key),
                encoder=key[0],
                mode=key[1],
                setting=key[2],
                amount=key[3],
            )
            for key, out in self._outcomes.items()
        ]
        cols = ["system", "encoder", "mode", "setting", "amount", "clip", "correct", "runs"]
        return pd.concat(frames, ignore_index=True)[cols]

    def comparisons(self, amount: str = "exp2") -> list[tuple[str, str]]:
        """The pairs the papers' conclusions rest on, among the experiments run so far.

        For the speech amount ``amount``: Feat. Ext. against Full of each encoder and setting;
        the speech pools (``eng``, ``man``, ``mix``, or the languages present) against each other
        for each encoder,
        mode and music set; every transfer against the baseline CNN of its music and against
        each linear control (:meth:`linear_baseline`), and SCAE Feat. Ext. against the random
        frozen encoder (:meth:`random_control`).
        """
        done = {k for k in self._outcomes if k[3] in (amount, "none")}
        pairs = []
        for enc, mode, setting, amt in sorted(done):
            if mode == "feat_ext" and (enc, "full", setting, amt) in done:
                pairs.append((self._system(enc, mode, setting, amt),
                              self._system(enc, "full", setting, amt)))  # fmt: skip
        systems = sorted({(k[0], k[1]) for k in done if k[3] != "none"})
        for lang in self.music_languages:
            settings = [s for s in self.settings if music_language(s) == lang]
            for enc, mode in systems:
                ran = [s for s in settings if (enc, mode, s, amount) in done]
                pairs += [(self._system(enc, mode, a, amount), self._system(enc, mode, b, amount))
                          for i, a in enumerate(ran) for b in ran[i + 1:]]  # fmt: skip
                linear_controls = sorted({(k[0], k[1]) for k in done if k[1] == "linear"})
                for control in (("CNN", "baseline"), ("random SCAE", "feat_ext"), *linear_controls):
                    base = (*control, f"music_{lang}", "none")
                    if base in done and (
                        control[0] != "random SCAE" or (enc, mode) == ("SCAE", "feat_ext")
                    ):
                        pairs += [(self._system(enc, mode, s, amount), self._system(*base))
                                  for s in ran]  # fmt: skip
        return pairs

    def learning_curves(self) -> pd.DataFrame:
        """Loss per epoch of every transfer, baseline and control trained so far.

        Returns:
            :func:`~mer_ser.experiments.jobs.learning_curves` of each job (the runs together)
            with ``protocol``, ``condition`` (the system's name, as in :meth:`clip_outcomes`)
            and ``normalisation`` (``domain``: the music's statistics or the encoder's).
        """
        frames = [
            learning_curves(job).assign(
                protocol="gomezcanon2021", condition=self._system(*key), normalisation="domain"
            )
            for key, job in self.jobs.items()
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @staticmethod
    def _system(encoder: str, mode: str, setting: str, amount: str) -> str:
        if mode == "baseline":
            return f"Baseline CNN {setting}"
        if mode == "linear":
            return f"{encoder} {setting}"
        if encoder == "random SCAE":
            return f"Random SCAE-Feat. Ext. {setting}"
        return f"{ENCODER_TYPES[encoder].label(mode)} {setting} {amount}"

    def confusion_panels(self, setting: str, amount: str) -> dict[str, np.ndarray]:
        """One setting's test confusion matrices, each beside the baseline CNN of its music.

        Args:
            setting: ``<speech>2<music>`` (:data:`SETTINGS`).
            amount: ``"exp1"`` or ``"exp2"``.

        Returns:
            Panel label (``"SCAE-Full"``, ``"DAE-Classifier"``, ``"baseline CNN (eng)"``,
            ``"eGeMAPS logistic (eng)"``) -> the confusion summed over runs, for every encoder
            and mode run so far (:meth:`run`) and every linear control of the music
            (:meth:`linear_baseline`); the plot of :func:`mer_ser.plots.confusion_matrices`.
        """
        panels = {
            enc if enc in DAE_VARIANTS else f"{enc}-{MODES[mode]}": cm
            for (enc, mode, s, a), cm in self.confusions.items()
            if s == setting and a == amount
        }
        lang = music_language(setting)
        panels[f"baseline CNN ({lang})"] = self.confusions[
            ("CNN", "baseline", f"music_{lang}", "none")
        ]
        for (enc, mode, s, _), cm in self.confusions.items():
            if mode == "linear" and s == f"music_{lang}":
                panels[f"{enc} ({lang})"] = cm
        return panels

    def patch_probabilities(self, encoder: str, mode: str, setting: str, amount: str, *,
                            run: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:  # fmt: skip
        """Quadrant probabilities over time of each test clip, from one trained run.

        The transfer is trained (or read from the cache) as :meth:`transfer` does. Each patch
        (each window for the DAE classifiers) is placed at its centre: a patch of mel frames
        ``s .. s + 30`` at frame ``s + 15`` (librosa's centred frames), a window of 1 Hz frames
        ``i .. i + W - 1`` midway between their centres ``i + 1 .. i + W`` s.

        Args:
            encoder: ``"SCAE"``, ``"CPC"``, a DAE variant or ``"CNN"`` (the baseline: ``setting``
                ``music_<lang>``, ``amount`` ``"none"``).
            mode: ``"feat_ext"``, ``"full"`` or ``"baseline"``.
            setting: as :meth:`transfer`.
            amount: as :meth:`transfer`.
            run: which run.

        Returns:
            clip id -> ``(time (P,), prob (P, 4))`` for the music set's test clips.
        """
        key = (encoder, mode, setting, amount)
        if key not in self.jobs:
            if mode == "baseline":
                self.baseline(setting.removeprefix("music_"))
            else:
                self.transfer(encoder, setting, amount)
        if key not in self.jobs:
            raise ValueError(f"{key}: not part of the protocol (modes {self.protocol.modes})")
        lang = music_language(setting)
        test = self.splits[lang][2]
        job = self.jobs[key]
        if mode == "baseline":
            m = self.music[lang]
            rows = m.rows(test)
            mean, std = self._baseline_statistics(lang)
            prob = self._probabilities(mode, job, (m.x[rows] - mean) / std, runs=[run])[0]
            prob, times = prob["quadrant"], self._patch_times(m, rows)
        else:
            m, rows, times, prob = self.encoder(encoder).probabilities(
                self, mode, setting, amount, run, job
            )
        clip = m.clip[rows]
        return {m.clip_ids[c]: (times[clip == c], prob[clip == c]) for c in test}

    def pretraining_summary(self) -> pd.DataFrame:
        """Windows, seconds, epochs and best validation loss of each pretrained encoder."""
        rows = [{"encoder": e, "speech": lang, "amount": a, **v}
                for (e, lang, a), v in sorted(self.pretraining.items())]  # fmt: skip
        return pd.DataFrame(rows)
