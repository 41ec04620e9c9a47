"""Coercion: raw cells as read from a sheet, a CSV or a UDF argument, into typed columns and
error records (see :mod:`xlplan.core.errors`), vectorised per column.

Every capability reads its tables through :func:`coerce_table`, keeps the rows without errors
with :func:`good_rows`, and points the errors a calculator found on those rows back at the
table's rows with :func:`relocate`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import parse
from xlplan.core.columns import Column as TypedColumn
from xlplan.core.columns import categorical, factorize, frame_of
from xlplan.core.errors import NO_ERRORS, Texts, concat_errors, empty_errors, errors_where
from xlplan.core.parse import Cells
from xlplan.workbook.schema import NUMERIC_KINDS, Column, Kind, Table


def _cell_text(values: Cells) -> np.ndarray:
    """Cells as stripped text, ``""`` where blank. A number a text column holds reads as it is
    shown (``123.0`` -> ``123``)."""
    return np.asarray(parse.parse_texts(values), dtype=object)


def _quoted(values: Cells, prefix: str, suffix: str = "") -> Callable[[np.ndarray], list[str]]:
    """Messages quoting the cell, built only for the failing rows (given by position)."""

    def build(idx: np.ndarray) -> list[str]:
        cells = np.asarray(values, dtype=object)[idx]
        return [f"{prefix}'{'' if v is None else str(v)[:40]}'{suffix}" for v in cells]

    return build


def _blank_column(kind: Kind, n: int) -> np.ndarray:
    """What every reader makes of a column of blank cells (a column the table lacks)."""
    if kind in NUMERIC_KINDS or kind is Kind.BOOL:
        return np.full(n, np.nan)
    if kind is Kind.DATE:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    return np.full(n, "", dtype=object)


def coerce_table(
    raw: pd.DataFrame,
    table: Table,
    *,
    lists: Mapping[str, set[str]] | None = None,
    table_key: str | None = None,
    categorical: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed columns and error records for a raw table, vectorised per column: the columns of
    :func:`coerce_columns` as one frame (index 0..n-1)."""
    columns, errors = coerce_columns(
        raw, table, lists=lists, table_key=table_key, categorical=categorical
    )
    return frame_of(columns), errors


def coerce_columns(
    raw: pd.DataFrame,
    table: Table,
    *,
    lists: Mapping[str, set[str]] | None = None,
    table_key: str | None = None,
    categorical: bool = False,
) -> tuple[dict[str, TypedColumn], pd.DataFrame]:
    """Typed columns by key (each ``len(raw)`` values by position) and error records for a raw
    table, vectorised per column.

    Numbers become float (NaN where blank or bad), booleans float 1.0/0.0/NaN, codes upper-case
    strings (``""`` where blank), text strings. Checks: required cells, numbers that don't
    parse, ranges, membership in ``lists[column.choices]`` where that list is given. Each bad
    cell yields one record naming row and column in zh and en; the value is then blanked so the
    row's other cells still read. With ``categorical``, code and text columns come out as
    :class:`pandas.Categorical` of the values read (the same values, as codes into the few
    distinct ones: a caller that groups or looks up by them factorises nothing again).

    The fixed cost per column is kept low (a one-row table is what a one-line UDF reads on
    every call): a column the table lacks is blank without being parsed, numpy arrays rather
    than Series carry the values, and error records are built only for a check that fails.
    """
    tkey = table_key or table.key
    n = len(raw)
    out: dict[str, TypedColumn] = {}
    errs: list[pd.DataFrame] = []
    lists = lists or {}
    present = set(raw.columns)
    held, together = _small_table(raw, table)

    def report(bad: np.ndarray, column: str, zh: Texts, en: Texts) -> None:
        if bad.any():
            errs.append(errors_where(bad, table=tkey, column=column, zh=zh, en=en))

    for col in table.columns:
        label_zh, label_en = col.zh, col.en
        if col.key not in present:
            if col.required and n:
                report(
                    np.ones(n, dtype=bool),
                    col.key,
                    f"{label_zh}为必填项",
                    f"{label_en} is required",
                )
            out[col.key] = _blank_column(col.kind, n)
            if categorical and col.kind in (Kind.CODE, Kind.TEXT):
                out[col.key] = _categorical_of(np.zeros(n, dtype=np.int64), np.array([""], object))
            continue
        read = together.get(col.key)
        if read is not None:  # a number column read with the others (its cells are at hand)
            values: Cells = read.cells
            if col.required:  # blank is exactly what reads as no number and is not bad
                blank = np.isnan(read.numbers) & ~read.bad
                report(blank, col.key, f"{label_zh}为必填项", f"{label_en} is required")
        else:
            cells = held.get(col.key)
            values = raw[col.key] if cells is None else cells
        if categorical and col.kind is Kind.CODE:
            # Read on its distinct cells; a blank cell is one that reads as "".
            out[col.key] = _categorical_column(values, col, lists, report)
            continue
        if col.required and read is None:
            report(
                parse.blank_mask(values), col.key, f"{label_zh}为必填项", f"{label_en} is required"
            )
        if col.kind in NUMERIC_KINDS:
            if read is not None:
                numbers, bad = read.numbers, read.bad
            else:
                numbers, bad = parse.parse_numbers(values)
            if read is None or read.any_bad:
                report(
                    bad,
                    col.key,
                    _quoted(values, f"{label_zh}不是数字: "),
                    _quoted(values, f"{label_en} is not a number: "),
                )
            numbers = np.asarray(numbers, dtype=float)
            if not numbers.flags.writeable:
                numbers = numbers.copy()
            if (col.minimum is not None or col.maximum is not None) and (
                read is None or read.any_outside
            ):
                ranged = _range_errors(numbers, col, tkey)
                if len(ranged):
                    errs.append(ranged)
            out[col.key] = numbers
        elif col.kind is Kind.BOOL:
            flags, bad = parse.parse_bools(values)
            report(
                bad,
                col.key,
                _quoted(values, f"{label_zh}应为 TRUE/FALSE（是/否）: "),
                _quoted(values, f"{label_en} must be TRUE or FALSE: "),
            )
            out[col.key] = np.asarray(flags, dtype=float)
        elif categorical and col.kind in (Kind.CODE, Kind.TEXT):
            out[col.key] = _categorical_column(values, col, lists, report)
        elif col.kind is Kind.CODE:
            codes = np.asarray(parse.parse_codes(values), dtype=object)
            choice = col.choices or ""
            allowed = lists.get(choice) or _shipped_lists().get(choice)
            if allowed:
                aliases = _shipped_aliases().get(choice, {})
                codes, unknown = _known_codes(codes, allowed, aliases)
                report(
                    unknown,
                    col.key,
                    _unknown(codes, allowed, aliases, f"未知的{label_zh}: ", "（是否为 {}？）"),
                    _unknown(
                        codes,
                        allowed,
                        aliases,
                        f"unknown {label_en.lower()}: ",
                        " (did you mean {}?)",
                    ),
                )
                if unknown.any():
                    codes = np.where(unknown, "", codes).astype(object)
            out[col.key] = codes
        elif col.kind is Kind.DATE:
            days, bad = parse.parse_dates(values)
            report(
                bad,
                col.key,
                _quoted(values, f"{label_zh}不是日期: "),
                _quoted(values, f"{label_en} is not a date: "),
            )
            out[col.key] = days
        elif col.kind is Kind.MONTH:
            months, bad = parse.plan_months(values)
            report(
                bad,
                col.key,
                _quoted(values, f"{label_zh}不是月份（填 1-12 或 2027-03）: "),
                _quoted(values, f"{label_en} is not a month (1-12 or 2027-03): "),
            )
            out[col.key] = np.where(bad, "", np.asarray(months, dtype=object)).astype(object)
        else:
            out[col.key] = _cell_text(values)
    errors = concat_errors(errs)
    if len(errors):  # a wholly blank row is skipped, not "market is required"
        empty = blank_cells(out.values(), n)
        if empty.any():
            errors = errors[~empty[errors["row"].to_numpy(dtype=np.int64)]].reset_index(drop=True)
    return out, errors


TOGETHER_CELLS = 65_536
"""Up to this many cells, a table is taken apart into its columns once and the number columns
it holds as cells (object columns) are read in one pass: a one-row table (what a one-line UDF
reads on every call) then costs one parse, not one per column. Above it each column is read
on its own (no copy of a large table)."""


class _Numbers(NamedTuple):
    """A number column read with the others: its cells, numbers (a writable array of its own),
    which cells are bad, whether any is, and whether a number is outside the column's range."""

    cells: np.ndarray
    numbers: np.ndarray
    bad: np.ndarray
    any_bad: bool
    any_outside: bool


_OBJECT = np.dtype(object)


def _small_table(
    raw: pd.DataFrame, table: Table
) -> tuple[dict[str, np.ndarray], dict[str, _Numbers]]:
    """A small ``raw`` taken apart once: the cells of its columns held as cells (object
    columns) by key (a column taken off a frame costs ~10 us, each time), and its number
    columns among them read in one pass with their ranges checked (a column's records are
    made by :func:`_range_errors`, only where a number is outside). Nothing for a large table:
    each column is read on its own (no copy of a large table)."""
    n = len(raw)
    if not n or n * len(raw.columns) > TOGETHER_CELLS:
        return {}, {}
    block = raw.to_numpy(dtype=object)
    held = {
        str(key): block[:, j]
        for j, (key, dtype) in enumerate(zip(raw.columns, raw.dtypes.tolist(), strict=True))
        if dtype == _OBJECT
    }
    columns = [c for c in table.columns if c.kind in NUMERIC_KINDS and c.key in held]
    if len(columns) < 2:
        return held, {}
    cells = np.array([held[c.key] for c in columns], dtype=object).reshape(len(columns), n)
    parsed, bad = parse.parse_numbers(cells.ravel())
    numbers = np.array(np.reshape(parsed, (len(columns), n)), dtype=float)  # a copy: writable
    bad = np.reshape(bad, (len(columns), n))
    any_bad = [bool(b) for b in np.any(bad, axis=1)]
    any_outside = [bool(b) for b in np.any(_outside(numbers, columns), axis=1)]
    return held, {
        c.key: _Numbers(cells[j], numbers[j], bad[j], any_bad[j], any_outside[j])
        for j, c in enumerate(columns)
    }


def _outside(numbers: np.ndarray, columns: list[Column]) -> np.ndarray:
    """Which ``numbers`` (one row per column) are outside their column's range (NaN never)."""
    inf = np.inf

    def bounds(values: list[float | None], blank: float) -> np.ndarray:
        return np.array([blank if v is None else v for v in values], dtype=float)[:, None]

    low = bounds([c.minimum for c in columns], -inf)
    high = bounds([c.maximum for c in columns], inf)
    low_open = np.array([c.min_exclusive for c in columns], dtype=bool)[:, None]
    high_open = np.array([c.max_exclusive for c in columns], dtype=bool)[:, None]
    with np.errstate(invalid="ignore"):
        below = np.where(low_open, numbers <= low, numbers < low)
        above = np.where(high_open, numbers >= high, numbers > high)
    return below | above


def _categorical_of(codes: np.ndarray, categories: np.ndarray) -> pd.Categorical:
    return categorical(codes, categories)


def _categorical_column(
    values: Cells,
    col: Column,
    lists: Mapping[str, set[str]],
    report: Callable[[np.ndarray, str, Texts, Texts], None],
) -> pd.Categorical:
    """A code or text column read on its distinct cells (:func:`~xlplan.core.parse.coded_texts`),
    checked as :func:`coerce_table` checks it, as a categorical."""
    codes, categories = parse.coded_texts(values, codes=col.kind is Kind.CODE)
    if col.required and col.kind is Kind.CODE:  # a code reads as "" exactly where it is blank
        blank = (categories == "")[codes]
        report(blank, col.key, f"{col.zh}为必填项", f"{col.en} is required")
    allowed = (
        (lists.get(col.choices or "") or _shipped_lists().get(col.choices or ""))
        if (col.kind is Kind.CODE)
        else None
    )
    if allowed:
        aliases = _shipped_aliases().get(col.choices or "", {})
        read, unknown_value = _known_codes(categories, allowed, aliases)
        if unknown_value.any():
            unknown = unknown_value[codes]

            def line_codes() -> np.ndarray:
                return np.asarray(read[codes], dtype=object)

            report(
                unknown,
                col.key,
                lambda idx: _unknown(
                    line_codes(), allowed, aliases, f"未知的{col.zh}: ", "（是否为 {}？）"
                )(idx),
                lambda idx: _unknown(
                    line_codes(),
                    allowed,
                    aliases,
                    f"unknown {col.en.lower()}: ",
                    " (did you mean {}?)",
                )(idx),
            )
            read = np.where(unknown_value, "", read).astype(object)
        again, categories = factorize(np.append(read, ""))  # aliases may merge two values
        codes = np.asarray(again, dtype=np.int64)[codes]
        categories = np.asarray(categories, dtype=object)
    return _categorical_of(codes, categories)


def blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a coerced frame with nothing in any cell (a gap the user left in a table)."""
    return blank_cells((frame[key] for key in frame.columns), len(frame))


def blank_cells(columns: Iterable[TypedColumn | pd.Series], n: int) -> np.ndarray:
    """:func:`blank_rows` of coerced columns of ``n`` rows (:func:`coerce_columns`), read one
    after the other until every row has a cell."""
    empty = np.ones(n, dtype=bool)
    for values in columns:
        if not empty.any():  # every row has a cell already: the other columns cannot change it
            break
        if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            empty &= np.asarray((values == "") | pd.isna(values), dtype=bool)
        else:
            empty &= np.asarray(pd.isna(values), dtype=bool)
    return empty


@functools.cache
def _shipped_lists() -> dict[str, set[str]]:
    return reference.code_lists()


@functools.cache
def _shipped_aliases() -> dict[str, dict[str, str]]:
    return reference.code_aliases()


def _known_codes(
    codes: np.ndarray, allowed: set[str], aliases: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes with the names people type mapped to them (``USA``, ``美国`` -> ``US``; ``RMB`` ->
    ``CNY``), and which are still unknown. A code is never read as an alias. Each distinct code
    is looked up once."""
    inverse, distinct = factorize(codes)
    distinct = np.asarray(distinct, dtype=object)
    known = np.fromiter(
        (c == "" or c in allowed for c in distinct), dtype=bool, count=len(distinct)
    )
    if known.all():
        return codes, np.zeros(len(codes), dtype=bool)
    mapped = distinct.copy()
    for i in np.flatnonzero(~known):
        code = aliases.get(reference.alias_key(distinct[i]))
        if code is not None and code in allowed:
            mapped[i] = code
            known[i] = True
    return np.asarray(mapped[inverse], dtype=object), ~known[inverse]


def _unknown(
    codes: np.ndarray, allowed: set[str], aliases: Mapping[str, str], prefix: str, hint: str
) -> Callable[[np.ndarray], list[str]]:
    """``unknown market: 'Mexcio' (did you mean MX?)``, built only for the failing rows: the
    closest code or name people type for one (``Untied States`` -> US)."""
    names = {**{reference.alias_key(c): c for c in allowed}, **aliases}

    def build(idx: np.ndarray) -> list[str]:
        out = []
        for code in codes[idx]:
            key = reference.alias_key(code)
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
            guess = names[close[0]] if close and names[close[0]] in allowed else ""
            out.append(f"{prefix}'{str(code)[:40]}'" + (hint.format(guess) if guess else ""))
        return out

    return build


def _range_errors(nums: np.ndarray, col: Column, table: str) -> pd.DataFrame:
    """Records for the numbers outside the column's range, which are then blanked in place."""
    if col.minimum is None and col.maximum is None:
        return empty_errors()
    values = nums
    bad = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if col.minimum is not None:
            bad |= (values <= col.minimum) if col.min_exclusive else (values < col.minimum)
        if col.maximum is not None:
            bad |= (values >= col.maximum) if col.max_exclusive else (values > col.maximum)
    bad &= ~np.isnan(values)
    if not bad.any():
        return NO_ERRORS
    hint_zh = hint_en = ""
    if col.kind is Kind.RATE:
        hint_zh, hint_en = "（比例请填 0.15 或 15%）", " (enter a rate as 0.15 or 15%)"

    def shown(prefix: str, hint: str) -> Callable[[np.ndarray], list[str]]:
        return lambda idx: [f"{prefix}{v:.4g}{hint}" for v in values[idx]]

    out = errors_where(
        bad,
        table=table,
        column=col.key,
        zh=shown(f"{col.zh}应 {col.range_text.zh}，实为 ", hint_zh),
        en=shown(f"{col.en} must be {col.range_text.en}, got ", hint_en),
    )
    nums[bad] = np.nan
    return out


def good_rows(frame: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """The rows of a coerced ``frame`` that no error record points at and that are not wholly
    blank (index kept, so each row still knows its position in the table)."""
    keep = ~blank_rows(frame)
    if len(errors):
        keep[errors["row"].unique()] = False
    return frame[keep]


def relocate(errors: pd.DataFrame, kept: pd.Index, table: str) -> pd.DataFrame:
    """Errors of a calculator that saw only the ``kept`` rows (positions 0..n-1), moved onto
    the rows of ``table`` they came from."""
    if errors.empty:
        return errors
    out = errors.copy()
    out["table"] = table
    out["row"] = np.asarray(kept, dtype=np.int64)[out["row"].to_numpy(dtype=np.int64)]
    return out
