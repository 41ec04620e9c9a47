"""How the planning sheets look: Alignment with its live ``XLP_ALIGNMENT`` block, Alignment
Result, the Calendar, Monthly Plan, Actuals with its live ``XLP_TRACKING`` block, Tracking; and
the worked example a new example plan starts with (DOMAIN.md's alignment: 12亿 = LATAM 3 +
upsell 2.5 + new products and bundles 6.5)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from xlplan.planning.calc.seasonality import read_calendar_events
from xlplan.planning.tables import (
    ACTUALS,
    ACTUALS_SHEET,
    ALIGNMENT_RESULT_SHEET,
    ALIGNMENT_SHEET,
    BUCKETS,
    CALENDAR_SHEET,
    EVENT_DATES,
    EVENTS,
    FORECAST,
    GAP_DRIVERS,
    LAUNCHES,
    MAP_TOTALS,
    MARKET_ATTAINMENT,
    MONTHLY_PLAN,
    MONTHLY_PLAN_SHEET,
    MONTHLY_TOTAL,
    OVERLAPS,
    TARGET_LINES,
    TRACKING,
    TRACKING_SHEET,
)
from xlplan.workbook.render import Formats, write_tables_sheet, write_udf_block
from xlplan.workbook.schema import Sheet, Table

YI = 100_000_000  # 1 亿 CNY

SAMPLE_TARGET_LINES: list[tuple[object, ...]] = [
    # DOMAIN.md section 1, the worked alignment: 12 亿 = LATAM 3 (existing 1.2 + new 1.8)
    # + existing-customer upsell 2.5 (of which new bundles 1.0) + new products and bundles 6.5.
    (
        "business",
        "市场运营 Market ops",
        "LATAM",
        "",
        "",
        "",
        "existing",
        1.2 * YI,
        1,
        None,
        "LATAM: existing customers expanding",
    ),
    (
        "business",
        "市场运营 Market ops",
        "LATAM",
        "",
        "",
        "",
        "new",
        1.8 * YI,
        1,
        None,
        "LATAM: new customers (Mercado Libre, local warehouse)",
    ),
    (
        "customer",
        "客户成功 Customer success",
        "",
        "",
        "",
        "new_bundles",
        "existing",
        1.0 * YI,
        2,
        None,
        "upsell through new bundles",
    ),
    (
        "customer",
        "客户成功 Customer success",
        "",
        "",
        "",
        "",
        "existing",
        1.5 * YI,
        2,
        None,
        "existing-customer upsell",
    ),
    (
        "product",
        "选品 Product",
        "",
        "",
        "",
        "new_products_bundles",
        "",
        6.5 * YI,
        3,
        None,
        "new products and bundles",
    ),
]

SAMPLE_ACTUALS: list[tuple[object, ...]] = [
    # month, market, channel, tier, category, type, owner, actual
    (1, "LATAM", "", "", "", "existing", "", 7_300_000.0),
    (1, "LATAM", "", "", "", "new", "", 9_100_000.0),
    (1, "", "", "", "", "existing", "", 52_000_000.0),
    (2, "LATAM", "", "", "", "existing", "", 6_900_000.0),
    (2, "LATAM", "", "", "", "new", "", 8_200_000.0),
    (2, "", "", "", "", "existing", "", 47_500_000.0),
    (3, "LATAM", "", "", "", "existing", "", 8_800_000.0),
    (3, "LATAM", "", "", "", "new", "", 12_600_000.0),
    (3, "", "", "", "", "existing", "", 58_000_000.0),
]


def sample_target_lines() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_TARGET_LINES, columns=TARGET_LINES.keys)


def sample_actuals() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_ACTUALS, columns=ACTUALS.keys)


def events_frame() -> pd.DataFrame:
    """The editable events table: the shipped calendar's uplifts."""
    events = read_calendar_events()
    return events[EVENTS.keys].reset_index(drop=True)


def write_planning_sheets(
    wb: Any,
    fmt: Formats,
    lang: str,
    target_lines: pd.DataFrame | None,
    actuals: pd.DataFrame | None,
    launches: pd.DataFrame | None,
) -> None:
    """Alignment, Alignment Result, Calendar, Monthly Plan, Actuals and Tracking; the input
    tables hold the given frames, the output tables are empty until a run."""
    lines, acts = target_lines, actuals
    sheets: list[tuple[Sheet, list[tuple[Table, pd.DataFrame | None]]]] = [
        (ALIGNMENT_SHEET, [(TARGET_LINES, lines)]),
        (ALIGNMENT_RESULT_SHEET, [(MAP_TOTALS, None), (OVERLAPS, None), (BUCKETS, None)]),
        (CALENDAR_SHEET, [(EVENTS, events_frame()), (LAUNCHES, launches)]),
        (MONTHLY_PLAN_SHEET, [(MONTHLY_PLAN, None), (MONTHLY_TOTAL, None), (EVENT_DATES, None)]),
        (ACTUALS_SHEET, [(ACTUALS, acts)]),
        (
            TRACKING_SHEET,
            [(TRACKING, None), (FORECAST, None), (GAP_DRIVERS, None), (MARKET_ATTAINMENT, None)],
        ),
    ]
    for sheet, tables in sheets:
        ws = write_tables_sheet(wb, fmt, sheet, tables, lang, output=sheet.owned)
        if sheet.key in PLANNING_FORMULAS:
            call, block = PLANNING_FORMULAS[sheet.key]
            write_udf_block(ws, fmt, lang, len(tables[0][0].columns) + 1, 5, call, block.columns)


PLANNING_FORMULAS: dict[str, tuple[str, Table]] = {
    "alignment": (
        "XLP_ALIGNMENT(tblTargetLines[#All],CompanyTarget,ReconcileMethod,RoundingUnit,PlanYear)",
        MAP_TOTALS,
    ),
    "actuals": ("XLP_TRACKING(tblMonthlyPlan[#All],tblActuals[#All],PlanYear)", TRACKING),
}
"""Live UDF blocks beside the planning input tables: the call, and the table its block shows."""
