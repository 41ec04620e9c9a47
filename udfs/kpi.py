"""KPI UDFs: flag a whole KPI table or one figure, derive a KPI from raw figures; the kpi
capability's own code (catalog, thresholds, reasons)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from udfs.common import (
    CATEGORY,
    ERROR_PREFIX,
    ROW_ARG,
    TABLE_ARG,
    Block,
    block,
    error_rows,
    flat,
    is_blank,
    language_of,
    locate_setting,
    never_raises,
    out_table,
    record_text,
    rows_of,
    scalar,
    table_from_rows,
    table_of,
    text_arg,
)
from xlplan.core.errors import InputError, concat_errors, format_error, records, row_messages
from xlplan.kpi.action import derived_values, kpi_flags_from_tables
from xlplan.kpi.calc import kpi_definitions, leaf_inputs
from xlplan.kpi.tables import KPI_FLAGS, KPI_RAW, KPI_THRESHOLDS, KPI_VALUES
from xlplan.workbook.coerce import coerce_table
from xlplan.workbook.schema import normalise_header

KPI_FLAG_BLOCK = out_table(
    "kpi_flag_block",
    "KPI 健康度",
    "KPI health flags",
    (
        ("flag", "灯", "Flag"),
        ("green", "绿灯阈值", "Green"),
        ("red", "红灯阈值", "Red"),
        ("reason", "原因", "Reason"),
        ("error", "错误", "Error"),
    ),
)
_DOC_THRESHOLDS = (
    "KPI 阈值表（含表头）tblKpiThresholds[#All]；可省略=内置阈值 / "
    "thresholds table with headers, tblKpiThresholds[#All]; blank = catalog defaults"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _kpi_flag_frame(raw_values: pd.DataFrame, thresholds: Any, lang: str) -> pd.DataFrame:
    """Flag, thresholds, reason (in ``lang``) and error text per row of a raw KPI values table,
    one output row per input row (blank for a row without a KPI)."""
    n = len(raw_values)
    flags, errors = kpi_flags_from_tables(
        raw_values,
        None,
        table_of(thresholds, KPI_THRESHOLDS),
        lambda table, row: str(row),  # the source column carries the input row
    )
    out = pd.DataFrame(
        {
            "flag": pd.Series([""] * n, dtype=object),
            "green": np.nan,
            "red": np.nan,
            "reason": pd.Series([""] * n, dtype=object),
        }
    )
    at = flags["source"].astype(int).to_numpy()
    out.loc[at, "flag"] = flags["flag"].astype(object).to_numpy()
    out.loc[at, "green"] = flags["green"].to_numpy(dtype=float)
    out.loc[at, "red"] = flags["red"].to_numpy(dtype=float)
    out.loc[at, "reason"] = flags[f"reason_{lang}"].astype(object).to_numpy()
    mine = errors["table"] == "kpi_values"
    out["error"] = row_messages(errors[mine], n).to_numpy()
    blank = raw_values.map(is_blank).all(axis=1).to_numpy(dtype=bool)
    out.loc[blank, "error"] = ""  # a blank row in the table is not a missing KPI
    setting_errors = errors[~mine]
    if len(setting_errors):
        note = "; ".join(format_error(r, "both", locate_setting) for r in records(setting_errors))
        text = out["error"].astype(str)
        out["error"] = text.where(text == "", text + "; ") + note
    return out


@xw.func(category=CATEGORY)
@xw.arg("kpi_values", doc="KPI 数值表（含表头）tblKpiValues[#All] / KPI figures", **TABLE_ARG)
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **TABLE_ARG)
@xw.ret(index=False)
@never_raises
def XLP_KPI_FLAGS(kpi_values: Any, thresholds: Any = None) -> Block:
    """整表 KPI 红绿灯：每行一个灯与一句话原因 / Health flags for a whole KPI table: a flag
    (green, amber, red, check for an implausible figure, no_data) and a one-line reason per
    figure, in one spilled block.

    One row per input row, so the block sits beside tblKpiValues: flag, the green and red
    thresholds applied [KPI unit], the reason (zh when the headers are zh) and the row's error
    text. Threshold-table errors are appended to every row's error cell.
    """
    rows = rows_of(kpi_values)
    raw = table_from_rows(rows, KPI_VALUES, required=True)
    assert raw is not None
    lang = language_of(rows, KPI_VALUES)
    return block(_kpi_flag_frame(raw, thresholds, lang), KPI_FLAG_BLOCK, lang)


@xw.func(category=CATEGORY)
@xw.arg("kpi", doc="KPI 代码或中英文名称，如 库存周转 / KPI key or name, e.g. inventory_turnover")
@xw.arg("value", doc="数值 [KPI 单位]，比例填 0.15 / the figure [KPI unit]; shares as 0.15")
@xw.arg("market", doc="市场代码（选阈值覆盖）；可省略 / market code for overrides; optional")
@xw.arg("channel", doc="渠道（选阈值覆盖）；可省略 / channel for overrides; optional")
@xw.arg("category", doc="品类（选阈值覆盖）；可省略 / category for overrides; optional")
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **TABLE_ARG)
@xw.arg(
    "lang",
    doc="原因的语言 zh / en；空=随 KPI 名称 / language of the reason; blank = the KPI name's",
)
@xw.ret(index=False)
@never_raises
def XLP_KPI_FLAG(
    kpi: Any,
    value: Any,
    market: Any = None,
    channel: Any = None,
    category: Any = None,
    thresholds: Any = None,
    lang: Any = None,
) -> Block:
    """一个 KPI 数值的红绿灯与原因 / The health flag of one KPI figure and its one-line reason:
    one row of two cells, flag (green, amber, red, check, no_data) and reason.

    The one-row case of XLP_KPI_FLAGS. The reason is in lang (zh or en; blank = zh when the KPI
    is named in Chinese). A value that is not a number gives no_data and its error text.
    """
    name = text_arg(kpi)
    language = text_arg(lang).lower() or ("zh" if _CJK.search(name) else "en")
    if language not in ("zh", "en"):
        raise InputError(f"语言应为 zh 或 en: '{language}'", f"lang must be zh or en: '{language}'")
    raw = pd.DataFrame(
        {
            "month": [None],
            "market": [scalar(market)],
            "channel": [scalar(channel)],
            "category": [scalar(category)],
            "kpi": [name],
            "value": [scalar(value)],
            "note": [None],
        },
        dtype=object,
    )
    row = _kpi_flag_frame(raw, thresholds, language).iloc[0]
    reason = str(row["error"]) or str(row["reason"])
    return [[str(row["flag"]) or "no_data", reason]]


def _kpi_key(name: Any) -> str:
    wanted = normalise_header(text_arg(name))
    for key, d in kpi_definitions().items():
        if wanted in {normalise_header(t) for t in (key, d.name_zh, d.name_en)}:
            return key
    raise InputError(f"未知 KPI：{text_arg(name)}", f"unknown KPI: {text_arg(name)}")


@xw.func(category=CATEGORY)
@xw.arg("kpi", doc="KPI 代码或中英文名称，如 库存周转 / KPI key or name, e.g. inventory_turnover")
@xw.arg(
    "headers",
    doc="KPI 原始数据表的表头行 tblKpiRaw[#Headers] / header row of tblKpiRaw",
    **ROW_ARG,
)
@xw.arg("values", doc="同表的一行数据 tblKpiRaw[@] / one data row of that table", **ROW_ARG)
@xw.ret(index=False)
@never_raises
def XLP_KPI(kpi: Any, headers: Any, values: Any) -> Block:
    """由原始数据计算一个 KPI（如 销售成本/平均库存 → 库存周转）/ One KPI computed from a row of
    raw figures (e.g. COGS and average inventory -> inventory turnover), in the KPI's unit.

    Same formulas as the kpi action (catalog in xlplan/reference/data/kpi_catalog.csv); a
    KPI entered in its own column wins. Missing inputs or a zero denominator return the error text.
    """
    key = _kpi_key(kpi)
    head = flat(headers)
    vals = flat(values)
    raw = table_of([head, vals + [None] * (len(head) - len(vals))], KPI_RAW, required=True)
    assert raw is not None
    typed, coerce_errors = coerce_table(raw, KPI_RAW)
    long, derive_errors = derived_values(typed)
    got = long.loc[long["kpi"] == key, "value"]
    if len(got) and np.isfinite(float(got.iloc[0])):
        return [[float(got.iloc[0]) + 0.0]]
    problems = concat_errors([coerce_errors, derive_errors])
    if len(problems):
        return [[f"{ERROR_PREFIX} {record_text(problems)}"]]
    needed = ", ".join(leaf_inputs(key))
    raise InputError(f"缺少输入: {needed}", f"inputs missing: {needed}")


@xw.func(category=CATEGORY)
@xw.arg(
    "raw", doc="KPI 原始数据表（含表头）tblKpiRaw[#All] / raw figures with headers", **TABLE_ARG
)
@xw.arg("thresholds", doc=_DOC_THRESHOLDS, **TABLE_ARG)
@xw.ret(index=False)
@never_raises
def XLP_KPI_FROM_RAW(raw: Any, thresholds: Any = None) -> Block:
    """由原始数据计算全部 KPI 并亮灯 / Every KPI derived from a raw-figures table, flagged:
    the KPI Flags table (month, market, channel, category, KPI, value, flag, reason...).

    One row per KPI whose inputs are filled in a raw row, rows in sheet order; errors (a zero
    denominator, a bad cell or threshold row) follow as #XLPLAN! rows naming table, row, column.
    """
    rows = rows_of(raw)
    frame = table_from_rows(rows, KPI_RAW, required=True)
    assert frame is not None
    lang = language_of(rows, KPI_RAW)
    flags, errors = kpi_flags_from_tables(None, frame, table_of(thresholds, KPI_THRESHOLDS))
    # every column but source: a formula has no sheet row to point at
    shown = KPI_FLAGS.view(KPI_FLAGS.keys[:-1], key="kpi_flag_rows")
    return block(flags, shown, lang) + error_rows(errors, len(shown.keys))
