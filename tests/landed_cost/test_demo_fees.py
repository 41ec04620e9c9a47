"""The demo's landed-cost lines take their fees from the tables: dimensions and categories,
not typed fees, wherever the tables have a card."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from xlplan.landed_cost.action import compute_lines
from xlplan.reference import default_fx, load_rules

DEMO = (
    Path(__file__).parents[2] / "xlplan" / "reference" / "data" / "demo" / "landed_cost_lines.csv"
)


def test_demo_lines_use_the_fee_tables() -> None:
    lines = pd.read_csv(DEMO, dtype=str, keep_default_na=False).replace("", None)
    out = compute_lines(lines, load_rules(date(2026, 11, 15), fx=default_fx())).outputs
    assert (out["error"] == "").all()
    rules = out["fee_rules"].str.split(";")
    amazon = lines["channel"] == "Amazon"
    # Every marketplace line but Shopee Brazil (no Shopee BR table) types no referral rate.
    marketplace = lines["channel"].isin(["Amazon", "TikTok Shop", "Mercado Libre"])
    assert lines.loc[marketplace, "referral_rate"].isna().all()
    assert rules[marketplace].map(lambda r: r[0].startswith("fees_")).all()
    # Amazon US and GB (the marketplaces with an FBA and storage card): all from the tables.
    carded = amazon & lines["market"].isin(["US", "GB"])
    assert carded.sum() == 4
    assert lines.loc[carded, ["last_mile_per_unit", "storage_per_unit"]].isna().all().all()
    assert not rules[carded].map(lambda r: "typed" in r).any()
    assert (out.loc[carded, "size_tier"] != "").all()
    assert (out.loc[carded, "fulfilment_fee"] > 0).all()
    # Every Amazon line gives its category and packed size and weight.
    sized = ["category", "length_cm", "width_cm", "height_cm", "weight_kg"]
    assert lines.loc[amazon, sized].notna().all().all()
