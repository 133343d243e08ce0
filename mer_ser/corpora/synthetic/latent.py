"""Latent emotion trajectories and simulated raters for the built-in corpus."""

from __future__ import annotations

import numpy as np

#: Internal simulation rate of the latent processes (Hz); labels are sampled from it.
LATENT_RATE = 10.0


def ou_process(
    rng: np.random.Generator, n: int, *, mean: float, sd: float, tau: float, rate: float
) -> np.ndarray:
    """A stationary Ornstein-Uhlenbeck path (exact discretisation).

    x[t+1] = mean + (x[t] - mean) * exp(-dt / tau) + sd * sqrt(1 - exp(-2 dt / tau)) * eps

    Args:
        rng: random generator.
        n: number of samples.
        mean: long-run mean.
        sd: stationary standard deviation.
        tau: correlation time in seconds.
        rate: samples per second.

    Returns:
        Path of shape ``(n,)`` started from the stationary distribution.
    """
    phi = np.exp(-1.0 / (rate * tau))
    eps = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = mean + sd * eps[0]
    scale = sd * np.sqrt(1.0 - phi**2)
    for t in range(1, n):
        x[t] = mean + (x[t - 1] - mean) * phi + scale * eps[t]
    return x


def trajectory(
    rng: np.random.Generator, duration: float, *, mean: float, sd: float, tau: float
) -> np.ndarray:
    """A bounded latent trajectory at :data:`LATENT_RATE`: ``tanh`` of an OU path around ``mean``.

    Returns:
        Values in (-1, 1), shape ``(ceil(duration * LATENT_RATE) + 1,)``; sample ``i`` is at
        ``i / LATENT_RATE`` seconds.
    """
    n = int(np.ceil(duration * LATENT_RATE)) + 1
    centre = np.arctanh(np.clip(mean, -0.95, 0.95))
    return np.tanh(ou_process(rng, n, mean=centre, sd=sd, tau=tau, rate=LATENT_RATE))


def at(latent: np.ndarray, t) -> np.ndarray:
    """Value of a latent trajectory at time(s) ``t`` in seconds (linear interpolation, clamped)."""
    grid = np.arange(len(latent)) / LATENT_RATE
    return np.interp(t, grid, latent)


def simulate_raters(
    rng: np.random.Generator,
    latent: np.ndarray,
    times: np.ndarray,
    n_raters: int,
    *,
    lag: tuple[float, float] = (2.0, 5.0),
    gain_sd: float = 0.15,
    bias_sd: float = 0.08,
    noise_sd: float = 0.08,
    noise_tau: float = 3.0,
) -> np.ndarray:
    """Continuous ratings of one dimension by ``n_raters`` simulated annotators.

    Each rater ``r`` reports ``clip(g_r * z(t - lag_r) + b_r + e_r(t), -1, 1)``: the latent ``z``
    seen ``lag_r ~ U(lag)`` seconds late (reaction delay, as in RECOLA/AVEC practice), with an
    individual gain ``g_r ~ N(1, gain_sd)``, bias ``b_r ~ N(0, bias_sd)`` and slowly varying
    noise ``e_r`` (an OU process with correlation time ``noise_tau``).

    Args:
        rng: random generator.
        latent: latent trajectory at :data:`LATENT_RATE`.
        times: rating times in seconds, shape ``(T,)`` (the corpus' native label rate).
        n_raters: number of raters.
        lag: range of reaction lags in seconds.
        gain_sd: spread of rater gains.
        bias_sd: spread of rater biases.
        noise_sd: stationary sd of each rater's noise.
        noise_tau: correlation time of the noise in seconds.

    Returns:
        Ratings of shape ``(T, n_raters)``.
    """
    rate = 1.0 / np.median(np.diff(times)) if len(times) > 1 else 1.0
    out = np.empty((len(times), n_raters))
    for r in range(n_raters):
        lag_r = rng.uniform(*lag)
        g = 1.0 + gain_sd * rng.standard_normal()
        b = bias_sd * rng.standard_normal()
        e = ou_process(rng, len(times), mean=0.0, sd=noise_sd, tau=noise_tau, rate=rate)
        out[:, r] = np.clip(g * at(latent, times - lag_r) + b + e, -1.0, 1.0)
    return out
