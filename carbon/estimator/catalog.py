"""CATEGORIES and METHODOLOGY: static, JSON-able descriptions (no fitting needed)."""

from __future__ import annotations

from carbon.estimator import parameters as P
from carbon.estimator.model import FEATURES
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
    }
    for c in P.CATEGORY_NAMES
}

METHODOLOGY: dict = {
    "version": P.METHODOLOGY_VERSION,
    "embodied_definition": "gwp_total * (1 - gwp_use_ratio): manufacturing + transport + end "
                           "of life of one new unit, kg CO2e",
    "avoided_formula": "avoided = max(0, E_new * D * F_life - E_trade)",
    "f_life": "min(1, max(0, lifetime + second_life - age) / lifetime) * condition factor * "
              "battery factor; unknown age -> 0.5",
    "e_trade": "fixed kg per category + share of E_new (share 0 for smartphones)",
    "uncertainty": "low/central/high carried through; each bound takes the matching end of "
                   "every parameter; clamped at 0. Embodied range is an 80% interval.",
    "methods": {
        "reference": "same brand and model family as a manufacturer PCF row (names "
                     "normalised, storage/RAM variants interpolated in log2 storage); range "
                     "= wider of the report's error ratio and the model's residual spread",
        "model": "per-category ridge regression on log embodied footprint; features: "
                 + ", ".join(FEATURES) + " (imputed median + missing indicators, clipped to "
                 "the training range), brand, name keywords (" + ", ".join(KEYWORD_NAMES)
                 + "); 80% interval from grouped out-of-fold residual quantiles",
        "category-default": "literature value per category with a wide range",
    },
    "model": {"ridge_alpha": P.RIDGE_ALPHA, "cv_folds": P.CV_FOLDS,
              "cv_grouping": "sources_hash (one PCF document per group)",
              "interval_quantiles": list(P.INTERVAL_QUANTILES)},
    "parameters": P.parameter_table(),
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
