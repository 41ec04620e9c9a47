"""The ``kpi`` action through the file port on real template files: flags, thresholds from the
workbook, errors located in the sheet, the Dashboard's tables and charts in the output."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.core.errors import records
from xlplan.kpi.action import waterfall_table
from xlplan.kpi.tables import KPI_RAW
from xlplan.plan.action import ActionResult
from xlplan.workbook.io import FilePort

TODAY = date(2026, 11, 21)


def port_of(path: Path) -> FilePort:
    return FilePort(path, actions.CATALOG)


def kpi(port: FilePort) -> ActionResult:
    """Run the kpi action alone, with the workbook's settings."""
    return actions.run(port, TODAY, ["kpi"]).steps[-1].result


def template(tmp_path: Path, lang: str = "en") -> Path:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return path


def table_cells(path: Path, sheet: str, table: str) -> tuple[list[str], list[list[object]], str]:
    """Header, data rows and the ref of an Excel table, as openpyxl reads it."""
    ws = openpyxl.load_workbook(path)[sheet]
    ref = ws.tables[table].ref
    rows = [[c.value for c in r] for r in ws[ref]]
    return [str(h) for h in rows[0]], rows[1:], ref


def cell_of(path: Path, sheet: str, table: str, row: int, header: str) -> str:
    """``D9``: the cell of data row ``row`` (0-based) under ``header`` in ``table``."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    headers, _, ref = table_cells(path, sheet, table)
    min_col, min_row, _, _ = range_boundaries(ref)
    return f"{get_column_letter(min_col + headers.index(header))}{min_row + 1 + row}"


def edit(path: Path, sheet: str, cells: dict[str, object]) -> None:
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def flags_of(port: FilePort) -> pd.DataFrame:
    return port.written["kpi_flags"]


def pick(flags: pd.DataFrame, month: str, market: str, kpi: str) -> pd.Series:
    hit = flags[(flags["month"] == month) & (flags["market"] == market) & (flags["kpi"] == kpi)]
    assert len(hit) == 1, (month, market, kpi)
    return hit.iloc[0]


def test_kpi_action_flags_every_colour_with_reasons(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    result = kpi(port)
    assert result.errors.empty, result.errors
    flags = flags_of(port)
    assert set(flags["flag"]) == {"green", "amber", "red", "no_data"}
    csat = pick(flags, "2027-03", "MX", "csat")
    assert csat["flag"] == "red"
    assert (
        csat["reason_en"]
        == "CSAT 72.0% < 76%: customers are unhappy: check service and localisation"
    )
    assert csat["reason_zh"].startswith("客户满意度 72.0% < 76%")
    assert csat["source"] == "KPI!11:11"  # the third figure of tblKpiValues
    # derived from raw figures: inventory turnover = COGS x 12 / (average inventory x months)
    turnover = pick(flags, "2027-01", "US", "inventory_turnover")
    assert turnover["value"] == pytest.approx(4_600_000 * 12 / 6_730_000)  # 8.2 a year
    assert turnover["source"].startswith("KPI Raw!")
    assert turnover["flag"] == "green"
    # only KPIs the raw row has inputs for: no profit margin without a profit column
    assert "profit_margin" not in set(flags["kpi"])
    assert "KPI: " in result.summary[0].en


def test_an_implausible_figure_is_flagged_to_check_not_green(tmp_path: Path) -> None:
    """Issue 11: an average inventory typed without three zeros gave 72.6 turns a year, shown
    green. Beyond 24 a year it is a figure to verify."""
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = next(w for w in wb.worksheets if "tblKpiRaw" in w.tables)
    rows = list(ws[ws.tables["tblKpiRaw"].ref])
    j = [c.value for c in rows[0]].index(KPI_RAW.column("average_inventory").header("en"))
    rows[3][j].value = 840_000  # US, the last month: COGS 5.08M a month
    wb.save(path)
    port = port_of(path)
    kpi(port)
    turnover = pick(flags_of(port), "2027-03", "US", "inventory_turnover")
    assert turnover["flag"] == "check"
    assert turnover["reason_en"].startswith("inventory turnover 72.6 /yr > 24: implausible")
    assert turnover["reason_zh"].startswith("库存周转 72.6 次/年 > 24：数值存疑，请核实")
    # on the Dashboard: red first, then the figures to verify, then amber
    actions.run(port, TODAY, ["track", "kpi"])
    attention = port.written["dash_kpis"]
    order = attention["flag"].drop_duplicates().tolist()
    assert order[:3] == ["red", "check", "amber"], order
    assert "implausible" in attention.loc[attention["flag"] == "check", "reason_en"].iloc[0]


def test_thresholds_table_overrides_the_catalog(tmp_path: Path) -> None:
    path = template(tmp_path)
    before = port_of(path)
    kpi(before)
    assert pick(flags_of(before), "2027-03", "DE", "csat")["flag"] == "amber"  # 82% < 91%
    # the template's own example: MX delivery days judged on 10 / 20 days, not 5 / 15
    mx = pick(flags_of(before), "2027-03", "MX", "delivery_days")
    assert (mx["flag"], mx["green"], mx["red"]) == ("amber", 10.0, 20.0)
    assert pick(flags_of(before), "2027-03", "US", "delivery_days")["green"] == 5.0

    _, rows, _ = table_cells(path, "KPI", "tblKpiThresholds")
    row = next(i for i, r in enumerate(rows) if r[0] == "csat")
    edit(path, "KPI", {cell_of(path, "KPI", "tblKpiThresholds", row, "Green"): "80%"})
    after = port_of(path)
    result = kpi(after)
    assert result.errors.empty, result.errors
    csat = pick(flags_of(after), "2027-03", "DE", "csat")
    assert (csat["flag"], csat["green"]) == ("green", 0.8)


def test_the_plausible_range_is_an_editable_threshold(tmp_path: Path) -> None:
    """The thresholds table carries each KPI's plausible range; a US row of its own with a
    turnover maximum of 5 makes the US's 8.2 a figure to check while DE's 7.0 keeps its colour,
    and a crossed range is an error on its cell."""
    path = template(tmp_path)
    headers, rows, _ = table_cells(path, "KPI", "tblKpiThresholds")
    turnover = next(r for r in rows if r[0] == "inventory_turnover")
    at = {h: i for i, h in enumerate(headers)}
    assert (turnover[at["Plausible min"]], turnover[at["Plausible max"]]) == (0, 24)
    assert "practitioner judgement" in str(turnover[at["Source"]])
    row = next(i for i, r in enumerate(rows) if r[0] == "roas")
    edit(
        path,
        "KPI",
        {
            cell_of(path, "KPI", "tblKpiThresholds", row, "Plausible min"): 30,
            cell_of(path, "KPI", "tblKpiThresholds", len(rows), "KPI"): "inventory_turnover",
            cell_of(path, "KPI", "tblKpiThresholds", len(rows), "Market"): "US",
            cell_of(path, "KPI", "tblKpiThresholds", len(rows), "Plausible max"): 5,
        },
    )
    wb = openpyxl.load_workbook(path)
    table = wb["KPI"].tables["tblKpiThresholds"]
    first, last = table.ref.split(":")
    table.ref = f"{first}:{re.sub(r'[0-9]+', '', last)}{int(re.sub(r'[A-Z]+', '', last)) + 1}"
    wb.save(path)
    port = port_of(path)
    result = kpi(port)
    where = {port.locate(r): r.en for r in records(result.errors)}
    crossed = cell_of(path, "KPI", "tblKpiThresholds", row, "Plausible min")
    assert (
        list(where) == [f"KPI!{crossed}"]
        and "not below the plausible max" in where[f"KPI!{crossed}"]
    )
    flags = flags_of(port)
    assert pick(flags, "2027-01", "US", "inventory_turnover")["flag"] == "check"  # 8.2 > 5
    assert pick(flags, "2027-01", "DE", "inventory_turnover")["flag"] == "green"  # 7.0


def test_bad_rows_are_located_in_the_sheet(tmp_path: Path) -> None:
    path = template(tmp_path)
    value_cell = cell_of(path, "KPI", "tblKpiValues", 0, "Value")
    kpi_cell = cell_of(path, "KPI", "tblKpiValues", 1, "KPI")
    sessions_cell = cell_of(path, "KPI Raw", "tblKpiRaw", 2, "Sessions")
    red_cell = cell_of(path, "KPI", "tblKpiThresholds", 0, "Red")
    edit(path, "KPI", {value_cell: "n/a", kpi_cell: "happiness", red_cell: 9})
    edit(path, "KPI Raw", {sessions_cell: 0})
    port = port_of(path)
    result = kpi(port)
    where = {port.locate(r): r.en for r in records(result.errors)}
    assert "not a number" in where[f"KPI!{value_cell}"]
    assert where[f"KPI!{kpi_cell}"] == "unknown KPI: happiness"
    green_cell = cell_of(path, "KPI", "tblKpiThresholds", 0, "Green")
    assert "green threshold is worse than red" in where[f"KPI!{green_cell}"]
    assert "conversion rate cannot be computed" in where[f"KPI Raw!{sessions_cell}"]
    # the other figures still flag
    flags = flags_of(port)
    assert pick(flags, "2027-03", "MX", "csat")["flag"] == "red"
    assert pick(flags, "2027-03", "US", "csat")["flag"] == "no_data"


def test_dashboard_tables_from_tracking_and_landed_cost(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    actions.run(port, TODAY, ["kpi", "track", "split", "align", "landed_cost"])
    months = port.written["dash_months"]
    assert months["month"].tolist() == list(range(1, 13))
    tracking = port.written["tracking"]
    assert months["plan"].tolist() == pytest.approx(tracking["plan"].tolist())
    markets = port.written["dash_markets"]
    assert "LATAM" in set(markets["market"])
    assert markets["ytd_actual"].sum() == pytest.approx(months["actual"].sum())
    counts = port.written["dash_kpi_counts"].set_index("market")
    # the KPI sheets' markets, then those whose only figure is the platform commission
    # computed from the Landed Cost Results
    assert list(counts.index)[:3] == ["US", "DE", "MX"]
    flags = port.written["kpi_flags"]
    for market in list(counts.index)[3:]:
        assert set(flags.loc[flags["market"] == market, "kpi"]) == {"commission_rate"}
    assert counts.loc["MX", "red"] > counts.loc["US", "red"]
    assert counts["check"].sum() == 0  # the example's figures are all plausible
    attention = port.written["dash_kpis"]
    assert attention["flag"].iloc[0] == "red" and "green" not in set(attention["flag"])
    order = attention["flag"].drop_duplicates().tolist()
    assert order[:2] == ["red", "amber"], order
    assert "check 0" in actions.run(port, TODAY, ["kpi"]).steps[-1].result.summary[0].en
    waterfall = port.written["dash_waterfall"]
    results = port.written["landed_cost_results"].iloc[0]
    assert waterfall["step"].iloc[0] == "net_price"
    assert waterfall["amount"].iloc[0] == pytest.approx(results["net_price"])
    assert waterfall["step"].iloc[-1] == "contribution"
    assert waterfall["amount"].iloc[-1] == pytest.approx(results["contribution"])
    steps = waterfall[waterfall["step"] != "contribution"]["amount"].sum()
    assert steps == pytest.approx(results["contribution"], abs=0.05)


def test_waterfall_line_is_chosen_by_settings() -> None:
    results = pd.DataFrame(
        {
            "sku": ["A", "B", "B"],
            "market": ["US", "DE", "MX"],
            "channel": ["Amazon", "Amazon", "Mercado Libre"],
            "currency": ["USD", "EUR", "MXN"],
            "net_price": [10.0, 20.0, 200.0],
            "landed_cost": [4.0, 8.0, 90.0],
            "total_cost": [6.0, 12.0, 150.0],
            "contribution": [4.0, 8.0, 50.0],
            "error": ["", "", ""],
        }
    )
    assert waterfall_table(results)["line"].iloc[0] == "A · US · Amazon · USD"
    assert waterfall_table(results, "b mx")["line"].iloc[0].startswith("B · MX")
    assert waterfall_table(results, 2)["line"].iloc[0].startswith("B · DE")
    wf = waterfall_table(results, "B MX")
    # costs the groups do not name become "other", so the steps always add up
    assert wf["step"].tolist()[-2:] == ["other", "contribution"]
    assert wf["amount"].iloc[:-1].sum() == pytest.approx(50.0)
    bars = wf.set_index("step")
    assert bars.loc["landed_cost", "base"] == pytest.approx(110.0)  # 200 - 90, drawn down to it


def test_cli_run_writes_flags_and_dashboard_with_charts(tmp_path: Path) -> None:
    src = template(tmp_path, "zh")
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "-o", str(out), "--date", "2026-11-21"]) == 0
    wb = openpyxl.load_workbook(out)
    assert {"KPI 预警", "看板"} <= set(wb.sheetnames)
    assert "tblKpiFlags" in wb["KPI 预警"].tables
    assert {"tblDashMonths", "tblDashWaterfall"} <= set(wb["看板"].tables)
    with zipfile.ZipFile(out) as zf:
        charts = [n for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        sheets: list[str] = []
        for name in charts:  # each chart reads one sheet, its own
            refs = re.findall(r"<c:f>([^<]*)</c:f>", zf.read(name).decode())
            owners = {re.sub(r"^'?([^'!]*)'?!.*$", r"\1", r) for r in refs}
            assert refs and len(owners) == 1, refs
            sheets.extend(owners)
        # months, markets, traffic lights, waterfall, stock cover, cash curve
        assert sheets.count("看板") == 6
    # the user's input sheets are untouched
    before = openpyxl.load_workbook(src, data_only=True)
    after = openpyxl.load_workbook(out, data_only=True)
    for sheet in ("KPI 数据", "KPI 原始数据"):
        a = [[c.value for c in r] for r in before[sheet].iter_rows()]
        b = [[c.value for c in r] for r in after[sheet].iter_rows()]
        assert a == b, sheet


def test_kpi_runs_after_track_and_landed_cost() -> None:
    names = [a.name for a in actions.ordered(["kpi", "landed_cost", "track"])]
    assert names.index("kpi") > names.index("track")
    assert names.index("kpi") > names.index("landed_cost")


def test_a_workbook_without_kpi_sheets_still_gets_its_dashboard(tmp_path: Path) -> None:
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    for sheet in ("KPI", "KPI Raw", "KPI Flags", "Dashboard"):
        wb.remove(wb[sheet])
    wb.save(path)
    port = port_of(path)
    result = actions.run(port, TODAY, ["landed_cost", "kpi"]).steps[-1].result
    assert result.errors.empty
    assert "no KPI table" in result.summary[0].en
    assert port.written["kpi_flags"].empty and port.written["dash_kpi_counts"].empty
    assert len(port.written["dash_waterfall"]) >= 2
    out = tmp_path / "out.xlsx"
    port.save(out)
    assert "Dashboard" in openpyxl.load_workbook(out).sheetnames


def test_the_dashboard_shows_the_stock_and_cash_plans(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    actions.run(port, TODAY, ["kpi", "cash", "stock"])
    assert [a.name for a in actions.ordered(["kpi", "cash", "stock"])][-1] == "kpi"
    stock = port.written["dash_stock"]
    months = port.written["stock_months"]
    assert stock["month"].tolist() == months["month"].tolist()
    assert stock["stock_value"].tolist() == pytest.approx(months["stock_value"].tolist())
    cash = port.written["dash_cash"]
    curve = port.written["cash_curve"]
    assert cash["closing"].tolist() == pytest.approx(curve["closing"].tolist())
    peak = port.written["cash_summary"]["funding_need"].iloc[0]
    assert cash["tied_up"].max() == pytest.approx(peak)


def test_without_stock_and_cash_plans_the_panel_says_what_to_run(tmp_path: Path) -> None:
    from xlplan.kpi.action import cash_curve_table, stock_cover_table

    assert stock_cover_table(None).empty and cash_curve_table(pd.DataFrame()).empty
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    for sheet in ("Stock Plan", "Cash Plan"):
        wb.remove(wb[sheet])
    wb.save(path)
    port = port_of(path)
    result = kpi(port)
    assert port.written["dash_stock"].empty and port.written["dash_cash"].empty
    assert "Stock Plan" in result.summary[-1].en and "Cash Plan" in result.summary[-1].en


def test_platform_commission_is_computed_from_the_landed_cost_results() -> None:
    from xlplan.kpi.action import kpi_flag_table, platform_commission

    results = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "market": ["US", "US", "US", "DE"],
            "channel": ["Amazon", "Amazon", "Shopify", "Amazon"],
            "net_price": [20.0, 30.0, 50.0, None],
            "sales_tax": [0.0, 0.0, 0.0, None],
            "referral_fee": [3.0, 4.5, 0.0, None],
            "payment_fee": [0.0, 0.0, 1.75, None],
            "fulfilment_cost": [4.0, 5.0, 4.0, None],
            "error": ["", "", "", "unknown market"],
        }
    )
    got = platform_commission(results)
    assert got[["market", "channel"]].to_numpy().tolist() == [["US", "Amazon"], ["US", "Shopify"]]
    # (3 + 4 + 4.5 + 5) / (20 + 30) = 33%; (1.75 + 4) / 50 = 11.5%
    assert got["value"].tolist() == pytest.approx([0.33, 0.115])
    entered = pd.DataFrame(
        {
            "month": [""],
            "market": ["US"],
            "channel": ["Shopify"],
            "category": [""],
            "kpi": ["commission_rate"],
            "value": [0.2],
        }
    )
    flags, _ = kpi_flag_table(entered, None, None, None, got)
    rates = flags[flags["kpi"] == "commission_rate"].set_index("channel")["value"]
    assert rates.to_dict() == pytest.approx({"Shopify": 0.2, "Amazon": 0.33})  # typed wins
