"""Cross-validation grouped by source report: ``python -m carbon.estimator.cv``.

All rows from one PCF document (``sources_hash``) fall in the same fold. In each fold the
model is fitted, its 80% interval calibrated (inner grouped CV on the training folds only),
and the reference matcher indexes the training folds only; then the full pipeline
(reference match, else model) predicts the held-out reports.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from carbon.estimator import parameters as P
from carbon.estimator.api import Estimator
from carbon.estimator.calibration import fit, group_folds
from carbon.estimator.device import Device
from carbon.estimator.reference import DATA_PATH, RefRow, load_reference

INPUTS = ("full", "sparse")


def _device(r: RefRow, inputs: str = "full") -> Device:
    """The device as a seller would describe it. 'sparse': category, brand, model, storage,
    RAM and year only (no screen size, no weight: the usual marketplace case)."""
    sparse = inputs == "sparse"
    return Device(category=r.category, brand=r.manufacturer, model=r.name,
                  storage_gb=r.storage_gb, ram_gb=r.ram_gb,
                  screen_inches=None if sparse else r.screen_inches,
                  release_year=r.year, weight_kg=None if sparse else r.weight_kg)


def cross_validate(rows: list[RefRow] | None = None, alpha: float = P.RIDGE_ALPHA,
                   k: int = P.CV_FOLDS, seed: int = P.CV_SEED, inputs: str = "full") -> dict:
    """Out-of-fold predictions for the consumer categories; returns arrays + summary table."""
    if rows is None:
        rows = load_reference(DATA_PATH)
    folds = group_folds([r.group for r in rows], k, seed)
    evaluate = np.array([r.category in P.MODELLED_CATEGORIES for r in rows])
    pred = np.full((len(rows), 3), np.nan)
    method = np.full(len(rows), -1)
    for f in range(k):
        train = [r for r, fo in zip(rows, folds, strict=True) if fo != f]
        est = Estimator(train, fit(train, alpha))
        for i in np.flatnonzero((folds == f) & evaluate):
            r = rows[i]
            cat = P.CATEGORY_CODE[r.category]
            brand_code, kw, values, match = est.resolve_one(_device(r, inputs))
            emb, m = est.embodied_one(cat, brand_code, kw, values, match)
            pred[i], method[i] = emb, m
    return summarise(rows, pred, method, evaluate)


def _stats(true, pred, lo=None, hi=None) -> dict:
    ape = np.abs(pred - true) / true
    out = {"median_ape": float(np.median(ape)), "mean_ape": float(np.mean(ape))}
    if lo is not None:
        out["coverage80"] = float(np.mean((lo <= true) & (true <= hi)))
    return out


def summarise(rows, pred, method, evaluate) -> dict:
    true = np.array([r.embodied for r in rows])
    cats = np.array([r.category for r in rows])
    groups = np.array([r.group for r in rows])
    flat = np.array([P.FLAT_BASELINE.get(c, np.nan) for c in cats])
    table = {}
    for name in (*P.MODELLED_CATEGORIES, "overall"):
        sel = evaluate & ((cats == name) if name != "overall" else True)
        t = true[sel]
        table[name] = {
            "n_rows": int(sel.sum()),
            "n_reports": len(set(groups[sel])),
            "ours": _stats(t, pred[sel, 1], pred[sel, 0], pred[sel, 2]),
            "flat": _stats(t, flat[sel]),
            "share_reference": float(np.mean(method[sel] == 0)),
        }
    return {"table": table, "pred": pred, "method": method, "evaluate": evaluate}


def format_table(table: dict) -> str:
    head = ("| category | n rows | n reports | median APE | mean APE | 80% coverage | "
            "flat median APE | flat mean APE | reference-matched |")
    lines = [head, "|" + " --- |" * 9]
    for name, t in table.items():
        o, f = t["ours"], t["flat"]
        lines.append(
            f"| {name} | {t['n_rows']} | {t['n_reports']} | {o['median_ape']:.1%} | "
            f"{o['mean_ape']:.1%} | {o['coverage80']:.1%} | {f['median_ape']:.1%} | "
            f"{f['mean_ape']:.1%} | {t['share_reference']:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=P.RIDGE_ALPHA)
    ap.add_argument("--grid", action="store_true", help="also print a ridge-alpha grid")
    args = ap.parse_args(argv)
    rows = load_reference(DATA_PATH)
    if args.grid:
        for a in (0.3, 1.0, 3.0, 10.0, 30.0):
            o = cross_validate(rows, a)["table"]["overall"]["ours"]
            print(f"alpha={a:g}: median APE {o['median_ape']:.1%}, mean APE "
                  f"{o['mean_ape']:.1%}, coverage {o['coverage80']:.1%}")
    for inputs in INPUTS:
        res = cross_validate(rows, args.alpha, inputs=inputs)
        print(f"\nGrouped {P.CV_FOLDS}-fold CV by source report, {inputs} input, methodology "
              f"{P.METHODOLOGY_VERSION}, ridge alpha {args.alpha:g}, seed {P.CV_SEED}")
        print(format_table(res["table"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
