"""CATEGORIES and METHODOLOGY: static, JSON-able descriptions (no fitting needed)."""

from __future__ import annotations

from carbon.estimator import parameters as P
from carbon.estimator import recycling as R
from carbon.estimator import trade_params as T
from carbon.estimator.lifetime import mean_life
from carbon.estimator.model import FEATURES, PATTERN_FEATURES
from carbon.estimator.names import KEYWORD_NAMES

CATEGORIES: dict[str, dict] = {
    c: {
        "typical_lifetime_years": P.LIFETIME[c].central,
        "lifetime_range_years": [P.LIFETIME[c].low, P.LIFETIME[c].high],
        "lifetime_sourced": P.LIFETIME[c].sourced,
        "default_embodied_kgco2e": {"low": P.CATEGORY_DEFAULT[c].low,
                                    "central": P.CATEGORY_DEFAULT[c].central,
                                    "high": P.CATEGORY_DEFAULT[c].high},
        "default_embodied_source": P.CATEGORY_DEFAULT[c].source,
        "default_embodied_sourced": P.CATEGORY_DEFAULT[c].sourced,
        "modelled": c in P.MODELLED_CATEGORIES,
        "battery_device": c in P.BATTERY_CATEGORIES,
        "mean_service_life_years": mean_life(c)[1],
        "weibull_shape": T.WEIBULL_SHAPE[c].central,
        "parcel_size_class": T.SIZE_CLASS[c],
        "typical_weight_kg": T.TYPICAL_WEIGHT_KG[c].central,
        "price_floor_eur_minor": T.PRICE_FLOORS[c],
    }
    for c in P.CATEGORY_NAMES
}

METHODOLOGY: dict = {
    "version": P.METHODOLOGY_VERSION,
    "embodied_definition": "gwp_total * (1 - gwp_use_ratio): manufacturing + transport + end "
                           "of life of one new unit, kg CO2e",
    "avoided_formula": "avoided = max(0, E_new * D * F_life - E_trade)",
    "f_life": "E[T - a | T > a] / E[T] for a device known to work at age a, T the total "
              "service life (Weibull, mean = lifetime + second life), times the condition "
              "and battery factors; unknown age -> 0.5 (eBay); for_parts -> parts reuse "
              "only (5% of the working-unit factor, assumption)",
    "e_trade": "by channel: parcel (packaging + delivery by size class, default), "
               "local_pickup (about 0), refurbished (smartphones 2.8-15 kg sourced; other "
               "categories parcel + 5.3% of E_new)",
    "uncertainty": "embodied: 80% interval calibrated by grouped CV per pattern of missing "
                   "screen/weight; avoided, e-waste, materials: 10th/90th percentiles of the "
                   "propagated input distributions (analytic, deterministic), clamped at 0; "
                   "central = formula at central inputs",
    "materials": "ewaste_avoided_g and materials_avoided_kg = device weight (typical weight "
                 "of the category when not given) x per-kg factor x D x F_life",
    "credit_integrity": "trades below the category price floor (EUR minor units, assumption) "
                        "are credited 0 with a credit_note (withhold_credit)",
    "channels": list(T.CHANNELS),
    "price_floors_eur_minor": dict(T.PRICE_FLOORS),
    "methods": {
        "reference": "same brand and model family as a manufacturer PCF row (names "
                     "normalised, storage/RAM variants interpolated in log2 storage); range "
                     "= wider of the report's error ratio and the model's residual spread",
        "model": "per-category ridge regression on log embodied footprint; features: "
                 + ", ".join(FEATURES) + " (imputed median + missing indicators, clipped to "
                 "the training range), brand, name keywords (" + ", ".join(KEYWORD_NAMES)
                 + "); one submodel per pattern of missing "
                 + "/".join(FEATURES[f] for f in PATTERN_FEATURES)
                 + "; 80% interval from grouped out-of-fold residual quantiles per pattern",
        "category-default": "literature value per category with a wide range",
    },
    "model": {"ridge_alpha": P.RIDGE_ALPHA, "cv_folds": P.CV_FOLDS,
              "cv_grouping": "sources_hash (one PCF document per group)",
              "interval_quantiles": list(P.INTERVAL_QUANTILES)},
    "parameters": {**P.parameter_table(), **T.parameter_table(), **R.parameter_table()},
    "recycling": R.methodology(),
    "categories": CATEGORIES,
    "flat_baseline_kgco2e": P.FLAT_BASELINE,
    "data": {
        "attribution": P.DATA_ATTRIBUTION,
        "licence": P.DATA_LICENCE,
        "url": P.DATA_URL,
        "file": "carbon/data/device-footprints.csv (subset of boavizta-data-us.csv, "
                "snapshot 2023-02-23)",
    },
}
