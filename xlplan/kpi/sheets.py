"""Template writers for the KPI, KPI Raw, KPI Flags and Dashboard sheets.

The input sheets (KPI, KPI Raw) are written only into templates. KPI Flags and Dashboard are
sheets XLPlan owns: a headless run rewrites them whole through the writers their Sheet
declarations name (:func:`write_kpi_flags_sheet`, :func:`write_dashboard_sheet`), with their
conditional formats and native charts. Every chart reads cells of the Dashboard itself, so the
sheet carries its charts' data when it is transplanted into a user's file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlplan.core import units
from xlplan.core.errors import Lang, Message
from xlplan.kpi.calc import weighted_margin
from xlplan.kpi.tables import (
    DASH_CASH,
    DASH_KPI_COUNTS,
    DASH_KPIS,
    DASH_MARKETS,
    DASH_MONTHS,
    DASH_STOCK,
    DASH_WATERFALL,
    KPI_FLAGS,
    KPI_RAW,
    KPI_SHEETS,
    KPI_THRESHOLDS,
    KPI_VALUES,
)
from xlplan.workbook import charts, render
from xlplan.workbook.catalog import SheetWriter
from xlplan.workbook.render import Formats, page_setup, write_table, write_title
from xlplan.workbook.schema import Table

SHEET = {s.key: s for s in KPI_SHEETS}

GREEN_FILL, GREEN_TEXT = "#C6EFCE", "#006100"
AMBER_FILL, AMBER_TEXT = "#FFEB9C", "#9C5700"
RED_FILL, RED_TEXT = "#FFC7CE", "#9C0006"
CHECK_FILL, CHECK_TEXT = "#E4DFEC", "#5B3F86"  # not a health colour: the figure itself is in doubt
GREY_FILL, GREY_TEXT = "#E7E6E6", "#595959"
PLAN_COLOUR, ACTUAL_COLOUR = "#A9C4EB", render.NAVY
TIED_COLOUR = "#ED7D31"
FLAG_WORDS: dict[str, tuple[Message, str, str]] = {
    # flag: its word, fill, text colour
    "green": (Message("绿", "green"), GREEN_FILL, GREEN_TEXT),
    "amber": (Message("黄", "amber"), AMBER_FILL, AMBER_TEXT),
    "red": (Message("红", "red"), RED_FILL, RED_TEXT),
    "check": (Message("请核实", "check"), CHECK_FILL, CHECK_TEXT),
    "no_data": (Message("无数据", "no data"), GREY_FILL, GREY_TEXT),
}
UNIT_FORMATS = {
    "fraction": "0.0%",
    "CNY": "#,##0",
    "per_year": "0.0",
    "days": "0.0",
    "ratio": "0.00",
}
STEP_LABELS: dict[str, Message] = {
    "net_price": Message("净售价", "Net price"),
    "landed_cost": Message("落地成本", "Landed cost"),
    "platform_fees": Message("平台与支付费", "Platform fees"),
    "fulfilment": Message("履约", "Fulfilment"),
    "returns": Message("退货与丢件", "Returns, lost"),
    "ads": Message("广告", "Ads"),
    "fx_loss": Message("汇损", "FX loss"),
    "other": Message("其他", "Other"),
    "contribution": Message("贡献利润", "Contribution"),
}
NO_MARKET = Message("未分市场", "(no market)")
TABLE_COLS = 6  # Dashboard tables sit in A:F (the flag counts are six wide), charts from H
CHART_COL = 7
CHART_WIDTH, ROW_PX = 600, 20


def _title(ws: Any, fmt: Formats, lang: str, sheet_key: str) -> None:
    write_title(ws, fmt, lang, SHEET[sheet_key].heading, SHEET[sheet_key].note)


def _flag_formats(ws: Any, wb: Any, col: int, first: int, last: int) -> None:
    """Fill a flag column by its value, in either language."""
    ref = render.cell_ref(first, col, col_abs=True)
    for word, fill, text in FLAG_WORDS.values():
        cell = wb.add_format({"bg_color": fill, "font_color": text, "bold": True})
        words = {word.zh, word.en, word.en.replace(" ", "_")}
        test = ",".join(f'{ref}="{w}"' for w in sorted(words))
        ws.conditional_format(
            first, col, last, col, {"type": "formula", "criteria": f"=OR({test})", "format": cell}
        )


def _unit_formats(
    ws: Any, wb: Any, cols: Sequence[int], unit_col: int, first: int, last: int
) -> None:
    """Show each figure in its KPI's unit: 12.5% for a fraction, 1,200 for CNY."""
    ref = render.cell_ref(first, unit_col, col_abs=True)
    for unit, num_format in UNIT_FORMATS.items():
        cell = wb.add_format({"num_format": num_format})
        for col in cols:
            ws.conditional_format(
                first,
                col,
                last,
                col,
                {"type": "formula", "criteria": f'={ref}="{unit}"', "format": cell},
            )


def _flag_words(flags: pd.Series, lang: str) -> pd.Series:
    words = {k: word.text(lang) for k, (word, _, _) in FLAG_WORDS.items()}
    return flags.map(lambda f: words.get(str(f), f)).astype(object)


def _view(table: Table, keep: Sequence[str]) -> Table:
    """The same Excel table with a language's columns only (``name_zh`` or ``name_en``...)."""
    cols = tuple(table.column(k) for k in keep)
    return Table(table.key, table.name, table.zh, table.en, cols, sheet=table.sheet)


# --- KPI Flags ----------------------------------------------------------------------------


def _flags_view(lang: str) -> Table:
    """KPI Flags in ``lang``: that language's KPI name; both reasons, that language's first."""
    own_lang = Lang(lang)
    name, own, other = (
        f"name_{own_lang.value}",
        f"reason_{own_lang.value}",
        f"reason_{own_lang.other.value}",
    )
    keys = [k for k in KPI_FLAGS.keys if k not in ("name_zh", "name_en", "reason_zh", "reason_en")]
    at = keys.index("kpi") + 1
    keys[at:at] = [name]
    at = keys.index("red") + 1
    keys[at:at] = [own, other]
    return _view(KPI_FLAGS, keys)


def write_kpi_flags_sheet(
    wb: Any, fmt: Formats, tables: Sequence[tuple[Table, pd.DataFrame | None]], lang: str
) -> Any:
    """The KPI Flags sheet: every figure with its flag (filled by colour) and reason."""
    frame = dict((t.key, f) for t, f in tables).get(KPI_FLAGS.key)
    ws = wb.add_worksheet(SHEET["kpi_flags"].title(lang))
    _title(ws, fmt, lang, "kpi_flags")
    view = _flags_view(lang)
    shown = None
    if frame is not None:
        shown = frame.assign(flag=_flag_words(frame["flag"], lang))
    top = 5
    _, last = write_table(wb, ws, fmt, view, shown, lang, top, 0, output=True)
    keys = view.keys
    end = max(last, top + render.FIRST_DATA_ROWS)
    _flag_formats(ws, wb, keys.index("flag"), top + 1, end)
    first_reason = keys.index("red") + 1
    fmt.fit_column(ws, first_reason, 80 if lang == "en" else 44)  # en runs longer
    fmt.fit_column(ws, first_reason + 1, 44 if lang == "en" else 80)
    _unit_formats(
        ws,
        wb,
        [keys.index(k) for k in ("value", "green", "red")],
        keys.index("unit"),
        top + 1,
        end,
    )
    ws.freeze_panes(top + 1, 0)
    page_setup(ws, fmt, header_row=top)
    return ws


# --- Dashboard ----------------------------------------------------------------------------


@dataclass
class _Placed:
    table: Table
    frame: pd.DataFrame
    header: int  # 0-based header row
    last: int  # 0-based last data row

    @property
    def rows(self) -> int:
        return len(self.frame)

    def ref(self, sheet: str, key: str) -> list[object]:
        col = self.table.keys.index(key)
        return [sheet, self.header + 1, col, self.header + max(self.rows, 1), col]


def _dashboard_frames(
    tables: Sequence[tuple[Table, pd.DataFrame | None]], lang: str
) -> dict[str, tuple[Table, pd.DataFrame]]:
    """Each Dashboard table as shown in ``lang``: month names, step labels, one language's
    KPI names and reasons, flags in words."""
    given = {t.key: f for t, f in tables}

    def frame(table: Table) -> pd.DataFrame:
        f = given.get(table.key)
        return pd.DataFrame(columns=table.keys) if f is None else f.reset_index(drop=True)

    months_names = [m.text(lang) for m in units.MONTHS]
    months = frame(DASH_MONTHS)
    if len(months):
        numbers = pd.to_numeric(months["month"], errors="coerce")
        months = months.assign(
            month=[
                months_names[int(m) - 1] if pd.notna(m) and 1 <= m <= 12 else str(m)
                for m in numbers
            ]
        )
    no_market = NO_MARKET.text(lang)
    markets = frame(DASH_MARKETS)
    markets = markets.assign(market=markets["market"].fillna("").replace("", no_market))
    counts = frame(DASH_KPI_COUNTS)
    counts = counts.assign(market=counts["market"].fillna("").replace("", no_market))
    kpis = frame(DASH_KPIS)
    kpis = kpis.assign(
        market=kpis["market"].fillna("").replace("", no_market),
        flag=_flag_words(kpis["flag"], lang),
    )
    name, reason = f"name_{Lang(lang).value}", f"reason_{Lang(lang).value}"
    kpi_view = _view(DASH_KPIS, ["market", "month", name, "flag", reason])
    waterfall = frame(DASH_WATERFALL)
    waterfall = waterfall.assign(
        step=[
            STEP_LABELS.get(str(s), Message(str(s), str(s))).text(lang) for s in waterfall["step"]
        ]
    )
    return {
        DASH_MONTHS.key: (DASH_MONTHS, months),
        DASH_MARKETS.key: (DASH_MARKETS, markets),
        DASH_KPI_COUNTS.key: (DASH_KPI_COUNTS, counts),
        DASH_KPIS.key: (kpi_view, kpis),
        # the line's name is in the chart's title; the column would only repeat it
        DASH_WATERFALL.key: (_view(DASH_WATERFALL, ["step", "amount", "base", "bar"]), waterfall),
        DASH_STOCK.key: (DASH_STOCK, frame(DASH_STOCK)),
        DASH_CASH.key: (DASH_CASH, frame(DASH_CASH)),
    }


EMPTY_NOTES: dict[str, Message] = {
    DASH_MONTHS.key: Message(
        "先运行“月度跟踪”（需要月度拆解与实际数据）。",
        "Run Track actuals first (needs the Monthly Plan and Actuals).",
    ),
    DASH_MARKETS.key: Message(
        "需要“月度拆解”与“实际数据”中按市场填写的实际销售。",
        "Needs the Monthly Plan and actual sales by market on Actuals.",
    ),
    DASH_KPI_COUNTS.key: Message(
        "在“KPI 数据”或“KPI 原始数据”表填写数值。",
        "Enter figures on the KPI or KPI Raw sheet.",
    ),
    DASH_KPIS.key: Message("全部绿灯。", "All green."),
    DASH_WATERFALL.key: Message(
        "先运行“落地成本”；设置表 dashboard_line 可指定 SKU 或行号。",
        "Run Landed cost first; Settings dashboard_line picks a SKU or row number.",
    ),
    DASH_STOCK.key: Message(
        "先运行“备货计划”（需要月度拆解与“备货参数”的 SKU 和补货路线）。",
        "Run Stock plan first (needs the Monthly Plan and the SKUs and routes on Supply).",
    ),
    DASH_CASH.key: Message(
        "先运行“资金计划”（需要备货计划与落地成本结果）。",
        "Run Cash plan first (needs the stock plan and the Landed Cost Results).",
    ),
}


def _headline(
    ws: Any, wb: Any, fmt: Formats, lang: str, frames: dict[str, tuple[Table, pd.DataFrame]]
) -> None:
    """Six figures a manager reads first, in tiles above the charts (the fifth: the cash plan's
    peak funding need; the last: figures that look implausible, to verify before trusting the
    rest)."""
    months = frames[DASH_MONTHS.key][1]
    closed = (
        months[pd.to_numeric(months["actual"], errors="coerce").notna()] if len(months) else months
    )
    plan = pd.to_numeric(closed["plan"], errors="coerce").sum() if len(closed) else 0.0
    actual = pd.to_numeric(closed["actual"], errors="coerce").sum() if len(closed) else 0.0
    counts = frames[DASH_KPI_COUNTS.key][1]
    margin = weighted_margin(frames[DASH_MARKETS.key][1])
    tiles: list[tuple[Message, float | int | None, str, str]] = [
        (
            Message("累计达成率", "YTD attainment"),
            actual / plan if plan else None,
            "0.0%",
            render.NAVY,
        ),
        (
            Message("红灯 KPI", "Red KPIs"),
            int(pd.to_numeric(counts["red"]).sum()) if len(counts) else None,
            "0",
            RED_TEXT,
        ),
        (
            Message("黄灯 KPI", "Amber KPIs"),
            int(pd.to_numeric(counts["amber"]).sum()) if len(counts) else None,
            "0",
            AMBER_TEXT,
        ),
        (Message("计划加权利润率", "Plan-weighted margin"), margin, "0.0%", render.NAVY),
        (Message("资金占用峰值", "Peak funding need"), _peak(frames), '#,##0,,"M"', TIED_COLOUR),
        (
            Message("待核实 KPI", "KPIs to check"),
            int(pd.to_numeric(counts["check"]).sum())
            if "check" in counts and len(counts)
            else None,
            "0",
            CHECK_TEXT,
        ),
    ]
    tile = {"bg_color": render.OUTPUT_FILL, "align": "center", "valign": "vcenter"}
    label = wb.add_format(
        {**tile, "font_size": 9, "font_color": render.GREY, "top": 2, "top_color": render.NAVY}
    )
    ws.set_row(4, 16)
    ws.set_row(5, 30)
    for j, (caption, value, num, colour) in enumerate(tiles):
        big = wb.add_format(
            {**tile, "bold": True, "font_size": 18, "font_color": colour, "num_format": num}
        )
        ws.write_string(4, j, caption.text(lang), label)
        if value is None:
            ws.write_string(5, j, "–", big)
        else:
            ws.write_number(5, j, float(value), big)


def _peak(frames: dict[str, tuple[Table, pd.DataFrame]]) -> float | None:
    """The highest money tied up at a month-end of the cash plan [reporting ccy]."""
    cash = frames[DASH_CASH.key][1]
    tied = pd.to_numeric(cash["tied_up"], errors="coerce") if len(cash) else pd.Series(dtype=float)
    return float(tied.max()) if tied.notna().any() else None


def _months_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    chart = charts.new_chart(wb, "column")
    cats = p.ref(sheet, "month")
    for key, colour in (("plan", PLAN_COLOUR), ("actual", ACTUAL_COLOUR)):
        chart.add_series(
            {
                "name": p.table.column(key).header(lang),
                "categories": cats,
                "values": p.ref(sheet, key),
                "fill": {"color": colour},
                "gap": 60,
            }
        )
    chart.set_title({"name": p.table.title(lang), "name_font": {"size": 11}})
    chart.set_y_axis(
        {
            "num_format": '#,##0,,"M"' if lang == "en" else '0,,"M"',
            "major_gridlines": {"visible": True, "line": {"color": "#E3E6EC"}},
        }
    )
    return chart


def _markets_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    chart = charts.new_chart(wb, "bar")
    chart.add_series(
        {
            "name": p.table.column("attainment").header(lang),
            "categories": p.ref(sheet, "market"),
            "values": p.ref(sheet, "attainment"),
            "fill": {"color": ACTUAL_COLOUR},
            "data_labels": {"value": True, "num_format": "0%"},
            "gap": 80,
        }
    )
    chart.set_title({"name": p.table.title(lang), "name_font": {"size": 11}})
    top = pd.to_numeric(p.frame["attainment"], errors="coerce").max()
    high = max(1.0, float(np.ceil((0.0 if pd.isna(top) else top) * 5) / 5))
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": high, "major_unit": 0.2})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    return chart


def _counts_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    chart = charts.new_chart(wb, "bar", "stacked")
    colour = {
        "green": "#70AD47",
        "amber": "#FFC000",
        "red": "#E04B4B",
        "check": "#8064A2",
        "no_data": "#BFBFBF",
    }
    for key in ("green", "amber", "red", "check", "no_data"):
        chart.add_series(
            {
                "name": p.table.column(key).header(lang),
                "categories": p.ref(sheet, "market"),
                "values": p.ref(sheet, key),
                "fill": {"color": colour[key]},
                "border": {"color": "#FFFFFF"},
                "gap": 60,
            }
        )
    chart.set_title({"name": p.table.title(lang), "name_font": {"size": 11}})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"major_unit": 1, "min": 0})
    return chart


def _waterfall_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    chart = charts.new_chart(wb, "column", "stacked")
    cats = p.ref(sheet, "step")
    chart.add_series(
        {
            "name": "base",
            "categories": cats,
            "values": p.ref(sheet, "base"),
            "fill": {"none": True},
            "border": {"none": True},
        }
    )
    col = p.table.keys.index("amount")
    amounts = [
        f"'{sheet}'!{render.cell_ref(p.header + 1 + i, col, True, True)}" for i in range(p.rows)
    ]
    points = []
    for i, amount in enumerate(pd.to_numeric(p.frame["amount"], errors="coerce")):
        edge = i == 0 or i == p.rows - 1
        colour = render.NAVY if edge and amount >= 0 else ("#E04B4B" if amount < 0 else "#70AD47")
        points.append({"fill": {"color": colour}})
    chart.add_series(
        {
            "name": p.table.column("amount").header(lang),
            "categories": cats,
            "values": p.ref(sheet, "bar"),
            "points": points,
            "gap": 40,
            "data_labels": {
                "value": True,
                "position": "inside_end",
                "custom": [{"value": f"={a}"} for a in amounts],
            },
        }
    )
    line = str(p.frame["line"].iloc[0]) if p.rows and "line" in p.frame.columns else ""
    title = p.table.title(lang) + (f": {line}" if line else "")
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_font": {"size": 8}})
    return chart


def _stock_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    """Stock value by month (columns) and days of cover against the safety stock (lines,
    right axis)."""
    header = p.table.column
    return charts.columns_and_lines(
        wb,
        p.ref(sheet, "month"),
        charts.Series(header("stock_value").header(lang), p.ref(sheet, "stock_value"), PLAN_COLOUR),
        [
            charts.Series(
                header("cover_days").header(lang), p.ref(sheet, "cover_days"), ACTUAL_COLOUR
            ),
            charts.Series(
                header("safety_days").header(lang),
                p.ref(sheet, "safety_days"),
                RED_TEXT,
                dash="dash",
            ),
        ],
        title=p.table.title(lang),
        y_format='#,##0.0,,"M"',
        y2_name=Message("天", "days").text(lang),
    )


def _cash_chart(wb: Any, sheet: str, lang: str, p: _Placed) -> Any:
    """Cash and money tied up at each month-end; the funding peak labelled."""
    chart = charts.new_chart(wb, "line")
    cats = p.ref(sheet, "month")
    tied = pd.to_numeric(p.frame["tied_up"], errors="coerce").to_numpy(dtype=float)
    peak = int(np.nanargmax(tied)) if np.isfinite(tied).any() else -1
    for key, colour in (("closing", ACTUAL_COLOUR), ("tied_up", TIED_COLOUR)):
        series: dict[str, Any] = {
            "name": p.table.column(key).header(lang),
            "categories": cats,
            "values": p.ref(sheet, key),
            "line": {"color": colour, "width": 2.5},
            "marker": {"type": "none"},
        }
        if key == "tied_up" and peak >= 0:
            text = PEAK.text(lang) + f"{tied[peak] / 1e6:,.1f}M"
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
                + [{"value": text}]
                + [{"delete": True}] * (len(tied) - peak - 1),
            }
        chart.add_series(series)
    chart.set_title({"name": p.table.title(lang), "name_font": {"size": 11}})
    chart.set_y_axis(
        {
            "num_format": '#,##0,,"M"',
            "major_gridlines": {"visible": True, "line": {"color": "#E3E6EC"}},
        }
    )
    chart.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
    return chart


PEAK = Message("峰值 ", "peak ")
CHARTS: dict[str, Callable[[Any, str, str, _Placed], Any]] = {
    DASH_MONTHS.key: _months_chart,
    DASH_MARKETS.key: _markets_chart,
    DASH_KPI_COUNTS.key: _counts_chart,
    DASH_WATERFALL.key: _waterfall_chart,
    DASH_STOCK.key: _stock_chart,
    DASH_CASH.key: _cash_chart,
}
CHART_ROWS = {
    DASH_MONTHS.key: 15,
    DASH_MARKETS.key: 12,
    DASH_KPI_COUNTS.key: 12,
    DASH_WATERFALL.key: 16,
    DASH_STOCK.key: 16,
    DASH_CASH.key: 16,
}
PAGE_BREAK_BEFORE = (DASH_KPI_COUNTS.key, DASH_WATERFALL.key, DASH_STOCK.key)
SECTION_ORDER = (
    DASH_MONTHS.key,
    DASH_MARKETS.key,
    DASH_KPI_COUNTS.key,
    DASH_KPIS.key,
    DASH_WATERFALL.key,
    DASH_STOCK.key,
    DASH_CASH.key,
)


def write_dashboard_sheet(
    wb: Any, fmt: Formats, tables: Sequence[tuple[Table, pd.DataFrame | None]], lang: str
) -> Any:
    """The Dashboard: headline tiles, then one section per table with its chart beside it."""
    ws = wb.add_worksheet(SHEET["dashboard"].title(lang))
    sheet = ws.get_name()
    _title(ws, fmt, lang, "dashboard")
    ws.hide_gridlines(2)
    frames = _dashboard_frames(tables, lang)
    _headline(ws, wb, fmt, lang, frames)
    row = 8
    breaks = []
    for key in SECTION_ORDER:
        if key in PAGE_BREAK_BEFORE:
            breaks.append(row - 1)
        table, frame = frames[key]
        ws.write_string(row, 0, table.title(lang), fmt.section)
        if frame.empty:
            ws.write_string(row + 1, 0, EMPTY_NOTES[key].text(lang), fmt.note)
        header = row + 3
        _, last = write_table(
            wb, ws, fmt, table, frame if len(frame) else None, lang, header, 0, output=True
        )
        placed = _Placed(table, frame, header, last)
        end = last
        if key == DASH_KPIS.key:
            _flag_formats(ws, wb, table.keys.index("flag"), header + 1, last)
        chart_of = CHARTS.get(key)
        if chart_of is not None and len(frame):
            height = max(CHART_ROWS[key], last - row + 1)
            chart = chart_of(wb, sheet, lang, placed)
            chart.set_size({"width": CHART_WIDTH, "height": height * ROW_PX})
            ws.insert_chart(
                row, CHART_COL, chart, {"x_offset": 0, "y_offset": 4, "object_position": 1}
            )
            end = max(end, row + height)
        row = end + 3
    for col, width in enumerate((16, 15, 20, 13, 13, 10)):
        fmt.fit_column(ws, col, width)
    fmt.fit_column(ws, TABLE_COLS, 2)
    ws.set_h_pagebreaks(breaks)
    page_setup(ws, fmt, one_page_wide=True)
    return ws


# --- Template ------------------------------------------------------------------------------

SAMPLE_VALUES: list[tuple[object, ...]] = [
    # month (0 = the example's as-of month, -1 the month before), market, channel, category,
    # kpi, value, note
    (0, "US", "Amazon", "", "csat", 0.93, ""),
    (0, "DE", "Amazon", "", "csat", 0.82, "no German-speaking support yet"),
    (0, "MX", "Mercado Libre", "", "csat", 0.72, ""),
    (0, "US", "Amazon", "", "ltv_cac", 3.4, ""),
    (0, "MX", "Mercado Libre", "", "ltv_cac", 0.9, ""),
    (0, "US", "Amazon", "", "lost_parcel_rate", 0.004, ""),
    (0, "MX", "Mercado Libre", "", "lost_parcel_rate", 0.031, "carrier under review"),
    (0, "DE", "Amazon", "", "negative_review_share", None, "waiting for the export"),
]

_RAW_KEYS = (
    "gmv",
    "gmv_prev_month",
    "gmv_target",
    "revenue",
    "variable_costs",
    "ad_revenue",
    "ad_spend",
    "sessions",
    "orders",
    "returned_orders",
    "cogs",
    "average_inventory",
    "period_months",
    "payout_cycle_days",
    "delivery_days",
)
# The last three months of the example, at the size of the demo's plan (US Amazon about 10M CNY
# a month, DE and MX about 5M). Average inventory is what the turnover a 3C seller runs on
# gives: US about 8 a year, DE 7, MX 4.5 while stock is built up for the Latin America launch.
# fmt: off
SAMPLE_RAW: list[tuple[object, ...]] = [
    # month offset (0 = as of), market, channel, then _RAW_KEYS: gmv, gmv_prev_month,
    # gmv_target, revenue, variable_costs, ad_revenue, ad_spend [CNY], sessions, orders,
    # returned_orders [-], cogs, average_inventory [CNY], period_months, payout_cycle_days,
    # delivery_days [d]
    (-2, "US", "Amazon", 9_600_000, 10_400_000, 9_200_000, 9_600_000, 6_200_000,
     2_480_000, 600_000, 1_240_000, 39_600, 1680, 4_600_000, 6_730_000, 1, 10, 6),
    (-1, "US", "Amazon", 9_000_000, 9_600_000, 8_800_000, 9_000_000, 5_920_000,
     2_240_000, 600_000, 1_200_000, 35_200, 1600, 4_320_000, 6_320_000, 1, 10, 6),
    (0, "US", "Amazon", 10_600_000, 9_000_000, 10_000_000, 10_600_000, 6_800_000,
     2_960_000, 640_000, 1_280_000, 43_600, 1840, 5_080_000, 7_430_000, 1, 10, 5),
    (-2, "DE", "Amazon", 4_800_000, 5_200_000, 5_400_000, 4_800_000, 3_440_000,
     1_200_000, 440_000, 800_000, 17_200, 1040, 2_440_000, 4_180_000, 1, 12, 4),
    (-1, "DE", "Amazon", 4_600_000, 4_800_000, 5_200_000, 4_600_000, 3_320_000,
     1_080_000, 400_000, 760_000, 15_600, 1200, 2_360_000, 4_050_000, 1, 12, 4),
    (0, "DE", "Amazon", 4_880_000, 4_600_000, 5_600_000, 4_880_000, 3_600_000,
     1_120_000, 420_000, 820_000, 16_000, 1320, 2_520_000, 4_320_000, 1, 12, 5),
    (-2, "MX", "Mercado Libre", 4_800_000, 4_160_000, 7_200_000, 4_800_000, 4_160_000,
     880_000, 560_000, 1_280_000, 20_000, 1360, 3_040_000, 8_110_000, 1, 21, 18),
    (-1, "MX", "Mercado Libre", 4_480_000, 4_800_000, 7_600_000, 4_480_000, 3_920_000,
     760_000, 480_000, 1_200_000, 16_800, 1520, 2_800_000, 7_470_000, 1, 21, 17),
    (0, "MX", "Mercado Libre", 4_880_000, 4_480_000, 8_000_000, 4_880_000, 4_480_000,
     768_000, 464_000, 1_320_000, 13_600, 1600, 3_040_000, 8_110_000, 1, 21, 16),
]
# fmt: on

SAMPLE_THRESHOLD_OVERRIDES: list[tuple[object, ...]] = [
    # kpi, market, channel, category, green, red, source
    (
        "delivery_days",
        "MX",
        "",
        "",
        10.0,
        20.0,
        "example: cross-border to Mexico before the overseas warehouse; edit or delete",
    ),
]


def _months(offsets: pd.Series, as_of: str | pd.Period) -> pd.Series:
    end = pd.Period(as_of, freq="M")
    return offsets.map(lambda k: str(end + int(k)))


def sample_kpi_values(as_of: str | pd.Period = "2027-03") -> pd.DataFrame:
    """The KPI figures of the example, in the as-of month ``as_of`` (the last closed month)."""
    frame = pd.DataFrame(SAMPLE_VALUES, columns=KPI_VALUES.keys)
    frame["month"] = _months(frame["month"], as_of)
    return frame


def sample_kpi_raw(as_of: str | pd.Period = "2027-03") -> pd.DataFrame:
    """The raw figures of the example's last three months, ending in ``as_of``."""
    frame = pd.DataFrame(SAMPLE_RAW, columns=["month", "market", "channel", *_RAW_KEYS])
    frame["month"] = _months(frame["month"], as_of)
    frame.insert(3, "category", "")
    return frame.reindex(columns=KPI_RAW.keys)


def thresholds_frame(lang: str) -> pd.DataFrame:
    """The editable thresholds table a template starts with: the catalog defaults, then the
    example override rows."""
    from xlplan.kpi.calc import UNIT_LABELS, default_thresholds, kpi_definitions

    defs = kpi_definitions()
    base = default_thresholds()
    base["name"] = [Message(defs[k].name_zh, defs[k].name_en).text(lang) for k in base["kpi"]]
    base["unit"] = [
        UNIT_LABELS[u].text(lang) if u in UNIT_LABELS else u for u in base["unit"].astype(str)
    ]
    extra = pd.DataFrame(
        SAMPLE_THRESHOLD_OVERRIDES,
        columns=["kpi", "market", "channel", "category", "green", "red", "source"],
    )
    merged = extra.merge(base[["kpi", "name", "green_op", "red_op", "unit"]], on="kpi")
    return pd.concat([base, merged], ignore_index=True).reindex(columns=KPI_THRESHOLDS.keys)


def _write_kpi_input(
    wb: Any,
    fmt: Formats,
    lang: str,
    values: pd.DataFrame | None,
    thresholds: pd.DataFrame | None,
) -> int:
    """The KPI sheet: figures on the left, thresholds on the right. Returns the header row."""
    ws = wb.add_worksheet(SHEET["kpi"].title(lang))
    _title(ws, fmt, lang, "kpi")
    top = 7
    right = len(KPI_VALUES.columns) + 1
    for table, frame, left in (
        (KPI_VALUES, values, 0),
        (KPI_THRESHOLDS, thresholds_frame(lang) if thresholds is None else thresholds, right),
    ):
        ws.write_string(top - 3, left, table.title(lang), fmt.section)
        _, last = write_table(wb, ws, fmt, table, frame, lang, top, left)
        render.write_note(ws, fmt, top - 2, left, table.help(lang), len(table.columns))
    keys = KPI_THRESHOLDS.keys
    _unit_formats(
        ws,
        wb,
        [right + keys.index(k) for k in ("green", "red", "plausible_min", "plausible_max")],
        right + keys.index("unit"),
        top + 1,
        top + render.FIRST_DATA_ROWS,
    )
    # live flags, one row per figure, right of the thresholds so nothing stands in the spill
    render.write_udf_anchor(
        ws,
        fmt,
        right + len(KPI_THRESHOLDS.columns) + 1,
        top,
        "XLP_KPI_FLAGS(tblKpiValues[#All],tblKpiThresholds[#All])",
    )
    kpi_col = right + keys.index("kpi")
    ws.data_validation(
        top + 1,
        KPI_VALUES.keys.index("kpi"),
        top + render.FIRST_DATA_ROWS,
        KPI_VALUES.keys.index("kpi"),
        {
            "validate": "list",
            "source": f"=${_col(kpi_col)}${top + 2}:${_col(kpi_col)}${last + 1}",
            "error_type": "information",
            "error_message": "KPI 代码或名称，见阈值表 / a KPI key or name: see the thresholds",
        },
    )
    fmt.fit_column(ws, right - 1, 3)
    ws.freeze_panes(top + 1, 0)
    page_setup(ws, fmt, header_row=top)
    return top


def _col(col: int) -> str:
    return render.column_letters(col)


def write_kpi_input_sheets(
    wb: Any,
    fmt: Formats,
    lang: str,
    values: pd.DataFrame | None,
    raw: pd.DataFrame | None,
    thresholds: pd.DataFrame | None,
) -> dict[str, tuple[str, int]]:
    """The KPI sheet (figures and thresholds) and the KPI Raw sheet. Returns where each input
    table's header sits (sheet name, 0-based row), so errors on template rows can be located."""
    values_header = _write_kpi_input(wb, fmt, lang, values, thresholds)
    ws = wb.add_worksheet(SHEET["kpi_raw"].title(lang))
    _title(ws, fmt, lang, "kpi_raw")
    top = 5
    write_table(wb, ws, fmt, KPI_RAW, raw, lang, top, 0)
    ws.freeze_panes(top + 1, 4)
    ws.set_row(top, 45)
    page_setup(ws, fmt, header_row=top)
    return {
        KPI_VALUES.key: (SHEET["kpi"].title(lang), values_header),
        KPI_RAW.key: (SHEET["kpi_raw"].title(lang), top),
    }


WRITERS: dict[str, SheetWriter] = {
    "kpi_flags": write_kpi_flags_sheet,
    "dashboard": write_dashboard_sheet,
}
"""The owned sheets this capability draws itself (conditional formats, native charts)."""
