"""Generate the XLPlan templates (and the sheets XLPlan owns) from the schema.

XlsxWriter writes them: Excel Tables, data validation, number formats, conditional formats,
defined names and dynamic-array (spilling) UDF formulas, which openpyxl cannot mark as spilling.
The output is deterministic (fixed document dates), so ``xlplan templates build --check`` can
compare the committed templates with a fresh build.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from xlplan import reference
from xlplan.workbook import schema
from xlplan.workbook.schema import Column, Kind, Table

LANGS = ("zh", "en")
TEMPLATE_PLAN_YEAR = 2027
TEMPLATE_DATE = datetime(2026, 11, 1)
FIRST_DATA_ROWS = 500  # validation and conditional formats cover this many rows below a header
WRAP_WIDTH = 36  # text columns at least this wide wrap instead of spilling over their row
ADDIN_MESSAGE = "需要 XLPlan 加载项 / needs the XLPlan add-in"

NAVY = "#1F3864"
INPUT_FILL = "#FFF9E6"
OUTPUT_FILL = "#EAF1FB"
BAD_FILL = "#F8D7DA"
BAD_TEXT = "#9C0006"
GOOD_FILL = "#E2F0D9"
GREY = "#6B7280"


def template_path(out_dir: Path, lang: str) -> Path:
    return out_dir / f"xlplan-template-{lang}.xlsx"


# --------------------------------------------------------------------------------------------
# Formats and tables
# --------------------------------------------------------------------------------------------


@dataclass
class Formats:
    """The cell formats one workbook uses, created once per workbook."""

    wb: Any

    def __post_init__(self) -> None:
        add = self.wb.add_format
        self.title = add({"bold": True, "font_size": 16, "font_color": NAVY})
        self.subtitle = add({"italic": True, "font_size": 10, "font_color": GREY})
        self.note = add({"font_size": 10, "font_color": GREY, "text_wrap": False})
        self.section = add({"bold": True, "font_size": 12, "font_color": NAVY})
        self.sub_header = add(
            {
                "italic": True,
                "font_size": 9,
                "font_color": GREY,
                "text_wrap": True,
                "valign": "bottom",
                "bottom": 1,
                "bottom_color": "#D0D7E5",
            }
        )
        self.input_legend = add(
            {"bg_color": INPUT_FILL, "border": 1, "border_color": "#E5D9B6", "font_size": 9}
        )
        self.output_legend = add(
            {"bg_color": OUTPUT_FILL, "border": 1, "border_color": "#C5D3EA", "font_size": 9}
        )
        self.bad = add({"bg_color": BAD_FILL, "font_color": BAD_TEXT})
        self.good = add({"bg_color": GOOD_FILL})
        self.error_text = add({"font_color": BAD_TEXT, "font_size": 9})
        header = {
            "bold": True,
            "font_color": "#FFFFFF",
            "text_wrap": True,
            "valign": "vcenter",
            "border": 1,
            "border_color": "#FFFFFF",
        }
        self.header = add({**header, "bg_color": NAVY})
        self.output_header = add({**header, "bg_color": "#2F5597"})
        cell = {"border": 1, "border_color": "#E3E6EC"}
        self.kinds: dict[Kind, Any] = {}
        self.input_kinds: dict[Kind, Any] = {}
        self.output_kinds: dict[Kind, Any] = {}
        for kind in Kind:
            spec: dict[str, Any] = dict(cell)
            fmt = schema.FORMATS.get(kind)
            if fmt:
                spec["num_format"] = fmt
            self.kinds[kind] = add(spec)
            self.input_kinds[kind] = add({**spec, "bg_color": INPUT_FILL})
            self.output_kinds[kind] = add({**spec, "bg_color": OUTPUT_FILL})
        self.addin = add({"italic": True, "font_color": GREY, "bg_color": OUTPUT_FILL})
        wrap = {**cell, "text_wrap": True, "valign": "top", "font_size": 9}
        self.wrap_input = add({**wrap, "bg_color": INPUT_FILL})
        self.wrap_output = add({**wrap, "bg_color": OUTPUT_FILL})
        self.whole_money = add({"num_format": "#,##0;[Red]-#,##0"})


def new_workbook(target: str | BinaryIO) -> Any:
    """An XlsxWriter workbook with fixed document properties (reproducible builds)."""
    wb = xlsxwriter.Workbook(target, {"in_memory": True})
    wb.set_properties(
        {"title": "XLPlan", "author": "XLPlan", "company": "XLPlan", "created": TEMPLATE_DATE}
    )
    wb.set_calc_mode("auto")
    return wb


def _cell_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        v = value.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def write_table(
    wb: Any,
    ws: Any,
    fmt: Formats,
    table: Table,
    frame: pd.DataFrame | None,
    lang: str,
    top: int,
    left: int = 0,
    *,
    output: bool = False,
    sub_header: bool = True,
    validation: bool = True,
) -> tuple[int, int]:
    """Write ``table`` with its header at row ``top`` (0-based), sub-header above it.

    The sub-header row (``top - 1``) carries the other language's header and the unit, so every
    template is bilingual while the Table's own headers stay in one language. Returns the
    (header row, last data row).
    """
    other = "en" if lang == "zh" else "zh"
    rows = 0 if frame is None else len(frame)
    last = top + max(rows, 1)
    ws.set_row(top, 30)
    if sub_header:
        ws.set_row(top - 1, 26)
    kinds = fmt.output_kinds if output else fmt.input_kinds
    head = fmt.output_header if output else fmt.header
    columns = []
    wrap = fmt.wrap_output if output else fmt.wrap_input
    for j, col in enumerate(table.columns):
        long_text = col.kind is Kind.TEXT and col.width >= WRAP_WIDTH
        spec: dict[str, Any] = {
            "header": col.header(lang),
            "format": wrap if long_text else kinds[col.kind],
            "header_format": head,
        }
        columns.append(spec)
        ws.set_column(left + j, left + j, col.width)
        if sub_header:
            unit = col.unit(other)
            text = col.header(other) + (f" [{unit}]" if unit else "")
            ws.write_string(top - 1, left + j, text, fmt.sub_header)
    data: list[list[object]] = []
    if frame is not None and rows:
        for key in table.keys:
            if key not in frame.columns:
                frame = frame.assign(**{key: None})
        data = [
            [_cell_value(v) for v in rec]
            for rec in frame[table.keys].itertuples(index=False, name=None)
        ]
    options: dict[str, Any] = {
        "name": table.name,
        "columns": columns,
        "style": "Table Style Medium 2" if output else "Table Style Light 9",
    }
    if data:
        options["data"] = data
    ws.add_table(top, left, last, left + len(table.columns) - 1, options)
    if frame is not None and rows:
        _fit_wrapped_rows(ws, table, frame, top + 1)
    if validation and not output:
        _validate(ws, table, lang, top + 1, top + FIRST_DATA_ROWS, left)
    return top, last


def _fit_wrapped_rows(ws: Any, table: Table, frame: pd.DataFrame, first: int) -> None:
    """Row heights for wrapped text: neither Excel nor LibreOffice grows rows written by
    XlsxWriter, so estimate the lines each long text needs (CJK characters count double)."""
    wide = [c for c in table.columns if c.kind is Kind.TEXT and c.width >= WRAP_WIDTH]
    if not wide:
        return
    lines = np.ones(len(frame))
    for col in wide:
        text = frame[col.key].fillna("").astype(str)
        width = text.str.len() + text.str.count(r"[\u3000-\u9fff\uff00-\uffef]")
        per_line = max(col.width * 1.15, 1.0)  # 9-point text fits ~1.15 characters per unit
        lines = np.maximum(lines, np.ceil(width.to_numpy(dtype=float) / per_line))
    for i, n in enumerate(lines):
        if n > 1:
            ws.set_row(first + i, 12.5 * min(n, 8))


def _validate(ws: Any, table: Table, lang: str, first: int, last: int, left: int) -> None:
    for j, col in enumerate(table.columns):
        spec = _validation_spec(col, lang)
        if spec:
            ws.data_validation(first, left + j, last, left + j, spec)


def _validation_spec(col: Column, lang: str) -> dict[str, Any] | None:
    title = col.header(lang)[:31]
    helptext = col.help_zh if lang == "zh" else col.help_en
    base: dict[str, Any] = {"input_title": title, "error_title": title}
    if helptext:
        base["input_message"] = helptext[:250]
    if col.choices:
        lenient = col.choices == "channels"
        return {
            **base,
            "validate": "list",
            "source": f"={LIST_NAMES[col.choices]}",
            "error_type": "information" if lenient else "stop",
            "error_message": ("请从列表中选择 / choose from the list")[:250],
        }
    if col.kind is Kind.BOOL:
        return {**base, "validate": "list", "source": ["TRUE", "FALSE"]}
    if col.kind in schema.NUMERIC_KINDS and (col.minimum is not None or col.maximum is not None):
        lo = -1e12 if col.minimum is None else col.minimum
        hi = 1e12 if col.maximum is None else col.maximum
        return {
            **base,
            "validate": "decimal",
            "criteria": "between",
            "minimum": lo,
            "maximum": hi,
            "error_message": f"{col.zh}应 {col.range_text('zh')} / "
            f"{col.en} must be {col.range_text('en')}"[:250],
        }
    return None


# --------------------------------------------------------------------------------------------
# Lists (hidden sheet feeding data validation)
# --------------------------------------------------------------------------------------------

LIST_NAMES = {
    "markets": "lstMarkets",
    "currencies": "lstCurrencies",
    "channels": "lstChannels",
    "basis": "lstBasis",
    "levies": "lstLevies",
    "treatments": "lstTreatments",
    "maps": "lstMaps",
    "customer_types": "lstCustomerTypes",
}


def list_values() -> dict[str, list[str]]:
    """The values behind every validation list, in a stable order."""
    markets = sorted(set(reference.market_history()["market"]))
    currencies = sorted(set(reference.currencies().index.astype(str)))
    return {
        "markets": markets,
        "currencies": currencies,
        "channels": list(schema.CHANNELS),
        "basis": ["CIF", "FOB"],
        "levies": ["duty", "tax", "both"],
        "treatments": list(schema.TREATMENTS),
        "maps": list(schema.MAPS),
        "customer_types": ["new", "existing"],
    }


def _write_lists(wb: Any, lang: str) -> None:
    ws = wb.add_worksheet(schema.SHEETS["lists"].title(lang))
    for j, (key, values) in enumerate(list_values().items()):
        ws.write_string(0, j, key)
        for i, v in enumerate(values):
            ws.write_string(i + 1, j, v)
        col = xl_col_to_name(j)
        sheet = ws.get_name()
        wb.define_name(LIST_NAMES[key], f"='{sheet}'!${col}$2:${col}${len(values) + 1}")
    ws.hide()


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------


def page_setup(ws: Any, *, wide: bool = False, header_row: int | None = None) -> None:
    """Landscape, one page wide (A3 for wide sheets), header rows repeated, no gridlines."""
    ws.set_landscape()
    ws.set_paper(8 if wide else 9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None:
        ws.repeat_rows(header_row - 1, header_row)


def _title(ws: Any, fmt: Formats, lang: str, zh: str, en: str, note_zh: str, note_en: str) -> None:
    ws.write_string(0, 0, zh if lang == "zh" else en, fmt.title)
    ws.write_string(1, 0, en if lang == "zh" else zh, fmt.subtitle)
    ws.write_string(2, 0, note_zh if lang == "zh" else note_en, fmt.note)
    ws.set_row(0, 24)


def _write_readme(wb: Any, fmt: Formats, lang: str) -> None:
    ws = wb.add_worksheet(schema.SHEETS["readme"].title(lang))
    page_setup(ws)
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 110)
    zh = lang == "zh"
    ws.write_string(
        0, 1, "XLPlan 三张地图年度规划" if zh else "XLPlan: three-maps annual planning", fmt.title
    )
    ws.write_string(
        1,
        1,
        "XLPlan: three-maps annual planning" if zh else "XLPlan 三张地图年度规划",
        fmt.subtitle,
    )
    lines = README_ZH if zh else README_EN
    row = 3
    for kind, text in lines:
        ws.write_string(row, 1, text, fmt.section if kind == "h" else fmt.note)
        row += 2 if kind == "h" else 1


README_ZH: list[tuple[str, str]] = [
    ("h", "怎么用"),
    (
        "p",
        "1. 在“设置”表填写规则日期、汇率；"
        "需要时在覆盖表中改写市场税率与低货值规则（留空=内置规则）。",
    ),
    ("p", "2. 在“落地成本”表的黄色表格逐行填写 SKU × 市场 × 渠道的成本、费率与售价。"),
    (
        "p",
        "3. Windows + XLPlan 加载项：表格右侧的 XLP_LANDED_COST 公式随输入实时重算（蓝色区域）。",
    ),
    (
        "p",
        "4. 任意系统：xlplan landed-cost 本文件.xlsx -o 结果.xlsx，"
        "结果写入“落地成本结果”表，原文件不被改动。",
    ),
    ("h", "约定"),
    ("p", "· 单位采购成本按“成本币种”计；其余金额均为市场币种/件。比例填 0.15 或 15%。"),
    ("p", "· 每条税费规则都带生效日期与来源，见“市场规则”表；标记“不确定”的规则请核实后覆盖。"),
    ("p", "· 错误会逐行写出：工作表、行、列与原因（中英文），其余行照常计算。"),
    ("h", "函数"),
    (
        "p",
        "XLP_LANDED_COST(明细表, 汇率表, 市场覆盖, 低货值覆盖, 规则日期)："
        "整表计算，一次调用返回整个结果块。",
    ),
    ("p", "XLP_LANDED_COST_LINE / XLP_IMPORT_TAXES / XLP_PRICE_FOR_MARGIN：单行计算。"),
]
README_EN: list[tuple[str, str]] = [
    ("h", "How to use"),
    (
        "p",
        "1. On Settings, set the rules date and FX rates; override market tax rules or low-value "
        "regimes in the override tables if needed (blank = shipped rules).",
    ),
    (
        "p",
        "2. On Landed Cost, fill one row per SKU x market x channel in the yellow table: costs, "
        "rates and price.",
    ),
    (
        "p",
        "3. Windows with the XLPlan add-in: the XLP_LANDED_COST formula beside the table "
        "recalculates as you type (blue block).",
    ),
    (
        "p",
        "4. Any OS: xlplan landed-cost this.xlsx -o result.xlsx writes the Landed Cost Results "
        "sheet into a new file; your file is left untouched.",
    ),
    ("h", "Conventions"),
    (
        "p",
        "- Unit cost is in the cost currency; every other amount is per unit in the market "
        "currency. Enter rates as 0.15 or 15%.",
    ),
    (
        "p",
        "- Every tax and fee rule carries its effective dates and source (Market Rules sheet); "
        "rules marked uncertain are defaults to check and override.",
    ),
    (
        "p",
        "- Errors are reported per row with sheet, row, column and reason (zh and en); the "
        "other rows still compute.",
    ),
    ("h", "Functions"),
    (
        "p",
        "XLP_LANDED_COST(lines, fx, market_overrides, low_value_overrides, rules_date): the "
        "whole table in one call, spilling the result block.",
    ),
    ("p", "XLP_LANDED_COST_LINE / XLP_IMPORT_TAXES / XLP_PRICE_FOR_MARGIN: one line."),
]


def _settings_frame(lang: str, plan_year: int, targets: PlanTargets) -> pd.DataFrame:
    labels = schema.SETTING_KEYS
    return pd.DataFrame(
        {
            "setting": list(labels),
            "value": [
                None,
                plan_year,
                "CNY",
                targets.company_target,
                targets.reconcile_method,
                targets.rounding_unit,
                None,
            ],
            "label": [labels[k][0 if lang == "zh" else 1] for k in labels],
        }
    )


def template_fx() -> pd.DataFrame:
    """The FX rows a new template starts with: the shipped defaults for market currencies."""
    fx = reference.default_fx()
    wanted = set(reference.market_history()["currency"]) | {"CNY", "USD"}
    fx = fx[fx["from_currency"].isin(wanted) & (fx["from_currency"] != fx["to_currency"])]
    return fx.sort_values("from_currency")[
        ["from_currency", "to_currency", "rate", "as_of", "source"]
    ].reset_index(drop=True)


def _write_settings(wb: Any, fmt: Formats, lang: str, plan_year: int, targets: PlanTargets) -> None:
    ws = wb.add_worksheet(schema.SHEETS["settings"].title(lang))
    _title(
        ws,
        fmt,
        lang,
        "计划设置",
        "Plan settings",
        "汇率与规则覆盖由所有计算共用。",
        "FX rates and rule overrides are shared by every calculation.",
    )
    top = 5
    _, last = write_table(
        wb,
        ws,
        fmt,
        schema.SETTINGS,
        _settings_frame(lang, plan_year, targets),
        lang,
        top,
        0,
        validation=False,
    )
    year_cell = xl_rowcol_to_cell(top + 2, 1, row_abs=True, col_abs=True)
    date_row = top + 1
    ws.write_formula(
        date_row,
        1,
        f"=DATE({year_cell},1,1)",
        fmt.kinds[Kind.DATE],
        (datetime(plan_year, 1, 1) - datetime(1899, 12, 30)).days,
    )
    sheet = ws.get_name()
    for i, key in enumerate(schema.SETTING_KEYS):  # RulesDate, PlanYear, CompanyTarget, ...
        name = "".join(part.capitalize() for part in key.split("_"))
        wb.define_name(name, f"='{sheet}'!{xl_rowcol_to_cell(top + 1 + i, 1, True, True)}")

    top = last + 5
    ws.write_string(top - 3, 0, schema.FX.title(lang), fmt.section)
    ws.write_string(top - 2, 0, schema.FX.help_zh if lang == "zh" else schema.FX.help_en, fmt.note)
    _, last = write_table(wb, ws, fmt, schema.FX, template_fx(), lang, top, 0)

    for table in (schema.MARKET_OVERRIDES, schema.LOW_VALUE_OVERRIDES):
        top = last + 5
        ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        ws.write_string(top - 2, 0, table.help_zh if lang == "zh" else table.help_en, fmt.note)
        _, last = write_table(wb, ws, fmt, table, None, lang, top, 0)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 40)
    page_setup(ws)


def sample_lines() -> pd.DataFrame:
    """The example lines a new template starts with (the user overwrites them)."""
    return pd.DataFrame(SAMPLE_LINES, columns=schema.LANDED_COST.keys)


SAMPLE_LINES: list[tuple[object, ...]] = [
    # sku, market, channel, unit_cost, cost_ccy, fx, freight, insurance, duty, extra, vat,
    # recoverable, clearance, consignment, last_mile, storage, price, ref_rate, ref_min,
    # pay_rate, pay_fixed, fx_loss, return_rate, return_cost, unsellable, lost, ad, target
    (
        "PB-10K",
        "US",
        "Amazon",
        62.0,
        "CNY",
        None,
        0.85,
        0.02,
        0.0,
        0.30,
        None,
        None,
        0.10,
        None,
        4.20,
        0.35,
        29.99,
        0.15,
        0.30,
        0.0,
        0.0,
        0.015,
        0.08,
        1.50,
        0.30,
        0.005,
        0.12,
        0.20,
    ),
    (
        "PB-10K",
        "DE",
        "Amazon",
        62.0,
        "CNY",
        None,
        0.80,
        0.02,
        0.0,
        0.0,
        None,
        None,
        0.12,
        None,
        3.60,
        0.30,
        32.99,
        0.15,
        0.30,
        0.0,
        0.0,
        0.015,
        0.10,
        1.50,
        0.30,
        0.005,
        0.10,
        0.20,
    ),
    (
        "CB-USBC-2M",
        "JP",
        "Amazon",
        9.5,
        "CNY",
        None,
        35.0,
        1.0,
        0.0,
        0.0,
        None,
        None,
        10.0,
        None,
        318.0,
        20.0,
        1480.0,
        0.10,
        30.0,
        0.0,
        0.0,
        0.015,
        0.06,
        150.0,
        0.30,
        0.005,
        0.10,
        0.20,
    ),
    (
        "CB-USBC-2M",
        "MX",
        "Mercado Libre",
        9.5,
        "CNY",
        None,
        5.0,
        0.2,
        0.0,
        0.0,
        None,
        None,
        None,
        180.0,
        65.0,
        4.0,
        249.0,
        0.16,
        0.0,
        0.0,
        0.0,
        0.015,
        0.08,
        25.0,
        0.40,
        0.02,
        0.08,
        0.20,
    ),
]


def _write_landed_cost(wb: Any, fmt: Formats, lang: str, lines: pd.DataFrame) -> None:
    ws = wb.add_worksheet(schema.SHEETS["landed_cost"].title(lang))
    _title(
        ws,
        fmt,
        lang,
        "落地成本与利润测算",
        "Landed cost and margin",
        "黄色区域填写；蓝色区域由 XLP_LANDED_COST 实时计算（每行一个结果，错误写在最后一列）。",
        "Fill the yellow table; the blue block is computed live by XLP_LANDED_COST (one result "
        "row per line, errors in its last column).",
    )
    top = 5
    table = schema.LANDED_COST
    write_table(wb, ws, fmt, table, lines, lang, top, 0)
    anchor_col = len(table.columns) + 1
    ws.set_column(len(table.columns), len(table.columns), 2)
    out_cols = schema.LANDED_COST_OUTPUT_COLUMNS
    other = "en" if lang == "zh" else "zh"
    for j, col in enumerate(out_cols):
        ws.set_column(anchor_col + j, anchor_col + j, col.width, fmt.output_kinds[col.kind])
        unit = col.unit(other)
        ws.write_string(
            top - 1,
            anchor_col + j,
            col.header(other) + (f" [{unit}]" if unit else ""),
            fmt.sub_header,
        )
    ws.write_string(top - 2, anchor_col, "XLP_LANDED_COST →", fmt.section)
    ws.write_dynamic_array_formula(
        top, anchor_col, top, anchor_col, landed_cost_formula(), fmt.addin, ADDIN_MESSAGE
    )
    margin_col = anchor_col + [c.key for c in out_cols].index("contribution_margin")
    error_col = anchor_col + len(out_cols) - 1
    first, last = top + 1, top + FIRST_DATA_ROWS
    money = [anchor_col + j for j, c in enumerate(out_cols) if c.kind is Kind.MONEY]
    format_money_by_currency(ws, fmt, anchor_col, money, first, last)
    ws.conditional_format(
        first,
        margin_col,
        last,
        margin_col,
        {"type": "cell", "criteria": "<", "value": 0, "format": fmt.bad},
    )
    ws.conditional_format(
        first, error_col, last, error_col, {"type": "no_blanks", "format": fmt.error_text}
    )
    ws.write_string(top - 2, 0, "■ " + ("输入" if lang == "zh" else "inputs"), fmt.input_legend)
    ws.freeze_panes(top + 1, 2)
    ws.set_row(top, 45)
    page_setup(ws, wide=True, header_row=top)
    ws.set_v_pagebreaks([anchor_col - 1])
    ws.fit_to_pages(2, 0)


def landed_cost_formula() -> str:
    """The table UDF call the Landed Cost sheet carries beside its input table."""
    call = (
        "XLP_LANDED_COST(tblLandedCost[#All],tblFX[#All],tblMarketOverrides[#All],"
        "tblLowValueOverrides[#All],RulesDate)"
    )
    return f'=IFERROR({call},"{ADDIN_MESSAGE}")'


def write_owned_sheet(
    wb: Any,
    fmt: Formats,
    sheet_key: str,
    tables: Sequence[tuple[Table, pd.DataFrame | None]],
    lang: str,
    *,
    output: bool = True,
) -> Any:
    """A sheet of tables one below the other under a title.

    Output sheets (``output=True``) are the ones XLPlan owns and rewrites on every run; input
    sheets carry the yellow tables users fill, with validation.
    """
    sheet = schema.SHEETS[sheet_key]
    if sheet.writer:  # a sheet with charts or special formats has its own writer
        import importlib

        module, _, name = sheet.writer.partition(":")
        return getattr(importlib.import_module(module), name)(wb, fmt, tables, lang)
    ws = wb.add_worksheet(sheet.title(lang))
    _title(ws, fmt, lang, sheet.heading[0], sheet.heading[1], sheet.note[0], sheet.note[1])
    top = 5
    for i, (table, frame) in enumerate(tables):
        helptext = table.help_zh if lang == "zh" else table.help_en
        if i:
            top += 1 if helptext else 0
            ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        if helptext:
            ws.write_string(top - 2, 0, helptext, fmt.note)
        _, last = write_table(wb, ws, fmt, table, frame, lang, top, 0, output=output)
        for key in ("contribution_margin",):
            if key in table.keys:
                j = table.keys.index(key)
                ws.conditional_format(
                    top + 1,
                    j,
                    last,
                    j,
                    {"type": "cell", "criteria": "<", "value": 0, "format": fmt.bad},
                )
        if "currency" in table.keys:
            money = [j for j, c in enumerate(table.columns) if c.kind is Kind.MONEY]
            format_money_by_currency(
                ws,
                fmt,
                table.keys.index("currency"),
                money,
                top + 1,
                max(last, top + FIRST_DATA_ROWS),
            )
        if "error" in table.keys:
            j = table.keys.index("error")
            ws.conditional_format(
                top + 1, j, last, j, {"type": "no_blanks", "format": fmt.error_text}
            )
        top = last + 5
    ws.freeze_panes(6, 0)
    ws.set_row(5, 30)
    width = max(len(t.columns) for t, _ in tables)
    page_setup(ws, wide=width > 14, header_row=5)
    return ws


def zero_decimal_currencies() -> list[str]:
    """Market currencies without a minor unit (JPY, KRW, CLP, VND, ...)."""
    ccy = reference.currencies()
    used = set(reference.market_history()["currency"])
    return sorted(c for c in used if c in ccy.index and ccy.loc[c, "minor_unit"] == 0)


def format_money_by_currency(
    ws: Any, fmt: Formats, currency_col: int, money_cols: Sequence[int], first: int, last: int
) -> None:
    """Show money without decimals on rows whose currency has no minor unit.

    One conditional format per column, keyed on the row's currency cell, so a mixed table shows
    EUR 12.34 and JPY 1,234 side by side.
    """
    codes = zero_decimal_currencies()
    if not codes:
        return
    ref = xl_rowcol_to_cell(first, currency_col, col_abs=True)
    test = ",".join(f'{ref}="{c}"' for c in codes)
    for col in money_cols:
        ws.conditional_format(
            first,
            col,
            last,
            col,
            {"type": "formula", "criteria": f"=OR({test})", "format": fmt.whole_money},
        )


def market_rules_frames() -> list[tuple[Table, pd.DataFrame]]:
    markets = reference.market_history()
    regimes = reference.regime_history()
    markets["tax_rate"] = pd.to_numeric(markets["tax_rate"])
    for col in ("min_value", "max_value", "rate", "amount"):
        regimes[col] = pd.to_numeric(regimes[col].replace("", None), errors="coerce")
    return [(schema.MARKET_RULES, markets), (schema.LOW_VALUE_RULES, regimes)]


# --------------------------------------------------------------------------------------------
# Target planning sheets
# --------------------------------------------------------------------------------------------

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
    return pd.DataFrame(SAMPLE_TARGET_LINES, columns=schema.TARGET_LINES.keys)


def sample_actuals() -> pd.DataFrame:
    return pd.DataFrame(SAMPLE_ACTUALS, columns=schema.ACTUALS.keys)


def events_frame() -> pd.DataFrame:
    """The editable events table: the shipped calendar's uplifts."""
    from xlplan.planning.calc.seasonality import read_calendar_events

    events = read_calendar_events()
    return events[schema.EVENTS.keys].reset_index(drop=True)


@dataclass(frozen=True)
class PlanTargets:
    """The planning inputs a new workbook starts with; the defaults are the template's example
    (DOMAIN.md's worked alignment)."""

    target_lines: pd.DataFrame | None = None
    actuals: pd.DataFrame | None = None
    launches: pd.DataFrame | None = None
    order_imports: pd.DataFrame | None = None  # the Customer Map's order files
    company_target: float = 12 * YI  # [reporting ccy]
    reconcile_method: str = "keep"
    rounding_unit: float = 10_000  # [reporting ccy]


def _write_planning(wb: Any, fmt: Formats, lang: str, targets: PlanTargets) -> None:
    lines = sample_target_lines() if targets.target_lines is None else targets.target_lines
    actuals = sample_actuals() if targets.actuals is None else targets.actuals
    sheets: list[tuple[str, list[tuple[Table, pd.DataFrame | None]], bool]] = [
        ("alignment", [(schema.TARGET_LINES, lines)], False),
        (
            "alignment_result",
            [(schema.MAP_TOTALS, None), (schema.OVERLAPS, None), (schema.BUCKETS, None)],
            True,
        ),
        ("calendar", [(schema.EVENTS, events_frame()), (schema.LAUNCHES, targets.launches)], False),
        ("monthly_plan", [(schema.MONTHLY_PLAN, None)], True),
        ("actuals", [(schema.ACTUALS, actuals)], False),
        (
            "tracking",
            [(schema.TRACKING, None), (schema.FORECAST, None), (schema.GAP_DRIVERS, None)],
            True,
        ),
    ]
    for key, tables, output in sheets:
        ws = write_owned_sheet(wb, fmt, key, tables, lang, output=output)
        if key in PLANNING_FORMULAS:
            call, block = PLANNING_FORMULAS[key]
            write_udf_block(ws, fmt, lang, len(tables[0][0].columns) + 1, 5, call, block)


PLANNING_FORMULAS: dict[str, tuple[str, Table]] = {
    "alignment": (
        "XLP_ALIGNMENT(tblTargetLines[#All],CompanyTarget,ReconcileMethod,RoundingUnit,PlanYear)",
        schema.MAP_TOTALS,
    ),
    "actuals": ("XLP_TRACKING(tblMonthlyPlan[#All],tblActuals[#All],PlanYear)", schema.TRACKING),
}
"""Live UDF blocks beside the planning input tables: the call, and the table its block shows."""


def write_udf_block(
    ws: Any, fmt: Formats, lang: str, col: int, top: int, call: str, block: Table
) -> None:
    """A spilling UDF formula at (``top``, ``col``) with the block's formats and bilingual
    sub-header; without the add-in the cell says so instead of ``#NAME?``."""
    other = "en" if lang == "zh" else "zh"
    ws.set_column(col - 1, col - 1, 2)
    for j, c in enumerate(block.columns):
        ws.set_column(col + j, col + j, c.width, fmt.output_kinds[c.kind])
        unit = c.unit(other)
        ws.write_string(
            top - 1, col + j, c.header(other) + (f" [{unit}]" if unit else ""), fmt.sub_header
        )
    write_udf_anchor(ws, fmt, col, top, call)


def write_udf_anchor(ws: Any, fmt: Formats, col: int, top: int, call: str) -> None:
    """A live UDF block's anchor: its name above, and the spilling formula, which says it needs
    the add-in (instead of ``#NAME?``) where the add-in is missing."""
    ws.write_string(top - 2, col, call.split("(")[0] + " →", fmt.section)
    ws.write_dynamic_array_formula(
        top, col, top, col, f'=IFERROR({call},"{ADDIN_MESSAGE}")', fmt.addin, ADDIN_MESSAGE
    )


def build_template(
    target: str | BinaryIO,
    lang: str,
    lines: pd.DataFrame | None = None,
    *,
    plan_year: int = TEMPLATE_PLAN_YEAR,
    targets: PlanTargets | None = None,
) -> None:
    """Write the XLPlan template in ``lang`` (``zh`` or ``en``) to ``target``.

    ``lines`` replaces the sample landed-cost lines; ``plan_year`` sets Settings (and with it
    the rules date, 1 January of that year); ``targets`` replaces the planning examples.
    """
    targets = targets or PlanTargets()
    wb = new_workbook(target)
    fmt = Formats(wb)
    _write_readme(wb, fmt, lang)
    _write_settings(wb, fmt, lang, plan_year, targets)
    _write_landed_cost(wb, fmt, lang, sample_lines() if lines is None else lines)
    write_owned_sheet(wb, fmt, "landed_cost_results", [(schema.LANDED_COST_RESULTS, None)], lang)
    from xlplan.maps.sheets import write_maps_sheets

    write_maps_sheets(wb, fmt, lang, imports=targets.order_imports)
    _write_planning(wb, fmt, lang, targets)
    from xlplan.kpi.sheets import write_kpi_sheets

    write_kpi_sheets(wb, fmt, lang, lines=lines, plan_year=plan_year, targets=targets)
    write_owned_sheet(wb, fmt, "market_rules", market_rules_frames(), lang)
    _write_lists(wb, lang)
    wb.worksheets()[2].activate()
    wb.close()


def template_bytes(
    lang: str,
    lines: pd.DataFrame | None = None,
    *,
    plan_year: int = TEMPLATE_PLAN_YEAR,
    targets: PlanTargets | None = None,
) -> bytes:
    buf = io.BytesIO()
    build_template(buf, lang, lines, plan_year=plan_year, targets=targets)
    return buf.getvalue()


def build_templates(out_dir: Path) -> list[Path]:
    """Write every template into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang in LANGS:
        path = template_path(out_dir, lang)
        path.write_bytes(template_bytes(lang))
        paths.append(path)
    return paths


def normalised_parts(data: bytes) -> dict[str, bytes]:
    """Zip members with volatile content blanked (document dates), for comparisons."""
    import re

    out: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in sorted(zf.namelist()):
            body = zf.read(name)
            if name == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*<", rb"<dcterms:\1><", body)
            out[name] = body
    return out


def check_templates(out_dir: Path) -> list[str]:
    """Templates in ``out_dir`` that differ from a fresh build (names, with the first part)."""
    problems = []
    for lang in LANGS:
        path = template_path(out_dir, lang)
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        fresh = normalised_parts(template_bytes(lang))
        committed = normalised_parts(path.read_bytes())
        differing = sorted(
            k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k)
        )
        if differing:
            problems.append(f"{path.name}: {', '.join(differing[:5])}")
    return problems
