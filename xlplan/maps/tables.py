"""Sheets and tables of the three maps (business, customer, product) and their proposals.

Input sheets (the user's): **Business Map** (candidate markets, thresholds and weights, the
incremental pool), **Customer Map** (order files to import, tier settings, per-tier
assumptions), **Product Map** (monthly sales by product line, economics per line, lifecycle
and quadrant settings). Output sheets (XLPlan's, rewritten on every run): **Business Map
Result**, **Customer Map Result**, **Product Map Result** and **Map Proposals**, whose table
has exactly the columns of the Alignment sheet's ``tblTargetLines`` so owners can paste rows.

Amounts of outputs are in the reporting currency (Settings ``reporting_currency``).
The three settings tables are key/value tables: ``setting`` (a key of
:data:`BUSINESS_SETTING_KEYS`, :data:`CUSTOMER_SETTING_KEYS` or :data:`PRODUCT_SETTING_KEYS`),
``value`` and ``label``; each key declares the kind its value is shown and read as.
"""

from __future__ import annotations

from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.orders import FORMATS
from xlplan.plan.tables import TARGET_LINE_COLUMNS
from xlplan.workbook.keyvalue import KeySpec
from xlplan.workbook.schema import Column, Kind, Sheet, Table, amount, text

USD_ZH, USD_EN = "美元", "US$"
DAYS_ZH, DAYS_EN = "天", "days"

ORDER_FORMATS = tuple(FORMATS)
MAP_OWNERS = {
    "business": "市场运营 Market ops",
    "customer": "客户成功 Customer success",
    "product": "选品 Product",
}


def _rate(key: str, zh: str, en: str, width: float = 10.0, **kw: object) -> Column:
    return Column(
        key,
        zh,
        en,
        Kind.RATE,
        units.FRACTION.zh,
        units.FRACTION.en,
        width=width,
        **kw,  # type: ignore[arg-type]
    )


def _months(key: str, zh: str, en: str, width: float = 11.0) -> Column:
    """A number of months to 0.1 month (days x 12 / 365)."""
    return Column(key, zh, en, Kind.NUMBER, "月", "months", width=width)


def _settings_table(
    key: str, name: str, zh: str, en: str, sheet: str, help_zh: str, help_en: str
) -> Table:
    return Table(
        key,
        name,
        zh,
        en,
        (
            text("setting", "设置项", "Setting", 26, required=True),
            text("value", "值", "Value", 14),
            text("label", "说明", "Description", 35),
        ),
        sheet=sheet,
        help_zh=help_zh,
        help_en=help_en,
    )


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------

MAP_SHEETS = (
    Sheet(
        "business_map",
        "业务地图",
        "Business Map",
        heading=Message("业务地图：市场筛选", "Business map: market screening"),
        note=Message(
            "每个候选市场一行；宏观数据与电商增速留空则取内置参考值，毛利率留空则取落地成本结果的中位数；"
            "未通过筛选但要为增长保留的市场，勾选“保留”并写明原因。",
            "One row per candidate market; blank macro figures and growth take the shipped "
            "reference data, a blank margin the median of the Landed Cost Results for that market; "
            "keep a market that fails a screen for its growth by ticking Keep with the reason.",
        ),
    ),
    Sheet(
        "business_map_result",
        "业务地图结果",
        "Business Map Result",
        owned=True,
        heading=Message("业务地图结果", "Business map result"),
        note=Message(
            "由 xlplan 生成：通过、保留（及原因）或未通过及未通过的条件，"
            "加权得分及其中的增长与机会得分，排名与建议增量目标"
            "（报告币种，按取整单位，合计等于分配的目标池）。",
            "Written by xlplan: pass, kept (with the reason) or fail with the failing criteria, "
            "weighted score and its growth-and-opportunity part, rank and the proposed "
            "incremental target (reporting currency, whole rounding units adding up to the "
            "allocated pool).",
        ),
    ),
    Sheet(
        "customer_map",
        "客户地图",
        "Customer Map",
        heading=Message("客户地图：客户分层", "Customer map: customer tiers"),
        note=Message(
            "列出要导入的订单文件（绝对路径，或相对于运行 xlplan 的当前目录）；"
            "分层设置与各层假设可改。",
            "List the order files to import (absolute paths, or relative to the directory "
            "xlplan runs in); tier settings and per-tier assumptions are editable.",
        ),
    ),
    Sheet(
        "customer_map_result",
        "客户地图结果",
        "Customer Map Result",
        owned=True,
        heading=Message("客户地图结果", "Customer map result"),
        note=Message(
            "由 xlplan 生成：数据覆盖的时间、各层客户数、收入占比、复购、预算月份，以及逐项算出的"
            "各层建议目标（报告币种）。",
            "Written by xlplan: the dates the orders cover, then per tier customers, revenue "
            "share, repeat rate, budget months and the proposed target, factor by factor "
            "(reporting currency).",
        ),
    ),
    Sheet(
        "product_map",
        "产品地图",
        "Product Map",
        heading=Message("产品地图：生命周期与产品组合", "Product map: lifecycle and portfolio"),
        note=Message(
            "按产品线填写月度销量与收入（报告币种），以及毛利率、推广费用与库存天数。",
            "Fill monthly units and revenue (reporting currency) by product line, and each "
            "line's margin, promotion cost and inventory days.",
        ),
    ),
    Sheet(
        "product_map_result",
        "产品地图结果",
        "Product Map Result",
        owned=True,
        heading=Message("产品地图结果", "Product map result"),
        note=Message(
            "由 xlplan 生成：生命周期阶段、明星/现金牛/问题/瘦狗象限、投资回报与建议目标。",
            "Written by xlplan: lifecycle stage, star / cash cow / question mark / dog "
            "quadrant, return on investment and the proposed target.",
        ),
    ),
    Sheet(
        "map_proposals",
        "地图提案",
        "Map Proposals",
        owned=True,
        heading=Message(
            "地图提案：可粘贴到三方对齐", "Map proposals: ready to paste into Alignment"
        ),
        note=Message(
            "由 xlplan 生成：每行一个建议目标，列与“三方对齐”表相同；"
            "每个地图的操作只替换本地图的行。",
            "Written by xlplan: one proposed target per row, columns as on the Alignment "
            "sheet; each map's action replaces only its own rows.",
        ),
    ),
)

# --------------------------------------------------------------------------------------------
# Business map
# --------------------------------------------------------------------------------------------

MARKET_MACRO_COLUMNS: tuple[Column, ...] = (
    Column(
        "gdp_per_capita_usd",
        "人均GDP",
        "GDP per capita",
        Kind.AMOUNT,
        USD_ZH,
        USD_EN,
        minimum=0.0,
        width=12,
        help_zh="留空=世界银行数据（见 market_macro.csv）",
        help_en="blank = World Bank figure (market_macro.csv)",
    ),
    _rate(
        "ecommerce_penetration",
        "电商渗透率",
        "E-com penetration",
        width=12,
        minimum=0.0,
        maximum=1.0,
        help_zh="网购人口占比；留空=内置估计",
        help_en="online shoppers / population; blank = shipped estimate",
    ),
    Column(
        "ecommerce_market_usd_bn",
        "电商市场规模",
        "E-com market",
        Kind.NUMBER,
        "十亿美元",
        "US$ bn",
        minimum=0.0,
        width=11,
        help_zh="留空=内置估计",
        help_en="blank = shipped estimate",
    ),
)
MARKET_SCORE_COLUMNS: tuple[Column, ...] = (
    Column("payout_days", "回款周期", "Payout", Kind.INT, DAYS_ZH, DAYS_EN, minimum=0.0, width=9),
    Column(
        "delivery_days",
        "配送时效",
        "Delivery",
        Kind.INT,
        DAYS_ZH,
        DAYS_EN,
        minimum=0.0,
        width=9,
        help_zh="目前到买家的天数",
        help_en="days to the buyer today",
    ),
    Column(
        "competition_score",
        "竞争评分",
        "Competition",
        Kind.INT,
        "1-5",
        "1-5",
        minimum=1.0,
        maximum=5.0,
        width=11,
        help_zh="竞争缺口：1 = 红海价格战，5 = 本地供给弱、对手不做本地化",
        help_en="competition gap: 1 = crowded, price war; 5 = open (weak local supply)",
    ),
    Column(
        "compliance_score",
        "合规评分",
        "Compliance",
        Kind.INT,
        "1-5",
        "1-5",
        minimum=1.0,
        maximum=5.0,
        width=11,
        help_zh="1 = 认证/EPR/许可难，5 = 容易",
        help_en="1 = hard (certification, EPR, licences); 5 = easy",
    ),
)
# Growth and opportunity inputs, after the static ones so the older columns keep their place.
MARKET_GROWTH_COLUMNS: tuple[Column, ...] = (
    _rate(
        "ecommerce_growth",
        "电商增速",
        "E-com growth",
        width=12,
        minimum=-1.0,
        maximum=10.0,
        help_zh="电商年增长率；留空=内置数据（注明来源与年份，见 market_macro.csv）",
        help_en="annual e-commerce growth; blank = shipped figure (source and year in "
        "market_macro.csv)",
    ),
    Column(
        "planned_delivery_days",
        "计划配送时效",
        "Planned delivery",
        Kind.INT,
        DAYS_ZH,
        DAYS_EN,
        minimum=0.0,
        width=12,
        help_zh="计划的物流改进后（如海外仓）；留空=无计划",
        help_en="after a planned fix, e.g. a local warehouse; blank = none planned",
    ),
)

BUSINESS_MARKETS = Table(
    "business_markets",
    "tblBusinessMarkets",
    "候选市场",
    "Candidate markets",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, choices="markets", width=9),
        text(
            "channel",
            "渠道",
            "Channel",
            14,
            choices="channels",
            help_zh="写入提案的渠道（可留空）",
            help_en="channel of the proposal (optional)",
        ),
        *MARKET_MACRO_COLUMNS,
        _rate(
            "margin",
            "税费后毛利率",
            "Margin after fees",
            width=11,
            minimum=-1.0,
            maximum=1.0,
            help_zh="留空=该市场落地成本结果的贡献利润率中位数",
            help_en="blank = median contribution margin of the market's landed-cost lines",
        ),
        *MARKET_SCORE_COLUMNS,
        *MARKET_GROWTH_COLUMNS,
        Column(
            "keep",
            "保留",
            "Keep",
            Kind.BOOL,
            width=8,
            help_zh="未通过筛选仍保留（须写原因）",
            help_en="keep although it fails a screen (give the reason)",
        ),
        text(
            "keep_reason",
            "保留原因",
            "Keep reason",
            36,
            help_zh="为何保留：增长、竞争缺口、物流改进…",
            help_en="why: growth, competition gap, logistics fix...",
        ),
        text("note", "备注", "Note", 30),
    ),
    sheet="business_map",
)

BUSINESS_SETTINGS = _settings_table(
    "business_settings",
    "tblBusinessSettings",
    "筛选阈值、权重与增量目标",
    "Thresholds, weights and the incremental pool",
    "business_map",
    "阈值默认值来自 DOMAIN.md 第 2 节；权重按比例归一（增长与机会占 40%）。"
    "增量目标池按得分分给通过与保留的市场，按设置表的取整单位取整。",
    "Threshold defaults from DOMAIN.md section 2; weights are normalised (growth and "
    "opportunity 40%). The incremental pool is shared among passing and kept markets by score, "
    "in whole Settings rounding units.",
)

BUSINESS_SETTING_KEYS: dict[str, KeySpec] = {
    "incremental_pool": KeySpec(
        Kind.AMOUNT,
        (),
        Message(
            "增量目标池（报告币种/年），由新市场承担",
            "Incremental pool new markets should deliver [reporting ccy/year]",
        ),
    ),
    "threshold_gdp_per_capita_usd": KeySpec(
        Kind.AMOUNT,
        ("thresholds", "gdp_per_capita_usd"),
        Message(
            "阈值：人均GDP须高于 [美元]",
            "Threshold: GDP per capita above [US$]",
        ),
    ),
    "threshold_penetration": KeySpec(
        Kind.RATE,
        ("thresholds", "ecommerce_penetration"),
        Message(
            "阈值：电商渗透率须高于",
            "Threshold: e-commerce penetration above",
        ),
    ),
    "threshold_market_usd_bn": KeySpec(
        Kind.NUMBER,
        ("thresholds", "ecommerce_market_usd_bn"),
        Message(
            "阈值：电商市场规模须高于 [十亿美元]",
            "Threshold: e-commerce market above [US$ bn]",
        ),
    ),
    "threshold_margin": KeySpec(
        Kind.RATE,
        ("thresholds", "margin"),
        Message(
            "阈值：税费后毛利率须高于",
            "Threshold: margin above",
        ),
    ),
    "threshold_payout_days": KeySpec(
        Kind.INT,
        ("thresholds", "payout_days"),
        Message(
            "阈值：回款周期不超过 [天]",
            "Threshold: payout cycle at most [days]",
        ),
    ),
    "weight_gdp_per_capita": KeySpec(
        Kind.RATE,
        ("weights", "gdp_per_capita"),
        Message(
            "权重：人均GDP",
            "Weight: GDP per capita",
        ),
    ),
    "weight_penetration": KeySpec(
        Kind.RATE,
        ("weights", "penetration"),
        Message(
            "权重：电商渗透率",
            "Weight: penetration",
        ),
    ),
    "weight_market_size": KeySpec(
        Kind.RATE,
        ("weights", "market_size"),
        Message(
            "权重：市场规模",
            "Weight: market size",
        ),
    ),
    "weight_margin": KeySpec(
        Kind.RATE,
        ("weights", "margin"),
        Message(
            "权重：毛利率",
            "Weight: margin",
        ),
    ),
    "weight_payout": KeySpec(
        Kind.RATE,
        ("weights", "payout"),
        Message(
            "权重：回款周期",
            "Weight: payout cycle",
        ),
    ),
    "weight_delivery": KeySpec(
        Kind.RATE,
        ("weights", "delivery"),
        Message(
            "权重：配送时效",
            "Weight: delivery time",
        ),
    ),
    "weight_compliance": KeySpec(
        Kind.RATE,
        ("weights", "compliance"),
        Message(
            "权重：合规",
            "Weight: compliance",
        ),
    ),
    "weight_growth": KeySpec(
        Kind.RATE,
        ("weights", "growth"),
        Message(
            "权重：电商增速",
            "Weight: e-commerce growth",
        ),
    ),
    "weight_competition": KeySpec(
        Kind.RATE,
        ("weights", "competition"),
        Message(
            "权重：竞争缺口",
            "Weight: competition gap",
        ),
    ),
    "weight_logistics_fix": KeySpec(
        Kind.RATE,
        ("weights", "logistics_fix"),
        Message(
            "权重：物流改进（计划缩短的配送时间）",
            "Weight: logistics fix (delivery time a planned fix cuts)",
        ),
    ),
    "delivery_days_reference": KeySpec(
        Kind.INT,
        ("delivery_days_reference",),
        Message(
            "配送时效参考值（得 0.5 分的天数）",
            "Delivery days that score 0.5",
        ),
    ),
    "growth_reference": KeySpec(
        Kind.RATE,
        ("growth_reference",),
        Message(
            "电商增速参考值（得 0.5 分；两倍得满分）",
            "E-commerce growth that scores 0.5 (twice scores 1)",
        ),
    ),
    "max_market_share": KeySpec(
        Kind.RATE,
        ("max_market_share",),
        Message(
            "单一市场可争取的电商份额上限",
            "Most of a market's e-commerce a seller can win",
        ),
    ),
}

BUSINESS_SCREENING = Table(
    "business_screening",
    "tblBusinessScreening",
    "市场筛选结果",
    "Market screening",
    (
        Column("rank", "排名", "Rank", Kind.INT, width=7),
        Column("market", "市场", "Market", Kind.CODE, width=8),
        text("channel", "渠道", "Channel", 13),
        text("status", "筛选结论", "Result", 12),
        Column("score", "得分", "Score", Kind.NUMBER, "0-100", "0-100", width=8),
        Column(
            "opportunity_score",
            "增长与机会得分",
            "Growth & opportunity",
            Kind.NUMBER,
            "0-100",
            "0-100",
            width=14,
        ),
        text("failed_zh", "未通过条件", "Failing criteria (zh)", 36),
        text("failed_en", "未通过条件(英)", "Failing criteria", 36),
        text("keep_reason", "保留原因", "Kept because", 36),
        *(
            Column(c.key, c.zh, c.en, c.kind, c.unit_zh, c.unit_en, width=c.width)
            for c in (*MARKET_MACRO_COLUMNS, MARKET_GROWTH_COLUMNS[0])
        ),
        text("growth_source", "增速来源", "Growth from", 24),
        _rate("margin", "税费后毛利率", "Margin after fees", width=11),
        text("margin_source", "毛利率来源", "Margin from", 24),
        *(
            Column(c.key, c.zh, c.en, c.kind, c.unit_zh, c.unit_en, width=c.width)
            for c in (
                *MARKET_SCORE_COLUMNS[:2],
                MARKET_GROWTH_COLUMNS[1],
                *MARKET_SCORE_COLUMNS[2:],
            )
        ),
        _rate("target_share", "目标池占比", "Share of pool", width=10),
        amount("capacity", "可争取上限", "Capacity"),
        amount("proposed_target", "建议增量目标", "Proposed target"),
    ),
    sheet="business_map_result",
)

# --------------------------------------------------------------------------------------------
# Customer map
# --------------------------------------------------------------------------------------------

_FORMAT_LIST = list(FORMATS.values())

ORDER_IMPORTS = Table(
    "order_imports",
    "tblOrderImports",
    "订单文件导入",
    "Order files to import",
    (
        text(
            "path",
            "文件路径",
            "File path",
            48,
            help_zh="绝对路径，或相对于运行 xlplan 的当前目录",
            help_en="absolute, or relative to the directory xlplan runs in",
        ),
        text(
            "format",
            "格式",
            "Format",
            18,
            help_zh=" / ".join(ORDER_FORMATS),
            help_en=" / ".join(ORDER_FORMATS),
        ),
        text(
            "mapping",
            "列映射（通用 CSV）",
            "Column mapping (generic)",
            40,
            help_zh="如 order_id=Order; order_date=Date; amount=Total; currency=Currency",
            help_en="e.g. order_id=Order; order_date=Date; amount=Total; currency=Currency",
        ),
        Column(
            "currency",
            "文件币种",
            "File currency",
            Kind.CODE,
            choices="currencies",
            width=10,
            help_zh="通用 CSV 无币种列时使用",
            help_en="for a generic CSV without a currency column",
        ),
        text("note", "备注", "Note", 24),
    ),
    sheet="customer_map",
    help_zh="、".join(f.zh for f in _FORMAT_LIST[:-1]) + f"，或{_FORMAT_LIST[-1].zh}。",
    help_en=", ".join(f.en for f in _FORMAT_LIST[:-1]) + f", or {_FORMAT_LIST[-1].en}.",
)

CUSTOMER_SETTINGS = _settings_table(
    "customer_settings",
    "tblCustomerSettings",
    "分层设置",
    "Tier settings",
    "customer_map",
    "B2B 按月消费分层（美元，按汇率表换算）；B2C 按最近一次购买、频次与金额（RFM）分层。",
    "B2B by monthly spend (US$, converted with the FX table); B2C by recency, frequency and "
    "monetary value (RFM).",
)

CUSTOMER_SETTING_KEYS: dict[str, KeySpec] = {
    "mode": KeySpec(
        Kind.TEXT,
        ("mode",),
        Message(
            "分层方式：auto 按订单是否企业 / b2b / b2c",
            "Tiering: auto (by business flag) / b2b / b2c",
        ),
    ),
    "as_of": KeySpec(
        Kind.DATE,
        (),
        Message(
            "统计截止日（留空=导入订单的最后日期）",
            "As of (blank = the last order date imported)",
        ),
    ),
    "b2b_large_usd": KeySpec(
        Kind.AMOUNT,
        ("b2b_large",),
        Message(
            "B2B 大客户：月消费高于 [美元/月]",
            "B2B large: monthly spend above [US$/month]",
        ),
    ),
    "b2b_mid_usd": KeySpec(
        Kind.AMOUNT,
        ("b2b_mid",),
        Message(
            "B2B 中型客户：月消费不低于 [美元/月]",
            "B2B mid: monthly spend at least [US$/month]",
        ),
    ),
    "window_months": KeySpec(
        Kind.INT,
        ("window_months",),
        Message(
            "统计窗口 [月]",
            "Window [months]",
        ),
    ),
    "churn_days": KeySpec(
        Kind.INT,
        ("churn_days",),
        Message(
            "超过此天数未购买=已流失",
            "No order for more days = churned",
        ),
    ),
    "at_risk_days": KeySpec(
        Kind.INT,
        ("at_risk_days",),
        Message(
            "超过此天数未购买=流失风险",
            "No order for more days = at risk",
        ),
    ),
    "new_days": KeySpec(
        Kind.INT,
        ("new_days",),
        Message(
            "首单在此天数内=新客户",
            "First order within days = new",
        ),
    ),
    "repeat_orders": KeySpec(
        Kind.INT,
        ("repeat_orders",),
        Message(
            "复购：订单数至少",
            "Repeat: at least this many orders",
        ),
    ),
    "high_value_score": KeySpec(
        Kind.INT,
        ("high_value_score",),
        Message(
            "高价值：金额评分至少 (1-5)",
            "High value: M score at least (1-5)",
        ),
    ),
    "budget_months_top": KeySpec(
        Kind.INT,
        ("budget_months_top",),
        Message(
            "每层列出的预算月份数",
            "Budget months listed per tier",
        ),
    ),
    "upsell": KeySpec(
        Kind.RATE,
        ("upsell",),
        Message(
            "默认增购率（留存收入之上）",
            "Default upsell on retained revenue",
        ),
    ),
    "retention_min_customers": KeySpec(
        Kind.INT,
        ("retention_min_customers",),
        Message(
            "实测留存所需的最少期初客户数（不足用默认值）",
            "Fewest customers to measure retention on (else the default)",
        ),
    ),
}

TIER_ASSUMPTIONS = Table(
    "tier_assumptions",
    "tblTierAssumptions",
    "各层假设",
    "Assumptions per tier",
    (
        text("tier", "层级", "Tier", 18, required=True),
        text("label", "名称", "Name", 30),
        _rate("retention", "留存率", "Retention", minimum=0.0, maximum=1.0),
        _rate("upsell", "增购率", "Upsell", minimum=-1.0, maximum=10.0),
        Column(
            "new_customers",
            "新客户数",
            "New customers",
            Kind.INT,
            "个/年",
            "per year",
            minimum=0.0,
            width=11,
        ),
        amount("first_year_value", "新客首年价值", "First-year value", minimum=0.0),
        text("note", "备注", "Note", 24),
    ),
    sheet="customer_map",
    help_zh="留空=由订单推算：留存=窗口开始时该层客户中在窗口内再次购买的比例（客户太少时用默认值），"
    "新客户数=窗口内新增客户（年化），首年价值=他们在窗口内的平均收入。",
    help_en="Blank = from the orders: retention = the share of the tier's customers at the "
    "window's start who bought in the window (the default when too few), new customers = "
    "those acquired in the window (annualised), first-year value = their mean window revenue.",
)

# The three tables of Customer Map Result share their columns' widths (a sheet column has one
# width): the tiers table, written last, sets them; the totals and the log are laid out to fit.
CUSTOMER_TIERS = Table(
    "customer_tiers",
    "tblCustomerTiers",
    "客户分层",
    "Customer tiers",
    (
        text("tier", "层级", "Tier", 17),
        text("tier_label", "名称", "Name", 35),
        Column("customers", "客户数", "Customers", Kind.INT, width=10),
        Column("orders", "窗口订单数", "Orders (window)", Kind.INT, width=10),
        amount("revenue", "窗口收入", "Revenue (window)", 14),
        _rate("revenue_share", "收入占比", "Revenue share", 11),
        _rate("repeat_rate", "复购率", "Repeat rate", 11),
        text("budget_months", "预算月份", "Budget months", 11),
        _months("months_covered", "窗口数据月数", "Months in window"),
        Column(
            "orders_per_customer",
            "每客年订单",
            "Orders per customer",
            Kind.NUMBER,
            "单/年",
            "per year",
            width=12,
        ),
        Column(
            "aov",
            "客单价",
            "Order value",
            Kind.MONEY,
            units.REPORTING.zh,
            units.REPORTING.en,
            width=11,
        ),
        amount("annual_revenue", "年化收入", "Annualised revenue", 14),
        Column("cohort", "期初客户", "Customers at start", Kind.INT, width=10),
        Column("retained", "其中窗口内购买", "Of whom bought", Kind.INT, width=11),
        _rate("retention", "留存率", "Retention", 10),
        text("retention_basis", "留存依据", "Retention basis", 13),
        _rate("upsell", "增购率", "Upsell", 9),
        amount("existing_target", "老客目标", "Existing-customer target", 14),
        Column(
            "new_customers", "年新客数", "New customers", Kind.INT, "个/年", "per year", width=11
        ),
        Column(
            "first_year_value",
            "新客首年价值",
            "First-year value",
            Kind.MONEY,
            units.REPORTING.zh,
            units.REPORTING.en,
            width=13,
        ),
        amount("new_target", "新客目标", "New-customer target", 14),
        amount("proposed_target", "建议目标", "Proposed target", 14),
    ),
    sheet="customer_map_result",
    help_zh="年化收入 = 客户数 × 每客年订单 × 客单价 = 窗口收入 × 12 / 窗口数据月数；老客目标 = "
    "年化收入 × 留存率 × (1 + 增购率)；新客目标 = 年新客数 × 新客首年价值；建议目标 = 两者之和。"
    "目标按设置的取整单位以最大余数法取整，各层之和等于合计。",
    help_en="Annualised revenue = customers x orders per customer x order value = revenue "
    "(window) x 12 / months in window; existing-customer target = annualised revenue x "
    "retention x (1 + upsell); new-customer target = new customers x first-year value; "
    "proposed = the sum. Targets are rounded to the Settings unit by largest remainder: the "
    "tiers add up to the total.",
)

CUSTOMER_TOTALS = Table(
    "customer_totals",
    "tblCustomerTotals",
    "合计",
    "Totals",
    (
        Column("as_of", "截止日", "As of", Kind.DATE, width=17),
        Column("currency", "币种", "Currency", Kind.CODE, width=35),
        Column("customers", "客户数", "Customers", Kind.INT, width=10),
        Column("orders", "窗口订单数", "Orders (window)", Kind.INT, width=10),
        amount("revenue", "窗口收入", "Revenue (window)", 14),
        amount("revenue_no_customer", "其中无客户标识", "of which no customer id", 11),
        amount("proposed_target", "建议目标", "Proposed target", 11),
        Column("order_lines", "订单行", "Order lines", Kind.INT, width=11),
        Column("first_order", "最早订单", "First order", Kind.DATE, width=11),
        Column("last_order", "最晚订单", "Last order", Kind.DATE, width=12),
        _months("data_months", "数据月数", "Months of data"),
        Column("plan_year", "计划年度", "Plan year", Kind.INT, width=14),
        _months("months_to_plan", "距计划年度", "Months to plan year", 10),
        _months("months_covered", "窗口数据月数", "Months in window"),
        # narrow on purpose: the warnings run on over the empty cells to their right
        text("warnings", "注意", "Warnings", 10),
    ),
    sheet="customer_map_result",
    help_zh="数据从最早订单当天到截止日当天（截止日默认为最晚订单日）；"
    "窗口数据按 12 / 窗口数据月数 年化。"
    "无客户标识的订单行不计入客户数与分层，其收入计入窗口收入并单列。",
    help_en="The data runs from the first order's day to the as-of day (by default the last "
    "order's); the window is annualised by 12 / months in window. Order lines without a "
    "customer id are in no customer count or tier; their revenue is in the window revenue and "
    "shown apart.",
)

ORDER_IMPORT_LOG = Table(
    "order_import_log",
    "tblOrderImportLog",
    "导入记录",
    "Import log",
    (
        text("format", "格式", "Format", 17),
        text("path", "文件路径", "File path", 36),
        Column("row", "导入行", "Import row", Kind.INT, width=10),
        Column("order_lines", "订单行", "Order lines", Kind.INT, width=9),
        amount("revenue", "金额", "Amount"),
        Column("orders", "订单数", "Orders", Kind.INT, width=14),
        Column("customers", "客户数", "Customers", Kind.INT, width=11),
        Column("first_date", "最早日期", "First date", Kind.DATE, width=11),
        Column("last_date", "最晚日期", "Last date", Kind.DATE, width=12),
        text("error", "错误", "Error", 11),
        # narrow on purpose: the message runs on over the empty cells to its right (a file
        # not read has no warning, a file read has no error)
        text("warning", "注意", "Warning", 11),
    ),
    sheet="customer_map_result",
)

# --------------------------------------------------------------------------------------------
# Product map
# --------------------------------------------------------------------------------------------

PRODUCT_SALES = Table(
    "product_sales",
    "tblProductSales",
    "月度销售",
    "Monthly sales",
    (
        text("line", "产品线", "Product line", 20, required=True),
        text(
            "month",
            "月份",
            "Month",
            10,
            required=True,
            help_zh="2026-03 或该月任一日期",
            help_en="2026-03 or any date in the month",
        ),
        Column("units", "销量", "Units", Kind.INT, "件", "units", minimum=0.0, width=10),
        amount("revenue", "收入", "Revenue", minimum=0.0),
    ),
    sheet="product_map",
    help_zh="长表：每个产品线每月一行；缺的月份按 0 计。",
    help_en="Long format: one row per product line and month; missing months count as 0.",
)

PRODUCT_ECONOMICS = Table(
    "product_economics",
    "tblProductEconomics",
    "产品线经济性",
    "Economics per line",
    (
        text("line", "产品线", "Product line", 20, required=True),
        _rate(
            "gross_margin",
            "毛利率",
            "Gross margin",
            minimum=-1.0,
            maximum=1.0,
            help_zh="扣除平台费与佣金后",
            help_en="after platform fees and commissions",
        ),
        amount("promotion_cost", "推广费用/年", "Promotion / year", minimum=0.0),
        Column(
            "inventory_days",
            "库存天数",
            "Inventory days",
            Kind.INT,
            DAYS_ZH,
            DAYS_EN,
            minimum=0.0,
            width=10,
        ),
        _rate(
            "target_volume_share",
            "目标销量占比",
            "Target volume share",
            minimum=0.0,
            maximum=1.0,
            help_zh="假设分析：该产品线在目标组合中的销量占比；空=其余产品线按当前占比分摊剩余部分",
            help_en="what-if: the line's share of units in a target mix; blank = the other "
            "lines share the rest in proportion to their current units",
        ),
        text("note", "备注", "Note", 30),
    ),
    sheet="product_map",
)

PRODUCT_SETTINGS = _settings_table(
    "product_settings",
    "tblProductSettings",
    "生命周期与象限设置",
    "Lifecycle and quadrant settings",
    "product_map",
    "阶段规则：上市月数 ≤ 导入期月数=导入期；增长 ≥ 阈值=成长期；≤ 衰退阈值=衰退期；其余=成熟期。",
    "Stage: months on sale <= intro months = introduction; growth >= threshold = growth; "
    "<= decline threshold = decline; else maturity.",
)

PRODUCT_SETTING_KEYS: dict[str, KeySpec] = {
    "as_of_month": KeySpec(
        Kind.TEXT,
        (),
        Message(
            "截止月份（留空=销售表的最后一个月）",
            "As of month (blank = the last month of sales)",
        ),
    ),
    "intro_months": KeySpec(
        Kind.INT,
        ("lifecycle", "intro_months"),
        Message(
            "导入期：上市不超过 [月]",
            "Introduction: on sale at most [months]",
        ),
    ),
    "window_months": KeySpec(
        Kind.INT,
        ("lifecycle", "window_months"),
        Message(
            "增长比较窗口 [月]",
            "Growth window [months]",
        ),
    ),
    "growth_threshold": KeySpec(
        Kind.RATE,
        ("lifecycle", "growth_threshold"),
        Message(
            "成长期：增长不低于",
            "Growth stage: growth at least",
        ),
    ),
    "decline_threshold": KeySpec(
        Kind.RATE,
        ("lifecycle", "decline_threshold"),
        Message(
            "衰退期：增长不高于",
            "Decline stage: growth at most",
        ),
    ),
    "margin_threshold": KeySpec(
        Kind.RATE,
        ("quadrant", "margin_threshold"),
        Message(
            "象限：高毛利不低于",
            "Quadrant: high margin at least",
        ),
    ),
    "quadrant_growth_threshold": KeySpec(
        Kind.RATE,
        ("quadrant", "growth_threshold"),
        Message(
            "象限：高增长不低于",
            "Quadrant: high growth at least",
        ),
    ),
    "cash_cow_volume_share": KeySpec(
        Kind.RATE,
        ("quadrant", "cash_cow_volume_share"),
        Message(
            "现金牛：销量占比不低于",
            "Cash cow: share of units at least",
        ),
    ),
    "uplift_introduction": KeySpec(
        Kind.RATE,
        ("stage_uplift", "introduction"),
        Message(
            "目标增幅：导入期",
            "Target uplift: introduction",
        ),
    ),
    "uplift_growth": KeySpec(
        Kind.RATE,
        ("stage_uplift", "growth"),
        Message(
            "目标增幅：成长期",
            "Target uplift: growth",
        ),
    ),
    "uplift_maturity": KeySpec(
        Kind.RATE,
        ("stage_uplift", "maturity"),
        Message(
            "目标增幅：成熟期",
            "Target uplift: maturity",
        ),
    ),
    "uplift_decline": KeySpec(
        Kind.RATE,
        ("stage_uplift", "decline"),
        Message(
            "目标增幅：衰退期",
            "Target uplift: decline",
        ),
    ),
}

PRODUCT_LINES = Table(
    "product_lines",
    "tblProductLines",
    "产品线分析",
    "Product lines",
    (
        text("line", "产品线", "Product line", 18),
        text("stage_label", "生命周期", "Stage", 20),
        text("quadrant_label", "象限", "Quadrant", 24),
        Column("months_on_sale", "上市月数", "Months on sale", Kind.INT, width=9),
        _rate("growth", "增长", "Growth", 9),
        Column("units_12m", "近12月销量", "Units 12m", Kind.AMOUNT, "件", "units", width=11),
        _rate("volume_share", "销量占比", "Volume share", 9),
        amount("revenue_12m", "近12月收入", "Revenue 12m", 14),
        _rate("gross_margin", "毛利率", "Gross margin", 9),
        amount("gross_profit", "毛利", "Gross profit", 13),
        amount("promotion_cost", "推广费用", "Promotion", 12),
        Column("inventory_days", "库存天数", "Inventory days", Kind.INT, DAYS_ZH, DAYS_EN, width=9),
        amount("inventory_investment", "库存占用", "Inventory investment", 15),
        _rate("roi", "投资回报", "ROI", 9),
        Column(
            "inventory_turnover", "库存周转", "Turnover", Kind.NUMBER, "次/年", "per year", width=9
        ),
        amount("annual_revenue", "年化收入", "Annual revenue", 14),
        _rate("uplift", "目标增幅", "Uplift", 9),
        amount("proposed_target", "建议目标", "Proposed target", 14),
        _rate("target_volume_share", "目标销量占比", "Target volume share", 10),
    ),
    sheet="product_map_result",
)

PRODUCT_MIX = Table(
    "product_mix",
    "tblProductMix",
    "组合毛利率：当前与目标组合",
    "Portfolio margin: current and target mix",
    (
        text("mix_label", "组合", "Mix", 30),
        _rate("weighted_margin", "加权毛利率", "Weighted margin", 11),
        amount("revenue_12m", "近12月收入", "Revenue 12m", 14),
        amount("gross_profit", "毛利", "Gross profit", 13),
    ),
    sheet="product_map_result",
    help_zh="毛利率按收入加权（毛利 / 收入）；目标组合下各产品线保持平均售价，总销量不变。",
    help_en="Margins weighted by revenue (gross profit / revenue); under the target mix each "
    "line keeps its average price and total units stay the same.",
)

# --------------------------------------------------------------------------------------------
# Proposals: the Alignment table's columns, on a sheet XLPlan owns
# --------------------------------------------------------------------------------------------

_PROPOSAL_WIDTHS = {"customer_tier": 17, "category": 16, "note": 48}
MAP_PROPOSALS = Table(
    "map_proposals",
    "tblMapProposals",
    "地图提案",
    "Map proposals",
    tuple(
        Column(
            c.key,
            c.zh,
            c.en,
            c.kind,
            c.unit_zh,
            c.unit_en,
            width=_PROPOSAL_WIDTHS.get(c.key, c.width),
            choices=c.choices,
        )
        for c in TARGET_LINE_COLUMNS
    ),
    sheet="map_proposals",
)

MAP_TABLES = (
    BUSINESS_MARKETS,
    BUSINESS_SETTINGS,
    BUSINESS_SCREENING,
    ORDER_IMPORTS,
    CUSTOMER_SETTINGS,
    TIER_ASSUMPTIONS,
    CUSTOMER_TIERS,
    CUSTOMER_TOTALS,
    ORDER_IMPORT_LOG,
    PRODUCT_SALES,
    PRODUCT_ECONOMICS,
    PRODUCT_SETTINGS,
    PRODUCT_LINES,
    PRODUCT_MIX,
    MAP_PROPOSALS,
)

SETTING_KEYS: dict[str, dict[str, KeySpec]] = {
    "business_settings": BUSINESS_SETTING_KEYS,
    "customer_settings": CUSTOMER_SETTING_KEYS,
    "product_settings": PRODUCT_SETTING_KEYS,
}

SHEETS = MAP_SHEETS
TABLES = MAP_TABLES
