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
    BASIS_LABELS,
    TIER_LABELS,
    Basis,
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
    """The domain's tier summary as the Customer Tiers table: labels, observed amounts in whole
    units of the reporting currency, shares to 4 decimals.

    The factors of the target (months, orders per customer, order value, retention, upsell, new
    customers, first-year value) and the targets are written as the domain computed them, so
    the cells multiply out to the targets shown.
    """
    whole = ("revenue", "annual_revenue")
    shares = ("revenue_share", "repeat_rate")
    out = tiers.assign(
        tier_label=[tier_label(t) for t in tiers["tier"]],
        retention_basis=[BASIS_LABELS[Basis(b)].both for b in tiers["retention_basis"]],
        **{c: whole_units(tiers[c]) for c in whole},
        **{c: money.round_half_up(tiers[c].astype(float), 4) for c in shares},
    )
    return out[schema_maps.CUSTOMER_TIERS.keys]


def import_log(log: pd.DataFrame, lines: pd.DataFrame, no_customer: np.ndarray) -> pd.DataFrame:
    """Per listed file: order lines, orders, customers, dates and amount [reporting ccy] of the
    converted ``lines`` (0 for a file read without sales; blank for a file not read), and a
    warning for its lines that name no customer (``no_customer``, per line of ``lines``)."""
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
    warning = [""] * len(out)
    if len(lines) and no_customer.any():
        anonymous = lines.loc[no_customer, ["import_row", "line"]]
        per = anonymous.groupby("import_row")["line"].agg(["size", "min"])
        for i in np.flatnonzero(np.isin(rows, per.index)):
            n, first = per.loc[rows[i]]
            warning[i] = no_customer_warning(int(n), int(first)).both
    out["warning"] = pd.Series(warning, index=out.index, dtype=object)
    return out


def no_customer_warning(n: int, first_line: int) -> Message:
    """A file's order lines without a customer id: how many, and where the first one is."""
    return Message(
        f"{n:,} 行订单没有客户标识（首见第 {first_line} 行）: "
        "未计入客户数与分层，金额计入本文件金额",
        f"{n:,} order lines have no customer id (first on line {first_line}): in no customer "
        "count or tier; their amount is in this file's Amount",
    )


def customer_proposals(tiers: pd.DataFrame) -> pd.DataFrame:
    """Two proposals per tier with a target: existing customers (annualised revenue x retention
    x (1 + upsell)) and new customers (new customers x first-year value), each when above 0,
    with the figures of the Customer Tiers table (the same rounded amounts)."""
    rows = []
    for rec in tiers.to_dict("records"):
        ret, upsell = float(rec["retention"]), float(rec["upsell"])
        annual, n_new = float(rec["annual_revenue"]), int(rec["new_customers"])
        value = float(rec["first_year_value"])
        parts = (
            (
                "existing",
                float(rec["existing_target"]),
                f"年化收入 {annual:,.0f} × 留存 {ret:.1%} × (1 + 增购 {upsell:.1%}) / "
                f"annualised {annual:,.0f} x {ret:.1%} retained x (1 + {upsell:.1%} upsell)",
            ),
            (
                "new",
                float(rec["new_target"]),
                f"新客 {n_new:,} × 首年价值 {value:,.2f} / {n_new:,} new x {value:,.2f} "
                "first-year value",
            ),
        )
        rows += [
            {"customer_tier": rec["tier"], "customer_type": kind, "amount": amount, "note": note}
            for kind, amount, note in parts
            if amount > 0
        ]
    frame = pd.DataFrame(rows, columns=["customer_tier", "customer_type", "amount", "note"])
    return proposal_rows("customer", {str(c): frame[c].tolist() for c in frame.columns}, len(frame))


def totals_table(
    result: CustomerMap, tiers: pd.DataFrame, currency: str, plan_year: int
) -> pd.DataFrame:
    """The Totals row: what was imported, what it covers and how old it is, the warnings, and
    the proposed target (the sum of the tiers' shown)."""
    cov = result.coverage

    def day(value: pd.Timestamp | None) -> pd.Timestamp | None:
        return None if value is None else value.normalize()

    return pd.DataFrame(
        {
            "as_of": [cov.as_of.normalize()],
            "currency": [currency],
            "customers": [len(result.customers)],
            "orders": [cov.orders],
            "revenue": whole_units([cov.revenue]),
            "revenue_no_customer": whole_units([cov.no_customer_revenue]),
            "proposed_target": [float(tiers["proposed_target"].sum())],
            "order_lines": [len(result.lines)],
            "first_order": [day(cov.first_order)],
            "last_order": [day(cov.last_order)],
            "data_months": [cov.data_months],
            "plan_year": [plan_year],
            "months_to_plan": [cov.months_to_plan],
            "months_covered": [cov.months_covered],
            "warnings": ["; ".join(w.both for w in result.warnings)],
        }
    )


def tier_customers_in(
    lines: pd.DataFrame,
    given_as_of: object,
    settings: TierSettings,
    assumptions: pd.DataFrame | None,
    fx: pd.DataFrame,
    currency: str,
    *,
    plan_start: pd.Timestamp | None = None,
    unit: float = 1.0,
) -> tuple[CustomerMap, pd.Timestamp]:
    """The customer map of order lines (the :mod:`xlplan.orders` contract) in ``currency``.

    The B2B spend bands of ``settings`` are in US$ and converted with the FX table ``fx``;
    the window ends at the end of ``given_as_of`` (a date, blank = the last order
    date); ``plan_start`` dates the data against the plan year; targets are rounded to
    ``unit``. Returns the domain result and the ``as_of`` used.
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
        plan_start=plan_start,
        unit=unit,
    )
    return result, as_of


def run_customers(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Import the listed order files, build customers and tiers, propose a target per tier.

    The window ends at Customer Map ``as_of``, else at the end of the last order date imported.
    Targets are rounded to the Settings rounding unit. Lines without a customer id, data older
    than a year before the plan year and data covering under 12 months are warnings: summary
    lines (and the sheet's Warnings columns), not errors.
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
    no_customer = np.zeros(len(lines), dtype=bool)
    result = None
    if len(lines):
        result, _ = tier_customers_in(
            lines,
            values.get("as_of"),
            settings,
            assumptions,
            fx,
            currency,
            plan_start=pd.Timestamp(ctx.settings.plan_year, 1, 1),
            unit=ctx.settings.rounding_unit,
        )
        converted = result.lines
        no_customer = result.no_customer
        line_errors = _line_errors_on_imports(
            result.errors[result.errors["table"] == "orders"], lines
        )
        tiers = tier_table(result.tiers)
        totals = totals_table(result, tiers, currency, ctx.settings.plan_year)
    log = import_log(log, converted, no_customer)
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

    if result is None:
        summary = [
            Message(
                f"客户地图: 没有导入订单（列出的文件 {len(log)} 个）",
                f"customer map: no order lines imported ({len(log)} files listed)",
            )
        ]
        return ActionResult(errors, summary)
    t = totals.iloc[0]
    summary = [
        Message(
            f"客户地图: 导入 {read}/{len(log)} 个文件，{t['order_lines']:,} 行订单，"
            f"{t['customers']:,} 位客户，建议目标 {t['proposed_target']:,.0f} {currency}"
            f"（窗口收入 {t['revenue']:,.0f} {currency}）",
            f"customer map: {read} of {len(log)} files imported, {t['order_lines']:,} order "
            f"lines, {t['customers']:,} customers, proposed {t['proposed_target']:,.0f} "
            f"{currency} (window revenue {t['revenue']:,.0f} {currency})",
        ),
        Message("客户地图: ", "customer map: ") + result.coverage.describe(),
        *(WARNING + w for w in result.warnings),
    ]
    return ActionResult(errors, summary)


WARNING = Message("注意: ", "warning: ")
"""How a warning starts: the action goes on, and the CLI exits 0 when nothing else is wrong."""
