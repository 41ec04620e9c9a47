"""The plan-wide sheet and tables: Settings (``tblSettings``, the FX table) and the target-line
columns the maps and the Alignment sheet share."""

from __future__ import annotations

from xlplan.core.errors import Message
from xlplan.plan.dimensions import CustomerType, PlanMap
from xlplan.workbook.schema import Column, Kind, Sheet, Table, amount, text

README_SHEET = Sheet("readme", "使用说明", "Read Me")
"""What each sheet is for, in the order a planner works (written into new plans only)."""

SETTINGS_SHEET = Sheet(
    "settings",
    "设置",
    "Settings",
    heading=Message("计划设置", "Plan settings"),
    note=Message(
        "汇率与规则覆盖由所有计算共用。",
        "FX rates and rule overrides are shared by every calculation.",
    ),
)

SETTINGS = Table(
    "settings",
    "tblSettings",
    "计划设置",
    "Plan settings",
    (
        Column("setting", "设置项", "Setting", Kind.TEXT, required=True, width=22),
        Column("value", "值", "Value", Kind.TEXT, width=16),
        Column("label", "说明", "Description", Kind.TEXT, width=48),
    ),
    sheet="settings",
)

SETTING_LABELS: dict[str, Message] = {
    "rules_date": Message(
        "规则日期：按该日生效的税费规则计算（留空 = 计划年度 1 月 1 日）",
        "Rules date: tax and fee rules in force on this date (blank = 1 January of the plan year)",
    ),
    "plan_year": Message("计划年度", "Plan year"),
    "reporting_currency": Message("报告币种", "Reporting currency"),
    "company_target": Message(
        "公司年度目标（报告币种）", "Company target for the year (reporting ccy)"
    ),
    "reconcile_method": Message(
        "对齐方式：keep 保持 / pro_rata 按比例 / priority 按优先级",
        "Reconcile: keep / pro_rata / priority",
    ),
    "rounding_unit": Message(
        "拆解取整单位（1 = 元，10000 = 万元）", "Rounding unit (1 = yuan, 10000 = 10k)"
    ),
    "dashboard_line": Message(
        "看板利润瀑布图的明细行（行号、SKU 或“SKU 市场”；留空=第一行）",
        "Dashboard waterfall line (row number, SKU or 'SKU MARKET'; blank = the first line)",
    ),
    "as_of": Message(
        "计划基准日：备货计划中早于此日的下单已来不及（留空 = 运行当天）",
        "Plan as-of date: purchase orders due before it are too late (blank = the day of the run)",
    ),
}
"""The Settings sheet's rows, in order: one per field of :class:`PlanSettings`."""

SETTING_KINDS: dict[str, Kind] = {
    "rules_date": Kind.DATE,
    "plan_year": Kind.INT,
    "reporting_currency": Kind.CODE,
    "company_target": Kind.AMOUNT,
    "reconcile_method": Kind.TEXT,
    "rounding_unit": Kind.NUMBER,
    "dashboard_line": Kind.TEXT,
    "as_of": Kind.DATE,
}
"""How each Settings value is read (see :mod:`xlplan.workbook.keyvalue`)."""


FX = Table(
    "fx",
    "tblFX",
    "汇率表",
    "FX rates",
    (
        Column(
            "from_currency",
            "源币种",
            "From currency",
            Kind.CODE,
            required=True,
            choices="currencies",
            width=12,
        ),
        Column(
            "to_currency",
            "目标币种",
            "To currency",
            Kind.CODE,
            required=True,
            choices="currencies",
            width=12,
        ),
        Column(
            "rate",
            "汇率",
            "Rate",
            Kind.NUMBER,
            "目标币/源币",
            "to per from",
            required=True,
            minimum=0.0,
            min_exclusive=True,
            width=12,
        ),
        Column("as_of", "日期", "As of", Kind.TEXT, width=12),
        Column("source", "来源", "Source", Kind.TEXT, width=40),
    ),
    sheet="settings",
    help_zh="1 单位源币种可兑换的目标币种数量。明细行的汇率优先于此表；"
    "此表缺失的币种对经 USD/CNY/EUR 交叉换算。",
    help_en="Units of the 'to' currency per one 'from'. A line's own FX rate wins over this table; "
    "missing pairs are crossed through USD, CNY or EUR.",
)

DIMENSION_COLUMNS: tuple[Column, ...] = (
    Column(
        "market",
        "市场/区域",
        "Market / region",
        Kind.CODE,
        width=10,
        help_zh="市场代码(MX)或区域代码(LATAM)；留空=全部",
        help_en="market (MX) or region (LATAM); blank = all",
    ),
    text("channel", "渠道", "Channel", 14),
    text("customer_tier", "客户层级", "Customer tier", 12),
    text("category", "品类/产品线", "Category", 14),
    Column(
        "customer_type",
        "新/老客户",
        "New / existing",
        Kind.TEXT,
        choices="customer_types",
        width=11,
    ),
)

TARGET_LINE_COLUMNS: tuple[Column, ...] = (
    Column(
        "map",
        "地图",
        "Map",
        Kind.TEXT,
        required=True,
        choices="maps",
        width=11,
        help_zh="business / customer / product",
        help_en="business / customer / product",
    ),
    text("owner", "负责人", "Owner", 24),
    *DIMENSION_COLUMNS,
    amount("amount", "目标金额", "Target", required=True),
    Column(
        "priority",
        "优先级",
        "Priority",
        Kind.INT,
        minimum=0.0,
        width=9,
        help_zh="数字小者优先",
        help_en="lower comes first",
    ),
    amount("adjustment", "会议调整", "Adjustment", width=13),
    text("note", "说明", "Note", 36),
)

LISTS: dict[str, list[str]] = {
    "maps": [m.value for m in PlanMap],
    "customer_types": [t.value for t in CustomerType],
}
"""Validation lists the shared columns name (``choices``)."""
