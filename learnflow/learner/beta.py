"""The Beta distribution's CDF, quantiles and expected shortfall, in plain Python.

`gaps` needs P(mastery < target) for a Beta(a, b) posterior: the regularized
incomplete beta function I_x(a, b). scipy would give it, at ~0.3 s of import and
a large wheel on every `learnflow gaps`; the continued fraction below (Lentz's
method, as in Numerical Recipes §6.4) is exact to ~1e-12 for the pseudo-counts a
learner can accumulate, in microseconds. Monte Carlo would be simpler but noisy
(±0.5% at 10,000 draws) and slower, and a ranking should not wobble between runs.
"""

from __future__ import annotations

import math

_TINY = 1e-300
_EPS = 1e-13


def _continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    # Converges in O(sqrt(max(a, b))) steps; decayed pseudo-counts stay in the thousands.
    for m in range(1, 2000):
        m2 = 2 * m
        # Even step, then odd step of the fraction (unrolled: this loop is the hot path of `gaps`).
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return h


def cdf(x: float, a: float, b: float) -> float:
    """P(X <= x) for X ~ Beta(a, b): the regularized incomplete beta I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("Beta parameters must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The fraction converges fast on this side of the mean; use symmetry on the other.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def pdf(x: float, a: float, b: float) -> float:
    """Density of Beta(a, b) at x (0 outside the open interval)."""
    if not 0.0 < x < 1.0:
        return 0.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    return math.exp(log_norm + (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x))


def quantile(p: float, a: float, b: float) -> float:
    """The x with cdf(x) = p: Newton's method from the normal approximation, kept inside a
    bracket that shrinks with every step (a step leaving it bisects instead), so it always
    converges; typically in 3-6 CDF evaluations instead of bisection's ~40."""
    if not 0.0 < p < 1.0:
        return 0.0 if p <= 0.0 else 1.0
    lo, hi = 0.0, 1.0
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    # The normal quantile by Tukey's lambda approximation (to ~1e-3 in the body): only a start
    # for Newton, and it spares `ask` importing statistics (~7 ms, most of it `numbers`).
    z = 4.91 * (p**0.14 - (1.0 - p) ** 0.14)
    x = min(max(mean + z * sd, 1e-9), 1 - 1e-9)
    for _ in range(100):
        err = cdf(x, a, b) - p
        if err < 0:
            lo = x
        else:
            hi = x
        density = pdf(x, a, b)
        step = err / density if density > 0 else math.inf
        new = x - step
        if not lo < new < hi:
            new = (lo + hi) / 2
        if abs(new - x) < 1e-12 or hi - lo < 1e-12:
            return new
        x = new
    return x


def expected_shortfall(target: float, a: float, b: float) -> float:
    """E[max(0, target - X)] for X ~ Beta(a, b), in closed form.

    E[X; X < t] = a / (a + b) * I_t(a + 1, b), so the shortfall is
    t * I_t(a, b) - a / (a + b) * I_t(a + 1, b).
    """
    if target <= 0.0:
        return 0.0
    value = target * cdf(target, a, b) - a / (a + b) * cdf(target, a + 1.0, b)
    return max(0.0, value)
