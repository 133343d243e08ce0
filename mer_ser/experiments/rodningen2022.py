"""SER -> MER vs MER -> MER quadrant classification of Rodningen 2022 (thesis chapters 4-5).

Data (section 4.2): static-labelled speech with imbalanced quadrants (MSP-Podcast, Table 4.1) and
instrumental music with balanced quadrants. Features: 3-D log-mel (section 4.3,
:class:`~mer_ser.features.LogMel3D`), standardised per channel with training statistics.

Splits (section 4.5): MER 68 / 12 / 20 % train / validation / test, stratified by quadrant with
every song in one partition (:func:`~mer_ser.experiments.splits.stratified_group_split`); SER
99.4 / 0.6 % train / validation, stratified.

Training (section 4.6): Adam (DCNN 1e-4, ADCRNN 1e-5), batch 32, at most 200 epochs, early
stopping with patience 30 and the best checkpoint on validation accuracy (the thesis evaluates
the early-stopped and the best-checkpoint model and keeps the better on validation: the best
checkpoint is never worse there). 5 runs, trained one after another (vmapped convolutions are
slower on both backends; see :func:`~mer_ser.experiments.jobs.run_classifier_job`).

Experiments (Table 5.1): 0 weighted-random baseline; SER2SER (validation accuracy of the SER
models); 1a SER2MER and 1b MER2MER with the DCNN; 2a / 2b with the ADCRNN. Test accuracy is on
the MER test partition in every MER experiment.

Normalisation of the target in SER2MER, an explicit option reported side by side: ``"source"``
(the MER clips standardised with the SER training statistics, the thesis) or ``"domain"`` (each
corpus with its own training-partition statistics; no target labels are used).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mer_ser import metrics
from mer_ser.experiments.data import Data
from mer_ser.experiments.jobs import (
    JobCache,
    classifier_state,
    default_jobs_dir,
    job_key,
    learning_curves,
    run_classifier_job,
)
from mer_ser.experiments.quadrants import ClipSet, clip_matrix
from mer_ser.experiments.splits import stratified_group_split, stratified_split
from mer_ser.features.mel import LogMel3D
from mer_ser.models import ADCRNN, DCNN, linear
from mer_ser.train.engine import TrainConfig, folds_from_masks, make_classifier_fit


@dataclass(frozen=True)
class Protocol:
    """Runs, epochs, splits and models of one profile (``paper`` = the thesis)."""

    name: str
    runs: int = 5
    max_epochs: int = 200
    patience: int = 30
    batch_size: int = 32
    learning_rate: dict = field(default_factory=lambda: {"DCNN": 1e-4, "ADCRNN": 1e-5})
    models: tuple[str, ...] = ("DCNN", "ADCRNN")
    mer_fractions: tuple[float, float, float] = (0.68, 0.12, 0.20)
    ser_fractions: tuple[float, float] = (0.994, 0.006)
    pad_seconds: float = 15.0
    hop_length: int = 240  # 15 ms at 16 kHz (section 4.3)
    reductions: tuple[str, ...] = ()
    # The thesis' future work (section 7.2), each off by default:
    class_balanced: bool = False  # cross-entropy weighted by inverse training shares
    monitor: str = "accuracy"  # best checkpoint on validation "accuracy" or "macro_f1"
    #: "bfloat16": mixed precision on a GPU (:mod:`mer_ser.train.precision`); not a thesis setting.
    compute_dtype: str = "float32"
    #: SER train / validation split: ``"stratified"`` by quadrant (the thesis) or ``"grouped"``
    #: (stratified with every speaker in one partition, so SER2SER is speaker-independent).
    ser_split: str = "stratified"

    def extractor(self) -> LogMel3D:
        """The 3-D log-mel of section 4.3 at this profile's padding and hop."""
        return LogMel3D(pad_seconds=self.pad_seconds, hop_length=self.hop_length)

    def training(self, model: str, class_weights=None) -> TrainConfig:
        """Adam, batch 32, early stopping on validation accuracy (section 4.6).

        ``class_weights`` (per quadrant) are used when :attr:`class_balanced` is on.
        """
        return TrainConfig(
            optimizer="adam",
            learning_rate=self.learning_rate[model],
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            monitor=self.monitor,
            l1=DCNN.l1 if model == "DCNN" else ADCRNN.l1,
            class_weights=tuple(class_weights) if self.class_balanced else None,
            compute_dtype=self.compute_dtype,
        )


PROTOCOLS = {
    "paper": Protocol("paper"),
    "default": Protocol(
        "default",
        runs=3,
        max_epochs=30,
        patience=8,
        learning_rate={"DCNN": 1e-4, "ADCRNN": 1e-4},
        models=("DCNN",),
        ser_fractions=(0.9, 0.1),
        pad_seconds=6.0,
        hop_length=960,
        reductions=(
            "runs 5 -> 3; epochs 200 -> 30, patience 30 -> 8: the 2-core budget",
            "DCNN only: in 30 epochs of this corpus (about 150 Adam steps) the ADCRNN stayed at "
            "chance (measured at lr 1e-4: test accuracy 0.256 in 2a and 2b; baseline 0.250)",
            "clips padded to 6 s (the built-in clips' length) instead of 15 s",
            "hop 15 ms -> 60 ms (101 instead of 401 frames for 6 s): the 2-core budget",
            "SER validation 0.6 % -> 10 %: 0.6 % of 200 clips is one clip",
        ),
    ),
    "quick": Protocol(
        "quick",
        runs=3,
        max_epochs=15,
        patience=5,
        batch_size=8,
        learning_rate={"DCNN": 3e-4, "ADCRNN": 3e-4},
        models=("DCNN",),
        ser_fractions=(0.8, 0.2),
        pad_seconds=5.0,
        hop_length=960,
        reductions=(
            "tests only: 3 runs, 15 epochs, batch 8, DCNN, 5 s clips, 60 ms hop, SER 80 / 20",
        ),
    ),
}

BUILDERS = {"DCNN": DCNN, "ADCRNN": ADCRNN}


@dataclass
class Split:
    """Partition indices of one corpus: ``train``, ``val``, ``test`` (arrays of rows)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def mer_split(s: ClipSet, p: Protocol, seed: int) -> Split:
    """MER 68 / 12 / 20, stratified by quadrant, songs whole (section 4.5)."""
    part = stratified_group_split(s.quadrant, s.groups, p.mer_fractions, seed=seed)
    return Split(*(np.flatnonzero(part == k) for k in range(3)))


def ser_split(s: ClipSet, p: Protocol, seed: int) -> Split:
    """SER train / validation, stratified by quadrant (no SER test set in the thesis).

    ``p.ser_split == "grouped"``: also every speaker in one partition
    (:func:`~mer_ser.experiments.splits.stratified_group_split`).
    """
    if p.ser_split == "grouped":
        part = stratified_group_split(s.quadrant, s.groups, p.ser_fractions, seed=seed)
    elif p.ser_split == "stratified":
        part = stratified_split(s.quadrant, p.ser_fractions, seed=seed)
    else:
        raise ValueError(f"ser_split must be 'stratified' or 'grouped', got {p.ser_split!r}")
    return Split(np.flatnonzero(part == 0), np.flatnonzero(part == 1), np.zeros(0, int))


class QuadrantTrack:
    """Rodningen 2022's experiments on one speech and one music :class:`ClipSet`.

    Args:
        protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS`.
        speech: the SER set (MSP-Podcast-like).
        music: the MER set (instrumental, balanced quadrants).
        cache_dir: trained jobs (``None``: no cache).
        seed: splits and every run.
    """

    def __init__(self, protocol, *, speech: ClipSet, music: ClipSet, cache_dir=None, seed=0):
        self.protocol = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
        self.sets = {"speech": speech, "music": music}
        self.splits = {
            "speech": ser_split(speech, self.protocol, seed),
            "music": mer_split(music, self.protocol, seed),
        }
        self.cache = JobCache(cache_dir)
        self.seed = seed
        self._models: dict = {}
        self._confusion: dict = {}
        self._outcomes: dict = {}
        #: :meth:`run_linear`'s fitted models by ``(label, setting, normalisation)``.
        self.linear_models: dict = {}

    @classmethod
    def from_corpora(cls, data: Data, corpora: dict, protocol=None) -> QuadrantTrack:
        """The track on a notebook's ``corpora``: specs under ``speech`` and ``music``.

        Clips come through ``data`` (:meth:`~mer_ser.experiments.data.Data.clips`, with the
        protocol's 3-D log-mel); jobs are cached under its data root; ``data.seed`` seeds the
        splits and every run.

        Args:
            data: where the corpora, the feature cache and the job cache are.
            corpora: ``{"speech": spec, "music": spec}`` (other keys are ignored).
            protocol: a :class:`Protocol` or a key of :data:`PROTOCOLS` (default: the data's
                profile).
        """
        proto = (
            PROTOCOLS[protocol or data.profile] if isinstance(protocol, str | None) else protocol
        )
        speech, music = data.clips([corpora["speech"], corpora["music"]], proto.extractor())
        return cls(
            proto,
            speech=speech,
            music=music,
            cache_dir=default_jobs_dir(data.data_root),
            seed=data.seed,
        )

    def _normalised(self, domain: str, stats_from: str) -> ClipSet:
        return self.sets[domain].standardise(*self.channel_statistics(stats_from))

    def train(self, model: str, domain: str, *, stats_from: str | None = None, init=None):
        """The protocol's runs of ``model`` trained on ``domain``'s training partition.

        ``stats_from``: whose training statistics standardise the inputs (default ``domain``).
        ``init``: a trained ``(job, build, apply)`` whose run ``k`` starts run ``k`` (fine-tuning).
        """
        stats_from = stats_from or domain
        memo = (model, domain, stats_from, None if init is None else init[0].key)
        if memo in self._models:
            return self._models[memo]
        p = self.protocol
        s = self._normalised(domain, stats_from)
        sp = self.splits[domain]
        n = len(s)
        tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
        tr[0, sp.train], va[0, sp.val] = True, True
        fold = jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))
        t = s.x.shape[1]
        build = lambda rngs: BUILDERS[model](n_frames=t, n_mels=s.x.shape[2], rngs=rngs)  # noqa: E731
        counts = np.bincount(s.quadrant[sp.train], minlength=4)
        cfg = p.training(model, len(sp.train) / (4 * np.maximum(counts, 1)))  # sklearn "balanced"
        fit, apply = make_classifier_fit(build, cfg)
        spec = {
            "kind": "quadrant",
            "model": model,
            "domain": domain,
            "data": _fingerprint(s),
            "split": [sp.train.tolist(), sp.val.tolist()],
            "runs": p.runs,
            "cfg": dataclasses.asdict(cfg),
            "seed": self.seed,
        }
        presets = None
        if init is not None:  # fine-tuning: run k starts from the pretrained run k
            spec["init"] = init[0].key
            presets = [_preset(init[1], init[0], k) for k in range(p.runs)]
        key = job_key(spec)
        trained = run_classifier_job(
            fit,
            key=key,
            seed=self.seed,
            runs=p.runs,
            fold=fold,
            x=jnp.asarray(s.x),
            labels=jnp.asarray(s.quadrant),
            cache=self.cache,
            presets=presets,
        )
        out = (trained, build, apply)
        self._models[memo] = out
        return out

    def _predict(self, trained, build, apply, x) -> np.ndarray:
        """Quadrant predictions ``(runs, N)`` of every run."""
        if len(x) == 0:  # an empty partition (a fixture-sized corpus)
            return np.zeros((len(trained.epochs), 0), dtype=int)
        fn = jax.jit(apply)
        out = []
        for k in range(len(trained.epochs)):
            state = classifier_state(build, trained, k)
            logits = np.concatenate(
                [np.asarray(fn(state, x[i : i + 64])) for i in range(0, len(x), 64)]
            )
            out.append(logits.argmax(axis=-1))
        return np.stack(out)

    def system(self, model: str, setting: str, normalisation: str = "source"):
        """The models of one experiment and whose statistics standardise their inputs.

        Args:
            model: ``"DCNN"`` or ``"ADCRNN"``.
            setting: ``"SER2MER"``, ``"MER2MER"`` or ``"SER2MER_FT"``.
            normalisation: ``"source"`` or ``"domain"`` (see :meth:`run`).

        Returns:
            ``(trained, build, apply, stats_from)``: the runs (trained here or loaded from the
            cache), the model's build and apply functions, and the domain whose training
            partition's channel statistics standardise every input
            (:meth:`channel_statistics`).
        """
        if setting not in ("SER2MER", "MER2MER", "SER2MER_FT"):
            raise ValueError(
                f"setting must be 'SER2MER', 'MER2MER' or 'SER2MER_FT', got {setting!r}"
            )
        if normalisation not in ("source", "domain"):
            raise ValueError(f"normalisation must be 'source' or 'domain', got {normalisation!r}")
        source = "music" if setting == "MER2MER" else "speech"
        trained, build, apply = self.train(model, source)
        stats_from = source if normalisation == "source" else "music"
        if setting == "SER2MER_FT":
            trained, build, apply = self.train(
                model, "music", stats_from=stats_from, init=(trained, build, apply)
            )
        return trained, build, apply, stats_from

    def channel_statistics(self, domain: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std of ``domain``'s training partition (section 4.3)."""
        return self.sets[domain].channel_stats(self.splits[domain].train)

    def run(self, model: str, setting: str, normalisation: str = "source") -> pd.DataFrame:
        """One experiment: ``setting`` ``"SER2MER"``, ``"MER2MER"`` or ``"SER2MER_FT"``.

        ``SER2MER_FT`` is the thesis' future work (section 7.2): each SER run fine-tuned on the MER
        training partition (all weights released, the protocol's optimiser), inputs standardised
        with the SER statistics (``"source"``) or the music's own (``"domain"``).

        Returns:
            Long format ``protocol, encoder, setting, mode, head, run, metric, value,
            normalisation, partition, clips`` with ``accuracy``, ``macro_f1`` and ``weighted_f1``
            on the MER test partition and on the source's validation partition (the summed
            test confusion matrix is then available from :meth:`confusion`). A partition
            without clips (possible only on fixture-sized corpora) gets no rows.
        """
        trained, build, apply, stats_from = self.system(model, setting, normalisation)
        source = "speech" if setting == "SER2MER" else "music"  # whose validation partition
        music = self._normalised("music", stats_from)
        test = self.splits["music"].test
        pred_test = self._predict(trained, build, apply, jnp.asarray(music.x[test]))
        src = self._normalised(source, stats_from if setting == "SER2MER_FT" else source)
        val = self.splits[source].val
        pred_val = self._predict(trained, build, apply, jnp.asarray(src.x[val]))
        return self._score(model, setting, normalisation, pred_test, pred_val, source)

    def run_linear(
        self,
        features: dict,
        setting: str,
        normalisation: str = "source",
        *,
        kind: str = "linear_svm",
        label: str = "eGeMAPS SVM",
    ) -> pd.DataFrame:
        """A functionals + linear-model baseline on the same splits, as a row of Table 5.1.

        The model (:mod:`mer_ser.models.linear`) is fitted on the source's training partition
        at each regularisation of :data:`~mer_ser.models.linear.GRID` and the one with the best
        unweighted average recall on the source's validation partition is kept; it is convex,
        so one run. Features are standardised per feature with training-partition statistics:
        the source's (``"source"``) or, for the music in SER2MER, the music's own
        (``"domain"``), as :meth:`run` does for the log-mel channels.

        Args:
            features: ``{"speech": {clip id: (1, d)}, "music": {...}}``, e.g. openSMILE
                eGeMAPS functionals per clip (:class:`~mer_ser.features.SmileFunctionals`),
                for at least the track's clips.
            setting: ``"SER2MER"`` or ``"MER2MER"``.
            normalisation: ``"source"`` or ``"domain"``.
            kind: ``"linear_svm"`` or ``"logistic"``.
            label: the model's name in the results (their ``encoder``), e.g. ``"eGeMAPS SVM"``.

        Returns:
            Rows as :meth:`run` (one run).

        Raises:
            CorpusError: a clip of the track has no features.
        """
        if setting not in ("SER2MER", "MER2MER"):
            raise ValueError(f"setting must be 'SER2MER' or 'MER2MER', got {setting!r}")
        if normalisation not in ("source", "domain"):
            raise ValueError(f"normalisation must be 'source' or 'domain', got {normalisation!r}")
        source = "music" if setting == "MER2MER" else "speech"
        x = {
            d: clip_matrix(features[d], self.sets[d].clip_ids, self.sets[d].name) for d in self.sets
        }

        def standardised(domain: str, stats_from: str) -> np.ndarray:
            train = x[stats_from][self.splits[stats_from].train]
            return (x[domain] - train.mean(axis=0)) / np.maximum(train.std(axis=0), 1e-8)

        src, sp = standardised(source, source), self.splits[source]
        y = self.sets[source].quadrant
        model, _ = linear.select(kind, src[sp.train], y[sp.train], src[sp.val], y[sp.val],
                                 seed=self.seed)  # fmt: skip
        music = standardised("music", source if normalisation == "source" else "music")
        test = self.splits["music"].test
        self.linear_models[(label, setting, normalisation)] = model
        return self._score(label, setting, normalisation, model.predict(music[test])[None],
                           model.predict(src[sp.val])[None], source)  # fmt: skip

    def _score(self, model, setting, normalisation, pred_test, pred_val, source) -> pd.DataFrame:
        """Score rows of ``(runs, N)`` predictions on the MER test and the source's validation.

        Keeps the summed test confusion (:meth:`confusion`) and the per-clip outcomes
        (:meth:`clip_outcomes`).
        """
        test, val = self.splits["music"].test, self.splits[source].val
        y_test, y_val = self.sets["music"].quadrant[test], self.sets[source].quadrant[val]
        rows = []
        for part, pred, y in (("test", pred_test, y_test), ("validation", pred_val, y_val)):
            if pred.shape[1] == 0:  # no clip in this partition: no score, rather than NaN rows
                continue
            for r in range(len(pred)):
                sc = metrics.classification_scores(metrics.confusion(y, pred[r], 4))
                for metric, v in (
                    ("accuracy", sc.loc["accuracy", "f1"]),
                    ("macro_f1", sc.loc["macro", "f1"]),
                    ("weighted_f1", sc.loc["weighted", "f1"]),
                ):
                    rows.append(
                        {
                            "protocol": "rodningen2022",
                            "encoder": model,
                            "setting": setting,
                            "mode": "full",
                            "head": "quadrant",
                            "run": r,
                            "metric": metric,
                            "value": float(v),
                            "normalisation": normalisation,
                            "partition": part,
                            "clips": len(y),
                        }
                    )
        key = (model, setting, normalisation)
        self._confusion[key] = sum(metrics.confusion(y_test, pr, 4) for pr in pred_test)
        correct = (np.asarray(pred_test) == y_test[None]).mean(axis=0)
        self._outcomes[key] = pd.DataFrame(
            {"clip": np.asarray(self.sets["music"].clip_ids)[test], "correct": correct,
             "runs": len(pred_test)}
        )  # fmt: skip
        return pd.DataFrame(rows)

    def learning_curves(self) -> pd.DataFrame:
        """Loss per epoch of every model trained so far (is training converged?).

        Returns:
            :func:`~mer_ser.experiments.jobs.learning_curves` of each job (the runs together)
            with ``protocol``, ``condition`` (``"DCNN speech"``, ``"ADCRNN music"``, ``"DCNN
            music fine-tuned"``) and ``normalisation`` (whose statistics standardised the
            inputs: ``speech`` or ``music``).
        """
        frames = [
            learning_curves(trained).assign(
                protocol="rodningen2022",
                condition=f"{model} {domain}" + (" fine-tuned" if init else ""),
                normalisation=stats_from,
            )
            for (model, domain, stats_from, init), (trained, _, _) in self._models.items()
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def confusion(self, model: str, setting: str, normalisation: str = "source") -> np.ndarray:
        """Test confusion matrix summed over runs (run :meth:`run` first)."""
        return self._confusion[(model, setting, normalisation)]

    def clip_outcomes(self) -> pd.DataFrame:
        """Each experiment run so far, clip by clip: the share of its runs right on the clip.

        Returns:
            ``system`` (``"DCNN SER2MER (source)"``), ``model, setting, normalisation, clip,
            correct, runs``: one row per MER test clip of each experiment (every experiment is
            scored on the same clips, so they can be compared pairwise).
        """
        frames = [
            out.assign(system=_system(*key), model=key[0], setting=key[1], normalisation=key[2])
            for key, out in self._outcomes.items()
        ]
        cols = ["system", "model", "setting", "normalisation", "clip", "correct", "runs"]
        return pd.concat(frames, ignore_index=True)[cols]

    def comparisons(self) -> list[tuple[str, str]]:
        """The pairs of experiments the thesis' conclusions rest on, among those run so far.

        Per model: SER2MER (each normalisation) against MER2MER; SER2MER under ``source``
        against ``domain``; the fine-tuned SER2MER_FT against SER2MER and MER2MER. Then each
        deep model against each linear baseline (:meth:`run_linear`) in the same setting and
        normalisation: does the network beat functionals with a linear model?
        """
        done = set(self._outcomes)
        pairs = []
        for model in dict.fromkeys(k[0] for k in done):
            mer = (model, "MER2MER", "source")
            ser = [k for k in done if k[0] == model and k[1] == "SER2MER"]
            ft = [k for k in done if k[0] == model and k[1] == "SER2MER_FT"]
            for k in sorted(ser) + sorted(ft):
                if mer in done:
                    pairs.append((_system(*k), _system(*mer)))
            for norm_set in (sorted(ser), sorted(ft)):
                if len(norm_set) == 2:
                    pairs.append((_system(*norm_set[0]), _system(*norm_set[1])))
            for k in sorted(ft):
                if (model, "SER2MER", k[2]) in done:
                    pairs.append((_system(*k), _system(model, "SER2MER", k[2])))
        deep = [k for k in sorted(done) if k[0] in BUILDERS]
        for lin in dict.fromkeys(k[0] for k in done if k[0] not in BUILDERS):
            for k in deep:
                if (lin, k[1], k[2]) in done:
                    pairs.append((_system(*k), _system(lin, k[1], k[2])))
        return pairs

    def confusion_panels(self, setting: str, models, normalisations) -> dict[str, np.ndarray]:
        """One setting's test confusions, a panel per model and normalisation (Figs. 5.1, 5.2).

        Args:
            setting: ``"SER2MER"``, ``"MER2MER"`` or ``"SER2MER_FT"``.
            models: model names (``"DCNN"``, ``"ADCRNN"``).
            normalisations: for the SER settings, which normalisations (each a panel labelled
                ``"DCNN SER2MER (source)"``); MER2MER has one (``"source"``: its own).

        Returns:
            Panel label -> confusion summed over runs: the plot of
            :func:`mer_ser.plots.confusion_matrices`.
        """
        if setting == "MER2MER":
            return {f"{m} {setting}": self.confusion(m, setting, "source") for m in models}
        return {
            f"{m} {setting} ({norm})": self.confusion(m, setting, norm)
            for m in models
            for norm in normalisations
        }

    def summary(self) -> pd.DataFrame:
        """Each corpus' clips, tensor shape, quadrant counts and partition sizes (one row each)."""
        rows = {}
        for domain in ("speech", "music"):
            s, split = self.sets[domain], self.splits[domain]
            rows[s.name] = {
                "clips": len(s),
                "tensor": s.x.shape[1:],
                **{f"Q{q + 1}": int((s.quadrant == q).sum()) for q in range(4)},
                **{part: len(getattr(split, part)) for part in ("train", "val", "test")},
            }
        return pd.DataFrame(rows).T

    def margins(self, results: pd.DataFrame) -> pd.DataFrame:
        """Mean test accuracy of each model, setting and normalisation above experiment 0.

        Args:
            results: the long results of :meth:`run` (concatenated).

        Returns:
            ``test accuracy - baseline`` by ``encoder, setting, normalisation``; the baseline is
            weighted-random guessing with the music's training shares (:meth:`baseline`).
        """
        acc = results[(results["metric"] == "accuracy") & (results["partition"] == "test")]
        mean = acc.groupby(["encoder", "setting", "normalisation"])["value"].mean()
        return (mean - self.baseline()["music"]).rename("test accuracy - baseline").to_frame()

    def baseline(self) -> dict[str, float]:
        """Experiment 0: expected test accuracy of weighted-random guessing.

        Guesses follow the quadrant shares of the SER (``"speech"``) or of the MER (``"music"``)
        training partition; the test set is the MER test partition.
        """
        y_test = self.sets["music"].quadrant[self.splits["music"].test]
        return {
            domain: metrics.weighted_random_accuracy(
                self.sets[domain].quadrant[self.splits[domain].train], y_test, 4
            )
            for domain in ("speech", "music")
        }

    def av_summary(self) -> pd.DataFrame:
        """Arousal and valence read off each test confusion matrix (the thesis' reading).

        One row per experiment run so far: ``model, setting, normalisation`` and the accuracy of
        the quadrant, of its arousal side (Q1/Q2 against Q3/Q4) and of its valence side (Q1/Q4
        against Q2/Q3), pooled over runs (:func:`mer_ser.metrics.av_breakdown`).
        """
        rows = []
        for (model, setting, norm), cm in sorted(self._confusion.items()):
            row = {"model": model, "setting": setting, "normalisation": norm}
            row["quadrant_accuracy"] = np.trace(cm) / cm.sum()
            for axis, m in metrics.av_breakdown(cm).items():
                row[f"{axis}_accuracy"] = np.trace(m) / m.sum()
            rows.append(row)
        return pd.DataFrame(rows)


#: Table 5.1's experiments: number, model and setting.
EXPERIMENTS = (("1a", "DCNN", "SER2MER"), ("1b", "DCNN", "MER2MER"), ("2a", "ADCRNN", "SER2MER"),
               ("2b", "ADCRNN", "MER2MER"),
               ("1c", "DCNN", "SER2MER_FT"), ("2c", "ADCRNN", "SER2MER_FT"))  # fmt: skip
#: (1c and 2c: SER pretraining, then MER fine-tuning, the thesis' section 7.2; run when asked.)


def table5_1(results: pd.DataFrame, baseline: dict[str, float]) -> pd.DataFrame:
    """The analog of Rodningen 2022, Table 5.1: accuracy per experiment, with its n and interval.

    Args:
        results: rows of :meth:`QuadrantTrack.run` (any models, settings, normalisations).
        baseline: :meth:`QuadrantTrack.baseline`.

    Returns:
        One row per experiment: ``experiment, model, setting, normalisation, runs``, then per
        partition (``test``: the MER test partition; ``validation``: the source's validation
        partition, so SER2MER's validation is the thesis' SER2SER) ``<part>_clips``,
        ``<part>_mean`` and ``<part>_sd`` over runs and the 95 % Wilson interval
        ``<part>_ci_low``, ``<part>_ci_high`` of the mean accuracy over the partition's clips
        (:func:`mer_ser.metrics.wilson_interval`; the runs share the clips, so the clips are
        the ``n``). Experiment 0 is weighted-random guessing with the SER and with the MER
        training shares (expected value). The linear baselines of
        :meth:`QuadrantTrack.run_linear`, not in the thesis, follow as experiments 3a / 3b
        (SER2MER / MER2MER; 4a / 4b for a second baseline, ...).
    """
    acc = results[results["metric"] == "accuracy"]
    rows = [
        {"experiment": "0", "model": f"weighted random ({d} shares)", "test_mean": v}
        for d, v in baseline.items()
    ]
    baselines = [e for e in dict.fromkeys(acc["encoder"]) if e not in BUILDERS]
    numbered = list(EXPERIMENTS) + [
        (f"{3 + i}{part}", e, setting)
        for i, e in enumerate(baselines)
        for part, setting in (("a", "SER2MER"), ("b", "MER2MER"))
    ]
    for number, model, setting in numbered:
        sel = acc[(acc["encoder"] == model) & (acc["setting"] == setting)]
        for norm, g in sel.groupby("normalisation", sort=True):
            row = {"experiment": number, "model": model, "setting": setting, "normalisation": norm,
                   "runs": g["run"].nunique()}  # fmt: skip
            for part in ("test", "validation"):
                p = g[g["partition"] == part]
                n = int(p["clips"].iloc[0]) if len(p) else 0
                lo, hi = metrics.wilson_interval(p["value"].mean(), n)
                row.update({f"{part}_clips": n, f"{part}_mean": p["value"].mean(),
                            f"{part}_sd": p["value"].std(ddof=1), f"{part}_ci_low": float(lo),
                            f"{part}_ci_high": float(hi)})  # fmt: skip
            rows.append(row)
    cols = ["experiment", "model", "setting", "normalisation", "runs"]
    cols += [f"{p}_{c}" for p in ("test", "validation")
             for c in ("clips", "mean", "sd", "ci_low", "ci_high")]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=cols)


def _system(model: str, setting: str, normalisation: str) -> str:
    """An experiment's label: ``"DCNN MER2MER"``, ``"DCNN SER2MER (domain)"``."""
    return f"{model} {setting}" if setting == "MER2MER" else f"{model} {setting} ({normalisation})"


def _preset(build, trained, k: int):
    """Run ``k`` of a trained job as a fit preset: all weights and batch statistics."""
    params, rest = classifier_state(build, trained, k)
    return params, nnx.to_pure_dict(nnx.filter_state(rest, nnx.BatchStat))


def _fingerprint(s: ClipSet) -> str:
    return s.fingerprint()
