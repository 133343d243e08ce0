"""The classifier engine of the quadrant track: batch-norm state, accuracy checkpointing,
multi-task outputs, class weights; accuracy and macro-F1 against scikit-learn."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from sklearn.metrics import accuracy_score, f1_score

from mer_ser import losses
from mer_ser.models import MultiTaskHead
from mer_ser.train import TrainConfig, folds_from_masks, make_classifier_fit


class TinyNet(nnx.Module):
    """Dense -> batch norm -> ReLU -> dropout -> 4 logits: every feature the engine must carry."""

    def __init__(self, n_in=6, *, rngs):
        self.fc = nnx.Linear(n_in, 16, rngs=rngs)
        self.bn = nnx.BatchNorm(16, rngs=rngs)
        self.drop = nnx.Dropout(0.1, rngs=rngs)
        self.out = nnx.Linear(16, 4, rngs=rngs)

    def __call__(self, x, *, train=False, key=None):
        h = jax.nn.relu(self.bn(self.fc(x), use_running_average=not train))
        return self.out(self.drop(h, deterministic=not train, rngs=key))


class TinyMultiTask(nnx.Module):
    def __init__(self, n_in=6, *, rngs):
        self.head = MultiTaskHead(n_in, trunk=16, block=8, rngs=rngs)

    def __call__(self, x, *, train=False, key=None):
        return self.head(x, train=train, key=key)


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    y = np.arange(120) % 4
    centres = rng.standard_normal((4, 6)) * 2
    x = (centres[y] + rng.standard_normal((120, 6))).astype(np.float32)
    train = np.zeros((1, 120), bool)
    val = np.zeros((1, 120), bool)
    train[0, :80], val[0, 80:100] = True, True
    fold = jax.tree.map(lambda a: a[0], folds_from_masks(train, val))
    return x, y, fold


@pytest.mark.parametrize("monitor", ["loss", "accuracy", "macro_f1"])
def test_classifier_learns_and_keeps_the_best_epoch(clips, monitor):
    x, y, fold = clips
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=1e-2,
        batch_size=16,
        max_epochs=40,
        patience=10,
        monitor=monitor,
    )
    fit, apply = make_classifier_fit(lambda r: TinyNet(rngs=r), cfg)
    res = jax.jit(fit)(jax.random.key(0), fold, x, y)
    test = slice(100, 120)
    acc = float(losses.accuracy(apply(res.params, x[test]), y[test]))
    assert acc > 0.7
    val = np.asarray(res.val_loss)
    assert float(res.best_val_loss) == pytest.approx(np.nanmin(val))
    _, rest = res.params
    assert float(jnp.abs(rest["bn"]["mean"][...]).sum()) > 0  # batch statistics were updated


@pytest.mark.slow
def test_multitask_outputs_are_trained_on_all_three_tasks(clips):
    x, y, fold = clips
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=1e-2,
        batch_size=16,
        max_epochs=30,
        patience=30,
        monitor="accuracy",
    )
    fit, apply = make_classifier_fit(lambda r: TinyMultiTask(rngs=r), cfg)
    res = jax.jit(fit)(jax.random.key(1), fold, x, y)
    assert float(losses.accuracy(apply(res.params, x[100:]), y[100:])) > 0.6


def test_class_weights_change_the_objective(clips):
    x, y, fold = clips
    out = {}
    for cw in (None, (10.0, 1.0, 1.0, 1.0)):
        cfg = TrainConfig(
            optimizer="adam",
            learning_rate=1e-2,
            batch_size=16,
            max_epochs=2,
            patience=5,
            class_weights=cw,
        )
        fit, _ = make_classifier_fit(lambda r: TinyNet(rngs=r), cfg)
        out[cw] = float(jax.jit(fit)(jax.random.key(0), fold, x, y).train_loss[0])
    assert out[None] != out[(10.0, 1.0, 1.0, 1.0)]


def test_unknown_monitor_is_refused():
    with pytest.raises(ValueError, match="monitor must be"):
        make_classifier_fit(lambda r: TinyNet(rngs=r), TrainConfig(monitor="auc"))


def test_accuracy_and_macro_f1_match_scikit_learn(rng):
    labels = rng.integers(0, 4, 50)
    logits = rng.standard_normal((50, 4))
    pred = logits.argmax(1)
    assert float(losses.accuracy(jnp.asarray(logits), jnp.asarray(labels))) == pytest.approx(
        accuracy_score(labels, pred)
    )
    assert float(losses.macro_f1(jnp.asarray(logits), jnp.asarray(labels), 4)) == pytest.approx(
        f1_score(labels, pred, average="macro"), abs=1e-6
    )
    three = labels % 3  # class 3 absent everywhere: left out of the mean, as scikit-learn does
    logits3 = logits[:, :3]
    assert float(losses.macro_f1(jnp.asarray(logits3), jnp.asarray(three), 4)) == pytest.approx(
        f1_score(three, logits3.argmax(1), average="macro"), abs=1e-6
    )


@pytest.mark.slow
def test_runs_are_a_vmap_axis(clips):
    """Several runs (seeds) of a classifier with batch norm train in one compiled program."""
    x, y, fold = clips
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=1e-2,
        batch_size=16,
        max_epochs=8,
        patience=8,
        monitor="accuracy",
    )
    fit, apply = make_classifier_fit(lambda r: TinyNet(rngs=r), cfg)
    res = jax.jit(jax.vmap(fit, in_axes=(0, None, None, None)))(
        jax.random.split(jax.random.key(0), 3), fold, x, y
    )
    assert res.train_loss.shape == (3, 8)
    one = jax.jit(fit)(jax.random.split(jax.random.key(0), 3)[1], fold, x, y)
    np.testing.assert_allclose(res.train_loss[1], one.train_loss, rtol=1e-4)
    logits = jax.vmap(apply, in_axes=(0, None))(res.params, x[100:])
    assert logits.shape == (3, 20, 4)


@pytest.mark.slow
def test_a_job_trains_its_runs_one_by_one_or_vmapped_alike(clips, tmp_path):
    """``run_classifier_job`` loops over runs by default (faster for convolutions); the vmapped
    program gives the same runs, and a second call loads the stored job instead of training."""
    from mer_ser.experiments.jobs import JobCache, run_classifier_job

    x, y, fold = clips
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-2, batch_size=16, max_epochs=6)
    fit, _ = make_classifier_fit(lambda r: TinyNet(rngs=r), cfg)
    common = dict(seed=3, runs=3, fold=fold, x=jnp.asarray(x), labels=jnp.asarray(y))
    cache = JobCache(tmp_path)
    looped = run_classifier_job(fit, key="loop", cache=cache, **common)
    vmapped = run_classifier_job(fit, key="vmap", vectorise_runs=True, **common)
    assert looped.train_loss.shape == (3, 6)
    np.testing.assert_allclose(looped.train_loss, vmapped.train_loss, rtol=1e-4)
    assert not np.allclose(looped.train_loss[0], looped.train_loss[1])  # runs differ by seed
    again = run_classifier_job(fit, key="loop", cache=cache, **{**common, "runs": 99})
    np.testing.assert_array_equal(again.train_loss, looped.train_loss)
