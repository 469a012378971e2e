"""Batch CSV helper: estimate_csv(in_path, out_path) -> report."""

from __future__ import annotations

import csv
import math

from carbon.estimator.api import estimate
from carbon.estimator.device import Device, InvalidDevice

IN_COLUMNS = ("category", "brand", "model", "storage_gb", "ram_gb", "screen_inches",
              "release_year", "weight_kg")
OUT_COLUMNS = (*IN_COLUMNS, "embodied_low_kgco2e", "embodied_kgco2e", "embodied_high_kgco2e",
               "method")
_NUMERIC = ("storage_gb", "ram_gb", "screen_inches", "release_year", "weight_kg")


def _num(field: str, text: str):
    v = float(text)
    if not math.isfinite(v):
        raise ValueError
    if field == "release_year":
        if v != int(v):
            raise ValueError
        return int(v)
    return v


def estimate_csv(in_path, out_path) -> dict:
    """Estimate every row of IN; write OUT. Bad rows are skipped and reported, never dropped
    silently: the report lists ``{"line": n, "errors": {field: [messages]}}`` per bad row."""
    bad: list[dict] = []
    written = 0
    with open(in_path, newline="", encoding="utf-8") as fin, \
            open(out_path, "w", newline="", encoding="utf-8") as fout:
        reader = csv.DictReader(fin)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "category" not in header:
            raise ValueError(f"{in_path}: missing required column 'category'")
        reader.fieldnames = header
        writer = csv.DictWriter(fout, fieldnames=OUT_COLUMNS)
        writer.writeheader()
        for row in reader:
            line = reader.line_num
            vals: dict = {"category": (row.get("category") or "").strip()}
            errors: dict[str, list[str]] = {}
            for f in ("brand", "model"):
                vals[f] = (row.get(f) or "").strip() or None
            for f in _NUMERIC:
                text = (row.get(f) or "").strip()
                if text:
                    try:
                        vals[f] = _num(f, text)
                    except ValueError:
                        errors.setdefault(f, []).append(f"not a valid number: {text!r}")
            if None in row:
                errors.setdefault("row", []).append("more fields than the header")
            if not errors:
                try:
                    est = estimate(Device(**vals))
                except InvalidDevice as exc:
                    errors = exc.errors
            if errors:
                bad.append({"line": line, "errors": errors})
                continue
            out = {c: ("" if row.get(c) is None else row.get(c).strip()) for c in IN_COLUMNS}
            lo, ce, hi = est.embodied
            out.update(embodied_low_kgco2e=f"{lo:.3f}", embodied_kgco2e=f"{ce:.3f}",
                       embodied_high_kgco2e=f"{hi:.3f}", method=est.method)
            writer.writerow(out)
            written += 1
    return {"rows_written": written, "rows_skipped": len(bad), "errors": bad}
