"""Residual life of a device known to work at age a (Weibull total service life).

Total service life T (first + second life) of a category is Weibull with shape k and a
scale set so that E[T] = mu = lifetime + second_life. For a device that works at age a:

    F_life(a) = E[T - a | T > a] / E[T]

Because the Weibull is a scale family, F_life(a; mu) = g_k(a / mu) with g_k a fixed curve per
shape: tabulated once at import (deterministic numerical integration), then linearly
interpolated. For k >= 1 the hazard is non-decreasing, so g_k is non-increasing, positive and
g_k(0) = 1: a working device always has a positive residual life that never grows with age.
"""

from __future__ import annotations

import math

import numpy as np

from carbon.estimator import parameters as P
from carbon.estimator.trade_params import WEIBULL_SHAPE

X_MAX = 12.0            # age / mean life covered by the table (beyond: clamped)
DX = 0.01
_U_MAX, _DU = 40.0, 0.002


def residual_curve(shape: float) -> np.ndarray:
    """g_k(x) = E[T - x | T > x] / E[T] on the grid x = 0, DX, ..., X_MAX (mean life 1)."""
    if shape < 1.0:
        raise ValueError("Weibull shape must be >= 1 (wear-out or constant hazard)")
    lam = 1.0 / math.gamma(1.0 + 1.0 / shape)
    x = np.arange(0.0, X_MAX + DX / 2, DX)[:, None] / lam
    u = np.arange(0.0, _U_MAX + _DU / 2, _DU)[None, :] / lam
    # S(x + u) / S(x) computed in log space: exact ratio, no underflow for large x.
    ratio = np.exp(-((x + u) ** shape - x ** shape))
    mrl = (ratio.sum(1) - 0.5 * (ratio[:, 0] + ratio[:, -1])) * _DU
    g = mrl / mrl[0]
    return np.minimum.accumulate(g)          # exact curve is non-increasing


_CURVES: dict[float, np.ndarray] = {}
for _c in P.CATEGORY_NAMES:
    _k = WEIBULL_SHAPE[_c].central
    if _k not in _CURVES:
        _CURVES[_k] = residual_curve(_k)
NG = len(next(iter(_CURVES.values())))
# (NC, NG) table: one residual curve per category (shape of that category).
TABLE = np.array([_CURVES[WEIBULL_SHAPE[c].central] for c in P.CATEGORY_NAMES])
_FLAT = np.ascontiguousarray(TABLE.ravel())
_ROWS = [TABLE[c].tolist() for c in range(len(P.CATEGORY_NAMES))]
_INV_DX = 1.0 / DX


def mean_life(cat: str) -> tuple[float, float, float]:
    """(low, central, high) mean total service life in years: lifetime + second life."""
    a, b = P.LIFETIME[cat], P.second_life(cat)
    return (a.low + b.low, a.central + b.central, a.high + b.high)


def residual_one(cat: int, age: float, mu: float) -> float:
    """Scalar F_life (before condition and battery factors)."""
    p = min(max(age, 0.0) / mu, X_MAX) * _INV_DX
    i = min(int(p), NG - 2)
    t = p - i
    row = _ROWS[cat]
    return row[i] + t * (row[i + 1] - row[i])


def residual(cat, age, mu) -> np.ndarray:
    """Vectorised F_life; cat (n,) int, age (n,) years (NaN propagates), mu (n,) years."""
    p = np.clip(np.asarray(age, np.float64) / mu, 0.0, X_MAX) * _INV_DX
    nan = np.isnan(p)
    p = np.where(nan, 0.0, p)
    i = np.minimum(p.astype(np.intp), NG - 2)
    t = p - i
    base = np.asarray(cat, np.intp) * NG + i
    lo = np.take(_FLAT, base)
    out = lo + t * (np.take(_FLAT, base + 1) - lo)
    return np.where(nan, np.nan, out)
