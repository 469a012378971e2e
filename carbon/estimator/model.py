"""Log-linear ridge model of embodied footprint, fitted per category with numpy.

Missing inputs: one submodel per *pattern* of the physical features (screen size, weight),
fitted without the missing ones, with its own 80% interval calibrated by grouped CV on rows
predicted under that pattern. Sellers rarely give a screen size or a weight; a submodel
fitted without them is less biased than imputing them, and its interval is honest about the
information lost. The submodels are stacked: "virtual category" vc = pattern * NC + category
indexes every per-category table, so prediction stays one vectorised pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon.estimator import parameters as P
from carbon.estimator.names import KEYWORD_NAMES
from carbon.estimator.reference import RefRow

FEATURES = ("screen_inches", "weight_kg", "storage_gb", "ram_gb", "release_year")
NF = len(FEATURES)
NK = len(KEYWORD_NAMES)
NC = len(P.CATEGORY_NAMES)
YEAR0 = 2019.0
MIN_ROWS_TO_MODEL = 8
MIN_MISSING = 5
MIN_OBSERVED = 10                # a pattern feature seen in fewer rows of a category is unused
PATTERN_FEATURES = (0, 1)        # screen_inches, weight_kg: bit j set = feature j missing
NPAT = 1 << len(PATTERN_FEATURES)
NV = NPAT * NC                   # number of virtual categories


def pattern_drop(p: int) -> tuple[int, ...]:
    """Feature indexes a pattern drops."""
    return tuple(f for b, f in enumerate(PATTERN_FEATURES) if p >> b & 1)


def transform_col(raw, j: int) -> np.ndarray:
    """One raw feature column -> model space; NaN marks missing (<= 0 is missing)."""
    raw = np.asarray(raw, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(raw > 0, raw, np.nan)
        if j < 2:
            return np.log(pos, out=pos)
        if j < 4:
            return np.log2(pos, out=pos)
        pos -= YEAR0
        return pos


def transform(raw: np.ndarray) -> np.ndarray:
    """Raw feature columns (n, NF) -> model space; NaN marks missing (<= 0 is missing)."""
    raw = np.asarray(raw, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(raw > 0, raw, np.nan)
        out = np.empty_like(pos)
        out[:, 0] = np.log(pos[:, 0])
        out[:, 1] = np.log(pos[:, 1])
        out[:, 2] = np.log2(pos[:, 2])
        out[:, 3] = np.log2(pos[:, 3])
        out[:, 4] = pos[:, 4] - YEAR0
    return out


def _transform_one(v: float | None, j: int) -> float:
    if v is None or not v > 0:
        return math.nan
    if j < 2:
        return math.log(v)
    if j < 4:
        return math.log2(v)
    return v - YEAR0


def kw_bits(mask: np.ndarray) -> np.ndarray:
    return ((np.asarray(mask, dtype=np.int64)[:, None] >> np.arange(NK)) & 1).astype(np.float64)


def rows_to_arrays(rows: list[RefRow], brands: dict[str, int]):
    raw = np.array([[r.screen_inches or np.nan, r.weight_kg or np.nan, r.storage_gb or np.nan,
                     r.ram_gb or np.nan, r.year or np.nan] for r in rows], dtype=np.float64)
    cat = np.array([P.CATEGORY_CODE[r.category] for r in rows], dtype=np.int64)
    brand = np.array([brands.get(r.brand, -1) for r in rows], dtype=np.int64)
    kw = np.array([r.parsed.keywords for r in rows], dtype=np.int64)
    y = np.log(np.array([r.embodied for r in rows], dtype=np.float64))
    return cat, transform(raw.reshape(-1, NF)), brand, kw, y


@dataclass
class FittedModel:
    alpha: float
    brands: dict[str, int]
    modelled: np.ndarray        # (NC,) bool
    intercept: np.ndarray       # (NC,)
    w_num: np.ndarray           # (NC, NF)
    w_miss: np.ndarray          # (NC, NF)
    imp: np.ndarray             # (NC, NF) imputation values (model space)
    lo: np.ndarray              # (NC, NF) clip range of features seen in training
    hi: np.ndarray
    w_brand: np.ndarray         # (NC, B + 1); last column (unknown brand) is 0
    w_kw: np.ndarray            # (NC, NK)
    q_lo: np.ndarray            # (NC,) log-residual quantiles for the 80% interval
    q_hi: np.ndarray
    n_rows: np.ndarray          # (NC,)
    usable: np.ndarray | None = None   # (NC, len(PATTERN_FEATURES)) bool

    def __post_init__(self):
        if self.usable is None:
            self.usable = np.ones((NC, len(PATTERN_FEATURES)), bool)
        # Bit offsets of each pattern feature, 0 where the category cannot use it (the
        # feature then always counts as missing): routing never reaches an unfitted cell.
        self._unusable = [(~self.usable[:, b]).astype(np.intp) * ((1 << b) * NC)
                          for b in range(len(PATTERN_FEATURES))]
        self._unusable_l = [u.tolist() for u in self._unusable]
        # Constant contribution of a missing feature; keyword contribution per bitmask.
        self._miss_const = self.w_miss + self.w_num * np.clip(self.imp, self.lo, self.hi)
        masks = np.arange(2 ** NK)
        self._kw_table = self.intercept[:, None] + (kw_bits(masks) @ self.w_kw.T).T
        # Python-list copies for the scalar path (no numpy overhead per call).
        self._l = [(self.intercept[c], list(self.w_num[c]), list(self.w_miss[c]),
                    list(self.imp[c]), list(self.lo[c]), list(self.hi[c]),
                    list(self.w_brand[c]), list(self.w_kw[c])) for c in range(len(self.intercept))]

    def vcat_cols(self, cat, cols) -> np.ndarray:
        """Virtual category per row from transformed columns (NaN = missing)."""
        cat = np.asarray(cat, dtype=np.intp)
        v = cat.copy()
        for b, f in enumerate(PATTERN_FEATURES):
            off = (1 << b) * NC
            v += np.where(np.isnan(cols[f]), off, np.take(self._unusable[b], cat))
        return v

    def vcat_one(self, cat: int, values) -> int:
        v = cat
        for b, f in enumerate(PATTERN_FEATURES):
            x = values[f]
            v += (1 << b) * NC if x is None or not x > 0 else self._unusable_l[b][cat]
        return v

    def predict_log(self, cat, x, brand, kw) -> np.ndarray:
        """Vectorised log-embodied prediction. x: (n, NF) transformed, NaN = missing."""
        cols = [x[:, j] for j in range(NF)]
        return self.predict_log_cols(self.vcat_cols(cat, cols), cols, brand, kw)

    def predict_log_cols(self, cat, cols, brand, kw) -> np.ndarray:
        """Column-wise version: cat is the *virtual* category (see vcat_cols); cols is a list
        of NF 1-D transformed arrays (NaN = missing).

        Only 1-D gathers from small per-category tables: fast and memory-light.
        """
        cat = np.asarray(cat, dtype=np.intp)
        out = np.take(self._kw_table.ravel(), cat * self._kw_table.shape[1] + (kw & (2**NK - 1)))
        out += np.take(self.w_brand.ravel(), cat * self.w_brand.shape[1]
                       + np.where(brand < 0, self.w_brand.shape[1] - 1, brand))
        for j in range(NF):
            col = cols[j]
            term = np.clip(col, np.take(self.lo[:, j], cat), np.take(self.hi[:, j], cat))
            term *= np.take(self.w_num[:, j], cat)
            out += np.where(np.isnan(col), np.take(self._miss_const[:, j], cat), term)
        return out

    def predict_log_one(self, cat: int, values, brand: int, kw: int) -> float:
        """Scalar prediction; cat is the virtual category (see vcat_one)."""
        b0, wn, wm, imp, lo, hi, wb, wk = self._l[cat]
        out = b0
        for j in range(NF):
            v = _transform_one(values[j], j)
            if math.isnan(v):
                out += wm[j] + wn[j] * imp[j]
            else:
                out += wn[j] * min(max(v, lo[j]), hi[j])
        out += wb[brand]
        if kw:
            for k in range(NK):
                if kw >> k & 1:
                    out += wk[k]
        return out


def _ridge(x, miss, brand, kw, y, nb, alpha):
    """Fit one category; returns raw-space (intercept, w_num, w_miss, w_brand, w_kw)."""
    onehot = np.zeros((len(y), nb + 1))
    onehot[np.arange(len(y)), brand] = 1.0
    X = np.hstack([x, miss.astype(np.float64), onehot[:, :nb], kw_bits(kw)])
    mu = X.mean(0)
    sd = X.std(0)
    keep = sd > 1e-12
    Z = (X[:, keep] - mu[keep]) / sd[keep]
    ym = y.mean()
    w = np.linalg.solve(Z.T @ Z + alpha * np.eye(Z.shape[1]), Z.T @ (y - ym))
    wr = np.zeros(X.shape[1])
    wr[keep] = w / sd[keep]
    b0 = ym - float(mu @ wr)
    return b0, wr[:NF], wr[NF:2 * NF], np.append(wr[2 * NF:2 * NF + nb], 0.0), wr[2 * NF + nb:]


def fit_point(rows: list[RefRow], alpha: float, brands: dict[str, int] | None = None
              ) -> FittedModel:
    """Fit the stacked per-pattern, per-category ridge models (no interval calibration)."""
    if brands is None:
        brands = {b: i for i, b in enumerate(sorted({r.brand for r in rows}))}
    usable = usable_features(rows)
    parts = [_fit_pattern(rows, alpha, brands, pattern_drop(p), usable) for p in range(NPAT)]
    return FittedModel(
        alpha=alpha, brands=brands, usable=usable,
        **{k: np.concatenate([getattr(q, k) for q in parts]) for k in (
            "modelled", "intercept", "w_num", "w_miss", "imp", "lo", "hi", "w_brand", "w_kw",
            "q_lo", "q_hi", "n_rows")})


def usable_features(rows: list[RefRow]) -> np.ndarray:
    """(NC, len(PATTERN_FEATURES)): the category has the feature in >= MIN_OBSERVED rows."""
    counts = np.zeros((NC, len(PATTERN_FEATURES)), np.int64)
    attrs = [FEATURES[f] if FEATURES[f] != "release_year" else "year" for f in PATTERN_FEATURES]
    for r in rows:
        c = P.CATEGORY_CODE[r.category]
        for b, a in enumerate(attrs):
            v = getattr(r, a)
            counts[c, b] += v is not None and v > 0
    return counts >= MIN_OBSERVED


def _fit_pattern(rows: list[RefRow], alpha: float, brands: dict[str, int],
                 drop: tuple[int, ...], usable: np.ndarray) -> FittedModel:
    """Per-category ridge models with the features in ``drop`` (and unusable ones) left out."""
    nb = len(brands)
    cat, x, brand, kw, y = rows_to_arrays(rows, brands)
    x[:, list(drop)] = np.nan
    for b, f in enumerate(PATTERN_FEATURES):
        x[~usable[cat, b], f] = np.nan
    m = FittedModel(
        alpha=alpha, brands=brands, modelled=np.zeros(NC, bool), intercept=np.zeros(NC),
        w_num=np.zeros((NC, NF)), w_miss=np.zeros((NC, NF)), imp=np.zeros((NC, NF)),
        lo=np.full((NC, NF), -np.inf), hi=np.full((NC, NF), np.inf),
        w_brand=np.zeros((NC, nb + 1)), w_kw=np.zeros((NC, NK)),
        q_lo=np.zeros(NC), q_hi=np.zeros(NC), n_rows=np.zeros(NC, np.int64))
    for c, name in enumerate(P.CATEGORY_NAMES):
        d = P.CATEGORY_DEFAULT[name]
        m.intercept[c] = math.log(d.central)
        m.q_lo[c], m.q_hi[c] = math.log(d.low / d.central), math.log(d.high / d.central)
        sel = cat == c
        m.n_rows[c] = int(sel.sum())
        if name not in P.MODELLED_CATEGORIES or m.n_rows[c] < MIN_ROWS_TO_MODEL:
            continue
        xc = x[sel]
        miss = np.isnan(xc)
        obs_any = ~miss.all(0)
        imp = np.where(obs_any, _nanmedian(xc), 0.0)
        m.imp[c] = imp
        m.lo[c] = np.where(obs_any, np.where(miss, np.inf, xc).min(0), -np.inf)
        m.hi[c] = np.where(obs_any, np.where(miss, -np.inf, xc).max(0), np.inf)
        xf = np.where(miss, imp, xc)
        # A missing indicator seen on only a handful of rows is a proxy for those rows
        # (e.g. one report), not information: drop it.
        n_miss = miss.sum(0)
        rare = (n_miss < MIN_MISSING) | (n_miss > len(xc) - MIN_MISSING)
        b0, wn, wm, wb, wk = _ridge(xf, miss & ~rare, np.where(brand[sel] < 0, nb, brand[sel]),
                                    kw[sel], y[sel], nb, alpha)
        m.modelled[c] = True
        m.intercept[c], m.w_num[c], m.w_miss[c], m.w_brand[c], m.w_kw[c] = b0, wn, wm, wb, wk
    m.__post_init__()
    return m


def _nanmedian(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        col = x[:, j][~np.isnan(x[:, j])]
        out[j] = float(np.median(col)) if col.size else 0.0
    return out
