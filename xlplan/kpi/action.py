"""The ``kpi`` action: KPI health flags and the Dashboard's tables.

Reads the KPI sheet (``tblKpiValues`` and the editable ``tblKpiThresholds``) and the KPI Raw sheet
(``tblKpiRaw``, from which KPIs are derived), flags every figure and writes KPI Flags. Then it
fills the Dashboard from what the workbook (or this run) holds: Tracking (plan vs actual by
month), Monthly Plan and Actuals (attainment by market), the flags (traffic lights by market),
Landed Cost Results (one line's margin waterfall), the Stock Plan (stock cover by month) and the
Cash Plan (cash and money tied up by month). A Dashboard section whose source is
missing is written empty; the sheet says how to fill it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.errors import ErrorRecord, Message, concat_errors, empty_errors
from xlplan.kpi.calc import (
    FLAG_DTYPE,
    ID_COLUMNS,
    LEVELS,
    Flag,
    count_flags,
    derive_kpis,
    flag_kpis,
    kpi_definitions,
    leaf_inputs,
    stack_kpis,
    unit_label,
)
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
    RAW_INPUTS,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.workbook.coerce import coerce_table

TRACKING = "tracking"
MARKET_ATTAINMENT = "market_attainment"
LANDED_COST_RESULTS = "landed_cost_results"
STOCK_MONTHS = "stock_months"
CASH_CURVE = "cash_curve"
"""Tables other capabilities produce that the Dashboard shows (read by key, never imported)."""

ATTENTION_ROWS = 15
"""At most this many amber / red figures on the Dashboard; the rest are on KPI Flags."""
WATERFALL_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # step key, landed-cost result columns it subtracts (the first step is the start)
    ("net_price", ("net_price",)),
    ("landed_cost", ("landed_cost",)),
    ("platform_fees", ("referral_fee", "payment_fee")),
    ("fulfilment", ("fulfilment_cost",)),
    ("returns", ("returns_cost", "lost_cost")),
    ("ads", ("ad_cost",)),
    ("fx_loss", ("fx_loss",)),
)
"""The margin waterfall: net price, minus each cost group, ends at ``contribution``."""

Where = Callable[[str, int], str]


# --- KPI flags ----------------------------------------------------------------------------


def _month_text(values: pd.Series) -> pd.Series:
    """Months as ``2027-03`` (a typed 2027-03 that Excel made a date, ``2027年3月``...), so
    figures of one month compare equal; other text stays as typed."""
    texts, _ = parse.month_texts(values)
    return pd.Series(texts, index=values.index, dtype=object)


def derived_values(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long KPI values (``row``, IDs, ``kpi``, ``value``) derived from the raw table, and errors.

    ``raw`` is typed (:func:`coerce_table` of ``tblKpiRaw``). A KPI appears for a row when
    at least one of its raw inputs is filled there; a KPI with some inputs blank is then NaN
    (flagged ``no_data``), so a half-entered row shows what is missing.
    """
    present = [k for k, *_ in RAW_INPUTS if k in raw.columns]
    ids = [c for c in ID_COLUMNS if c in raw.columns]
    derived = derive_kpis(raw[[*ids, *present]], table=KPI_RAW.key)
    long = stack_kpis(derived.table)
    filled = raw[present].notna()
    leaves = {str(k): leaf_inputs(str(k)) for k in long["kpi"].unique()}
    users: dict[str, list[str]] = {}
    for key, its in leaves.items():
        for leaf in its:
            users.setdefault(leaf, []).append(key)
    keep = np.zeros(len(long), dtype=bool)
    rows = long["row"].to_numpy()
    for key, its in leaves.items():
        cols = [c for c in its if c in filled.columns]
        # an input only this KPI (or KPIs over the very same inputs) uses says "I meant it"
        own = [c for c in cols if all(set(leaves[u]) == set(its) for u in users[c])]
        wanted = filled[cols].all(axis=1) | filled[own].any(axis=1)
        here = (long["kpi"] == key).to_numpy(dtype=bool)
        keep[here] = wanted.to_numpy(dtype=bool)[rows[here]]
    return long[keep].reset_index(drop=True), derived.errors


PLATFORM_FEES = ("referral_fee", "payment_fee", "fulfilment_cost")
"""Landed-cost result columns that make up the all-in platform commission."""


def platform_commission(results: pd.DataFrame | None) -> pd.DataFrame:
    """The KPI ``commission_rate`` per market and channel, computed from the Landed Cost
    Results (fees from the fee tables, or the figures typed on the lines): all-in platform
    fees (referral or commission, payment, fulfilment and storage) / the price the buyer pays,
    over the lines that computed. Long KPI values (``market``, ``channel``, ``kpi``, ``value``,
    ``row`` = the group's first result row); empty without results."""
    cols = ["month", "market", "channel", "category", "kpi", "value", "row"]
    if results is None or results.empty:
        return pd.DataFrame(columns=cols)
    typed = _numbers(results, (*PLATFORM_FEES, "net_price", "sales_tax"))
    ok = typed["net_price"].notna() & (typed["net_price"] > 0)
    if "error" in typed.columns:
        ok &= typed["error"].fillna("").astype(str) == ""
    fees = typed.loc[ok, list(PLATFORM_FEES)].fillna(0.0).sum(axis=1)
    price = typed.loc[ok, "net_price"] + typed.loc[ok, "sales_tax"].fillna(0.0)
    frame = pd.DataFrame(
        {
            "market": typed.loc[ok, "market"].fillna("").astype(str),
            "channel": typed.loc[ok, "channel"].fillna("").astype(str),
            "fees": fees,
            "price": price,
            "row": np.flatnonzero(ok.to_numpy()),
        }
    )
    grouped = frame.groupby(["market", "channel"], sort=False).agg(
        fees=("fees", "sum"), price=("price", "sum"), row=("row", "min")
    )
    grouped = grouped[grouped["price"] > 0].reset_index()
    return pd.DataFrame(
        {
            "month": "",
            "market": grouped["market"].astype(object),
            "channel": grouped["channel"].astype(object),
            "category": "",
            "kpi": "commission_rate",
            "value": grouped["fees"] / grouped["price"],
            "row": grouped["row"].astype(int),
        }
    )[cols]


def kpi_flag_table(
    values: pd.DataFrame,
    raw: pd.DataFrame | None,
    thresholds: pd.DataFrame | None,
    where: Where | None = None,
    platform: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI Flags table and error records, from typed input tables.

    ``values`` and ``raw`` are :func:`coerce_table` results of ``tblKpiValues`` and
    ``tblKpiRaw``; ``thresholds`` of ``tblKpiThresholds`` (its rows override the catalog).
    ``where(table_key, row)`` names a source row for the ``source`` column (``KPI!8:8``).
    ``platform``: :func:`platform_commission` values; a market and channel whose commission
    rate is entered keeps the entered figure. Entered figures come first, then derived ones,
    each in sheet order.
    """
    entered = values[values["kpi"] != ""].copy()
    entered["_table"], entered["_row"] = KPI_VALUES.key, entered.index.to_numpy()
    parts = [entered]
    errors = []
    if raw is not None and len(raw):
        long, raw_errors = derived_values(raw)
        long["_table"], long["_row"] = KPI_RAW.key, long.pop("row").to_numpy()
        parts.append(long)
        errors.append(raw_errors)
    if platform is not None and len(platform):
        typed_rates = entered[entered["kpi"] == "commission_rate"]
        given = set(zip(typed_rates["market"], typed_rates["channel"], strict=True))
        keep = [
            (m, c) not in given
            for m, c in zip(platform["market"], platform["channel"], strict=True)
        ]
        computed = platform[keep].copy()
        computed["_table"], computed["_row"] = LANDED_COST_RESULTS, computed.pop("row")
        parts.append(computed)
    cols = ["month", "market", "channel", "category", "kpi", "value", "_table", "_row"]
    combined = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    for c in ("month", "market", "channel", "category"):
        combined[c] = combined[c].fillna("").astype(object)
    combined["value"] = pd.to_numeric(combined["value"], errors="coerce").astype(float)
    overrides = None
    if thresholds is not None and len(thresholds):
        overrides = thresholds[["kpi", "market", "channel", "category", *LEVELS]]
    flagged = flag_kpis(
        combined, overrides, table=KPI_VALUES.key, overrides_table=KPI_THRESHOLDS.key
    )
    flag_errors = flagged.errors.copy()
    mine = flag_errors["table"] == KPI_VALUES.key
    flag_errors.loc[mine, "row"] = combined["_row"].to_numpy()[flag_errors.loc[mine, "row"]]
    errors.append(flag_errors)
    t = flagged.table
    defs = kpi_definitions()
    names = {k: (d.name_zh, d.name_en, unit_label(d.unit.value)) for k, d in defs.items()}
    key = t["key"].astype(object)
    out = pd.DataFrame(
        {
            "month": t["month"],
            "market": t["market"],
            "channel": t["channel"],
            "category": t["category"],
            "kpi": key.where(key != "", t["kpi"].astype(object)),
            "name_zh": key.map(lambda k: names.get(k, ("", "", ""))[0]),
            "name_en": key.map(lambda k: names.get(k, ("", "", ""))[1]),
            "value": t["value"],
            "unit": key.map(lambda k: names.get(k, ("", "", ""))[2]),
            "flag": t["flag"].astype(object),
            "green": t["green"],
            "red": t["red"],
            "reason_zh": t["reason_zh"].astype(object),
            "reason_en": t["reason_en"].astype(object),
            "source": [
                where(str(tb), int(r)) if where else ""
                for tb, r in zip(combined["_table"], combined["_row"], strict=True)
            ],
        }
    )
    return out[KPI_FLAGS.keys], concat_errors(errors)


def read_kpi_flags(port: WorkbookPort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flag the workbook's KPI figures (entered, derived, and the platform commission from the
    Landed Cost Results) with its thresholds table."""
    raw_values = port.read_table(KPI_VALUES.key)
    raw_raw = port.read_table(KPI_RAW.key)
    if raw_values is None and raw_raw is None:  # a workbook from before the KPI sheets
        return pd.DataFrame(columns=KPI_FLAGS.keys), empty_errors()

    def where(table: str, row: int) -> str:
        return port.locate(ErrorRecord(table, row, "", "", ""))

    platform = platform_commission(port.read_table(LANDED_COST_RESULTS))
    return kpi_flags_from_tables(
        raw_values, raw_raw, port.read_table(KPI_THRESHOLDS.key), where, platform
    )


def kpi_flags_from_tables(
    raw_values: pd.DataFrame | None,
    raw_raw: pd.DataFrame | None,
    raw_thresholds: pd.DataFrame | None,
    where: Where | None = None,
    platform: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`kpi_flag_table` of raw (as read, untyped) ``tblKpiValues``, ``tblKpiRaw`` and
    ``tblKpiThresholds`` tables, any of them None; the coercion errors come first."""
    errors = []
    values = pd.DataFrame(columns=KPI_VALUES.keys)
    if raw_values is not None:
        raw_values = raw_values.assign(month=_month_text(raw_values["month"]))
        values, e = coerce_table(raw_values, KPI_VALUES)
        errors.append(e)
    raw = None
    if raw_raw is not None:
        raw_raw = raw_raw.assign(month=_month_text(raw_raw["month"]))
        raw, e = coerce_table(raw_raw, KPI_RAW)
        errors.append(e)
    thresholds = None
    if raw_thresholds is not None:
        thresholds, e = coerce_table(raw_thresholds, KPI_THRESHOLDS)
        errors.append(e)
        thresholds = thresholds[thresholds["kpi"] != ""]
    flags, flag_errors = kpi_flag_table(values, raw, thresholds, where, platform)
    errors.append(flag_errors)
    return flags, concat_errors(errors)


# --- Dashboard ----------------------------------------------------------------------------


def latest(flags: pd.DataFrame) -> pd.DataFrame:
    """The figures of each market's latest month (months compare as ``2027-03`` text)."""
    if flags.empty:
        return flags
    month = flags["month"].astype(str)
    last = month.groupby(flags["market"].astype(str)).transform("max")
    return flags[month == last]


def kpi_counts(flags: pd.DataFrame) -> pd.DataFrame:
    """Flags per market in each market's latest month (the Dashboard's traffic lights)."""
    now = latest(flags)
    if now.empty:
        return pd.DataFrame(columns=DASH_KPI_COUNTS.keys)
    return count_flags(now, by=("market",))[DASH_KPI_COUNTS.keys]


ATTENTION_ORDER = (Flag.RED, Flag.CHECK, Flag.AMBER, Flag.NO_DATA)
"""The Dashboard lists red figures first, then implausible ones, amber, no data."""


def attention(flags: pd.DataFrame, limit: int = ATTENTION_ROWS) -> pd.DataFrame:
    """The latest month's red, then check, amber and no-data figures, at most ``limit`` rows."""
    now = latest(flags)
    now = now[now["flag"] != Flag.GREEN.value]
    rank = {FLAG_DTYPE.categories.get_loc(f.value): i for i, f in enumerate(ATTENTION_ORDER)}
    order = now["flag"].astype(FLAG_DTYPE).cat.codes.map(rank)
    now = now.assign(_order=order.to_numpy()).sort_values(["_order", "market"], kind="stable")
    return now.head(limit)[DASH_KPIS.keys].reset_index(drop=True)


def months_table(tracking: pd.DataFrame | None) -> pd.DataFrame:
    """Plan vs actual by month from the Tracking table (empty without one)."""
    if tracking is None or tracking.empty:
        return pd.DataFrame(columns=DASH_MONTHS.keys)
    typed = _numbers(tracking, ("month", "plan", "actual", "attainment"))
    typed = typed[typed["month"].notna()]
    return pd.DataFrame(
        {
            "month": typed["month"].astype(int),
            "plan": typed["plan"],
            "actual": typed["actual"],
            "attainment": typed["attainment"],
        }
    ).reset_index(drop=True)


def markets_table(
    attained: pd.DataFrame | None, results: pd.DataFrame | None = None
) -> pd.DataFrame:
    """YTD plan, actual and attainment per market, from Tracking's attainment by market, and
    the market's contribution margin: the mean of its landed-cost lines that computed (blank
    for a market, or a region such as EU or LATAM, without lines of its own)."""
    if attained is None or attained.empty:
        return pd.DataFrame(columns=DASH_MARKETS.keys)
    out = _numbers(attained, ("ytd_plan", "ytd_actual", "attainment"))
    out["market"] = out["market"].fillna("").astype(str)
    out["margin"] = out["market"].str.upper().map(line_margins(results)).astype(float)
    return out[DASH_MARKETS.keys].reset_index(drop=True)


def stock_cover_table(months: pd.DataFrame | None) -> pd.DataFrame:
    """Stock value [reporting ccy], days of cover and the safety stock's days by month, from
    the Stock Plan (empty without one)."""
    if months is None or months.empty:
        return pd.DataFrame(columns=DASH_STOCK.keys)
    typed = _numbers(months, ("stock_value", "cover_days", "safety_days"))
    typed = typed[typed["stock_value"].notna()]
    typed["month"] = typed["month"].fillna("").astype(str)
    return typed[DASH_STOCK.keys].reset_index(drop=True)


def cash_curve_table(curve: pd.DataFrame | None) -> pd.DataFrame:
    """Cash and money tied up at each month-end [reporting ccy], from the Cash Plan (empty
    without one)."""
    if curve is None or curve.empty:
        return pd.DataFrame(columns=DASH_CASH.keys)
    typed = _numbers(curve, ("closing", "tied_up"))
    typed["month"] = typed["month"].fillna("").astype(str)
    return typed[DASH_CASH.keys].reset_index(drop=True)


def line_margins(results: pd.DataFrame | None) -> pd.Series:
    """Mean contribution margin [fraction] of each market's landed-cost lines that computed."""
    if results is None or results.empty or "contribution_margin" not in results:
        return pd.Series(dtype=float)
    typed = _numbers(results, ("contribution_margin",))
    error = typed["error"].fillna("").astype(str) if "error" in typed else ""
    market = typed["market"].fillna("").astype(str).str.strip().str.upper()
    ok = typed["contribution_margin"].notna() & (market != "") & (error == "")
    return typed.loc[ok, "contribution_margin"].groupby(market[ok]).mean()


def _total(counts: pd.DataFrame, flag: str) -> int:
    return int(pd.to_numeric(counts[flag]).sum()) if len(counts) and flag in counts else 0


def _numbers(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """An output table of another capability, as read back: its number columns as floats
    (a column it lacks is blank)."""
    out = frame.copy()
    for key in keys:
        values = out[key] if key in out.columns else pd.Series(np.nan, index=out.index)
        out[key] = pd.to_numeric(values, errors="coerce").astype(float)
    return out


def _chosen_line(results: pd.DataFrame, choice: object) -> int | None:
    """Row of ``results`` for Settings ``dashboard_line``: a 1-based row number, a SKU, or
    ``SKU MARKET [CHANNEL]``; else the first line that computed."""
    ok = (results["error"].fillna("").astype(str) == "") & results["net_price"].notna()
    text = "" if choice is None else str(choice).strip()
    if text:
        number = pd.to_numeric(pd.Series([text]), errors="coerce").iloc[0]
        if pd.notna(number) and 1 <= number <= len(results) and ok.iloc[int(number) - 1]:
            return int(number) - 1
        label = (
            results["sku"].astype(str)
            + " "
            + results["market"].astype(str)
            + " "
            + results["channel"].astype(str)
        ).str.casefold()
        hit = ok & label.str.startswith(" ".join(text.split()).casefold())
        if hit.any():
            return int(np.flatnonzero(hit.to_numpy())[0])
    first = np.flatnonzero(ok.to_numpy())
    return int(first[0]) if len(first) else None


def waterfall_table(results: pd.DataFrame | None, choice: object = None) -> pd.DataFrame:
    """One landed-cost line's margin waterfall [market ccy/unit]: net price, each cost group
    subtracted, contribution. ``base`` and ``bar`` draw it as stacked columns (the base
    invisible); a step that crosses zero is drawn from zero."""
    if results is None or results.empty:
        return pd.DataFrame(columns=DASH_WATERFALL.keys)
    money = tuple(c for _, cols in WATERFALL_STEPS for c in cols) + ("contribution",)
    typed = _numbers(results, money)
    for key in ("sku", "market", "channel", "currency", "error"):
        text = typed[key] if key in typed.columns else pd.Series("", index=typed.index)
        typed[key] = text.fillna("").astype(str)
    row = _chosen_line(typed, choice)
    if row is None:
        return pd.DataFrame(columns=DASH_WATERFALL.keys)
    line = typed.iloc[row]
    steps: list[tuple[str, float]] = []
    for key, cols in WATERFALL_STEPS:
        amount = float(sum(0.0 if pd.isna(line[c]) else float(line[c]) for c in cols))
        steps.append((key, amount if key == "net_price" else -amount))
    contribution = float(line["contribution"])
    other = contribution - sum(a for _, a in steps)
    if abs(other) > max(0.05, 0.005 * abs(steps[0][1])):  # more than the results' rounding
        steps.append(("other", other))
    rows = []
    level = 0.0
    for key, amount in steps:
        top = level + amount
        low, high = min(level, top), max(level, top)
        base = low if low >= 0 else (high if high <= 0 else 0.0)
        rows.append((key, amount, base, amount if key == "net_price" else high - low))
        level = top
    rows.append(("contribution", contribution, 0.0, contribution))
    name = " · ".join(
        str(line[c]) for c in ("sku", "market", "channel", "currency") if str(line[c]).strip()
    )
    out = pd.DataFrame(rows, columns=["step", "amount", "base", "bar"])
    out["line"] = name
    for c in ("amount", "base", "bar"):
        out[c] = out[c].round(2)
    return out[DASH_WATERFALL.keys]


def run_kpi(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Flag every KPI figure (KPI Flags) and refresh the Dashboard's tables."""
    flags, errors = read_kpi_flags(port)
    if ctx.dry_run:  # the flags and the Dashboard's tables report nothing
        return ActionResult(errors)
    port.write_table(KPI_FLAGS.key, flags)
    months = months_table(port.read_table(TRACKING))
    markets = markets_table(
        port.read_table(MARKET_ATTAINMENT), port.read_table(LANDED_COST_RESULTS)
    )
    counts = kpi_counts(flags)
    waterfall = waterfall_table(port.read_table(LANDED_COST_RESULTS), ctx.settings.dashboard_line)
    port.write_table(DASH_MONTHS.key, months)
    port.write_table(DASH_MARKETS.key, markets)
    port.write_table(DASH_KPI_COUNTS.key, counts)
    port.write_table(DASH_KPIS.key, attention(flags))
    port.write_table(DASH_WATERFALL.key, waterfall)
    stock = stock_cover_table(port.read_table(STOCK_MONTHS))
    cash = cash_curve_table(port.read_table(CASH_CURVE))
    port.write_table(DASH_STOCK.key, stock)
    port.write_table(DASH_CASH.key, cash)
    if port.read_table(KPI_VALUES.key) is None and port.read_table(KPI_RAW.key) is None:
        summary = [
            Message(
                "KPI: 工作簿中没有 KPI 表（tblKpiValues / tblKpiRaw）；从新模板复制“KPI 数据”表",
                "KPI: the workbook has no KPI table (tblKpiValues / tblKpiRaw); copy the KPI "
                "sheet from a new template",
            )
        ]
    else:
        n = {f.value: int((flags["flag"] == f.value).sum()) for f in Flag}
        summary = [
            Message(
                f"KPI: 全部月份 {len(flags)} 个数值，绿 {n['green']} / 黄 {n['amber']} / 红"
                f" {n['red']} / 请核实 {n['check']} / 无数据 {n['no_data']}",
                f"KPI: {len(flags)} figures over all months, green {n['green']} / amber "
                f"{n['amber']} / red {n['red']} / check {n['check']} / no data {n['no_data']}",
            ),
            Message(
                f"看板只计各市场最新月份: 红 {_total(counts, 'red')} / 黄 "
                f"{_total(counts, 'amber')} / 请核实 {_total(counts, 'check')}",
                f"the Dashboard counts each market's latest month only: red "
                f"{_total(counts, 'red')} / amber {_total(counts, 'amber')} / check "
                f"{_total(counts, 'check')}",
            ),
        ]
    missing = [
        source
        for frame, source in (
            (months, Message("月度跟踪", "Tracking")),
            (markets, Message("月度拆解与实际数据", "Monthly Plan and Actuals")),
            (waterfall, Message("落地成本结果", "Landed Cost Results")),
            (stock, Message("备货计划", "Stock Plan")),
            (cash, Message("资金计划", "Cash Plan")),
        )
        if frame.empty
    ]
    if missing:
        summary.append(
            Message(
                "看板缺少数据来源：" + "、".join(m.zh for m in missing),
                "dashboard sections left empty, no data from: " + ", ".join(m.en for m in missing),
            )
        )
    return ActionResult(errors if len(errors) else empty_errors(), summary)


ACTIONS = (
    Action(
        "kpi",
        Message("KPI 与看板", "KPI & dashboard"),
        run_kpi,
        produces=(
            KPI_FLAGS.key,
            DASH_MONTHS.key,
            DASH_MARKETS.key,
            DASH_KPI_COUNTS.key,
            DASH_KPIS.key,
            DASH_WATERFALL.key,
            DASH_STOCK.key,
            DASH_CASH.key,
        ),
        reads=(TRACKING, MARKET_ATTAINMENT, LANDED_COST_RESULTS, STOCK_MONTHS, CASH_CURVE),
        help=Message(
            "读取“KPI 数据”与“KPI 原始数据”，写入“KPI 预警”；"
            "看板汇总月度跟踪、各市场达成、单品利润、库存与资金。",
            "Reads KPI and KPI Raw; writes KPI Flags, and the Dashboard from Tracking, attainment "
            "by market, one line's margin, the stock plan and the cash plan.",
        ),
    ),
)
