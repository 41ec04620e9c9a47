"""The customer map's action: import the order files listed on the Customer Map, tier the
customers, propose a target per tier.

Order files are read from absolute paths or paths relative to the current directory (the
directory ``xlplan`` runs in); a file that cannot be read becomes an error record on its row of
the import table, and the other files still import. The customer map converts every order line
straight into the reporting currency; its B2B spend bands are entered in US$.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xlplan import orders
from xlplan.core import money
from xlplan.core.errors import (
    InputError,
    Message,
    concat_errors,
    empty_errors,
    errors_where,
    row_messages,
)
from xlplan.maps import tables as schema_maps
from xlplan.maps.action.common import (
    fx_or_shipped,
    proposal_rows,
    read_settings_model,
    record_at,
    replace_proposals,
    skip,
    usd_rate,
    whole_units,
)
from xlplan.maps.calc.customer import (
    ASSUMPTION_COLUMNS,
    TIER_LABELS,
    CustomerMap,
    Tier,
    TierSettings,
    customer_map,
)
from xlplan.plan.action import ActionResult, Context, WorkbookPort
from xlplan.plan.read import read_fx
from xlplan.workbook.coerce import coerce_table


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
            errs.append(record_at("order_imports", int(i), column, exc.zh, exc.en))
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
            record_at(
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
        **{c: whole_units(tiers[c]) for c in (*whole, "proposed_target")},
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
    out["revenue"] = whole_units(out["revenue"])
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
                float(whole_units([float(rec["retained_revenue"]) * (1.0 + upsell)])[0]),
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
    return proposal_rows("customer", {str(c): frame[c].tolist() for c in frame.columns}, len(frame))


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
        return skip(
            Message("订单文件导入表（tblOrderImports）", "Order files table (tblOrderImports)")
        )
    imports, input_errors = coerce_table(raw, schema_maps.ORDER_IMPORTS)
    settings, values, setting_errors = read_settings_model(port, "customer_settings", TierSettings)
    assumptions, assumption_errors = read_tier_assumptions(port)
    currency = ctx.settings.reporting_currency
    fx_read, _ = read_fx(port)
    fx = fx_or_shipped(fx_read)
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
                "revenue": whole_units([float(result.tiers["revenue"].sum())]),
                "proposed_target": whole_units([float(result.tiers["proposed_target"].sum())]),
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
