"""The maps' actions (business, customers, products) through the file port on real templates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from xlplan import actions
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.core.errors import records
from xlplan.maps import tables as schema_maps
from xlplan.maps.action import FAIL_TEXT, KEPT_TEXT, PASS_TEXT, import_orders, usd_rate
from xlplan.maps.calc.business import BusinessSettings
from xlplan.orders import parse_mapping
from xlplan.plan.read import read_fx
from xlplan.planning.tables import TARGET_LINES
from xlplan.workbook.io import FilePort

TODAY = date(2026, 11, 21)


def port_of(path: Path) -> FilePort:
    return FilePort(path, actions.CATALOG)


ORDERS = Path(__file__).parents[1] / "data" / "orders"
SHOPIFY = (ORDERS / "shopify_orders_export_subset_sample.csv").resolve()
SETTLEMENT = (ORDERS / "amazon_mws_settlement_flatfile_CA_subscription.tsv").resolve()
POOL = 300_000_000


def template(tmp_path: Path, lang: str = "en") -> Path:
    path = tmp_path / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return path


def run(port: FilePort, name: str) -> actions.ActionResult:
    """The action ``name`` alone (the producers it needs come first when their tables are
    empty), with the workbook's settings; its own result."""
    return actions.run(port, TODAY, [name]).steps[-1].result


def set_setting(path: Path, table: str, key: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if table in ws.tables:
            ref = ws.tables[table].ref
            for row in ws[ref]:
                if row[0].value == key:
                    row[1].value = value
                    wb.save(path)
                    return
    raise KeyError(key)


def list_imports(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Write (path, format, mapping) rows into tblOrderImports, growing the table."""
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if "tblOrderImports" in ws.tables)
    table = ws.tables["tblOrderImports"]
    first = int(table.ref.split(":")[0][1:])
    for i, (file, fmt, mapping) in enumerate(rows, start=first + 1):
        ws[f"A{i}"], ws[f"B{i}"], ws[f"C{i}"] = file, fmt, mapping or None
    table.ref = f"A{first}:E{first + len(rows)}"
    wb.save(path)


def proposals(port: FilePort) -> pd.DataFrame:
    return port.written["map_proposals"]


def test_the_maps_actions_are_registered() -> None:
    assert {"business", "customers", "products"} <= set(actions.ACTIONS)
    names = [a.name for a in actions.ordered(["business", "landed_cost"])]
    assert names == ["landed_cost", "business"]


# --------------------------------------------------------------------------------------------
# Business map


def set_cells(path: Path, row: int, cells: dict[str, object]) -> None:
    """Write ``cells`` (by column key) into data row ``row`` (0-based) of tblBusinessMarkets."""
    wb = openpyxl.load_workbook(path)
    ws = next(ws for ws in wb.worksheets if "tblBusinessMarkets" in ws.tables)
    header, *body = ws[ws.tables["tblBusinessMarkets"].ref]
    table = schema_maps.BUSINESS_MARKETS
    keys = {table.column(k).header(lang): k for lang in ("zh", "en") for k in table.keys}
    at = {keys[str(cell.value)]: j for j, cell in enumerate(header)}
    for key, value in cells.items():
        body[row][at[key]].value = value
    wb.save(path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_business_screens_the_sample_markets(tmp_path: Path, lang: str) -> None:
    port = port_of(template(tmp_path, lang))
    result = run(port, "business")
    assert result.errors.empty, result.errors
    table = port.written["business_screening"]
    assert list(table.columns) == schema_maps.BUSINESS_SCREENING.keys
    assert set(table["market"]) == {"US", "DE", "GB", "JP", "MX", "BR", "SA"}
    assert table["rank"].tolist() == sorted(table["rank"])
    status = table.set_index("market")["status"]
    assert set(status[status == PASS_TEXT].index) == {"GB", "SA"}
    # the method's Latin America markets fail static screens and are kept for growth
    assert set(status[status == KEPT_TEXT].index) == {"MX", "BR"}
    mx = table.set_index("market").loc["MX"]
    assert "GDP per capita too low" in mx["failed_en"] and "人均GDP不足" in mx["failed_zh"]
    assert mx["keep_reason"] and mx["rank"] == 1  # growth, competition gap, local warehouse
    assert mx["ecommerce_growth"] == pytest.approx(0.20) and "AMVO" in mx["growth_source"]
    assert mx["opportunity_score"] > table.set_index("market").loc["GB", "opportunity_score"]
    # the pool (3 亿 CNY) is shared by the passing and kept markets, exactly, in whole
    # Settings rounding units (10,000 in the template)
    chosen = table[table["status"].isin([PASS_TEXT, KEPT_TEXT])]
    assert chosen["proposed_target"].sum() == POOL
    assert (chosen["proposed_target"] % 10_000 == 0).all()
    out = proposals(port)
    assert list(out.columns) == TARGET_LINES.keys
    assert set(out["map"]) == {"business"}
    assert out["amount"].sum() == POOL
    assert set(out["market"]) == {"GB", "SA", "MX", "BR"}
    assert out.set_index("market").loc["SA", "channel"] == "Noon"
    note = out.set_index("market").loc["BR", "note"]
    assert "kept" in note and "保留" in note and mx["keep_reason"] not in note
    assert table.set_index("market").loc["BR", "keep_reason"] in note
    [summary] = result.summary
    assert "2 kept (MX, BR)" in summary.en and "unallocated 0" in summary.en


def test_the_summary_says_exactly_what_is_left_of_the_pool(tmp_path: Path) -> None:
    """A pool that is not a whole number of rounding units: the proposals take the whole
    units, the summary says the rest is unallocated, and the two add up to the pool."""
    path = template(tmp_path)
    set_setting(path, "tblBusinessSettings", "incremental_pool", 300_000_001)
    port = port_of(path)
    result = run(port, "business")
    assert proposals(port)["amount"].sum() == 300_000_000
    assert "proposed 300,000,000 CNY, unallocated 1" in result.summary[0].en


def test_a_keep_without_a_reason_is_located_at_its_cell(tmp_path: Path) -> None:
    path = template(tmp_path)
    set_cells(path, 0, {"keep": True})  # US, no reason
    set_cells(path, 4, {"keep_reason": None})  # MX: kept, reason cleared
    port = port_of(path)
    result = run(port, "business")
    where = {port.locate(r): r.en for r in records(result.errors)}
    col = get_column_letter(schema_maps.BUSINESS_MARKETS.keys.index("keep_reason") + 1)
    assert set(where) == {f"Business Map!{col}9", f"Business Map!{col}13"}, where
    assert all("no reason" in msg for msg in where.values())
    status = port.written["business_screening"].set_index("market")["status"]
    assert status["US"] == status["MX"] == FAIL_TEXT  # neither is kept; the others compute
    assert status["BR"] == KEPT_TEXT
    assert set(proposals(port)["market"]) == {"GB", "SA", "BR"}


def test_typed_growth_and_planned_delivery_override_the_shipped_data(tmp_path: Path) -> None:
    path = template(tmp_path)
    set_cells(path, 2, {"ecommerce_growth": "12%"})  # GB
    set_cells(path, 4, {"planned_delivery_days": None})  # MX: no fix
    port = port_of(path)
    run(port, "business")
    table = port.written["business_screening"].set_index("market")
    assert table.loc["GB", "ecommerce_growth"] == pytest.approx(0.12)
    assert "entered" in table.loc["GB", "growth_source"]
    (tmp_path / "b").mkdir()
    fresh = port_of(template(tmp_path / "b"))
    run(fresh, "business")
    before = fresh.written["business_screening"].set_index("market")
    assert table.loc["GB", "opportunity_score"] > before.loc["GB", "opportunity_score"]
    assert table.loc["MX", "score"] < before.loc["MX", "score"]  # no logistics fix planned


def test_growth_weights_are_editable_settings(tmp_path: Path) -> None:
    path = template(tmp_path)
    for key in ("weight_growth", "weight_competition", "weight_logistics_fix"):
        set_setting(path, "tblBusinessSettings", key, 0)
    set_setting(path, "tblBusinessSettings", "growth_reference", "5%")
    port = port_of(path)
    result = run(port, "business")
    assert result.errors.empty
    table = port.written["business_screening"]
    assert (table["opportunity_score"] == 0).all()
    # static screens alone put GB and SA ahead of the markets kept for growth
    assert set(table["market"].tolist()[:2]) == {"SA", "GB"}


def test_blank_margins_come_from_the_landed_cost_results(tmp_path: Path) -> None:
    path = template(tmp_path)
    port = port_of(path)
    assert run(port, "landed_cost").errors.empty
    lc = port.written["landed_cost_results"]
    run(port, "business")
    table = port.written["business_screening"].set_index("market")
    for market in ("US", "DE", "JP", "MX"):
        expected = lc.loc[lc["market"] == market, "contribution_margin"].median()
        assert table.loc[market, "margin"] == pytest.approx(expected, abs=1e-4)
        assert "landed cost" in table.loc[market, "margin_source"]
    assert table.loc["GB", "margin"] == pytest.approx(0.33)
    assert "entered" in table.loc["GB", "margin_source"]
    # the same margins when the results sheet is still empty: computed from the lines
    fresh = port_of(path)  # the file's results sheet is empty
    run(fresh, "business")
    again = fresh.written["business_screening"].set_index("market")
    assert again["margin"].equals(table["margin"])


def test_business_capacity_is_converted_with_the_fx_table(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    run(port, "business")
    fx, _ = read_fx(port)
    assert fx is not None
    rate = usd_rate(fx, "CNY")
    assert 6 < rate < 9
    gb = port.written["business_screening"].set_index("market").loc["GB"]
    share = BusinessSettings().max_market_share
    assert gb["capacity"] == pytest.approx(200e9 * share * rate, abs=1)


def test_editable_thresholds_and_bad_settings(tmp_path: Path) -> None:
    path = template(tmp_path)
    set_setting(path, "tblBusinessSettings", "threshold_margin", "10%")
    set_setting(path, "tblBusinessSettings", "threshold_payout_days", 14)
    set_setting(path, "tblBusinessSettings", "weight_margin", -1)  # refused: default kept
    set_setting(path, "tblBusinessSettings", "incremental_pool", "lots")
    port = port_of(path)
    result = run(port, "business")
    table = port.written["business_screening"]
    passing = set(table.loc[table["status"] == PASS_TEXT, "market"])
    assert {"US", "DE", "JP", "GB", "SA"} <= passing
    where = {port.locate(r): r.en for r in records(result.errors)}
    assert len(where) == 2, where
    assert any("weight_margin" in msg and "default" in msg for msg in where.values())
    assert any("incremental_pool must be a number" in msg for msg in where.values())
    assert all(w.startswith("Business Map!") for w in where)


def test_a_negative_pool_is_refused(tmp_path: Path) -> None:
    path = template(tmp_path)
    set_setting(path, "tblBusinessSettings", "incremental_pool", -5)
    port = port_of(path)
    result = run(port, "business")
    [record] = records(result.errors)
    assert "cannot be negative" in record.en and port.locate(record).startswith("Business Map!")
    assert proposals(port)["amount"].sum() == pytest.approx(POOL, abs=2)


def test_reporting_currency_usd_needs_no_conversion(tmp_path: Path) -> None:
    path = template(tmp_path)
    set_setting(path, "tblSettings", "reporting_currency", "USD")
    port = port_of(path)
    run(port, "business")
    gb = port.written["business_screening"].set_index("market").loc["GB"]
    assert gb["capacity"] == pytest.approx(200e9 * BusinessSettings().max_market_share)


# --------------------------------------------------------------------------------------------
# Customer map


def test_customers_import_real_exports_and_report_a_bad_file_on_its_row(tmp_path: Path) -> None:
    path = template(tmp_path)
    bad = tmp_path / "broken.csv"
    bad.write_text("Name,Email,Created at,Total\n#1,a@b.c,not a date,12.5\n", encoding="utf-8")
    list_imports(
        path,
        [
            (str(SHOPIFY), "shopify", ""),
            (str(bad), "shopify", ""),
            (str(SETTLEMENT), "amazon_settlement", ""),
            (str(tmp_path / "missing.csv"), "shopify", ""),
        ],
    )
    port = port_of(path)
    result = run(port, "customers")
    where = {port.locate(r): r.en for r in records(result.errors)}
    # the import table's header is on row 8: rows 9-12 hold the four files
    assert set(where) == {"Customer Map!A10", "Customer Map!A12"}, where
    assert "broken.csv" in where["Customer Map!A10"]
    assert "file not found" in where["Customer Map!A12"]

    log = port.written["order_import_log"].set_index("row")
    assert log.loc[1, "order_lines"] == 249 and log.loc[1, "orders"] == 127
    assert log.loc[3, "order_lines"] == 0 and log.loc[3, "error"] == ""  # fees only, no sales
    assert "broken.csv" in log.loc[2, "error"]
    # the 7 Shopify lines without an e-mail: a warning on their file, not an error
    assert log.loc[1, "error"] == ""
    assert log.loc[1, "warning"].endswith(
        "7 order lines have no customer id (first on line 39): in no customer count or tier; "
        "their amount is in this file's Amount"
    )
    assert (log.loc[[2, 3, 4], "warning"] == "").all()

    tiers = port.written["customer_tiers"]
    assert list(tiers.columns) == schema_maps.CUSTOMER_TIERS.keys
    totals = port.written["customer_totals"].iloc[0]
    assert tiers["customers"].sum() == totals["customers"] == 57
    assert totals["currency"] == "CNY"
    assert tiers["revenue_share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert totals["as_of"] == pd.Timestamp(2025, 7, 27)
    assert "7 order lines (5 orders) have no customer id" in totals["warnings"]

    out = proposals(port)
    assert list(out.columns) == TARGET_LINES.keys
    assert set(out["map"]) == {"customer"}
    assert set(out["customer_type"]) == {"existing", "new"}
    assert "2 of 4 files imported" in result.summary[0].en


def test_the_customer_target_is_one_figure_wherever_it_is_shown(tmp_path: Path) -> None:
    """Tier targets, their total, the proposals and the summary: the same rounded figures, to
    the Settings rounding unit, adding up exactly."""
    path = template(tmp_path)
    list_imports(path, [(str(SHOPIFY), "shopify", "")])
    for unit in (1, 10_000):
        set_setting(path, "tblSettings", "rounding_unit", unit)
        port = port_of(path)
        result = run(port, "customers")
        tiers = port.written["customer_tiers"].set_index("tier")
        totals = port.written["customer_totals"].iloc[0]
        out = proposals(port).set_index(["customer_tier", "customer_type"])["amount"]
        assert (tiers["proposed_target"] % unit == 0).all()
        assert tiers["proposed_target"].sum() == totals["proposed_target"] == out.sum()
        assert (tiers["existing_target"] + tiers["new_target"] == tiers["proposed_target"]).all()
        for tier, row in tiers.iterrows():
            for kind in ("existing", "new"):
                amount = row[f"{kind}_target"]
                assert out.get((tier, kind), 0.0) == amount
        assert f"proposed {totals['proposed_target']:,.0f} CNY" in result.summary[0].en


def test_customer_tiers_show_the_data_and_the_formula(tmp_path: Path) -> None:
    """The Shopify fixture in a 2027 plan: 6.8 months of orders ending 17.2 months before the
    plan year, annualised and said so; only the B2C tiers (no B2B customer in auto mode)."""
    path = template(tmp_path)
    list_imports(path, [(str(SHOPIFY), "shopify", "")])
    set_setting(path, "tblSettings", "plan_year", 2027)
    port = port_of(path)
    result = run(port, "customers")
    assert result.errors.empty
    tiers = port.written["customer_tiers"]
    assert tiers["tier"].tolist() == ["high_value_repeat", "potential", "new", "at_risk", "churned"]
    totals = port.written["customer_totals"].iloc[0]
    assert (totals["first_order"], totals["last_order"]) == (
        pd.Timestamp(2025, 1, 1), pd.Timestamp(2025, 7, 27)
    )  # fmt: skip
    assert (totals["data_months"], totals["months_covered"], totals["months_to_plan"]) == (
        6.8, 6.8, 17.2
    )  # fmt: skip
    assert totals["plan_year"] == 2027
    # the 7 guest lines are in the window revenue, shown apart, in no tier
    assert totals["revenue"] == pytest.approx(
        tiers["revenue"].sum() + totals["revenue_no_customer"], abs=len(tiers)
    )
    assert (tiers["months_covered"] == 6.8).all()
    assert set(tiers["retention_basis"]) == {"默认 / default"}
    assert tiers.set_index("tier").loc["at_risk", "retention"] == 0.1
    texts = [m.en for m in result.summary]
    assert texts[1].startswith("customer map: orders 2025-01-01 to 2025-07-27 (6.8 months)")
    assert "annualised by 12/6.8 = x1.76" in texts[1]
    warnings = [t for t in texts if t.startswith("warning: ")]
    assert len(warnings) == 3
    assert "older than a year" in warnings[1] and "fewer than 12" in warnings[2]
    # the same warnings on the sheet, in both languages
    assert totals["warnings"].count("older than a year") == 1
    assert totals["warnings"].count("超过一年") == 1


def test_customers_amounts_are_in_the_reporting_currency(tmp_path: Path) -> None:
    path = template(tmp_path)
    list_imports(path, [(str(SHOPIFY), "shopify", "")])
    cny = port_of(path)
    run(cny, "customers")
    set_setting(path, "tblSettings", "reporting_currency", "USD")
    usd = port_of(path)
    run(usd, "customers")
    fx, _ = read_fx(cny)
    assert fx is not None
    rate = usd_rate(fx, "CNY")
    a = cny.written["customer_totals"].iloc[0]["revenue"]
    b = usd.written["customer_totals"].iloc[0]["revenue"]
    assert a == pytest.approx(b * rate, rel=1e-4)


def test_generic_csv_with_a_column_mapping(tmp_path: Path) -> None:
    csv = tmp_path / "erp.csv"
    csv.write_text(
        "Order No,Buyer,Date,Net,Ccy\n"
        "A1,acme,2026-01-15,120000,USD\n"
        "A2,acme,2026-02-15,130000,USD\n"
        "B1,bolt,2026-02-20,15000,USD\n",
        encoding="utf-8",
    )
    mapping = "order_id=Order No; customer_id=Buyer; order_date=Date; amount=Net; currency=Ccy"
    assert parse_mapping(mapping)["amount"] == "Net"
    path = template(tmp_path)
    list_imports(path, [(str(csv), "generic", mapping), (str(csv), "generic", "")])
    set_setting(path, "tblCustomerSettings", "mode", "b2b")
    port = port_of(path)
    result = run(port, "customers")
    where = {port.locate(r): r.en for r in records(result.errors)}
    assert set(where) == {"Customer Map!C10"} and "mapping" in where["Customer Map!C10"]
    tiers = port.written["customer_tiers"].set_index("tier")
    assert tiers.loc["b2b_large", "customers"] == 1  # acme: US$125k a month
    assert tiers.loc["b2b_mid", "customers"] == 1  # bolt: US$15k


def test_import_errors_are_placed_by_their_type_not_their_text(tmp_path: Path) -> None:
    csv = tmp_path / "erp.csv"
    csv.write_text("Order No,Date,Net\nA1,2026-01-15,120\n", encoding="utf-8")
    ok = "order_id=Order No; order_date=Date; amount=Net"
    imports = pd.DataFrame(
        [
            (str(csv), "generic", "order_id=Order No; Date", "USD"),  # not key=Header
            (str(csv), "generic", ok + "; price=Net", "USD"),  # unknown key
            (str(csv), "generic", ok + "; customer_id=Buyer", "USD"),  # no such column
            (str(tmp_path / "映射.csv"), "shopify", "", ""),  # missing, 映射 in its name
            (str(csv), "ebay", "", ""),
            (str(csv), "generic", "", ""),
        ],
        columns=["path", "format", "mapping", "currency"],
    )
    _, log, errors = import_orders(imports)
    assert errors["row"].tolist() == [0, 1, 2, 3, 4, 5]
    assert errors["column"].tolist() == ["mapping", "mapping", "path", "path", "format", "mapping"]
    assert errors["en"].iloc[5] == "a generic CSV needs a column mapping"
    assert (log["error"] != "").all()


def test_mws_orders_xml_imports_through_its_format() -> None:
    xml = (ORDERS / "amazon_mws_orders_list_orders.xml").resolve()
    imports = pd.DataFrame(
        [(str(xml), "amazon_orders_xml", "", "")], columns=["path", "format", "mapping", "currency"]
    )
    lines, log, errors = import_orders(imports)
    assert errors.empty, errors
    assert log["error"].tolist() == [""]
    assert lines["order_id"].nunique() == 3 and set(lines["currency"]) == {"USD", "BRL", "JPY"}


def test_customers_with_nothing_listed_writes_empty_results(tmp_path: Path) -> None:
    port = port_of(template(tmp_path))
    result = run(port, "customers")
    assert result.errors.empty
    assert port.written["customer_tiers"].empty
    assert "no order lines" in result.summary[0].en


# --------------------------------------------------------------------------------------------
# Product map


def test_products_show_every_stage_and_quadrant(tmp_path: Path) -> None:
    port = port_of(template(tmp_path, "zh"))
    result = run(port, "products")
    assert result.errors.empty, result.errors
    lines = port.written["product_lines"].set_index("line")
    assert len(lines) == 6
    stages = {s.split(" / ")[1] for s in lines["stage_label"]}
    assert stages == {"Introduction", "Growth", "Maturity", "Decline"}
    quadrants = {q.split(" / ")[1] for q in lines["quadrant_label"]}
    assert quadrants == {"Star", "Cash cow", "Question mark", "Dog"}
    assert lines.loc["power banks", "quadrant_label"].endswith("Cash cow")  # 22%, steady volume
    assert lines.loc["GaN chargers", "quadrant_label"].endswith("Star")
    out = proposals(port)
    assert set(out["map"]) == {"product"}
    assert out["amount"].sum() == lines["proposed_target"].sum()
    assert set(out["category"]) == set(lines.index)


def test_product_errors_point_at_the_economics_row(tmp_path: Path) -> None:
    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Product Map"]
    ref = ws.tables["tblProductEconomics"].ref
    first = ws[ref][1]  # first data row: power banks
    first[1].value = 1.5  # margin 150%
    wb.save(path)
    port = port_of(path)
    result = run(port, "products")
    where = [port.locate(r) for r in records(result.errors)]
    assert where and all(w == f"Product Map!{first[1].coordinate}" for w in where), where


def test_months_typed_as_dates_and_a_bad_as_of_month(tmp_path: Path) -> None:
    from datetime import datetime

    path = template(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Product Map"]
    first = list(ws[ws.tables["tblProductSales"].ref])[1]
    first[1].value = datetime(2025, 7, 1)  # Excel turns a typed 2025-07 into a date
    wb.save(path)
    set_setting(path, "tblProductSettings", "as_of_month", datetime(2026, 6, 1))
    port = port_of(path)
    result = run(port, "products")
    assert result.errors.empty, result.errors
    assert "as of 2026-06" in result.summary[0].en
    set_setting(path, "tblProductSettings", "as_of_month", "mid-year")
    port = port_of(path)
    result = run(port, "products")
    [(where, msg)] = [(port.locate(r), r.en) for r in records(result.errors)]
    assert where.startswith("Product Map!") and "as_of_month must be a month" in msg
    assert "as of 2027-03" in result.summary[0].en  # the last month of sales instead


# --------------------------------------------------------------------------------------------
# Proposals: each action replaces only its own map's rows


def test_each_action_replaces_only_its_own_rows(tmp_path: Path) -> None:
    path = template(tmp_path)
    list_imports(path, [(str(SHOPIFY), "shopify", "")])
    port = port_of(path)
    for name in ("products", "business", "customers"):
        run(port, name)
    first = proposals(port).copy()
    assert first["map"].drop_duplicates().tolist() == ["business", "customer", "product"]
    out = tmp_path / "out.xlsx"
    port.save(out)

    # a new run on the saved file: the proposals sheet is read back; products only
    wb = openpyxl.load_workbook(out)
    ws = wb["Product Map"]
    sales = ws.tables["tblProductSales"].ref
    for row in ws[sales][1:]:
        if row[0].value == "earbuds":
            row[3].value = (row[3].value or 0) * 2
    wb.save(out)
    again = port_of(out)
    run(again, "products")
    second = proposals(again)
    assert list(second.columns) == TARGET_LINES.keys
    keep = ["map", "market", "customer_tier", "customer_type", "amount"]
    for m in ("business", "customer"):
        a = first[first["map"] == m][keep].reset_index(drop=True)
        b = second[second["map"] == m][keep].reset_index(drop=True)
        b["amount"] = b["amount"].astype(float)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)

    def earbuds(f: pd.DataFrame) -> pd.DataFrame:
        return f[(f["map"] == "product") & (f["category"] == "earbuds")]

    assert float(earbuds(second)["amount"].iloc[0]) > float(earbuds(first)["amount"].iloc[0])


def test_cli_runs_the_maps_on_the_chinese_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = template(tmp_path, "zh")
    out = tmp_path / "out.xlsx"
    argv = ["run", str(src), "-o", str(out), "--date", "2026-11-21"]
    for name in ("business", "customers", "products"):
        argv += ["--action", name]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "业务地图" in text and "产品地图" in text
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["地图提案"]
    rows = list(ws[ws.tables["tblMapProposals"].ref])
    assert [c.value for c in rows[0]] == TARGET_LINES.headers("zh")
    maps = [r[0].value for r in rows[1:]]
    assert maps == sorted(maps) and set(maps) == {"business", "product"}
    amounts = np.array([r[TARGET_LINES.keys.index("amount")].value for r in rows[1:]])
    assert (amounts > 0).all()
    for sheet in ("业务地图结果", "客户地图结果", "产品地图结果"):
        assert sheet in wb.sheetnames


def test_cli_orders_option_imports_files_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlplan.app.cli import main as cli_main

    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    orders = (
        Path(__file__).parents[1] / "data" / "orders" / "shopify_orders_export_subset_sample.csv"
    )
    out = tmp_path / "out.xlsx"
    code = cli_main(
        [
            "run",
            str(src),
            "--action",
            "customers",
            "--orders",
            f"{orders}:shopify",
            "-o",
            str(out),
            "--date",
            "2025-12-31",
        ]
    )
    text = capsys.readouterr()
    assert "1 of 1 files imported, 249 order lines, 57 customers" in text.out, text
    # the fixture has 7 lines without a customer e-mail: a warning, the map goes on, exit 0
    assert code == 0, text
    assert text.err == ""
    assert "warning: 7 order lines (5 orders) have no customer id" in text.out
