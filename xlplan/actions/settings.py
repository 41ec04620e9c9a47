"""Settings every action shares: the Settings key/value table, the rules date, plan year and the
rules (FX, market and low-value overrides) in force for the plan."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from xlplan.actions.registry import Context, WorkbookPort
from xlplan.core.errors import concat_errors
from xlplan.reference import Rules, load_rules
from xlplan.workbook import schema


def read_settings(port: WorkbookPort) -> dict[str, object]:
    """The Settings key/value table as a dict (blank values left out)."""
    raw = port.read_table("settings")
    if raw is None or raw.empty:
        return {}
    out: dict[str, object] = {}
    for key, value in zip(raw["setting"], raw["value"], strict=False):
        if key is None or value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        if str(value).strip() == "":
            continue
        out[str(key).strip()] = value
    return out


def plan_year(port: WorkbookPort, ctx: Context) -> int:
    """Settings ``plan_year``, else the year after today (plans are made for next year)."""
    value = pd.to_numeric(pd.Series([read_settings(port).get("plan_year")]), errors="coerce")
    year = value.iloc[0]
    if pd.notna(year) and 2000 <= year <= 2100:
        return int(year)
    return ctx.today.year + 1


def setting_number(settings: dict[str, object], key: str, default: float | None) -> float | None:
    value = pd.to_numeric(pd.Series([settings.get(key)]), errors="coerce").iloc[0]
    return default if pd.isna(value) else float(value)


def market_regions(port: WorkbookPort, ctx: Context) -> pd.Series:
    from xlplan.reference import markets

    return markets(read_rules_date(port, ctx))["region"]


def read_rules_date(port: WorkbookPort, ctx: Context) -> date:
    """The date whose rules apply: Settings ``rules_date``, else 1 Jan of ``plan_year``, else
    today."""
    raw = port.read_table("settings")
    if raw is None or raw.empty:
        return ctx.today
    values = dict(zip(raw["setting"].astype(str).str.strip(), raw["value"], strict=False))
    when = values.get("rules_date")
    if isinstance(when, datetime):
        return when.date()
    if isinstance(when, date):
        return when
    if when not in (None, ""):
        parsed = pd.to_datetime(str(when), errors="coerce")
        if not pd.isna(parsed):
            return parsed.date()
    year = pd.to_numeric(pd.Series([values.get("plan_year")]), errors="coerce").iloc[0]
    if pd.notna(year) and 2000 <= year <= 2100:
        return date(int(year), 1, 1)
    return ctx.today


def rules_from_tables(
    on: date,
    fx: pd.DataFrame | None,
    market_overrides: pd.DataFrame | None,
    low_value_overrides: pd.DataFrame | None,
) -> tuple[Rules, pd.DataFrame]:
    """Rules in force on ``on`` with the workbook's settings tables applied, and their errors.

    Bad rows of a settings table are reported and left out; the good ones still apply.
    """
    errs = []
    fx_typed = over_typed = lv_typed = None
    if fx is not None:
        fx_typed, e = schema.coerce_table(fx, schema.FX)
        errs.append(e)
        fx_typed = fx_typed.drop(index=e["row"].unique().tolist())
    if market_overrides is not None:
        over_typed, e = schema.coerce_table(market_overrides, schema.MARKET_OVERRIDES)
        errs.append(e)
        over_typed = over_typed.drop(index=e["row"].unique().tolist())
        over_typed = over_typed[over_typed["market"] != ""]
        over_typed = over_typed.replace({"": None})
        for col in (
            "price_includes_tax",
            "tax_base_includes_duty",
            "tax_base_includes_transport",
            "tax_gross_up",
            "import_tax_recoverable",
        ):
            over_typed[col] = over_typed[col].map(lambda v: None if pd.isna(v) else bool(v))
    if low_value_overrides is not None:
        lv_typed, e = schema.coerce_table(low_value_overrides, schema.LOW_VALUE_OVERRIDES)
        errs.append(e)
        lv_typed = lv_typed.drop(index=e["row"].unique().tolist())
        lv_typed = lv_typed[lv_typed["market"] != ""].copy()
        for col in ("effective_from", "effective_to"):
            lv_typed[col] = lv_typed[col].dt.strftime("%Y-%m-%d").fillna("")
    rules = load_rules(on, market_overrides=over_typed, regimes=lv_typed, fx=fx_typed)
    return rules, concat_errors(errs)


def read_rules(port: WorkbookPort, ctx: Context) -> tuple[Rules, pd.DataFrame]:
    return rules_from_tables(
        read_rules_date(port, ctx),
        port.read_table("fx"),
        port.read_table("market_overrides"),
        port.read_table("low_value_overrides"),
    )
