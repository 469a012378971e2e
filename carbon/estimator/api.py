"""Public estimator API: estimate(), resolve_devices(), estimate_batch()."""

from __future__ import annotations

import math
import threading

import numpy as np

from carbon.estimator import parameters as P
from carbon.estimator.avoided import COND_UNKNOWN, avoided_arrays, avoided_one
from carbon.estimator.calibration import fit
from carbon.estimator.codes import screen_from_name
from carbon.estimator.device import Device, InvalidDevice, validate
from carbon.estimator.lifetime import mean_life
from carbon.estimator.model import NC, NF, FittedModel, transform_col
from carbon.estimator.names import normalise_brand, parse_model_name
from carbon.estimator.reference import (
    DATA_PATH,
    MIN_LOW_RATIO,
    Match,
    ReferenceIndex,
    RefRow,
    load_reference,
)
from carbon.estimator.result import Estimate, MatchedReference
from carbon.estimator.trade_params import CHANNEL_CODE, DEFAULT_CHANNEL

METHODS = ("reference", "model", "category-default")
M_REF, M_MODEL, M_DEFAULT = 0, 1, 2
_COND_CODE = {**P.CONDITION_CODE, None: COND_UNKNOWN}
BATCH_CHUNK = 16384


class Estimator:
    """Fitted state: reference table + index + model. Built once, lazily (see get_estimator)."""

    def __init__(self, rows: list[RefRow], model: FittedModel):
        self.rows = rows
        self.index = ReferenceIndex(rows)
        self.model = model
        # Residual spread used to widen reference ranges (full-input submodel, pattern 0);
        # pooled for unmodelled categories.
        mod, q_lo, q_hi = model.modelled[:NC], model.q_lo[:NC], model.q_hi[:NC]
        pool_lo = float(np.median(q_lo[mod])) if mod.any() else math.log(0.8)
        pool_hi = float(np.median(q_hi[mod])) if mod.any() else math.log(1.25)
        self.ref_q_lo = np.where(mod, q_lo, pool_lo)
        self.ref_q_hi = np.where(mod, q_hi, pool_hi)
        ref_lo, ref_hi = np.exp(self.ref_q_lo).tolist(), np.exp(self.ref_q_hi).tolist()
        self._ref_q = list(zip(ref_lo, ref_hi, strict=True))
        self._model_q = list(zip(model.q_lo.tolist(), model.q_hi.tolist(), strict=True))
        self._defaults = [P.CATEGORY_DEFAULT[c].as_tuple() for c in P.CATEGORY_NAMES]
        self._ref_table = np.array([r.embodied for r in rows])
        self._ref_err = np.array([r.error_ratio for r in rows])

    # ---- single ---------------------------------------------------------------------------
    def resolve_one(self, d: Device):
        """String part: brand code, keyword mask, feature values, reference match."""
        brand = normalise_brand(d.brand)
        parsed = parse_model_name(d.model, brand)
        storage = d.storage_gb if d.storage_gb is not None else parsed.storage_gb
        ram = d.ram_gb if d.ram_gb is not None else parsed.ram_gb
        screen = d.screen_inches if d.screen_inches is not None else parsed.screen_inches
        if screen is None:
            screen = screen_from_name(d.model, d.category)
        year = d.release_year if d.release_year is not None else parsed.year
        match = self.index.match(d.category, brand, parsed, storage, screen, year, ram)
        values = (screen, d.weight_kg, storage, ram, year)
        return self.model.brands.get(brand, -1), parsed.keywords, values, match

    def embodied_one(self, cat: int, brand_code: int, kw: int, values, match: Match | None):
        if match is not None:
            qlo, qhi = self._ref_q[cat]
            c = match.central
            return (c * min(match.lo_ratio, qlo), c, c * max(match.hi_ratio, qhi)), M_REF
        informative = brand_code >= 0 or kw != 0 or any(
            v is not None and v > 0 for v in values)
        vc = self.model.vcat_one(cat, values)
        if self.model.modelled[vc] and informative:
            y = self.model.predict_log_one(vc, values, brand_code, kw)
            qlo, qhi = self._model_q[vc]
            return (math.exp(y + qlo), math.exp(y), math.exp(y + qhi)), M_MODEL
        return self._defaults[cat], M_DEFAULT

    def estimate(self, d: Device) -> Estimate:
        validate(d)
        cat = P.CATEGORY_CODE[d.category]
        brand_code, kw, values, match = self.resolve_one(d)
        emb, method = self.embodied_one(cat, brand_code, kw, values, match)
        age, age_source = _age(d.age_years, values[4])     # year typed or read from the name
        cond = _COND_CODE[d.condition]
        channel = d.channel or DEFAULT_CHANNEL
        av = avoided_one(cat, emb, age, cond, d.battery_health_pct, CHANNEL_CODE[channel],
                         values[1])
        ref = None
        if match is not None:
            r = match.row
            ref = MatchedReference(r.manufacturer, r.name, r.source_url)
        assumptions = {
            "displacement": P.DISPLACEMENT.as_tuple(),
            "f_life": av["f_life"],
            "age_years": age,
            "age_source": age_source,
            "condition": d.condition or "unknown",
            "lifetime_years": P.LIFETIME[d.category].central,
            "mean_service_life_years": _MEAN_LIFE[cat],
            "channel": channel,
            "e_trade_kgco2e": av["e_trade"],
            "reference_year": P.CURRENT_YEAR,
            "interval": "80%",
        }
        if match is not None:
            assumptions["reference_match"] = match.how
        return Estimate(emb, av["avoided"], METHODS[method], ref, P.METHODOLOGY_VERSION,
                        assumptions, av["ewaste_g"], av["materials_kg"], channel)

    # ---- batch ----------------------------------------------------------------------------
    def estimate_batch(self, category, **columns) -> dict[str, np.ndarray]:
        """Vectorised estimates over resolved columns (see resolve_devices for the keys).

        Long inputs are processed in cache-sized chunks (same results, less memory traffic).
        """
        cat = np.asarray(category, dtype=np.int64)
        n = cat.shape[0]
        if n <= BATCH_CHUNK:
            return self._batch(cat, **columns)
        cols = {k: None if v is None else np.asarray(v) for k, v in columns.items()}
        out: dict[str, np.ndarray] = {}
        for start in range(0, n, BATCH_CHUNK):
            sl = slice(start, start + BATCH_CHUNK)
            part = self._batch(cat[sl], **{k: None if v is None else v[sl]
                                           for k, v in cols.items()})
            if not out:
                out = {k: np.empty(n, v.dtype) for k, v in part.items()}
            for k, v in part.items():
                out[k][sl] = v
        return out

    def _batch(self, category, *, screen_inches=None, weight_kg=None, storage_gb=None,
                       ram_gb=None, release_year=None, brand=None, keywords=None,
                       ref_index=None, ref_central=None, ref_lo_ratio=None, ref_hi_ratio=None,
                       condition=None, age_years=None, battery_health_pct=None,
                       channel=None) -> dict[str, np.ndarray]:
        cat = np.asarray(category, dtype=np.int64)
        n = cat.shape[0]
        nan = np.full(n, np.nan)

        def col(v):
            return nan if v is None else np.asarray(v, dtype=np.float64)

        cols = [transform_col(col(v), j) for j, v in enumerate(
            (screen_inches, weight_kg, storage_gb, ram_gb, release_year))]
        b = np.full(n, -1, np.int64) if brand is None else np.asarray(brand, np.int64)
        kw = np.zeros(n, np.int64) if keywords is None else np.asarray(keywords, np.int64)
        m = self.model
        vc = m.vcat_cols(cat, cols)
        y = m.predict_log_cols(vc, cols, b, kw)
        e_ce = np.exp(y)
        e_lo, e_hi = np.exp(y + np.take(m.q_lo, vc)), np.exp(y + np.take(m.q_hi, vc))
        informative = (b >= 0) | (kw != 0)
        for c in cols:
            informative |= ~np.isnan(c)
        use_model = np.take(m.modelled, vc) & informative
        dflt = np.array(self._defaults)
        e_lo = np.where(use_model, e_lo, np.take(dflt[:, 0], cat))
        e_ce = np.where(use_model, e_ce, np.take(dflt[:, 1], cat))
        e_hi = np.where(use_model, e_hi, np.take(dflt[:, 2], cat))
        method = np.where(use_model, M_MODEL, M_DEFAULT).astype(np.int8)
        if ref_index is not None and ref_central is None:
            ri = np.asarray(ref_index, np.int64)
            has = ri >= 0
            ref_central = np.where(has, self._ref_table[ri], np.nan)
            err = self._ref_err[ri]
            ref_lo_ratio, ref_hi_ratio = np.maximum(1.0 - err, MIN_LOW_RATIO), 1.0 + err
        if ref_central is not None:
            rc = np.asarray(ref_central, np.float64)
            has = ~np.isnan(rc)
            rl = np.minimum(1.0 if ref_lo_ratio is None else ref_lo_ratio,
                            np.take(np.exp(self.ref_q_lo), cat))
            rh = np.maximum(1.0 if ref_hi_ratio is None else ref_hi_ratio,
                            np.take(np.exp(self.ref_q_hi), cat))
            e_lo = np.where(has, rc * rl, e_lo)
            e_ce = np.where(has, rc, e_ce)
            e_hi = np.where(has, rc * rh, e_hi)
            method = np.where(has, M_REF, method).astype(np.int8)
        age = col(age_years)
        ry = col(release_year)
        age = np.where(np.isnan(age), np.maximum(0.0, P.CURRENT_YEAR - ry), age)
        cond = (np.full(n, COND_UNKNOWN, np.int64) if condition is None
                else np.asarray(condition, np.int64))
        out = avoided_arrays(cat, e_lo, e_ce, e_hi, age, cond, col(battery_health_pct),
                             channel, weight_kg)
        del out["e_trade_central"]
        return {"embodied_low": e_lo, "embodied_central": e_ce, "embodied_high": e_hi,
                **out, "method": method}

    def resolve_devices(self, devices: list[Device]) -> dict[str, np.ndarray]:
        """Validate and resolve Devices into the keyword arrays of estimate_batch."""
        n = len(devices)
        out = {k: np.full(n, np.nan) for k in (
            "screen_inches", "weight_kg", "storage_gb", "ram_gb", "release_year",
            "ref_central", "ref_lo_ratio", "ref_hi_ratio", "age_years", "battery_health_pct")}
        ints = {k: np.zeros(n, np.int64) for k in ("category", "brand", "keywords",
                                                    "ref_index", "condition", "channel")}
        for i, d in enumerate(devices):
            validate(d)
            brand_code, kw, values, match = self.resolve_one(d)
            ints["category"][i] = P.CATEGORY_CODE[d.category]
            ints["brand"][i] = brand_code
            ints["keywords"][i] = kw
            ints["condition"][i] = _COND_CODE[d.condition]
            ints["channel"][i] = CHANNEL_CODE[d.channel or DEFAULT_CHANNEL]
            for k, v in zip(("screen_inches", "weight_kg", "storage_gb", "ram_gb",
                             "release_year"), values, strict=True):
                if v is not None:
                    out[k][i] = v
            if match is not None:
                ints["ref_index"][i] = match.row.index
                out["ref_central"][i] = match.central
                out["ref_lo_ratio"][i] = match.lo_ratio
                out["ref_hi_ratio"][i] = match.hi_ratio
            else:
                ints["ref_index"][i] = -1
            if d.age_years is not None:
                out["age_years"][i] = d.age_years
            if d.battery_health_pct is not None:
                out["battery_health_pct"][i] = d.battery_health_pct
        return {**ints, **out}


def _age(age_years, release_year) -> tuple[float | None, str]:
    if age_years is not None:
        return float(age_years), "given"
    if release_year is not None:
        return float(max(0, P.CURRENT_YEAR - release_year)), "release_year"
    return None, "unknown"


_MEAN_LIFE = [mean_life(c)[1] for c in P.CATEGORY_NAMES]
_LOCK = threading.Lock()
_STATE: Estimator | None = None


def get_estimator() -> Estimator:
    """The process-wide fitted estimator (fitted on first use, deterministic)."""
    global _STATE
    if _STATE is None:
        with _LOCK:
            if _STATE is None:
                rows = load_reference(DATA_PATH)
                _STATE = Estimator(rows, fit(rows))
    return _STATE


def estimate(device: Device) -> Estimate:
    """Embodied footprint of the new equivalent and avoided emissions of a trade."""
    return get_estimator().estimate(device)


def resolve_devices(devices: list[Device]) -> dict[str, np.ndarray]:
    return get_estimator().resolve_devices(devices)


def estimate_batch(category, **columns) -> dict[str, np.ndarray]:
    """Vectorised estimates over already-resolved columns (see Estimator.estimate_batch)."""
    return get_estimator().estimate_batch(category, **columns)


__all__ = [
    "NF",
    "Device",
    "Estimate",
    "InvalidDevice",
    "MatchedReference",
    "estimate",
    "estimate_batch",
    "get_estimator",
    "resolve_devices",
]
