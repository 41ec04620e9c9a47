"""The single declaration of every XLPlan sheet and table.

Each table column has a key (snake_case, the name code uses), zh and en headers, a kind, a
unit, an allowed range or list, whether it is required, and a default. The same declaration
drives template generation (:mod:`xlplan.workbook.build`), reading (either language's header maps
to the key: :meth:`Table.header_map`), validation (:func:`coerce_table`) and error messages.

Glossary of units used in the column docs:
``[market ccy/unit]`` money per unit sold, in the currency of the line's market;
``[cost ccy/unit]`` money per unit in the currency the goods are bought in;
``[fraction]`` a share or rate, 0.15 = 15 %; ``[mkt/cost]`` units of market currency per one
unit of cost currency.

This module imports neither openpyxl nor xlwings, so the domain may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd

from xlplan.core.errors import concat_errors, empty_errors, errors_where


class Kind(str, Enum):
    """How a column's cells are read, checked and formatted."""

    TEXT = "text"
    CODE = "code"  # upper-case identifier from a list (market, currency)
    NUMBER = "number"
    MONEY = "money"
    AMOUNT = "amount"  # plan amounts: whole units of the reporting currency
    RATE = "rate"
    BOOL = "bool"
    DATE = "date"
    INT = "int"


NUMERIC_KINDS = {Kind.NUMBER, Kind.MONEY, Kind.AMOUNT, Kind.RATE, Kind.INT}
FORMATS = {
    Kind.MONEY: "#,##0.00;[Red]-#,##0.00",
    Kind.AMOUNT: "#,##0;[Red]-#,##0",
    Kind.RATE: "0.0%",
    Kind.NUMBER: "#,##0.00######",
    Kind.INT: "0",
    Kind.DATE: "yyyy-mm-dd",
}
TRUE_WORDS = {"true", "yes", "y", "1", "是", "对", "真", "可抵扣", "1.0"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "不", "假", "不可抵扣", "0.0"}


@dataclass(frozen=True)
class Column:
    """One column of a table. Ranges are inclusive unless ``*_exclusive``."""

    key: str
    zh: str
    en: str
    kind: Kind
    unit_zh: str = ""
    unit_en: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: str | None = None  # a named list: "markets", "currencies", "channels"
    width: float = 13.0
    help_zh: str = ""
    help_en: str = ""

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def unit(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    @property
    def number_format(self) -> str | None:
        return FORMATS.get(self.kind)

    def range_text(self, lang: str = "en") -> str:
        """The allowed range in words: ``>= 0 and <= 10`` / ``≥ 0 且 ≤ 10``."""
        parts = []
        if self.minimum is not None:
            op = (
                (">" if self.min_exclusive else ">=")
                if lang == "en"
                else (">" if self.min_exclusive else "≥")
            )
            parts.append(f"{op} {self.minimum:g}")
        if self.maximum is not None:
            op = (
                ("<" if self.max_exclusive else "<=")
                if lang == "en"
                else ("<" if self.max_exclusive else "≤")
            )
            parts.append(f"{op} {self.maximum:g}")
        return (" and " if lang == "en" else " 且 ").join(parts)


@dataclass(frozen=True)
class Table:
    """An Excel Table (ListObject) XLPlan reads or writes."""

    key: str
    name: str  # the Excel table name, the same in every language
    zh: str
    en: str
    columns: tuple[Column, ...]
    sheet: str = ""  # key of the sheet it lives on
    help_zh: str = ""
    help_en: str = ""
    _by_key: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({c.key: c for c in self.columns})

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def headers(self, lang: str) -> list[str]:
        return [c.header(lang) for c in self.columns]

    def header_map(self) -> dict[str, str]:
        """Normalised header text (zh, en or key) -> column key."""
        out: dict[str, str] = {}
        for c in self.columns:
            for text in (c.key, c.zh, c.en):
                out[normalise_header(text)] = c.key
        return out


@dataclass(frozen=True)
class Sheet:
    """A worksheet of the template; its name differs by language.

    ``heading`` and ``note`` (zh, en) are the title and one-line explanation at its top.
    ``owned`` sheets are rewritten by XLPlan on every run; the others belong to the user.
    ``writer`` (``module:function``) names a sheet-specific writer, for owned sheets with
    charts or special formats; it is imported when the sheet is written.
    """

    key: str
    zh: str
    en: str
    owned: bool = False
    heading: tuple[str, str] = ("", "")
    note: tuple[str, str] = ("", "")
    writer: str = ""

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def normalise_header(text: object) -> str:
    """Header text compared case-, space- and punctuation-insensitively."""
    return re.sub(r"[\s_\-/()（）:：]+", "", str(text)).casefold()


# --------------------------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------------------------

PER_UNIT_ZH, PER_UNIT_EN = "市场币/件", "mkt ccy/unit"
FRACTION_ZH, FRACTION_EN = "比例", "fraction"


def _money(key: str, zh: str, en: str, *, required: bool = False, **kw: object) -> Column:
    return Column(
        key,
        zh,
        en,
        Kind.MONEY,
        PER_UNIT_ZH,
        PER_UNIT_EN,
        required=required,
        minimum=0.0,
        **kw,  # type: ignore[arg-type]
    )


def _rate(key: str, zh: str, en: str, maximum: float = 1.0, **kw: object) -> Column:
    return Column(
        key,
        zh,
        en,
        Kind.RATE,
        FRACTION_ZH,
        FRACTION_EN,
        minimum=0.0,
        maximum=maximum,
        **kw,  # type: ignore[arg-type]
    )


SHEETS: dict[str, Sheet] = {
    s.key: s
    for s in (
        Sheet("readme", "使用说明", "Read Me"),
        Sheet("settings", "设置", "Settings"),
        Sheet("landed_cost", "落地成本", "Landed Cost"),
        Sheet(
            "landed_cost_results",
            "落地成本结果",
            "Landed Cost Results",
            owned=True,
            heading=("落地成本结果", "Landed cost results"),
            note=(
                "由 xlplan 生成，每次运行整表重写；金额为市场币种/件，已按币种最小单位四舍五入。",
                "Written by xlplan; rewritten on every run. Money per unit in the market "
                "currency, rounded half-up to the currency's minor unit.",
            ),
        ),
        Sheet(
            "alignment",
            "三方对齐",
            "Alignment",
            heading=(
                "三方对齐：业务 / 客户 / 产品地图的目标",
                "Alignment: the three maps' targets",
            ),
            note=(
                "每位负责人一行目标主张；运行“三方对齐”查看重叠、差距与对齐结果。",
                "One row per owner's claim; run Align to see overlaps, the gap and the "
                "reconciled plan.",
            ),
        ),
        Sheet(
            "alignment_result",
            "对齐结果",
            "Alignment Result",
            owned=True,
            heading=("对齐结果", "Alignment result"),
            note=(
                "由 xlplan 生成：各地图合计、重叠主张与对齐后的目标（合计等于公司目标）。",
                "Written by xlplan: totals by map, overlapping claims and the reconciled targets "
                "(they sum to the company target).",
            ),
        ),
        Sheet(
            "calendar",
            "季节日历",
            "Calendar",
            heading=("季节日历", "Seasonality calendar"),
            note=(
                "季节曲线 = 正常月份（按天数）+ 事件增幅；新市场从上线月份开始爬坡。",
                "Profile = a normal month (by days) plus event uplifts; new markets ramp up from "
                "their launch month.",
            ),
        ),
        Sheet(
            "monthly_plan",
            "月度拆解",
            "Monthly Plan",
            owned=True,
            heading=("月度拆解", "Monthly plan"),
            note=(
                "由 xlplan 生成：每个目标按市场季节性拆到 12 个月，取整后每行合计不差一元。",
                "Written by xlplan: each target phased by its market's seasonality into 12 "
                "months, rounded so every row sums to its target exactly.",
            ),
        ),
        Sheet(
            "actuals",
            "实际数据",
            "Actuals",
            heading=("实际数据", "Actuals"),
            note=(
                "每月粘贴实际销售；维度与目标一致即可定位差距来源。",
                "Paste actual sales each month; dimensions like the targets' explain the gap.",
            ),
        ),
        Sheet(
            "tracking",
            "月度跟踪",
            "Tracking",
            owned=True,
            heading=("月度跟踪（PDCA）", "Monthly tracking (PDCA)"),
            note=(
                "由 xlplan 生成：月度与累计达成、全年预测、差距与主要来源。",
                "Written by xlplan: attainment by month and year to date, forecast, gap and "
                "its drivers.",
            ),
        ),
        Sheet(
            "market_rules",
            "市场规则",
            "Market Rules",
            owned=True,
            heading=("市场规则（内置）", "Market rules (shipped)"),
            note=(
                "内置税费规则及其生效日期、来源；“不确定”的规则请核实，在“设置”表中覆盖。",
                "Shipped tax and fee rules with effective dates and sources; check rules marked "
                "uncertain and override them on Settings.",
            ),
        ),
        Sheet("lists", "列表", "Lists", owned=True),
    )
}

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
SETTING_KEYS = {
    "rules_date": (
        "规则日期：按该日生效的税费规则计算",
        "Rules date: tax and fee rules in force on this date",
    ),
    "plan_year": ("计划年度", "Plan year"),
    "reporting_currency": ("报告币种", "Reporting currency"),
    "company_target": ("公司年度目标（报告币种）", "Company target for the year (reporting ccy)"),
    "reconcile_method": (
        "对齐方式：keep 保持 / pro_rata 按比例 / priority 按优先级",
        "Reconcile: keep / pro_rata / priority",
    ),
    "rounding_unit": (
        "拆解取整单位（1 = 元，10000 = 万元）",
        "Rounding unit (1 = yuan, 10000 = 10k)",
    ),
    "dashboard_line": (
        "看板利润瀑布图的明细行（行号、SKU 或“SKU 市场”；留空=第一行）",
        "Dashboard waterfall line (row number, SKU or 'SKU MARKET'; blank = the first line)",
    ),
}

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
            FRACTION_ZH,
            FRACTION_EN,
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
            "成本币/件",
            "cost ccy/unit",
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
        _money("freight_per_unit", "头程运费/件", "Freight / unit"),
        _money("insurance_per_unit", "保险费/件", "Insurance / unit"),
        _rate("duty_rate", "关税税率", "Duty rate", maximum=10.0, width=10),
        _rate(
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
            FRACTION_ZH,
            FRACTION_EN,
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
        _money("clearance_per_unit", "清关费/件", "Clearance / unit"),
        Column(
            "consignment_value",
            "包裹货值",
            "Consignment value",
            Kind.MONEY,
            "市场币/包裹",
            "mkt ccy/parcel",
            minimum=0.0,
            help_zh="填写则按低货值规则计税",
            help_en="given = low-value regime applies",
        ),
        _money("last_mile_per_unit", "尾程配送/件", "Last mile / unit"),
        _money("storage_per_unit", "仓储费/件", "Storage / unit"),
        _money(
            "price",
            "售价",
            "Price",
            required=True,
            min_exclusive=True,
            help_zh="消费者支付价",
            help_en="price the buyer pays",
        ),
        _rate("referral_rate", "平台佣金率", "Referral rate", width=10),
        _money("referral_min", "最低佣金", "Referral minimum"),
        _rate("payment_rate", "支付费率", "Payment rate", width=10),
        _money("payment_fixed", "支付固定费", "Payment fixed fee"),
        _rate("fx_loss_rate", "汇损率", "FX loss rate", width=10),
        _rate("return_rate", "退货率", "Return rate", width=10),
        _money("return_cost_per_unit", "退货处理费", "Return handling / return"),
        _rate("unsellable_rate", "退货不可售率", "Unsellable share", width=10),
        _rate("lost_rate", "丢件率", "Lost-parcel rate", width=10),
        _rate("ad_rate", "广告费率", "Ad spend rate", width=10),
        Column(
            "target_margin",
            "目标利润率",
            "Target margin",
            Kind.RATE,
            FRACTION_ZH,
            FRACTION_EN,
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
    *(Column(k, zh, en, Kind.MONEY, PER_UNIT_ZH, PER_UNIT_EN) for k, zh, en in _OUT_MONEY),
    Column(
        "contribution_margin",
        "贡献利润率",
        "Contribution margin",
        Kind.RATE,
        FRACTION_ZH,
        FRACTION_EN,
    ),
    Column("breakeven_price", "保本售价", "Break-even price", Kind.MONEY, PER_UNIT_ZH, PER_UNIT_EN),
    Column(
        "price_for_target_margin",
        "目标利润率售价",
        "Price for target margin",
        Kind.MONEY,
        PER_UNIT_ZH,
        PER_UNIT_EN,
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

CHANNELS = (
    "Amazon",
    "Shopify",
    "TikTok Shop",
    "Mercado Libre",
    "Shopee",
    "Lazada",
    "Walmart",
    "eBay",
    "Temu",
    "Noon",
    "Other",
)
TREATMENTS = (
    "exempt",
    "collected_at_sale",
    "flat_per_parcel",
    "rate",
    "rate_minus_deduction",
    "combined_rate",
)


def _text(key: str, zh: str, en: str, width: float = 12.0) -> Column:
    return Column(key, zh, en, Kind.TEXT, width=width)


MARKET_RULES = Table(
    "market_rules",
    "tblMarketRules",
    "市场税费规则",
    "Market tax rules",
    (
        _text("market", "市场", "Market", 8),
        _text("name_zh", "中文名", "Name (zh)", 10),
        _text("name_en", "英文名", "Name (en)", 14),
        _text("region", "区域", "Region", 11),
        _text("customs_union", "关税同盟", "Customs union", 9),
        _text("currency", "币种", "Currency", 8),
        _text("tax_name", "税种", "Tax", 12),
        Column("tax_rate", "税率", "Tax rate", Kind.RATE, width=9),
        _text("price_includes_tax", "售价含税", "Price incl. tax", 10),
        _text("valuation_basis", "完税价格基础", "Valuation basis", 10),
        _text("tax_base_includes_duty", "税基含关税", "Base incl. duty", 10),
        _text("tax_base_includes_transport", "税基含运保费", "Base incl. transport", 11),
        _text("tax_gross_up", "价内计税", "Grossed up", 9),
        _text("import_tax_recoverable", "进口税可抵扣", "Import tax recoverable", 11),
        _text("effective_from", "生效日", "Effective from", 11),
        _text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        _text("source", "来源", "Source", 40),
        _text("uncertain", "不确定", "Uncertain", 9),
        _text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

LOW_VALUE_RULES = Table(
    "low_value_rules",
    "tblLowValueRules",
    "低货值规则",
    "Low-value regimes",
    (
        _text("market", "市场", "Market", 8),
        _text("applies_to", "适用于", "Applies to", 10),
        Column("min_value", "下限(不含)", "Min value (excl.)", Kind.NUMBER, width=11),
        Column("max_value", "上限(含)", "Max value (incl.)", Kind.NUMBER, width=11),
        _text("value_currency", "门槛币种", "Value currency", 9),
        _text("treatment", "处理方式", "Treatment", 18),
        Column("rate", "税率", "Rate", Kind.RATE, width=9),
        Column("amount", "金额", "Amount", Kind.NUMBER, width=9),
        _text("amount_currency", "金额币种", "Amount currency", 9),
        _text("effective_from", "生效日", "Effective from", 11),
        _text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        _text("source", "来源", "Source", 40),
        _text("uncertain", "不确定", "Uncertain", 9),
        _text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

# --------------------------------------------------------------------------------------------
# Target planning: alignment, monthly plan, tracking
# --------------------------------------------------------------------------------------------

MONTHS_ZH = [f"{m}月" for m in range(1, 13)]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
CNY_ZH, CNY_EN = "报告币种", "reporting ccy"
MAPS = ("business", "customer", "product")
RECONCILE_METHODS = ("keep", "pro_rata", "priority")


def _amount(key: str, zh: str, en: str, width: float = 15.0, **kw: object) -> Column:
    return Column(key, zh, en, Kind.AMOUNT, CNY_ZH, CNY_EN, width=width, **kw)  # type: ignore[arg-type]


def _ratio(key: str, zh: str, en: str, width: float = 11.0) -> Column:
    return Column(key, zh, en, Kind.RATE, FRACTION_ZH, FRACTION_EN, width=width)


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
    _text("channel", "渠道", "Channel", 14),
    _text("customer_tier", "客户层级", "Customer tier", 12),
    _text("category", "品类/产品线", "Category", 14),
    Column(
        "customer_type",
        "新/老客户",
        "New / existing",
        Kind.TEXT,
        choices="customer_types",
        width=11,
    ),
)
MONTH_AMOUNTS: tuple[Column, ...] = tuple(
    _amount(f"m{m:02d}", MONTHS_ZH[m - 1], MONTHS_EN[m - 1], width=13) for m in range(1, 13)
)

TARGET_LINES = Table(
    "target_lines",
    "tblTargetLines",
    "三方目标",
    "Target lines",
    (
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
        _text("owner", "负责人", "Owner", 24),
        *DIMENSION_COLUMNS,
        _amount("amount", "目标金额", "Target", required=True),
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
        Column("adjustment", "会议调整", "Adjustment", Kind.AMOUNT, CNY_ZH, CNY_EN, width=13),
        _text("note", "说明", "Note", 36),
    ),
    sheet="alignment",
    help_zh="每个地图负责人的目标主张；维度留空表示“全部”。",
    help_en="Each map owner's claims on the plan; a blank dimension means 'all'.",
)

MAP_TOTALS = Table(
    "map_totals",
    "tblMapTotals",
    "各地图合计",
    "Totals by map",
    (
        _text("map", "地图", "Map", 12),
        Column("lines", "条数", "Lines", Kind.INT, width=8),
        _amount("amount", "目标合计", "Total"),
        _ratio("share", "占比", "Share"),
        _amount("proposed", "地图提案合计", "Proposed by the map"),
    ),
    sheet="alignment_result",
)

OVERLAPS = Table(
    "overlaps",
    "tblOverlaps",
    "重叠与重复计算",
    "Overlaps and double counting",
    (
        Column("line_a", "行 A", "Line A", Kind.INT, width=7),
        Column("line_b", "行 B", "Line B", Kind.INT, width=7),
        _text("map_a", "地图 A", "Map A", 10),
        _text("map_b", "地图 B", "Map B", 10),
        _text("owner_a", "负责人 A", "Owner A", 22),
        _text("owner_b", "负责人 B", "Owner B", 22),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        _amount("amount_a", "金额 A", "Amount A"),
        _amount("amount_b", "金额 B", "Amount B"),
        _amount("amount_at_stake", "涉及金额", "At stake"),
    ),
    sheet="alignment_result",
)

BUCKETS = Table(
    "buckets",
    "tblBuckets",
    "对齐后的目标",
    "Reconciled targets",
    (
        Column("bucket", "编号", "Bucket", Kind.INT, width=8),
        Column("line", "来源行", "Source line", Kind.INT, width=8),
        _text("map", "地图", "Map", 11),
        _text("owner", "负责人", "Owner", 24),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        _text("excludes", "扣除行", "Carved out", 10),
        _amount("entered", "填报", "Entered"),
        _amount("amount", "对齐目标", "Target"),
    ),
    sheet="alignment_result",
)

EVENTS = Table(
    "events",
    "tblEvents",
    "大促与节日",
    "Events",
    (
        _text("event_key", "事件", "Event", 27),
        _text("name_zh", "中文名", "Name (zh)", 18),
        _text("name_en", "英文名", "Name (en)", 24),
        _text("markets", "适用市场/区域", "Markets / regions", 24),
        Column(
            "uplift",
            "增幅",
            "Uplift",
            Kind.RATE,
            FRACTION_ZH,
            FRACTION_EN,
            minimum=-1.0,
            maximum=10.0,
            width=9,
            help_zh="相对正常月份的增减",
            help_en="vs a normal month",
        ),
        _text("note", "说明", "Note", 50),
    ),
    sheet="calendar",
    help_zh="可修改增幅；日期按计划年度自动计算（黑五、斋月、开斋节等）。",
    help_en="Edit the uplifts; dates are computed for the plan year (Black Friday, Ramadan, "
    "Eid...).",
)

LAUNCHES = Table(
    "launches",
    "tblLaunches",
    "新市场上线",
    "Market launches",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, choices="markets", width=9),
        _text("launch_month", "上线月份", "Launch month", 12),
        _text("note", "说明", "Note", 30),
    ),
    sheet="calendar",
    help_zh="新市场从上线月份开始，前三个月按 25%/50%/75% 爬坡。",
    help_en="A new market starts in its launch month, ramping 25/50/75 % over three months.",
)

MONTHLY_PLAN = Table(
    "monthly_plan",
    "tblMonthlyPlan",
    "月度目标",
    "Monthly plan",
    (
        Column("bucket", "编号", "Bucket", Kind.INT, width=7),
        _text("map", "地图", "Map", 10),
        _text("owner", "负责人", "Owner", 24),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        *MONTH_AMOUNTS,
        *(_amount(f"q{q}", f"Q{q}", f"Q{q}", width=13) for q in range(1, 5)),
        _amount("total", "全年", "Full year", width=15),
    ),
    sheet="monthly_plan",
)

ACTUALS = Table(
    "actuals",
    "tblActuals",
    "实际销售",
    "Actual sales",
    (
        _text("month", "月份", "Month", 10),
        *DIMENSION_COLUMNS,
        _text("owner", "负责人", "Owner", 12),
        _amount("actual", "实际金额", "Actual", required=True),
    ),
    sheet="actuals",
    help_zh="月份填 1-12 或 2027-03；维度与目标一致时可定位差距来源。",
    help_en="Month as 1-12 or 2027-03; dimensions like the targets' let XLPlan explain the gap.",
)

TRACKING = Table(
    "tracking",
    "tblTracking",
    "月度达成",
    "Monthly attainment",
    (
        Column("month", "月份", "Month", Kind.INT, width=8),
        _amount("plan", "目标", "Plan"),
        _amount("actual", "实际", "Actual"),
        _ratio("attainment", "达成率", "Attainment"),
        _amount("ytd_plan", "累计目标", "YTD plan"),
        _amount("ytd_actual", "累计实际", "YTD actual"),
        _ratio("ytd_attainment", "累计达成率", "YTD attainment"),
    ),
    sheet="tracking",
)

FORECAST = Table(
    "forecast",
    "tblForecast",
    "全年预测",
    "Full-year forecast",
    (
        _amount("full_year_plan", "全年目标", "Full-year plan"),
        _amount("ytd_plan", "累计目标", "YTD plan"),
        _amount("ytd_actual", "累计实际", "YTD actual"),
        _ratio("ytd_attainment", "累计达成率", "YTD attainment"),
        _ratio("recent_attainment", "近3月达成率", "Recent attainment"),
        _amount("remaining_plan", "剩余目标", "Remaining plan"),
        _amount("forecast", "全年预测", "Forecast"),
        _ratio("forecast_attainment", "预测达成率", "Forecast attainment"),
        _amount("gap_to_close", "待弥补差距", "Gap to close"),
        _amount("needed_per_month", "剩余月均需完成", "Needed per month"),
    ),
    sheet="tracking",
)

GAP_DRIVERS = Table(
    "gap_drivers",
    "tblGapDrivers",
    "差距来源",
    "What explains the gap",
    (
        _text("dimension", "维度", "Dimension", 14),
        _text("value", "取值", "Value", 16),
        _amount("ytd_plan", "累计目标", "YTD plan"),
        _amount("ytd_actual", "累计实际", "YTD actual"),
        _amount("variance", "差异", "Variance"),
        _ratio("attainment", "达成率", "Attainment"),
        _ratio("share_of_gap", "占差距比", "Share of gap"),
        Column("rank", "排名", "Rank", Kind.INT, width=7),
    ),
    sheet="tracking",
)

TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        TARGET_LINES,
        MAP_TOTALS,
        OVERLAPS,
        BUCKETS,
        EVENTS,
        LAUNCHES,
        MONTHLY_PLAN,
        ACTUALS,
        TRACKING,
        FORECAST,
        GAP_DRIVERS,
        SETTINGS,
        FX,
        MARKET_OVERRIDES,
        LOW_VALUE_OVERRIDES,
        LANDED_COST,
        LANDED_COST_RESULTS,
        MARKET_RULES,
        LOW_VALUE_RULES,
    )
}


# --------------------------------------------------------------------------------------------
# Reading and validation
# --------------------------------------------------------------------------------------------


def map_headers(headers: list[object], table: Table) -> tuple[dict[int, str], list[str]]:
    """Positions of recognised headers -> column keys, and the unknown headers.

    Either language's header (or the key itself) is recognised.
    """
    lookup = table.header_map()
    found: dict[int, str] = {}
    unknown: list[str] = []
    for i, h in enumerate(headers):
        if h is None or str(h).strip() == "":
            continue
        key = lookup.get(normalise_header(h))
        if key is None:
            unknown.append(str(h))
        elif key not in found.values():
            found[i] = key
    return found, unknown


def frame_from_rows(rows: list[list[object]], table: Table) -> pd.DataFrame:
    """A raw DataFrame (keys as columns, cells untouched) from a header row and data rows.

    Rows that are entirely blank are dropped only at the end of the table (trailing blanks),
    so row positions still match the sheet.
    """
    if not rows:
        return pd.DataFrame(columns=table.keys)
    found, _ = map_headers(rows[0], table)
    body = rows[1:]
    while body and all(v is None or str(v).strip() == "" for v in body[-1]):
        body = body[:-1]
    data = {key: [r[i] if i < len(r) else None for r in body] for i, key in found.items()}
    frame = pd.DataFrame(data, dtype=object)
    for key in table.keys:
        if key not in frame.columns:
            frame[key] = pd.Series([None] * len(body), dtype=object)
    return frame[table.keys]


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "fiub":
        return values.isna()
    text = values.astype("string").str.strip()
    return values.isna() | text.isna() | (text == "")


def _to_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from cells; '15%' -> 0.15, '1,234.5' -> 1234.5. Returns (numbers, unparsable)."""
    if values.dtype.kind in "fiu":
        return values.astype(float), pd.Series(False, index=values.index)
    if values.dtype.kind == "b":
        return values.astype(float), pd.Series(False, index=values.index)
    nums = pd.to_numeric(values, errors="coerce").astype(float)
    missing = nums.isna().to_numpy()
    blank = pd.Series(True, index=values.index)
    blank[missing] = _blank(values[missing]).to_numpy()
    blank[~missing] = False
    bad = nums.isna() & ~blank
    if bad.any():
        text = values[bad].astype("string").str.strip().str.replace(",", "", regex=False)
        text = text.str.replace("，", "", regex=False)
        pct = text.str.endswith("%")
        parsed = pd.to_numeric(text.str.rstrip("%").str.strip(), errors="coerce").astype(float)
        parsed = parsed.where(~pct.fillna(False).astype(bool), parsed / 100.0)
        nums = nums.astype(float)
        nums.loc[bad] = parsed.to_numpy(dtype=float)
        bad = nums.isna() & ~blank
    return nums.astype(float), bad


def _to_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if values.dtype.kind == "b":
        return values.astype(float), pd.Series(False, index=values.index)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    if 2 * len(uniques) < len(values):  # few distinct cells: parse each once, spread back
        flags, bad = _to_bool_each(pd.Series(uniques, dtype=object))
        return (
            pd.Series(np.append(flags.to_numpy(dtype=float), np.nan)[codes], index=values.index),
            pd.Series(np.append(bad.to_numpy(dtype=bool), False)[codes], index=values.index),
        )
    return _to_bool_each(values)


def _to_bool_each(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.astype("string").str.strip().str.casefold()
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[text.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)] = 1.0
    out[text.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)] = 0.0
    numeric = pd.to_numeric(values, errors="coerce")
    out = out.where(out.notna(), numeric.where(numeric.isin([0, 1])))
    bad = out.isna() & ~_blank(values)
    return out, bad


def _cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text, ``""`` where blank."""
    return values.astype("string").str.strip().fillna("")


def _quoted(values: pd.Series, prefix: str, suffix: str = "") -> Callable[[np.ndarray], list[str]]:
    """Messages quoting the cell, built only for the failing rows (given by position)."""

    def build(idx: np.ndarray) -> list[str]:
        cells = values.iloc[idx]
        return [f"{prefix}'{'' if v is None else str(v)[:40]}'{suffix}" for v in cells]

    return build


def coerce_table(
    raw: pd.DataFrame,
    table: Table,
    *,
    lists: dict[str, set[str]] | None = None,
    table_key: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed columns and error records for a raw table, vectorised per column.

    Numbers become float (NaN where blank or bad), booleans float 1.0/0.0/NaN, codes upper-case
    strings (``""`` where blank), text strings. Checks: required cells, numbers that don't
    parse, ranges, membership in ``lists[column.choices]`` where that list is given. Each bad
    cell yields one record naming row and column in zh and en; the value is then blanked so the
    row's other cells still read.
    """
    tkey = table_key or table.key
    out: dict[str, pd.Series] = {}
    errs: list[pd.DataFrame] = []
    lists = lists or {}
    for col in table.columns:
        values = (
            raw[col.key]
            if col.key in raw.columns
            else pd.Series([None] * len(raw), index=raw.index, dtype=object)
        )
        values = values.reset_index(drop=True)
        text = _cell_text(values) if col.kind in (Kind.CODE, Kind.TEXT) else None
        parsed = _to_number(values) if col.kind in NUMERIC_KINDS else None
        if text is not None:
            blank = text == ""
        elif parsed is not None:
            blank = parsed[0].isna() & ~parsed[1]
        else:
            blank = _blank(values)
        label_zh, label_en = col.zh, col.en
        if col.required:
            errs.append(
                errors_where(
                    blank,
                    table=tkey,
                    column=col.key,
                    zh=f"{label_zh}为必填项",
                    en=f"{label_en} is required",
                )
            )
        if parsed is not None:
            nums, bad = parsed
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}不是数字: "),
                    en=_quoted(values, f"{label_en} is not a number: "),
                )
            )
            errs.append(_range_errors(nums, col, tkey))
            out[col.key] = nums
        elif col.kind is Kind.BOOL:
            flags, bad = _to_bool(values)
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}应为 TRUE/FALSE（是/否）: "),
                    en=_quoted(values, f"{label_en} must be TRUE or FALSE: "),
                )
            )
            out[col.key] = flags
        elif col.kind is Kind.CODE:
            codes = (text if text is not None else _cell_text(values)).str.upper()
            allowed = lists.get(col.choices or "")
            if allowed:
                unknown = (codes != "") & ~codes.isin(allowed)
                errs.append(
                    errors_where(
                        unknown,
                        table=tkey,
                        column=col.key,
                        zh=_quoted(codes, f"未知的{label_zh}: "),
                        en=_quoted(codes, f"unknown {label_en.lower()}: "),
                    )
                )
                codes = codes.where(~unknown, "")
            out[col.key] = codes.astype(object)
        elif col.kind is Kind.DATE:
            dates = pd.to_datetime(values.where(~blank), errors="coerce")
            bad = dates.isna() & ~blank
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}不是日期: "),
                    en=_quoted(values, f"{label_en} is not a date: "),
                )
            )
            out[col.key] = dates
        else:
            out[col.key] = (text if text is not None else _cell_text(values)).astype(object)
    frame = pd.DataFrame(out)
    return frame, concat_errors(errs) if errs else empty_errors()


def _range_errors(nums: pd.Series, col: Column, table: str) -> pd.DataFrame:
    if col.minimum is None and col.maximum is None:
        return empty_errors()
    bad = pd.Series(False, index=nums.index)
    if col.minimum is not None:
        bad |= (nums <= col.minimum) if col.min_exclusive else (nums < col.minimum)
    if col.maximum is not None:
        bad |= (nums >= col.maximum) if col.max_exclusive else (nums > col.maximum)
    bad &= nums.notna()
    if not bad.any():
        return empty_errors()
    hint_zh = hint_en = ""
    if col.kind is Kind.RATE:
        hint_zh, hint_en = "（比例请填 0.15 或 15%）", " (enter a rate as 0.15 or 15%)"

    def shown(prefix: str, hint: str) -> Callable[[np.ndarray], list[str]]:
        return lambda idx: [f"{prefix}{v:.4g}{hint}" for v in nums.to_numpy()[idx]]

    out = errors_where(
        bad,
        table=table,
        column=col.key,
        zh=shown(f"{col.zh}应 {col.range_text('zh')}，实为 ", hint_zh),
        en=shown(f"{col.en} must be {col.range_text('en')}, got ", hint_en),
    )
    nums[bad] = np.nan
    return out


def register(*items: Table | Sheet) -> None:
    """Add an area's sheets and tables to the registry; each area's schema module calls it once.

    Keys must be new: two declarations of one key would make reading ambiguous.
    """
    for item in items:
        registry: dict[str, Table] | dict[str, Sheet]
        registry = TABLES if isinstance(item, Table) else SHEETS
        if item.key in registry and registry[item.key] is not item:
            raise ValueError(f"{type(item).__name__} {item.key!r} is declared twice")
        registry[item.key] = item  # type: ignore[assignment]
