"""The landed-cost action: read the lines and the rule overrides, compute every line, write the
Landed Cost Results table. :func:`compute_lines` and :func:`results_table` are the one path the
action, Validate and the UDFs share."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from xlplan.core import money, parse
from xlplan.core.errors import InputError, Message, concat_errors, errors_where
from xlplan.landed_cost import customs
from xlplan.landed_cost.calc import (
    LABEL_KEYS,
    MONEY_OUTPUTS,
    PRICE_OUTPUTS,
    LandedCostResult,
    TransportMode,
    compute_landed_cost,
)
from xlplan.landed_cost.tables import (
    ENTRY_FEE_OVERRIDES,
    LANDED_COST,
    LANDED_COST_RESULTS,
    LOW_VALUE_OVERRIDES,
    MARKET_OVERRIDES,
    ROUNDING_OVERRIDES,
    TARIFF,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.read import fx_table
from xlplan.plan.tables import FX
from xlplan.reference import Rules, load_rules
from xlplan.workbook.coerce import coerce_table, good_rows
from xlplan.workbook.schema import Table

MARKET_BOOLS = (
    "price_includes_tax",
    "tax_base_includes_duty",
    "tax_base_includes_transport",
    "tax_gross_up",
    "import_tax_recoverable",
)

CUSTOMS_TEXT = ("origin", "ship_from", "hs_code", "transport_mode", "parcel", "shipment")
"""Text columns read on their distinct values (:func:`_customs_cells`): a million lines carry
few origins, codes and modes, and parcel ids are compared, not shown."""

# sku and channel pass through untouched (no rule reads them): 1M labels are not coerced.
_COERCED = LANDED_COST.view(
    [k for k in LANDED_COST.keys if k not in ("sku", "channel", *CUSTOMS_TEXT)]
)

MODES = frozenset(m.value for m in TransportMode)


def compute_lines(raw: pd.DataFrame, rules: Rules) -> LandedCostResult:
    """Every line of a raw lines table (cells by column key, as read from a sheet, a CSV or a
    UDF argument) computed with ``rules``: cells are read and checked against
    :data:`~xlplan.landed_cost.tables.LANDED_COST`, bad rows get their errors, the rest compute.
    Missing optional columns count as blank."""
    frame = raw.reset_index(drop=True)
    lists = {
        "markets": set(rules.markets.index.astype(str)),
        "currencies": set(rules.currencies.index.astype(str)),
    }
    typed, errors = coerce_table(frame, _COERCED, lists=lists, table_key=LANDED_COST.key)
    coded, customs_errors = _customs_cells(frame, rules.countries)
    typed = typed.assign(**coded)
    result = compute_landed_cost(typed, rules, concat_errors([errors, customs_errors]))
    result.outputs.index = raw.index
    return result


def _distinct_cells(frame: pd.DataFrame, key: str) -> tuple[np.ndarray, np.ndarray]:
    """A column's cells as codes into its distinct cells (-1 where blank: missing column, None,
    NaN)."""
    if key not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64), np.array([], dtype=object)
    codes, uniques = pd.factorize(frame[key].to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _categorical(codes: np.ndarray, values: np.ndarray) -> pd.Categorical:
    """Lines as a categorical of ``values[codes]`` (``""`` where the code is -1): distinct
    values may repeat after reading (`` cn`` and ``CN``), so they are factorised again."""
    again, categories = pd.factorize(np.append(values.astype(object), ""))
    line_codes = np.where(codes >= 0, again[np.maximum(codes, 0)], again[-1])
    return pd.Categorical.from_codes(line_codes, categories=pd.Index(categories, dtype=object))


def _customs_cells(
    frame: pd.DataFrame, countries: frozenset[str]
) -> tuple[dict[str, pd.Categorical], pd.DataFrame]:
    """The customs text columns read with the one cell parser on their distinct cells and
    checked: origin and ship-from country codes, HS codes (digits), transport modes (lower
    case), parcel and shipment ids. A bad cell is an error record and reads as blank."""
    out: dict[str, pd.Categorical] = {}
    errors: list[pd.DataFrame] = []
    listed = ", ".join(m.value for m in TransportMode)

    def report(
        bad: np.ndarray, codes: np.ndarray, cells: np.ndarray, column: str, zh: str, en: str
    ) -> None:
        if not bad.any():
            return
        line_bad = np.where(codes >= 0, bad[np.maximum(codes, 0)], False)
        errors.append(
            errors_where(
                line_bad,
                table=LANDED_COST.key,
                column=column,
                zh=lambda idx: [zh.format(cells[codes[i]]) for i in idx],
                en=lambda idx: [en.format(cells[codes[i]]) for i in idx],
            )
        )

    for key in ("origin", "ship_from"):
        codes, cells = _distinct_cells(frame, key)
        values = parse.parse_codes(cells)
        bad = (values != "") & ~np.isin(values, list(countries))
        column = LANDED_COST.column(key)
        report(
            bad,
            codes,
            cells,
            key,
            f"未知的{column.zh}: '{{}}'（应为 ISO 国家代码，如 CN）",
            f"unknown {column.en.lower()}: '{{}}' (an ISO country code, e.g. CN)",
        )
        out[key] = _categorical(codes, np.where(bad, "", values))
    codes, cells = _distinct_cells(frame, "hs_code")
    hs, bad = customs.normalise_hs(parse.parse_texts(cells))
    report(
        bad,
        codes,
        cells,
        "hs_code",
        "HS 编码应为 2-10 位数字（可含点）: '{}'",
        "HS code must be 2 to 10 digits (dots allowed): '{}'",
    )
    out["hs_code"] = _categorical(codes, hs)
    codes, cells = _distinct_cells(frame, "transport_mode")
    modes = np.array([m.lower() for m in parse.parse_texts(cells)], dtype=object)
    bad = (modes != "") & ~np.isin(modes, list(MODES))
    report(
        bad,
        codes,
        cells,
        "transport_mode",
        f"未知的运输方式: '{{}}'（可选 {listed}）",
        f"unknown transport mode: '{{}}' (one of {listed})",
    )
    out["transport_mode"] = _categorical(codes, np.where(bad, "", modes))
    for key in ("parcel", "shipment"):
        codes, cells = _distinct_cells(frame, key)
        out[key] = _categorical(codes, parse.parse_texts(cells))
    return out, concat_errors(errors)


def results_table(raw: pd.DataFrame, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Landed Cost Results table (money rounded to each currency's minor unit, margins to
    0.01 %) and the error records."""
    result = compute_lines(raw, rules)
    values = money.round_money(
        result.outputs,
        [*MONEY_OUTPUTS, *PRICE_OUTPUTS],
        result.outputs["currency"],
        rules.currencies,
    )
    values["contribution_margin"] = money.round_half_up(values["contribution_margin"], 4)
    labels = pd.DataFrame(
        {k: raw[k].to_numpy() if k in raw.columns else None for k in LABEL_KEYS},
        index=values.index,
    )
    return pd.concat([labels, values], axis=1)[LANDED_COST_RESULTS.keys], result.errors


def _dated_rows(
    raw: pd.DataFrame, table: Table, errs: list[pd.DataFrame], key: str = "market"
) -> pd.DataFrame:
    """A settings table's good rows with a ``key`` cell, dates as ISO text."""
    typed, e = coerce_table(raw, table)
    errs.append(e)
    rows = good_rows(typed, e)
    rows = rows[rows[key] != ""].copy()
    for col in ("effective_from", "effective_to"):
        rows[col] = rows[col].dt.strftime("%Y-%m-%d").fillna("")
    return rows


def _tariff_rows(raw: pd.DataFrame, errs: list[pd.DataFrame]) -> pd.DataFrame:
    rows = _dated_rows(raw, TARIFF, errs)
    cells = rows["hs_prefix"].to_numpy(dtype=object)
    prefixes, bad = customs.normalise_hs(cells)
    both = ~np.isnan(rows["duty_rate"].to_numpy(dtype=float)) & ~np.isnan(
        rows["extra_duty_rate"].to_numpy(dtype=float)
    )
    positions = rows.index.to_numpy()
    errs.append(
        errors_where(
            bad,
            table=TARIFF.key,
            column="hs_prefix",
            zh=lambda idx: [f"HS 前缀应为 2-10 位数字（可含点）: '{cells[i]}'" for i in idx],
            en=lambda idx: [
                f"HS prefix must be 2 to 10 digits (dots allowed): '{cells[i]}'" for i in idx
            ],
            positions=positions,
        )
    )
    errs.append(
        errors_where(
            both,
            table=TARIFF.key,
            column="extra_duty_rate",
            zh="一行只填关税税率或附加税率之一",
            en="give either a duty rate or an extra duty rate on a row, not both",
            positions=positions,
        )
    )
    rows = rows.assign(hs_prefix=prefixes)
    kept: pd.DataFrame = rows.loc[~bad & ~both]
    return kept


def rules_from_tables(
    on: date,
    fx: pd.DataFrame | None,
    market_overrides: pd.DataFrame | None,
    low_value_overrides: pd.DataFrame | None,
    tariff: pd.DataFrame | None = None,
    entry_fees: pd.DataFrame | None = None,
    rounding: pd.DataFrame | None = None,
) -> tuple[Rules, pd.DataFrame]:
    """Rules in force on ``on`` with the workbook's settings tables applied, and their errors.

    Bad rows of a settings table are reported and left out; the good ones still apply.
    """
    errs = []
    fx_typed, e = fx_table(fx)
    errs.append(e)
    over_typed = lv_typed = None
    if market_overrides is not None:
        typed, e = coerce_table(market_overrides, MARKET_OVERRIDES)
        errs.append(e)
        over_typed = good_rows(typed, e)
        over_typed = over_typed[over_typed["market"] != ""].replace({"": None})
        for col in MARKET_BOOLS:
            over_typed[col] = over_typed[col].map(lambda v: None if pd.isna(v) else bool(v))
    if low_value_overrides is not None:
        lv_typed = _dated_rows(low_value_overrides, LOW_VALUE_OVERRIDES, errs)
    tariff_typed = fee_typed = rounding_typed = None
    if tariff is not None:
        tariff_typed = _tariff_rows(tariff, errs)
    if entry_fees is not None:
        fee_typed = _dated_rows(entry_fees, ENTRY_FEE_OVERRIDES, errs)
    if rounding is not None:
        rounding_typed = _dated_rows(rounding, ROUNDING_OVERRIDES, errs)
    rules = load_rules(
        on,
        market_overrides=over_typed,
        regimes=lv_typed,
        fx=fx_typed,
        tariff=tariff_typed,
        entry_fees=fee_typed,
        rounding=rounding_typed,
    )
    return rules, concat_errors(errs)


def read_rules(port: WorkbookPort, ctx: Context) -> tuple[Rules, pd.DataFrame]:
    """The rules in force on the plan's rules date, with the workbook's overrides."""
    return rules_from_tables(
        ctx.settings.rules_on,
        port.read_table(FX.key),
        port.read_table(MARKET_OVERRIDES.key),
        port.read_table(LOW_VALUE_OVERRIDES.key),
        port.read_table(TARIFF.key),
        port.read_table(ENTRY_FEE_OVERRIDES.key),
        port.read_table(ROUNDING_OVERRIDES.key),
    )


def read_lines(port: WorkbookPort) -> pd.DataFrame:
    """The Landed Cost lines; a clear error when the workbook has none."""
    lines = port.read_table(LANDED_COST.key)
    if lines is None:
        raise InputError(
            "工作簿中没有落地成本表（tblLandedCost）",
            "the workbook has no Landed Cost table (tblLandedCost)",
        )
    return lines


def run_landed_cost(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Compute every landed-cost line and write the Landed Cost Results table."""
    lines = read_lines(port)
    rules, setting_errors = read_rules(port, ctx)
    table, errors = results_table(lines, rules)
    port.write_table(LANDED_COST_RESULTS.key, table)
    ok = int((table["error"] == "").sum())
    summary = [
        Message(
            f"落地成本: {ok}/{len(table)} 行计算成功（规则日期 {rules.on}）",
            f"landed cost: {ok} of {len(table)} lines computed (rules of {rules.on})",
        )
    ]
    return ActionResult(concat_errors([setting_errors, errors]), summary)


ACTIONS = (
    Action(
        "landed_cost",
        Message("落地成本", "Landed cost"),
        run_landed_cost,
        produces=(LANDED_COST_RESULTS.key,),
        help=Message(
            "读取“落地成本”明细与设置表的汇率和规则覆盖，写入“落地成本结果”。",
            "Reads the Landed Cost lines and the Settings FX and rule overrides; writes Landed "
            "Cost Results.",
        ),
    ),
)
