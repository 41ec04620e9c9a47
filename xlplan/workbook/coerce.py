"""Coercion: raw cells as read from a sheet, a CSV or a UDF argument, into typed columns and
error records (see :mod:`xlplan.core.errors`), vectorised per column.

Every capability reads its tables through :func:`coerce_table`, keeps the rows without errors
with :func:`good_rows`, and points the errors a calculator found on those rows back at the
table's rows with :func:`relocate`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import parse
from xlplan.core.errors import concat_errors, empty_errors, errors_where
from xlplan.workbook.schema import NUMERIC_KINDS, Column, Kind, Table


def _cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text, ``""`` where blank. A number a text column holds reads as it is
    shown (``123.0`` -> ``123``)."""
    return pd.Series(parse.parse_texts(values), index=values.index, dtype=object)


def _quoted(values: pd.Series, prefix: str, suffix: str = "") -> Callable[[np.ndarray], list[str]]:
    """Messages quoting the cell, built only for the failing rows (given by position)."""

    def build(idx: np.ndarray) -> list[str]:
        cells = values.iloc[idx]
        return [f"{prefix}'{'' if v is None else str(v)[:40]}'{suffix}" for v in cells]

    return build


def coerce_table(
    raw: pd.DataFrame,
    table: Table,
    *,
    lists: Mapping[str, set[str]] | None = None,
    table_key: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed columns and error records for a raw table, vectorised per column.

    Numbers become float (NaN where blank or bad), booleans float 1.0/0.0/NaN, codes upper-case
    strings (``""`` where blank), text strings. Checks: required cells, numbers that don't
    parse, ranges, membership in ``lists[column.choices]`` where that list is given. Each bad
    cell yields one record naming row and column in zh and en; the value is then blanked so the
    row's other cells still read.
    """
    tkey = table_key or table.key
    out: dict[str, pd.Series] = {}
    errs: list[pd.DataFrame] = []
    lists = lists or {}
    for col in table.columns:
        values = (
            raw[col.key]
            if col.key in raw.columns
            else pd.Series([None] * len(raw), index=raw.index, dtype=object)
        )
        values = values.reset_index(drop=True)
        blank = pd.Series(parse.blank_mask(values), index=values.index)
        label_zh, label_en = col.zh, col.en
        if col.required:
            errs.append(
                errors_where(
                    blank,
                    table=tkey,
                    column=col.key,
                    zh=f"{label_zh}为必填项",
                    en=f"{label_en} is required",
                )
            )
        if col.kind in NUMERIC_KINDS:
            numbers, bad_numbers = parse.parse_numbers(values)
            nums = pd.Series(numbers, index=values.index, dtype=float)
            bad = pd.Series(bad_numbers, index=values.index)
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}不是数字: "),
                    en=_quoted(values, f"{label_en} is not a number: "),
                )
            )
            errs.append(_range_errors(nums, col, tkey))
            out[col.key] = nums
        elif col.kind is Kind.BOOL:
            bools, bad_bools = parse.parse_bools(values)
            flags = pd.Series(bools, index=values.index, dtype=float)
            bad = pd.Series(bad_bools, index=values.index)
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}应为 TRUE/FALSE（是/否）: "),
                    en=_quoted(values, f"{label_en} must be TRUE or FALSE: "),
                )
            )
            out[col.key] = flags
        elif col.kind is Kind.CODE:
            codes = pd.Series(parse.parse_codes(values), index=values.index, dtype=object)
            choice = col.choices or ""
            allowed = lists.get(choice) or _shipped_lists().get(choice)
            if allowed:
                aliases = _shipped_aliases().get(choice, {})
                codes, unknown = _known_codes(codes, allowed, aliases)
                errs.append(
                    errors_where(
                        unknown,
                        table=tkey,
                        column=col.key,
                        zh=_unknown(
                            codes, allowed, aliases, f"未知的{label_zh}: ", "（是否为 {}？）"
                        ),
                        en=_unknown(
                            codes,
                            allowed,
                            aliases,
                            f"unknown {label_en.lower()}: ",
                            " (did you mean {}?)",
                        ),
                    )
                )
                codes = codes.where(~unknown, "")
            out[col.key] = codes.astype(object)
        elif col.kind is Kind.DATE:
            days, bad_days = parse.parse_dates(values)
            dates = pd.Series(days, index=values.index)
            bad = pd.Series(bad_days, index=values.index)
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}不是日期: "),
                    en=_quoted(values, f"{label_en} is not a date: "),
                )
            )
            out[col.key] = dates
        elif col.kind is Kind.MONTH:
            months, bad_months = parse.plan_months(values)
            bad = pd.Series(bad_months, index=values.index)
            errs.append(
                errors_where(
                    bad,
                    table=tkey,
                    column=col.key,
                    zh=_quoted(values, f"{label_zh}不是月份（填 1-12 或 2027-03）: "),
                    en=_quoted(values, f"{label_en} is not a month (1-12 or 2027-03): "),
                )
            )
            out[col.key] = pd.Series(months, index=values.index, dtype=object).where(~bad, "")
        else:
            out[col.key] = _cell_text(values)
    frame = pd.DataFrame(out, copy=False)  # each column its own array: no 2-D block copy
    errors = concat_errors(errs) if errs else empty_errors()
    empty = blank_rows(frame)
    if empty.any() and len(errors):  # a wholly blank row is skipped, not "market is required"
        errors = errors[~empty[errors["row"].to_numpy(dtype=np.int64)]].reset_index(drop=True)
    return frame, errors


def blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a coerced frame with nothing in any cell (a gap the user left in a table)."""
    empty = np.ones(len(frame), dtype=bool)
    for key in frame.columns:
        if not empty.any():  # every row has a cell already: the other columns cannot change it
            break
        values = frame[key]
        if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            empty &= ((values == "") | values.isna()).to_numpy(dtype=bool)
        else:
            empty &= values.isna().to_numpy(dtype=bool)
    return empty


@functools.cache
def _shipped_lists() -> dict[str, set[str]]:
    return reference.code_lists()


@functools.cache
def _shipped_aliases() -> dict[str, dict[str, str]]:
    return reference.code_aliases()


def _known_codes(
    codes: pd.Series, allowed: set[str], aliases: Mapping[str, str]
) -> tuple[pd.Series, np.ndarray]:
    """Codes with the names people type mapped to them (``USA``, ``美国`` -> ``US``; ``RMB`` ->
    ``CNY``), and which are still unknown. A code is never read as an alias."""
    out = codes.to_numpy(dtype=object, copy=True)
    unknown = ((codes != "") & ~codes.isin(allowed)).to_numpy(copy=True)
    for i in np.flatnonzero(unknown):
        code = aliases.get(reference.alias_key(out[i]))
        if code is not None and code in allowed:
            out[i] = code
            unknown[i] = False
    return pd.Series(out, index=codes.index, dtype=object), unknown


def _unknown(
    codes: pd.Series, allowed: set[str], aliases: Mapping[str, str], prefix: str, hint: str
) -> Callable[[np.ndarray], list[str]]:
    """``unknown market: 'Mexcio' (did you mean MX?)``, built only for the failing rows: the
    closest code or name people type for one (``Untied States`` -> US)."""
    names = {**{reference.alias_key(c): c for c in allowed}, **aliases}

    def build(idx: np.ndarray) -> list[str]:
        out = []
        for code in codes.iloc[idx]:
            key = reference.alias_key(code)
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
            guess = names[close[0]] if close and names[close[0]] in allowed else ""
            out.append(f"{prefix}'{str(code)[:40]}'" + (hint.format(guess) if guess else ""))
        return out

    return build


def _range_errors(nums: pd.Series, col: Column, table: str) -> pd.DataFrame:
    if col.minimum is None and col.maximum is None:
        return empty_errors()
    values = nums.to_numpy(dtype=float)  # numpy, not Series arithmetic: a one-row table is
    bad = np.zeros(len(values), dtype=bool)  # what a one-line UDF reads on every call
    with np.errstate(invalid="ignore"):
        if col.minimum is not None:
            bad |= (values <= col.minimum) if col.min_exclusive else (values < col.minimum)
        if col.maximum is not None:
            bad |= (values >= col.maximum) if col.max_exclusive else (values > col.maximum)
    bad &= ~np.isnan(values)
    if not bad.any():
        return empty_errors()
    hint_zh = hint_en = ""
    if col.kind is Kind.RATE:
        hint_zh, hint_en = "（比例请填 0.15 或 15%）", " (enter a rate as 0.15 or 15%)"

    def shown(prefix: str, hint: str) -> Callable[[np.ndarray], list[str]]:
        return lambda idx: [f"{prefix}{v:.4g}{hint}" for v in nums.to_numpy()[idx]]

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
