"""The landed-cost sheets and tables: the lines users fill (``tblLandedCost``), the rule
overrides on the Settings sheet, and what XLPlan writes (Landed Cost Results, Market Rules).

Column keys are the calculator's (:mod:`xlplan.landed_cost.calc`); this module adds what a
cell looks like and how it reads: headers in both languages, units, ranges, lists.
"""

from __future__ import annotations

from xlplan import reference
from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.landed_cost.calc import Rounding, TransportMode, Treatment
from xlplan.landed_cost.scenarios import ScenarioRule
from xlplan.workbook.schema import Column, Kind, Sheet, Table, money, rate, text

PER_ENTRY = Message("市场币/报关单", "mkt ccy/entry")
"""Money per customs entry, in the market currency."""
UNITS = Message("件", "units")
CM = Message("厘米", "cm")
KG = Message("千克", "kg")
MONTH_COUNT = Message("月", "months")

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
SCENARIOS_SHEET = Sheet(
    "scenarios",
    "情景",
    "Scenarios",
    heading=Message("规则情景", "Rule scenarios"),
    note=Message(
        "每个情景是一组规则覆盖（附加关税、税率、低货值规则开关、汇率、规则日期）；"
        "“情景结果”表逐行并列各情景的落地成本、利润率与保本价。",
        "Each scenario is a set of rule overrides (extra duty, rates, low-value rules on/off, "
        "FX, rules date); Scenario Results shows each line's landed cost, margin and "
        "break-even price under every scenario side by side.",
    ),
)
SCENARIO_RESULTS_SHEET = Sheet(
    "scenario_results",
    "情景结果",
    "Scenario Results",
    owned=True,
    heading=Message("情景结果", "Scenario results"),
    note=Message(
        "由 xlplan 生成，每次运行整表重写。base = 当前规则；变化 = 相对 base。",
        "Written by xlplan; rewritten on every run. base = the plan's rules as they stand; "
        "changes are against base.",
    ),
)
SHEETS = (
    LANDED_COST_SHEET,
    RESULTS_SHEET,
    MARKET_RULES_SHEET,
    SCENARIOS_SHEET,
    SCENARIO_RESULTS_SHEET,
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

_SCOPE_COLUMNS = (
    Column(
        "origin",
        "原产地",
        "Origin",
        Kind.TEXT,
        width=9,
        help_zh="适用的原产国，多个用 ; 分隔，留空=全部",
        help_en="origins it applies to, ;-separated; blank = all",
    ),
    Column(
        "ship_from",
        "发货国",
        "Shipped from",
        Kind.TEXT,
        width=9,
        help_zh="适用的发货国，多个用 ; 分隔，留空=全部",
        help_en="countries shipped from, ;-separated; blank = all",
    ),
    Column(
        "transport_mode",
        "运输方式",
        "Transport mode",
        Kind.TEXT,
        width=10,
        help_zh="适用的运输方式，多个用 ; 分隔，留空=全部",
        help_en="transport modes, ;-separated; blank = all",
    ),
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
        *_SCOPE_COLUMNS,
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
        rate(
            "duty_rate",
            "关税税率",
            "Duty rate",
            maximum=10.0,
            width=10,
            help_zh="留空=按 HS 编码查税则表",
            help_en="blank = from the tariff table by HS code",
        ),
        rate(
            "extra_duty_rate",
            "附加关税税率",
            "Extra duty rate",
            maximum=10.0,
            width=10,
            help_zh="反倾销、301 等叠加税率合计；留空=按税则表",
            help_en="anti-dumping, s.301 etc., stacked, in total; blank = from the tariff table",
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
            help_zh="填写则按低货值规则计税；留空=按包裹各行货值合计",
            help_en="given = low-value regime applies; blank = the parcel's lines summed",
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
        Column(
            "origin",
            "原产地",
            "Origin",
            Kind.CODE,
            choices="countries",
            width=8,
            help_zh="原产国 ISO 代码，留空=CN",
            help_en="country of origin (ISO code); blank = CN",
        ),
        Column(
            "ship_from",
            "发货国",
            "Shipped from",
            Kind.CODE,
            choices="countries",
            width=8,
            help_zh="货物发出国，留空=原产地（加拿大 CUSMA 快件门槛按此判断）",
            help_en="country the goods are shipped from; blank = origin (decides CA's CUSMA "
            "courier tiers)",
        ),
        Column(
            "hs_code",
            "HS 编码",
            "HS code",
            Kind.TEXT,
            width=12,
            help_zh="2-10 位数字，可含点，如 8504.40；按税则表取税率（最长前缀优先）",
            help_en="2-10 digits, dots allowed, e.g. 8504.40; the tariff table gives its rates "
            "(longest prefix wins)",
        ),
        Column(
            "transport_mode",
            "运输方式",
            "Transport mode",
            Kind.TEXT,
            choices="transport_modes",
            width=10,
            help_zh="ocean/air/rail/road/courier/postal；留空=包裹为 courier，其余为 air",
            help_en="ocean/air/rail/road/courier/postal; blank = courier for parcels, else air",
        ),
        Column(
            "parcel",
            "包裹号",
            "Parcel",
            Kind.TEXT,
            width=10,
            help_zh="同一包裹号的各行共用一个包裹（低货值门槛、子目数、按货值分摊）",
            help_en="lines with the same id share one parcel (low-value threshold, subheadings, "
            "charges shared by value)",
        ),
        Column(
            "units_per_parcel",
            "每包裹件数",
            "Units per parcel",
            Kind.NUMBER,
            UNITS.zh,
            UNITS.en,
            minimum=0.0,
            min_exclusive=True,
            width=10,
            help_zh="本行在包裹中的件数；无包裹号时为单 SKU 包裹",
            help_en="this line's units in its parcel; without a parcel id, a single-SKU parcel",
        ),
        Column(
            "shipment",
            "报关单号",
            "Shipment",
            Kind.TEXT,
            width=10,
            help_zh="同一报关单号的各行共用一次报关（MPF、HMF、报关费按货值分摊）",
            help_en="lines with the same id share one customs entry (MPF, HMF, brokerage shared "
            "by value)",
        ),
        Column(
            "units_per_entry",
            "每票件数",
            "Units per entry",
            Kind.NUMBER,
            UNITS.zh,
            UNITS.en,
            minimum=0.0,
            min_exclusive=True,
            width=10,
            help_zh="本行在一次报关中的件数",
            help_en="this line's units in one customs entry",
        ),
        Column(
            "brokerage_per_entry",
            "报关费/票",
            "Brokerage / entry",
            Kind.MONEY,
            PER_ENTRY.zh,
            PER_ENTRY.en,
            minimum=0.0,
            help_zh="报关行每票收费；填写则替换内置的典型报关费",
            help_en="your broker's fee per entry; replaces the shipped typical fee",
        ),
        money(
            "vat_base_adjustment",
            "进口税基调整/件",
            "VAT base adjustment / unit",
            help_zh="只计入进口增值税税基的费用（英国 VAT 价值调整、欧盟到首个目的地的运费）",
            help_en="costs that enter the import-VAT base only (UK VAT value adjustment, EU "
            "transport to the first destination)",
        ),
        Column(
            "planned_units",
            "计划销量",
            "Planned units",
            Kind.NUMBER,
            UNITS.zh,
            UNITS.en,
            minimum=0.0,
            width=10,
            help_zh="计划加权利润率的权重，留空=1",
            help_en="weight in the plan's weighted margin; blank = 1",
        ),
        text(
            "category",
            "费用类目",
            "Fee category",
            18,
            help_zh="渠道费用表中的类目（如 Electronics Accessories）；留空或表中没有=其他类目",
            help_en="the channel's fee category as its fee table names it (e.g. Electronics "
            "Accessories); blank or not listed = everything else",
        ),
        text(
            "listing_type",
            "刊登类型",
            "Listing type",
            10,
            help_zh="有多种刊登类型的平台（美客多 classico/premium）；留空=第一种",
            help_en="where a marketplace has several (Mercado Libre classic/premium); blank = "
            "the first",
        ),
        *(
            Column(
                key,
                zh,
                en,
                Kind.NUMBER,
                CM.zh,
                CM.en,
                minimum=0.0,
                min_exclusive=True,
                width=8,
                help_zh="包装后尺寸，用于 FBA 尺寸分段、体积重与仓储费"
                if key == "length_cm"
                else "",
                help_en="packed dimensions: FBA size tier, dimensional weight and storage"
                if key == "length_cm"
                else "",
            )
            for key, zh, en in (
                ("length_cm", "长", "Length"),
                ("width_cm", "宽", "Width"),
                ("height_cm", "高", "Height"),
            )
        ),
        Column(
            "weight_kg",
            "单件重量",
            "Unit weight",
            Kind.NUMBER,
            KG.zh,
            KG.en,
            minimum=0.0,
            min_exclusive=True,
            width=9,
            help_zh="包装后单件重量",
            help_en="packed weight of one unit",
        ),
        Column(
            "months_in_stock",
            "在仓月数",
            "Months in stock",
            Kind.NUMBER,
            MONTH_COUNT.zh,
            MONTH_COUNT.en,
            minimum=0.0,
            width=9,
            help_zh="一件货在履约仓平均等待的月数；留空=12/库存周转（KPI 原始数据），无周转时=1",
            help_en="average months a unit waits in the fulfilment centre; blank = 12 / the "
            "inventory turnover of the KPI raw figures, else 1",
        ),
        Column(
            "sell_month",
            "销售月份",
            "Sell month",
            Kind.INT,
            "1-12",
            "1-12",
            minimum=1.0,
            maximum=12.0,
            width=8,
            help_zh="选择仓储费季节（10-12 月为旺季）；留空=全年平均",
            help_en="picks the storage season (October-December is peak); blank = the year's "
            "average",
        ),
        money(
            "competitor_price",
            "竞品售价",
            "Competitor price",
            min_exclusive=True,
            help_zh="填写则给出竞品价与低 5%-8% 价位的利润率",
            help_en="given = margins at the competitor's price and 5-8% below it",
        ),
        rate(
            "refund_rate",
            "退款率",
            "Refund rate",
            width=9,
            help_zh="退款件数占销量的比例；亚马逊按每件退款收取退款管理费（佣金的 20%，有上限）",
            help_en="refunded units per unit sold; Amazon charges a refund administration fee "
            "per refunded unit (20% of the referral fee, capped)",
        ),
        text(
            "payment_processor",
            "支付商",
            "Payment processor",
            11,
            help_zh="独立站: Stripe 或 PayPal；支付费率与固定费留空时按费用表计算",
            help_en="independent sites: Stripe or PayPal; with the payment rate and fixed fee "
            "blank, the processor's fees come from the fee tables",
        ),
        rate(
            "intl_card_share",
            "境外卡占比",
            "International card share",
            width=10,
            help_zh="用境外发行的卡付款的比例（加收境外卡费）",
            help_en="share of payments by cards issued abroad (the international-card fee)",
        ),
        rate(
            "conversion_share",
            "换汇占比",
            "Currency conversion share",
            width=10,
            help_zh="需要货币兑换的付款比例（加收换汇费）",
            help_en="share of payments that need a currency conversion (the conversion fee)",
        ),
    ),
    sheet="landed_cost",
)

_OUT_MONEY = [
    ("customs_value", "完税价格", "Customs value"),
    ("duty_base", "计征关税价格", "Duty base"),
    ("duty", "关税", "Duty"),
    ("extra_duty", "附加关税", "Extra duty"),
    ("vat_base", "进口税税基", "Value for tax"),
    ("import_vat", "进口税", "Import tax"),
    ("entry_fees", "报关费用", "Entry fees"),
    ("landed_cost", "落地成本", "Landed cost"),
    ("sales_tax", "价内销售税", "Tax in price"),
    ("net_price", "净售价", "Net price"),
    ("referral_fee", "平台佣金", "Referral fee"),
    ("refund_admin_fee", "退款管理费", "Refund admin fee"),
    ("payment_fee", "支付手续费", "Payment fee"),
    ("fx_loss", "汇损", "FX loss"),
    ("ad_cost", "广告费", "Ad cost"),
    ("fulfilment_cost", "履约费", "Fulfilment cost"),
    ("fulfilment_fee", "配送费", "Fulfilment fee"),
    ("fuel_surcharge", "燃油附加费", "Fuel surcharge"),
    ("storage_fee", "仓储费", "Storage fee"),
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
    Column("size_tier", "尺寸分段", "Size tier", Kind.TEXT, width=14),
    Column("dim_weight_kg", "体积重", "Dimensional weight", Kind.NUMBER, KG.zh, KG.en, width=10),
    *(
        Column(k, zh, en, Kind.RATE, units.FRACTION.zh, units.FRACTION.en, width=10)
        for k, zh, en in (
            ("competitor_margin", "竞品价利润率", "Margin at competitor price"),
            ("margin_5_below", "低5%利润率", "Margin 5% below"),
            ("margin_8_below", "低8%利润率", "Margin 8% below"),
        )
    ),
    Column("flags", "提示", "Flags", Kind.TEXT, width=24),
    Column("fee_rules", "费用规则行", "Fee rule rows", Kind.TEXT, width=30),
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
        text("origin", "原产地", "Origin", 8),
        text("ship_from", "发货国", "Shipped from", 8),
        text("transport_mode", "运输方式", "Transport mode", 9),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

_DATED = (
    Column("effective_from", "生效日", "Effective from", Kind.DATE, width=12),
    Column("effective_to", "失效日(不含)", "Effective to (excl.)", Kind.DATE, width=12),
    Column("source", "来源", "Source", Kind.TEXT, width=24),
    Column("uncertain", "不确定", "Uncertain", Kind.BOOL, width=9),
    Column("note", "备注", "Note", Kind.TEXT, width=30),
)

TARIFF = Table(
    "tariff",
    "tblTariff",
    "税则",
    "Tariff",
    (
        Column(
            "hs_prefix",
            "HS 前缀",
            "HS prefix",
            Kind.TEXT,
            width=11,
            help_zh="HS 编码前缀（数字，可含点），留空=全部商品",
            help_en="HS code prefix (digits, dots allowed); blank = every good",
        ),
        Column("market", "市场", "Market", Kind.CODE, required=True, width=8),
        Column(
            "origin",
            "原产地",
            "Origin",
            Kind.CODE,
            choices="countries",
            width=8,
            help_zh="留空=任何原产地",
            help_en="blank = any origin",
        ),
        rate(
            "duty_rate",
            "关税税率",
            "Duty rate",
            maximum=10.0,
            width=10,
            help_zh="基本（最惠国或协定）税率",
            help_en="base (MFN or preferential) rate",
        ),
        rate(
            "extra_duty_rate",
            "附加税率",
            "Extra duty rate",
            maximum=10.0,
            width=10,
            help_zh="附加关税（与其他措施叠加）",
            help_en="an extra duty (stacks with other measures)",
        ),
        Column(
            "measure",
            "措施",
            "Measure",
            Kind.TEXT,
            width=14,
            help_zh="附加关税的措施名，如 us_s301；同名措施取最长前缀",
            help_en="the extra duty's measure, e.g. us_s301; one row per measure applies",
        ),
        *_DATED,
    ),
    sheet="settings",
    help_zh="与内置税则（见“市场规则”表）合并：最长 HS 前缀优先；同长度时本表优先。本行填写的"
    "税率优先于税则。",
    help_en="Joins the shipped tariff (Market Rules sheet): the longest HS prefix wins; at equal "
    "length a row here wins. A line's own rates win over the tariff.",
)

ENTRY_FEE_OVERRIDES = Table(
    "entry_fee_overrides",
    "tblEntryFees",
    "报关费用覆盖",
    "Entry fee overrides",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, width=8),
        Column("fee", "费用", "Fee", Kind.TEXT, required=True, width=22),
        Column("entry_type", "报关类型", "Entry type", Kind.TEXT, width=10),
        Column(
            "transport_mode",
            "运输方式",
            "Transport mode",
            Kind.TEXT,
            width=12,
            help_zh="多个用 ; 分隔，留空=全部",
            help_en=";-separated; blank = all",
        ),
        Column("min_value", "货值下限(不含)", "Min value (excl.)", Kind.NUMBER, minimum=0.0),
        Column("max_value", "货值上限(含)", "Max value (incl.)", Kind.NUMBER, minimum=0.0),
        Column(
            "value_currency",
            "货值币种",
            "Value currency",
            Kind.CODE,
            required=True,
            choices="currencies",
            width=9,
        ),
        Column("rate", "费率", "Rate", Kind.RATE, minimum=0.0, maximum=1.0, width=9),
        Column("min_amount", "最低", "Minimum", Kind.NUMBER, minimum=0.0, width=9),
        Column("max_amount", "最高", "Maximum", Kind.NUMBER, minimum=0.0, width=9),
        Column("flat_amount", "固定金额", "Flat amount", Kind.NUMBER, minimum=0.0, width=9),
        Column(
            "currency", "币种", "Currency", Kind.CODE, required=True, choices="currencies", width=8
        ),
        *_DATED,
    ),
    sheet="settings",
    help_zh="每票报关的费用：费率×报关货值（限最低/最高）+ 固定金额。"
    "与内置行同市场同费用名时替换之。",
    help_en="Charges per customs entry: rate x entry value (within minimum and maximum) + flat "
    "amount. Replaces the shipped rows of the same market and fee.",
)

ROUNDING_OVERRIDES = Table(
    "rounding_overrides",
    "tblRounding",
    "进位规则覆盖",
    "Rounding overrides",
    (
        Column("market", "市场", "Market", Kind.CODE, required=True, width=8),
        Column("step", "环节", "Step", Kind.TEXT, required=True, choices="rounding_steps"),
        Column("method", "方法", "Method", Kind.TEXT, required=True, choices="rounding_methods"),
        Column(
            "increment",
            "单位",
            "Increment",
            Kind.NUMBER,
            required=True,
            minimum=0.0,
            min_exclusive=True,
            width=9,
        ),
        Column(
            "currency", "币种", "Currency", Kind.CODE, required=True, choices="currencies", width=8
        ),
        *_DATED,
    ),
    sheet="settings",
    help_zh="法定的金额进位（如英国关税舍去不足一便士部分）。与内置行同市场同环节时替换之。",
    help_en="Rounding the law prescribes (e.g. UK duty: fractions of a penny disregarded). "
    "Replaces the shipped rule of the same market and step.",
)

FEE_TABLES: tuple[str, ...] = (
    "referral",
    "commissions",
    "fulfilment",
    "storage",
    "refund_admin",
    "payments",
)
"""The fee tables a workbook row can override (names of :data:`xlplan.reference.fees.FEE_FILES`)."""

FEE_OVERRIDES = Table(
    "fee_overrides",
    "tblFeeOverrides",
    "平台费用覆盖",
    "Fee overrides",
    (
        Column(
            "fee_table",
            "费用表",
            "Fee table",
            Kind.TEXT,
            required=True,
            choices="fee_tables",
            width=12,
            help_zh="referral 亚马逊佣金; commissions TikTok/美客多/Shopee 佣金; "
            "fulfilment FBA 配送费; storage 月仓储费; refund_admin 退款管理费; "
            "payments 支付手续费",
            help_en="referral: Amazon referral; commissions: TikTok Shop, Mercado Libre, Shopee; "
            "fulfilment: FBA fee; storage: monthly storage; refund_admin: refund administration "
            "fee; payments: payment processor",
        ),
        Column(
            "marketplace",
            "站点",
            "Marketplace",
            Kind.CODE,
            required=True,
            width=10,
            help_zh="站点代码（US、GB、DE…）；payments 为收款账户所在地",
            help_en="marketplace code (US, GB, DE...); payments: the account's country",
        ),
        Column(
            "channel",
            "渠道/支付商",
            "Channel / processor",
            Kind.TEXT,
            width=14,
            help_zh="commissions: 渠道（TikTok Shop…）; payments: 支付商（Stripe、PayPal）",
            help_en="commissions: the channel (TikTok Shop...); payments: the processor (Stripe, "
            "PayPal)",
        ),
        Column(
            "item",
            "类目/尺寸段/项目",
            "Category / tier / item",
            Kind.TEXT,
            width=22,
            help_zh="referral、commissions: 费用类目（* = 其他类目）; fulfilment: 尺寸段; storage: "
            "仓储类别; payments: 收费项目",
            help_en="referral, commissions: fee category (* = every other category); fulfilment: "
            "size tier; storage: storage class; payments: component",
        ),
        text("listing_type", "刊登类型", "Listing type", 12),
        Column(
            "fee_type",
            "费用类型",
            "Fee type",
            Kind.TEXT,
            width=12,
            help_zh="commissions: 费用类型（留空=referral）; "
            "fulfilment: 季节（留空=nonpeak，或 peak）",
            help_en="commissions: fee type (blank = referral); fulfilment: season (blank = "
            "nonpeak, or peak)",
        ),
        Column("price_from", "售价下限(不含)", "Price from (excl.)", Kind.NUMBER, minimum=0.0),
        Column("price_to", "售价上限(含)", "Price to (incl.)", Kind.NUMBER, minimum=0.0),
        Column(
            "weight_from",
            "重量/月份下限",
            "Weight / month from",
            Kind.NUMBER,
            minimum=0.0,
            help_zh="fulfilment: 发货重量下限（不含）; storage: 起始月份（含，留空=1）",
            help_en="fulfilment: shipping weight from (excl.); storage: first month (incl., "
            "blank = 1)",
        ),
        Column(
            "weight_to",
            "重量/月份上限(含)",
            "Weight / month to (incl.)",
            Kind.NUMBER,
            minimum=0.0,
            help_zh="fulfilment: 发货重量上限; storage: 结束月份（留空=12）",
            help_en="fulfilment: shipping weight to; storage: last month (blank = 12)",
        ),
        Column(
            "weight_unit",
            "重量单位",
            "Weight unit",
            Kind.TEXT,
            width=9,
            help_zh="fulfilment: lb、g 或 kg（与该站点尺寸段相同）",
            help_en="fulfilment: lb, g or kg (as the marketplace's size tiers)",
        ),
        Column(
            "tier_mode",
            "分档方式",
            "Tier mode",
            Kind.TEXT,
            width=10,
            help_zh="whole: 整价按所在档费率; marginal: 各档部分分别计费（留空=whole）",
            help_en="whole: the band's rate on the whole price; marginal: each band's rate on "
            "the part inside it (blank = whole)",
        ),
        Column(
            "rate",
            "费率",
            "Rate",
            Kind.RATE,
            minimum=0.0,
            maximum=1.0,
            width=9,
            help_zh="referral、commissions、payments: 费率; refund_admin: 占佣金的比例",
            help_en="referral, commissions, payments: the rate; refund_admin: share of the "
            "referral fee",
        ),
        Column(
            "amount",
            "固定金额",
            "Fixed amount",
            Kind.NUMBER,
            minimum=0.0,
            width=10,
            help_zh="fulfilment: 每件配送费; storage: 每立方英尺每月仓储费; referral: 结算费; "
            "commissions、payments: 每件/每笔固定费",
            help_en="fulfilment: the fee per unit; storage: per cubic foot per month; referral: "
            "closing fee; commissions, payments: fixed fee per unit or payment",
        ),
        Column("min_fee", "最低费用", "Minimum fee", Kind.NUMBER, minimum=0.0, width=10),
        Column("cap", "上限", "Cap", Kind.NUMBER, minimum=0.0, width=9),
        Column(
            "currency", "币种", "Currency", Kind.CODE, required=True, choices="currencies", width=8
        ),
        *_DATED,
    ),
    sheet="settings",
    help_zh="与内置费用表（reference/data/fees_*.csv）同表同键（站点+类目/尺寸段/项目等）的行被本表"
    "替换，其余行新增。结果的“费用规则”列以 tblFeeOverrides:行号 标出本表的行。",
    help_en="Rows replace the shipped fee rows (reference/data/fees_*.csv) of the same table and "
    "keys (marketplace and category, size tier or item...) and add the others. A result's Fee "
    "rules column names a row of this table as tblFeeOverrides:row.",
)

TARIFF_RULES = Table(
    "tariff_rules",
    "tblTariffRules",
    "税则（内置）",
    "Tariff (shipped)",
    (
        text("hs_prefix", "HS 前缀", "HS prefix", 10),
        text("market", "市场", "Market", 8),
        text("origin", "原产地", "Origin", 8),
        Column("duty_rate", "关税税率", "Duty rate", Kind.RATE, width=9),
        Column("extra_duty_rate", "附加税率", "Extra duty rate", Kind.RATE, width=9),
        text("measure", "措施", "Measure", 14),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
    help_zh="另含英国全球关税（UKGT）摘录 11,830 个商品编码（2020-12-02 发布，标记为不确定），"
    "计算时使用，此处不列出。",
    help_en="The calculator also uses the UK Global Tariff extract (11,830 commodity codes as "
    "published 2020-12-02, marked uncertain), not listed here.",
)

ENTRY_FEE_RULES = Table(
    "entry_fee_rules",
    "tblEntryFeeRules",
    "报关费用（内置）",
    "Entry fees (shipped)",
    (
        text("market", "市场", "Market", 8),
        text("fee", "费用", "Fee", 22),
        text("entry_type", "报关类型", "Entry type", 10),
        text("transport_mode", "运输方式", "Transport mode", 14),
        Column("min_value", "货值下限(不含)", "Min value (excl.)", Kind.NUMBER, width=10),
        Column("max_value", "货值上限(含)", "Max value (incl.)", Kind.NUMBER, width=10),
        text("value_currency", "货值币种", "Value currency", 8),
        Column("rate", "费率", "Rate", Kind.NUMBER, width=9),
        Column("min_amount", "最低", "Minimum", Kind.NUMBER, width=9),
        Column("max_amount", "最高", "Maximum", Kind.NUMBER, width=9),
        Column("flat_amount", "固定金额", "Flat amount", Kind.NUMBER, width=9),
        text("currency", "币种", "Currency", 8),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

ROUNDING_RULES = Table(
    "rounding_rules",
    "tblRoundingRules",
    "进位规则（内置）",
    "Rounding rules (shipped)",
    (
        text("market", "市场", "Market", 8),
        text("step", "环节", "Step", 14),
        text("method", "方法", "Method", 12),
        Column("increment", "单位", "Increment", Kind.NUMBER, width=9),
        text("currency", "币种", "Currency", 8),
        text("effective_from", "生效日", "Effective from", 11),
        text("effective_to", "失效日(不含)", "Effective to (excl.)", 11),
        text("source", "来源", "Source", 40),
        text("uncertain", "不确定", "Uncertain", 9),
        text("note", "备注", "Note", 50),
    ),
    sheet="market_rules",
)

SCENARIOS = Table(
    "scenarios",
    "tblScenarios",
    "情景规则",
    "Scenario rules",
    (
        Column("scenario", "情景", "Scenario", Kind.TEXT, required=True, width=14),
        Column(
            "rule",
            "规则",
            "Rule",
            Kind.TEXT,
            required=True,
            choices="scenario_rules",
            width=12,
            help_zh="extra_duty / duty_rate / low_value / fx / tax_rate / rules_date",
            help_en="extra_duty / duty_rate / low_value / fx / tax_rate / rules_date",
        ),
        Column(
            "market",
            "市场",
            "Market",
            Kind.CODE,
            width=8,
            help_zh="extra_duty、duty_rate、low_value、tax_rate 必填；EU=全部成员国",
            help_en="for extra_duty, duty_rate, low_value, tax_rate; EU = every member",
        ),
        Column(
            "origin",
            "原产地",
            "Origin",
            Kind.CODE,
            choices="countries",
            width=8,
            help_zh="留空=任何原产地",
            help_en="blank = any origin",
        ),
        Column(
            "hs_prefix",
            "HS 前缀",
            "HS prefix",
            Kind.TEXT,
            width=10,
            help_zh="留空=全部商品",
            help_en="blank = every good",
        ),
        Column(
            "measure",
            "措施/处理方式",
            "Measure / treatment",
            Kind.TEXT,
            width=16,
            help_zh="extra_duty: 措施名（留空=全部附加关税合计）；low_value: 处理方式（留空=全部）",
            help_en="extra_duty: the measure (blank = all extra duties together); low_value: the "
            "treatment (blank = all)",
        ),
        Column("from_currency", "原币种", "From currency", Kind.CODE, choices="currencies"),
        Column("to_currency", "目标币种", "To currency", Kind.CODE, choices="currencies"),
        Column(
            "value",
            "值",
            "Value",
            Kind.TEXT,
            required=True,
            width=12,
            help_zh="税率如 15%；汇率；TRUE/FALSE；日期",
            help_en="a rate such as 15%; an FX rate; TRUE/FALSE; a date",
        ),
        Column("note", "备注", "Note", Kind.TEXT, width=30),
    ),
    sheet="scenarios",
    help_zh="同名的各行组成一个情景；base 为当前规则，不能重新定义。",
    help_en="Rows with the same name make one scenario; base is the plan as it stands and "
    "cannot be redefined.",
)

SCENARIO_SELECTION = Table(
    "scenario_selection",
    "tblScenarioSelection",
    "参与比较的情景",
    "Scenarios to compare",
    (Column("scenario", "情景", "Scenario", Kind.TEXT, width=16),),
    sheet="scenarios",
    help_zh="留空=比较“情景规则”表中的全部情景（base 总是第一个）。",
    help_en="Blank = every scenario of the Scenario rules table (base always comes first).",
)

SCENARIO_RESULTS = Table(
    "scenario_results",
    "tblScenarioResults",
    "情景结果明细",
    "Scenario results",
    (
        text("scenario", "情景", "Scenario", 14),
        *LANDED_COST.columns[:3],
        Column("currency", "币种", "Currency", Kind.CODE, width=8),
        *(
            Column(k, zh, en, Kind.MONEY, units.PER_UNIT.zh, units.PER_UNIT.en)
            for k, zh, en in (
                ("landed_cost", "落地成本", "Landed cost"),
                ("duty", "关税", "Duty"),
                ("extra_duty", "附加关税", "Extra duty"),
                ("import_vat", "进口税", "Import tax"),
                ("entry_fees", "报关费用", "Entry fees"),
                ("total_cost", "总成本", "Total cost"),
                ("contribution", "贡献利润", "Contribution"),
            )
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
        Column(
            "landed_cost_change",
            "落地成本变化",
            "Landed cost change",
            Kind.MONEY,
            units.PER_UNIT.zh,
            units.PER_UNIT.en,
        ),
        Column(
            "margin_change",
            "利润率变化",
            "Margin change",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
        ),
        Column("error", "错误", "Error", Kind.TEXT, width=40),
    ),
    sheet="scenario_results",
)

SCENARIO_SUMMARY = Table(
    "scenario_summary",
    "tblScenarioSummary",
    "情景汇总",
    "Scenario summary",
    (
        text("scenario", "情景", "Scenario", 14),
        Column("rules_date", "规则日期", "Rules date", Kind.DATE, width=11),
        Column("lines", "行数", "Lines", Kind.INT, width=8),
        Column("lines_computed", "计算成功行数", "Lines computed", Kind.INT, width=10),
        Column(
            "revenue", "净收入", "Net revenue", Kind.AMOUNT, units.REPORTING.zh, units.REPORTING.en
        ),
        Column(
            "contribution",
            "贡献利润",
            "Contribution",
            Kind.AMOUNT,
            units.REPORTING.zh,
            units.REPORTING.en,
        ),
        Column(
            "weighted_margin",
            "加权利润率",
            "Weighted margin",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
        ),
        Column(
            "margin_change",
            "利润率变化",
            "Margin change",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
        ),
        text("overrides", "规则覆盖", "Overrides", 40),
        Column("error", "错误", "Error", Kind.TEXT, width=40),
    ),
    sheet="scenario_results",
    help_zh="加权利润率 = Σ 计划销量 × 贡献利润 / Σ 计划销量 × 净售价（折算为报告币种）。",
    help_en="Weighted margin = sum of planned units x contribution / sum of planned units x "
    "net price (in the reporting currency).",
)

TABLES: tuple[Table, ...] = (
    MARKET_OVERRIDES,
    LOW_VALUE_OVERRIDES,
    ENTRY_FEE_OVERRIDES,
    ROUNDING_OVERRIDES,
    FEE_OVERRIDES,
    TARIFF,
    LANDED_COST,
    LANDED_COST_RESULTS,
    MARKET_RULES,
    LOW_VALUE_RULES,
    TARIFF_RULES,
    ENTRY_FEE_RULES,
    ROUNDING_RULES,
    SCENARIO_SELECTION,
    SCENARIOS,
    SCENARIO_SUMMARY,
    SCENARIO_RESULTS,
)
SETTINGS_TABLES: tuple[Table, ...] = (
    MARKET_OVERRIDES,
    LOW_VALUE_OVERRIDES,
    ENTRY_FEE_OVERRIDES,
    ROUNDING_OVERRIDES,
    FEE_OVERRIDES,
    TARIFF,
)
"""The rule overrides shown on the Settings sheet, below the FX table (the tariff last: it is
the one that grows)."""

LISTS: dict[str, list[str]] = {
    "basis": ["CIF", "FOB"],
    "levies": ["duty", "tax", "both"],
    "treatments": [t.value for t in Treatment],
    "transport_modes": [m.value for m in TransportMode],
    "rounding_steps": list(reference.ROUNDING_STEPS),
    "rounding_methods": [m.value for m in Rounding],
    "countries": sorted(reference.countries().index.astype(str)),
    "scenario_rules": [r.value for r in ScenarioRule],
    "fee_tables": list(FEE_TABLES),
}
"""Validation lists of this capability's columns (``markets``, ``currencies`` and ``channels``
come from the reference data)."""
