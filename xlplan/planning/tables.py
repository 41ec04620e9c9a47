"""The planning sheets and tables: Alignment (the maps' target lines) and its result, the
seasonality Calendar, the Monthly Plan, Actuals and Tracking.

Plan amounts are whole units of the reporting currency [reporting ccy]; shares are [fraction].
"""

from __future__ import annotations

from xlplan.core import units
from xlplan.core.errors import Message
from xlplan.plan.tables import DIMENSION_COLUMNS, TARGET_LINE_COLUMNS
from xlplan.workbook.schema import Column, Kind, Sheet, Table, amount, ratio, text

ALIGNMENT_SHEET = Sheet(
    "alignment",
    "三方对齐",
    "Alignment",
    heading=Message(
        "三方对齐：业务 / 客户 / 产品地图的目标",
        "Alignment: the three maps' targets",
    ),
    note=Message(
        "每位负责人一行目标主张；运行“三方对齐”查看重叠、差距与对齐结果。",
        "One row per owner's claim; run Align to see overlaps, the gap and the reconciled plan.",
    ),
)

ALIGNMENT_RESULT_SHEET = Sheet(
    "alignment_result",
    "对齐结果",
    "Alignment Result",
    owned=True,
    heading=Message("对齐结果", "Alignment result"),
    note=Message(
        "由 xlplan 生成：各地图合计、重叠主张与对齐后的目标（合计等于公司目标）。",
        "Written by xlplan: totals by map, overlapping claims and the reconciled targets "
        "(they sum to the company target).",
    ),
)

CALENDAR_SHEET = Sheet(
    "calendar",
    "季节日历",
    "Calendar",
    heading=Message("季节日历", "Seasonality calendar"),
    note=Message(
        "季节曲线 = 正常月份（按天数）+ 事件增幅；新市场从上线月份开始爬坡。",
        "Profile = a normal month (by days) plus event uplifts; new markets ramp up from "
        "their launch month.",
    ),
)

MONTHLY_PLAN_SHEET = Sheet(
    "monthly_plan",
    "月度拆解",
    "Monthly Plan",
    owned=True,
    heading=Message("月度拆解", "Monthly plan"),
    note=Message(
        "由 xlplan 生成：每个目标按市场季节性拆到 12 个月，取整后每行合计不差一元。",
        "Written by xlplan: each target phased by its market's seasonality into 12 "
        "months, rounded so every row sums to its target exactly.",
    ),
)

ACTUALS_SHEET = Sheet(
    "actuals",
    "实际数据",
    "Actuals",
    heading=Message("实际数据", "Actuals"),
    note=Message(
        "每月粘贴实际销售；维度与目标一致即可定位差距来源。",
        "Paste actual sales each month; dimensions like the targets' explain the gap.",
    ),
)

TRACKING_SHEET = Sheet(
    "tracking",
    "月度跟踪",
    "Tracking",
    owned=True,
    heading=Message("月度跟踪（PDCA）", "Monthly tracking (PDCA)"),
    note=Message(
        "由 xlplan 生成：月度与累计达成、全年预测、差距与主要来源。",
        "Written by xlplan: attainment by month and year to date, forecast, gap and its drivers.",
    ),
)

MONTH_AMOUNTS: tuple[Column, ...] = tuple(
    amount(f"m{m:02d}", units.MONTHS[m - 1].zh, units.MONTHS[m - 1].en, width=13)
    for m in range(1, 13)
)

TARGET_LINES = Table(
    "target_lines",
    "tblTargetLines",
    "三方目标",
    "Target lines",
    TARGET_LINE_COLUMNS,
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
        text("map", "地图", "Map", 12),
        Column("lines", "条数", "Lines", Kind.INT, width=8),
        amount("amount", "目标合计", "Total"),
        ratio("share", "占比", "Share"),
        amount("proposed", "地图提案合计", "Proposed by the map"),
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
        text("map_a", "地图 A", "Map A", 10),
        text("map_b", "地图 B", "Map B", 10),
        text("owner_a", "负责人 A", "Owner A", 22),
        text("owner_b", "负责人 B", "Owner B", 22),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        amount("amount_a", "金额 A", "Amount A"),
        amount("amount_b", "金额 B", "Amount B"),
        amount("amount_at_stake", "涉及金额", "At stake"),
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
        text("map", "地图", "Map", 11),
        text("owner", "负责人", "Owner", 24),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        text("excludes", "扣除行", "Carved out", 10),
        amount("entered", "填报", "Entered"),
        amount("amount", "对齐目标", "Target"),
    ),
    sheet="alignment_result",
)

EVENTS = Table(
    "events",
    "tblEvents",
    "大促与节日",
    "Events",
    (
        text("event_key", "事件", "Event", 27),
        text("name_zh", "中文名", "Name (zh)", 18),
        text("name_en", "英文名", "Name (en)", 24),
        text("markets", "适用市场/区域", "Markets / regions", 24),
        Column(
            "uplift",
            "增幅",
            "Uplift",
            Kind.RATE,
            units.FRACTION.zh,
            units.FRACTION.en,
            minimum=-1.0,
            maximum=10.0,
            width=9,
            help_zh="相对正常月份的增减",
            help_en="vs a normal month",
        ),
        text("note", "说明", "Note", 50),
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
        Column(
            "launch_month",
            "上线月份",
            "Launch month",
            Kind.MONTH,
            width=12,
            help_zh="1-12（计划年度的月份）或 2027-04",
            help_en="1-12 (a month of the plan year) or 2027-04",
        ),
        text("note", "说明", "Note", 30),
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
        text("map", "地图", "Map", 10),
        text("owner", "负责人", "Owner", 24),
        *(Column(c.key, c.zh, c.en, Kind.TEXT, width=c.width) for c in DIMENSION_COLUMNS),
        *MONTH_AMOUNTS,
        *(amount(f"q{q}", f"Q{q}", f"Q{q}", width=13) for q in range(1, 5)),
        amount("total", "全年", "Full year", width=15),
    ),
    sheet="monthly_plan",
)

MONTHLY_TOTAL = Table(
    "monthly_total",
    "tblMonthlyTotal",
    "合计",
    "Total",
    (
        text("label", "项目", "Item", 24),
        *MONTH_AMOUNTS,
        *(amount(f"q{q}", f"Q{q}", f"Q{q}", width=13) for q in range(1, 5)),
        amount("total", "全年", "Full year", width=15),
    ),
    sheet="monthly_plan",
    help_zh="每个月、季度与全年的合计，等于公司目标。",
    help_en="Each month's, quarter's and the year's total: the company target.",
)

EVENT_DATES = Table(
    "event_dates",
    "tblEventDates",
    "计划年度的事件日期",
    "Event dates in the plan year",
    (
        text("name_zh", "事件", "Event (zh)", 18),
        text("name_en", "事件（英文）", "Event", 20),
        text("markets", "适用市场", "Markets", 16),
        Column("anchor_date", "日期", "Date", Kind.DATE, width=12),
        Column("start", "开始", "Starts", Kind.DATE, width=12),
        Column("end", "结束", "Ends", Kind.DATE, width=12),
        ratio("uplift", "增幅", "Uplift", 9),
    ),
    sheet="monthly_plan",
    help_zh="“季节日历”的事件在计划年度的实际日期（开始、结束含当天）与增幅，即拆解所用的日期。",
    help_en="The Calendar's events on their dates in the plan year (start and end inclusive) "
    "with their uplift: the dates the split used.",
)

ACTUALS = Table(
    "actuals",
    "tblActuals",
    "实际销售",
    "Actual sales",
    (
        Column("month", "月份", "Month", Kind.MONTH, width=10),
        *DIMENSION_COLUMNS,
        text("owner", "负责人", "Owner", 12),
        amount("actual", "实际金额", "Actual", required=True),
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
        amount("plan", "目标", "Plan"),
        amount("actual", "实际", "Actual"),
        ratio("attainment", "达成率", "Attainment"),
        amount("ytd_plan", "累计目标", "YTD plan"),
        amount("ytd_actual", "累计实际", "YTD actual"),
        ratio("ytd_attainment", "累计达成率", "YTD attainment"),
    ),
    sheet="tracking",
)

FORECAST = Table(
    "forecast",
    "tblForecast",
    "全年预测",
    "Full-year forecast",
    (
        amount("full_year_plan", "全年目标", "Full-year plan"),
        amount("ytd_plan", "累计目标", "YTD plan"),
        amount("ytd_actual", "累计实际", "YTD actual"),
        ratio("ytd_attainment", "累计达成率", "YTD attainment"),
        ratio("recent_attainment", "近3月达成率", "Recent attainment"),
        amount("remaining_plan", "剩余目标", "Remaining plan"),
        amount("forecast", "全年预测", "Forecast"),
        ratio("forecast_attainment", "预测达成率", "Forecast attainment"),
        amount("gap_to_close", "待弥补差距", "Gap to close"),
        amount("needed_per_month", "剩余月均需完成", "Needed per month"),
    ),
    sheet="tracking",
)

GAP_DRIVERS = Table(
    "gap_drivers",
    "tblGapDrivers",
    "差距来源",
    "What explains the gap",
    (
        text("dimension", "维度", "Dimension", 14),
        text("value", "取值", "Value", 16),
        amount("ytd_plan", "累计目标", "YTD plan"),
        amount("ytd_actual", "累计实际", "YTD actual"),
        amount("variance", "差异", "Variance"),
        ratio("attainment", "达成率", "Attainment"),
        ratio("share_of_gap", "占差距比", "Share of gap"),
        Column("rank", "排名", "Rank", Kind.INT, width=7),
    ),
    sheet="tracking",
)

MARKET_ATTAINMENT = Table(
    "market_attainment",
    "tblMarketAttainment",
    "各市场达成",
    "Attainment by market",
    (
        text("market", "市场/区域", "Market / region", 12),
        amount("ytd_plan", "累计目标", "YTD plan"),
        amount("ytd_actual", "累计实际", "YTD actual"),
        ratio("attainment", "达成率", "Attainment"),
    ),
    sheet="tracking",
)

SHEETS = (
    ALIGNMENT_SHEET,
    ALIGNMENT_RESULT_SHEET,
    CALENDAR_SHEET,
    MONTHLY_PLAN_SHEET,
    ACTUALS_SHEET,
    TRACKING_SHEET,
)
TABLES = (
    TARGET_LINES,
    MAP_TOTALS,
    OVERLAPS,
    BUCKETS,
    EVENTS,
    LAUNCHES,
    MONTHLY_PLAN,
    MONTHLY_TOTAL,
    EVENT_DATES,
    ACTUALS,
    TRACKING,
    FORECAST,
    GAP_DRIVERS,
    MARKET_ATTAINMENT,
)
