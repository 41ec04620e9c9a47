"""KPI UDFs as Excel calls them: 2-D lists with zh or en header rows, blanks as None."""

from __future__ import annotations

from typing import Any

import pytest
from xlwings_windows import CELL_ERRORS, WindowsXlwings

import udfs.kpi as udf
from xlplan.kpi import sheets as sheets_kpi
from xlplan.kpi.action import kpi_flags_from_tables
from xlplan.kpi.tables import KPI_FLAGS, KPI_RAW, KPI_THRESHOLDS, KPI_VALUES

FLAG_HEADERS = {"zh": ["灯", "绿灯阈值", "红灯阈值", "原因", "错误"]}
FLAG_HEADERS["en"] = ["Flag", "Green", "Red", "Reason", "Error"]


def value_row(kpi: Any, value: Any, market: Any = None, channel: Any = None) -> list[Any]:
    cells = {"month": "2027-03", "market": market, "channel": channel, "kpi": kpi, "value": value}
    return [cells.get(k) for k in KPI_VALUES.keys]


def threshold_row(
    kpi: str, market: Any = None, green: Any = None, red: Any = None, **more: Any
) -> list[Any]:
    cells = {"kpi": kpi, "market": market, "green": green, "red": red, **more}
    return [cells.get(k) for k in KPI_THRESHOLDS.keys]


def raw_row(**cells: Any) -> list[Any]:
    return [cells.get(k) for k in KPI_RAW.keys]


# ---------------------------------------------------------------------------------------------
# XLP_KPI_FLAGS: the whole table


def test_flags_one_row_per_input_row_with_zh_reasons() -> None:
    rows = [
        KPI_VALUES.headers("zh"),
        value_row("库存周转", 4.8, "US"),  # catalog: green > 6, red <= 4 [1/yr]
        value_row("inventory_turnover", 6.5, "DE"),
        [None] * len(KPI_VALUES.keys),  # a blank row in the middle stays blank
        value_row("ACoS", 0.35, "US"),  # lower is better
        value_row("roas", "abc", "US"),  # a bad row among good ones
        value_row("no such kpi", 1.0, "US"),
    ]
    block = udf.XLP_KPI_FLAGS(rows)
    assert block[0] == FLAG_HEADERS["zh"]
    assert len(block) == len(rows)
    flag, green, red, reason, error = block[1]
    assert (flag, green, red, error) == ("amber", 6.0, 4.0, "")
    assert reason == "库存周转 4.8 次/年 ≤ 6：库存占用资金"
    assert block[2][0] == "green" and block[2][3].startswith("库存周转 6.5 次/年 > 6")
    assert block[3] == ["", "", "", "", ""]
    assert block[4][0] in {"amber", "red"} and "35.0% > 27%" in block[4][3]  # lower is better
    assert block[5][0] == "no_data" and "'abc'" in block[5][4]
    assert block[6][0] == "no_data" and "unknown KPI: no such kpi" in block[6][4]


def test_flags_in_english_follow_the_headers() -> None:
    rows = [KPI_VALUES.headers("en"), value_row("inventory_turnover", 4.8)]
    block = udf.XLP_KPI_FLAGS(rows)
    assert block[0] == FLAG_HEADERS["en"]
    assert block[1][3] == "inventory turnover 4.8 /yr ≤ 6: stock ties up cash"


def test_the_thresholds_table_is_honoured() -> None:
    rows = [
        KPI_VALUES.headers("en"),
        value_row("inventory_turnover", 4.8, "DE"),
        value_row("inventory_turnover", 4.8, "US"),
    ]
    thresholds = [
        KPI_THRESHOLDS.headers("zh"),  # the thresholds table may be in the other language
        threshold_row("inventory_turnover", green=6.0, red=4.0),
        threshold_row("inventory_turnover", market="DE", green=4.5, red=3.0),
    ]
    block = udf.XLP_KPI_FLAGS(rows, thresholds)
    assert block[1][:3] == ["green", 4.5, 3.0]  # the DE override
    assert block[2][:3] == ["amber", 6.0, 4.0]
    assert block[1][4] == block[2][4] == ""


def test_a_bad_threshold_row_is_named_in_every_row() -> None:
    rows = [KPI_VALUES.headers("en"), value_row("inventory_turnover", 4.8, "US")]
    thresholds = [
        KPI_THRESHOLDS.headers("en"),
        threshold_row("inventory_turnover", green=2.0, red=5.0),  # green worse than red
    ]
    (_, row) = udf.XLP_KPI_FLAGS(rows, thresholds)
    assert row[:3] == ["amber", 6.0, 4.0]  # the bad row is ignored: catalog thresholds
    assert "tblKpiThresholds row 1" in row[4] and "green threshold is worse" in row[4]


def test_flags_agree_with_the_action_on_the_sample_figures() -> None:
    import pandas as pd

    values = sheets_kpi.sample_kpi_values()
    body = values.astype(object).where(values.notna(), None).to_numpy().tolist()
    block = udf.XLP_KPI_FLAGS([KPI_VALUES.headers("en"), *body])
    flags, _ = kpi_flags_from_tables(values, None, None)
    entered = (values["kpi"].fillna("") != "").to_numpy()
    got = pd.DataFrame(block[1:], columns=block[0])[entered]
    assert got["Flag"].tolist() == flags["flag"].astype(str).tolist()
    assert got["Reason"].tolist() == flags["reason_en"].astype(str).tolist()


def test_a_table_without_headers_is_one_error_cell() -> None:
    (row,) = udf.XLP_KPI_FLAGS([["x", 1.0]])
    assert len(row) == 1 and row[0].startswith("#XLPLAN!") and "tblKpiValues" in row[0]


# ---------------------------------------------------------------------------------------------
# XLP_KPI_FLAG: one figure


SLOW, FAST = "stock ties up cash", "stock turns fast"


@pytest.mark.parametrize(
    ("kpi", "value", "lang", "flag", "reason"),
    [
        ("库存周转", 4.8, None, "amber", "库存周转 4.8 次/年 ≤ 6：库存占用资金"),
        ("inventory_turnover", 4.8, None, "amber", f"inventory turnover 4.8 /yr ≤ 6: {SLOW}"),
        ("inventory turnover", 6.0, "zh", "amber", "库存周转 6.0 次/年 ≤ 6：库存占用资金"),
        ("inventory_turnover", 4.0, "en", "amber", f"inventory turnover 4.0 /yr ≤ 6: {SLOW}"),
        ("inventory_turnover", 3.9, "en", "red", f"inventory turnover 3.9 /yr < 4: {SLOW}"),
        # shown so that the comparison it states reads true
        ("inventory_turnover", 6.01, "en", "green", f"inventory turnover 6.1 /yr > 6: {FAST}"),
    ],
)
def test_flag_one_value_at_the_edges(
    kpi: str, value: float, lang: Any, flag: str, reason: str
) -> None:
    assert udf.XLP_KPI_FLAG(kpi, value, None, None, None, None, lang) == [[flag, reason]]


def test_flag_one_value_honours_market_overrides() -> None:
    thresholds = [
        KPI_THRESHOLDS.headers("en"),
        threshold_row("inventory_turnover", market="DE", green=4.5, red=3.0),
    ]
    (de,) = udf.XLP_KPI_FLAG("inventory_turnover", 4.8, "DE", None, None, thresholds)
    (us,) = udf.XLP_KPI_FLAG("inventory_turnover", 4.8, "US", None, None, thresholds)
    assert (de[0], us[0]) == ("green", "amber")
    assert de[1] == "inventory turnover 4.8 /yr > 4.5: stock turns fast"


def test_flag_one_implausible_value_and_its_editable_range() -> None:
    (row,) = udf.XLP_KPI_FLAG("库存周转", 72.6)
    assert row[0] == "check" and row[1].startswith("库存周转 72.6 次/年 > 24：数值存疑，请核实")
    (row,) = udf.XLP_KPI_FLAG("profit margin", 0.9, None, None, None, None, "en")
    assert row[0] == "check" and row[1].startswith("profit margin 90.0% > 80%: implausible")
    thresholds = [
        KPI_THRESHOLDS.headers("en"),
        threshold_row("inventory_turnover", market="US", plausible_max=100),
    ]
    (us,) = udf.XLP_KPI_FLAG("inventory_turnover", 72.6, "US", None, None, thresholds)
    assert us[0] == "green"


def test_flag_one_value_without_data() -> None:
    assert udf.XLP_KPI_FLAG("roas", None)[0][0] == "no_data"
    flag, reason = udf.XLP_KPI_FLAG("roas", "n/a")[0]
    assert flag == "no_data" and "'n/a'" in reason
    flag, reason = udf.XLP_KPI_FLAG("nonsense", 1.0)[0]
    assert flag == "no_data" and "unknown KPI" in reason
    (row,) = udf.XLP_KPI_FLAG("roas", 1.0, None, None, None, None, "fr")
    assert row[0].startswith("#XLPLAN!")


# ---------------------------------------------------------------------------------------------
# XLP_KPI: one KPI from raw figures


RAW = raw_row(
    month="2027-01", market="US", channel="Amazon", cogs=1_150_000.0,
    average_inventory=190_000.0, period_months=1.0, ad_revenue=620_000.0, ad_spend=150_000.0,
    orders=9_900.0, returned_orders=420.0, marketing_spend=None,
)  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_kpi_from_raw_figures(lang: str) -> None:
    headers = KPI_RAW.headers(lang)
    # COGS / average inventory, annualised from a one-month period
    (turnover,) = udf.XLP_KPI("inventory_turnover", headers, RAW)
    assert turnover == [pytest.approx(1_150_000 / 190_000 * 12)]
    assert udf.XLP_KPI("ROAS", headers, RAW) == [[pytest.approx(620_000 / 150_000)]]
    assert udf.XLP_KPI("退货率", headers, RAW) == [[pytest.approx(420 / 9_900)]]


def test_kpi_from_raw_figures_reports_what_is_missing() -> None:
    headers = KPI_RAW.headers("en")
    (row,) = udf.XLP_KPI("cac", headers, RAW)
    assert row[0].startswith("#XLPLAN!") and "marketing_spend" in row[0]
    zero = list(RAW)
    zero[KPI_RAW.keys.index("ad_spend")] = 0.0
    (row,) = udf.XLP_KPI("roas", headers, zero)
    assert row[0].startswith("#XLPLAN!") and "ad_spend is 0" in row[0]
    (row,) = udf.XLP_KPI("no such", headers, RAW)
    assert row[0].startswith("#XLPLAN!") and "unknown KPI" in row[0]


# ---------------------------------------------------------------------------------------------
# XLP_KPI_FROM_RAW: derive and flag a raw table


def test_kpis_from_a_raw_table_are_flagged() -> None:
    bad = raw_row(month="2027-02", market="DE", ad_revenue=100.0, ad_spend=0.0)
    rows = [KPI_RAW.headers("zh"), RAW, bad]
    block = udf.XLP_KPI_FROM_RAW(rows)
    assert block[0] == KPI_FLAGS.headers("zh")[:-1]  # no source column
    body = [r for r in block[1:] if not str(r[0]).startswith("#XLPLAN!")]
    by_kpi = {(r[1], r[4]): r for r in body}
    turnover = by_kpi[("US", "inventory_turnover")]
    # 72.6 turns a year: a figure to verify, with the reason in the block's language
    assert turnover[7] == pytest.approx(1_150_000 / 190_000 * 12) and turnover[9] == "check"
    assert "数值存疑，请核实" in turnover[12] and "implausible" in turnover[13]
    assert by_kpi[("DE", "roas")][9] == "no_data"
    errors = [r[0] for r in block if str(r[0]).startswith("#XLPLAN!")]
    assert errors and "tblKpiRaw row 2" in errors[0] and "ad_spend" in errors[0]
    assert len({len(r) for r in block}) == 1


# ---------------------------------------------------------------------------------------------
# Through xlwings' own conversion, as Excel on Windows calls them


def test_kpi_udfs_through_xlwings_conversion(xlwings_windows: WindowsXlwings) -> None:
    module = xlwings_windows.load_udfs()
    rows = [
        KPI_VALUES.headers("en"),
        value_row("inventory_turnover", 4.8),
        value_row("roas", CELL_ERRORS["#DIV/0!"]),  # an error cell reads as its text
    ]
    written = xlwings_windows.call(module.XLP_KPI_FLAGS, rows)
    assert written[0] == FLAG_HEADERS["en"] and written[1][0] == "amber"
    assert written[2][0] == "no_data" and "#DIV/0!" in written[2][4]
    assert all(isinstance(v, str | float | int) for r in written for v in r)
    written = xlwings_windows.call(module.XLP_KPI_FLAG, "库存周转", 4.8)
    assert written == [["amber", "库存周转 4.8 次/年 ≤ 6：库存占用资金"]]
    written = xlwings_windows.call(module.XLP_KPI, "roas", KPI_RAW.headers("en"), RAW)
    assert written == [[pytest.approx(620_000 / 150_000)]]
