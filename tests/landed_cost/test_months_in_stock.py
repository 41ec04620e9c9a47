"""A blank months in stock takes 12 / the plan's inventory turnover (the KPI raw figures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost.action import turnover_months, with_default_months
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS

RAW = pd.DataFrame(
    {
        "month": ["2026-07", "2026-08", "2026-09", "2026-09", "2026-09"],
        "market": ["US", "US", "US", "MX", "DE"],
        "channel": ["Amazon", "Amazon", "Amazon", "Mercado Libre", ""],
        "cogs": [4_600_000, 4_320_000, 5_080_000, 3_040_000, 2_520_000],
        "average_inventory": [6_730_000, 6_320_000, 7_430_000, 8_110_000, 4_320_000],
        "period_months": [1, 1, 1, 1, None],
    }
)


def test_turnover_is_annualised_cogs_over_average_inventory() -> None:
    got = turnover_months(RAW).set_index(["market", "channel"])
    # US Amazon: 12 x 14.00M / 20.48M = 8.203125 turns a year -> 1.4629 months.
    assert got.loc[("US", "Amazon"), "turnover"] == pytest.approx(8.203125)
    assert got.loc[("US", "Amazon"), "months"] == pytest.approx(12 / 8.203125)
    assert got.loc[("US", ""), "turnover"] == pytest.approx(8.203125)
    assert got.loc[("DE", ""), "turnover"] == pytest.approx(12 * 2.52 / 4.32)  # 7.0
    assert got.loc[("MX", "Mercado Libre"), "turnover"] == pytest.approx(12 * 3.04 / 8.11)
    assert turnover_months(None).empty
    assert turnover_months(RAW.assign(cogs=None)).empty


def test_blank_months_take_the_line_market_and_channel_else_the_market() -> None:
    lines = pd.DataFrame(
        {
            "market": ["US", "DE", "US", "JP", "US"],
            "channel": ["Amazon", "Amazon", "Amazon", "Amazon", "Shopify"],
            "months_in_stock": [None, None, 3, None, None],
        }
    )
    out, notes = with_default_months(lines, turnover_months(RAW))
    months = out["months_in_stock"].to_numpy(dtype=float)
    assert months[0] == pytest.approx(12 / 8.203125)
    assert months[1] == pytest.approx(12 / 7.0)  # DE: the market's figure
    assert months[2] == 3  # typed: kept
    assert np.isnan(months[3])  # JP: no turnover, the fee calculation counts 1 month
    assert np.isnan(months[4])  # not FBA: no storage by the month
    assert len(notes) == 1
    text = notes[0].text("en")
    assert "US Amazon turnover 8.20/yr -> 1.46 months (1 lines)" in text
    assert "DE turnover 7.00/yr -> 1.71 months" in text
    assert "1 other lines count 1 month" in text
    assert "库存周转" in notes[0].text("zh")


def test_amazon_lines_are_found_however_the_channel_is_spelt() -> None:
    # the lines as a table read them: any index, the channel as typed, blanks of every kind
    lines = pd.DataFrame(
        {
            "market": ["US", "US", "US", "US", "US"],
            "channel": [" amazon", "AMAZON", "Amazon.com", None, "Amazon"],
            "months_in_stock": [None, "", None, None, 2.0],
        },
        index=[10, 11, 12, 13, 14],
    )
    out, _ = with_default_months(lines, turnover_months(RAW))
    months = out["months_in_stock"].to_numpy(dtype=float)
    assert months[:2] == pytest.approx([12 / 8.203125] * 2)
    assert np.isnan(months[2]) and np.isnan(months[3])  # not the Amazon channel
    assert months[4] == 2.0
    assert list(out.index) == [10, 11, 12, 13, 14]
    # no months column at all: every Amazon line is blank
    out, notes = with_default_months(lines.drop(columns="months_in_stock"), turnover_months(RAW))
    assert out["months_in_stock"].to_numpy(dtype=float)[:2] == pytest.approx([12 / 8.203125] * 2)
    assert len(notes) == 1


def test_no_turnover_says_one_month_is_counted() -> None:
    lines = pd.DataFrame({"market": ["US"], "channel": ["Amazon"], "months_in_stock": [None]})
    out, notes = with_default_months(lines, turnover_months(None))
    assert out is lines
    assert "blank cells count 1 month" in notes[0].text("en")


def test_run_charges_storage_for_the_turnover_months(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The template's KPI raw figures turn US Amazon stock 8.20 times a year: a 1 cu ft unit
    (large standard)
    with blank months in stock and sell month pays the year's average US standard-size rate
    ((9 x 0.78 + 3 x 2.40) / 12 = US$1.185 per cu ft-month, AMZ-STORAGE-2024) for 12 / 8.203125
    months: US$1.73."""
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    wb = openpyxl.load_workbook(src)
    ws = wb["Landed Cost"]
    first = ws[ws.tables[LANDED_COST.name].ref][1][0].row
    col = {k: i + 1 for i, k in enumerate(LANDED_COST.keys)}
    cells = {  # 18 x 12 x 8 in = 1 cu ft, large standard
        "storage_per_unit": None,
        "months_in_stock": None,
        "sell_month": None,
        "length_cm": 18 * 2.54,
        "width_cm": 12 * 2.54,
        "height_cm": 8 * 2.54,
        "weight_kg": 1.0,
    }
    for key, value in cells.items():
        ws.cell(first, col[key]).value = value
    wb.save(src)
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "--action", "landed_cost", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "US Amazon turnover 8.20/yr -> 1.46 months (1 lines)" in printed
    res = openpyxl.load_workbook(out, data_only=True)["Landed Cost Results"]
    rows = [[c.value for c in r] for r in res[res.tables[LANDED_COST_RESULTS.name].ref]]
    line = dict(zip(LANDED_COST_RESULTS.keys, rows[1], strict=True))
    assert line["size_tier"] == "large_standard"
    assert line["storage_fee"] == pytest.approx(1.73)
