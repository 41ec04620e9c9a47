"""The stock and cash sheets and tables: what users fill (Supply, Supply Settings) and what XLPlan
writes (Stock Plan, Cash Plan).

Column keys are the calculators' (:mod:`xlplan.supply.calc`); this module adds how a cell looks
and reads: headers in both languages, units, ranges, lists. Quantities are whole units
[units], days are calendar days [d], plan money is in the reporting currency [reporting ccy].
"""

from __future__ import annotations

from xlplan import reference
from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.supply.calc.calendar import WINDOW_KEYS
from xlplan.supply.calc.cash import CURVE_KEYS, CYCLE_KEYS, SUMMARY_KEYS
from xlplan.supply.calc.levers import LEVER_KEYS
from xlplan.supply.calc.settings import TransitMode
from xlplan.supply.calc.stock import (
    AT_RISK_KEYS,
    MARKET_SUMMARY_KEYS,
    MONTH_KEYS,
    ORDER_KEYS,
    POSITION_KEYS,
    ROUTE_SUMMARY_KEYS,
)
from xlplan.workbook.keyvalue import KeySpec
from xlplan.workbook.schema import Column, Kind, Sheet, Table, amount, rate, text

UNITS = Message("件", "units")
DAYS = Message("天", "days")
PER_YEAR = Message("次/年", "per year")
COST_CCY = units.COST_PER_UNIT

SUPPLY_SHEET = Sheet(
    "supply",
    "备货参数",
    "Supply",
    heading=Message("备货参数：SKU、补货路线与供应商停工", "Supply: SKUs, routes and closures"),
    note=Message(
        "黄色表格填写；右侧 XLP_STOCK_PLAN 每条路线一行实时结果。运行“备货计划”写入“备货计划”表。",
        "Fill the yellow tables; XLP_STOCK_PLAN beside the routes shows one live row per route. "
        "Run Stock plan to write the Stock Plan sheet.",
    ),
)
SUPPLY_SETUP_SHEET = Sheet(
    "supply_setup",
    "备货与资金设置",
    "Supply Settings",
    heading=Message("备货与资金设置", "Supply and cash settings"),
    note=Message(
        "供应商付款条件、默认周期、春节停工、运输方式与平台回款周期；留空即用默认值。",
        "Supplier terms, default lead times, the Chinese New Year shutdown, transit modes and "
        "payout cycles; blank cells keep the defaults.",
    ),
)
STOCK_PLAN_SHEET = Sheet(
    "stock_plan",
    "备货计划",
    "Stock Plan",
    owned=True,
    heading=Message("备货计划", "Stock plan"),
    note=Message(
        "由 xlplan 生成：采购单（下单/发货/到港/可售日期）、月末库存与可售天数、周转、"
        "春节前须下的单与来不及备货的月份。",
        "Written by xlplan: purchase orders (order, ship, arrival and available dates), "
        "month-end stock and cover, turnover, the orders due before Chinese New Year and the "
        "months that can no longer be stocked.",
    ),
)
CASH_PLAN_SHEET = Sheet(
    "cash_plan",
    "资金计划",
    "Cash Plan",
    owned=True,
    heading=Message("资金计划", "Cash plan"),
    note=Message(
        "由 xlplan 生成：按月现金流（报告币种）、资金占用峰值与月份、各市场现金周期，"
        "以及付款条件与运输方式两个杠杆的对比。",
        "Written by xlplan: monthly cash flow (reporting currency), the peak funding need and "
        "its month, the cash conversion cycle per market, and two levers side by side: "
        "payment terms and the transit mode.",
    ),
)
SHEETS = (SUPPLY_SHEET, SUPPLY_SETUP_SHEET, STOCK_PLAN_SHEET, CASH_PLAN_SHEET)


def quantity(key: str, zh: str, en: str, width: float = 11.0, **kw: object) -> Column:
    """Whole units, shown with thousands separators."""
    return Column(key, zh, en, Kind.AMOUNT, UNITS.zh, UNITS.en, width=width, **kw)  # type: ignore[arg-type]


def days(key: str, zh: str, en: str, width: float = 9.0, **kw: object) -> Column:
    """Calendar days."""
    return Column(key, zh, en, Kind.INT, DAYS.zh, DAYS.en, width=width, **kw)  # type: ignore[arg-type]


def day_count(key: str, zh: str, en: str, width: float = 10.0) -> Column:
    """Computed days, shown whole."""
    return Column(key, zh, en, Kind.INT, DAYS.zh, DAYS.en, width=width)


def when(key: str, zh: str, en: str, width: float = 11.0, **kw: object) -> Column:
    return Column(key, zh, en, Kind.DATE, width=width, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

SUPPLY_SKUS = Table(
    "supply_skus",
    "tblSupplySkus",
    "SKU 组合",
    "SKU mix",
    (
        text("sku", "SKU", "SKU", 14, required=True),
        text(
            "category",
            "产品线",
            "Product line",
            16,
            help_zh="与目标的“品类/产品线”一致，如 GaN chargers",
            help_en="as the targets name it, e.g. GaN chargers",
        ),
        Column("market", "市场", "Market", Kind.CODE, required=True, choices="markets", width=8),
        Column("channel", "渠道", "Channel", Kind.TEXT, choices="channels", width=14),
        Column(
            "price",
            "售价",
            "Price",
            Kind.MONEY,
            units.PER_UNIT.zh,
            units.PER_UNIT.en,
            minimum=0.0,
            min_exclusive=True,
            help_zh="消费者支付价；留空=落地成本明细的售价",
            help_en="price the buyer pays; blank = the Landed Cost line's",
        ),
        rate(
            "share",
            "销量占比",
            "Share of units",
            help_zh="该 SKU 在所覆盖目标销量中的权重；留空=均分",
            help_en="weight among the SKUs a target reaches; blank = equal",
        ),
        text("note", "备注", "Note", 30),
    ),
    sheet="supply",
    help_zh="每行一个 SKU × 市场 × 渠道；目标按产品线、市场、渠道落到 SKU，按占比与售价换算成件数。"
    "留空整表则用“落地成本”明细。",
    help_en="One row per SKU x market x channel: targets reach SKUs by product line, market and "
    "channel and turn into units by share and price. Left empty, the Landed Cost lines are used.",
)

SUPPLY_ROUTES = Table(
    "supply_routes",
    "tblSupplyRoutes",
    "补货路线",
    "Supply routes",
    (
        text("sku", "SKU", "SKU", 14, required=True),
        Column("market", "市场", "Market", Kind.CODE, required=True, choices="markets", width=8),
        text(
            "warehouse",
            "仓库",
            "Warehouse",
            18,
            help_zh="如 FBA US、墨西哥海外仓",
            help_en="e.g. FBA US",
        ),
        text(
            "supplier",
            "供应商",
            "Supplier",
            14,
            help_zh="与停工表一致；留空=通用日历",
            help_en="as in the closures table; blank = the common calendar",
        ),
        Column(
            "mode",
            "运输方式",
            "Transit mode",
            Kind.TEXT,
            required=True,
            choices="transit_modes",
            width=10,
            help_zh="sea 海运 / rail 铁路 / air 空运 / express 快递",
            help_en="sea / rail / air / express",
        ),
        days(
            "production_days",
            "生产周期",
            "Production",
            help_zh="留空=设置默认",
            help_en="blank = default",
            minimum=0.0,
            maximum=365.0,
        ),
        days(
            "transit_days",
            "头程时效",
            "Door to door",
            help_zh="留空=运输方式表",
            help_en="blank = transit table",
            minimum=0.0,
            maximum=365.0,
        ),
        days(
            "receiving_days",
            "入仓上架",
            "Check-in",
            help_zh="留空=设置默认",
            help_en="blank = default",
            minimum=0.0,
            maximum=120.0,
        ),
        quantity("moq", "起订量", "MOQ", minimum=0.0),
        quantity(
            "order_multiple",
            "订货倍数",
            "Order multiple",
            minimum=0.0,
            min_exclusive=True,
            help_zh="整箱数量；留空=1",
            help_en="carton quantity; blank = 1",
        ),
        days(
            "safety_days",
            "安全库存",
            "Safety stock",
            help_zh="可售天数；留空=设置默认",
            help_en="days of cover; blank = default",
            minimum=0.0,
            maximum=365.0,
        ),
        quantity("opening_stock", "期初库存", "Opening stock", minimum=0.0),
        quantity("in_transit", "在途库存", "In transit", minimum=0.0),
        when(
            "in_transit_date",
            "在途到仓日",
            "In transit arrives",
            help_zh="留空=首月",
            help_en="blank = the first month",
        ),
        Column(
            "unit_cost",
            "采购单价",
            "Unit cost",
            Kind.MONEY,
            COST_CCY.zh,
            COST_CCY.en,
            minimum=0.0,
            help_zh="留空=落地成本明细",
            help_en="blank = the Landed Cost line",
        ),
        Column(
            "cost_currency",
            "采购币种",
            "Cost currency",
            Kind.CODE,
            choices="currencies",
            width=9,
            help_zh="留空=CNY",
            help_en="blank = CNY",
        ),
        rate(
            "deposit_rate",
            "定金比例",
            "Deposit",
            help_zh="留空=设置默认",
            help_en="blank = default",
        ),
        days(
            "balance_days",
            "尾款（发货后天数）",
            "Balance (days after shipment)",
            width=12,
            minimum=-365.0,
            maximum=365.0,
            help_zh="-7 = 发货前一周；留空=设置默认",
            help_en="-7 = a week before shipment; blank = default",
        ),
        text("note", "备注", "Note", 24),
    ),
    sheet="supply",
    help_zh="每行一条补货路线：某 SKU 供应某市场的仓库、运输方式与周期、起订量与库存。",
    help_en="One row per route: how a SKU reaches a market's warehouse, its lead times, MOQ "
    "and stock.",
)

SUPPLIER_CLOSURES = Table(
    "supplier_closures",
    "tblSupplierClosures",
    "供应商停工",
    "Supplier closures",
    (
        text(
            "supplier",
            "供应商",
            "Supplier",
            16,
            help_zh="留空=所有供应商",
            help_en="blank = all suppliers",
        ),
        when("start", "开始", "Start", required=True),
        when("end", "结束（含）", "End (incl.)", required=True),
        rate(
            "capacity",
            "产能",
            "Capacity",
            help_zh="0 = 停工；留空=0",
            help_en="0 = closed; blank = 0",
        ),
        text("note", "备注", "Note", 30),
    ),
    sheet="supply",
    help_zh="春节停工已按设置自动计算（见“备货计划”的供应商日历），此处只填其他停工或减产。",
    help_en="The Chinese New Year shutdown is computed from the settings (see the supplier "
    "calendar on Stock Plan); enter other closures or reduced capacity here.",
)

SUPPLY_SETTINGS = Table(
    "supply_settings",
    "tblSupplySettings",
    "备货与资金设置",
    "Supply settings",
    (
        text("setting", "设置项", "Setting", 26, required=True),
        text("value", "值", "Value", 12),
        text("label", "说明", "Description", 62),
    ),
    sheet="supply_setup",
    help_zh="留空即用默认值；比例填 0.3 或 30%。",
    help_en="Blank = the default; rates as 0.3 or 30%.",
)

SUPPLY_SETTING_KEYS: dict[str, KeySpec] = {
    "deposit_rate": KeySpec(
        Kind.RATE,
        ("deposit_rate",),
        Message("供应商定金比例（下单时付）", "Supplier deposit, paid with the order"),
    ),
    "balance_days": KeySpec(
        Kind.INT,
        ("balance_days",),
        Message(
            "尾款支付日：发货后天数（-7 = 发货前一周）",
            "Balance paid this many days after shipment (-7 = a week before)",
        ),
    ),
    "alt_deposit_rate": KeySpec(
        Kind.RATE,
        ("alt_deposit_rate",),
        Message("对比条件：定金比例", "Terms lever: deposit"),
    ),
    "alt_balance_days": KeySpec(
        Kind.INT,
        ("alt_balance_days",),
        Message("对比条件：尾款（发货后天数）", "Terms lever: balance, days after shipment"),
    ),
    "production_days": KeySpec(
        Kind.INT,
        ("production_days",),
        Message("默认生产周期（天）", "Default production time [d]"),
    ),
    "receiving_days": KeySpec(
        Kind.INT,
        ("receiving_days",),
        Message(
            "默认入仓上架时间（天；旺季 FBA 约 1-2 周）",
            "Default check-in time [d] (FBA: 1-2 weeks in peak)",
        ),
    ),
    "safety_days": KeySpec(
        Kind.INT,
        ("safety_days",),
        Message("默认安全库存（可售天数）", "Default safety stock [days of cover]"),
    ),
    "cny_wind_down_days": KeySpec(
        Kind.INT,
        ("cny_wind_down_days",),
        Message(
            "春节：工厂提前停工天数（7-10 天）",
            "Chinese New Year: factories stop this many days before (7-10)",
        ),
    ),
    "cny_holiday_days": KeySpec(
        Kind.INT,
        ("cny_holiday_days",),
        Message(
            "春节：初一后仍停工天数", "Chinese New Year: days still closed after New Year's Day"
        ),
    ),
    "cny_recovery_days": KeySpec(
        Kind.INT,
        ("cny_recovery_days",),
        Message(
            "春节：复工爬坡天数（约两周）",
            "Chinese New Year: days of reduced output after (about two weeks)",
        ),
    ),
    "cny_recovery_capacity": KeySpec(
        Kind.RATE,
        ("cny_recovery_capacity",),
        Message(
            "春节：复工期间产能（20%-40%）", "Chinese New Year: capacity while restarting (20-40%)"
        ),
    ),
    "vat_recovery_days": KeySpec(
        Kind.INT,
        ("vat_recovery_days",),
        Message(
            "可抵扣进口税到账天数（到港后）",
            "Recoverable import tax refunded this many days after arrival",
        ),
    ),
    "opening_cash": KeySpec(
        Kind.AMOUNT,
        ("opening_cash",),
        Message("期初资金（报告币种）", "Opening cash [reporting ccy]"),
    ),
}
"""The Supply Settings rows, in order: one per field of
:class:`~xlplan.supply.calc.settings.SupplySettings`."""

TRANSIT_MODES = Table(
    "transit_modes",
    "tblTransitModes",
    "运输方式",
    "Transit modes",
    (
        Column(
            "mode",
            "运输方式",
            "Transit mode",
            Kind.TEXT,
            required=True,
            choices="transit_modes",
            width=11,
        ),
        Column(
            "region",
            "目的区域",
            "Region",
            Kind.CODE,
            choices="regions",
            width=10,
            help_zh="NA、EU、LATAM…；留空=其他",
            help_en="NA, EU, LATAM...; blank = anywhere else",
        ),
        days(
            "days",
            "门到门天数",
            "Door to door",
            required=True,
            minimum=0.0,
            maximum=365.0,
            width=11,
        ),
        Column(
            "freight_index",
            "运费指数",
            "Freight index",
            Kind.NUMBER,
            "海运=1",
            "sea = 1",
            minimum=0.0,
            min_exclusive=True,
            width=10,
        ),
        text("source", "来源", "Source", 44),
    ),
    sheet="supply_setup",
    help_zh="路线未填头程时效时按此表取天数；运费指数只用于比较运输方式（海运=1）。",
    help_en="Routes without their own door-to-door days use this table; the freight index only "
    "compares transit modes (sea = 1).",
)

PAYOUTS = Table(
    "payouts",
    "tblPayouts",
    "平台回款周期",
    "Payout cycles",
    (
        Column(
            "channel", "渠道", "Channel", Kind.TEXT, required=True, choices="channels", width=14
        ),
        Column(
            "payout_days",
            "回款天数",
            "Payout days",
            Kind.NUMBER,
            DAYS.zh,
            DAYS.en,
            required=True,
            minimum=0.0,
            maximum=365.0,
            width=10,
            help_zh="从售出到资金到账的平均天数",
            help_en="average days from a sale to the money",
        ),
        text("source", "来源", "Source", 44),
    ),
    sheet="supply_setup",
    help_zh="未列出的渠道按 Other 行计算。",
    help_en="Channels not listed use the Other row.",
)

# --------------------------------------------------------------------------------------------
# Outputs: built from the calculators' keys, each key's look declared once
# --------------------------------------------------------------------------------------------


def _money(key: str, zh: str, en: str, width: float = 14.0) -> Column:
    return amount(key, zh, en, width=width)


def _per_year(key: str, zh: str, en: str) -> Column:
    return Column(key, zh, en, Kind.NUMBER, PER_YEAR.zh, PER_YEAR.en, width=9)


OUTPUT_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        text("month", "月份", "Month", 9),
        text("sku", "SKU", "SKU", 13),
        text("market", "市场", "Market", 8),
        text("warehouse", "仓库", "Warehouse", 18),
        text("supplier", "供应商", "Supplier", 12),
        text("mode", "运输", "Mode", 8),
        quantity("units", "销量", "Units sold", 12),
        quantity("arrivals", "到货", "Arrivals", 12),
        quantity("closing_units", "月末库存", "Month-end stock", 12),
        _money("stock_value", "库存金额", "Stock value"),
        day_count("cover_days", "可售天数", "Days of cover"),
        day_count("safety_days", "安全天数", "Safety days"),
        _money("revenue_at_risk", "风险收入", "Revenue at risk"),
        text("po", "单号", "PO", 9),
        when("order_date", "下单日", "Order by"),
        when("ship_date", "发货日", "Ship"),
        when("arrival_date", "到仓日", "Arrive"),
        when("available_date", "可售日", "Available"),
        text("need_month", "备货月份", "For month", 9),
        quantity("quantity", "数量", "Quantity", 10),
        _money("value", "货值", "Goods value", 13),
        text("before_cny", "春节前下单", "Before CNY", 10),
        when("latest_order_date", "最晚下单日", "Order was due"),
        quantity("short_units", "缺货数量", "Units short", 11),
        text("air_in_time", "空运可补", "Air in time", 11),
        quantity("units_sold", "销量", "Units sold"),
        quantity("units_ordered", "采购量", "Units ordered"),
        Column("orders", "单数", "Orders", Kind.INT, width=7),
        when("first_order", "首次下单", "First order"),
        when("first_arrival", "首批可售", "First available"),
        quantity("average_stock", "平均库存", "Average stock"),
        _per_year("turnover", "周转", "Turnover"),
        day_count("min_cover_days", "最低可售天数", "Lowest cover"),
        _money("revenue", "目标收入", "Revenue"),
        _money("cogs", "销售成本", "Cost of sales"),
        _money("average_stock_value", "平均库存金额", "Average stock value"),
        text("measure", "项目", "Measure", 12),
        *(
            Column(
                f"m{m:02d}", units.MONTHS[m - 1].zh, units.MONTHS[m - 1].en, Kind.AMOUNT, width=8
            )
            for m in range(1, 13)
        ),
        text("kind", "类型", "Kind", 16),
        when("start", "开始", "Start"),
        when("end", "结束（含）", "End (incl.)"),
        Column(
            "capacity", "产能", "Capacity", Kind.RATE, units.FRACTION.zh, units.FRACTION.en, width=9
        ),
        text("note", "说明", "Note", 30),
        _money("opening", "期初", "Opening", 13),
        _money("receipts", "销售回款", "Payouts", 13),
        _money("vat_refunds", "进口税退回", "Import tax refunds", 12),
        _money("inflow", "流入合计", "Total in", 13),
        _money("deposits", "采购定金", "Deposits", 12),
        _money("balances", "采购尾款", "Balances", 12),
        _money("freight", "头程运费", "Freight", 12),
        _money("duties", "关税与进口税", "Duty & import tax", 12),
        _money("fulfilment", "履约与仓储", "Fulfilment & storage", 12),
        _money("ads", "广告", "Ads", 12),
        _money("outflow", "流出合计", "Total out", 13),
        _money("net", "净流量", "Net", 13),
        _money("closing", "期末", "Closing", 13),
        _money("funding_need", "资金占用峰值", "Peak funding need", 15),
        text("peak_month", "峰值月份", "Peak month", 10),
        text("lowest_month", "最低月份", "Lowest month", 10),
        _money("tied_up", "资金占用", "Money tied up", 14),
        _money("lowest_cash", "最低资金", "Lowest cash"),
        _money("closing_cash", "年末资金", "Cash at year end"),
        _money("after_year", "次年到账净额", "Due after December"),
        day_count("ccc_days", "现金周期", "Cash cycle"),
        day_count("inventory_days", "库存天数", "Inventory days", 11),
        day_count("receivable_days", "回款天数", "Receivable days", 11),
        day_count("payable_days", "付款天数", "Payable days", 11),
        text("lever", "方案", "Scenario", 14),
        _money("change", "峰值变化", "Change in need", 13),
    )
}
"""How every output column looks, by key; each output table picks its calculator's keys."""


def _output(
    key: str,
    name: str,
    zh: str,
    en: str,
    keys: tuple[str, ...],
    sheet: str,
    help_zh: str = "",
    help_en: str = "",
) -> Table:
    columns = tuple(OUTPUT_COLUMNS[k] for k in keys)
    return Table(key, name, zh, en, columns, sheet=sheet, help_zh=help_zh, help_en=help_en)


STOCK_MONTHS = _output(
    "stock_months",
    "tblStockMonths",
    "库存与可售天数（按月）",
    "Stock and cover by month",
    MONTH_KEYS,
    "stock_plan",
)
PURCHASE_ORDERS = _output(
    "purchase_orders", "tblPurchaseOrders", "采购单", "Purchase orders", ORDER_KEYS, "stock_plan"
)
STOCK_AT_RISK = _output(
    "stock_at_risk",
    "tblStockAtRisk",
    "来不及备货的月份",
    "Months that can no longer be stocked",
    AT_RISK_KEYS,
    "stock_plan",
)
STOCK_SUMMARY = _output(
    "stock_summary",
    "tblStockSummary",
    "各 SKU 周转与可售天数",
    "Turnover and cover by SKU",
    ROUTE_SUMMARY_KEYS,
    "stock_plan",
)
STOCK_MARKETS = _output(
    "stock_markets",
    "tblStockMarkets",
    "各市场周转",
    "Turnover by market",
    MARKET_SUMMARY_KEYS,
    "stock_plan",
)
STOCK_POSITIONS = _output(
    "stock_positions",
    "tblStockPositions",
    "库存推演（按 SKU）",
    "Stock by SKU and month",
    POSITION_KEYS,
    "stock_plan",
)
SUPPLIER_CALENDAR = _output(
    "supplier_calendar",
    "tblSupplierCalendar",
    "供应商日历",
    "Supplier calendar",
    WINDOW_KEYS,
    "stock_plan",
)
CASH_SUMMARY = _output(
    "cash_summary", "tblCashSummary", "资金要点", "Cash in brief", SUMMARY_KEYS, "cash_plan"
)
CASH_CURVE = _output(
    "cash_curve", "tblCashCurve", "资金曲线（按月）", "Cash by month", CURVE_KEYS, "cash_plan"
)
CASH_CYCLE = _output(
    "cash_cycle",
    "tblCashCycle",
    "现金周期（按市场）",
    "Cash conversion cycle by market",
    CYCLE_KEYS,
    "cash_plan",
    help_zh="现金周期 = 库存天数 + 回款天数 − 付款天数；先付款后到货时付款天数为负，周期更长。",
    help_en="Cycle = inventory days + receivable days - payable days; paying before the goods "
    "arrive makes payable days negative and the cycle longer.",
)
CASH_LEVERS = _output(
    "cash_levers",
    "tblCashLevers",
    "两个杠杆：付款条件与运输方式",
    "Two levers: payment terms and transit mode",
    LEVER_KEYS,
    "cash_plan",
    help_zh="付款条件：全部路线改用设置中的对比条件（alt_deposit_rate、alt_balance_days）；"
    "运输：全部路线改为海运或空运（运输方式表的天数，运费按运费指数折算）。",
    help_en="Payment terms: every route on the alternative terms of the settings "
    "(alt_deposit_rate, alt_balance_days); transit: every route by sea or by air (days from the "
    "transit table, freight scaled by the freight index).",
)

STOCK_TABLES = (
    STOCK_MONTHS,
    PURCHASE_ORDERS,
    STOCK_AT_RISK,
    STOCK_SUMMARY,
    STOCK_MARKETS,
    STOCK_POSITIONS,
    SUPPLIER_CALENDAR,
)
CASH_TABLES = (CASH_SUMMARY, CASH_CURVE, CASH_CYCLE, CASH_LEVERS)
INPUT_TABLES = (SUPPLY_ROUTES, SUPPLY_SKUS, SUPPLIER_CLOSURES)
SETUP_TABLES = (SUPPLY_SETTINGS, TRANSIT_MODES, PAYOUTS)
TABLES = (*INPUT_TABLES, *SETUP_TABLES, *STOCK_TABLES, *CASH_TABLES)

LISTS: dict[str, list[str]] = {
    "transit_modes": [m.value for m in TransitMode],
    "regions": sorted(set(reference.market_history()["region"])),
}
"""Validation lists of this capability's columns (``markets``, ``currencies`` and ``channels``
come from the reference data through the catalog)."""
