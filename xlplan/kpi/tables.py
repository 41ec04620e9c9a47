"""Sheets and tables of the KPI health flags and the Dashboard (issue 4).

Input (the user's): ``kpi`` holds ``tblKpiValues`` (one KPI figure per row, long) and
``tblKpiThresholds`` (the catalog's thresholds, editable, with optional per-market / channel /
category rows); ``kpi_raw`` holds ``tblKpiRaw`` (raw monthly figures, one column per raw input
of the catalog's formulas, from which XLPlan derives the KPIs).

Output (owned, rewritten by the ``kpi`` action): ``kpi_flags`` holds ``tblKpiFlags`` (every
figure with its flag and one-line reason); ``dashboard`` holds the tables its charts read:
``tblDashMonths`` (plan vs actual by month), ``tblDashMarkets`` (attainment by market),
``tblDashKpiCounts`` (flags per market), ``tblDashKpis`` (the latest month's figures with traffic
lights) and ``tblDashWaterfall`` (the margin waterfall of one landed-cost line).

Units: ``value``, ``green`` and ``red`` are in the KPI's unit (``per_year`` [1/yr], ``fraction``
[fraction, 0.15 = 15 %], ``ratio`` [-], ``days`` [d], ``CNY`` [CNY]); plan and actual amounts are
in the reporting currency; waterfall amounts are per unit in the line's market currency.
"""

from __future__ import annotations

from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.workbook.schema import Column, Kind, Sheet, Table, amount, ratio, text

RAW_INPUTS: tuple[tuple[str, str, str, str, str], ...] = (
    # key, zh, en, unit zh, unit en -- the raw inputs of the catalog's formulas, in catalog order
    ("gmv", "GMV", "GMV", "元", "CNY"),
    ("gmv_prev_month", "上月 GMV", "GMV previous month", "元", "CNY"),
    ("gmv_target", "GMV 目标", "GMV target", "元", "CNY"),
    ("revenue", "收入", "Revenue", "元", "CNY"),
    ("variable_costs", "变动成本", "Variable costs", "元", "CNY"),
    ("profit", "利润", "Profit", "元", "CNY"),
    ("commission", "平台佣金与费用", "Platform fees", "元", "CNY"),
    ("cogs", "销售成本", "COGS", "元", "CNY"),
    ("average_inventory", "平均库存（成本）", "Average inventory", "元", "CNY"),
    ("period_months", "期间月数", "Period months", "月", "months"),
    ("ad_revenue", "广告收入", "Ad revenue", "元", "CNY"),
    ("ad_spend", "广告花费", "Ad spend", "元", "CNY"),
    ("sessions", "访客数", "Sessions", "次", "count"),
    ("orders", "订单数", "Orders", "单", "count"),
    ("returned_orders", "退货订单", "Returned orders", "单", "count"),
    ("marketing_spend", "营销花费", "Marketing spend", "元", "CNY"),
    ("new_customers", "新客户数", "New customers", "人", "count"),
    ("aov", "客单价", "AOV", "元/单", "CNY/order"),
    ("orders_per_year", "年购买次数", "Orders per year", "次/年", "1/yr"),
    ("gross_margin", "毛利率", "Gross margin", units.FRACTION.zh, units.FRACTION.en),
    ("lifetime_years", "客户生命周期", "Lifetime", "年", "years"),
    ("satisfied_responses", "满意答卷", "Satisfied responses", "份", "count"),
    ("survey_responses", "答卷总数", "Survey responses", "份", "count"),
    ("shipped_parcels", "发货包裹", "Shipped parcels", "件", "count"),
    ("lost_parcels", "丢失包裹", "Lost parcels", "件", "count"),
    ("reviews", "评价数", "Reviews", "条", "count"),
    ("negative_reviews", "差评数", "Negative reviews", "条", "count"),
    ("payout_cycle_days", "回款周期", "Payout cycle", "天", "days"),
    ("delivery_days", "配送时效", "Delivery time", "天", "days"),
)
"""Columns of ``tblKpiRaw`` after the ID columns. The last two are KPIs entered directly."""


def _id_columns() -> tuple[Column, ...]:
    return (
        text(
            "month",
            "月份",
            "Month",
            10,
            help_zh="填 2027-03 这样的年月",
            help_en="year and month, e.g. 2027-03",
        ),
        Column("market", "市场", "Market", Kind.CODE, width=9),
        text("channel", "渠道", "Channel", 14),
        text("category", "品类", "Category", 12),
    )


def _money(key: str, zh: str, en: str, width: float = 13.0) -> Column:
    return Column(key, zh, en, Kind.MONEY, units.PER_UNIT.zh, units.PER_UNIT.en, width=width)


KPI_SHEETS = (
    Sheet(
        "kpi",
        "KPI 数据",
        "KPI",
        heading=Message("KPI 数据与阈值", "KPI figures and thresholds"),
        note=Message(
            "每月按市场、渠道填写 KPI 数值（或在“KPI 原始数据”表填原始数字由 XLPlan 计算）；"
            "右侧阈值可修改，也可加一行只对某个市场/渠道/品类生效。",
            "Enter each month's KPI figures by market and channel (or raw figures on KPI Raw and "
            "XLPlan derives the KPIs); edit the thresholds on the right, or add a row that applies "
            "to one market, channel or category.",
        ),
    ),
    Sheet(
        "kpi_raw",
        "KPI 原始数据",
        "KPI Raw",
        heading=Message("KPI 原始数据", "KPI raw figures"),
        note=Message(
            "每行一个月 × 市场 × 渠道；填了哪些列就计算哪些 KPI（如 销售成本 + 平均库存 + "
            "期间月数 → 库存周转）。",
            "One row per month x market x channel; each KPI whose inputs are filled is derived "
            "(e.g. COGS + average inventory + period months -> inventory turnover).",
        ),
    ),
    Sheet(
        "kpi_flags",
        "KPI 预警",
        "KPI Flags",
        owned=True,
        heading=Message("KPI 健康度", "KPI health flags"),
        note=Message(
            "由 xlplan 生成：每个数值的绿/黄/红灯与一句话原因，超出合理范围的标为“请核实”；"
            "阈值来自“KPI 数据”表的阈值表。",
            "Written by xlplan: every figure's green / amber / red flag with a one-line reason, "
            "or check where it looks implausible; thresholds from the table on the KPI sheet.",
        ),
    ),
    Sheet(
        "dashboard",
        "看板",
        "Dashboard",
        owned=True,
        heading=Message("经营看板", "Dashboard"),
        note=Message(
            "由 xlplan 生成（运行“KPI 与看板”）：月度目标与实际、各市场达成、KPI 红绿灯、"
            "单品利润瀑布。",
            "Written by xlplan (run KPI & dashboard): plan vs actual by month, attainment by "
            "market, KPI traffic lights and one line's margin waterfall.",
        ),
    ),
)

KPI_VALUES = Table(
    "kpi_values",
    "tblKpiValues",
    "KPI 数值",
    "KPI figures",
    (
        *_id_columns(),
        text(
            "kpi",
            "KPI",
            "KPI",
            22,
            required=True,
            help_zh="KPI 代码或中英文名称，见右侧阈值表",
            help_en="KPI key or its zh / en name: see the thresholds table",
        ),
        Column(
            "value",
            "数值",
            "Value",
            Kind.NUMBER,
            "KPI 单位",
            "KPI unit",
            width=12,
            help_zh="比例填 0.15 或 15%",
            help_en="enter a share as 0.15 or 15%",
        ),
        text("note", "备注", "Note", 24),
    ),
    sheet="kpi",
    help_zh="每行一个 KPI 数值；比例填 0.15 或 15%，周转填 次/年，时效填 天。",
    help_en="One KPI figure per row; shares as 0.15 or 15%, turnover per year, times in days.",
)

KPI_THRESHOLDS = Table(
    "kpi_thresholds",
    "tblKpiThresholds",
    "KPI 阈值",
    "KPI thresholds",
    (
        text("kpi", "KPI", "KPI", 20, required=True),
        text("name", "名称", "Name", 20),
        Column("market", "市场", "Market", Kind.CODE, width=8),
        text("channel", "渠道", "Channel", 10),
        text("category", "品类", "Category", 10),
        text("green_op", "绿灯条件", "Green if", 7),
        Column("green", "绿灯阈值", "Green", Kind.NUMBER, "KPI 单位", "KPI unit", width=9),
        text("red_op", "红灯条件", "Red if", 7),
        Column("red", "红灯阈值", "Red", Kind.NUMBER, "KPI 单位", "KPI unit", width=9),
        Column(
            "plausible_min",
            "合理下限",
            "Plausible min",
            Kind.NUMBER,
            "KPI 单位",
            "KPI unit",
            width=10,
            help_zh="低于此值标为“请核实”；留空=内置",
            help_en="below it the figure is flagged check; blank = catalog",
        ),
        Column(
            "plausible_max",
            "合理上限",
            "Plausible max",
            Kind.NUMBER,
            "KPI 单位",
            "KPI unit",
            width=10,
            help_zh="高于此值标为“请核实”；留空=内置",
            help_en="above it the figure is flagged check; blank = catalog",
        ),
        text("unit", "单位", "Unit", 9),
        text("source", "来源", "Source", 35),
    ),
    sheet="kpi",
    help_zh="修改绿灯/红灯阈值即生效；比较方向（≥、<）来自内置目录。超出合理上下限的数值标为“请核实”。"
    "加一行并填市场即只对该市场生效。",
    help_en="Edit Green or Red and the action uses it; the comparison comes from the catalog. "
    "Figures outside the plausible min and max are flagged check. Add a row with a market to "
    "change it for that market only.",
)

KPI_RAW = Table(
    "kpi_raw",
    "tblKpiRaw",
    "KPI 原始数据",
    "KPI raw figures",
    (
        *_id_columns(),
        *(Column(k, zh, en, Kind.NUMBER, uzh, uen, width=12) for k, zh, en, uzh, uen in RAW_INPUTS),
    ),
    sheet="kpi_raw",
)

KPI_FLAGS = Table(
    "kpi_flags",
    "tblKpiFlags",
    "KPI 健康度",
    "KPI health flags",
    (
        text("month", "月份", "Month", 9),
        text("market", "市场", "Market", 8),
        text("channel", "渠道", "Channel", 12),
        text("category", "品类", "Category", 10),
        text("kpi", "KPI", "KPI", 20),
        text("name_zh", "名称", "Name (zh)", 18),
        text("name_en", "英文名称", "Name", 22),
        Column("value", "数值", "Value", Kind.NUMBER, "KPI 单位", "KPI unit", width=11),
        text("unit", "单位", "Unit", 8),
        text("flag", "灯", "Flag", 9),
        Column("green", "绿灯阈值", "Green", Kind.NUMBER, width=9),
        Column("red", "红灯阈值", "Red", Kind.NUMBER, width=9),
        text("reason_zh", "原因", "Reason (zh)", 35),
        text("reason_en", "原因（英文）", "Reason", 35),
        text("source", "来源", "Source", 12),
    ),
    sheet="kpi_flags",
)

DASH_MONTHS = Table(
    "dash_months",
    "tblDashMonths",
    "月度目标与实际",
    "Plan vs actual by month",
    (
        text("month", "月份", "Month", 9),
        amount("plan", "目标", "Plan", 14),
        amount("actual", "实际", "Actual", 14),
        ratio("attainment", "达成率", "Attainment", 10),
    ),
    sheet="dashboard",
)

DASH_MARKETS = Table(
    "dash_markets",
    "tblDashMarkets",
    "各市场累计达成",
    "Attainment by market (YTD)",
    (
        text("market", "市场", "Market", 9),
        amount("ytd_plan", "累计目标", "YTD plan", 14),
        amount("ytd_actual", "累计实际", "YTD actual", 14),
        ratio("attainment", "达成率", "Attainment", 10),
        ratio("margin", "贡献利润率", "Line margin", 10),
    ),
    sheet="dashboard",
)

DASH_KPI_COUNTS = Table(
    "dash_kpi_counts",
    "tblDashKpiCounts",
    "KPI 红绿灯（按市场，各市场最新月份）",
    "KPI traffic lights by market (each market's latest month)",
    (
        text("market", "市场", "Market", 9),
        Column("green", "绿", "Green", Kind.INT, width=14),
        Column("amber", "黄", "Amber", Kind.INT, width=14),
        Column("red", "红", "Red", Kind.INT, width=10),
        Column("check", "请核实", "Check", Kind.INT, width=9),
        Column("no_data", "无数据", "No data", Kind.INT, width=9),
    ),
    sheet="dashboard",
)

DASH_KPIS = Table(
    "dash_kpis",
    "tblDashKpis",
    "需要关注的 KPI（各市场最新月份）",
    "KPIs needing attention (each market's latest month)",
    (
        text("market", "市场", "Market", 9),
        text("month", "月份", "Month", 14),
        text("name_zh", "指标", "KPI (zh)", 14),
        text("name_en", "指标（英文）", "KPI", 14),
        text("flag", "灯", "Flag", 10),
        text("reason_zh", "原因", "Reason (zh)", 35),
        text("reason_en", "原因（英文）", "Reason", 35),
    ),
    sheet="dashboard",
)

DASH_WATERFALL = Table(
    "dash_waterfall",
    "tblDashWaterfall",
    "单品利润瀑布",
    "Margin waterfall of one line",
    (
        text("step", "项目", "Step", 9),
        _money("amount", "金额", "Amount", 14),
        _money("base", "图表底座", "Chart base", 14),
        _money("bar", "图表柱高", "Chart bar", 10),
        text("line", "明细行", "Line", 24),
    ),
    sheet="dashboard",
)

KPI_TABLES = (
    KPI_VALUES,
    KPI_THRESHOLDS,
    KPI_RAW,
    KPI_FLAGS,
    DASH_MONTHS,
    DASH_MARKETS,
    DASH_KPI_COUNTS,
    DASH_KPIS,
    DASH_WATERFALL,
)
DASHBOARD_TABLES = (DASH_MONTHS, DASH_MARKETS, DASH_KPI_COUNTS, DASH_KPIS, DASH_WATERFALL)

SHEETS = KPI_SHEETS
TABLES = KPI_TABLES
