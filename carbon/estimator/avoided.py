"""Avoided emissions, e-waste and raw materials of a trade (methodology 2027.1).

    avoided = max(0, E_new * D * F_life - E_trade)

Central: every input at its central value (the formula of the research notes). Low / high:
10th / 90th percentiles of the avoided distribution, propagated analytically (deterministic,
no sampling). Each input's (low, central, high) is read as its (p10, p50, p90):

- every factor of P = E_new * D * F_life is split-normal in log space (median = central,
  log spread ln(central/low)/z10 below and ln(high/central)/z10 above); the cumulants of a
  split normal are closed-form and add up over the factors; the p10 / p50 / p90 of log P
  follow from a Cornish-Fisher expansion (mean, variance, skewness);
- E_trade is independent of P: the quantiles of the difference combine P's and E_trade's
  deviations from their medians in quadrature: q10 = P50 - T - hypot(P50 - P10, T90 - T);
- the result is clamped at 0 (a quantile of max(0, X) is max(0, quantile of X)).

E-waste and raw materials are pure products (weight x factor x D x F_life) and use the same
log-space propagation. The approximation is checked against a large Monte Carlo sample in
the tests.
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
Z10 = 1.2815515655446004                  # z of the 90th percentile
_R = 1.0 / math.sqrt(2.0 * math.pi)
_G_MAX = 2.0                              # |skewness| cap: keeps Cornish-Fisher monotone


def _cum(a, b):
    """(mean, variance, third central moment) of a split normal with median 0 and standard
    deviations a below / b above (works on floats and arrays)."""
    m = _R * (b - a)
    e2 = 0.5 * (a * a + b * b)
    e3 = 2.0 * _R * (b * b * b - a * a * a)
    return m, e2 - m * m, e3 - 3.0 * m * e2 + 2.0 * m * m * m


def _spreads(table) -> tuple:
    """Log spreads (below, above) of (low, central, high) rows, in standard deviations."""
    t = np.maximum(np.asarray(table, np.float64), _TINY)
    return np.log(t[..., 1] / t[..., 0]) / Z10, np.log(t[..., 2] / t[..., 1]) / Z10


DK = _cum(*(float(v) for v in _spreads(D)))


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


# (NC, 3) cumulants of the log of the typical weight and of the per-kg factors.
WK = np.stack(_cum(*_spreads(WEIGHT)), 1)
EK = np.stack(_cum(*_spreads(EWASTE)), 1) + np.array(DK)    # D is in every product
MK = np.stack(_cum(*_spreads(MATER)), 1) + np.array(DK)

# Python copies for the scalar path.
_COND = COND.tolist()
_BATTERY = BATTERY_CAT.tolist()
_MU = MU.tolist()
_FIXED = TRADE_FIXED.tolist()
_SHARE = TRADE_SHARE.tolist()
_WEIGHT = WEIGHT.tolist()
_EW, _MA = EWASTE.tolist(), MATER.tolist()
_WK, _EK, _MK = WK.tolist(), EK.tolist(), MK.tolist()


_FLAT_COLS: dict[tuple[int, int], np.ndarray] = {}


def _col(table: np.ndarray, j: int, idx) -> np.ndarray:
    """table[..., j] flattened (cached: the tables are module constants), gathered at idx."""
    key = (id(table), j)
    flat = _FLAT_COLS.get(key)
    if flat is None:
        flat = _FLAT_COLS[key] = np.ascontiguousarray(table[..., j]).ravel()
    return flat.take(idx)


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


_TAIL = (Z10 * Z10 - 1.0) / 6.0


def _cf(k1, k2, k3, mid: bool = True):
    """Vectorised (p10, p50, p90) multipliers exp(quantile) of a log with these cumulants
    (p50 is None when ``mid`` is False). In-place arithmetic: this is the batch hot spot."""
    sd = np.sqrt(k2)
    g = sd * sd
    g *= sd
    np.maximum(g, _TINY, out=g)
    np.divide(k3, g, out=g)
    np.clip(g, -_G_MAX, _G_MAX, out=g)
    sg = sd * g
    base = sg * _TAIL
    base += k1
    np.exp(base, out=base)
    u = sd * Z10
    np.exp(u, out=u)
    p50 = None
    if mid:
        sg *= -1.0 / 6.0
        sg += k1
        p50 = np.exp(sg, out=sg)
    return base / u, p50, np.multiply(base, u, out=base)


def _cf_one(k1: float, k2: float, k3: float) -> tuple[float, float, float]:
    sd = math.sqrt(k2)
    g = min(max(k3 / max(sd, _TINY) ** 3, -_G_MAX), _G_MAX)
    tail = (Z10 * Z10 - 1.0) * g / 6.0
    return (math.exp(k1 + sd * (tail - Z10)), math.exp(k1 - sd * g / 6.0),
            math.exp(k1 + sd * (tail + Z10)))


def avoided_arrays(cat, e_lo, e_ce, e_hi, age, cond, battery, channel=None, weight=None
                   ) -> dict[str, np.ndarray]:
    """Vectorised avoided kg CO2e, e-waste g and raw materials kg (p10, central, p90)."""
    cat = np.asarray(cat, dtype=np.intp)
    n = cat.shape[0]
    ch = np.zeros(n, np.intp) if channel is None else np.asarray(channel, np.intp)
    f_lo, f_ce, f_hi = f_life_bounds(cat, age, cond, battery)
    fk = _cum(np.log(f_ce / np.maximum(f_lo, _TINY)) / Z10, np.log(f_hi / f_ce) / Z10)
    ek = _cum(np.log(e_ce / e_lo) / Z10, np.log(e_hi / e_ce) / Z10)
    p10, p50, p90 = _cf(ek[0] + fk[0] + DK[0], ek[1] + fk[1] + DK[1], ek[2] + fk[2] + DK[2])
    p_ce = e_ce * (D[1] * f_ce)
    p10, p50, p90 = p10 * p_ce, p50 * p_ce, p90 * p_ce
    idx = ch * NC + cat
    t = [_col(TRADE_FIXED, j, idx) + _col(TRADE_SHARE, j, idx) * e_ce for j in range(3)]
    a_ce = p_ce - t[1]
    m = p50 - t[1]
    a_lo = np.minimum(m - np.hypot(p50 - p10, t[2] - t[1]), a_ce)
    a_hi = np.maximum(m + np.hypot(p90 - p50, t[1] - t[0]), a_ce)
    out = {"avoided_low": np.maximum(a_lo, 0.0), "avoided_central": np.maximum(a_ce, 0.0),
           "avoided_high": np.maximum(a_hi, 0.0)}
    # Materials and e-waste: weight x factor x D x F_life (weight exact when given).
    w = None if weight is None else np.asarray(weight, np.float64)
    known_w = np.zeros(n, bool) if w is None else w > 0
    w_ce = _col(WEIGHT, 1, cat) if w is None else np.where(known_w, w, _col(WEIGHT, 1, cat))
    dfw = w_ce * D[1] * f_ce
    wk = [np.where(known_w, 0.0, _col(WK, j, cat)) + fk[j] for j in range(3)]
    for name, tab, kt, scale in (("ewaste_avoided_g", EWASTE, EK, 1000.0),
                                 ("materials_avoided_kg", MATER, MK, 1.0)):
        c = dfw * _col(tab, 1, cat) * scale
        q10, _, q90 = _cf(*(wk[j] + _col(kt, j, cat) for j in range(3)), mid=False)
        out[f"{name}_low"] = np.minimum(c * q10, c)
        out[f"{name}_central"] = c
        out[f"{name}_high"] = np.maximum(c * q90, c)
    for k in ("low", "central", "high"):
        out[f"ewaste_avoided_g_{k}"] = np.rint(out[f"ewaste_avoided_g_{k}"])
    out["e_trade_central"] = t[1]
    return out


# Scalar path: cumulants of weight x per-kg factor x D per (category, weight known?).
_EKW = [[_EK[c], [_EK[c][j] + _WK[c][j] for j in range(3)]] for c in range(NC)]
_MKW = [[_MK[c], [_MK[c][j] + _WK[c][j] for j in range(3)]] for c in range(NC)]


def _cum1(a: float, b: float) -> tuple[float, float, float]:
    m = _R * (b - a)
    e2 = 0.5 * (a * a + b * b)
    return m, e2 - m * m, 2.0 * _R * (b * b * b - a * a * a) - 3.0 * m * e2 + 2.0 * m * m * m


def avoided_one(cat: int, e: tuple[float, float, float], age: float | None, cond: int,
                battery: float | None, channel: int = 0, weight: float | None = None
                ) -> dict:
    """Scalar version of :func:`avoided_arrays`; returns a dict of tuples."""
    bf = 1.0
    if battery is not None and _BATTERY[cat] and not math.isnan(battery):
        bf = min(1.0, max(BF, 1.0 - (BT - battery) / BS))
    cf = _COND[cond]
    if age is None:
        g0, g1, g2 = UNKNOWN_F
    else:
        mu = _MU[cat]
        g0 = L.residual_one(cat, age, mu[0])
        g1 = L.residual_one(cat, age, mu[1])
        g2 = L.residual_one(cat, age, mu[2])
    f_ce = g1 * cf[1] * bf
    f_lo = min(g0 * cf[0] * bf, f_ce)
    f_hi = max(g2 * cf[2] * bf, f_ce)
    f1, f2, f3 = _cum1(math.log(f_ce / max(f_lo, _TINY)) / Z10, math.log(f_hi / f_ce) / Z10)
    e1, e2, e3 = _cum1(math.log(e[1] / e[0]) / Z10, math.log(e[2] / e[1]) / Z10)
    p_ce = e[1] * (D[1] * f_ce)
    p10, p50, p90 = _cf_one(e1 + f1 + DK[0], e2 + f2 + DK[1], e3 + f3 + DK[2])
    p10, p50, p90 = p10 * p_ce, p50 * p_ce, p90 * p_ce
    fx, sh = _FIXED[channel][cat], _SHARE[channel][cat]
    t0, t1, t2 = fx[0] + sh[0] * e[1], fx[1] + sh[1] * e[1], fx[2] + sh[2] * e[1]
    a_ce = p_ce - t1
    m = p50 - t1
    a_lo = min(m - math.hypot(p50 - p10, t2 - t1), a_ce)
    a_hi = max(m + math.hypot(p90 - p50, t1 - t0), a_ce)
    known_w = weight is not None and weight > 0
    w_ce = weight if known_w else _WEIGHT[cat][1]
    dfw = w_ce * D[1] * f_ce
    ew = dfw * _EW[cat][1] * 1000.0
    ma = dfw * _MA[cat][1]
    k = _EKW[cat][not known_w]
    e10, _, e90 = _cf_one(k[0] + f1, k[1] + f2, k[2] + f3)
    k = _MKW[cat][not known_w]
    m10, _, m90 = _cf_one(k[0] + f1, k[1] + f2, k[2] + f3)
    return {
        "avoided": (max(a_lo, 0.0), max(a_ce, 0.0), max(a_hi, 0.0)),
        "f_life": (f_lo, f_ce, f_hi),
        "e_trade": (t0, t1, t2),
        "ewaste_g": (round(min(ew * e10, ew)), round(ew), round(max(ew * e90, ew))),
        "materials_kg": (min(ma * m10, ma), ma, max(ma * m90, ma)),
    }


def avoided_formula(e_new: float, displacement: float, f_life: float, e_trade: float) -> float:
    """The bare formula, for documentation and sanity checks."""
    return max(0.0, e_new * displacement * f_life - e_trade)
