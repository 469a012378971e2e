"""Log-linear ridge model of embodied footprint, fitted per category with numpy."""

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

    def __post_init__(self):
        # Constant contribution of a missing feature; keyword contribution per bitmask.
        self._miss_const = self.w_miss + self.w_num * np.clip(self.imp, self.lo, self.hi)
        masks = np.arange(2 ** NK)
        self._kw_table = self.intercept[:, None] + (kw_bits(masks) @ self.w_kw.T).T
        # Python-list copies for the scalar path (no numpy overhead per call).
        self._l = [(self.intercept[c], list(self.w_num[c]), list(self.w_miss[c]),
                    list(self.imp[c]), list(self.lo[c]), list(self.hi[c]),
                    list(self.w_brand[c]), list(self.w_kw[c])) for c in range(NC)]

    def predict_log(self, cat, x, brand, kw) -> np.ndarray:
        """Vectorised log-embodied prediction. x: (n, NF) transformed, NaN = missing."""
        return self.predict_log_cols(cat, [x[:, j] for j in range(NF)], brand, kw)

    def predict_log_cols(self, cat, cols, brand, kw) -> np.ndarray:
        """Column-wise version: cols is a list of NF 1-D transformed arrays (NaN = missing).

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


def group_folds(groups: list[str], k: int, seed: int) -> np.ndarray:
    """Deterministic fold id per row; all rows of one source report share a fold."""
    uniq = sorted(set(groups))
    perm = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {uniq[i]: n % k for n, i in enumerate(perm)}
    return np.array([fold_of[g] for g in groups], dtype=np.int64)


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
    """Fit the per-category ridge models (no interval calibration)."""
    if brands is None:
        brands = {b: i for i, b in enumerate(sorted({r.brand for r in rows}))}
    nb = len(brands)
    cat, x, brand, kw, y = rows_to_arrays(rows, brands)
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


def oof_log_residuals(rows: list[RefRow], alpha: float, k: int, seed: int) -> np.ndarray:
    """Out-of-fold log residuals (log true - log predicted), folds grouped by report."""
    brands = {b: i for i, b in enumerate(sorted({r.brand for r in rows}))}
    cat, x, brand, kw, y = rows_to_arrays(rows, brands)
    folds = group_folds([r.group for r in rows], k, seed)
    res = np.full(len(rows), np.nan)
    for f in range(k):
        te = folds == f
        if not te.any():
            continue
        m = fit_point([r for r, t in zip(rows, te, strict=True) if not t], alpha, brands)
        res[te] = y[te] - m.predict_log(cat[te], x[te], brand[te], kw[te])
    return res


def calibrate(m: FittedModel, rows: list[RefRow], k: int = P.INNER_FOLDS,
              seed: int = P.CV_SEED + 1) -> None:
    """Set per-category 80% interval log-quantiles from grouped out-of-fold residuals.

    Categories with few rows borrow strength: their residuals are pooled with those of all
    modelled categories (equal weight to own and pooled sets).
    """
    res = oof_log_residuals(rows, m.alpha, k, seed)
    cats = np.array([P.CATEGORY_CODE[r.category] for r in rows])
    qa, qb = P.INTERVAL_QUANTILES
    pooled = res[np.isin(cats, np.flatnonzero(m.modelled)) & ~np.isnan(res)]
    for c in np.flatnonzero(m.modelled):
        own = res[(cats == c) & ~np.isnan(res)]
        if own.size < P.MIN_ROWS_PER_CATEGORY_INTERVAL:
            reps = max(1, pooled.size // max(own.size, 1))
            own = np.concatenate([np.tile(own, reps), pooled])
        m.q_lo[c] = min(float(np.quantile(own, qa)), 0.0)
        m.q_hi[c] = max(float(np.quantile(own, qb)), 0.0)


def fit(rows: list[RefRow], alpha: float = P.RIDGE_ALPHA) -> FittedModel:
    m = fit_point(rows, alpha)
    calibrate(m, rows)
    return m
