"""The three maps' actions: ``business``, ``customers``, ``products``.

Each reads its input sheet, calls the domain (:mod:`xlplan.maps`), writes its result sheet and
replaces its own rows of the Map Proposals table (shaped like the Alignment sheet's
``tblTargetLines``), leaving the other maps' rows as they are.

Amounts on the result sheets and in the proposals are in the reporting currency (Settings
``reporting_currency``, default CNY), converted from US$ (business map) with the workbook's FX
table. The customer map converts every order line straight into the reporting currency; its
B2B spend bands are entered in US$ and converted the same way.

Order files on the Customer Map are read from absolute paths or paths relative to the current
directory (the directory ``xlplan`` runs in); a file that cannot be read becomes an error record
on its row of the import table, and the other files still import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from xlplan import orders, reference
from xlplan.core import money, parse
from xlplan.core.errors import (
    InputError,
    Message,
    concat_errors,
    empty_errors,
    errors_where,
    row_messages,
)
from xlplan.maps import tables as schema_maps
from xlplan.maps.calc.business import (
    BusinessSettings,
    screen_markets,
    with_macro_defaults,
)
from xlplan.maps.calc.customer import (
    ASSUMPTION_COLUMNS,
    TIER_LABELS,
    CustomerMap,
    Tier,
    TierSettings,
    customer_map,
)
from xlplan.maps.calc.product import (
    QUADRANT_LABELS,
    STAGE_LABELS,
    ProductSettings,
    Quadrant,
    Stage,
    product_map,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.dimensions import TARGET_LINE_KEYS, PlanMap
from xlplan.plan.read import read_fx
from xlplan.workbook.coerce import coerce_table, relocate
from xlplan.workbook.keyvalue import KeySpec, read_model, record

Model = TypeVar("Model", bound=BaseModel)
LANDED_COST_RESULTS = "landed_cost_results"
"""The landed-cost capability's results (read by key): the margins the screening uses."""

PASS_TEXT, FAIL_TEXT = "通过 pass", "未通过 fail"
DEFAULT_INCREMENTAL_POOL = 300_000_000.0  # 3 亿: the Latin America share of DOMAIN.md section 1

MODELS: dict[str, type[BaseModel]] = {
    "business_settings": BusinessSettings,
    "customer_settings": TierSettings,
    "product_settings": ProductSettings,
}
"""The domain settings model each key/value table fills."""


# --------------------------------------------------------------------------------------------
# Key/value settings tables
# --------------------------------------------------------------------------------------------


def model_from_table(
    raw: pd.DataFrame | None, table_key: str, model: type[Model]
) -> tuple[Model, dict[str, object], pd.DataFrame]:
    """The domain settings model from a raw key/value settings table (None: the defaults), the
    typed values given, and error records."""
    specs = schema_maps.SETTING_KEYS[table_key]
    return read_model(
        raw, table_key, specs, lambda tree: model.model_validate(tree), _defaults(model)
    )


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    tree: dict[str, Any] = model().model_dump(mode="json")
    return tree


def _read_model(
    port: WorkbookPort, table_key: str, model: type[Model]
) -> tuple[Model, dict[str, object], pd.DataFrame]:
    return model_from_table(port.read_table(table_key), table_key, model)


def setting_rows(raw: pd.DataFrame | None) -> dict[str, int]:
    """Row position of each key of a raw key/value settings table."""
    if raw is None:
        return {}
    return {str(k).strip(): i for i, k in enumerate(raw["setting"]) if k is not None}


def _rows_of(port: WorkbookPort, table_key: str) -> dict[str, int]:
    return setting_rows(port.read_table(table_key))


def default_setting_values(table_key: str) -> dict[str, object]:
    """The value every key of a settings table starts with in a new plan."""
    specs: dict[str, KeySpec] = schema_maps.SETTING_KEYS[table_key]
    tree = _defaults(MODELS[table_key])
    out: dict[str, object] = {}
    for key, spec in specs.items():
        node: Any = tree if spec.path else None
        for part in spec.path:
            node = node[part]
        out[key] = node
    if table_key == "business_settings":
        out["incremental_pool"] = DEFAULT_INCREMENTAL_POOL
    return out


def _record(table: str, row: int, column: str, zh: str, en: str) -> pd.DataFrame:
    return record(table, row, column, Message(zh, en))


# --------------------------------------------------------------------------------------------
# Shared: currency, proposals, rounding
# --------------------------------------------------------------------------------------------


def _fx_or_shipped(fx: pd.DataFrame | None) -> pd.DataFrame:
    """The workbook's FX table, or the shipped rates when the workbook has none."""
    return reference.default_fx() if fx is None else fx


def usd_rate(fx: pd.DataFrame, currency: str) -> float:
    """Units of ``currency`` per US$ from the workbook's FX table; a clear error when unknown."""
    rate = float(reference.fx_rates(fx, pd.Series(["USD"]), pd.Series([currency])).iloc[0])
    if not np.isfinite(rate) or rate <= 0:
        raise InputError(
            f"汇率表中没有 USD 兑 {currency} 的汇率（设置表 tblFX）",
            f"no rate from USD to {currency} in the FX table (Settings, tblFX)",
        )
    return rate


def _whole(values: pd.Series | np.ndarray | list[float]) -> np.ndarray:
    return money.round_half_up(np.asarray(values, dtype=float), 0)


def replace_proposals(port: WorkbookPort, map_key: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Map Proposals with ``map_key``'s rows replaced by ``rows``; other maps' rows kept.

    Rows are ordered by map (business, customer, product), each map's in the order given.
    """
    table = schema_maps.MAP_PROPOSALS
    raw = port.read_table(table.key)
    if raw is None or raw.empty:
        current = pd.DataFrame(columns=table.keys)
    else:
        current, _ = coerce_table(raw, table)
        maps = current["map"].astype(str).str.strip().str.lower()
        keep = (maps != map_key) & ((maps != "") | current["amount"].notna())
        current = current[keep.to_numpy()]
    new = rows.reindex(columns=table.keys)
    parts = [p for p in (current, new) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=table.keys)
    order = {m.value: i for i, m in enumerate(PlanMap)}
    rank = out["map"].astype(str).str.strip().str.lower().map(order).fillna(len(order))
    out = out.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    port.write_table(table.key, out)
    return out


def _proposal_rows(map_key: str, frame: Mapping[str, object], n: int) -> pd.DataFrame:
    data: dict[str, object] = {k: [""] * n for k in TARGET_LINE_KEYS}
    data.update({"map": [map_key] * n, "owner": [schema_maps.MAP_OWNERS[map_key]] * n})
    data["priority"] = [None] * n
    data["adjustment"] = [None] * n
    data.update(frame)
    return pd.DataFrame(data, columns=list(TARGET_LINE_KEYS))


def _skip(what: Message) -> ActionResult:
    return ActionResult(
        summary=[Message(f"跳过: 工作簿中没有{what.zh}", f"skipped: the workbook has no {what.en}")]
    )


# --------------------------------------------------------------------------------------------
# Business map
# --------------------------------------------------------------------------------------------


def landed_cost_margins(port: WorkbookPort) -> pd.DataFrame:
    """Median contribution margin [fraction] and line count per market from the Landed Cost
    Results (a run that includes the business map computes them first when they are empty)."""
    results = port.read_table(LANDED_COST_RESULTS)
    if results is None or results.empty or results["market"].isna().all():
        return pd.DataFrame({"margin": [], "lines": []})
    return median_margins(results)


def median_margins(results: pd.DataFrame) -> pd.DataFrame:
    """Median contribution margin [fraction] and line count per market (the index) of the
    clean lines of a Landed Cost Results table (``market``, ``contribution_margin``,
    ``error``)."""
    margin = pd.to_numeric(results["contribution_margin"], errors="coerce")
    market = results["market"].astype("string").fillna("").str.strip().str.upper()
    error = results["error"].astype("string").fillna("").str.strip() if "error" in results else ""
    ok = margin.notna() & (market != "") & (error == "")
    grouped = margin[ok].groupby(market[ok])
    return pd.DataFrame({"margin": grouped.median(), "lines": grouped.size()})


def incremental_pool(
    values: Mapping[str, object], rows: Mapping[str, int]
) -> tuple[float, pd.DataFrame]:
    """Business settings ``incremental_pool`` [reporting ccy/year]; the default (and an error
    record on its row) when it is negative."""
    pool = values.get("incremental_pool", DEFAULT_INCREMENTAL_POOL)
    if not isinstance(pool, float) or pool < 0:
        problem = _record(
            "business_settings",
            rows.get("incremental_pool", 0),
            "value",
            f"增量目标池不能为负: {pool}，使用默认值",
            f"the incremental pool cannot be negative: {pool}; the default is used",
        )
        return DEFAULT_INCREMENTAL_POOL, problem
    return pool, empty_errors()


def screening_table(
    table: pd.DataFrame,
    settings: BusinessSettings,
    pool: float,
    rate: float,
    margins: pd.DataFrame,
) -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """The Market Screening table from the typed candidate markets, sorted by rank.

    ``pool`` is in the reporting currency, ``rate`` units of it per US$; ``margins`` (index
    market, ``margin``, ``lines``) fills blank margins (:func:`landed_cost_margins`). Returns
    the table (the :data:`BUSINESS_SCREENING` columns and the domain's, amounts in the
    reporting currency, and ``row``: the market's row in ``table``), the part of the pool the
    markets cannot absorb [reporting ccy] and error records on ``business_markets`` rows.
    """
    markets = table[table["market"] != ""].copy()
    from_lc = markets["margin"].isna() & markets["market"].isin(margins.index)
    markets.loc[from_lc, "margin"] = markets.loc[from_lc, "market"].map(margins["margin"])
    lc_lines = markets["market"].map(margins["lines"]).fillna(0).astype(int)
    source = np.where(
        from_lc,
        [f"落地成本 landed cost ({n})" for n in lc_lines],
        np.where(markets["margin"].notna(), "输入 entered", "缺失 missing"),
    )
    markets = with_macro_defaults(markets, reference.market_macro())
    screened, screen_errors = screen_markets(
        markets.reset_index(drop=True), incremental_pool_usd=pool / rate, settings=settings
    )
    screen_errors = relocate(screen_errors, markets.index, "business_markets")

    out = screened.assign(
        row=np.asarray(markets.index, dtype=np.int64),
        channel=markets["channel"].to_numpy(),
        margin_source=source,
        passes=np.where(screened["passes"], PASS_TEXT, FAIL_TEXT),
        score=money.round_half_up(screened["score"], 1),
        margin=money.round_half_up(screened["margin"].astype(float), 4),
        ecommerce_penetration=money.round_half_up(
            screened["ecommerce_penetration"].astype(float), 4
        ),
        target_share=money.round_half_up(screened["target_share"], 4),
        capacity=_whole(screened["capacity_usd"] * rate),
        proposed_target=_whole(screened["proposed_target_usd"] * rate),
    )
    out = out.sort_values(["rank", "market"], kind="stable").reset_index(drop=True)
    unallocated = float(screened.attrs.get("unallocated_usd", 0.0)) * rate
    return out, unallocated, screen_errors


def run_business(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Screen, score and rank the candidate markets; propose an incremental target per market."""
    raw = port.read_table("business_markets")
    if raw is None:
        return _skip(
            Message(
                "候选市场表（tblBusinessMarkets）", "Candidate markets table (tblBusinessMarkets)"
            )
        )
    table, input_errors = coerce_table(raw, schema_maps.BUSINESS_MARKETS)
    settings, values, setting_errors = _read_model(port, "business_settings", BusinessSettings)
    pool, pool_errors = incremental_pool(values, _rows_of(port, "business_settings"))
    setting_errors = concat_errors([setting_errors, pool_errors])
    currency = ctx.settings.reporting_currency
    fx, _ = read_fx(port)
    rate = usd_rate(_fx_or_shipped(fx), currency)
    out, unallocated, screen_errors = screening_table(
        table, settings, pool, rate, landed_cost_margins(port)
    )
    port.write_table("business_screening", out[schema_maps.BUSINESS_SCREENING.keys])

    passes = out["passes"] == PASS_TEXT
    chosen = out[passes & (out["proposed_target"] > 0)]
    capped = chosen["proposed_target"] >= chosen["capacity"]
    notes = [
        f"得分 {s:.1f}，排名 {r}{'，已达可争取上限' if c else ''} / score {s:.1f}, rank {r}"
        f"{', capped at capacity' if c else ''}"
        for s, r, c in zip(chosen["score"], chosen["rank"], capped, strict=True)
    ]
    proposals = _proposal_rows(
        "business",
        {
            "market": chosen["market"].tolist(),
            "channel": chosen["channel"].tolist(),
            "amount": chosen["proposed_target"].tolist(),
            "note": notes,
        },
        len(chosen),
    )
    replace_proposals(port, "business", proposals)
    total = float(chosen["proposed_target"].sum())
    passing = ", ".join(chosen["market"]) or "-"
    summary = [
        Message(
            f"业务地图: {int(passes.sum())}/{len(out)} 个市场通过（{passing}），"
            f"建议增量目标 {total:,.0f} {currency}，未分配 {unallocated:,.0f}",
            f"business map: {int(passes.sum())} of {len(out)} markets pass ({passing}), "
            f"proposed {total:,.0f} {currency}, unallocated {unallocated:,.0f}",
        )
    ]
    errors = concat_errors([input_errors, setting_errors, screen_errors])
    return ActionResult(errors, summary)


# --------------------------------------------------------------------------------------------
# Customer map
# --------------------------------------------------------------------------------------------


def import_orders(imports: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read every file listed in the typed import table.

    Returns the order lines of all files (column ``import_row`` = the import table row), one log
    row per listed file (``row``, ``path``, ``format``, ``error``) and error records on the
    import table (``path`` for unreadable files, ``format``, ``mapping``).
    """
    frames = []
    log = []
    errs = []
    for i, rec in enumerate(imports.to_dict("records")):
        path = str(rec["path"]).strip()
        if not path:
            continue
        fmt = str(rec["format"]).strip().lower()
        mapping = str(rec["mapping"]).strip()
        file = Path(path).expanduser()
        column = "path"
        try:
            if fmt not in orders.FORMATS:
                column = "format"
            elif orders.FORMATS[fmt].needs_mapping and not mapping:
                raise orders.MappingError(
                    "通用 CSV 需要列映射", "a generic CSV needs a column mapping"
                )
            elif not file.is_file():
                raise InputError(
                    f"找不到文件: {path}（相对路径从当前目录 {Path.cwd()} 算起）",
                    f"file not found: {path} (relative paths start from {Path.cwd()})",
                )
            lines = orders.read_orders(file, fmt, mapping=mapping, currency=str(rec["currency"]))
        except InputError as exc:
            if isinstance(exc, orders.MappingError):
                column = "mapping"
            errs.append(_record("order_imports", int(i), column, exc.zh, exc.en))
            log.append({"row": int(i) + 1, "path": path, "format": fmt, "error": exc.en})
            continue
        frames.append(lines.assign(import_row=int(i)))
        log.append({"row": int(i) + 1, "path": path, "format": fmt, "error": ""})
    lines = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return lines, pd.DataFrame(log, columns=["row", "path", "format", "error"]), concat_errors(errs)


def _line_errors_on_imports(errors: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Order-line error records summarised per import row: count, first file line, message."""
    if errors.empty:
        return errors
    pos = errors["row"].to_numpy(dtype=np.int64)
    frame = errors.assign(
        import_row=lines["import_row"].to_numpy()[pos], file_line=lines["line"].to_numpy()[pos]
    )
    out = []
    for _, grp in frame.groupby(["import_row", "column"], sort=True):
        first = grp.iloc[0]
        column = str(first["column"])
        n = len(grp)
        out.append(
            _record(
                "order_imports",
                int(first["import_row"]),
                "path",
                f"{n} 行订单（首见第 {first['file_line']} 行，列 {column}）: {first['zh']}",
                f"{n} order lines (first on line {first['file_line']}, {column}): {first['en']}",
            )
        )
    return concat_errors(out)


def read_tier_assumptions(port: WorkbookPort) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Per-tier overrides (``tier`` and :data:`ASSUMPTION_COLUMNS`), unknown tiers reported."""
    return tier_assumptions(port.read_table("tier_assumptions"))


def tier_assumptions(raw: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """:func:`read_tier_assumptions` of a raw table already read (None: no overrides)."""
    if raw is None or raw.empty:
        return None, empty_errors()
    table, errors = coerce_table(raw, schema_maps.TIER_ASSUMPTIONS)
    tier = table["tier"].astype(str).str.strip().str.lower()
    known = tier.isin([t.value for t in Tier])
    errors = concat_errors(
        [
            errors,
            errors_where(
                (~known & (tier != "")).to_numpy(),
                table="tier_assumptions",
                column="tier",
                zh="未知的层级: '" + tier + "'",
                en="unknown tier: '" + tier + "'",
            ),
        ]
    )
    given = table[known].assign(tier=tier[known])
    return given[["tier", *ASSUMPTION_COLUMNS]].reset_index(drop=True), errors


def tier_label(tier: str) -> str:
    """``高价值复购客户 / High-value repeat`` (the spend bands are on the Customer Map sheet)."""
    label = TIER_LABELS[Tier(tier)]
    return f"{label.zh.split(' (')[0]} / {label.en.split(' (')[0]}"


def tier_table(tiers: pd.DataFrame) -> pd.DataFrame:
    """The domain's tier summary as the Customer Tiers table: labels, amounts in whole units of
    the reporting currency, rates to 4 decimals."""
    whole = ("revenue", "aov", "first_year_value", "retained_revenue", "new_revenue")
    rates = ("revenue_share", "repeat_rate", "churn_rate", "retention", "upsell")
    out = tiers.assign(
        tier_label=[tier_label(t) for t in tiers["tier"]],
        **{c: _whole(tiers[c]) for c in (*whole, "proposed_target")},
        **{c: money.round_half_up(tiers[c].astype(float), 4) for c in rates},
    )
    return out[schema_maps.CUSTOMER_TIERS.keys]


def import_log(log: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Per listed file: order lines, orders, customers, dates and amount [reporting ccy] of the
    converted ``lines`` (0 for a file read without sales; blank for a file not read)."""
    stats = {
        "order_lines": ("order_id", "size"),
        "orders": ("order_id", "nunique"),
        "customers": ("customer_id", "nunique"),
        "revenue": ("amount_base", "sum"),
        "first_date": ("order_date", "min"),
        "last_date": ("order_date", "max"),
    }
    out = log.copy()
    rows = out["row"].to_numpy(dtype=np.int64) - 1
    if len(lines):
        per_file = lines.groupby("import_row").agg(**stats)
    else:
        per_file = pd.DataFrame(columns=list(stats))
    read = (out["error"] == "").to_numpy()
    for col in stats:
        out[col] = per_file[col].reindex(rows).to_numpy() if len(rows) else np.array([])
        if col not in ("first_date", "last_date"):
            out[col] = out[col].astype(float).where(~read | out[col].notna(), 0.0)
    out["revenue"] = _whole(out["revenue"])
    return out


def customer_proposals(tiers: pd.DataFrame) -> pd.DataFrame:
    """Two proposals per tier with a target: existing customers (retained revenue x (1 +
    upsell)) and new customers (new customers x first-year value), each when above 0."""
    rows = []
    for rec in tiers.to_dict("records"):
        upsell = float(rec["upsell"])
        n_new = float(rec["new_customers"])
        parts = (
            (
                "existing",
                float(_whole([float(rec["retained_revenue"]) * (1.0 + upsell)])[0]),
                f"留存收入 × (1 + 增购 {upsell:.0%}) / retained x (1 + {upsell:.0%} upsell)",
            ),
            (
                "new",
                float(rec["new_revenue"]),
                f"新客 {n_new:,.0f} × 首年价值 / {n_new:,.0f} new x first-year value",
            ),
        )
        rows += [
            {"customer_tier": rec["tier"], "customer_type": kind, "amount": amount, "note": note}
            for kind, amount, note in parts
            if amount > 0
        ]
    frame = pd.DataFrame(rows, columns=["customer_tier", "customer_type", "amount", "note"])
    return _proposal_rows(
        "customer", {str(c): frame[c].tolist() for c in frame.columns}, len(frame)
    )


def tier_customers_in(
    lines: pd.DataFrame,
    given_as_of: object,
    settings: TierSettings,
    assumptions: pd.DataFrame | None,
    fx: pd.DataFrame,
    currency: str,
) -> tuple[CustomerMap, pd.Timestamp]:
    """The customer map of order lines (the :mod:`xlplan.orders` contract) in ``currency``.

    The B2B spend bands of ``settings`` are in US$ and converted with the FX table ``fx``;
    the window ends at the end of ``given_as_of`` (a date, blank = the last order
    date). Returns the domain result and the ``as_of`` used.
    """
    rate = usd_rate(fx, currency)  # the spend bands are entered in US$
    settings = settings.model_copy(
        update={"b2b_large": settings.b2b_large * rate, "b2b_mid": settings.b2b_mid * rate}
    )
    day = pd.Timestamp(str(given_as_of)) if given_as_of else lines["order_date"].max()
    as_of = day.normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)  # day's end
    result = customer_map(
        lines,
        as_of=as_of,
        fx=fx,
        base_currency=currency,
        settings=settings,
        assumptions=assumptions,
    )
    return result, as_of


def run_customers(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Import the listed order files, build customers and tiers, propose a target per tier.

    The window ends at Customer Map ``as_of``, else at the end of the last order date imported.
    """
    raw = port.read_table("order_imports")
    if raw is None:
        return _skip(
            Message("订单文件导入表（tblOrderImports）", "Order files table (tblOrderImports)")
        )
    imports, input_errors = coerce_table(raw, schema_maps.ORDER_IMPORTS)
    settings, values, setting_errors = _read_model(port, "customer_settings", TierSettings)
    assumptions, assumption_errors = read_tier_assumptions(port)
    currency = ctx.settings.reporting_currency
    fx_read, _ = read_fx(port)
    fx = _fx_or_shipped(fx_read)
    usd_rate(fx, currency)  # the spend bands are in US$: stop before importing without a rate
    lines, log, import_errors = import_orders(imports)

    totals = pd.DataFrame(columns=schema_maps.CUSTOMER_TOTALS.keys)
    tiers = pd.DataFrame(columns=schema_maps.CUSTOMER_TIERS.keys)
    line_errors = empty_errors()
    converted = lines
    if len(lines):
        result, as_of = tier_customers_in(
            lines, values.get("as_of"), settings, assumptions, fx, currency
        )
        converted = result.lines
        line_errors = _line_errors_on_imports(
            result.errors[result.errors["table"] == "orders"], lines
        )
        tiers = tier_table(result.tiers)
        totals = pd.DataFrame(
            {
                "as_of": [as_of.normalize()],
                "currency": [currency],
                "customers": [len(result.customers)],
                "orders": [int(converted["order_id"].nunique())],
                "revenue": _whole([float(result.tiers["revenue"].sum())]),
                "proposed_target": _whole([float(result.tiers["proposed_target"].sum())]),
                "order_lines": [len(converted)],
            }
        )
    log = import_log(log, converted)
    read = int((log["error"] == "").sum())
    errors = concat_errors(
        [input_errors, setting_errors, assumption_errors, import_errors, line_errors]
    )
    on_imports = errors[errors["table"] == "order_imports"].assign(column="")
    messages = row_messages(on_imports, len(imports)).to_numpy()
    log["error"] = messages[log["row"].to_numpy(dtype=np.int64) - 1] if len(log) else []
    port.write_table("customer_totals", totals)
    port.write_table("order_import_log", log[schema_maps.ORDER_IMPORT_LOG.keys])
    port.write_table("customer_tiers", tiers)
    replace_proposals(port, "customer", customer_proposals(tiers))

    if len(totals):
        t = totals.iloc[0]
        summary = [
            Message(
                f"客户地图: 导入 {read}/{len(log)} 个文件，{t['order_lines']:,} 行订单，"
                f"{t['customers']:,} 位客户，建议目标 {t['proposed_target']:,.0f} {currency}",
                f"customer map: {read} of {len(log)} files imported, {t['order_lines']:,} order "
                f"lines, {t['customers']:,} customers, proposed {t['proposed_target']:,.0f} "
                f"{currency}",
            )
        ]
    else:
        summary = [
            Message(
                f"客户地图: 没有导入订单（列出的文件 {len(log)} 个）",
                f"customer map: no order lines imported ({len(log)} files listed)",
            )
        ]
    return ActionResult(errors, summary)


# --------------------------------------------------------------------------------------------
# Product map
# --------------------------------------------------------------------------------------------


def read_product_sales(port: WorkbookPort) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Typed monthly sales (``month`` as ``YYYY-MM``) with the sheet's row positions as index,
    and error records; None when the workbook has no sales table."""
    raw = port.read_table("product_sales")
    if raw is None:
        return None
    return product_sales(raw)


def product_sales(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_product_sales` of a raw table already read."""
    table, errors = coerce_table(raw, schema_maps.PRODUCT_SALES)
    text = table["month"].astype(str).str.strip()
    months, not_month = parse.month_texts(table["month"])
    bad = pd.Series(not_month, index=table.index)
    errors = concat_errors(
        [
            errors,
            errors_where(
                bad.to_numpy(),
                table="product_sales",
                column="month",
                zh="不是月份: '" + text.str.slice(0, 40) + "'",
                en="not a month: '" + text.str.slice(0, 40) + "'",
            ),
        ]
    )
    ok = ~bad & (text != "") & (table["line"] != "")
    out = table[ok].assign(month=months[ok.to_numpy()])
    out["units"] = out["units"].fillna(0.0)
    out["revenue"] = out["revenue"].fillna(0.0)
    return out, errors


def _month_text(value: object) -> str | None:
    """``YYYY-MM`` from a month or any date in it (Excel turns a typed 2026-12 into a date)."""
    month = parse.parse_month(value)
    return None if month is None else f"{month[0]:04d}-{month[1]:02d}"


def _economics_errors(
    errors: pd.DataFrame, lines: pd.Series, economics: pd.DataFrame, sales: pd.DataFrame
) -> pd.DataFrame:
    """Domain errors (row = position among the result's lines) onto the sheet: the line's row
    of the economics table, or its first sales row when the line has no economics row."""
    if errors.empty:
        return errors
    econ_row = {line: i for i, line in zip(economics.index, economics["line"], strict=True)}
    sales_row = sales.reset_index().groupby("line")["index"].min()
    out = []
    missing_done: set[str] = set()
    for rec in errors.to_dict("records"):
        line = str(lines.iloc[int(rec["row"])])
        if line in econ_row:
            out.append(
                _record(
                    "product_economics",
                    econ_row[line],
                    str(rec["column"]),
                    str(rec["zh"]),
                    str(rec["en"]),
                )
            )
        elif line not in missing_done:
            missing_done.add(line)
            out.append(
                _record(
                    "product_sales",
                    int(sales_row[line]),
                    "line",
                    f"产品线 '{line}' 在经济性表中没有对应行",
                    f"product line '{line}' has no row in Economics per line",
                )
            )
    return concat_errors(out)


def product_as_of(
    given: object, sales: pd.DataFrame, rows: Mapping[str, int]
) -> tuple[str, pd.DataFrame]:
    """Product settings ``as_of_month`` as ``YYYY-MM``; blank (or unreadable, with an error
    record on its row) = the last month of ``sales``."""
    as_of = _month_text(given) if given else str(sales["month"].max())
    if as_of is None:
        problem = _record(
            "product_settings",
            rows.get("as_of_month", 0),
            "value",
            f"as_of_month 应为月份（如 2026-12）: '{given}'",
            f"as_of_month must be a month (e.g. 2026-12): '{given}'",
        )
        return str(sales["month"].max()), problem
    return as_of, empty_errors()


def product_lines_table(
    sales: pd.DataFrame, economics: pd.DataFrame, as_of: str, settings: ProductSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Product Lines table from typed sales (:func:`product_sales`, not empty) and typed
    economics (blank lines dropped, the sheet's row positions as index), and error records on
    the economics or sales rows. Amounts in whole units, rates to 4 decimals; the domain's
    columns (``stage``, ``quadrant``...) are kept."""
    result, domain_errors = product_map(
        sales[["line", "month", "units", "revenue"]],
        economics.reset_index(drop=True),
        as_of_month=as_of,
        settings=settings,
    )
    domain_errors = _economics_errors(domain_errors, result["line"], economics, sales)
    out = result.assign(
        stage_label=[STAGE_LABELS[Stage(s)].both for s in result["stage"]],
        quadrant_label=[QUADRANT_LABELS[Quadrant(q)].both for q in result["quadrant"]],
        **{
            c: _whole(result[c])
            for c in (
                "units_12m",
                "revenue_12m",
                "gross_profit",
                "promotion_cost",
                "inventory_investment",
                "annual_revenue",
                "proposed_target",
            )
        },
        **{
            c: money.round_half_up(result[c].astype(float), 4)
            for c in ("growth", "volume_share", "gross_margin", "roi", "uplift")
        },
        inventory_turnover=money.round_half_up(result["inventory_turnover"].astype(float), 2),
    )
    return out, domain_errors


def run_products(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Lifecycle stage, quadrant, ROI and a proposed target per product line."""
    read = read_product_sales(port)
    if read is None:
        return _skip(
            Message("月度销售表（tblProductSales）", "Monthly sales table (tblProductSales)")
        )
    sales, sales_errors = read
    raw_econ = port.read_table("product_economics")
    if raw_econ is None:
        raw_econ = pd.DataFrame(columns=schema_maps.PRODUCT_ECONOMICS.keys)
    economics, econ_errors = coerce_table(raw_econ, schema_maps.PRODUCT_ECONOMICS)
    economics = economics[economics["line"] != ""]
    settings, values, setting_errors = _read_model(port, "product_settings", ProductSettings)
    currency = ctx.settings.reporting_currency
    if sales.empty:
        port.write_table("product_lines", pd.DataFrame(columns=schema_maps.PRODUCT_LINES.keys))
        replace_proposals(port, "product", _proposal_rows("product", {}, 0))
        errors = concat_errors([sales_errors, econ_errors, setting_errors])
        return ActionResult(errors, [Message("产品地图: 没有销售数据", "product map: no sales")])
    as_of, as_of_errors = product_as_of(
        values.get("as_of_month"), sales, _rows_of(port, "product_settings")
    )
    setting_errors = concat_errors([setting_errors, as_of_errors])
    out, domain_errors = product_lines_table(sales, economics, as_of, settings)
    port.write_table("product_lines", out[schema_maps.PRODUCT_LINES.keys])

    chosen = out[out["proposed_target"] > 0]
    notes = [
        f"{STAGE_LABELS[Stage(s)].zh}、{QUADRANT_LABELS[Quadrant(q)].zh}，增幅 {u:+.0%} / "
        f"{STAGE_LABELS[Stage(s)].en}, {QUADRANT_LABELS[Quadrant(q)].en.lower()}, uplift {u:+.0%}"
        for s, q, u in zip(chosen["stage"], chosen["quadrant"], chosen["uplift"], strict=True)
    ]
    proposals = _proposal_rows(
        "product",
        {
            "category": chosen["line"].tolist(),
            "amount": chosen["proposed_target"].tolist(),
            "note": notes,
        },
        len(chosen),
    )
    replace_proposals(port, "product", proposals)
    total = float(chosen["proposed_target"].sum())
    counts = ", ".join(
        f"{QUADRANT_LABELS[Quadrant(q)].en.lower()} {n}"
        for q, n in out["quadrant"].value_counts().sort_index().items()
    )
    summary = [
        Message(
            f"产品地图: {len(out)} 条产品线（截至 {as_of}），建议目标 {total:,.0f} {currency}",
            f"product map: {len(out)} lines (as of {as_of}; {counts}), proposed {total:,.0f} "
            f"{currency}",
        )
    ]
    errors = concat_errors([sales_errors, econ_errors, setting_errors, domain_errors])
    return ActionResult(errors, summary)


ACTIONS = (
    Action(
        "business",
        Message("业务地图", "Business map"),
        run_business,
        produces=("business_screening", "map_proposals"),
        needs=(LANDED_COST_RESULTS,),
        help=Message(
            "读取“业务地图”的候选市场与阈值、落地成本结果的毛利，写入“业务地图结果”与地图提案。",
            "Reads the Business Map candidates and thresholds and the landed-cost margins; writes "
            "Business Map Result and the map proposals.",
        ),
    ),
    Action(
        "customers",
        Message("客户地图", "Customer map"),
        run_customers,
        produces=("customer_totals", "order_import_log", "customer_tiers", "map_proposals"),
        help=Message(
            "导入“客户地图”列出的订单文件，分层并写入“客户地图结果”与地图提案。",
            "Imports the order files listed on the Customer Map, tiers the customers; writes "
            "Customer Map Result and the map proposals.",
        ),
    ),
    Action(
        "products",
        Message("产品地图", "Product map"),
        run_products,
        produces=("product_lines", "map_proposals"),
        help=Message(
            "读取“产品地图”的月度销售与经济性，写入“产品地图结果”与地图提案。",
            "Reads the Product Map sales and economics; writes Product Map Result and the map "
            "proposals.",
        ),
    ),
)
