"""Planning UDFs as Excel calls them: 2-D lists with header rows, blanks as None."""

from __future__ import annotations

import pytest

import udfs.planning as udf
from xlplan.planning import sheets as planning_sheets
from xlplan.planning.calc.targets import MONTH_COLUMNS
from xlplan.planning.tables import ACTUALS, MAP_TOTALS, MONTHLY_PLAN, TARGET_LINES, TRACKING
from xlplan.workbook import schema

YI = 100_000_000


def rows(table: schema.Table, frame: object, lang: str = "en") -> list[list[object]]:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    body = frame.reindex(columns=table.keys).astype(object).where(frame.notna(), None)
    return [table.headers(lang), *body.to_numpy().tolist()]


def test_spread_sums_exactly_and_rounds_to_the_unit() -> None:
    (row,) = udf.XLP_SPREAD(100.0, [[1.0, 1.0, 1.0]], 1)
    assert row == [34.0, 33.0, 33.0]
    (row,) = udf.XLP_SPREAD(1_000_000.0, [1, 2, 3, 4], 10_000)
    assert sum(row) == 1_000_000 and all(v % 10_000 == 0 for v in row)


def test_spread_all_zero_weights_is_a_readable_error() -> None:
    (row,) = udf.XLP_SPREAD(100.0, [0.0, 0.0], 1)
    assert row[0].startswith("#XLPLAN!") and " / " in row[0]


def test_phase_follows_the_markets_calendar() -> None:
    (mx,) = udf.XLP_PHASE(12_000_000.0, "MX", 2027, 1)
    assert len(mx) == 12 and sum(mx) == 12_000_000
    assert mx[10] > mx[1]  # November (El Buen Fin) above February
    (sa,) = udf.XLP_PHASE(12_000_000.0, "SA", 2027, 1)
    # Ramadan 1448 starts around 8 Feb 2027: the run-up lifts January/February in Saudi Arabia
    assert max(sa[0], sa[1]) > sa[5]


def test_phase_with_a_launch_month_starts_there() -> None:
    (row,) = udf.XLP_PHASE(1_000_000.0, "BR", 2027, 1, None, 7)
    assert row[:6] == [0.0] * 6 and sum(row) == 1_000_000
    assert row[6] < row[9]  # ramping up


def test_phase_unknown_market_is_an_error_cell() -> None:
    (row,) = udf.XLP_PHASE(100.0, "XX", 2027)
    assert str(row[0]).startswith("#XLPLAN!")


def test_alignment_summary_of_the_worked_example() -> None:
    lines = rows(TARGET_LINES, planning_sheets.sample_target_lines(), "zh")
    block = udf.XLP_ALIGNMENT(lines, 12 * YI, "keep", 10_000, 2027)
    assert block[0] == MAP_TOTALS.headers("zh")
    by_map = {r[0]: r[2] for r in block[1:4]}
    assert by_map == {"business": 3 * YI, "customer": 2.5 * YI, "product": 6.5 * YI}
    labels = {r[0]: r[2] for r in block[4:]}
    assert labels["合计"] == 12 * YI and labels["差距"] == 0 and labels["对齐后合计"] == 12 * YI


def test_alignment_reports_bad_rows_and_the_gap() -> None:
    lines = rows(TARGET_LINES, planning_sheets.sample_target_lines())
    lines[2][0] = "marketing"  # the second line (LATAM new customers, 1.8亿) names no map
    block = udf.XLP_ALIGNMENT(lines, 12 * YI, "pro_rata", 1, 2027)
    texts = [r[0] for r in block if str(r[0]).startswith("#XLPLAN!")]
    assert texts and "row 2" in texts[0]
    gap = next(r[2] for r in block if r[0] == "Gap")
    assert gap == pytest.approx(1.8 * YI)  # the dropped line is the gap
    assert next(r[2] for r in block if r[0] == "Reconciled") == 12 * YI


def test_tracking_and_forecast_blocks() -> None:
    import pandas as pd

    plan = pd.DataFrame([dict(bucket=0, map="business", **{m: 100.0 for m in MONTH_COLUMNS})])
    plan_rows = rows(MONTHLY_PLAN, plan)
    actuals = rows(
        ACTUALS,
        pd.DataFrame(
            [dict(month=1, actual=90.0), dict(month=2, actual=110.0), dict(month=3, actual=80.0)]
        ),
    )
    block = udf.XLP_TRACKING(plan_rows, actuals, 2027)
    assert block[0] == TRACKING.headers("en")
    assert block[1][:4] == [1, 100.0, 90.0, 0.9]
    assert block[3][6] == pytest.approx(280 / 300)
    (header, row) = udf.XLP_FORECAST(plan_rows, actuals, 2027)
    got = dict(zip(header, row, strict=True))
    # YTD 280 + remaining 900 x recent attainment (280 / 300)
    assert got["Forecast"] == pytest.approx(280 + 900 * 280 / 300)
    assert got["Gap to close"] == pytest.approx(1200 - got["Forecast"])
