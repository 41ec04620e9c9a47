"""The templates users open: every capability's sheets composed into one workbook.

Building a template imports every capability's ``sheets`` module, so it sits here, on top.
The output is deterministic (fixed document dates), so ``xlplan templates build --check`` can
compare the committed templates with a fresh build. A template's output sheets are filled by
running the actions on its own inputs, so a template shows what a run gives.

Each template is written twice: as a workbook (``.xlsx``) and as an Excel template (``.xltx``:
the same package, its main part typed as a template). Excel opens a template as a new,
unsaved copy (``Workbooks.Add``, or double-click), so Ctrl+S asks where to save it; the ribbon's
New plan opens one. A ``.xlsx`` merely renamed to ``.xltx`` is refused by Excel.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from xlplan import actions
from xlplan.core import parse
from xlplan.core.errors import ErrorRecord, Lang, Message
from xlplan.kpi import sheets as kpi_sheets
from xlplan.kpi.tables import (
    DASH_CASH,
    DASH_KPI_COUNTS,
    DASH_KPIS,
    DASH_MARKETS,
    DASH_MONTHS,
    DASH_STOCK,
    DASH_WATERFALL,
    KPI_FLAGS,
    KPI_RAW,
    KPI_THRESHOLDS,
    KPI_VALUES,
)
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.landed_cost.tables import (
    LANDED_COST,
    LANDED_COST_RESULTS,
    MARKET_RULES_SHEET,
    RESULTS_SHEET,
    SCENARIO_RESULTS,
    SCENARIO_RESULTS_SHEET,
    SCENARIO_SUMMARY,
    SCENARIOS,
    SETTINGS_TABLES,
)
from xlplan.maps import sheets as maps_sheets
from xlplan.plan.settings import PlanSettings, ReconcileMethod
from xlplan.plan.sheets import settings_frame, template_fx, write_settings_sheet
from xlplan.plan.tables import FX, README_SHEET, SETTINGS
from xlplan.planning import sheets as planning_sheets
from xlplan.planning.tables import ACTUALS, EVENTS, LAUNCHES, TARGET_LINES
from xlplan.supply import sheets as supply_sheets
from xlplan.supply.tables import SUPPLIER_CLOSURES, SUPPLY_ROUTES, SUPPLY_SKUS
from xlplan.workbook.package import Package
from xlplan.workbook.render import (
    TEMPLATE_DATE,
    Formats,
    new_workbook,
    page_setup,
    write_lists_sheet,
    write_tables_sheet,
)

LANGS = ("zh", "en")
SUFFIXES = (".xlsx", ".xltx")
TEMPLATE_PLAN_YEAR = 2027
YI = 100_000_000  # 1 亿 CNY
CT_WORKBOOK_TEMPLATE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
)
"""The content type that makes a package an Excel template (``.xltx``)."""


def template_path(out_dir: Path, lang: str, suffix: str = ".xlsx") -> Path:
    return out_dir / f"xlplan-template-{lang}{suffix}"


@dataclass(frozen=True)
class PlanTargets:
    """The planning inputs a new workbook starts with; the defaults are the template's example
    (DOMAIN.md's worked alignment)."""

    target_lines: pd.DataFrame | None = None
    actuals: pd.DataFrame | None = None
    launches: pd.DataFrame | None = None
    order_imports: pd.DataFrame | None = None  # the Customer Map's order files
    company_target: float | None = 12 * YI  # [reporting ccy]
    reconcile_method: str = "keep"
    rounding_unit: float = 10_000  # [reporting ccy]
    supply: supply_sheets.SupplyFrames | None = None  # SKUs, routes, closures; None = example
    plan_as_of: date | None = None  # the plan's as-of date (Settings); None = the day of the run
    example: bool = True  # False: every input table empty, Settings at their defaults

    @classmethod
    def empty(cls) -> PlanTargets:
        """A new plan: empty input tables, the Settings defaults, no results yet (the shipped
        rule tables, calendar events and KPI thresholds are reference data and stay)."""
        defaults = PlanSettings(plan_year=TEMPLATE_PLAN_YEAR)
        return cls(
            target_lines=pd.DataFrame(columns=TARGET_LINES.keys),
            actuals=pd.DataFrame(columns=ACTUALS.keys),
            launches=None,
            order_imports=None,
            company_target=defaults.company_target,
            reconcile_method=defaults.reconcile_method.value,
            rounding_unit=defaults.rounding_unit,
            supply=supply_sheets.SupplyFrames(
                skus=pd.DataFrame(columns=SUPPLY_SKUS.keys),
                routes=pd.DataFrame(columns=SUPPLY_ROUTES.keys),
                closures=pd.DataFrame(columns=SUPPLIER_CLOSURES.keys),
            ),
            example=False,
        )

    def as_of(self, plan_year: int) -> pd.Period:
        """The example's last closed month: the latest month of its actuals (bare month numbers
        are months of ``plan_year``). The product sales and KPI figures end there, so the
        example reads as one timeline."""
        actuals = planning_sheets.sample_actuals() if self.actuals is None else self.actuals
        months = [parse.parse_month(v, year=plan_year) for v in actuals["month"]]
        known = [pd.Period(year=y, month=m, freq="M") for y, m in (x for x in months if x)]
        return max(known) if known else pd.Period(year=plan_year - 1, month=12, freq="M")

    def settings(self, plan_year: int) -> PlanSettings:
        return PlanSettings(
            plan_year=plan_year,
            company_target=self.company_target,
            reconcile_method=ReconcileMethod(self.reconcile_method),
            rounding_unit=float(self.rounding_unit),
            as_of=self.plan_as_of,
        )


def _add_readme(wb: Any, lang: str) -> Any:
    """The Read Me sheet, first in the workbook; :func:`_fill_readme` writes it last, when
    every other sheet exists."""
    return wb.add_worksheet(README_SHEET.title(lang))


def _fill_readme(ws: Any, wb: Any, fmt: Formats, lang: str) -> None:
    """How a planner works, step by step; then every sheet of the workbook in order, what it
    holds and whether the planner fills it or XLPlan writes it; then the conventions."""
    page_setup(ws, fmt)
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 100)
    ws.write_string(0, 1, TITLE.text(lang), fmt.title)
    ws.write_string(1, 1, TITLE.text(Lang(lang).other), fmt.subtitle)
    row = 3
    ws.write_string(row, 1, README_STEPS_TITLE.text(lang), fmt.section)
    row += 1
    for i, step in enumerate(README_STEPS, start=1):
        ws.write_string(row, 1, f"{i}.", fmt.note)
        ws.write_string(row, 2, step.text(lang), fmt.note)
        row += 1
    row += 1
    ws.write_string(row, 1, README_SHEETS_TITLE.text(lang), fmt.section)
    row += 1
    by_title = {s.title(lang): s for s in actions.CATALOG.sheets.values()}
    for sheet in wb.worksheets()[1:]:
        declared = by_title.get(sheet.name)
        if declared is None:
            continue
        who = README_OWNED if declared.owned else README_INPUT
        about = declared.note.text(lang) or declared.heading.text(lang)
        ws.write_string(row, 1, sheet.name, fmt.note)
        ws.write_string(row, 2, f"[{who.text(lang)}] {about}", fmt.note)
        row += 1
    for kind, text in README[Lang(lang)]:
        row += 1 if kind == "h" else 0
        ws.write_string(row, 1, text, fmt.section if kind == "h" else fmt.note)
        row += 1


TITLE = Message("XLPlan 三张地图年度规划", "XLPlan: three-maps annual planning")
README_STEPS_TITLE = Message("规划顺序", "How a planner works, in order")
README_STEPS: tuple[Message, ...] = (
    Message(
        "设置：计划年度、公司目标、报告币种、取整单位、规则日期与汇率。",
        "Settings: plan year, company target, reporting currency, rounding unit, rules date "
        "and FX.",
    ),
    Message(
        "落地成本：每个 SKU × 市场 × 渠道一行，算出到岸成本、利润率与保本价。",
        "Landed Cost: one row per SKU x market x channel; landed cost, margin and break-even.",
    ),
    Message(
        "业务地图：候选市场按门槛与增长打分，不达标但要保留的市场写明理由。",
        "Business Map: candidate markets screened and scored for growth; a market kept despite "
        "a failed screen carries its reason.",
    ),
    Message(
        "客户地图：导入店铺订单，按客户分层，得出留存与增购带来的目标。",
        "Customer Map: import the store's orders, tier the customers, and see the target their "
        "retention and upsell give.",
    ),
    Message(
        "产品地图：各产品线的生命周期、明星/现金牛/问题/瘦狗与投资回报。",
        "Product Map: each product line's lifecycle stage, star / cash cow / question mark / "
        "dog and ROI.",
    ),
    Message(
        "三方对齐：三张地图负责人的目标主张对齐到公司目标（地图提案可直接粘贴）。",
        "Alignment: the three map owners' claims aligned into the company target (paste the "
        "map proposals in).",
    ),
    Message(
        "季节日历与目标拆解：按季节与上线月份把目标拆到 12 个月。",
        "Calendar and Monthly Plan: the targets phased into 12 months by season and launch month.",
    ),
    Message(
        "实际数据与月度跟踪：每月粘贴实际，看达成率、全年预测与差距来源（PDCA）。",
        "Actuals and Tracking: paste each month's actuals; attainment, full-year forecast and "
        "what explains the gap (PDCA).",
    ),
    Message(
        "备货与资金：在“备货参数”填写 SKU 组合与补货路线，得出采购单（含春节前须下的单）、"
        "月末库存与可售天数，以及资金曲线与资金占用峰值。",
        "Stock and cash: fill the SKU mix and supply routes on Supply; purchase orders (those "
        "due before Chinese New Year flagged), month-end stock and cover, the cash curve and "
        "its peak funding need.",
    ),
    Message(
        "KPI 与看板：KPI 红绿灯与经营看板。",
        "KPI and Dashboard: KPI health flags and the manager's dashboard.",
    ),
    Message(
        "运行：Excel 功能区的 XLPlan 按钮，或任意系统 xlplan run 本文件.xlsx -o 结果.xlsx"
        "（先用 xlplan check 校验，原文件不被改动）。",
        "Run: the XLPlan ribbon in Excel, or on any OS xlplan run this.xlsx -o result.xlsx "
        "(xlplan check validates first; your file is left untouched).",
    ),
)
README_SHEETS_TITLE = Message("每张工作表", "Every sheet")
README_INPUT = Message("填写", "you fill")
README_OWNED = Message("XLPlan 写入", "written by XLPlan")

README_ZH: list[tuple[str, str]] = [
    ("h", "约定"),
    ("p", "· 黄色表格由您填写；蓝色表格与 XLPlan 写入的工作表每次运行都会重写，请勿在其中输入。"),
    ("p", "· 单位采购成本按“成本币种”计；其余金额均为市场币种/件。比例填 0.15 或 15%。"),
    ("p", "· 每条税费规则都带生效日期与来源，见“市场规则”表；标记“不确定”的规则请核实后覆盖。"),
    ("p", "· 错误会逐行写出：工作表、行、列与原因（中英文），其余行照常计算。"),
    ("h", "函数"),
    (
        "p",
        "XLP_LANDED_COST(明细表, 汇率表, 市场覆盖, 低货值覆盖, 规则日期, 税则表, 报关费用覆盖, "
        "进位规则覆盖, 平台费用覆盖)：整表计算，一次调用返回整个结果块。",
    ),
    ("p", "XLP_LANDED_COST_LINE / XLP_IMPORT_TAXES / XLP_PRICE_FOR_MARGIN：单行计算。"),
    ("p", "XLP_SCENARIOS：各规则情景下逐行并列落地成本、利润率与保本价（“情景”表）。"),
]
README_EN: list[tuple[str, str]] = [
    ("h", "Conventions"),
    (
        "p",
        "- You fill the yellow tables; blue tables and the sheets XLPlan writes are rewritten "
        "on every run: do not type in them.",
    ),
    (
        "p",
        "- Unit cost is in the cost currency; every other amount is per unit in the market "
        "currency. Enter rates as 0.15 or 15%.",
    ),
    (
        "p",
        "- Every tax and fee rule carries its effective dates and source (Market Rules sheet); "
        "rules marked uncertain are defaults to check and override.",
    ),
    (
        "p",
        "- Errors are reported per row with sheet, row, column and reason (zh and en); the "
        "other rows still compute.",
    ),
    ("h", "Functions"),
    (
        "p",
        "XLP_LANDED_COST(lines, fx, market_overrides, low_value_overrides, rules_date, "
        "tariff, entry_fees, rounding, fee_overrides): the whole table in one call, spilling "
        "the result block.",
    ),
    ("p", "XLP_LANDED_COST_LINE / XLP_IMPORT_TAXES / XLP_PRICE_FOR_MARGIN: one line."),
    (
        "p",
        "XLP_SCENARIOS: each line's landed cost, margin and break-even price under every rule "
        "scenario side by side (Scenarios sheet).",
    ),
]
README = {Lang.ZH: README_ZH, Lang.EN: README_EN}


class _MemoryPort:
    """A template's input tables as a workbook port, to run the actions at build time."""

    def __init__(self, tables: dict[str, pd.DataFrame], where: dict[str, tuple[str, int]]) -> None:
        self.tables = tables
        self.where = where

    def read_table(self, key: str) -> pd.DataFrame | None:
        return self.tables.get(key)

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        self.tables[key] = frame

    def locate(self, record: ErrorRecord) -> str:
        sheet, header = self.where.get(record.table, ("", 0))
        row = header + 2 + int(record.row)
        return f"{sheet}!{row}:{row}" if sheet else ""


def sample_outputs(
    lang: str,
    where: dict[str, tuple[str, int]],
    *,
    lines: pd.DataFrame | None,
    plan_year: int,
    targets: PlanTargets,
) -> dict[str, pd.DataFrame]:
    """KPI Flags and Dashboard tables computed from the template's inputs, by running the same
    actions a user runs (so the template shows what a run gives)."""
    settings = targets.settings(plan_year)
    port = _MemoryPort(
        {
            SETTINGS.key: settings_frame(lang, settings),
            FX.key: template_fx(),
            "landed_cost": landed_cost_sheets.sample_lines() if lines is None else lines,
            TARGET_LINES.key: planning_sheets.sample_target_lines()
            if targets.target_lines is None
            else targets.target_lines,
            EVENTS.key: planning_sheets.events_frame(),
            ACTUALS.key: planning_sheets.sample_actuals()
            if targets.actuals is None
            else targets.actuals,
            KPI_VALUES.key: kpi_sheets.sample_kpi_values(targets.as_of(plan_year)),
            KPI_RAW.key: kpi_sheets.sample_kpi_raw(targets.as_of(plan_year)),
            KPI_THRESHOLDS.key: kpi_sheets.thresholds_frame(lang),
            **supply_inputs(lang, targets, plan_year),
        },
        where,
    )
    today = date(TEMPLATE_DATE.year, TEMPLATE_DATE.month, 1)
    actions.run(port, today, ["landed_cost", "align", "split", "track", "stock", "cash", "kpi"])
    return port.tables


def supply_inputs(lang: str, targets: PlanTargets, plan_year: int) -> dict[str, pd.DataFrame]:
    """The stock and cash input tables of a new plan by key (and the launches they read)."""
    tables = (targets.supply or supply_sheets.SupplyFrames()).tables(lang, date(plan_year, 1, 1))
    if targets.launches is not None:
        tables[LAUNCHES.key] = targets.launches
    return tables


def build_template(
    target: str | BinaryIO,
    lang: str,
    lines: pd.DataFrame | None = None,
    *,
    plan_year: int = TEMPLATE_PLAN_YEAR,
    targets: PlanTargets | None = None,
    samples: bool = True,
) -> None:
    """Write the XLPlan template in ``lang`` (``zh`` or ``en``) to ``target``.

    ``lines`` replaces the sample landed-cost lines; ``plan_year`` sets Settings (and with it
    the rules date, 1 January of that year); ``targets`` replaces the planning examples.
    ``samples`` False leaves the output tables (KPI Flags, Dashboard, Stock and Cash Plans)
    empty instead of running the actions that fill them: for a caller that runs every action
    on the workbook next anyway (the demo).
    """
    targets = targets or PlanTargets()
    if not targets.example:
        lines = pd.DataFrame(columns=LANDED_COST.keys) if lines is None else lines
    wb = new_workbook(target)
    fmt = Formats(wb)
    readme = _add_readme(wb, lang)
    write_settings_sheet(
        wb,
        fmt,
        lang,
        targets.settings(plan_year),
        template_fx(),
        [(table, None) for table in SETTINGS_TABLES],
    )
    landed_cost_sheets.write_landed_cost_sheet(
        wb, fmt, lang, landed_cost_sheets.sample_lines() if lines is None else lines
    )
    write_tables_sheet(wb, fmt, RESULTS_SHEET, [(LANDED_COST_RESULTS, None)], lang)
    landed_cost_sheets.write_scenarios_sheet(
        wb, fmt, lang, None if targets.example else pd.DataFrame(columns=SCENARIOS.keys)
    )
    write_tables_sheet(
        wb,
        fmt,
        SCENARIO_RESULTS_SHEET,
        [(SCENARIO_SUMMARY, None), (SCENARIO_RESULTS, None)],
        lang,
    )
    as_of = targets.as_of(plan_year)
    maps_sheets.write_maps_sheets(
        wb, fmt, lang, imports=targets.order_imports, as_of=as_of, example=targets.example
    )
    planning_sheets.write_planning_sheets(
        wb,
        fmt,
        lang,
        planning_sheets.sample_target_lines()
        if targets.target_lines is None
        else targets.target_lines,
        planning_sheets.sample_actuals() if targets.actuals is None else targets.actuals,
        targets.launches,
    )
    kpi_values = kpi_sheets.sample_kpi_values(as_of) if targets.example else None
    kpi_raw = kpi_sheets.sample_kpi_raw(as_of) if targets.example else None
    where = kpi_sheets.write_kpi_input_sheets(wb, fmt, lang, kpi_values, kpi_raw, None)
    outputs = (
        sample_outputs(lang, where, lines=lines, plan_year=plan_year, targets=targets)
        if targets.example and samples
        else {}
    )
    kpi_sheets.write_kpi_flags_sheet(wb, fmt, [(KPI_FLAGS, outputs.get(KPI_FLAGS.key))], lang)
    dash = [
        (t, outputs.get(t.key))
        for t in (
            DASH_MONTHS,
            DASH_MARKETS,
            DASH_KPI_COUNTS,
            DASH_KPIS,
            DASH_WATERFALL,
            DASH_STOCK,
            DASH_CASH,
        )
    ]
    kpi_sheets.write_dashboard_sheet(wb, fmt, dash, lang)
    # Stock and cash: their inputs, then the Stock Plan and Cash Plan the sample run wrote
    supply_sheets.write_supply_sheets(
        wb, fmt, lang, supply_inputs(lang, targets, plan_year), outputs
    )
    write_tables_sheet(wb, fmt, MARKET_RULES_SHEET, landed_cost_sheets.market_rules_frames(), lang)
    write_lists_sheet(wb, lang, actions.CATALOG.lists)
    _fill_readme(readme, wb, fmt, lang)
    wb.worksheets()[2].activate()
    wb.close()


def template_bytes(
    lang: str,
    lines: pd.DataFrame | None = None,
    *,
    plan_year: int = TEMPLATE_PLAN_YEAR,
    targets: PlanTargets | None = None,
    samples: bool = True,
) -> bytes:
    buf = io.BytesIO()
    build_template(buf, lang, lines, plan_year=plan_year, targets=targets, samples=samples)
    return buf.getvalue()


def as_excel_template(workbook: bytes) -> bytes:
    """The ``.xltx`` form of a workbook package: its main part typed as a template, every
    other member unchanged."""
    pkg = Package.load(workbook, "template")
    pkg.content_types.ensure("xl/workbook.xml", CT_WORKBOOK_TEMPLATE)
    return pkg.to_bytes()


def excel_template_bytes(
    lang: str,
    lines: pd.DataFrame | None = None,
    *,
    plan_year: int = TEMPLATE_PLAN_YEAR,
    targets: PlanTargets | None = None,
) -> bytes:
    """The template in ``lang`` as an Excel template (``.xltx``)."""
    return as_excel_template(template_bytes(lang, lines, plan_year=plan_year, targets=targets))


def _fresh(lang: str) -> dict[str, bytes]:
    """Both forms of one language's template (built once)."""
    data = template_bytes(lang)
    return {".xlsx": data, ".xltx": as_excel_template(data)}


def build_templates(out_dir: Path) -> list[Path]:
    """Write every template into ``out_dir`` (``.xlsx`` and ``.xltx``); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {lang: _fresh(lang) for lang in LANGS}
    paths = []
    for suffix in SUFFIXES:  # the workbooks first, then the templates
        for lang in LANGS:
            path = template_path(out_dir, lang, suffix)
            path.write_bytes(built[lang][suffix])
            paths.append(path)
    return paths


def normalised_parts(data: bytes) -> dict[str, bytes]:
    """Zip members with volatile content blanked (document dates), for comparisons."""

    out: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in sorted(zf.namelist()):
            body = zf.read(name)
            if name == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*<", rb"<dcterms:\1><", body)
            out[name] = body
    return out


def check_templates(out_dir: Path) -> list[str]:
    """Templates in ``out_dir`` that differ from a fresh build (names, with the first part)."""
    problems = []
    for lang in LANGS:
        built = _fresh(lang)
        for suffix in SUFFIXES:
            path = template_path(out_dir, lang, suffix)
            if not path.exists():
                problems.append(f"{path.name}: missing")
                continue
            fresh = normalised_parts(built[suffix])
            committed = normalised_parts(path.read_bytes())
            differing = sorted(
                k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k)
            )
            if differing:
                problems.append(f"{path.name}: {', '.join(differing[:5])}")
    return problems
