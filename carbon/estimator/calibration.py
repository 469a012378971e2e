"""Interval calibration of the embodied model: grouped out-of-fold residuals per pattern.

Folds are grouped by source report (``sources_hash``): all variants of one PCF document are
predicted by a model that never saw that document.
"""

from __future__ import annotations

import numpy as np

from carbon.estimator import parameters as P
from carbon.estimator.model import (
    NC,
    NPAT,
    PATTERN_FEATURES,
    FittedModel,
    fit_point,
    pattern_drop,
    rows_to_arrays,
    usable_features,
)
from carbon.estimator.reference import RefRow


def group_folds(groups: list[str], k: int, seed: int) -> np.ndarray:
    """Deterministic fold id per row; all rows of one source report share a fold."""
    uniq = sorted(set(groups))
    perm = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {uniq[i]: n % k for n, i in enumerate(perm)}
    return np.array([fold_of[g] for g in groups], dtype=np.int64)


def oof_log_residuals(rows: list[RefRow], alpha: float, k: int, seed: int) -> np.ndarray:
    """(NPAT, n) out-of-fold log residuals (log true - log predicted), folds grouped by report.

    Row i under pattern p: its features dropped by p are hidden, and the residual is kept only
    if the row has every pattern feature p keeps (so the row really is in pattern p).
    """
    brands = {b: i for i, b in enumerate(sorted({r.brand for r in rows}))}
    cat, x, brand, kw, y = rows_to_arrays(rows, brands)
    folds = group_folds([r.group for r in rows], k, seed)
    res = np.full((NPAT, len(rows)), np.nan)
    for f in range(k):
        te = folds == f
        if not te.any():
            continue
        m = fit_point([r for r, t in zip(rows, te, strict=True) if not t], alpha, brands)
        for p in range(NPAT):
            xp = x[te].copy()
            xp[:, list(pattern_drop(p))] = np.nan
            res[p, te] = y[te] - m.predict_log(cat[te], xp, brand[te], kw[te])
    usable = usable_features(rows)
    for p in range(NPAT):
        for b, fe in enumerate(PATTERN_FEATURES):
            if fe not in pattern_drop(p):
                res[p, np.isnan(x[:, fe]) | ~usable[cat, b]] = np.nan
    return res


def _cell_quantiles(res: np.ndarray, cats: np.ndarray, c: int, mod: np.ndarray):
    """(q10, q90) of category c's residuals, pooled with all modelled categories when few."""
    ok = ~np.isnan(res)
    pooled = res[np.isin(cats, mod) & ok]
    own = res[(cats == c) & ok]
    if own.size < P.MIN_ROWS_PER_CATEGORY_INTERVAL:
        reps = max(1, pooled.size // max(own.size, 1))
        own = np.concatenate([np.tile(own, reps), pooled])
    if own.size == 0:
        return None
    qa, qb = P.INTERVAL_QUANTILES
    return float(np.quantile(own, qa)), float(np.quantile(own, qb))


def calibrate(m: FittedModel, rows: list[RefRow], k: int = P.INNER_FOLDS,
              seed: int = P.CV_SEED + 1) -> None:
    """Set per-(pattern, category) 80% interval log-quantiles from grouped OOF residuals.

    Cells with few rows borrow strength: their residuals are pooled with those of all
    modelled categories under the same pattern (equal weight to own and pooled sets). A
    pattern's residuals come from every row that can be put in that pattern: rows whose
    report lacks the features (naturally missing) and rows where they are hidden (as when a
    seller leaves them out).
    """
    res = oof_log_residuals(rows, m.alpha, k, seed)
    cats = np.array([P.CATEGORY_CODE[r.category] for r in rows])
    for p in range(NPAT):
        mod = np.flatnonzero(m.modelled[p * NC:(p + 1) * NC])
        for c in mod:
            q = _cell_quantiles(res[p], cats, c, mod)
            if q is None:
                continue
            m.q_lo[p * NC + c] = min(q[0], 0.0)
            m.q_hi[p * NC + c] = max(q[1], 0.0)


def fit(rows: list[RefRow], alpha: float = P.RIDGE_ALPHA) -> FittedModel:
    m = fit_point(rows, alpha)
    calibrate(m, rows)
    return m
