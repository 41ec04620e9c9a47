"""Tracking: attainment, run-rate forecast, gap explanation. Figures worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.planning.calc.tracking import (
    FORECAST_COLUMNS,
    MONTH_COLUMNS,
    attainment,
    explain_gap,
    forecast,
    plan_months,
    validate_actuals,
)

# Monthly plan, wide as xlplan.targets writes it: the same amount every month.
PLAN = pd.DataFrame(
    [
        ("MX", "mercado_libre", *[100.0] * 12),  # 1,200 a year
        ("MX", "amazon", *[50.0] * 12),  # 600
        ("US", "amazon", *[200.0] * 12),  # 2,400
    ],
    columns=["market", "channel", *MONTH_COLUMNS],
)

# Actuals as pasted, January to March 2026.
ACTUALS = pd.DataFrame(
    [
        ("MX", "mercado_libre", "2026-01", 90.0),
        ("MX", "mercado_libre", "2026-02", 80.0),
        ("MX", "mercado_libre", 3, 70.0),  # 240 vs 300: -60
        ("MX", "amazon", 1, 60.0),
        ("MX", "amazon", 2, 60.0),
        ("MX", "amazon", dt.date(2026, 3, 31), 60.0),  # 180 vs 150: +30
        ("US", "amazon", 1, 200.0),
        ("US", "amazon", 2, 110.0),
        ("US", "amazon", 2, 100.0),  # two lines for February add up
        ("US", "amazon", 3, 190.0),  # 600 vs 600
    ],
    columns=["market", "channel", "month", "actual"],
)


def test_attainment_per_month_and_ytd() -> None:
    table, errors = attainment(PLAN, ACTUALS, 2026)
    assert errors.empty
    march = table.set_index("month").loc[3]
    assert march["plan"] == 350
    assert march["actual"] == 320  # 70 + 60 + 190
    assert march["attainment"] == pytest.approx(320 / 350)
    assert march["ytd_plan"] == 1050
    assert march["ytd_actual"] == 1020
    assert march["ytd_attainment"] == pytest.approx(1020 / 1050)
    assert table.loc[table["month"] > 3, "actual"].isna().all()


def test_attainment_by_market() -> None:
    table, _ = attainment(PLAN, ACTUALS, 2026, by=["market"])
    ytd = table[table["month"] == 3].set_index("market")["ytd_attainment"]
    assert ytd.to_dict() == pytest.approx({"MX": 420 / 450, "US": 1.0})


def test_run_rate_forecast_by_hand() -> None:
    table, _ = forecast(PLAN, ACTUALS, 2026, window=2)
    row = table.iloc[0]
    # recent = Feb + Mar: plan 700, actual 350 + 320 = 670
    assert row["recent_attainment"] == pytest.approx(670 / 700)
    # 1,020 + 9 x 350 x 670/700 = 1,020 + 3,015
    assert row["forecast"] == pytest.approx(4035)
    assert row["gap_to_close"] == pytest.approx(165)
    assert row["needed_per_month"] == 353  # (4,200 - 1,020) / 9 = 353.33, to the whole yuan
    assert row["forecast_attainment"] == pytest.approx(4035 / 4200)
    assert list(table.columns) == FORECAST_COLUMNS


def test_forecast_by_market_with_default_window() -> None:
    table, _ = forecast(PLAN, ACTUALS, 2026, by=["market"])
    mx = table.set_index("market").loc["MX"]
    # window 3 = Jan-Mar: 420 / 450; 420 + 9 x 150 x 420/450 = 420 + 1,260
    assert mx["forecast"] == pytest.approx(1680)
    assert mx["gap_to_close"] == pytest.approx(120)


def test_forecast_before_any_actual_is_the_plan() -> None:
    table, _ = forecast(PLAN, ACTUALS.iloc[:0], 2026)
    assert table["forecast"].item() == 4200
    assert table["recent_attainment"].item() == 1.0
    assert np.isnan(table["ytd_attainment"].item())


def test_explain_gap_ranks_the_slices() -> None:
    table, _ = explain_gap(PLAN, ACTUALS, 2026)
    rows = table[["dimension", "value", "variance", "share_of_gap", "rank"]].to_numpy().tolist()
    # total variance -30: behind, so the biggest shortfall ranks first
    assert rows == [
        ["market", "MX", -30.0, 1.0, 1],
        ["market", "US", 0.0, 0.0, 2],
        ["channel", "mercado_libre", -60.0, 2.0, 1],
        ["channel", "amazon", 30.0, -1.0, 2],
    ]


def test_explain_gap_top_one() -> None:
    table, _ = explain_gap(PLAN, ACTUALS, 2026, dimensions=["channel"], top=1)
    assert table["value"].tolist() == ["mercado_libre"]


def test_months_outside_the_plan_year_are_records_and_left_out() -> None:
    stray = pd.DataFrame(
        [("MX", "mercado_libre", "2025-12", 999.0), ("MX", "mercado_libre", "soon", 1.0)],
        columns=["market", "channel", "month", "actual"],
    )
    table, errors = attainment(PLAN, pd.concat([ACTUALS, stray], ignore_index=True), 2026)
    assert table["actual"].sum() == 1020
    assert errors[["table", "row", "column"]].to_numpy().tolist() == [
        ["actuals", 10, "month"],
        ["actuals", 11, "month"],
    ]
    assert errors["en"].tolist() == [
        "month 2025-12 is outside the plan year 2026",
        "not a month of the plan year: soon",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, 1),
        ("12", 12),
        ("2026-07", 7),
        ("2026/07/15", 7),
        (pd.Timestamp("2026-02-28"), 2),
        (13, None),
        (0, None),
        ("2027-01", None),
    ],
)
def test_plan_months(raw: object, expected: int | None) -> None:
    months, errors = plan_months(pd.Series([raw], dtype=object), 2026)
    if expected is None:
        assert months.isna().all()
        assert len(errors) == 1
    else:
        assert months.tolist() == [expected]
        assert errors.empty


def test_validate_actuals() -> None:
    actuals = pd.DataFrame(
        [("MX", 1, 10.0), ("ZZ", 2, 10.0), ("US", 2, "n/a")],
        columns=["market", "month", "actual"],
    )
    errors = validate_actuals(actuals, 2026, markets=["MX", "US"])
    assert errors[["row", "column"]].to_numpy().tolist() == [[1, "market"], [2, "actual"]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 5e7), min_size=12, max_size=12),
    st.lists(st.floats(0, 6e7), min_size=1, max_size=11),
    st.sampled_from([1.0, 100.0, 10_000.0, 1_000_000.0]),
)
def test_forecast_follows_the_rounding_unit(
    plan_months_: list[float], actual_months: list[float], unit: float
) -> None:
    """Issue 11: a forecast of 337,036,001 with a rounding unit of 10,000. The forecast and
    what each open month needs are whole units, and the gap is plan minus the forecast shown."""
    plan = pd.DataFrame([("MX", *plan_months_)], columns=["market", *MONTH_COLUMNS])
    actuals = pd.DataFrame(
        [("MX", m, a) for m, a in enumerate(actual_months, start=1)],
        columns=["market", "month", "actual"],
    )
    table, _ = forecast(plan, actuals, 2026, unit=unit)
    row = table.iloc[0]
    assert row["forecast"] % unit == 0
    assert row["needed_per_month"] % unit == 0
    assert row["gap_to_close"] == row["full_year_plan"] - row["forecast"]
