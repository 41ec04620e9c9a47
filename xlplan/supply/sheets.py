"""How the stock and cash sheets look.

Supply (input): the routes with the live ``XLP_STOCK_PLAN`` block beside them (one row per
route), the SKU mix and the supplier closures. Supply Settings (input): the key/value settings,
the transit modes and the payout cycles, pre-filled with the shipped defaults. Stock Plan and
Cash Plan are sheets XLPlan owns: a run rewrites them whole through :data:`WRITERS`, with their
headline figures, translated flags and native charts; every chart reads cells of its own sheet,
so the sheet carries its charts' data when it is transplanted into a user's file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core.errors import Lang, Message
from xlplan.supply.calc.settings import ClosureKind, SupplySettings
from xlplan.supply.tables import (
    CASH_CURVE,
    CASH_CYCLE,
    CASH_LEVERS,
    CASH_PLAN_SHEET,
    CASH_SUMMARY,
    PAYOUTS,
    PURCHASE_ORDERS,
    STOCK_AT_RISK,
    STOCK_MARKETS,
    STOCK_MONTHS,
    STOCK_PLAN_SHEET,
    STOCK_POSITIONS,
    STOCK_SUMMARY,
    SUPPLIER_CALENDAR,
    SUPPLIER_CLOSURES,
    SUPPLY_ROUTES,
    SUPPLY_SETTING_KEYS,
    SUPPLY_SETTINGS,
    SUPPLY_SETUP_SHEET,
    SUPPLY_SHEET,
    SUPPLY_SKUS,
    TRANSIT_MODES,
)
from xlplan.workbook import charts, render
from xlplan.workbook.catalog import SheetWriter
from xlplan.workbook.render import (
    INPUTS,
    Formats,
    page_setup,
    write_note,
    write_table,
    write_title,
    write_udf_block,
)
from xlplan.workbook.schema import NUMERIC_KINDS, Column, Kind, Table

YES = Message("是", "yes")
NO = Message("否", "no")
ALL = Message("全部", "all")
MEASURES: dict[str, Message] = {
    "units": Message("销量", "Units sold"),
    "arrivals": Message("到货", "Arrivals"),
    "closing": Message("月末库存", "Month-end stock"),
    "cover": Message("可售天数", "Days of cover"),
}
KINDS: dict[str, Message] = {
    ClosureKind.CNY_SHUTDOWN.value: Message("春节停工", "Chinese New Year shutdown"),
    ClosureKind.CNY_RECOVERY.value: Message("春节复工", "New Year restart"),
    ClosureKind.CLOSURE.value: Message("停工/减产", "Closure"),
}
CNY_NOTE = Message("春节（初一 {day}）", "Chinese New Year ({day})")
LEVERS: dict[str, Message] = {
    "plan": Message("按计划", "As planned"),
    "terms": Message("对比付款条件", "Other terms"),
    "sea": Message("全部海运", "All by sea"),
    "air": Message("全部空运", "All by air"),
}
STOCK_COLOUR, COVER_COLOUR, SAFETY_COLOUR = "#A9C4EB", render.NAVY, "#E04B4B"
CASH_COLOUR, TIED_COLOUR = render.NAVY, "#ED7D31"
CHART_PX = 20  # row height in pixels, to size charts in rows


def _words(values: pd.Series, words: Mapping[str, Message], lang: str) -> pd.Series:
    return values.map(lambda v: words[str(v)].text(lang) if str(v) in words else v).astype(object)


def _flag(values: pd.Series, lang: str, *, no: bool = False) -> pd.Series:
    """True -> yes; False -> no (or blank, so the yes rows stand out)."""
    return values.map(
        lambda v: YES.text(lang) if bool(v) else (NO.text(lang) if no else "")
    ).astype(object)


# --------------------------------------------------------------------------------------------
# Input sheets and their starting content
# --------------------------------------------------------------------------------------------


def settings_frame(lang: str, settings: SupplySettings | None = None) -> pd.DataFrame:
    """The Supply Settings rows: every key with its value (the defaults unless given)."""
    values = (settings or SupplySettings()).model_dump()
    return pd.DataFrame(
        {
            "setting": list(SUPPLY_SETTING_KEYS),
            "value": [values[spec.path[0]] for spec in SUPPLY_SETTING_KEYS.values()],
            "label": [spec.label.text(lang) for spec in SUPPLY_SETTING_KEYS.values()],
        }
    )


def transit_frame(on: date) -> pd.DataFrame:
    """The editable transit table a plan starts with: the shipped modes (dated, sourced)."""
    return reference.transit_modes(on)[TRANSIT_MODES.keys].reset_index(drop=True)


def payouts_frame(on: date) -> pd.DataFrame:
    """The editable payout table a plan starts with: the shipped cycles (dated, sourced)."""
    return reference.payout_cycles(on)[PAYOUTS.keys].reset_index(drop=True)


SAMPLE_SKUS: list[tuple[object, ...]] = [
    # sku, product line, market, channel, price [market ccy], share, note -- the worked example
    # of the template: its targets name LATAM and the product lines below
    ("PB-10K", "power banks", "US", "Amazon", 29.99, 0.5, ""),
    ("BN-GAN-CB", "new_bundles", "US", "Amazon", 40.49, 0.2, "charger + cable bundle"),
    ("CH-GAN100", "new_products_bundles", "US", "Amazon", 55.99, 0.3, "new 100W charger"),
    ("PB-10K", "power banks", "DE", "Amazon", 32.99, 0.6, ""),
    ("CH-GAN100", "new_products_bundles", "DE", "Amazon", 57.99, 0.4, "new 100W charger"),
    ("CB-USBC-2M", "cables", "MX", "Mercado Libre", 249.0, 1.0, ""),
]
SAMPLE_ROUTES: list[tuple[object, ...]] = [
    # sku, market, warehouse, supplier, mode, production, transit, receiving, moq, multiple,
    # safety, opening, in transit, arrives, unit cost, cost ccy, deposit, balance days, note
    ("PB-10K", "US", "FBA US", "Shenzhen Power", "sea", 30, None, 10, 5000, 50, 35, 12000,
     5000, "2027-01-20", None, None, None, None, ""),
    ("BN-GAN-CB", "US", "FBA US", "Dongguan GaN", "sea", 30, None, 10, 1000, 40, 35, 45000,
     None, None, 57.5, "CNY", None, None, "kitted at the factory"),
    ("CH-GAN100", "US", "FBA US", "Dongguan GaN", "sea", 25, None, 10, 3000, 60, 35, 80000,
     None, None, 78.0, "CNY", None, None, "new 100W charger"),
    ("PB-10K", "DE", "FBA DE", "Shenzhen Power", "rail", 30, None, 12, 3000, 50, 35, 14000,
     5000, "2027-01-25", None, None, None, None, ""),
    ("CH-GAN100", "DE", "FBA DE", "Dongguan GaN", "sea", 25, None, 12, 3000, 60, 35, 105000,
     None, None, 78.0, "CNY", None, None, ""),
    ("CB-USBC-2M", "MX", "MX 3PL", "Ningbo Cable", "sea", 15, None, 7, 5000, 200, 35, 400000,
     None, None, None, None, 0.0, 30, "net 30 after shipment"),
]  # fmt: skip
SAMPLE_CLOSURES: list[tuple[object, ...]] = [
    ("", "2027-10-01", "2027-10-07", 0.0, "National Day holiday (国庆)"),
]


def sample_skus() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_SKUS, columns=SUPPLY_SKUS.keys)


def sample_routes() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_ROUTES, columns=SUPPLY_ROUTES.keys)


def sample_closures() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_CLOSURES, columns=SUPPLIER_CLOSURES.keys)


@dataclass(frozen=True)
class SupplyFrames:
    """What the two input sheets of a new plan hold (None: the template's example)."""

    skus: pd.DataFrame | None = None
    routes: pd.DataFrame | None = None
    closures: pd.DataFrame | None = None
    settings: SupplySettings | None = None

    def tables(self, lang: str, on: date) -> dict[str, pd.DataFrame]:
        """The input tables by key, as a run reads them."""
        return {
            SUPPLY_SKUS.key: sample_skus() if self.skus is None else self.skus,
            SUPPLY_ROUTES.key: sample_routes() if self.routes is None else self.routes,
            SUPPLIER_CLOSURES.key: sample_closures() if self.closures is None else self.closures,
            SUPPLY_SETTINGS.key: settings_frame(lang, self.settings),
            TRANSIT_MODES.key: transit_frame(on),
            PAYOUTS.key: payouts_frame(on),
        }


STOCK_PLAN_CALL = (
    "XLP_STOCK_PLAN(tblSupplyRoutes[#All],tblSupplySkus[#All],tblMonthlyPlan[#All],"
    "tblSupplierClosures[#All],tblSupplySettings[#All],tblTransitModes[#All],tblFX[#All],"
    "PlanYear,AsOf,tblLandedCost[#All],tblLaunches[#All],tblLandedCostResults[#All])"
)
"""The live block beside the routes: one row per route."""

ROUTE_BLOCK = Table(
    "stock_plan_block",
    "",
    "每条路线的备货结果",
    "Stock plan per route",
    (
        Column("next_order", "下次下单", "Next order", Kind.DATE, width=11),
        Column("next_quantity", "数量", "Quantity", Kind.AMOUNT, "件", "units", width=10),
        Column("first_available", "首批可售", "First available", Kind.DATE, width=11),
        Column("turnover", "周转", "Turnover", Kind.NUMBER, "次/年", "per year", width=9),
        Column(
            "min_cover_days", "最低可售天数", "Lowest cover", Kind.NUMBER, "天", "days", width=10
        ),
        Column(
            "revenue_at_risk",
            "风险收入",
            "Revenue at risk",
            Kind.AMOUNT,
            "报告币种",
            "reporting ccy",
            width=13,
        ),
        Column("error", "错误", "Error", Kind.TEXT, width=40),
    ),
)
"""The columns ``XLP_STOCK_PLAN`` returns, one row per route row."""


def cells_for(table: Table, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """An input table's rows as cells to write: numbers as numbers and dates as dates (a CSV
    read as text would otherwise be written as text, which Excel flags and SUM skips)."""
    if frame is None:
        return None
    out = frame.copy()
    for col in table.columns:
        if col.key not in out.columns:
            continue
        values = out[col.key]
        if col.kind in NUMERIC_KINDS:
            numbers = pd.to_numeric(values, errors="coerce")
            given = values.notna() & values.astype(str).str.strip().ne("")
            if not (given & numbers.isna()).any():  # never lose what someone typed
                out[col.key] = numbers
        elif col.kind is Kind.DATE:
            dates = pd.to_datetime(values, errors="coerce", format="mixed")
            given = values.notna() & values.astype(str).str.strip().ne("")
            if not (given & dates.isna()).any():
                out[col.key] = dates
    return out


def write_supply_sheet(
    wb: Any, fmt: Formats, lang: str, tables: Mapping[str, pd.DataFrame]
) -> dict[str, tuple[str, int]]:
    """The Supply sheet: routes with the live block, then the SKU mix and the closures.
    Returns where each table's header sits (sheet name, 0-based row)."""
    ws = wb.add_worksheet(SUPPLY_SHEET.title(lang))
    write_title(ws, fmt, lang, SUPPLY_SHEET.heading, SUPPLY_SHEET.note)
    where: dict[str, tuple[str, int]] = {}
    top = 8
    inputs = (SUPPLY_ROUTES, SUPPLY_SKUS, SUPPLIER_CLOSURES)
    for i, table in enumerate(inputs):
        ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        if i == 0:
            ws.write_string(top - 3, 2, "■ " + INPUTS.text(lang), fmt.input_legend)
        frame = cells_for(table, tables.get(table.key))
        _, last = write_table(wb, ws, fmt, table, frame, lang, top, 0)
        write_note(ws, fmt, top - 2, 0, table.help(lang), len(table.columns))
        where[table.key] = (ws.get_name(), top)
        if i == 0:
            write_udf_block(
                ws, fmt, lang, len(table.columns) + 1, top, STOCK_PLAN_CALL, ROUTE_BLOCK.columns
            )
        top = max(last, top + 8) + 6
    ws.set_row(where[SUPPLY_ROUTES.key][1], 45)
    ws.freeze_panes(0, 2)
    page_setup(ws, fmt, breaks_before=[len(SUPPLY_ROUTES.columns)])
    return where


def write_supply_setup_sheet(
    wb: Any, fmt: Formats, lang: str, tables: Mapping[str, pd.DataFrame]
) -> dict[str, tuple[str, int]]:
    """The Supply Settings sheet: the settings (key/value), the transit modes, the payouts."""
    ws = wb.add_worksheet(SUPPLY_SETUP_SHEET.title(lang))
    write_title(ws, fmt, lang, SUPPLY_SETUP_SHEET.heading, SUPPLY_SETUP_SHEET.note)
    where: dict[str, tuple[str, int]] = {}
    top = 7
    inputs = (SUPPLY_SETTINGS, TRANSIT_MODES, PAYOUTS)
    for table in inputs:
        ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        _, last = write_table(
            wb,
            ws,
            fmt,
            table,
            tables.get(table.key)
            if table is SUPPLY_SETTINGS
            else cells_for(table, tables.get(table.key)),
            lang,
            top,
            0,
            validation=table is not SUPPLY_SETTINGS,
        )
        write_note(ws, fmt, top - 2, 0, table.help(lang), len(table.columns))
        where[table.key] = (ws.get_name(), top)
        top = last + 6
    page_setup(ws, fmt)
    return where


# --------------------------------------------------------------------------------------------
# Owned sheets: Stock Plan and Cash Plan
# --------------------------------------------------------------------------------------------


@dataclass
class _Placed:
    table: Table
    frame: pd.DataFrame
    header: int
    last: int

    def ref(self, sheet: str, key: str) -> list[object]:
        col = self.table.keys.index(key)
        return [sheet, self.header + 1, col, self.header + max(len(self.frame), 1), col]


def _frames(tables: Sequence[tuple[Table, pd.DataFrame | None]]) -> dict[str, pd.DataFrame]:
    out = {}
    for table, frame in tables:
        out[table.key] = (
            pd.DataFrame(columns=table.keys) if frame is None else frame.reset_index(drop=True)
        )
    return out


def _tiles(
    ws: Any, wb: Any, lang: str, row: int, tiles: Sequence[tuple[Message, object, str, str]]
) -> None:
    """Headline figures: caption above, a big number (or text) below, one per column."""
    tile = {"bg_color": render.OUTPUT_FILL, "align": "center", "valign": "vcenter"}
    caption = wb.add_format(
        {**tile, "font_size": 9, "font_color": render.GREY, "top": 2, "top_color": render.NAVY}
    )
    ws.set_row(row, 16)
    ws.set_row(row + 1, 30)
    for j, (label, value, num, colour) in enumerate(tiles):
        big = wb.add_format(
            {**tile, "bold": True, "font_size": 16, "font_color": colour, "num_format": num}
        )
        ws.write_string(row, j, label.text(lang), caption)
        if value is None or (isinstance(value, float) and pd.isna(value)):
            ws.write_string(row + 1, j, "–", big)
        elif isinstance(value, str):
            ws.write_string(row + 1, j, value, big)
        else:
            ws.write_number(row + 1, j, float(value), big)  # type: ignore[arg-type]


def _sections(
    wb: Any,
    ws: Any,
    fmt: Formats,
    lang: str,
    row: int,
    sections: Sequence[tuple[Table, pd.DataFrame, Message | None, int]],
) -> tuple[dict[str, _Placed], dict[str, int]]:
    """Tables one below the other, each under its title, its note (or what an empty one
    means) and ``gap`` free rows for a chart. Returns where each table sits and the first free
    row under each title (where its chart goes)."""
    placed: dict[str, _Placed] = {}
    free: dict[str, int] = {}
    for table, frame, empty, gap in sections:
        ws.write_string(row, 0, table.title(lang), fmt.section)
        note = table.help(lang) if len(frame) or empty is None else empty.text(lang)
        free[table.key] = row + 2
        header = row + 3 + gap
        _, last = write_table(
            wb, ws, fmt, table, frame if len(frame) else None, lang, header, 0, output=True
        )
        write_note(ws, fmt, row + 1, 0, note, len(table.columns))
        placed[table.key] = _Placed(table, frame, header, last)
        row = last + 3
    return placed, free


def stock_chart(wb: Any, sheet: str, lang: str, p: _Placed, title: str) -> Any:
    """Stock value by month (columns) and days of cover against the safety stock (lines,
    right axis)."""
    header = p.table.column
    return charts.columns_and_lines(
        wb,
        p.ref(sheet, "month"),
        charts.Series(
            header("stock_value").header(lang), p.ref(sheet, "stock_value"), STOCK_COLOUR
        ),
        [
            charts.Series(
                header("cover_days").header(lang),
                p.ref(sheet, "cover_days"),
                COVER_COLOUR,
                markers=True,
            ),
            charts.Series(
                header("safety_days").header(lang),
                p.ref(sheet, "safety_days"),
                SAFETY_COLOUR,
                dash="dash",
            ),
        ],
        title=title,
        y_format=charts.millions(lang),
        y2_name=Message("天", "days").text(lang),
    )


def cash_chart(wb: Any, sheet: str, lang: str, p: _Placed, title: str, peak_text: str) -> Any:
    """Cash at each month-end and the money tied up, its peak labelled."""
    chart = charts.new_chart(wb, "line")
    cats = p.ref(sheet, "month")
    tied = pd.to_numeric(p.frame["tied_up"], errors="coerce").to_numpy(dtype=float)
    peak = int(np.nanargmax(tied)) if np.isfinite(tied).any() else -1
    for key, colour in (("closing", CASH_COLOUR), ("tied_up", TIED_COLOUR)):
        series: dict[str, Any] = {
            "name": p.table.column(key).header(lang),
            "categories": cats,
            "values": p.ref(sheet, key),
            "line": {"color": colour, "width": 2.5},
            "marker": {"type": "none"},
        }
        if key == "tied_up" and peak >= 0:
            series["marker"] = {
                "type": "circle",
                "size": 5,
                "fill": {"color": colour},
                "border": {"color": colour},
            }
            series["data_labels"] = {
                "value": True,
                "position": "above",
                "font": {"bold": True, "color": colour, "size": 9},
                "fill": {"color": "white"},  # readable where the cash line crosses it
                "custom": [{"delete": True}] * peak
                + [{"value": peak_text}]
                + [{"delete": True}] * (len(tied) - peak - 1),
            }
        chart.add_series(series)
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_y_axis(
        {
            "num_format": charts.millions(lang),
            "major_gridlines": {"visible": True, "line": {"color": "#E3E6EC"}},
        }
    )
    chart.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
    return chart


def levers_chart(wb: Any, sheet: str, lang: str, p: _Placed, title: str) -> Any:
    """The peak funding need and the cash at year end of each lever, side by side."""
    chart = charts.new_chart(wb, "bar")
    for key, colour in (("funding_need", TIED_COLOUR), ("closing_cash", CASH_COLOUR)):
        chart.add_series(
            {
                "name": p.table.column(key).header(lang),
                "categories": p.ref(sheet, "lever"),
                "values": p.ref(sheet, key),
                "fill": {"color": colour},
                "gap": 50,
                "data_labels": {
                    "value": True,
                    "num_format": charts.millions(lang),
                    "font": {"size": 8},
                },
            }
        )
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_x_axis(
        {
            "num_format": charts.millions(lang),
            "major_gridlines": {"visible": True, "line": {"color": "#E3E6EC"}},
        }
    )
    chart.set_y_axis({"reverse": True})
    return chart


def _place_chart(ws: Any, chart: Any, row: int, col: int, width: int, rows: int) -> None:
    chart.set_size({"width": width, "height": rows * CHART_PX})
    ws.insert_chart(row, col, chart, {"x_offset": 8, "y_offset": 4, "object_position": 1})


def _m(value: float, lang: str) -> str:
    """47,847,188 -> ``47.8M`` / ``4,785 万``; 0 -> ``0``."""
    if abs(value) < 0.5:
        return "0"
    if Lang(lang) is Lang.ZH:
        return f"{value / 10_000:,.0f} 万"
    return f"{value / 1_000_000:,.1f}M"


PEAK = Message("峰值 ", "peak ")
EMPTY: dict[str, Message] = {
    STOCK_AT_RISK.key: Message(
        "没有：每个月的订单都还来得及下。", "None: every month's order can still be placed."
    ),
    PURCHASE_ORDERS.key: Message(
        "没有采购单：请先运行“目标拆解”，并在“备货参数”填写 SKU 与补货路线。",
        "No orders: run Split first and fill the SKUs and routes on Supply.",
    ),
}


def write_stock_plan_sheet(
    wb: Any, fmt: Formats, tables: Sequence[tuple[Table, pd.DataFrame | None]], lang: str
) -> Any:
    """The Stock Plan: headline figures, stock and cover by month with its chart, the months
    that can no longer be stocked, the purchase orders (those due before Chinese New Year
    marked), turnover by market and SKU, the stock grid and the supplier calendar."""
    ws = wb.add_worksheet(STOCK_PLAN_SHEET.title(lang))
    sheet = ws.get_name()
    write_title(ws, fmt, lang, STOCK_PLAN_SHEET.heading, STOCK_PLAN_SHEET.note)
    ws.hide_gridlines(2)
    given = _frames(tables)
    for table in STOCK_TABLES_SHOWN:
        given.setdefault(table.key, pd.DataFrame(columns=table.keys))
    orders = given[PURCHASE_ORDERS.key]
    risky = given[STOCK_AT_RISK.key]
    markets = given[STOCK_MARKETS.key]
    cny = orders[orders["before_cny"].astype(bool)] if len(orders) else orders
    stock = pd.to_numeric(markets["average_stock_value"], errors="coerce").sum()
    cogs = pd.to_numeric(markets["cogs"], errors="coerce").sum()
    at_risk = float(pd.to_numeric(risky["revenue_at_risk"], errors="coerce").sum())
    _tiles(
        ws,
        wb,
        lang,
        4,
        [
            (Message("采购单", "Purchase orders"), f"{len(orders):,}", "@", render.NAVY),
            (Message("春节前须下单", "Due before CNY"), f"{len(cny):,}", "@", TIED_COLOUR),
            (Message("风险收入", "Revenue at risk"), _m(at_risk, lang), "@", SAFETY_COLOUR),
            (
                Message("库存周转（次/年）", "Turnover / year"),
                f"{cogs / stock:.1f}" if stock else None,
                "@",
                render.NAVY,
            ),
        ],
    )
    shown = {
        STOCK_MONTHS.key: given[STOCK_MONTHS.key],
        PURCHASE_ORDERS.key: orders.assign(before_cny=_flag(orders["before_cny"], lang)),
        STOCK_AT_RISK.key: risky.assign(air_in_time=_flag(risky["air_in_time"], lang, no=True)),
        STOCK_SUMMARY.key: given[STOCK_SUMMARY.key],
        STOCK_MARKETS.key: markets,
        STOCK_POSITIONS.key: given[STOCK_POSITIONS.key].assign(
            measure=_words(given[STOCK_POSITIONS.key]["measure"], MEASURES, lang)
        ),
        SUPPLIER_CALENDAR.key: _calendar_shown(given[SUPPLIER_CALENDAR.key], lang),
    }
    placed, free = _sections(
        wb,
        ws,
        fmt,
        lang,
        8,
        [(t, shown[t.key], EMPTY.get(t.key), 0) for t in STOCK_TABLES_SHOWN],
    )
    months = placed[STOCK_MONTHS.key]
    if len(months.frame):
        title = Message("库存金额与可售天数", "Stock value and days of cover").text(lang)
        chart = stock_chart(wb, sheet, lang, months, title)
        _place_chart(ws, chart, free[STOCK_MONTHS.key] - 2, len(STOCK_MONTHS.columns), 640, 18)
    flag = placed[PURCHASE_ORDERS.key]
    col = PURCHASE_ORDERS.keys.index("before_cny")
    ws.conditional_format(
        flag.header + 1,
        col,
        flag.last,
        col,
        {"type": "cell", "criteria": "==", "value": f'"{YES.text(lang)}"', "format": _amber(wb)},
    )
    ws.freeze_panes(3, 0)
    page_setup(ws, fmt, one_page_wide=True)
    return ws


def _amber(wb: Any) -> Any:
    return wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True})


def _calendar_shown(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    cny = frame["kind"].isin([ClosureKind.CNY_SHUTDOWN.value, ClosureKind.CNY_RECOVERY.value])
    note = frame["note"].fillna("").astype(str)
    note = note.where(~cny, note.map(lambda d: CNY_NOTE.text(lang).format(day=d)))
    supplier = frame["supplier"].fillna("").astype(str)
    return frame.assign(
        kind=_words(frame["kind"], KINDS, lang),
        note=note,
        supplier=supplier.where(supplier != "", ALL.text(lang)),
    )


STOCK_TABLES_SHOWN = (
    STOCK_MONTHS,
    STOCK_AT_RISK,
    PURCHASE_ORDERS,
    STOCK_MARKETS,
    STOCK_SUMMARY,
    STOCK_POSITIONS,
    SUPPLIER_CALENDAR,
)
"""The Stock Plan's sections, top to bottom."""


CASH_SECTIONS = (CASH_CURVE, CASH_LEVERS, CASH_CYCLE, CASH_SUMMARY)
"""The Cash Plan's sections, top to bottom."""
CURVE_CHART_ROWS = 18


def write_cash_plan_sheet(
    wb: Any, fmt: Formats, tables: Sequence[tuple[Table, pd.DataFrame | None]], lang: str
) -> Any:
    """The Cash Plan: headline figures, the monthly curve under its chart (cash and money tied
    up, the funding peak labelled), the levers side by side beside their chart, the cash
    conversion cycle by market, and the plan in one row."""
    ws = wb.add_worksheet(CASH_PLAN_SHEET.title(lang))
    sheet = ws.get_name()
    write_title(ws, fmt, lang, CASH_PLAN_SHEET.heading, CASH_PLAN_SHEET.note)
    ws.hide_gridlines(2)
    given = _frames(tables)
    for table in CASH_SECTIONS:
        given.setdefault(table.key, pd.DataFrame(columns=table.keys))
    summary = given[CASH_SUMMARY.key]
    row = summary.iloc[0] if len(summary) else None

    def amount(key: str) -> str | None:
        value = None if row is None else pd.to_numeric(row[key], errors="coerce")
        return None if value is None or pd.isna(value) else _m(float(value), lang)

    def text_of(key: str, fmt_: str = "{}") -> str | None:
        return None if row is None or pd.isna(row[key]) else fmt_.format(row[key])

    _tiles(
        ws,
        wb,
        lang,
        4,
        [
            (
                Message("资金占用峰值", "Peak funding need"),
                amount("funding_need"),
                "@",
                TIED_COLOUR,
            ),
            (Message("峰值（月末）", "Peak (month-end)"), text_of("peak_month"), "@", TIED_COLOUR),
            (Message("现金最低点", "Lowest cash"), amount("lowest_cash"), "@", CASH_COLOUR),
            (Message("年末资金", "Cash at year end"), amount("closing_cash"), "@", CASH_COLOUR),
            (
                Message("现金周期", "Cash cycle"),
                text_of("ccc_days", Message("{:.0f} 天", "{:.0f} days").text(lang)),
                "@",
                render.NAVY,
            ),
        ],
    )
    cycle = given[CASH_CYCLE.key]
    cycle = cycle.assign(market=cycle["market"].fillna("").replace("", ALL.text(lang)))
    levers = given[CASH_LEVERS.key]
    levers = levers.assign(lever=_words(levers["lever"], LEVERS, lang))
    curve_rows = CURVE_CHART_ROWS if len(given[CASH_CURVE.key]) else 0
    placed, free = _sections(
        wb,
        ws,
        fmt,
        lang,
        8,
        [
            (CASH_CURVE, given[CASH_CURVE.key], None, curve_rows),
            (CASH_LEVERS, levers, None, 0),
            (CASH_CYCLE, cycle, None, 0),
            (CASH_SUMMARY, summary, None, 0),
        ],
    )
    curve = placed[CASH_CURVE.key]
    if len(curve.frame):
        peak = pd.to_numeric(curve.frame["tied_up"], errors="coerce").max()
        chart = cash_chart(
            wb,
            sheet,
            lang,
            curve,
            Message("现金与资金占用（月末）", "Cash and money tied up (month-end)").text(lang),
            PEAK.text(lang) + ("" if pd.isna(peak) else _m(float(peak), lang)),
        )
        _place_chart(ws, chart, free[CASH_CURVE.key], 0, 900, curve_rows)
    lever = placed[CASH_LEVERS.key]
    if len(lever.frame):
        title = Message("两个杠杆对比", "The levers side by side").text(lang)
        chart = levers_chart(wb, sheet, lang, lever, title)
        _place_chart(ws, chart, lever.header - 3, len(CASH_LEVERS.columns), 560, 14)
    ws.freeze_panes(3, 0)
    page_setup(ws, fmt, one_page_wide=True)
    return ws


WRITERS: dict[str, SheetWriter] = {
    STOCK_PLAN_SHEET.key: write_stock_plan_sheet,
    CASH_PLAN_SHEET.key: write_cash_plan_sheet,
}
"""The owned sheets this capability draws itself (flags in words, native charts)."""


def write_supply_sheets(
    wb: Any,
    fmt: Formats,
    lang: str,
    inputs: Mapping[str, pd.DataFrame],
    outputs: Mapping[str, pd.DataFrame],
) -> dict[str, tuple[str, int]]:
    """Every stock and cash sheet of a new plan: the two input sheets with ``inputs`` (tables
    by key, :meth:`SupplyFrames.tables`), the Stock Plan and Cash Plan with ``outputs`` (what a
    run of ``stock`` and ``cash`` wrote; absent tables are drawn empty). Returns where each
    input table's header sits."""
    where = write_supply_sheet(wb, fmt, lang, inputs)
    where.update(write_supply_setup_sheet(wb, fmt, lang, inputs))
    write_stock_plan_sheet(wb, fmt, [(t, outputs.get(t.key)) for t in STOCK_TABLES_SHOWN], lang)
    write_cash_plan_sheet(wb, fmt, [(t, outputs.get(t.key)) for t in CASH_SECTIONS], lang)
    return where
