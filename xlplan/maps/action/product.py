"""The product map's action: lifecycle stage, quadrant, ROI and a proposed target per
product line, from monthly sales and economics."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from xlplan.core import money, parse
from xlplan.core.errors import (
    Message,
    concat_errors,
    empty_errors,
    errors_where,
)
from xlplan.maps import tables as schema_maps
from xlplan.maps.action.common import (
    proposal_rows,
    read_settings_model,
    record_at,
    replace_proposals,
    rows_of,
    skip,
    whole_units,
)
from xlplan.maps.calc.product import (
    MIX_LABELS,
    QUADRANT_LABELS,
    STAGE_LABELS,
    Mix,
    ProductSettings,
    Quadrant,
    Stage,
    mix_what_if,
    product_map,
)
from xlplan.plan.action import ActionResult, Context, WorkbookPort
from xlplan.workbook.coerce import coerce_table


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
                record_at(
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
                record_at(
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
        problem = record_at(
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
            c: whole_units(result[c])
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
            for c in (
                "growth",
                "volume_share",
                "gross_margin",
                "roi",
                "uplift",
                "target_volume_share",
            )
        },
        inventory_turnover=money.round_half_up(result["inventory_turnover"].astype(float), 2),
    )
    return out, domain_errors


def product_mix_table(lines: pd.DataFrame) -> pd.DataFrame:
    """The Mix what-if table from the Product Lines table (:func:`product_lines_table`): the
    weighted margin now and under the target mix, amounts in whole units, margins to 4
    decimals."""
    mix = mix_what_if(
        lines["units_12m"].to_numpy(dtype=float),
        lines["revenue_12m"].to_numpy(dtype=float),
        lines["gross_margin"].to_numpy(dtype=float),
        lines["target_volume_share"].to_numpy(dtype=float),
    )
    return pd.DataFrame(
        {
            "mix_label": [MIX_LABELS[Mix(m)].both for m in mix["mix"]],
            "weighted_margin": money.round_half_up(mix["weighted_margin"].astype(float), 4),
            "revenue_12m": whole_units(mix["revenue_12m"]),
            "gross_profit": whole_units(mix["gross_profit"]),
        }
    )


def run_products(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Lifecycle stage, quadrant, ROI and a proposed target per product line."""
    read = read_product_sales(port)
    if read is None:
        return skip(
            Message("月度销售表（tblProductSales）", "Monthly sales table (tblProductSales)")
        )
    sales, sales_errors = read
    raw_econ = port.read_table("product_economics")
    if raw_econ is None:
        raw_econ = pd.DataFrame(columns=schema_maps.PRODUCT_ECONOMICS.keys)
    economics, econ_errors = coerce_table(raw_econ, schema_maps.PRODUCT_ECONOMICS)
    economics = economics[economics["line"] != ""]
    settings, values, setting_errors = read_settings_model(
        port, "product_settings", ProductSettings
    )
    currency = ctx.settings.reporting_currency
    if sales.empty:
        port.write_table("product_lines", pd.DataFrame(columns=schema_maps.PRODUCT_LINES.keys))
        port.write_table("product_mix", pd.DataFrame(columns=schema_maps.PRODUCT_MIX.keys))
        replace_proposals(port, "product", proposal_rows("product", {}, 0))
        errors = concat_errors([sales_errors, econ_errors, setting_errors])
        return ActionResult(errors, [Message("产品地图: 没有销售数据", "product map: no sales")])
    as_of, as_of_errors = product_as_of(
        values.get("as_of_month"), sales, rows_of(port, "product_settings")
    )
    setting_errors = concat_errors([setting_errors, as_of_errors])
    out, domain_errors = product_lines_table(sales, economics, as_of, settings)
    port.write_table("product_lines", out[schema_maps.PRODUCT_LINES.keys])
    mix = product_mix_table(out)
    port.write_table("product_mix", mix[schema_maps.PRODUCT_MIX.keys])

    chosen = out[out["proposed_target"] > 0]
    notes = [
        f"{STAGE_LABELS[Stage(s)].zh}、{QUADRANT_LABELS[Quadrant(q)].zh}，增幅 {u:+.0%} / "
        f"{STAGE_LABELS[Stage(s)].en}, {QUADRANT_LABELS[Quadrant(q)].en.lower()}, uplift {u:+.0%}"
        for s, q, u in zip(chosen["stage"], chosen["quadrant"], chosen["uplift"], strict=True)
    ]
    proposals = proposal_rows(
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
        ),
        Message(
            f"组合毛利率: 当前 {mix['weighted_margin'].iloc[0]:.1%}，"
            f"目标组合 {mix['weighted_margin'].iloc[1]:.1%}",
            f"portfolio margin: {mix['weighted_margin'].iloc[0]:.1%} now, "
            f"{mix['weighted_margin'].iloc[1]:.1%} under the target mix",
        ),
    ]
    errors = concat_errors([sales_errors, econ_errors, setting_errors, domain_errors])
    return ActionResult(errors, summary)
