"""The three maps' UDFs: market screening, customer tiers from order lines, the product map;
the maps capability's own code, one call per block."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from udfs.common import (
    CATEGORY,
    DOC_CURRENCY,
    DOC_MAP_FX,
    DOC_UNIT,
    TABLE_ARG,
    Block,
    block,
    date_arg,
    error_rows,
    fx_table,
    is_blank,
    language_of,
    never_raises,
    number,
    optional_number,
    reporting,
    rows_of,
    scalar,
    table_from_rows,
    table_of,
)
from xlplan.core.errors import InputError, concat_errors, empty_errors, row_messages
from xlplan.maps import tables as schema_maps
from xlplan.maps.action import (
    WARNING,
    incremental_pool,
    median_margins,
    model_from_table,
    product_as_of,
    product_lines_table,
    product_mix_table,
    product_sales,
    screening_table,
    setting_rows,
    tier_assumptions,
    tier_customers_in,
    tier_table,
    usd_rate,
)
from xlplan.maps.calc.business import BusinessSettings
from xlplan.maps.calc.customer import TierSettings
from xlplan.maps.calc.product import ProductSettings
from xlplan.orders import ORDER_LINE_COLUMNS
from xlplan.workbook.coerce import coerce_table
from xlplan.workbook.schema import Column, Kind, Table

LANDED_COST_RESULTS = Table(
    "landed_cost_results",
    "tblLandedCostResults",
    "落地成本结果",
    "Landed cost results",
    (
        Column("market", "市场", "Market", Kind.CODE),
        Column("contribution_margin", "贡献利润率", "Contribution margin", Kind.RATE),
        Column("error", "错误", "Error", Kind.TEXT),
    ),
)
"""The columns of the landed-cost results the screening reads (a blank margin takes its
market's median); the landed-cost capability declares the whole table."""


def _key_values(
    value: Any, table: Table, model: Any
) -> tuple[Any, dict[str, object], pd.DataFrame]:
    """A key/value settings table (with headers) as the domain's settings model."""
    return model_from_table(table_of(value, table), table.key, model)


@xw.func(category=CATEGORY)
@xw.arg(
    "markets", doc="候选市场表（含表头）tblBusinessMarkets[#All] / candidate markets", **TABLE_ARG
)
@xw.arg(
    "settings",
    doc="阈值与权重表 tblBusinessSettings[#All]；可省略 / thresholds and weights; optional",
    **TABLE_ARG,
)
@xw.arg("fx", doc=DOC_MAP_FX, **TABLE_ARG)
@xw.arg(
    "landed_cost",
    doc="落地成本结果表 tblLandedCostResults[#All]：空白毛利率取各市场中位数；可省略 / "
    "landed-cost results: a blank margin takes the market's median; optional",
    **TABLE_ARG,
)
@xw.arg("reporting_currency", doc=DOC_CURRENCY)
@xw.arg(
    "rounding_unit",
    doc="取整单位 RoundingUnit [报告币种]；空=1 / rounding unit of the plan; blank = 1",
)
@xw.arg(
    "pool", doc="增量目标池 [报告币种/年]；空=设置表或 3 亿 / incremental pool; blank = settings"
)
@xw.ret(index=False)
@never_raises
def XLP_MARKET_SCREEN(
    markets: Any,
    settings: Any = None,
    fx: Any = None,
    landed_cost: Any = None,
    reporting_currency: Any = None,
    rounding_unit: Any = None,
    pool: Any = None,
) -> Block:
    """业务地图：市场筛选、增长与机会得分、排名与建议增量目标 / Business map: pass, kept (with the
    reason) or fail with the failing criteria, weighted score with its growth-and-opportunity
    part, rank and proposed incremental target per market.

    The Market Screening table sorted by rank, plus an error column for the market's row.
    Blank GDP per capita, penetration, market size and e-commerce growth take the shipped
    reference data; a blank margin takes the market's median in landed_cost, else fails.
    Amounts in the reporting currency [reporting ccy/year], proposals in whole rounding units
    adding up to the allocated pool; settings and FX errors follow as #XLPLAN! rows.
    """
    rows = rows_of(markets)
    raw = table_from_rows(rows, schema_maps.BUSINESS_MARKETS, required=True)
    assert raw is not None
    lang = language_of(rows, schema_maps.BUSINESS_MARKETS)
    table, input_errors = coerce_table(raw, schema_maps.BUSINESS_MARKETS)
    raw_settings = table_of(settings, schema_maps.BUSINESS_SETTINGS)
    model, values, setting_errors = _key_values(
        settings, schema_maps.BUSINESS_SETTINGS, BusinessSettings
    )
    if is_blank(scalar(pool)):
        amount, pool_errors = incremental_pool(values, setting_rows(raw_settings))
    else:
        amount, pool_errors = number(pool, "增量目标池", "incremental pool"), empty_errors()
        if amount < 0:
            raise InputError(
                f"增量目标池不能为负: {amount:g}", f"the pool cannot be negative: {amount:g}"
            )
    unit = 1.0
    if not is_blank(scalar(rounding_unit)):
        unit = number(rounding_unit, "取整单位", "rounding unit")
        if not unit > 0:
            raise InputError(
                f"取整单位须大于 0: {unit:g}", f"the rounding unit must be above 0: {unit:g}"
            )
    rates, fx_errors = fx_table(fx)
    rate = usd_rate(rates, reporting(reporting_currency))
    results = table_of(landed_cost, LANDED_COST_RESULTS)
    if results is None:
        margins = pd.DataFrame({"margin": pd.Series([], dtype=float), "lines": 0})
    else:
        margins = median_margins(results)
    out, _, screen_errors = screening_table(table, model, amount, rate, margins, unit)
    row_errors = concat_errors([input_errors, screen_errors])
    messages = row_messages(row_errors, len(table)).to_numpy()
    out["error"] = messages[out["row"].to_numpy(dtype=np.int64)] if len(out) else []
    shown = Table(
        "screening_block",
        "",
        schema_maps.BUSINESS_SCREENING.zh,
        schema_maps.BUSINESS_SCREENING.en,
        (*schema_maps.BUSINESS_SCREENING.columns, Column("error", "错误", "Error", Kind.TEXT)),
    )
    extra = concat_errors([setting_errors, pool_errors, fx_errors])
    return block(out, shown, lang) + error_rows(extra, len(shown.keys))


ORDER_LINES = Table(
    "order_lines",
    "tblOrderLines",
    "订单明细",
    "Order lines",
    (
        Column("order_id", "订单号", "Order ID", Kind.TEXT, required=True),
        Column("customer_id", "客户", "Customer", Kind.TEXT),
        Column("order_date", "下单日期", "Order date", Kind.DATE, required=True),
        Column("currency", "币种", "Currency", Kind.CODE, required=True),
        Column("amount", "金额", "Amount", Kind.NUMBER, required=True),
        Column("quantity", "数量", "Quantity", Kind.NUMBER),
        Column("sku", "SKU", "SKU", Kind.TEXT),
        Column("country", "国家", "Country", Kind.CODE),
        Column("channel", "渠道", "Channel", Kind.TEXT),
        Column("business", "企业客户", "Business", Kind.BOOL),
        Column("status", "状态", "Status", Kind.TEXT),
    ),
)
"""The order lines XLP_CUSTOMER_TIERS reads: the :mod:`xlplan.orders` contract's columns,
zh or en headers; one row per order line, ``amount`` [currency] net of refunds."""


def _order_lines(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The order-line contract frame of the clean rows (``line`` = the input row, 0-based), and
    error records on the input rows (rows with an error are left out)."""
    typed, errors = coerce_table(raw, ORDER_LINES)
    bad = np.zeros(len(typed), dtype=bool)
    bad[errors["row"].to_numpy(dtype=np.int64)] = True
    keep = typed[~bad]
    customer = keep["customer_id"].astype(object)
    country = keep["country"].astype(object)
    lines = pd.DataFrame(
        {
            "source": "excel",
            "line": keep.index.to_numpy(dtype=np.int64),
            "order_id": keep["order_id"].astype(str),
            "customer_id": customer.where(customer != "", None),
            "order_date": pd.to_datetime(keep["order_date"]).astype("datetime64[ns]"),
            "currency": keep["currency"].astype(str),
            "amount": keep["amount"].astype(float),
            "quantity": keep["quantity"].fillna(1.0).astype(float),
            "sku": keep["sku"].astype(str),
            "product": keep["sku"].astype(str),
            "country": country.where(country != "", None),
            "channel": keep["channel"].astype(str),
            "business": keep["business"].fillna(0.0).astype(bool),
            "status": keep["status"].astype(str).str.lower(),
        }
    )
    return lines[ORDER_LINE_COLUMNS].reset_index(drop=True), errors


def _unit(value: Any) -> float:
    """The rounding unit argument [reporting ccy]; blank = 1; must be positive."""
    unit = optional_number(value, 1.0)
    if unit is None or unit <= 0:
        raise InputError(
            f"取整单位应大于 0，实为 {scalar(value)}",
            f"the rounding unit must be > 0, got {scalar(value)}",
        )
    return unit


@xw.func(category=CATEGORY)
@xw.arg(
    "order_lines",
    doc="订单明细（含表头：订单号、客户、下单日期、币种、金额…） / order lines with headers "
    "(Order ID, Customer, Order date, Currency, Amount...)",
    **TABLE_ARG,
)
@xw.arg(
    "settings",
    doc="分层设置表 tblCustomerSettings[#All]；可省略 / tier settings; optional",
    **TABLE_ARG,
)
@xw.arg(
    "assumptions",
    doc="各层假设表 tblTierAssumptions[#All]；可省略 / assumptions per tier; optional",
    **TABLE_ARG,
)
@xw.arg("fx", doc=DOC_MAP_FX, **TABLE_ARG)
@xw.arg("reporting_currency", doc=DOC_CURRENCY)
@xw.arg(
    "as_of", doc="统计截止日；空=设置表或最后订单日 / as-of date; blank = settings or last order"
)
@xw.arg("unit", doc=DOC_UNIT)
@xw.ret(index=False)
@never_raises
def XLP_CUSTOMER_TIERS(
    order_lines: Any,
    settings: Any = None,
    assumptions: Any = None,
    fx: Any = None,
    reporting_currency: Any = None,
    as_of: Any = None,
    unit: Any = None,
) -> Block:
    """客户地图：由订单明细分层（B2B 月消费、B2C RFM）并逐项给出各层建议目标 / Customer map:
    tiers from order lines (B2B monthly spend bands, B2C RFM) with each tier's proposed target,
    factor by factor.

    The Customer Tiers table of the mode in use: customers, revenue share, repeat rate, budget
    months, then annualised revenue x retention x (1 + upsell) + new customers x first-year
    value [reporting ccy], targets rounded to ``unit`` (blank = 1) by largest remainder. Bad
    order lines are left out and follow as #XLPLAN! rows naming their row and column; warnings
    (lines without a customer, data under 12 months) follow as rows starting with 注意.
    """
    rows = rows_of(order_lines)
    raw = table_from_rows(rows, ORDER_LINES, required=True)
    assert raw is not None
    lang = language_of(rows, ORDER_LINES)
    lines, line_errors = _order_lines(raw)
    model, values, setting_errors = _key_values(
        settings, schema_maps.CUSTOMER_SETTINGS, TierSettings
    )
    given = values.get("as_of") if is_blank(scalar(as_of)) else date_arg(as_of)
    overrides, assumption_errors = tier_assumptions(
        table_of(assumptions, schema_maps.TIER_ASSUMPTIONS)
    )
    rates, fx_errors = fx_table(fx)
    width = len(schema_maps.CUSTOMER_TIERS.keys)
    tiers = pd.DataFrame(columns=schema_maps.CUSTOMER_TIERS.keys)
    domain_errors = empty_errors()
    notes: Block = []
    if len(lines):
        result, _ = tier_customers_in(
            lines,
            given,
            model,
            overrides,
            rates,
            reporting(reporting_currency),
            unit=_unit(unit),
        )
        tiers = tier_table(result.tiers)
        notes = [[(WARNING + w).both] + [""] * (width - 1) for w in result.warnings]
        domain_errors = result.errors.copy()
        on_lines = (domain_errors["table"] == "orders").to_numpy()
        at = domain_errors.loc[on_lines, "row"].to_numpy(dtype=np.int64)
        domain_errors.loc[on_lines, "row"] = lines["line"].to_numpy(dtype=np.int64)[at]
        domain_errors.loc[on_lines, "table"] = ORDER_LINES.key
    errors = concat_errors(
        [line_errors, domain_errors, setting_errors, assumption_errors, fx_errors]
    )
    shown = block(tiers, schema_maps.CUSTOMER_TIERS, lang)
    return shown + error_rows(errors, width, (ORDER_LINES,)) + notes


@xw.func(category=CATEGORY)
@xw.arg(
    "sales", doc="月度销售表（含表头）tblProductSales[#All] / monthly sales by line", **TABLE_ARG
)
@xw.arg(
    "economics",
    doc="产品线经济性表 tblProductEconomics[#All]；可省略 / economics per line; optional",
    **TABLE_ARG,
)
@xw.arg(
    "settings",
    doc="生命周期与象限设置表 tblProductSettings[#All]；可省略 / lifecycle settings; optional",
    **TABLE_ARG,
)
@xw.arg("as_of_month", doc="截止月份如 2026-12；空=设置表或最后一月 / as-of month; blank = last")
@xw.ret(index=False)
@never_raises
def XLP_PRODUCT_MAP(
    sales: Any, economics: Any = None, settings: Any = None, as_of_month: Any = None
) -> Block:
    """产品地图：生命周期阶段、明星/现金牛/问题/瘦狗象限、投资回报与建议目标 / Product map:
    lifecycle stage, star / cash cow / question mark / dog quadrant, ROI and proposed target.

    The Product Lines table, one row per product line (amounts in the sales' currency, rates
    as fractions). A line without economics still gets its stage; its ROI is blank. Bad cells
    follow as #XLPLAN! rows naming table, row and column.
    """
    out, errors, lang = _product_lines(sales, economics, settings, as_of_month)
    table = schema_maps.PRODUCT_LINES
    return block(out, table, lang) + error_rows(errors, len(table.keys))


@xw.func(category=CATEGORY)
@xw.arg(
    "sales", doc="月度销售表（含表头）tblProductSales[#All] / monthly sales by line", **TABLE_ARG
)
@xw.arg(
    "economics",
    doc="产品线经济性表 tblProductEconomics[#All]，含目标销量占比 / economics with target shares",
    **TABLE_ARG,
)
@xw.arg(
    "settings",
    doc="生命周期与象限设置表 tblProductSettings[#All]；可省略 / lifecycle settings; optional",
    **TABLE_ARG,
)
@xw.arg("as_of_month", doc="截止月份如 2026-12；空=设置表或最后一月 / as-of month; blank = last")
@xw.ret(index=False)
@never_raises
def XLP_PRODUCT_MIX(
    sales: Any, economics: Any, settings: Any = None, as_of_month: Any = None
) -> Block:
    """组合毛利率假设分析：当前与目标销量组合下的加权毛利率 / Mix what-if: the portfolio's
    weighted margin now and under the target mix of units.

    Two rows (current mix, target mix): weighted margin [fraction], revenue and gross profit of
    the last twelve months. Lines without a target volume share share the rest in proportion
    to their current units; prices and total units stay. Bad cells follow as #XLPLAN! rows.
    """
    out, errors, lang = _product_lines(sales, economics, settings, as_of_month)
    table = schema_maps.PRODUCT_MIX
    mix = product_mix_table(out) if len(out) else pd.DataFrame(columns=table.keys)
    return block(mix, table, lang) + error_rows(errors, len(table.keys))


def _product_lines(
    sales: Any, economics: Any, settings: Any, as_of_month: Any
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The Product Lines table, its error records and the language of ``sales``."""
    rows = rows_of(sales)
    raw = table_from_rows(rows, schema_maps.PRODUCT_SALES, required=True)
    assert raw is not None
    lang = language_of(rows, schema_maps.PRODUCT_SALES)
    typed_sales, sales_errors = product_sales(raw)
    raw_econ = table_of(economics, schema_maps.PRODUCT_ECONOMICS)
    if raw_econ is None:
        raw_econ = pd.DataFrame(columns=schema_maps.PRODUCT_ECONOMICS.keys)
    econ, econ_errors = coerce_table(raw_econ, schema_maps.PRODUCT_ECONOMICS)
    econ = econ[econ["line"] != ""]
    raw_settings = table_of(settings, schema_maps.PRODUCT_SETTINGS)
    model, values, setting_errors = _key_values(
        settings, schema_maps.PRODUCT_SETTINGS, ProductSettings
    )
    errors = [sales_errors, econ_errors, setting_errors]
    out = pd.DataFrame(columns=schema_maps.PRODUCT_LINES.keys)
    if len(typed_sales):
        given = scalar(as_of_month)
        if is_blank(given):
            given = values.get("as_of_month")
        elif isinstance(given, int | float | date) and not isinstance(given, bool):
            day = date_arg(given)  # a date cell or its serial number
            given = f"{day.year:04d}-{day.month:02d}"
        month, month_errors = product_as_of(scalar(given), typed_sales, setting_rows(raw_settings))
        out, domain_errors = product_lines_table(typed_sales, econ, month, model)
        errors += [month_errors, domain_errors]
    return out, concat_errors(errors), lang
