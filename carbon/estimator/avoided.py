"""Avoided emissions of a trade: avoided = max(0, E_new * D * F_life - E_trade).

Low / central / high are carried through: each bound takes the end of every parameter
that gives the matching bound of the result, then clamps at 0.
"""

from __future__ import annotations

import math

import numpy as np

from carbon.estimator import parameters as P

NC = len(P.CATEGORY_NAMES)
COND_UNKNOWN = len(P.CONDITIONS)          # condition code for 'unknown'
_COND_KEYS = (*P.CONDITIONS, "unknown")


def _per_cat(table: dict, default=None) -> np.ndarray:
    """(NC, 3) array of (low, central, high) per category code."""
    return np.array([(table.get(c) or default).as_tuple() for c in P.CATEGORY_NAMES])


LIFE = _per_cat(P.LIFETIME)                         # (NC, 3)
SECOND = np.array([P.second_life(c).as_tuple() for c in P.CATEGORY_NAMES])
TRADE_FIXED = _per_cat(P.E_TRADE_FIXED)
TRADE_SHARE = np.array([(0.0, 0.0, 0.0) if c in P.E_TRADE_FIXED and c == "smartphone"
                        else P.E_TRADE_SHARE.as_tuple() for c in P.CATEGORY_NAMES])
COND = np.array([P.CONDITION_FACTOR[k].as_tuple() for k in _COND_KEYS])   # (6, 3)
BATTERY_CAT = np.array([c in P.BATTERY_CATEGORIES for c in P.CATEGORY_NAMES])
D = P.DISPLACEMENT.as_tuple()
UNKNOWN_F = P.UNKNOWN_AGE_F_LIFE.as_tuple()
BT, BS, BF = (P.BATTERY_THRESHOLD_PCT.central, P.BATTERY_SPAN_PCT.central,
              P.BATTERY_FLOOR.central)

# Python copies for the scalar path.
_LIFE = LIFE.tolist()
_SECOND = SECOND.tolist()
_FIXED = TRADE_FIXED.tolist()
_SHARE = TRADE_SHARE.tolist()
_COND = COND.tolist()
_BATTERY = BATTERY_CAT.tolist()


def _t(table: np.ndarray, idx) -> list[np.ndarray]:
    """Columns of a (k, 3) table gathered by idx: [low, central, high] 1-D arrays."""
    return [np.take(np.ascontiguousarray(table[:, i]), idx) for i in range(3)]


def f_life_bounds(cat, age, cond, battery) -> list[np.ndarray]:
    """Vectorised F_life [low, central, high]. age NaN = unknown; battery NaN = not given."""
    cat = np.asarray(cat, dtype=np.intp)
    age = np.asarray(age, dtype=np.float64)
    unknown = np.isnan(age)
    life = _t(LIFE, cat)
    second = _t(SECOND, cat)
    frac = [np.maximum(0.0, life[i] + second[i] - age) / life[i] for i in range(3)]
    f = [np.minimum(frac[0], frac[2]), frac[1], np.maximum(frac[0], frac[2])]
    cf = _t(COND, np.asarray(cond, dtype=np.intp))
    bh = np.asarray(battery, dtype=np.float64)
    bf = np.clip(1.0 - (BT - bh) / BS, BF, 1.0)
    bf = np.where(np.isnan(bh) | ~np.take(BATTERY_CAT, cat), 1.0, bf)
    return [np.minimum(1.0, np.where(unknown, UNKNOWN_F[i], f[i]) * cf[i] * bf)
            for i in range(3)]


def avoided_bounds(cat, e_low, e_central, e_high, age, cond, battery):
    """Vectorised avoided (low, central, high) arrays."""
    cat = np.asarray(cat, dtype=np.intp)
    f = f_life_bounds(cat, age, cond, battery)
    fixed = _t(TRADE_FIXED, cat)
    share = _t(TRADE_SHARE, cat)
    # Low bound: low E_new, low D, low F_life, high E_trade (and vice versa).
    lo = e_low * D[0] * f[0] - (fixed[2] + share[2] * e_low)
    ce = e_central * D[1] * f[1] - (fixed[1] + share[1] * e_central)
    hi = e_high * D[2] * f[2] - (fixed[0] + share[0] * e_high)
    return np.maximum(lo, 0.0), np.maximum(ce, 0.0), np.maximum(hi, 0.0)


def avoided_one(cat: int, e: tuple[float, float, float], age: float | None, cond: int,
                battery: float | None) -> tuple[tuple[float, float, float], tuple]:
    """Scalar version of :func:`avoided_bounds`; returns (avoided, f_life)."""
    life = _LIFE[cat]
    if age is None:
        f = list(UNKNOWN_F)
    else:
        total = [life[i] + _SECOND[cat][i] for i in range(3)]
        fa = max(0.0, total[0] - age) / life[0]
        fb = max(0.0, total[2] - age) / life[2]
        f = [min(fa, fb), max(0.0, total[1] - age) / life[1], max(fa, fb)]
    bf = 1.0
    if battery is not None and _BATTERY[cat] and not math.isnan(battery):
        bf = min(1.0, max(BF, 1.0 - (BT - battery) / BS))
    cf = _COND[cond]
    f = [min(1.0, f[i] * cf[i] * bf) for i in range(3)]
    fx, sh = _FIXED[cat], _SHARE[cat]
    lo = e[0] * D[0] * f[0] - (fx[2] + sh[2] * e[0])
    ce = e[1] * D[1] * f[1] - (fx[1] + sh[1] * e[1])
    hi = e[2] * D[2] * f[2] - (fx[0] + sh[0] * e[2])
    return (max(lo, 0.0), max(ce, 0.0), max(hi, 0.0)), tuple(f)


def avoided_formula(e_new: float, displacement: float, f_life: float, e_trade: float) -> float:
    """The bare formula, for documentation and sanity checks."""
    return max(0.0, e_new * displacement * f_life - e_trade)
