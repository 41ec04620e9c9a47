"""Checks on the shipped fee tables (``reference/data/fees_*.csv``): every row dated and sourced,
sources known, flags readable, and the loader's dating, peak and override rules."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

import xlplan
from xlplan.reference.fees import FEE_FILES, fee_history, fee_sources, load_fee_tables

DATA = Path(xlplan.__file__).parent / "reference" / "data"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.mark.parametrize("name", sorted(FEE_FILES))
def test_every_row_is_dated_sourced_and_flagged(name: str) -> None:
    frame = fee_history(name)
    assert len(frame) > 0
    known = set(fee_sources()["source_id"])
    for row in frame.itertuples(index=False):
        where = f"{row.rule}"
        assert ISO.match(row.effective_from), where
        assert row.effective_to == "" or ISO.match(row.effective_to), where
        if row.effective_to:
            start = dt.date.fromisoformat(row.effective_from)
            assert dt.date.fromisoformat(row.effective_to) > start, where
        ids = [s for s in row.source.split(";") if s]
        assert ids and set(ids) <= known, where
        assert row.uncertain in ("true", "false"), where
        if row.uncertain == "true":
            assert row.note.strip(), f"{where}: an uncertain row says why"


def test_sources_document_every_fee_file() -> None:
    text = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for file in (*FEE_FILES.values(), "fees_sources.csv"):
        assert file in text


def test_rule_ids_name_the_csv_line() -> None:
    frame = fee_history("referral")
    lines = (DATA / FEE_FILES["referral"]).read_text(encoding="utf-8").splitlines()
    jewelry = frame[(frame["marketplace"] == "US") & (frame["category"] == "Jewelry")]
    number = int(jewelry["rule"].iloc[0].split(":")[1])
    assert lines[number - 1].startswith("US,Jewelry,0,250,")


def test_rows_in_force_follow_the_dates() -> None:
    before = load_fee_tables(dt.date(2026, 4, 16)).surcharges
    after = load_fee_tables(dt.date(2026, 4, 17)).surcharges
    fuel = "fuel_and_logistics"
    assert not (before["surcharge"] == fuel).any()
    assert set(after.loc[after["surcharge"] == fuel, "marketplace"]) == {"US", "CA"}


def test_peak_card_replaces_the_non_peak_card_inside_the_peak() -> None:
    fba = load_fee_tables(dt.date(2025, 11, 1)).fulfilment
    case = fba[(fba["size_tier"] == "small_standard") & (fba["weight_from"] == 0.125)]
    assert case["fee"].tolist() == [3.34]
    assert load_fee_tables(dt.date(2025, 6, 1)).fulfilment.pipe(
        lambda f: f[(f["size_tier"] == "small_standard") & (f["weight_from"] == 0.125)]
    )["fee"].tolist() == [3.15]


def test_workbook_rows_replace_the_shipped_rows_of_their_keys() -> None:
    own = pd.DataFrame(
        {
            "marketplace": ["US"],
            "category": ["*"],
            "price_from": [0],
            "price_to": [None],
            "tier_mode": ["whole"],
            "rate": [0.1],
            "min_fee": [0.3],
            "currency": ["USD"],
            "effective_from": ["2026-01-01"],
            "uncertain": ["false"],
        }
    )
    tables = load_fee_tables(dt.date(2026, 5, 1), {"referral": own})
    us = tables.referral[tables.referral["marketplace"] == "US"]
    everything_else = us[us["category"] == "*"]
    assert everything_else["rate"].tolist() == [0.1]
    assert everything_else["rule"].tolist() == ["workbook"]
    # The other US categories and the other marketplaces keep their shipped rows.
    assert (us["category"] == "Jewelry").sum() == 2
    assert (tables.referral["marketplace"] == "GB").any()
