"""The ``stock`` and ``cash`` actions: read the plan's tables through the port, plan, write.

Both read the same inputs (:func:`read_supply`): the Monthly Plan the ``split`` action writes,
the market launches of the Calendar sheet, the Landed Cost lines and their Results (tables of
other capabilities, read by key, never imported), the FX table, and this capability's own tables
(Supply, Supply Settings). ``stock`` writes the Stock Plan sheet; ``cash`` re-plans the stock
from the same inputs (so both always agree with the inputs) and writes the Cash Plan sheet with
its two levers. :func:`plan_tables` and :func:`cash_tables` are the one path the actions, Validate
and the UDFs share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import money, parse
from xlplan.core.errors import Message, concat_errors, empty_errors, errors_where
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.read import fx_table
from xlplan.plan.tables import FX
from xlplan.reference.dates import chinese_new_year
from xlplan.supply.calc import calendar as cal_
from xlplan.supply.calc.cash import CashInputs, CashPlan, cash_summary
from xlplan.supply.calc.costs import (
    LINE_KEYS,
    RESULT_KEYS,
    line_money,
    match_rows,
    payout_days,
    route_money,
    to_reporting,
    transit_days,
)
from xlplan.supply.calc.demand import MONTHS, spread_units
from xlplan.supply.calc.levers import (
    SupplyCase,
    SupplyPlan,
    TransitChoice,
    compare_levers,
    run_case,
)
from xlplan.supply.calc.settings import ClosureKind, SupplySettings, TransitMode
from xlplan.supply.calc.stock import (
    ROUTE_KEYS,
    StockInputs,
    StockPlan,
    at_risk,
    market_summary,
    plan_stock,
    purchase_orders,
    route_summary,
    stock_months,
    stock_positions,
)
from xlplan.supply.tables import (
    CASH_CURVE,
    CASH_CYCLE,
    CASH_LEVERS,
    CASH_SUMMARY,
    PAYOUTS,
    PURCHASE_ORDERS,
    STOCK_AT_RISK,
    STOCK_MARKETS,
    STOCK_MONTHS,
    STOCK_POSITIONS,
    STOCK_SUMMARY,
    SUPPLIER_CALENDAR,
    SUPPLIER_CLOSURES,
    SUPPLY_ROUTES,
    SUPPLY_SETTING_KEYS,
    SUPPLY_SETTINGS,
    SUPPLY_SKUS,
    TRANSIT_MODES,
)
from xlplan.workbook.coerce import coerce_table, good_rows, relocate
from xlplan.workbook.keyvalue import read_model
from xlplan.workbook.schema import Column, Kind, Table, text

MONTHLY_PLAN = "monthly_plan"
LAUNCHES = "launches"
LANDED_COST = "landed_cost"
LANDED_COST_RESULTS = "landed_cost_results"
"""Tables of other capabilities the plans read (by key, never imported)."""

PLAN_VIEW = Table(
    MONTHLY_PLAN,
    "tblMonthlyPlan",
    "月度目标",
    "Monthly plan",
    (
        text("market", "市场/区域", "Market / region"),
        text("channel", "渠道", "Channel"),
        text("category", "品类/产品线", "Category"),
        *(Column(m, m, m, Kind.AMOUNT) for m in MONTHS),
    ),
)
LINES_VIEW = Table(
    LANDED_COST,
    "tblLandedCost",
    "落地成本明细",
    "Landed cost lines",
    tuple(
        Column(
            k,
            k,
            k,
            Kind.CODE
            if k in ("market", "cost_currency")
            else Kind.BOOL
            if k == "vat_recoverable"
            else Kind.TEXT
            if k in ("sku", "channel")
            else Kind.NUMBER,
        )
        for k in LINE_KEYS
    ),
)
RESULTS_VIEW = Table(
    LANDED_COST_RESULTS,
    "tblLandedCostResults",
    "落地成本结果",
    "Landed cost results",
    tuple(
        Column(
            k,
            k,
            k,
            Kind.CODE
            if k in ("market", "currency")
            else Kind.TEXT
            if k in ("sku", "channel")
            else Kind.NUMBER,
        )
        for k in RESULT_KEYS
    ),
)
LAUNCH_VIEW = Table(
    LAUNCHES,
    "tblLaunches",
    "新市场上线",
    "Market launches",
    (Column("market", "市场", "Market", Kind.CODE), text("launch_month", "上线月份", "Launch")),
)
"""How the plans read the tables of other capabilities: only the columns they use."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _given(raw: pd.DataFrame | None) -> pd.DataFrame | None:
    """The raw table without its wholly blank rows (row positions kept in the index)."""
    if raw is None:
        return None
    frame = raw.reset_index(drop=True)
    if frame.empty:
        return frame
    blank = np.column_stack([parse.blank_mask(frame[c]) for c in frame.columns]).all(axis=1)
    return frame.iloc[np.flatnonzero(~blank)]


def read_rows(
    raw: pd.DataFrame | None, table: Table, lists: dict[str, set[str]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A table's typed good rows (index = row position in the table; wholly blank rows skipped)
    and the error records of the others, located on the table's rows."""
    given = _given(raw)
    if given is None or given.empty:
        typed, _ = coerce_table(pd.DataFrame(columns=table.keys), table)
        return typed, empty_errors()
    typed, errors = coerce_table(given, table, lists=lists)
    good = good_rows(typed, errors)
    kept = given.index.to_numpy()[good.index.to_numpy()]
    good = good.set_axis(pd.Index(kept))
    return good, relocate(errors, given.index, table.key)


def _foreign(raw: pd.DataFrame | None, view: Table) -> pd.DataFrame | None:
    """Another capability's table as this one reads it: bad cells blank, not reported (its
    own action reports them)."""
    given = _given(raw)
    if given is None or given.empty:
        return None
    typed, _ = coerce_table(given.reset_index(drop=True), view)
    return typed


def read_settings(raw: pd.DataFrame | None) -> tuple[SupplySettings, pd.DataFrame]:
    """The Supply Settings table as :class:`SupplySettings` (defaults for blanks) and errors."""
    defaults = SupplySettings().model_dump()
    settings, _, errors = read_model(
        raw,
        SUPPLY_SETTINGS.key,
        SUPPLY_SETTING_KEYS,
        lambda tree: SupplySettings.model_validate(tree),
        defaults,
    )
    return settings, errors


def launch_months(raw: pd.DataFrame | None, plan_year: int) -> dict[str, int]:
    """Market -> first month it sells in the plan year (1-12; 13 = not this year), from the
    Calendar sheet's launches (a month number or a year and month)."""
    table = _foreign(raw, LAUNCH_VIEW)
    if table is None:
        return {}
    table = table[(table["market"] != "") & (table["launch_month"] != "")]
    parsed = parse.parse_months(table["launch_month"], year=plan_year)
    out: dict[str, int] = {}
    for market, year, month, bad in zip(
        table["market"], parsed.year, parsed.month, parsed.bad, strict=True
    ):
        if bad or month == 0:
            continue
        out[str(market)] = 1 if year < plan_year else (13 if year > plan_year else int(month))
    return out


def _record(
    mask: np.ndarray, table: str, rows: np.ndarray, column: str, message: Message
) -> pd.DataFrame:
    return errors_where(
        mask, table=table, column=column, zh=message.zh, en=message.en, positions=rows
    )


@dataclass(frozen=True)
class SupplyRead:
    """The plans' inputs, resolved, and what the reading found.

    ``routes`` / ``lines`` keep ``_row`` (their row in the source table) and ``_table`` (lines
    come from the SKU table, or the Landed Cost lines when it is empty).
    """

    case: SupplyCase
    settings: SupplySettings
    routes: pd.DataFrame
    lines: pd.DataFrame
    windows: pd.DataFrame
    launches: dict[str, int]
    as_of: date
    reporting: str
    has_results: bool
    uncosted: list[str]  # sales lines with no Landed Cost line: fees, duty, fulfilment count 0
    unplaced: float  # [reporting ccy] revenue no SKU carries
    unrouted: float  # [reporting ccy] revenue of SKUs without a route
    errors: pd.DataFrame


def _fx(port_fx: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The workbook's FX rows first, then the shipped ones for pairs it lacks."""
    rates, errors = fx_table(port_fx)
    shipped = reference.default_fx()[["from_currency", "to_currency", "rate"]]
    if rates is None:
        return shipped, errors
    own = rates[["from_currency", "to_currency", "rate"]]
    return pd.concat([own, shipped], ignore_index=True), errors


_INPUTS = (
    MONTHLY_PLAN,
    LAUNCHES,
    LANDED_COST,
    LANDED_COST_RESULTS,
    FX.key,
    SUPPLY_SKUS.key,
    SUPPLY_ROUTES.key,
    SUPPLIER_CLOSURES.key,
    SUPPLY_SETTINGS.key,
    TRANSIT_MODES.key,
    PAYOUTS.key,
)
_last_read: list[tuple[list[pd.DataFrame | None], tuple[object, ...], SupplyRead]] = []


def read_supply(port: WorkbookPort, ctx: Context) -> SupplyRead:
    """Everything the stock and cash plans read, through the port (see the module docstring).

    The stock and cash plans of one run read the same tables: when every table is the very
    frame the last call read (a port hands out the same frame until an action writes that
    table anew), with the same settings, the last reading is the answer. On a 100,000-line
    plan that is ~1.5 s of CPU the cash plan no longer spends again.
    """
    tables = {key: port.read_table(key) for key in _INPUTS}
    settings = ctx.settings
    as_of = settings.as_of_or(ctx.today)
    params = (
        settings.plan_year,
        as_of,
        settings.reporting_currency,
        settings.rules_on,
        ctx.dry_run,
    )
    frames = list(tables.values())
    for seen, seen_params, read in _last_read:
        same = len(seen) == len(frames) and all(a is b for a, b in zip(seen, frames, strict=True))
        if same and seen_params == params:
            return read
    read = supply_inputs(
        tables,
        plan_year=settings.plan_year,
        as_of=as_of,
        reporting=settings.reporting_currency,
        rules_on=settings.rules_on,
        dry_run=ctx.dry_run,
    )
    _last_read[:] = [(frames, params, read)]  # the frames are held, so no other takes their id
    return read


def supply_inputs(
    tables: dict[str, pd.DataFrame | None],
    *,
    plan_year: int,
    as_of: date,
    reporting: str,
    rules_on: date,
    dry_run: bool = False,
) -> SupplyRead:
    """The plans' inputs from raw tables by key (as a port or a UDF hands them over).

    In a dry run (Validate) the Landed Cost Results are left unread: they give the money per
    unit of the routes and lines, which reports nothing (the errors are the same without
    them), so the read is only good for its errors."""
    errs: list[pd.DataFrame] = []
    settings, e = read_settings(tables.get(SUPPLY_SETTINGS.key))
    errs.append(e)
    fx, e = _fx(tables.get(FX.key))
    errs.append(e)
    markets = reference.markets(rules_on)
    regions = markets["region"]
    market_ccy = markets["currency"]
    recoverable = markets["import_tax_recoverable"].astype(bool)
    lists = {
        "markets": set(reference.market_history()["market"]),
        "currencies": set(reference.currencies().index.astype(str)),
    }

    plan = _foreign(tables.get(MONTHLY_PLAN), PLAN_VIEW)
    if plan is None:
        plan, _ = coerce_table(pd.DataFrame(columns=PLAN_VIEW.keys), PLAN_VIEW)
    launches = launch_months(tables.get(LAUNCHES), plan_year)
    landed = _foreign(tables.get(LANDED_COST), LINES_VIEW)
    lines_typed = landed if landed is not None else pd.DataFrame(columns=list(LINE_KEYS))
    results = None if dry_run else _foreign(tables.get(LANDED_COST_RESULTS), RESULTS_VIEW)

    # SKU lines: the SKU table, else the Landed Cost lines
    skus, e = read_rows(tables.get(SUPPLY_SKUS.key), SUPPLY_SKUS, lists)
    errs.append(e)
    source = SUPPLY_SKUS.key
    given_skus = _given(tables.get(SUPPLY_SKUS.key))
    if given_skus is None or given_skus.empty:  # no SKU table: the Landed Cost lines are the SKUs
        source = LANDED_COST
        base = lines_typed[lines_typed["sku"].fillna("").astype(str).str.strip() != ""]
        skus = pd.DataFrame(
            {
                "sku": base["sku"],
                "category": "",
                "market": base["market"],
                "channel": base["channel"],
                "price": base["price"],
                "share": np.nan,
                "note": "",
            },
            index=base.index,
        )
    skus = skus.assign(_row=skus.index.to_numpy(), _table=source).reset_index(drop=True)
    from_line = match_rows(skus, lines_typed)
    line_price = (
        pd.to_numeric(lines_typed["price"], errors="coerce").to_numpy(dtype=float)
        if len(lines_typed)
        else np.zeros(0)
    )
    price = skus["price"].to_numpy(dtype=float)
    fallback = np.where(
        from_line >= 0, line_price[np.maximum(from_line, 0)] if len(line_price) else np.nan, np.nan
    )
    price = np.where(np.isnan(price), fallback, price)
    sku_ccy = skus["market"].map(market_ccy).fillna("").to_numpy(dtype=object)
    sku_rate = to_reporting(sku_ccy, reporting, fx)
    price_rc = price * sku_rate
    rows = skus["_row"].to_numpy(dtype=np.int64)
    no_price = np.isnan(price)
    no_fx = ~no_price & np.isnan(sku_rate)
    for table in (SUPPLY_SKUS.key, LANDED_COST):
        mine = (skus["_table"] == table).to_numpy()
        errs.append(
            _record(
                no_price & mine,
                table,
                rows,
                "price",
                Message(
                    "缺少售价（SKU 表与落地成本明细都没有）",
                    "no price (neither the SKU table nor a Landed Cost line gives one)",
                ),
            )
        )
        errs.append(
            _record(
                no_fx & mine,
                table,
                rows,
                "market",
                Message(
                    f"没有该市场币种到 {reporting} 的汇率（请在设置表的汇率表补上）",
                    f"no FX rate from this market's currency to {reporting} (add it to the FX "
                    "table on Settings)",
                ),
            )
        )

    demand = spread_units(plan, skus, price_rc, regions, launches)
    errs.append(demand.errors)

    # Routes
    routes, coerce_errors = read_rows(tables.get(SUPPLY_ROUTES.key), SUPPLY_ROUTES, lists)
    transit, e = read_rows(tables.get(TRANSIT_MODES.key), TRANSIT_MODES, lists)
    errs.append(e)
    if _given(tables.get(TRANSIT_MODES.key)) is None:
        transit = reference.transit_modes(rules_on)
    transit = transit.assign(mode=transit["mode"].astype(str).str.strip().str.lower())
    routes, resolve_errors = _resolve_routes(routes, settings, transit, regions)
    route_errors = concat_errors([coerce_errors, resolve_errors])
    errs.append(route_errors)
    refused = _route_keys(tables.get(SUPPLY_ROUTES.key), route_errors["row"].unique())

    # Lines to routes: (SKU, market) looked up among the routes, no loop per line
    line_key = _route_key(skus["sku"], skus["market"])
    route_at = pd.Index(_route_key(routes["sku"], routes["market"]))
    line_route = route_at.get_indexer(pd.Index(line_key)).astype(np.int64)
    units_by_line = demand.units
    asked = units_by_line.sum(axis=1)
    orphan = (line_route < 0) & (asked > 0)
    known_bad = line_key.isin(refused).to_numpy(dtype=bool)
    for table in (SUPPLY_SKUS.key, LANDED_COST):
        mine = (skus["_table"] == table).to_numpy()
        errs.append(
            _record(
                orphan & ~known_bad & mine,
                table,
                rows,
                "sku",
                Message(
                    "该 SKU × 市场没有补货路线，其销量未备货（请在“备货参数”的补货路线表补上）",
                    "no supply route for this SKU and market: its units are not stocked (add a "
                    "route on Supply)",
                ),
            )
        )
    unrouted = float(demand.revenue[line_route < 0].sum())
    n = len(routes)
    route_units = np.zeros((n, 12))
    route_revenue = np.zeros((n, 12))
    has = line_route >= 0
    np.add.at(route_units, line_route[has], units_by_line[has])
    np.add.at(route_revenue, line_route[has], demand.revenue[has])

    # Calendar
    closures, e = read_rows(tables.get(SUPPLIER_CLOSURES.key), SUPPLIER_CLOSURES)
    errs.append(e)
    backwards = closures["end"] < closures["start"]
    errs.append(
        _record(
            backwards.to_numpy(dtype=bool),
            SUPPLIER_CLOSURES.key,
            closures.index.to_numpy(),
            "end",
            Message("结束日早于开始日", "the end is before the start"),
        )
    )
    closures = closures[~backwards]
    windows = pd.concat(
        [
            cal_.cny_windows(chinese_new_year(range(plan_year - 2, plan_year + 2)), settings),
            cal_.closure_windows(closures),
        ],
        ignore_index=True,
    )
    origin = date(plan_year - 2, 1, 1)
    calendar = cal_.build_calendar(
        origin, (date(plan_year + 2, 1, 1) - origin).days, windows, list(routes["supplier"])
    )

    # Money
    has_results = results is not None and not results.empty
    money_ = route_money(
        routes,
        lines_typed,
        results if has_results else None,
        market_ccy,
        recoverable,
        reporting,
        fx,
    )
    errs.append(
        _record(
            money_.missing_fx,
            SUPPLY_ROUTES.key,
            routes["_row"].to_numpy(dtype=np.int64),
            "cost_currency",
            Message(
                f"没有采购币种或市场币种到 {reporting} 的汇率：货值按 0 计",
                f"no FX rate from the cost or market currency to {reporting}: goods count as 0",
            ),
        )
    )
    lines_money = line_money(skus, price_rc, results if has_results else None, sku_rate)
    uncosted: list[str] = []
    if has_results and results is not None:
        sold = demand.units.sum(axis=1) > 0
        missing = (match_rows(skus, results) < 0) & sold
        labels = skus["sku"].astype(str) + " " + skus["market"].astype(str)
        uncosted = list(dict.fromkeys(labels[missing]))
    payouts, e = read_rows(tables.get(PAYOUTS.key), PAYOUTS)
    errs.append(e)
    if _given(tables.get(PAYOUTS.key)) is None:
        payouts = reference.payout_cycles(rules_on)
    route_regions = routes["market"].map(regions).fillna("")
    days_by_mode: dict[str, np.ndarray] = {}
    index_by_mode: dict[str, np.ndarray] = {}
    for mode in TransitMode:
        d, i = transit_days(pd.Series([mode.value] * n, dtype=object), route_regions, transit)
        days_by_mode[mode.value] = np.where(np.isnan(d), routes["transit_days"].to_numpy(float), d)
        index_by_mode[mode.value] = i
    _, own_index = transit_days(routes["mode"], route_regions, transit)

    stock_inputs = StockInputs(
        routes[list(ROUTE_KEYS)],
        route_units,
        route_revenue,
        money_.unit_value,
        days_by_mode[TransitMode.AIR.value],
        plan_year,
        as_of,
        calendar,
    )
    cash_inputs = CashInputs(
        route_market=routes["market"].to_numpy(dtype=object),
        goods_cost=money_.goods_cost,
        freight=money_.freight,
        duties=money_.duties,
        vat_refund=money_.vat_refund,
        unit_value=money_.unit_value,
        deposit_rate=routes["deposit_rate"].to_numpy(dtype=float),
        balance_days=routes["balance_days"].to_numpy(dtype=float),
        line_route=line_route,
        line_market=skus["market"].to_numpy(dtype=object),
        line_units=units_by_line,
        receipts=lines_money.receipts,
        fulfilment=lines_money.fulfilment,
        ads=lines_money.ads,
        payout_days=payout_days(skus["channel"], payouts),
        opening_cash=settings.opening_cash,
        vat_recovery_days=float(settings.vat_recovery_days),
    )
    case = SupplyCase(
        stock_inputs,
        cash_inputs,
        TransitChoice(days_by_mode, index_by_mode, own_index),
        settings.alt_deposit_rate,
        float(settings.alt_balance_days),
    )
    return SupplyRead(
        case,
        settings,
        routes,
        skus,
        windows,
        launches,
        as_of,
        reporting,
        has_results,
        uncosted,
        float(demand.unplaced.sum()),
        unrouted,
        concat_errors(errs),
    )


def _route_key(sku: pd.Series, market: pd.Series) -> pd.Series:
    """``sku`` (case-blind) and market joined: how SKU lines find their route."""
    clean = sku.fillna("").astype(str).str.strip().str.casefold()
    return (clean + "\x1f" + market.fillna("").astype(str).str.strip().str.upper()).reset_index(
        drop=True
    )


def _route_keys(raw: pd.DataFrame | None, rows: np.ndarray) -> set[str]:
    """The route keys of the given rows of a raw routes table: routes refused for a bad cell,
    whose SKUs must not be reported a second time as having no route."""
    given = _given(raw)
    if given is None or not len(rows):
        return set()
    bad = given.loc[given.index.isin(rows)]
    return set(_route_key(bad["sku"], bad["market"]))


def _resolve_routes(
    routes: pd.DataFrame, settings: SupplySettings, transit: pd.DataFrame, regions: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Routes with every blank filled (settings, transit table), bad modes and duplicates
    reported and left out; ``_row`` keeps each route's row on the sheet."""
    out = routes.assign(_row=routes.index.to_numpy()).reset_index(drop=True)
    rows = out["_row"].to_numpy(dtype=np.int64)
    mode = out["mode"].fillna("").astype(str).str.strip().str.lower()
    valid = mode.isin([m.value for m in TransitMode]).to_numpy()
    choices = " / ".join(m.value for m in TransitMode)
    errs = [
        errors_where(
            ~valid,
            table=SUPPLY_ROUTES.key,
            column="mode",
            zh=lambda idx: [f"运输方式应为 {choices}，实为 '{mode.iloc[i]}'" for i in idx],
            en=lambda idx: [f"transit mode must be {choices}, not '{mode.iloc[i]}'" for i in idx],
            positions=rows,
        )
    ]
    key = out["sku"].astype(str).str.strip().str.casefold() + "\x1f" + out["market"].astype(str)
    duplicate = (key.duplicated() & valid).to_numpy()
    errs.append(
        _record(
            duplicate,
            SUPPLY_ROUTES.key,
            rows,
            "sku",
            Message(
                "同一 SKU × 市场的路线重复：只用第一条",
                "a second route for the same SKU and market: only the first is used",
            ),
        )
    )
    out = out.assign(mode=mode)[valid & ~duplicate].reset_index(drop=True)
    region = out["market"].map(regions).fillna("")
    table_days, _ = transit_days(out["mode"], region, transit)

    def fill(key: str, default: float) -> np.ndarray:
        return out[key].fillna(default).to_numpy(dtype=float)

    given_days = out["transit_days"].to_numpy(dtype=float)
    resolved = np.where(np.isnan(given_days), table_days, given_days)
    missing = np.isnan(resolved)
    errs.append(
        _record(
            missing,
            SUPPLY_ROUTES.key,
            out["_row"].to_numpy(dtype=np.int64),
            "transit_days",
            Message(
                "运输方式表里没有该方式到该区域的天数：请填写头程时效",
                "the transit table has no days for this mode and region: enter the door-to-door "
                "days",
            ),
        )
    )
    out = out.assign(
        production_days=fill("production_days", settings.production_days),
        transit_days=resolved,
        receiving_days=fill("receiving_days", settings.receiving_days),
        safety_days=fill("safety_days", settings.safety_days),
        moq=fill("moq", 0.0),
        order_multiple=fill("order_multiple", 1.0),
        opening_stock=fill("opening_stock", 0.0),
        in_transit=fill("in_transit", 0.0),
        deposit_rate=fill("deposit_rate", settings.deposit_rate),
        balance_days=fill("balance_days", settings.balance_days),
        warehouse=out["warehouse"].fillna("").astype(str),
        supplier=out["supplier"].fillna("").astype(str),
    )
    out = out[~missing].reset_index(drop=True)
    out["in_transit_date"] = pd.to_datetime(out["in_transit_date"]).astype("datetime64[s]")
    return out, concat_errors(errs)


# --------------------------------------------------------------------------------------------
# Tables out
# --------------------------------------------------------------------------------------------


def _whole(frame: pd.DataFrame, keys: tuple[str, ...] | list[str], places: int = 0) -> pd.DataFrame:
    """Round ``keys`` half up at the output boundary (money to the unit, days to 0.1)."""
    out = frame.copy()
    for key in keys:
        if key in out.columns:
            out[key] = money.round_half_up(out[key].to_numpy(dtype=float), places)
    return out


@dataclass(frozen=True)
class StockTables:
    """The Stock Plan sheet's tables, and the plan they came from."""

    plan: StockPlan
    months: pd.DataFrame
    orders: pd.DataFrame
    at_risk: pd.DataFrame
    summary: pd.DataFrame
    markets: pd.DataFrame
    positions: pd.DataFrame
    calendar: pd.DataFrame


def plan_tables(read: SupplyRead, plan: StockPlan | None = None) -> StockTables:
    """The stock plan of ``read`` as its output tables (rounded for display)."""
    case = read.case
    plan = plan if plan is not None else plan_stock(case.stock)
    cal = case.stock.calendar
    routes = case.stock.routes
    year = case.stock.plan_year
    months = _whole(
        stock_months(plan, case.cash.unit_value, year), ["stock_value", "revenue_at_risk"]
    )
    months = _whole(months, ["cover_days", "safety_days"])
    orders = _whole(purchase_orders(plan, routes, cal, case.cash.goods_cost, year), ["value"])
    risky = _whole(at_risk(plan, routes, cal, year), ["revenue_at_risk", "short_units"])
    summary = _whole(route_summary(plan, routes, cal), ["average_stock", "revenue_at_risk"])
    summary = _whole(summary, ["cover_days", "min_cover_days"])
    summary = _whole(summary, ["turnover"], 2)
    markets = market_summary(plan, routes, case.stock.revenue, case.cash.unit_value)
    markets = _whole(markets, ["revenue", "cogs", "average_stock_value", "revenue_at_risk"])
    markets = _whole(_whole(markets, ["turnover"], 2), ["cover_days"])
    positions = _whole(stock_positions(plan, routes), MONTHS)
    first = date(year - 1, 1, 1)
    shown = read.windows[
        (read.windows["end"] >= pd.Timestamp(first))
        & (read.windows["start"] <= pd.Timestamp(date(year, 12, 31)))
    ].sort_values(["start", "supplier"], kind="stable")
    return StockTables(
        plan, months, orders, risky, summary, markets, positions, shown.reset_index(drop=True)
    )


def write_stock(port: WorkbookPort, tables: StockTables) -> None:
    port.write_table(STOCK_MONTHS.key, tables.months)
    port.write_table(PURCHASE_ORDERS.key, tables.orders)
    port.write_table(STOCK_AT_RISK.key, tables.at_risk)
    port.write_table(STOCK_SUMMARY.key, tables.summary)
    port.write_table(STOCK_MARKETS.key, tables.markets)
    port.write_table(STOCK_POSITIONS.key, tables.positions)
    port.write_table(SUPPLIER_CALENDAR.key, tables.calendar)


def _stock_messages(read: SupplyRead, tables: StockTables) -> list[Message]:
    orders = tables.orders
    out = [
        Message(
            f"备货计划: {len(read.routes)} 条路线，{len(orders)} 张采购单，货值 "
            f"{orders['value'].sum():,.0f} {read.reporting}（基准日 {read.as_of}）",
            f"stock plan: {len(read.routes)} routes, {len(orders)} purchase orders, goods "
            f"{orders['value'].sum():,.0f} {read.reporting} (as of {read.as_of})",
        )
    ]
    shut = read.windows[read.windows["kind"] == ClosureKind.CNY_SHUTDOWN.value]
    cny = orders[orders["before_cny"]]
    if len(cny):
        begins = shut["start"].dt.date
        due = cny["order_date"].max().date()
        start = min((b for b in begins if b > due), default=due)
        out.append(
            Message(
                f"春节停工（{start} 起）前须下 {len(cny)} 张单，最晚 {due}",
                f"{len(cny)} orders must be placed before the Chinese New Year shutdown (from "
                f"{start}), the last by {due}",
            )
        )
    risky = tables.at_risk
    if len(risky):
        months = len(risky[["sku", "market", "month"]].drop_duplicates())
        air = int(risky["air_in_time"].sum())
        out.append(
            Message(
                f"来不及备货: {months} 个 SKU·月，风险收入 {risky['revenue_at_risk'].sum():,.0f}"
                f"（其中 {air} 个可改空运补救）",
                f"too late to stock: {months} SKU-months, revenue at risk "
                f"{risky['revenue_at_risk'].sum():,.0f} ({air} could still come by air)",
            )
        )
    for market, month in sorted(read.launches.items()):
        if not 1 <= month <= 12:
            continue
        mine = orders[orders["market"] == market]
        if mine.empty:
            continue
        first = mine["available_date"].min().date()
        launch = date(read.case.stock.plan_year, month, 1)
        ok = first <= launch
        out.append(
            Message(
                f"{market} {launch:%Y-%m} 上线：首批货 {first} 可售"
                + ("" if ok else "（晚于上线）"),
                f"{market} launches {launch:%Y-%m}: first stock available {first}"
                + ("" if ok else " (after the launch)"),
            )
        )
    if read.unplaced > 0.5 or read.unrouted > 0.5:
        out.append(
            Message(
                f"未备货的目标收入 {read.unplaced + read.unrouted:,.0f}（无 SKU 或无路线）",
                f"target revenue not stocked {read.unplaced + read.unrouted:,.0f} (no SKU or no "
                "route)",
            )
        )
    return out


def run_stock(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Plan the purchase orders and stock of every route; write the Stock Plan sheet."""
    read = read_supply(port, ctx)
    if ctx.dry_run:  # the plan's tables report nothing
        return ActionResult(read.errors)
    tables = plan_tables(read)
    write_stock(port, tables)
    return ActionResult(read.errors, _stock_messages(read, tables))


@dataclass(frozen=True)
class CashTables:
    plan: SupplyPlan
    summary: pd.DataFrame
    curve: pd.DataFrame
    cycle: pd.DataFrame
    levers: pd.DataFrame


def curve_table(cash: CashPlan) -> pd.DataFrame:
    """The cash curve of a plan, money rounded to the unit of the reporting currency."""
    return _whole(cash.curve, [k for k in CASH_CURVE.keys if k != "month"])


def cash_tables(read: SupplyRead) -> CashTables:
    """The cash plan of ``read`` and its levers as output tables (rounded for display)."""
    plan = run_case(read.case)
    levers = compare_levers(read.case, plan)
    summary = _whole(
        cash_summary(plan.cash),
        [k for k in CASH_SUMMARY.keys if k not in ("peak_month", "lowest_month", "ccc_days")],
    )
    summary = _whole(summary, ["ccc_days"])
    cycle = _whole(plan.cash.cycle, [k for k in CASH_CYCLE.keys if k != "market"])
    levers = _whole(
        levers, [k for k in CASH_LEVERS.keys if k not in ("lever", "peak_month", "ccc_days")]
    )
    levers = _whole(levers, ["ccc_days"])
    return CashTables(plan, summary, curve_table(plan.cash), cycle, levers)


def write_cash(port: WorkbookPort, tables: CashTables) -> None:
    port.write_table(CASH_SUMMARY.key, tables.summary)
    port.write_table(CASH_CURVE.key, tables.curve)
    port.write_table(CASH_CYCLE.key, tables.cycle)
    port.write_table(CASH_LEVERS.key, tables.levers)


LEVER_WORDS: dict[str, Message] = {
    "plan": Message("按计划", "as planned"),
    "terms": Message("付款条件", "payment terms"),
    "sea": Message("全部海运", "all by sea"),
    "air": Message("全部空运", "all by air"),
}


def _cash_messages(
    read: SupplyRead, tables: CashTables, stored: pd.DataFrame | None
) -> list[Message]:
    row = tables.summary.iloc[0]
    rc = read.reporting
    out = [
        Message(
            f"资金计划: 资金占用峰值 {row['funding_need']:,.0f} {rc}（{row['peak_month']} 月末），"
            f"现金最低 {row['lowest_cash']:,.0f}（{row['lowest_month']}），年末资金 "
            f"{row['closing_cash']:,.0f}，现金周期 {row['ccc_days']:.0f} 天",
            f"cash plan: peak funding need {row['funding_need']:,.0f} {rc} (end of "
            f"{row['peak_month']}), lowest cash {row['lowest_cash']:,.0f} ({row['lowest_month']}), "
            f"cash at year end {row['closing_cash']:,.0f}, cash conversion cycle "
            f"{row['ccc_days']:.0f} days",
        )
    ]
    change = dict(zip(tables.levers["lever"], tables.levers["change"], strict=True))
    parts = [(LEVER_WORDS[k], float(change[k])) for k in ("terms", "sea", "air") if k in change]
    out.append(
        Message(
            "杠杆（对资金占用峰值）: " + "，".join(f"{w.zh} {c:+,.0f}" for w, c in parts),
            "levers (change in the peak funding need): "
            + ", ".join(f"{w.en} {c:+,.0f}" for w, c in parts),
        )
    )
    if not read.has_results:
        out.append(
            Message(
                "没有落地成本结果：关税、平台费、履约与广告按 0 计（请先运行“落地成本”）",
                "no Landed Cost Results: duty, marketplace fees, fulfilment and ads count as 0 "
                "(run Landed cost first)",
            )
        )
    if read.uncosted:
        names = ", ".join(read.uncosted[:6]) + ("..." if len(read.uncosted) > 6 else "")
        out.append(
            Message(
                f"{len(read.uncosted)} 个 SKU 没有落地成本明细，其平台费、关税、履约与广告按 0 计："
                f"{names}",
                f"{len(read.uncosted)} SKUs have no Landed Cost line, so their marketplace fees, "
                f"duty, fulfilment and ads count as 0: {names}",
            )
        )
    if stored is not None and not stored.empty and "quantity" in stored.columns:
        before = float(pd.to_numeric(stored["quantity"], errors="coerce").fillna(0).sum())
        now = float(tables.plan.stock.ordered.sum())
        if abs(before - now) > 0.5:
            out.append(
                Message(
                    "“备货计划”表与当前输入不一致：请重新运行“备货计划”",
                    "the Stock Plan sheet is older than the inputs: run Stock plan again",
                )
            )
    return out


def run_cash(port: WorkbookPort, ctx: Context) -> ActionResult:
    """The cash plan of the stock plan, with its two levers; write the Cash Plan sheet."""
    read = read_supply(port, ctx)
    if ctx.dry_run:  # the plan's tables report nothing
        return ActionResult(read.errors)
    tables = cash_tables(read)
    write_cash(port, tables)
    stored = port.read_table(PURCHASE_ORDERS.key)
    return ActionResult(read.errors, _cash_messages(read, tables, stored))


ACTIONS = (
    Action(
        "stock",
        Message("备货计划", "Stock plan"),
        run_stock,
        produces=tuple(
            t.key
            for t in (
                STOCK_MONTHS,
                PURCHASE_ORDERS,
                STOCK_AT_RISK,
                STOCK_SUMMARY,
                STOCK_MARKETS,
                STOCK_POSITIONS,
                SUPPLIER_CALENDAR,
            )
        ),
        needs=(MONTHLY_PLAN,),
        reads=(LANDED_COST_RESULTS,),
        help=Message(
            "按月度拆解、SKU 组合与补货路线（含春节停工）排出采购单，写入“备货计划”。",
            "Turns the Monthly Plan into purchase orders by SKU and route (Chinese New Year "
            "included); writes Stock Plan.",
        ),
    ),
    Action(
        "cash",
        Message("资金计划", "Cash plan"),
        run_cash,
        produces=(CASH_SUMMARY.key, CASH_CURVE.key, CASH_CYCLE.key, CASH_LEVERS.key),
        needs=(PURCHASE_ORDERS.key, LANDED_COST_RESULTS),
        help=Message(
            "按采购单、落地成本与平台回款周期排出月度资金曲线与两个杠杆，写入“资金计划”。",
            "Turns the purchase orders, landed costs and payout cycles into the monthly cash "
            "curve and two levers; writes Cash Plan.",
        ),
    ),
)
