"""The landed-cost sheets and tables: the lines users fill (``tblLandedCost``), the rule
overrides on the Settings sheet, and what XLPlan writes (Landed Cost Results, Market Rules).

Column keys are the calculator's (:mod:`xlplan.landed_cost.calc`); this module adds what a
cell looks like and how it reads: headers in both languages, units, ranges, lists.
"""

from __future__ import annotations

from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.landed_cost.calc import Treatment
from xlplan.workbook.schema import Column, Kind, Sheet, Table, money, rate, text

LANDED_COST_SHEET = Sheet(
    "landed_cost",
    "落地成本",
    "Landed Cost",
    heading=Message("落地成本与利润测算", "Landed cost and margin"),
    note=Message(
        "黄色区域填写；蓝色区域由 XLP_LANDED_COST 实时计算（每行一个结果，错误写在最后一列）。",
        "Fill the yellow table; the blue block is computed live by XLP_LANDED_COST (one result "
        "row per line, errors in its last column).",
    ),
)
RESULTS_SHEET = Sheet(
    "landed_cost_results",
    "落地成本结果",
    "Landed Cost Results",
    owned=True,
    heading=Message("落地成本结果", "Landed cost results"),
    note=Message(
        "由 xlplan 生成，每次运行整表重写；金额为市场币种/件，已按币种最小单位四舍五入。",
        "Written by xlplan; rewritten on every run. Money per unit in the market "
        "currency, rounded half-up to the currency's minor unit.",
    ),
)
MARKET_RULES_SHEET = Sheet(
    "market_rules",
    "市场规则",
    "Market Rules",
    owned=True,
    heading=Message("市场规则（内置）", "Market rules (shipped)"),
    note=Message(
        "内置税费规则及其生效日期、来源；“不确定”的规则请核实，在“设置”表中覆盖。",
        "Shipped tax and fee rules with effective dates and sources; check rules marked "
        "uncertain and override them on Settings.",
    ),
)
SHEETS = (LANDED_COST_SHEET, RESULTS_SHEET, MARKET_RULES_SHEET)

MARKET_OVERRIDES = Table(
    "market_overrides",
    "tblMarketOverrides",
    "市场规则覆盖",
    "Market rule overrides",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, choices="markets", width=10),
        Column("currency", "币种", "Currency", Kind.CODE, choices="currencies", width=10),
        Column(
            "tax_rate",
            "税率",
            "Tax rate",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
            width=10,
        ),
        Column("price_includes_tax", "售价含税", "Price incl. tax", Kind.BOOL, width=12),
        Column(
            "valuation_basis",
            "完税价格基础",
            "Valuation basis",
            Kind.CODE,
            choices="basis",
            width=12,
        ),
        Column("tax_base_includes_duty", "税基含关税", "Tax base incl. duty", Kind.BOOL, width=12),
        Column(
            "tax_base_includes_transport",
            "税基含运保费",
            "Tax base incl. transport",
            Kind.BOOL,
            width=14,
        ),
        Column("tax_gross_up", "价内计税", "Tax grossed up", Kind.BOOL, width=12),
        Column(
            "import_tax_recoverable", "进口税可抵扣", "Import tax recoverable", Kind.BOOL, width=14
        ),
        Column("note", "备注", "Note", Kind.TEXT, width=36),
    ),
    sheet="settings",
    help_zh="填写的单元格覆盖内置市场规则（见“市场规则”表），留空则沿用内置值。",
    help_en="Filled cells override the shipped market rules (see the Market Rules sheet); "
    "blank cells keep them.",
)

LOW_VALUE_OVERRIDES = Table(
    "low_value_overrides",
    "tblLowValueOverrides",
    "低货值规则覆盖",
    "Low-value regime overrides",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, width=10),
        Column(
            "applies_to",
            "适用于",
            "Applies to",
            Kind.TEXT,
            required=True,
            choices="levies",
            width=10,
        ),
        Column("min_value", "下限(不含)", "Min value (excl.)", Kind.NUMBER, minimum=0.0, width=12),
        Column("max_value", "上限(含)", "Max value (incl.)", Kind.NUMBER, minimum=0.0, width=12),
        Column(
            "value_currency",
            "门槛币种",
            "Value currency",
            Kind.CODE,
            required=True,
            choices="currencies",
            width=10,
        ),
        Column(
            "treatment",
            "处理方式",
            "Treatment",
            Kind.TEXT,
            required=True,
            choices="treatments",
            width=18,
        ),
        Column("rate", "税率", "Rate", Kind.RATE, minimum=0.0, maximum=10.0, width=9),
        Column("amount", "金额", "Amount", Kind.NUMBER, minimum=0.0, width=9),
        Column(
            "amount_currency",
            "金额币种",
            "Amount currency",
            Kind.CODE,
            choices="currencies",
            width=10,
        ),
        Column("effective_from", "生效日", "Effective from", Kind.DATE, width=12),
        Column("effective_to", "失效日(不含)", "Effective to (excl.)", Kind.DATE, width=12),
        Column("note", "备注", "Note", Kind.TEXT, width=30),
    ),
    sheet="settings",
    help_zh="某市场在此表有任一行时，替换该市场的全部内置低货值规则。",
    help_en="A market with any row here has all its shipped low-value rules replaced by these.",
)

LANDED_COST = Table(
    "landed_cost",
    "tblLandedCost",
    "落地成本明细",
    "Landed cost lines",
    (
        Column("sku", "SKU", "SKU", Kind.TEXT, width=14),
        Column(
            "market",
            "市场",
            "Market",
            Kind.CODE,
            required=True,
            choices="markets",
            width=8,
            help_zh="ISO 国家代码，如 US、DE、GB",
            help_en="ISO country code, e.g. US, DE, GB",
        ),
        Column("channel", "渠道", "Channel", Kind.TEXT, choices="channels", width=14),
        Column(
            "unit_cost",
            "单位采购成本",
            "Unit cost",
            Kind.MONEY,
            units.COST_PER_UNIT.zh,
            units.COST_PER_UNIT.en,
            required=True,
            minimum=0.0,
        ),
        Column(
            "cost_currency",
            "成本币种",
            "Cost currency",
            Kind.CODE,
            choices="currencies",
            width=10,
            help_zh="留空=市场币种",
            help_en="blank = market currency",
        ),
        Column(
            "fx_rate",
            "汇率",
            "FX rate",
            Kind.NUMBER,
            "市场币/成本币",
            "mkt per cost ccy",
            minimum=0.0,
            min_exclusive=True,
            width=11,
            help_zh="留空则取设置表汇率",
            help_en="blank = from the FX table",
        ),
        money("freight_per_unit", "头程运费/件", "Freight / unit"),
        money("insurance_per_unit", "保险费/件", "Insurance / unit"),
        rate("duty_rate", "关税税率", "Duty rate", maximum=10.0, width=10),
        rate(
            "extra_duty_rate",
            "附加关税税率",
            "Extra duty rate",
            maximum=10.0,
            width=10,
            help_zh="反倾销、301 等叠加税率",
            help_en="anti-dumping, s.301 etc., stacked",
        ),
        Column(
            "vat_rate",
            "进口税率",
            "Import tax rate",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
            width=10,
            help_zh="留空=市场标准税率",
            help_en="blank = market standard rate",
        ),
        Column(
            "vat_recoverable",
            "进口税可抵扣",
            "Import tax recoverable",
            Kind.BOOL,
            width=12,
            help_zh="留空=市场默认",
            help_en="blank = market default",
        ),
        money("clearance_per_unit", "清关费/件", "Clearance / unit"),
        Column(
            "consignment_value",
            "包裹货值",
            "Consignment value",
            Kind.MONEY,
            units.PER_PARCEL.zh,
            units.PER_PARCEL.en,
            minimum=0.0,
            help_zh="填写则按低货值规则计税",
            help_en="given = low-value regime applies",
        ),
        money("last_mile_per_unit", "尾程配送/件", "Last mile / unit"),
        money("storage_per_unit", "仓储费/件", "Storage / unit"),
        money(
            "price",
            "售价",
            "Price",
            required=True,
            min_exclusive=True,
            help_zh="消费者支付价",
            help_en="price the buyer pays",
        ),
        rate("referral_rate", "平台佣金率", "Referral rate", width=10),
        money("referral_min", "最低佣金", "Referral minimum"),
        rate("payment_rate", "支付费率", "Payment rate", width=10),
        money("payment_fixed", "支付固定费", "Payment fixed fee"),
        rate("fx_loss_rate", "汇损率", "FX loss rate", width=10),
        rate("return_rate", "退货率", "Return rate", width=10),
        money("return_cost_per_unit", "退货处理费", "Return handling / return"),
        rate("unsellable_rate", "退货不可售率", "Unsellable share", width=10),
        rate("lost_rate", "丢件率", "Lost-parcel rate", width=10),
        rate("ad_rate", "广告费率", "Ad spend rate", width=10),
        Column(
            "target_margin",
            "目标利润率",
            "Target margin",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
            minimum=-1.0,
            maximum=1.0,
            max_exclusive=True,
            width=10,
        ),
    ),
    sheet="landed_cost",
)

_OUT_MONEY = [
    ("customs_value", "完税价格", "Customs value"),
    ("duty", "关税", "Duty"),
    ("import_vat", "进口税", "Import tax"),
    ("landed_cost", "落地成本", "Landed cost"),
    ("sales_tax", "价内销售税", "Tax in price"),
    ("net_price", "净售价", "Net price"),
    ("referral_fee", "平台佣金", "Referral fee"),
    ("payment_fee", "支付手续费", "Payment fee"),
    ("fx_loss", "汇损", "FX loss"),
    ("ad_cost", "广告费", "Ad cost"),
    ("fulfilment_cost", "履约费", "Fulfilment cost"),
    ("returns_cost", "退货成本", "Returns cost"),
    ("lost_cost", "丢件成本", "Lost-parcel cost"),
    ("total_cost", "总成本", "Total cost"),
    ("contribution", "贡献利润", "Contribution"),
]
LANDED_COST_OUTPUT_COLUMNS: tuple[Column, ...] = (
    Column("currency", "币种", "Currency", Kind.CODE, width=8),
    *(
        Column(k, zh, en, Kind.MONEY, units.PER_UNIT.zh, units.PER_UNIT.en)
        for k, zh, en in _OUT_MONEY
    ),
    Column(
        "contribution_margin",
        "贡献利润率",
        "Contribution margin",
        Kind.RATE,
        units.FRACTION.zh,
        units.FRACTION.en,
    ),
    Column(
        "breakeven_price",
        "保本售价",
        "Break-even price",
        Kind.MONEY,
        units.PER_UNIT.zh,
        units.PER_UNIT.en,
    ),
    Column(
        "price_for_target_margin",
        "目标利润率售价",
        "Price for target margin",
        Kind.MONEY,
        units.PER_UNIT.zh,
        units.PER_UNIT.en,
        width=15,
    ),
    Column("error", "错误", "Error", Kind.TEXT, width=40),
)

LANDED_COST_RESULTS = Table(
    "landed_cost_results",
    "tblLandedCostResults",
    "落地成本结果",
    "Landed cost results",
    (*LANDED_COST.columns[:3], *LANDED_COST_OUTPUT_COLUMNS),
    sheet="landed_cost_results",
)

MARKET_RULES = Table(
    "market_rules",
    "tblMarketRules",
    "市场税费规则",
    "Market tax rules",
    (
        text("market", "市场", "Market", 8),
        text("name_zh", "中文名", "Name (zh)", 10),
        text("name_en", "英文名", "Name (en)", 14),
        text("region", "区域", "Region", 11),
        text("customs_union", "关税同盟", "Customs union", 9),
        text("currency", "币种", "Currency", 8),
        text("tax_name", "税种", "Tax", 12),
        Column("tax_rate", "税率", "Tax rate", Kind.RATE, width=9),
        text("price_includes_tax", "售价含税", "Price incl. tax", 10),
        text("valuation_basis", "完税价格基础", "Valuation basis", 10),
        text("tax_base_includes_duty", "税基含关税", "Base incl. duty", 10),
        text("tax_base_includes_transport", "税基含运保费", "Base incl. transport", 11),
        text("tax_gross_up", "价内计税", "Grossed up", 9),
        text("import_tax_recoverable", "进口税可抵扣", "Import tax recoverable", 11),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

LOW_VALUE_RULES = Table(
    "low_value_rules",
    "tblLowValueRules",
    "低货值规则",
    "Low-value regimes",
    (
        text("market", "市场", "Market", 8),
        text("applies_to", "适用于", "Applies to", 10),
        Column("min_value", "下限(不含)", "Min value (excl.)", Kind.NUMBER, width=11),
        Column("max_value", "上限(含)", "Max value (incl.)", Kind.NUMBER, width=11),
        text("value_currency", "门槛币种", "Value currency", 9),
        text("treatment", "处理方式", "Treatment", 18),
        Column("rate", "税率", "Rate", Kind.RATE, width=9),
        Column("amount", "金额", "Amount", Kind.NUMBER, width=9),
        text("amount_currency", "金额币种", "Amount currency", 9),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

TABLES = (
    MARKET_OVERRIDES,
    LOW_VALUE_OVERRIDES,
    LANDED_COST,
    LANDED_COST_RESULTS,
    MARKET_RULES,
    LOW_VALUE_RULES,
)
SETTINGS_TABLES = (MARKET_OVERRIDES, LOW_VALUE_OVERRIDES)
"""The rule overrides shown on the Settings sheet, below the FX table."""

LISTS: dict[str, list[str]] = {
    "basis": ["CIF", "FOB"],
    "levies": ["duty", "tax", "both"],
    "treatments": [t.value for t in Treatment],
}
"""Validation lists of this capability's columns (``markets``, ``currencies`` and ``channels``
come from the reference data)."""
