"""Gomez-Canon et al.'s encoders: SCAE shapes and over-complete latent, multi-task head, CPC,
and the DAE-Classifier; each learns on a small batch."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mer_ser import losses
from mer_ser.losses import AROUSAL_OF_QUADRANT, VALENCE_OF_QUADRANT, multitask_loss
from mer_ser.models import (
    CPC,
    LSTMDAE,
    SCAE,
    DAEClassifier,
    SCAEClassifier,
    count_params,
)
from mer_ser.models.autoencoders import SCAEEncoder
from mer_ser.models.lstm import last_valid


@pytest.fixture(scope="module")
def patches():
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((6, 128, 31, 1)), jnp.float32)


@pytest.mark.slow
def test_scae_latent_is_over_complete(patches):
    """1 x 128 x 31 inputs (3,968 values) -> a 128 x 2 x 31 latent (7,936 values), Fig. 1."""
    z = SCAEEncoder(rngs=nnx.Rngs(0))(patches)
    assert z.shape == (6, 2, 31, 128)
    assert z[0].size == 2 * 128 * 31 > 128 * 31


@pytest.mark.slow
def test_scae_reconstructs_the_input_shape_and_adds_noise_only_in_training(patches):
    ae = SCAE(rngs=nnx.Rngs(0))
    assert ae(patches).shape == patches.shape
    a = ae(patches, train=False, key=jax.random.key(1))
    b = ae(patches, train=False, key=jax.random.key(2))
    np.testing.assert_array_equal(a, b)  # evaluation is deterministic


def _fit(model, loss_fn, steps=12, lr=1e-3):
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(lr)

    def f(p, r, key):
        m = nnx.merge(graphdef, p, r, copy=True)
        return loss_fn(m, key), nnx.split(m, nnx.Param, ...)[2]

    @jax.jit
    def step(p, o, r, key):
        (loss, r), g = jax.value_and_grad(f, has_aux=True)(p, r, key)
        upd, o = tx.update(g, o, p)
        return optax.apply_updates(p, upd), o, r, loss

    o, history = tx.init(params), []
    for i in range(steps):
        params, o, rest, loss = step(params, o, rest, jax.random.key(i))
        history.append(float(loss))
    return history


@pytest.mark.slow
def test_scae_denoising_pretraining_lowers_the_reconstruction_error(patches):
    hist = _fit(
        SCAE(rngs=nnx.Rngs(0)),
        lambda m, k: jnp.mean((m(patches, train=True, key=k) - patches) ** 2),
    )
    assert hist[-1] < 0.8 * hist[0]


def test_multitask_labels_follow_the_quadrants():
    assert list(AROUSAL_OF_QUADRANT) == [1, 1, 0, 0]  # Q1, Q2 positive arousal
    assert list(VALENCE_OF_QUADRANT) == [1, 0, 0, 1]  # Q1, Q4 positive valence


def test_multitask_loss_is_the_sum_of_the_three_tasks():
    logits = {
        "quadrant": jnp.array([[2.0, 0.0, 0.0, 0.0]]),
        "arousal": jnp.array([1.0]),
        "valence": jnp.array([-1.0]),
    }
    q = jnp.array([1])  # Q2: arousal 1, valence 0
    want = (
        losses.cross_entropy(logits["quadrant"], q)
        + losses.binary_cross_entropy(jnp.array([1.0]), jnp.array([1]))
        + losses.binary_cross_entropy(jnp.array([-1.0]), jnp.array([0]))
    )
    assert float(multitask_loss(logits, q)) == pytest.approx(float(want))


@pytest.mark.slow
def test_classifier_learns_quadrants_on_a_small_batch(patches):
    """Gradients reach every task (dropout off: nine dropout layers make a 6-clip batch noise)."""
    q = jnp.array([0, 1, 2, 3, 0, 1])
    hist = _fit(
        SCAEClassifier(block=256, rngs=nnx.Rngs(0)),
        lambda m, k: multitask_loss(m(patches, train=False), q),
        lr=1e-4,
    )
    assert hist[-1] < 0.85 * hist[0]


@pytest.mark.slow
def test_cpc_binary_objective_learns_to_tell_consecutive_patches(patches):
    rng = np.random.default_rng(1)
    seq = jnp.asarray(np.cumsum(rng.standard_normal((4, 6, 128, 31, 1)), axis=1) / 3, jnp.float32)
    past, future = seq[:, :4], seq[:, 4:]
    negatives = jnp.asarray(rng.standard_normal((4, 2, 128, 31, 1)) * 3, jnp.float32)
    cand = jnp.concatenate([future, negatives])
    labels = jnp.concatenate([jnp.ones((4, 2)), jnp.zeros((4, 2))])
    past2 = jnp.concatenate([past, past])

    def loss(m, k):
        return losses.cpc_binary_loss(
            m.binary_scores(past2, cand, train=True, key=k).ravel(), labels.ravel()
        )

    hist = _fit(CPC(code=64, context=64, rngs=nnx.Rngs(0)), loss, steps=15)
    assert hist[-1] < 0.5 * hist[0]
    info = CPC(code=32, context=32, rngs=nnx.Rngs(1)).info_nce(past, future)
    assert np.isfinite(float(info)) and float(info) > 0


@pytest.mark.slow
def test_dae_classifier_reads_the_last_valid_step_and_takes_a_dae_encoder():
    m = jnp.asarray(np.arange(5)[None] < np.array([[5], [3]]))
    h = jnp.arange(2 * 5 * 1, dtype=jnp.float32).reshape(2, 5, 1)
    assert list(last_valid(h, m)[:, 0]) == [4.0, 7.0]
    clf = DAEClassifier(260, 100, 100, rngs=nnx.Rngs(0))
    clf.load_encoder(LSTMDAE(260, 100, rngs=nnx.Rngs(5)))
    x = jnp.ones((2, 5, 260))
    assert clf(x, m).shape == (2, 4)
    with pytest.raises(ValueError, match="DAE has 50 blocks, encoder 100"):
        clf.load_encoder(LSTMDAE(260, 50, rngs=nnx.Rngs(0)))


def _conv(n_in, n_out):
    return 9 * n_in * n_out + n_out  # 3 x 3 kernel and bias


def _double_conv(n_in, n_out):
    return _conv(n_in, n_out) + _conv(n_out, n_out) + 2 * (2 * n_out)  # + two batch norms


def _dense(n_in, n_out):
    return n_in * n_out + n_out


def test_encoder_and_classifier_parameter_counts_follow_the_papers_figures():
    """Counted from 2020 Fig. 1 (encoder 1 -> 32 -> 64 -> 128 filters, mirrored decoder, a 1-filter
    output convolution), 2021 Fig. 2 (3 x FC 512, then per task 2 x FC of 512 (2020) or 256 (2021))
    and 2021 Fig. 1 (a linear code of the latent, a GRU, one linear prediction per future patch;
    Flax's GRU has biased input projections and unbiased recurrent ones)."""
    encoder = _double_conv(1, 32) + _double_conv(32, 64) + _double_conv(64, 128)
    decoder = _double_conv(128, 128) + _double_conv(128, 64) + _double_conv(64, 32) + _conv(32, 1)
    latent = 128 * 2 * 31

    def head(block):
        trunk = _dense(latent, 512) + 2 * _dense(512, 512)
        tasks = 3 * (_dense(512, block) + _dense(block, block))
        return trunk + tasks + _dense(block, 4) + 2 * _dense(block, 1)

    code, context = 256, 256
    gru = 3 * _dense(code, context) + 3 * context * context
    cpc = encoder + _dense(latent, code) + gru + 2 * _dense(context, code)
    assert count_params(lambda r: SCAE(rngs=r)) == encoder + decoder == 722_113
    assert count_params(lambda r: SCAEClassifier(rngs=r)) == encoder + head(512)
    assert count_params(lambda r: SCAEClassifier(block=256, rngs=r)) == encoder + head(256)
    assert count_params(lambda r: CPC(rngs=r)) == cpc


def _fold(n_train: int, n_val: int):
    from mer_ser.train import folds_from_masks

    n = n_train + n_val
    tr, va = np.zeros((1, n), bool), np.zeros((1, n), bool)
    tr[0, :n_train], va[0, n_train:] = True, True
    return jax.tree.map(lambda a: a[0], folds_from_masks(tr, va))


@pytest.mark.slow
def test_autoencoder_fit_keeps_the_best_clean_reconstruction():
    """The engine's SCAE pretraining: its validation score is the clean-input MSE of the kept
    model (checked against float64 numpy), and it falls from the first epoch."""
    from mer_ser.train import TrainConfig, make_autoencoder_fit

    rng = np.random.default_rng(2)  # spectrogram-like patches: a spectral envelope x a time course
    x = rng.gamma(2.0, size=(12, 128, 1, 1)) * rng.gamma(2.0, size=(12, 1, 31, 1))
    x = jnp.asarray(np.log1p(x), jnp.float32)
    cfg = TrainConfig(optimizer="adam", learning_rate=1e-3, batch_size=3, max_epochs=5, patience=5)
    fit, apply = make_autoencoder_fit(lambda r: SCAE(rngs=r), cfg)
    res = jax.jit(fit)(jax.random.key(0), _fold(9, 3), x)
    x_val = np.asarray(x[9:], np.float64)
    recon = np.asarray(apply(res.params, x[9:]), np.float64)
    assert float(res.best_val_loss) == pytest.approx(np.mean((recon - x_val) ** 2), rel=1e-5)
    assert float(res.best_val_loss) < float(res.val_loss[0])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["feat_ext", "full"])
def test_a_pretrained_encoder_is_loaded_and_kept_only_when_frozen(patches, mode):
    """Gomez-Canon 2021's transfer: the classifier starts from a SCAE's encoder (weights and batch
    statistics); *Feat. Ext.* keeps both exactly, *Full* fine-tunes the encoder."""
    from mer_ser.train import TrainConfig, make_classifier_fit

    _, p, r = nnx.split(SCAE(rngs=nnx.Rngs(5)), nnx.Param, nnx.BatchStat, ...)[:3]
    pure_p, pure_r = nnx.to_pure_dict(p), nnx.to_pure_dict(r)  # weights, batch statistics
    preset = ({"encoder": pure_p["encoder"]}, {"encoder": pure_r["encoder"]})
    frozen = mode == "feat_ext"
    cfg = TrainConfig(
        optimizer="adam",
        learning_rate=1e-4 if frozen else 5e-4,  # Gomez-Canon et al. 2021, section 2.3
        batch_size=2,
        max_epochs=2,
        patience=2,
        freeze=("encoder",) if frozen else (),
    )
    build = lambda rngs: SCAEClassifier(block=64, frozen_encoder=frozen, rngs=rngs)  # noqa: E731
    fit, _ = make_classifier_fit(build, cfg)
    q = jnp.array([0, 1, 2, 3, 0, 1])
    res = jax.jit(fit)(jax.random.key(0), _fold(4, 2), patches, q, preset)
    params, rest = res.params
    same = jax.tree.map(np.array_equal, params["encoder"], preset[0]["encoder"])
    kept = nnx.to_pure_dict(nnx.filter_state(rest, nnx.BatchStat))["encoder"]
    stats_same = jax.tree.map(np.array_equal, kept, preset[1]["encoder"])
    assert all(jax.tree.leaves(same)) == frozen
    assert all(jax.tree.leaves(stats_same)) == frozen
    with pytest.raises(ValueError, match="unknown submodules"):
        jax.jit(fit)(jax.random.key(0), _fold(4, 2), patches, q, ({"decoder": {}}, {}))
