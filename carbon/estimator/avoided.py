"""Avoided emissions, e-waste and raw materials of a trade (methodology 2027.1).

    avoided = max(0, E_new * D * F_life - E_trade)

Central: every input at its central value. Low / high: 10th / 90th percentiles of the
avoided distribution, propagated analytically (deterministic, no sampling):

- P = E_new * D * F_life is treated as log-normal on each side: its log spread below the
  median is the root-sum-square of the inputs' log spreads below their medians
  (ln(central / low) for each input, whose low/high are read as 10th/90th percentiles), and
  likewise above. This is exact for log-normal inputs with symmetric spreads.
- E_trade is independent of P; the quantile of the difference combines P's and E_trade's
  deviations from the centre in quadrature: q10 = A - hypot(P - P10, T90 - T), and so on.
- The result is clamped at 0 (a quantile of max(0, X) is max(0, quantile of X)).

The approximation is checked against a large Monte Carlo sample in the tests.
"""

from __future__ import annotations

import math

import numpy as np

from carbon.estimator import lifetime as L
from carbon.estimator import parameters as P
from carbon.estimator import trade_params as T

NC = len(P.CATEGORY_NAMES)
COND_UNKNOWN = len(P.CONDITIONS)          # condition code for 'unknown'
COND_FOR_PARTS = P.CONDITION_CODE["for_parts"]
_COND_KEYS = (*P.CONDITIONS, "unknown")
_TINY = 1e-12

COND = np.array([P.CONDITION_FACTOR[k].as_tuple() for k in _COND_KEYS])   # (6, 3)
BATTERY_CAT = np.array([c in P.BATTERY_CATEGORIES for c in P.CATEGORY_NAMES])
MU = np.array([L.mean_life(c) for c in P.CATEGORY_NAMES])               # (NC, 3)
D = P.DISPLACEMENT.as_tuple()
UNKNOWN_F = P.UNKNOWN_AGE_F_LIFE.as_tuple()
BT, BS, BF = (P.BATTERY_THRESHOLD_PCT.central, P.BATTERY_SPAN_PCT.central,
              P.BATTERY_FLOOR.central)
_LD_LO, _LD_HI = math.log(D[1] / D[0]), math.log(D[2] / D[1])


def _trade_tables() -> tuple[np.ndarray, np.ndarray]:
    """(NCH, NC, 3) fixed kg and (NCH, NC, 3) share of E_new, per channel and category."""
    fixed = np.zeros((len(T.CHANNELS), NC, 3))
    share = np.zeros((len(T.CHANNELS), NC, 3))
    for c, name in enumerate(P.CATEGORY_NAMES):
        parcel = T.PARCEL[T.SIZE_CLASS[name]].as_tuple()
        fixed[T.CHANNEL_CODE["parcel"], c] = parcel
        fixed[T.CHANNEL_CODE["local_pickup"], c] = T.LOCAL_PICKUP.as_tuple()
        r = T.CHANNEL_CODE["refurbished"]
        if name == "smartphone":
            fixed[r, c] = T.REFURB_SMARTPHONE.as_tuple()
        else:
            fixed[r, c] = parcel
            share[r, c] = T.REFURB_SHARE.as_tuple()
    return fixed, share


TRADE_FIXED, TRADE_SHARE = _trade_tables()
WEIGHT = np.array([T.TYPICAL_WEIGHT_KG[c].as_tuple() for c in P.CATEGORY_NAMES])
EWASTE = np.array([T.ewaste_share(c).as_tuple() for c in P.CATEGORY_NAMES])
MATER = np.array([T.materials_per_kg(c).as_tuple() for c in P.CATEGORY_NAMES])


def _logs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log spreads below and above the central value of a (k, 3) table."""
    lo = np.log(np.maximum(table[:, 1], _TINY) / np.maximum(table[:, 0], _TINY))
    hi = np.log(np.maximum(table[:, 2], _TINY) / np.maximum(table[:, 1], _TINY))
    return lo, hi


# Squared log spreads (lower, upper) of weight x per-kg factor, per category.
_W_LO, _W_HI = _logs(WEIGHT)
_EW_LO, _EW_HI = _logs(EWASTE)
_MA_LO, _MA_HI = _logs(MATER)
EW_S2 = np.stack([_EW_LO ** 2, _EW_HI ** 2], 1)
MA_S2 = np.stack([_MA_LO ** 2, _MA_HI ** 2], 1)
W_S2 = np.stack([_W_LO ** 2, _W_HI ** 2], 1)

# Python copies for the scalar path.
_COND = COND.tolist()
_BATTERY = BATTERY_CAT.tolist()
_MU = MU.tolist()
_FIXED = TRADE_FIXED.tolist()
_SHARE = TRADE_SHARE.tolist()
_WEIGHT = WEIGHT.tolist()
_EW, _MA = EWASTE.tolist(), MATER.tolist()
_EW_S2, _MA_S2, _W_S2 = EW_S2.tolist(), MA_S2.tolist(), W_S2.tolist()


def _col(table: np.ndarray, j: int, idx) -> np.ndarray:
    return np.take(np.ascontiguousarray(table[..., j]).ravel(), idx)


def f_life_bounds(cat, age, cond, battery) -> list[np.ndarray]:
    """Vectorised F_life [p10, central, p90]. age NaN = unknown; battery NaN = not given."""
    cat = np.asarray(cat, dtype=np.intp)
    age = np.asarray(age, dtype=np.float64)
    unknown = np.isnan(age)
    cond = np.asarray(cond, dtype=np.intp)
    bh = np.asarray(battery, dtype=np.float64)
    bf = np.clip(1.0 - (BT - bh) / BS, BF, 1.0)
    bf = np.where(np.isnan(bh) | ~np.take(BATTERY_CAT, cat), 1.0, bf)
    out = []
    for j in range(3):
        g = L.residual(cat, age, _col(MU, j, cat))
        g = np.where(unknown, UNKNOWN_F[j], g)
        out.append(g * _col(COND, j, cond) * bf)
    out[0] = np.minimum(out[0], out[1])
    out[2] = np.maximum(out[2], out[1])
    return out


def avoided_arrays(cat, e_lo, e_ce, e_hi, age, cond, battery, channel=None, weight=None
                   ) -> dict[str, np.ndarray]:
    """Vectorised avoided kg CO2e, e-waste g and raw materials kg (p10, central, p90)."""
    cat = np.asarray(cat, dtype=np.intp)
    n = cat.shape[0]
    ch = np.zeros(n, np.intp) if channel is None else np.asarray(channel, np.intp)
    f_lo, f_ce, f_hi = f_life_bounds(cat, age, cond, battery)
    lf_lo = np.log(f_ce / np.maximum(f_lo, _TINY))
    lf_hi = np.log(f_hi / f_ce)
    s_lo = np.sqrt(np.log(e_ce / e_lo) ** 2 + _LD_LO ** 2 + lf_lo ** 2)
    s_hi = np.sqrt(np.log(e_hi / e_ce) ** 2 + _LD_HI ** 2 + lf_hi ** 2)
    p_ce = e_ce * (D[1] * f_ce)
    idx = ch * NC + cat
    t = [_col(TRADE_FIXED, j, idx) + _col(TRADE_SHARE, j, idx) * e_ce for j in range(3)]
    a_ce = p_ce - t[1]
    a_lo = a_ce - np.hypot(p_ce * -np.expm1(-s_lo), t[2] - t[1])
    a_hi = a_ce + np.hypot(p_ce * np.expm1(s_hi), t[1] - t[0])
    # Materials and e-waste: weight x factor x D x F_life, same log-spread propagation.
    w = None if weight is None else np.asarray(weight, np.float64)
    known_w = np.zeros(n, bool) if w is None else w > 0
    w_ce = _col(WEIGHT, 1, cat) if w is None else np.where(known_w, w, _col(WEIGHT, 1, cat))
    base_lo = _LD_LO ** 2 + lf_lo ** 2 + np.where(known_w, 0.0, _col(W_S2, 0, cat))
    base_hi = _LD_HI ** 2 + lf_hi ** 2 + np.where(known_w, 0.0, _col(W_S2, 1, cat))
    dfw = w_ce * D[1] * f_ce
    out = {"avoided_low": np.maximum(a_lo, 0.0), "avoided_central": np.maximum(a_ce, 0.0),
           "avoided_high": np.maximum(a_hi, 0.0)}
    for name, tab, s2, scale in (("ewaste_avoided_g", EWASTE, EW_S2, 1000.0),
                                 ("materials_avoided_kg", MATER, MA_S2, 1.0)):
        c = dfw * _col(tab, 1, cat) * scale
        out[f"{name}_low"] = c * np.exp(-np.sqrt(base_lo + _col(s2, 0, cat)))
        out[f"{name}_central"] = c
        out[f"{name}_high"] = c * np.exp(np.sqrt(base_hi + _col(s2, 1, cat)))
    for k in ("low", "central", "high"):
        out[f"ewaste_avoided_g_{k}"] = np.rint(out[f"ewaste_avoided_g_{k}"])
    out["e_trade_central"] = t[1]
    return out


def avoided_bounds(cat, e_low, e_central, e_high, age, cond, battery, channel=None):
    """Vectorised avoided (p10, central, p90) arrays (kg CO2e)."""
    o = avoided_arrays(cat, e_low, e_central, e_high, age, cond, battery, channel)
    return o["avoided_low"], o["avoided_central"], o["avoided_high"]


def avoided_one(cat: int, e: tuple[float, float, float], age: float | None, cond: int,
                battery: float | None, channel: int = 0, weight: float | None = None
                ) -> dict:
    """Scalar version of :func:`avoided_arrays`; returns a dict of tuples."""
    bf = 1.0
    if battery is not None and _BATTERY[cat] and not math.isnan(battery):
        bf = min(1.0, max(BF, 1.0 - (BT - battery) / BS))
    cf = _COND[cond]
    mu = _MU[cat]
    g = UNKNOWN_F if age is None else [L.residual_one(cat, age, mu[j]) for j in range(3)]
    f_ce = g[1] * cf[1] * bf
    f_lo = min(g[0] * cf[0] * bf, f_ce)
    f_hi = max(g[2] * cf[2] * bf, f_ce)
    lf_lo = math.log(f_ce / max(f_lo, _TINY))
    lf_hi = math.log(f_hi / f_ce)
    s_lo = math.sqrt(math.log(e[1] / e[0]) ** 2 + _LD_LO ** 2 + lf_lo ** 2)
    s_hi = math.sqrt(math.log(e[2] / e[1]) ** 2 + _LD_HI ** 2 + lf_hi ** 2)
    p_ce = e[1] * (D[1] * f_ce)
    fx, sh = _FIXED[channel][cat], _SHARE[channel][cat]
    t = [fx[j] + sh[j] * e[1] for j in range(3)]
    a_ce = p_ce - t[1]
    a_lo = a_ce - math.hypot(p_ce * -math.expm1(-s_lo), t[2] - t[1])
    a_hi = a_ce + math.hypot(p_ce * math.expm1(s_hi), t[1] - t[0])
    known_w = weight is not None and weight > 0
    w_ce = weight if known_w else _WEIGHT[cat][1]
    ws = (0.0, 0.0) if known_w else _W_S2[cat]
    base_lo = _LD_LO ** 2 + lf_lo ** 2 + ws[0]
    base_hi = _LD_HI ** 2 + lf_hi ** 2 + ws[1]
    dfw = w_ce * D[1] * f_ce
    ew = dfw * _EW[cat][1] * 1000.0
    ma = dfw * _MA[cat][1]
    es, ms = _EW_S2[cat], _MA_S2[cat]
    return {
        "avoided": (max(a_lo, 0.0), max(a_ce, 0.0), max(a_hi, 0.0)),
        "f_life": (f_lo, f_ce, f_hi),
        "e_trade": tuple(t),
        "ewaste_g": (round(ew * math.exp(-math.sqrt(base_lo + es[0]))), round(ew),
                     round(ew * math.exp(math.sqrt(base_hi + es[1])))),
        "materials_kg": (ma * math.exp(-math.sqrt(base_lo + ms[0])), ma,
                         ma * math.exp(math.sqrt(base_hi + ms[1]))),
    }


def avoided_formula(e_new: float, displacement: float, f_life: float, e_trade: float) -> float:
    """The bare formula, for documentation and sanity checks."""
    return max(0.0, e_new * displacement * f_life - e_trade)
