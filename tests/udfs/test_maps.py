"""The three maps' UDFs as Excel calls them, checked by hand and against the actions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from xlwings_windows import WindowsXlwings

import udfs.maps as udf
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.maps import action as maps_action
from xlplan.maps import tables as schema_maps
from xlplan.maps.calc.business import BusinessSettings
from xlplan.workbook.io import FilePort

TODAY = date(2026, 11, 21)
ORDER_EN = udf.ORDER_LINES.headers("en")
SCREEN_EN = [*schema_maps.BUSINESS_SCREENING.headers("en"), "Error"]


def table_rows(port: FilePort, key: str, lang: str) -> list[list[Any]]:
    """A workbook table as xlwings hands it over: header row, then rows, blanks as None."""
    frame = port.read_table(key)
    assert frame is not None
    table = CATALOG.tables[key]
    body = frame.reindex(columns=table.keys).astype(object).where(frame.notna(), None)
    return [table.headers(lang), *[list(r) for r in body.to_numpy()]]


@pytest.fixture(scope="module", params=["en", "zh"])
def workbook(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    lang = str(request.param)
    path = Path(tmp_path_factory.mktemp(lang)) / f"plan-{lang}.xlsx"
    path.write_bytes(templates.template_bytes(lang))
    return FilePort(path, CATALOG), lang


def order(oid: str, customer: Any, day: Any, amount: Any, **more: Any) -> list[Any]:
    cells = {"order_id": oid, "customer_id": customer, "order_date": day, "currency": "USD",
             "amount": amount, **more}  # fmt: skip
    return [cells.get(k) for k in udf.ORDER_LINES.keys]


# ---------------------------------------------------------------------------------------------
# Business map: XLP_MARKET_SCREEN


def test_market_screen_agrees_with_the_business_action(workbook: Any) -> None:
    port, lang = workbook
    # the business map needs the landed-cost results: a run computes them first
    steps = actions.run(port, TODAY, ["business"]).steps[1:]
    assert [s.action.name if s.action else "" for s in steps] == [
        "landed_cost",
        "business",
    ]
    want = port.written["business_screening"]
    results = port.written["landed_cost_results"]  # the UDF gets the same results
    body = results.astype(object).where(results.notna(), None).to_numpy().tolist()
    block = udf.XLP_MARKET_SCREEN(
        table_rows(port, "business_markets", lang),
        table_rows(port, "business_settings", lang),
        table_rows(port, "fx", lang),
        [list(results.columns), *body],
        "CNY",
        10_000,  # the template's Settings rounding unit, as the template's formula passes it
    )
    error = "错误" if lang == "zh" else "Error"
    assert block[0] == [*schema_maps.BUSINESS_SCREENING.headers(lang), error]
    expected = want.astype(object).where(want.notna(), "").to_numpy().tolist()
    assert [r[:-1] for r in block[1:]] == expected
    assert {r[-1] for r in block[1:]} == {""}


def test_market_screen_by_hand() -> None:
    header = schema_maps.BUSINESS_MARKETS.headers("en")

    def market(code: str, **cells: Any) -> list[Any]:
        return [{"market": code, **cells}.get(k) for k in schema_maps.BUSINESS_MARKETS.keys]

    rows = [
        header,
        # GB from the shipped reference data (GDP per capita, penetration, US$200bn market)
        market("GB", margin=0.33, payout_days=7, delivery_days=4, competition_score=2,
               compliance_score=3),
        market("BR", margin=0.25, payout_days=30, delivery_days=12, competition_score=3,
               compliance_score=2),
        market("DE", margin="lots", payout_days=7),  # a bad cell among good rows
    ]  # fmt: skip
    block = udf.XLP_MARKET_SCREEN(rows, None, None, None, "USD", None, 1_000_000)
    assert block[0] == SCREEN_EN
    got = {r[1]: dict(zip(SCREEN_EN, r, strict=True)) for r in block[1:]}
    gb, br, de = got["GB"], got["BR"], got["DE"]
    assert (gb["Rank"], gb["Result"], gb["Error"]) == (1, maps_action.PASS_TEXT, "")
    # the only passing market takes the whole pool, below its capacity (1% of US$200bn)
    assert gb["Proposed target"] == 1_000_000
    assert gb["Capacity"] == pytest.approx(200e9 * BusinessSettings().max_market_share)
    assert br["Result"] == maps_action.FAIL_TEXT and br["Proposed target"] == 0
    assert br["Failing criteria"] == "GDP per capita too low; margin too low; payout cycle too long"
    assert "Margin after fees is not a number: 'lots'" in de["Error"]
    assert de["Failing criteria"] == "margin too low"


def test_market_screen_settings_and_their_errors() -> None:
    header = schema_maps.BUSINESS_MARKETS.headers("en")
    row = [{"market": "BR", "margin": 0.4, "payout_days": 5}.get(k)
           for k in schema_maps.BUSINESS_MARKETS.keys]  # fmt: skip
    settings = [
        ["Setting", "Value", "Description"],
        ["threshold_gdp_per_capita_usd", 5000, None],  # BR passes with a lower bar
        ["incremental_pool", -5, None],  # refused: the default pool is used
        ["no_such_key", 1, None],
    ]
    block = udf.XLP_MARKET_SCREEN([header, row], settings, None, None, "USD")
    assert block[1][3] == maps_action.PASS_TEXT
    errors = [r[0] for r in block if str(r[0]).startswith("#XLPLAN!")]
    assert len(errors) == 2
    assert any("tblBusinessSettings row 2" in e and "negative" in e for e in errors)
    assert any("tblBusinessSettings row 3" in e and "unknown setting" in e for e in errors)
    (cell,) = udf.XLP_MARKET_SCREEN([header, row], None, None, None, None, None, -1)
    assert cell[0].startswith("#XLPLAN!") and "negative" in cell[0]
    (cell,) = udf.XLP_MARKET_SCREEN([header, row], None, None, None, None, 0)
    assert cell[0].startswith("#XLPLAN!") and "rounding unit" in cell[0]


def test_market_screen_keeps_a_market_for_growth_and_rounds_to_the_unit() -> None:
    """The method's case on one sheet: BR fails the static screens, its owner keeps it for
    growth; it shares the pool with GB in whole rounding units that add up to the pool. A keep
    without a reason shows in its row's error cell and keeps nothing."""
    header = schema_maps.BUSINESS_MARKETS.headers("en")

    def market(code: str, **cells: Any) -> list[Any]:
        return [{"market": code, **cells}.get(k) for k in schema_maps.BUSINESS_MARKETS.keys]

    rows = [
        header,
        market("GB", margin=0.33, payout_days=7, delivery_days=4, competition_score=2,
               compliance_score=3),
        market("BR", margin=0.28, payout_days=30, delivery_days=20, planned_delivery_days=5,
               competition_score=4, compliance_score=2, keep="TRUE",
               keep_reason="Latin America growth, local warehouse"),
        market("US", margin=0.2, payout_days=7, keep=True),  # no reason
    ]  # fmt: skip
    block = udf.XLP_MARKET_SCREEN(rows, None, None, None, "USD", 1_000, 1_000_001)
    got = {r[1]: dict(zip(SCREEN_EN, r, strict=True)) for r in block[1:]}
    gb, br, us = got["GB"], got["BR"], got["US"]
    assert br["Result"] == maps_action.KEPT_TEXT
    assert br["Kept because"] == "Latin America growth, local warehouse"
    assert "GDP per capita too low" in br["Failing criteria"]
    assert br["Growth from"].endswith("ABComm 2024") and br["E-com growth"] == 0.105
    assert gb["Proposed target"] + br["Proposed target"] == 1_000_000  # 1 left unallocated
    assert gb["Proposed target"] % 1_000 == br["Proposed target"] % 1_000 == 0
    assert us["Result"] == maps_action.FAIL_TEXT and us["Proposed target"] == 0
    assert "no reason" in us["Error"] and "keep_reason" in us["Error"]


# ---------------------------------------------------------------------------------------------
# Customer map: XLP_CUSTOMER_TIERS


def test_b2b_tiers_by_monthly_spend() -> None:
    rows = [
        ORDER_EN,
        order("A1", "acme", "2026-01-15", 120_000),
        order("A2", "acme", datetime(2026, 2, 15), 130_000),  # a date cell
        order("B1", "bolt", "2026-02-20", 15_000),
        order("B2", "bolt", "not a date", 15_000),  # left out, named below the block
    ]
    settings = [["Setting", "Value"], ["mode", "b2b"]]
    block = udf.XLP_CUSTOMER_TIERS(rows, settings, None, None, "USD")
    assert block[0] == schema_maps.CUSTOMER_TIERS.headers("en")
    tiers = {r[0]: dict(zip(block[0], r, strict=True)) for r in block[1:4]}
    assert list(tiers) == ["b2b_large", "b2b_mid", "b2b_small"]
    large, mid = tiers["b2b_large"], tiers["b2b_mid"]
    # acme: US$250k over Jan-Feb = US$125k a month; bolt US$15k
    assert (large["Customers"], large["Orders (window)"], large["Revenue (window)"]) == (
        1, 2, 250_000
    )  # fmt: skip
    assert (mid["Customers"], mid["Revenue (window)"]) == (1, 15_000)
    assert large["Revenue share"] == pytest.approx(250 / 265, abs=1e-4)
    (error, note) = block[4:]  # the bad line, then the warnings: 1.5 months of data
    assert note[0].startswith("注意: ") and "fewer than 12" in note[0]
    assert error[0].startswith("#XLPLAN! tblOrderLines row 4, order_date")
    assert "'not a date'" in error[0] and set(error[1:]) == {""}


def test_b2c_tiers_by_recency_with_zh_headers() -> None:
    rows = [
        udf.ORDER_LINES.headers("zh"),
        order("1", "new@x", "2026-11-10", 50),  # one order 20 days before: new
        order("2", "gone@x", "2025-10-01", 80),  # over 365 days: churned
        order("3", "slow@x", "2026-05-01", 60),  # over 180 days: at risk
        order("4", "loyal@x", "2026-03-01", 300),
        order("5", "loyal@x", "2026-10-01", 300),  # two orders, top revenue: high-value repeat
    ]
    block = udf.XLP_CUSTOMER_TIERS(rows, None, None, None, None, datetime(2026, 11, 30))  # CNY
    assert block[0] == schema_maps.CUSTOMER_TIERS.headers("zh")
    tiers = [r for r in block[1:] if not str(r[0]).startswith("注意")]
    # auto mode and no business customer: the B2C tiers only, no rows of B2B zeros
    counts = {r[0]: r[2] for r in tiers}
    assert counts == {"high_value_repeat": 1, "potential": 0, "new": 1, "at_risk": 1,
                      "churned": 1}  # fmt: skip
    usd = udf.XLP_CUSTOMER_TIERS(rows, None, None, None, "USD", datetime(2026, 11, 30))
    rev = {r[0]: r[4] for r in usd[1:]}
    assert rev["high_value_repeat"] == 600 and rev["new"] == 50


def test_customer_warnings_follow_the_block() -> None:
    """A line without a customer is left out and said so, below the tiers: not an error."""
    rows = [
        ORDER_EN,
        order("1", "a@x", "2026-11-10", 50),
        order("2", None, "2026-11-12", 70),  # a guest checkout
    ]
    block = udf.XLP_CUSTOMER_TIERS(rows, None, None, None, "USD", "2026-11-30", 10)
    notes = [r for r in block if str(r[0]).startswith("注意")]
    assert not any(str(r[0]).startswith("#XLPLAN!") for r in block)
    assert "1 order lines (1 orders) have no customer id" in notes[0][0]
    assert "window revenue of 70 USD" in notes[0][0]
    assert all(set(r[1:]) == {""} for r in notes)
    # the unit rounds the targets: multiples of 10 that add up
    head = block[0]
    targets = [r[head.index("Proposed target")] for r in block[1:] if r not in notes]
    assert all(t % 10 == 0 for t in targets)
    (bad,) = udf.XLP_CUSTOMER_TIERS(rows, None, None, None, "USD", "2026-11-30", -1)
    assert bad[0].startswith("#XLPLAN!") and "rounding unit" in bad[0]


def test_tier_assumptions_override_the_target() -> None:
    rows = [ORDER_EN, order("1", "a", "2026-10-01", 100), order("2", "a", "2026-11-01", 100)]
    assumptions = [
        schema_maps.TIER_ASSUMPTIONS.headers("en"),
        ["high_value_repeat", None, 0.5, 0.2, 10, 30, None],
    ]
    block = udf.XLP_CUSTOMER_TIERS(rows, None, assumptions, None, "USD", "2026-11-30")
    hv = dict(zip(block[0], next(r for r in block if r[0] == "high_value_repeat"), strict=True))
    # the two orders (Oct-Nov) are 2 months of data: annualised 200 x 12 / 2.0 = 1,200;
    # x 0.5 retained = 600, x (1 + 20% upsell) = 720; + 10 new x 30 = 300 -> 1,020
    assert (hv["Months in window"], hv["Annualised revenue"]) == (2.0, 1200)
    assert (hv["Existing-customer target"], hv["New-customer target"]) == (720, 300)
    assert hv["Proposed target"] == 1020
    assert hv["Retention basis"] == "假设 / assumption"


def test_order_lines_without_headers_are_one_error_cell() -> None:
    (row,) = udf.XLP_CUSTOMER_TIERS([["a", "b"], [1, 2]])
    assert len(row) == 1 and row[0].startswith("#XLPLAN!")


# ---------------------------------------------------------------------------------------------
# Product map: XLP_PRODUCT_MAP


def test_product_map_agrees_with_the_products_action(workbook: Any) -> None:
    port, lang = workbook
    actions.run(port, TODAY, ["products"])
    want = port.written["product_lines"]
    block = udf.XLP_PRODUCT_MAP(
        table_rows(port, "product_sales", lang),
        table_rows(port, "product_economics", lang),
        table_rows(port, "product_settings", lang),
    )
    assert block[0] == schema_maps.PRODUCT_LINES.headers(lang)
    expected = want.astype(object).where(want.notna(), "").to_numpy().tolist()
    assert block[1:] == expected


def test_product_mix_agrees_with_the_products_action(workbook: Any) -> None:
    port, lang = workbook
    actions.run(port, TODAY, ["products"])
    want = port.written["product_mix"]
    block = udf.XLP_PRODUCT_MIX(
        table_rows(port, "product_sales", lang),
        table_rows(port, "product_economics", lang),
        table_rows(port, "product_settings", lang),
    )
    assert block[0] == schema_maps.PRODUCT_MIX.headers(lang)
    assert block[1:] == want.astype(object).where(want.notna(), "").to_numpy().tolist()
    # the sample's what-if, the method's for a 3C seller: GaN chargers to 35% of units lift it
    now, target = (row[1] for row in block[1:3])
    assert target > now


def test_product_mix_by_hand() -> None:
    # DOMAIN.md section 1, apparel: T-shirts 70% of volume at 8%, jackets 5% at 45%, the rest
    # 25% at -2.6% (the reconciliation in tests/maps/calc/test_product.py); jackets to 30% and
    # T-shirts to 45% of units, at the same prices: 7.2% -> 16.45%.
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    sales: list[list[object]] = [list(schema_maps.PRODUCT_SALES.headers("en"))]
    for line, units in (("T-shirts", 70), ("Jackets", 5), ("Rest", 25)):
        sales += [[line, m, units, units * 10.0] for m in months]
    economics = [
        schema_maps.PRODUCT_ECONOMICS.headers("en"),
        ["T-shirts", 0.08, 0, 30, 0.45, None],
        ["Jackets", 0.45, 0, 30, 0.30, None],
        ["Rest", -0.026, 0, 30, None, None],
    ]
    block = udf.XLP_PRODUCT_MIX(sales, economics)
    assert [r[1] for r in block[1:]] == [0.072, 0.1645]
    bad = [["T-shirts", 0.08, 0, 30, 0.8, None], ["Jackets", 0.45, 0, 30, 0.3, None]]
    block = udf.XLP_PRODUCT_MIX(sales, [economics[0], *bad])
    errors = [r[0] for r in block if str(r[0]).startswith("#XLPLAN!")]
    assert errors and "100%" in errors[0]


def test_product_map_by_hand_with_a_bad_row() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    sales: list[list[object]] = [list(schema_maps.PRODUCT_SALES.headers("en"))]
    sales += [["Jackets", m, 100 + 10 * i, (100 + 10 * i) * 50.0] for i, m in enumerate(months)]
    sales += [["Cases", m, 20 - i, (20 - i) * 5.0] for i, m in enumerate(months)]
    sales.insert(3, ["Jackets", "2026-13", 5, 5.0])  # not a month: left out and reported
    economics = [
        schema_maps.PRODUCT_ECONOMICS.headers("en"),
        ["Jackets", 0.45, 10_000, 73, None, None],
        ["Cases", 0.10, 0, 30, None, None],
    ]
    block = udf.XLP_PRODUCT_MAP(sales, economics, None, datetime(2026, 12, 1))
    got = {r[0]: dict(zip(block[0], r, strict=True)) for r in block[1:3]}
    jackets, cases = got["Jackets"], got["Cases"]
    # last 3 months 190+200+210 = 600 units vs the 3 before, 160+170+180 = 510: +17.6%
    assert jackets["Growth"] == pytest.approx(round(600 / 510 - 1, 4))
    assert jackets["Stage"] == "成长期 / Growth"  # growth >= +10%
    assert jackets["Quadrant"] == "明星产品 / Star"  # and margin 45% >= 30%
    # 11+10+9 = 30 vs 14+13+12 = 39: -23%; 10% margin, 174 of 2,034 units (< 25%)
    assert cases["Growth"] == pytest.approx(round(30 / 39 - 1, 4))
    assert cases["Stage"] == "衰退期 / Decline"
    assert cases["Quadrant"] == "瘦狗产品 / Dog"
    assert cases["Volume share"] == pytest.approx(round(174 / 2034, 4))
    revenue = sum(100 + 10 * i for i in range(12)) * 50.0
    assert jackets["Revenue 12m"] == revenue
    assert jackets["Gross profit"] == round(revenue * 0.45)
    assert jackets["Turnover"] == 5.0  # 365 / 73 days
    errors = [r[0] for r in block if str(r[0]).startswith("#XLPLAN!")]
    assert len(errors) == 1 and "tblProductSales row 3, month" in errors[0]


def test_product_map_without_economics_still_classifies() -> None:
    sales = [schema_maps.PRODUCT_SALES.headers("zh"), ["Rings", "2026-11", 10, 100.0]]
    block = udf.XLP_PRODUCT_MAP(sales)
    assert block[1][0] == "Rings" and block[1][1] == "导入期 / Introduction"
    row = dict(zip(block[0], block[1], strict=True))
    assert row["投资回报"] == ""  # no economics: ROI blank, never NaN
    assert any("tblProductSales row 1" in r[0] for r in block[2:])  # the line has no economics


# ---------------------------------------------------------------------------------------------
# Through xlwings' own conversion


def test_map_udfs_through_xlwings_conversion(xlwings_windows: WindowsXlwings) -> None:
    module = xlwings_windows.load_udfs()
    when = xlwings_windows.time_type(2026, 2, 15)  # a date cell, as COM hands it over
    rows = [ORDER_EN, order("A1", "acme", when, 120_000.0), order("B1", "bolt", when, 15_000.0)]
    written = xlwings_windows.call(
        module.XLP_CUSTOMER_TIERS, rows, [["Setting", "Value"], ["mode", "b2b"]], None, None, "USD"
    )
    assert written[0] == schema_maps.CUSTOMER_TIERS.headers("en")
    assert [r[2] for r in written[1:4]] == [1, 1, 0]
    assert all(isinstance(v, str | float | int) for r in written for v in r)
    sales = [schema_maps.PRODUCT_SALES.headers("en"), ["Rings", when, 10.0, 100.0]]
    written = xlwings_windows.call(module.XLP_PRODUCT_MAP, sales)
    assert written[1][:2] == ["Rings", "导入期 / Introduction"]
    assert len({len(r) for r in written}) == 1
