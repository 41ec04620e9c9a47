"""The landed-cost action: read the lines and the rule overrides, compute every line, write the
Landed Cost Results table. :func:`compute_lines` and :func:`results_table` are the one path the
action, Validate and the UDFs share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import money, parse
from xlplan.core.columns import Columns, categorical, factorize
from xlplan.core.errors import InputError, Message, concat_errors, errors_where
from xlplan.core.memo import derived
from xlplan.landed_cost import customs
from xlplan.landed_cost.calc import (
    LABEL_KEYS,
    MONEY_OUTPUTS,
    PRICE_OUTPUTS,
    TEXT_COLUMNS,
    LandedCostColumns,
    LandedCostResult,
    TransportMode,
    landed_cost_columns,
    output_frame,
    text_categorical,
)
from xlplan.landed_cost.scenarios import BASE, ScenarioRule, scenario_names, scenario_rules
from xlplan.landed_cost.tables import (
    ENTRY_FEE_OVERRIDES,
    FEE_OVERRIDES,
    FEE_TABLES,
    LANDED_COST,
    LANDED_COST_RESULTS,
    LOW_VALUE_OVERRIDES,
    MARKET_OVERRIDES,
    ROUNDING_OVERRIDES,
    SCENARIO_RESULTS,
    SCENARIO_SELECTION,
    SCENARIO_SUMMARY,
    SCENARIOS,
    TARIFF,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.read import fx_table
from xlplan.plan.tables import FX, SETTINGS
from xlplan.reference import Rules, load_rules
from xlplan.workbook.coerce import (
    TOGETHER_CELLS,
    blank_cells,
    coerce_columns,
    coerce_table,
    good_rows,
)
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

FEE_TEXT = ("category", "listing_type", "payment_processor")
"""Free-text fee keys: they pass through and are read on their distinct values by the fee
calculation (any text is a valid category; one not in the tables takes the ``*`` rows)."""

# sku and channel pass through untouched (no rule reads them): 1M labels are not coerced.
_COERCED = LANDED_COST.view(
    [k for k in LANDED_COST.keys if k not in ("sku", "channel", *CUSTOMS_TEXT, *FEE_TEXT)]
)

MODES = frozenset(m.value for m in TransportMode)


def typed_lines(raw: pd.DataFrame, rules: Rules) -> tuple[Columns, pd.DataFrame]:
    """A raw lines table (cells by column key, as read from a sheet, a CSV or a UDF argument)
    read and checked against :data:`~xlplan.landed_cost.tables.LANDED_COST`: typed columns
    (market names such as ``美国`` read as their code) and the error records. Missing optional
    columns count as blank. The columns stay apart (no frame): the calculation reads them one
    by one."""
    lists = derived(rules, "code lists", lambda: _code_lists(rules))
    frame = raw if raw.index.equals(pd.RangeIndex(len(raw))) else raw.reset_index(drop=True)
    typed, errors = coerce_columns(
        frame, _COERCED, lists=lists, table_key=LANDED_COST.key, categorical=True
    )
    filled = _filled_columns(frame)
    coded, customs_errors = _customs_cells(filled, rules.countries)
    # The fee tables read the channel and the fee text columns on their distinct values: each
    # is hashed once here, into a categorical the calculation reads by its codes.
    passed = {key: text_categorical(filled[key]) for key in ("channel", *FEE_TEXT) if key in filled}
    return Columns({**typed, **coded, **passed}, len(frame)), concat_errors(
        [errors, customs_errors]
    )


def _code_lists(rules: Rules) -> dict[str, set[str]]:
    """The markets and currencies a line's codes may name (shared: read, never changed)."""
    return {
        "markets": set(rules.markets.index.astype(str)),
        "currencies": set(rules.currencies.index.astype(str)),
    }


COLUMN_LABELS: dict[str, Message] = {
    c.key: Message(c.header("zh"), c.header("en")) for c in LANDED_COST.columns
}
"""The lines' columns as their headers name them, for the error column."""


def compute_lines(raw: pd.DataFrame, rules: Rules) -> LandedCostResult:
    """Every line of a raw lines table computed with ``rules`` (:func:`typed_lines`): bad rows
    get their errors, wholly blank rows (a gap in the table) stay blank, the rest compute."""
    typed, errors = typed_lines(raw, rules)
    result = _computed(typed, errors, rules)
    outputs = output_frame(result.columns)
    outputs.index = raw.index
    return LandedCostResult(outputs, result.errors)


def _computed(typed: Columns, errors: pd.DataFrame, rules: Rules) -> LandedCostColumns:
    """The output columns of typed lines by position, a wholly blank line's all blank (NaN, or
    ``None`` in a text column) but its error cell."""
    result = landed_cost_columns(typed, rules, errors, COLUMN_LABELS)
    gaps = blank_cells(typed.columns.values(), typed.n)
    if gaps.any():
        for key, values in result.columns.items():
            if key != "error":
                values[gaps] = None if key in TEXT_COLUMNS else np.nan
    return result


_PASSED = ("channel", *FEE_TEXT, *CUSTOMS_TEXT)
"""The text columns read on their distinct cells rather than coerced."""


def _filled_columns(frame: pd.DataFrame) -> dict[str, pd.Series | np.ndarray]:
    """Those of the :data:`_PASSED` columns the lines have with a cell that is not missing
    (None, NaN), by key. A small table is taken apart once as cells (a column taken off a frame
    costs ~10 us: a one-line UDF would pay it for each); a large one keeps its columns as they
    are (a categorical keeps its codes)."""
    columns: dict[str, pd.Series | np.ndarray]
    if len(frame) * len(frame.columns) <= TOGETHER_CELLS:
        cells = frame.to_numpy(dtype=object)
        at = {key: j for j, key in enumerate(frame.columns)}
        columns = {key: cells[:, at[key]] for key in _PASSED if key in at}
    else:
        columns = {key: frame[key] for key in _PASSED if key in frame.columns}
    return {key: column for key, column in columns.items() if _has_cells(column)}


def _has_cells(column: pd.Series | np.ndarray) -> bool:
    """Whether a column has a cell that is not missing: pandas' C type inference answers
    without a look at each cell from Python."""
    if column.dtype != object:
        return True
    return bool(pd.api.types.infer_dtype(np.asarray(column), skipna=True) != "empty")


def _distinct_cells(column: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column's cells as codes into its distinct cells (-1 where blank: None, NaN)."""
    codes, uniques = factorize(np.asarray(column, dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _categorical(codes: np.ndarray, values: np.ndarray) -> pd.Categorical:
    """Lines as a categorical of ``values[codes]`` (``""`` where the code is -1): distinct
    values may repeat after reading (`` cn`` and ``CN``), so they are factorised again."""
    again, categories = factorize(np.append(values.astype(object), ""))
    line_codes = np.where(codes >= 0, again[np.maximum(codes, 0)], again[-1])
    return categorical(line_codes, categories)


def _customs_cells(
    filled: Mapping[str, pd.Series | np.ndarray], countries: frozenset[str]
) -> tuple[dict[str, pd.Categorical], pd.DataFrame]:
    """The customs text columns (of the lines' ``filled`` columns) read with the one cell
    parser on their distinct cells and checked: origin and ship-from country codes, HS codes
    (digits), transport modes (lower case), parcel and shipment ids. A bad cell is an error
    record and reads as blank."""
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

    # A column the lines lack, or with no cell filled, is left out: the calculation reads it
    # as blank.
    for key in ("origin", "ship_from"):
        if key not in filled:
            continue
        codes, cells = _distinct_cells(filled[key])
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
    if "hs_code" in filled:
        codes, cells = _distinct_cells(filled["hs_code"])
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
    if "transport_mode" in filled:
        codes, cells = _distinct_cells(filled["transport_mode"])
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
        if key in filled:
            codes, cells = _distinct_cells(filled[key])
            out[key] = _categorical(codes, parse.parse_texts(cells))
    return out, concat_errors(errors)


ResultColumn = np.ndarray | pd.api.extensions.ExtensionArray
ResultColumns = dict[str, ResultColumn]
"""The results table as its columns by key, each an array of its rows; the labels as the lines
hold them (a CSV's text in Arrow)."""


def results_table(raw: pd.DataFrame, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Landed Cost Results table (money rounded to each currency's minor unit, margins to
    0.01 %; the index of ``raw``) and the error records."""
    columns, errors = results_columns(raw, rules)
    return _results_frame(columns, raw.index), errors


def results_columns(raw: pd.DataFrame, rules: Rules) -> tuple[ResultColumns, pd.DataFrame]:
    """The columns of :func:`results_table` by position, each its own array in
    :data:`~xlplan.landed_cost.tables.LANDED_COST_RESULTS` order, and the error records: for a
    caller that reads the table column by column (the one-line UDFs build no frame)."""
    typed, input_errors = typed_lines(raw, rules)
    result = _computed(typed, input_errors, rules)
    return _rounded_results(raw, typed, result, rules), result.errors


_ROUNDED_TOGETHER = 1024
"""Up to this many lines the money outputs are rounded as one block."""


def _rounded_results(
    raw: pd.DataFrame, typed: Columns, result: LandedCostColumns, rules: Rules
) -> ResultColumns:
    outputs = result.columns
    n = typed.n
    places = money.minor_units(np.asarray(outputs["currency"], dtype=object), rules.currencies)
    keys = (*MONEY_OUTPUTS, *PRICE_OUTPUTS)
    numbers = {key: np.asarray(outputs[key], dtype=float) for key in (*keys, "contribution_margin")}
    if n <= _ROUNDED_TOGETHER:  # a few lines: one rounding of all the columns
        block = np.vstack([numbers[key] for key in keys])
        rounded = dict(zip(keys, money.round_half_up(block, places), strict=True))
    else:  # many: column by column (no copy of them all at once)
        rounded = {key: money.round_half_up(numbers[key], places) for key in keys}
    rounded["contribution_margin"] = money.round_half_up(numbers["contribution_margin"], 4)
    labels = {k: _label_cells(raw, k, n) for k in LABEL_KEYS if k != "market"}
    labels["market"] = np.asarray(typed.columns["market"])  # the code, also where a name was typed
    return {
        key: labels[key] if key in LABEL_KEYS else rounded[key] if key in rounded else outputs[key]
        for key in LANDED_COST_RESULTS.keys
    }


def _label_cells(raw: pd.DataFrame, key: str, n: int) -> ResultColumn:
    """A label column as the lines hold it. A CSV's text stays in Arrow: a million SKUs are
    not made Python strings only to be written back (~0.2 s of CPU a column)."""
    if key not in raw.columns:
        return np.full(n, None, dtype=object)
    column = raw[key]
    return column.array if isinstance(column.dtype, pd.StringDtype) else column.to_numpy()


def _results_frame(columns: ResultColumns, index: pd.Index) -> pd.DataFrame:
    """:func:`results_columns` as the results table: the labels as the lines read them, the
    outputs' texts as object columns (no copy of the outputs, no column set one by one)."""
    labels = pd.DataFrame({k: columns[k] for k in LABEL_KEYS}, index=index)
    return pd.DataFrame(
        {
            key: labels[key]
            if key in LABEL_KEYS
            else pd.Series(values, index=index, dtype=object, copy=False)
            if values.dtype == object
            else values
            for key, values in columns.items()
        },
        index=index,
        copy=False,
    )


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


_FEE_UNITS = ("lb", "g", "kg")
_TIER_MODES = ("", "whole", "marginal")
_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rate", ("referral", "refund_admin")),
    ("channel", ("commissions", "payments")),
    ("item", ("fulfilment", "payments")),
    ("amount", ("fulfilment", "storage")),
    ("weight_unit", ("fulfilment",)),
)
"""The cells a fee override row needs, by its fee table."""


def _fee_override_rows(raw: pd.DataFrame, errs: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The Fee overrides table's good rows as rows of each fee table
    (:func:`~xlplan.reference.fees.load_fee_tables` ``overrides``), each named
    ``tblFeeOverrides:<row>`` (the table's data row, from 1)."""
    typed, e = coerce_table(raw, FEE_OVERRIDES)
    errs.append(e)
    positions = np.arange(len(typed))
    table = typed["fee_table"].str.strip().str.lower().to_numpy(dtype=object)
    known = np.isin(table, list(FEE_TABLES))
    problems = [
        (
            ~known & (table != ""),
            "fee_table",
            "未知的费用表（" + "、".join(FEE_TABLES) + "）",
            "unknown fee table (one of " + ", ".join(FEE_TABLES) + ")",
        )
    ]
    for column, tables in _NEEDS:
        cells = typed[column]
        blank = cells.isna() if cells.dtype == float else cells.astype(str).str.strip() == ""
        label = FEE_OVERRIDES.column(column)
        problems.append(
            (
                np.isin(table, tables) & blank.to_numpy(),
                column,
                f"此费用表的行需要填写{label.zh}",
                f"a row of this fee table needs a {label.en.lower()}",
            )
        )
    unit = typed["weight_unit"].str.strip().to_numpy(dtype=object)
    mode = typed["tier_mode"].str.strip().str.lower().to_numpy(dtype=object)
    start, end = typed["effective_from"], typed["effective_to"]
    problems += [
        (
            (table == "fulfilment") & (unit != "") & ~np.isin(unit, _FEE_UNITS),
            "weight_unit",
            "重量单位应为 lb、g 或 kg",
            "the weight unit must be lb, g or kg",
        ),
        (
            ~np.isin(mode, _TIER_MODES),
            "tier_mode",
            "分档方式应为 whole 或 marginal",
            "the tier mode must be whole or marginal",
        ),
        (
            (start.notna() & end.notna() & (end <= start)).to_numpy(),
            "effective_to",
            "失效日应晚于生效日",
            "the end date must come after the start date",
        ),
    ]
    bad = np.zeros(len(typed), dtype=bool)
    for mask, column, zh, en in problems:
        errs.append(errors_where(mask, table=FEE_OVERRIDES.key, column=column, zh=zh, en=en))
        bad |= mask
    rows = good_rows(typed, e).assign(fee_table=table)
    rows = rows[~bad[rows.index.to_numpy()] & (rows["fee_table"] != "")]
    return {
        name: _fee_rows(name, rows[rows["fee_table"] == name], positions) for name in FEE_TABLES
    }


def _fee_rows(name: str, rows: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """Override rows in the columns of fee table ``name`` (text cells; numbers as numbers)."""

    def cells(key: str, default: str = "") -> pd.Series:
        values = rows[key].astype(str).str.strip()
        return values.where(values != "", default)

    def number(key: str, default: float = np.nan) -> pd.Series:
        return rows[key].fillna(default)

    common = {
        "rule": [f"{FEE_OVERRIDES.name}:{positions[i] + 1}" for i in rows.index],
        "marketplace": rows["marketplace"],
        "currency": rows["currency"],
        "effective_from": rows["effective_from"].dt.strftime("%Y-%m-%d").fillna(""),
        "effective_to": rows["effective_to"].dt.strftime("%Y-%m-%d").fillna(""),
        "source": rows["source"],
        "uncertain": rows["uncertain"].map(lambda v: "true" if v == 1.0 else "false"),
        "note": rows["note"],
    }
    price = {
        "price_from": number("price_from", 0.0),
        "price_to": number("price_to"),
        "price_bounds": "(]",
    }
    mode = cells("tier_mode", "whole").str.lower()
    if name == "referral":
        own = {
            "category": cells("item", "*"),
            **price,
            "tier_mode": mode,
            "rate": number("rate"),
            "min_fee": number("min_fee"),
            "closing_fee": number("amount"),
        }
    elif name == "commissions":
        own = {
            "channel": cells("channel"),
            "category": cells("item", "*"),
            "listing_type": cells("listing_type", "*"),
            "fee_type": cells("fee_type", "referral"),
            "applies": "per_unit",
            **price,
            "tier_mode": mode,
            "rate": number("rate"),
            "fixed_fee": number("amount"),
            "cap": number("cap"),
        }
    elif name == "fulfilment":
        low, high = number("price_from", 0.0), number("price_to")
        own = {
            "season": cells("fee_type", "nonpeak").str.lower(),
            "size_tier": cells("item"),
            "weight_from": number("weight_from", 0.0),
            "weight_to": number("weight_to"),
            "weight_unit": cells("weight_unit"),
            "weight_bounds": "(]",
            **price,
            "price_band": low.astype(str) + "-" + high.astype(str),
            "fee": number("amount"),
        }
    elif name == "storage":
        own = {
            "fee_kind": "monthly_storage",
            "size_class": cells("item", "all"),
            "month_from": number("weight_from", 1.0),
            "month_to": number("weight_to", 12.0),
            "rate": number("amount"),
            "rate_unit": "per cu ft per month",
        }
    elif name == "refund_admin":
        own = {"rate_of_referral_fee": number("rate"), "cap_per_line": number("cap")}
    else:  # payments
        own = {
            "processor": cells("channel"),
            "account_country": rows["marketplace"],
            "component": cells("item"),
            "rate": number("rate"),
            "fixed_fee": number("amount"),
            "cap": number("cap"),
        }
    return pd.DataFrame({**common, **own}, index=rows.index).reset_index(drop=True)


def rules_from_tables(
    on: date,
    fx: pd.DataFrame | None,
    market_overrides: pd.DataFrame | None,
    low_value_overrides: pd.DataFrame | None,
    tariff: pd.DataFrame | None = None,
    entry_fees: pd.DataFrame | None = None,
    rounding: pd.DataFrame | None = None,
    fees: pd.DataFrame | None = None,
) -> tuple[Rules, pd.DataFrame]:
    """Rules in force on ``on`` with the workbook's settings tables applied, and their errors.

    Bad rows of a settings table are reported and left out; the good ones still apply. The
    landed-cost and scenarios actions of one run (or Validate) read the same tables: when the
    date and every table are those of the last call (the very frames: a port hands out the
    same frame until it is written anew), the last answer is returned (~0.4 s of CPU).
    """
    tables = (fx, market_overrides, low_value_overrides, tariff, entry_fees, rounding, fees)
    for seen_on, seen, answer in _last_rules:
        if seen_on == on and all(a is b for a, b in zip(seen, tables, strict=True)):
            return answer
    answer = _rules_from_tables(on, *tables)
    _last_rules[:] = [(on, tables, answer)]  # the frames are held, so no other takes their id
    return answer


_last_rules: list[tuple[date, tuple[pd.DataFrame | None, ...], tuple[Rules, pd.DataFrame]]] = []


def _rules_from_tables(
    on: date,
    fx: pd.DataFrame | None,
    market_overrides: pd.DataFrame | None,
    low_value_overrides: pd.DataFrame | None,
    tariff: pd.DataFrame | None,
    entry_fees: pd.DataFrame | None,
    rounding: pd.DataFrame | None,
    fees: pd.DataFrame | None,
) -> tuple[Rules, pd.DataFrame]:
    errs = []
    fx_typed, e = fx_table(fx)
    errs.append(e)
    if fx_typed is None:  # a CSV of lines, or a workbook without an FX table
        fx_typed = reference.default_fx()
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
    fee_rows = None if fees is None else _fee_override_rows(fees, errs)
    rules = load_rules(
        on,
        market_overrides=over_typed,
        regimes=lv_typed,
        fx=fx_typed,
        tariff=tariff_typed,
        entry_fees=fee_typed,
        rounding=rounding_typed,
        fee_overrides=fee_rows,
    )
    return rules, concat_errors(errs)


def _shipped_fx_note() -> Message:
    fx = reference.default_fx()
    as_of = str(fx["as_of"].max())
    main = fx["source"].value_counts().index[0]
    return Message(
        f"汇率: 未提供汇率表，使用内置汇率（截至 {as_of}；主要来源: {main}；见 "
        "reference/data/SOURCES.md）",
        f"FX: no FX table given; the shipped rates are used (as of {as_of}; mostly {main}; "
        "see reference/data/SOURCES.md)",
    )


SHIPPED_FX = _shipped_fx_note()
"""What a run says when it computes with the shipped FX rates."""


RULE_TABLES = (
    FX.key,
    MARKET_OVERRIDES.key,
    LOW_VALUE_OVERRIDES.key,
    TARIFF.key,
    ENTRY_FEE_OVERRIDES.key,
    ROUNDING_OVERRIDES.key,
    FEE_OVERRIDES.key,
)
"""The workbook's tables that the rules are made of, in :func:`rules_from_tables`' order."""


def read_rules(port: WorkbookPort, ctx: Context) -> tuple[Rules, pd.DataFrame]:
    """The rules in force on the plan's rules date, with the workbook's overrides."""
    return rules_from_tables(ctx.settings.rules_on, *(port.read_table(k) for k in RULE_TABLES))


def read_lines(port: WorkbookPort) -> pd.DataFrame:
    """The Landed Cost lines; a clear error when the workbook has none."""
    lines = port.read_table(LANDED_COST.key)
    if lines is None:
        raise InputError(
            "工作簿中没有落地成本表（tblLandedCost）",
            "the workbook has no Landed Cost table (tblLandedCost)",
        )
    return lines


KPI_RAW = "kpi_raw"
"""The KPI raw figures' table key (the KPI capability's ``tblKpiRaw``): its ``cogs``,
``average_inventory`` and ``period_months`` give the plan's inventory turnover."""


def turnover_months(kpi_raw: pd.DataFrame | None) -> pd.DataFrame:
    """Average months in stock from the plan's inventory turnover, by market and channel.

    Turnover [1/yr] = 12 x sum(cogs) / sum(average_inventory x period_months) over the KPI raw
    rows of a (market, channel) (all the months given; ``period_months`` blank = 1), the
    catalogue's ``inventory_turnover`` definition; months in stock = 12 / turnover. A row with
    a blank channel is the market's figure over every channel. Columns ``market``, ``channel``
    (stripped, ``""`` = every channel), ``turnover``, ``months``; empty when the workbook has
    no usable figures.
    """
    columns = ["market", "channel", "turnover", "months"]
    if kpi_raw is None or kpi_raw.empty or not {"cogs", "average_inventory"} <= set(kpi_raw):
        return pd.DataFrame(columns=columns)
    cogs = parse.parse_numbers(kpi_raw["cogs"])[0]
    stock = parse.parse_numbers(kpi_raw["average_inventory"])[0]
    period = (
        parse.parse_numbers(kpi_raw["period_months"])[0]
        if "period_months" in kpi_raw
        else np.full(len(kpi_raw), np.nan)
    )
    period = np.where(np.isfinite(period) & (period > 0), period, 1.0)
    market = parse.parse_codes(kpi_raw.get("market", pd.Series([""] * len(kpi_raw))))
    channel = parse.parse_texts(kpi_raw.get("channel", pd.Series([""] * len(kpi_raw))))
    ok = np.isfinite(cogs) & np.isfinite(stock) & (stock > 0) & (cogs >= 0) & (market != "")
    rows = pd.DataFrame(
        {"market": market, "channel": channel, "cogs": cogs, "stock_months": stock * period}
    )[ok]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    by_pair = rows.groupby(["market", "channel"], sort=True)[["cogs", "stock_months"]].sum()
    by_market = rows.groupby("market", sort=True)[["cogs", "stock_months"]].sum()
    by_market = by_market.assign(channel="").set_index("channel", append=True)
    both = pd.concat([by_pair[by_pair.index.get_level_values(1) != ""], by_market])
    both = both[both["cogs"] > 0]
    out = both.reset_index()
    out["turnover"] = 12.0 * out["cogs"] / out["stock_months"]
    out["months"] = 12.0 / out["turnover"]
    result: pd.DataFrame = out[columns].reset_index(drop=True)
    return result


NO_TURNOVER = Message(
    "在库月数: 空白单元格按 1 个月计（KPI 原始数据中没有库存周转）",
    "months in stock: blank cells count 1 month (no inventory turnover in the KPI raw figures)",
)


def with_default_months(
    lines: pd.DataFrame, turnover: pd.DataFrame
) -> tuple[pd.DataFrame, list[Message]]:
    """The lines with a blank ``months_in_stock`` filled from ``turnover``
    (:func:`turnover_months`): the line's market and channel, else its market over every
    channel; and what a run should say about it. Only Amazon lines are filled (FBA storage is
    charged by the month); lines that find no turnover keep the blank (the fee calculation
    then counts one month)."""
    n = len(lines)
    # The channels as matched: each distinct cell read and casefolded once, not once a line.
    if "channel" in lines:
        codes, names = parse.coded_texts(lines["channel"], codes=False)
    else:
        codes, names = np.zeros(n, dtype=np.int64), np.array([""], dtype=object)
    channel_key = np.array([name.casefold() for name in names], dtype=object)[codes]
    # Only FBA lines pay storage by the month; only their months cells are read.
    fba = channel_key == "amazon"
    blank = fba.copy()
    if "months_in_stock" in lines and fba.any():
        months = lines["months_in_stock"][fba]
        blank[fba] = parse.blank_mask(pd.Series(months.to_numpy(dtype=object)))
    if not blank.any():
        return lines, []
    if turnover.empty:
        return lines, [NO_TURNOVER]
    market = parse.parse_codes(lines["market"]) if "market" in lines else np.full(n, "")
    table = turnover.assign(
        name=turnover["channel"], channel=turnover["channel"].astype(str).str.casefold()
    )
    wanted = pd.DataFrame({"market": market, "channel": channel_key})
    own = wanted.merge(table, on=["market", "channel"], how="left")
    whole = wanted[["market"]].merge(table[table["channel"] == ""], on="market", how="left")
    by_channel = own["months"].to_numpy(dtype=float)
    pick_own = blank & np.isfinite(by_channel)
    pick_market = blank & ~pick_own & np.isfinite(whole["months"].to_numpy(dtype=float))
    filled = np.where(
        pick_own, by_channel, np.where(pick_market, whole["months"].to_numpy(dtype=float), np.nan)
    )
    hits = pd.concat(
        [
            own.loc[pick_own, ["market", "name", "turnover", "months"]],
            whole.loc[pick_market, ["market", "name", "turnover", "months"]],
        ]
    )
    used = {
        (str(k[0]), str(k[1])): (float(g["turnover"].iloc[0]), float(g["months"].iloc[0]), len(g))
        for k, g in hits.groupby(["market", "name"], sort=True)
    }
    if not used:
        return lines, [NO_TURNOVER]
    out = lines.copy()
    values = out["months_in_stock"].to_numpy(dtype=object) if "months_in_stock" in out else None
    values = np.full(n, None, dtype=object) if values is None else values.copy()
    values[np.isfinite(filled)] = filled[np.isfinite(filled)]
    out["months_in_stock"] = values
    parts_zh, parts_en = [], []
    for (mk, ch), (turns, months, count) in used.items():
        where = f"{mk} {ch}".strip() if ch else mk
        parts_zh.append(f"{where} 周转 {turns:.2f} 次/年 → {months:.2f} 月（{count} 行）")
        parts_en.append(f"{where} turnover {turns:.2f}/yr -> {months:.2f} months ({count} lines)")
    missing = int(blank.sum() - np.isfinite(filled).sum())
    tail_zh = f"；其余 {missing} 行按 1 个月计" if missing else ""
    tail_en = f"; {missing} other lines count 1 month" if missing else ""
    return out, [
        Message(
            "在库月数: 空白单元格取 12 / 库存周转（KPI 原始数据）: "
            + "；".join(parts_zh)
            + tail_zh,
            "months in stock: blank cells take 12 / inventory turnover (KPI raw figures): "
            + "; ".join(parts_en)
            + tail_en,
        )
    ]


def run_landed_cost(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Compute every landed-cost line and write the Landed Cost Results table."""
    rules, setting_errors = read_rules(port, ctx)  # first: the lines may still be parsing
    lines, months_note = with_default_months(
        read_lines(port), turnover_months(port.read_table(KPI_RAW))
    )
    table, errors = results_table(lines, rules)
    port.write_table(LANDED_COST_RESULTS.key, table)
    ok = int((table["error"] == "").sum())
    summary = [
        Message(
            f"落地成本: {ok}/{len(table)} 行计算成功（规则日期 {rules.on}）",
            f"landed cost: {ok} of {len(table)} lines computed (rules of {rules.on})",
        )
    ]
    if port.read_table(FX.key) is None:
        summary.append(SHIPPED_FX)
    summary += months_note
    return ActionResult(concat_errors([setting_errors, errors]), summary)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

_NUMBER_RULES = {
    ScenarioRule.EXTRA_DUTY.value: (0.0, 10.0),
    ScenarioRule.DUTY_RATE.value: (0.0, 10.0),
    ScenarioRule.TAX_RATE.value: (0.0, 0.999999),
    ScenarioRule.FX.value: (1e-12, np.inf),
}
_MARKET_RULES = {
    ScenarioRule.EXTRA_DUTY.value,
    ScenarioRule.DUTY_RATE.value,
    ScenarioRule.LOW_VALUE.value,
    ScenarioRule.TAX_RATE.value,
}
_SCENARIO_ROW = Message("情景规则", "scenario rule")


def scenario_rows(raw: pd.DataFrame | None, rules: Rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Scenarios table typed and checked, its good rows only (``number``, ``flag`` and
    ``day`` hold the value read for the row's rule), and the error records of the others."""
    columns = [*SCENARIOS.keys, "number", "flag", "day"]
    if raw is None or raw.empty:
        return pd.DataFrame(columns=columns), concat_errors([])
    lists = {
        "countries": set(rules.countries),
        "currencies": set(rules.currencies.index.astype(str)),
    }
    typed, errors = coerce_table(raw, SCENARIOS, lists=lists)
    key = SCENARIOS.key
    rule = typed["rule"].str.lower()
    value = typed["value"]
    numbers, bad_number = parse.parse_numbers(value)
    flags, bad_flag = parse.parse_bools(value)
    days, bad_day = parse.parse_dates(value)
    known_rule = rule.isin([r.value for r in ScenarioRule])
    markets = set(rules.markets.index.astype(str)) | {
        str(u) for u in rules.markets.get("customs_union", pd.Series(dtype=object)) if u
    }
    prefixes, bad_prefix = customs.normalise_hs(typed["hs_prefix"].to_numpy(dtype=object))
    lo = rule.map(lambda r: _NUMBER_RULES.get(r, (np.nan, np.nan))[0]).to_numpy(dtype=float)
    hi = rule.map(lambda r: _NUMBER_RULES.get(r, (np.nan, np.nan))[1]).to_numpy(dtype=float)
    wants_number = rule.isin(list(_NUMBER_RULES)).to_numpy()
    out_of_range = wants_number & ~bad_number & ((numbers < lo) | (numbers > hi))
    checks: list[tuple[np.ndarray, str, str, str]] = [
        (
            (~known_rule & (rule != "")).to_numpy(),
            "rule",
            "未知的情景规则（可选 " + "、".join(r.value for r in ScenarioRule) + "）",
            "unknown scenario rule (one of " + ", ".join(r.value for r in ScenarioRule) + ")",
        ),
        (
            (typed["scenario"].str.lower() == BASE).to_numpy(),
            "scenario",
            "base 表示当前规则，请给情景另起名字",
            "base is the plan as it stands; give the scenario another name",
        ),
        (
            (rule.isin(list(_MARKET_RULES)) & (typed["market"] == "")).to_numpy(),
            "market",
            "此规则需要市场",
            "this rule needs a market",
        ),
        (
            ((typed["market"] != "") & ~typed["market"].isin(markets)).to_numpy(),
            "market",
            "未知的市场",
            "unknown market",
        ),
        (
            (
                (rule == ScenarioRule.FX.value)
                & ((typed["from_currency"] == "") | (typed["to_currency"] == ""))
            ).to_numpy(),
            "from_currency",
            "汇率规则需要原币种和目标币种",
            "an fx rule needs both currencies",
        ),
        (bad_prefix, "hs_prefix", "HS 前缀应为 2-10 位数字", "HS prefix must be 2 to 10 digits"),
        (
            wants_number & (bad_number | np.isnan(numbers)),
            "value",
            "值应为数字（税率如 15%）",
            "the value must be a number (a rate such as 15%)",
        ),
        (out_of_range, "value", "值超出此规则的范围", "the value is out of range for this rule"),
        (
            (rule == ScenarioRule.LOW_VALUE.value).to_numpy() & (bad_flag | np.isnan(flags)),
            "value",
            "值应为 TRUE 或 FALSE",
            "the value must be TRUE or FALSE",
        ),
        (
            (rule == ScenarioRule.RULES_DATE.value).to_numpy() & (bad_day | pd.isna(days)),
            "value",
            "值应为日期",
            "the value must be a date",
        ),
    ]
    found = [errors] + [
        errors_where(mask, table=key, column=column, zh=zh, en=en)
        for mask, column, zh, en in checks
    ]
    all_errors = concat_errors(found)
    good = good_rows(
        typed.assign(
            rule=rule,
            hs_prefix=prefixes,
            number=numbers,
            flag=flags > 0.5,
            day=pd.Series(days).dt.date.to_numpy(),
        ),
        all_errors,
    )
    kept: pd.DataFrame = good[good["scenario"] != ""].reindex(columns=columns)
    return kept, all_errors


def selected_scenarios(
    rows: pd.DataFrame, selection: pd.DataFrame | None
) -> tuple[list[str], pd.DataFrame]:
    """The scenarios to compare: ``base`` first, then those the selection names (blank: every
    scenario of the table); a name the table lacks is an error on its selection row."""
    defined = scenario_names(rows)
    if selection is None or selection.empty:
        return [BASE, *defined], concat_errors([])
    typed, errors = coerce_table(selection, SCENARIO_SELECTION)
    names = typed["scenario"]
    known = names.isin(defined) | (names.str.lower() == BASE) | (names == "")
    errors = concat_errors(
        [
            errors,
            errors_where(
                ~known.to_numpy(),
                table=SCENARIO_SELECTION.key,
                column="scenario",
                zh=lambda idx: [f"情景规则表中没有情景 '{names.iloc[i]}'" for i in idx],
                en=lambda idx: [
                    f"no scenario '{names.iloc[i]}' in the Scenario rules" for i in idx
                ],
            ),
        ]
    )
    chosen = [n for n in dict.fromkeys(names[known]) if n and n.lower() != BASE]
    return [BASE, *(chosen or ([] if len(names[names != ""]) else defined))], errors


def _describe(rows: pd.DataFrame) -> str:
    parts = []
    for row in rows.to_dict("records"):
        where = " ".join(
            str(v) for v in (row["market"], row["origin"], row["hs_prefix"], row["measure"]) if v
        )
        if row["rule"] == ScenarioRule.FX.value:
            where = f"{row['from_currency']}->{row['to_currency']}"
        parts.append(f"{row['rule']} {where} = {row['value']}".replace("  ", " "))
    return "; ".join(parts)


def scenario_rule_sets(
    base: Rules, rows: pd.DataFrame, names: list[str], rules_for: Callable[[date], Rules]
) -> list[Rules]:
    """The rules of each scenario of ``names`` (``base`` for :data:`BASE`)."""
    return [
        base if name == BASE else scenario_rules(base, rows[rows["scenario"] == name], rules_for)
        for name in names
    ]


def scenario_tables(
    lines: pd.DataFrame,
    base: Rules,
    rows: pd.DataFrame,
    names: list[str],
    rules_for: Callable[[date], Rules],
    reporting_currency: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scenario Results (one row per line and scenario, rounded, changes against ``base``) and
    the Scenario Summary (the plan's weighted margin under each scenario, in the reporting
    currency), for the scenarios ``names`` (``base`` first)."""
    weights, _ = parse.parse_numbers(
        lines["planned_units"]
        if "planned_units" in lines.columns
        else pd.Series([None] * len(lines))
    )
    weights = np.where(np.isnan(weights), 1.0, weights)
    typed, input_errors = typed_lines(lines, base)
    results: list[pd.DataFrame] = []
    summary: list[dict[str, object]] = []
    base_table: pd.DataFrame | None = None
    base_margin = np.nan
    for name, rules in zip(names, scenario_rule_sets(base, rows, names, rules_for), strict=True):
        mine = rows[rows["scenario"] == name]
        result = _computed(typed, input_errors, rules)
        table = _results_frame(
            _rounded_results(lines, typed, result, rules), pd.RangeIndex(len(lines))
        )
        if base_table is None:
            base_table = table
        table["scenario"] = name
        table["landed_cost_change"] = table["landed_cost"] - base_table["landed_cost"]
        table["margin_change"] = table["contribution_margin"] - base_table["contribution_margin"]
        results.append(table.reindex(columns=SCENARIO_RESULTS.keys))
        out = output_frame(result.columns)
        ok = (out["error"] == "").to_numpy()
        to_rc = rules.fx_rates(out["currency"], pd.Series(reporting_currency, index=out.index))
        rate = to_rc.to_numpy()
        counted = ok & ~np.isnan(rate) & ~np.isnan(out["net_price"].to_numpy())
        missing = sorted(set(out.loc[ok & np.isnan(rate), "currency"]))
        revenue = float(np.sum((weights * out["net_price"].to_numpy() * rate)[counted]))
        contribution = float(np.sum((weights * out["contribution"].to_numpy() * rate)[counted]))
        margin = contribution / revenue if revenue else np.nan
        if name == BASE:
            base_margin = margin
        note = Message("", "")
        if missing:
            pairs = ", ".join(f"{c}->{reporting_currency}" for c in missing)
            note = Message(
                f"缺少汇率 {pairs}：这些行未计入加权利润率",
                f"no FX rate {pairs}: those lines are left out of the weighted margin",
            )
        summary.append(
            {
                "scenario": name,
                "rules_date": pd.Timestamp(rules.on),
                "lines": len(out),
                "lines_computed": int(ok.sum()),
                "revenue": revenue,
                "contribution": contribution,
                "weighted_margin": margin,
                "margin_change": margin - base_margin,
                "overrides": _describe(mine),
                "error": note.both if missing else "",
            }
        )
    frame = pd.DataFrame(summary, columns=SCENARIO_SUMMARY.keys)
    places = money.minor_units(pd.Series(reporting_currency, index=frame.index), base.currencies)
    for col in ("revenue", "contribution"):
        frame[col] = money.round_half_up(frame[col].to_numpy(dtype=float), places)
    for col in ("weighted_margin", "margin_change"):
        frame[col] = money.round_half_up(frame[col].to_numpy(dtype=float), 4)
    long = (
        pd.concat(results, ignore_index=True)
        if results
        else pd.DataFrame(columns=SCENARIO_RESULTS.keys)
    )
    for col in ("landed_cost_change", "margin_change"):
        long[col] = long[col].astype(float).round(9)
    return long, frame


def run_scenarios(port: WorkbookPort, ctx: Context) -> ActionResult:
    """Compute every line under each scenario and write Scenario Results and Summary."""
    raw_rows = port.read_table(SCENARIOS.key)
    selection = port.read_table(SCENARIO_SELECTION.key)
    if (raw_rows is None or raw_rows.empty) and (selection is None or selection.empty):
        return ActionResult(
            summary=[
                Message("情景: 未定义（见“情景”表）", "scenarios: none defined (Scenarios sheet)")
            ]
        )
    lines = with_default_months(read_lines(port), turnover_months(port.read_table(KPI_RAW)))[0]
    tables = {key: port.read_table(key) for key in RULE_TABLES}

    def rules_for(day: date) -> Rules:
        return rules_from_tables(day, *tables.values())[0]

    base = rules_for(ctx.settings.rules_on)
    rows, row_errors = scenario_rows(raw_rows, base)
    names, selection_errors = selected_scenarios(rows, selection)
    errors = concat_errors([row_errors, selection_errors])
    if ctx.dry_run:
        # What is left can only fail in making each scenario's rules (a rules date reads that
        # day's rules); the lines under each scenario report nothing (a line's problems are the
        # landed-cost action's, and its tables keep them in their error column).
        scenario_rule_sets(base, rows, names, rules_for)
        return ActionResult(errors)
    results, summary = scenario_tables(
        lines, base, rows, names, rules_for, ctx.settings.reporting_currency
    )
    port.write_table(SCENARIO_RESULTS.key, results)
    port.write_table(SCENARIO_SUMMARY.key, summary)
    lines_out = [
        Message(
            f"情景 {r['scenario']}: 加权利润率 {_percent(r['weighted_margin'])}"
            + ("" if r["scenario"] == BASE else f"（较 base {_points(r['margin_change'])}）"),
            f"scenario {r['scenario']}: weighted margin {_percent(r['weighted_margin'])}"
            + ("" if r["scenario"] == BASE else f" ({_points(r['margin_change'])} vs base)"),
        )
        for r in summary.to_dict("records")
    ]
    return ActionResult(errors, lines_out)


def _percent(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return "-" if np.isnan(number) else f"{number:.2%}"


def _points(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return "-" if np.isnan(number) else f"{number * 100:+.2f} pp"


RULE_INPUTS = (SETTINGS.key, *RULE_TABLES, KPI_RAW)
"""The tables besides the lines that both actions read: the Settings, the rules' tables and
the KPI raw figures (the months in stock)."""

ACTIONS = (
    Action(
        "landed_cost",
        Message("落地成本", "Landed cost"),
        run_landed_cost,
        produces=(LANDED_COST_RESULTS.key,),
        inputs=(*RULE_INPUTS, LANDED_COST.key),
        help=Message(
            "读取“落地成本”明细与设置表的汇率和规则覆盖，写入“落地成本结果”。",
            "Reads the Landed Cost lines and the Settings FX and rule overrides; writes Landed "
            "Cost Results.",
        ),
    ),
    Action(
        "scenarios",
        Message("规则情景", "Scenarios"),
        run_scenarios,
        produces=(SCENARIO_RESULTS.key, SCENARIO_SUMMARY.key),
        inputs=(*RULE_INPUTS, SCENARIOS.key, SCENARIO_SELECTION.key, LANDED_COST.key),
        help=Message(
            "按“情景”表的每个情景重算落地成本明细，写入“情景结果”：逐行并列落地成本、利润率"
            "与保本价，以及计划的加权利润率。",
            "Recomputes the Landed Cost lines under each scenario of the Scenarios sheet and "
            "writes Scenario Results: each line's landed cost, margin and break-even price side "
            "by side, and the plan's weighted margin.",
        ),
    ),
)
