import csv

from carbon.estimator import estimate_csv
from carbon.estimator.cv import cross_validate


def test_estimate_csv_reports_bad_rows(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "category,brand,model,storage_gb,ram_gb,screen_inches,release_year,weight_kg\n"
        "smartphone,Apple,iPhone 13 Pro,256,,,,\n"
        "toaster,Acme,T1,,,,,\n"
        "laptop,Dell,Latitude 5420,,,,,\n"
        "smartphone,Apple,iPhone 8,abc,,,,\n"
        "console,,,,,,,\n"
    )
    out = tmp_path / "out.csv"
    report = estimate_csv(src, out)
    assert report["rows_written"] == 3
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert "category" in report["errors"][0]["errors"]
    assert "storage_gb" in report["errors"][1]["errors"]
    rows = list(csv.DictReader(out.open()))
    assert [r["method"] for r in rows] == ["reference", "reference", "category-default"]
    assert float(rows[0]["embodied_low_kgco2e"]) <= float(rows[0]["embodied_kgco2e"])


def test_grouped_cv_thresholds():
    overall = cross_validate()["table"]["overall"]
    assert overall["ours"]["median_ape"] <= 0.15
    assert overall["ours"]["mean_ape"] <= 0.22
    assert 0.75 <= overall["ours"]["coverage80"] <= 0.85
    assert overall["flat"]["median_ape"] > overall["ours"]["median_ape"]
