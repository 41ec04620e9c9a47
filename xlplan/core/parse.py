"""The one cell parser: numbers, amounts, booleans, dates, months and codes, in zh and en.

Every reader of a cell is to go through here, so that a value one action accepts is accepted by
all of them, and a value one rejects is reported by all of them. Each ``parse_*`` function takes a
column of cells (a :class:`pandas.Series`, a 1-D array or a list, holding what openpyxl, a CSV
reader or xlwings hand over: ``float``, ``int``, ``str``, ``bool``, ``datetime``, ``date``,
``None``) and returns numpy arrays of the same length, by position. Per cell it gives the value and
whether the cell is *bad*: present but not readable. Blank cells are never bad; they get the blank
value (NaN, NaT, 0) and the caller decides whether a blank is allowed. Nothing is raised for a bad
cell; callers turn ``bad`` into located error records. The scalar functions
(:func:`parse_number`, :func:`parse_date`, ...) run the same code on a one-element column.

Blank: ``None``, NaN, NaT, ``pd.NA``, ``""`` and text that is only whitespace (the ideographic
space U+3000 and the no-break space included).

Text is first normalised (:func:`normalise_text`): full-width ASCII (U+FF01-U+FF5E, as a Chinese
IME types ``６．５``, ``１２％``, ``，``) and the ideographic space become ASCII; ``￥`` and ``￡``
become ``¥`` and ``£``, the minus sign U+2212 ``-``, the no-break space a space; zero-width spaces
and byte-order marks are removed; then the text is stripped.

Numbers (:func:`parse_numbers`, :func:`parse_amounts`)
    Read: ints, floats, numpy numbers, ``Decimal``; numeric text ``1234.5``, ``-3``, ``+.5``,
    ``1e3``; thousands separators in groups of three, ``1,234,567.5`` and ``1，234.5``; a percent
    or per-mille sign before or after the number, ``15%`` = 0.15, ``%15`` = 0.15, ``5‰`` = 0.005;
    an accounting negative, ``(1,234)`` = -1234, ``(15%)`` = -0.15; a unit after the number,
    ``1.2万`` = 12000, ``3亿`` = 3e8, also ``十 百 千 十万 百万 千万 十亿 百亿 千亿 万亿``,
    ``k``/``K`` (thousand) and ``M`` (million); one currency marker before or after the number:
    a symbol ``¥ $ € £ ₩ ₹ ₽ ₺ ₫ ₱ ฿ 元``, a prefixed dollar ``US$ HK$ NT$ A$ AU$ C$ CA$ S$
    SG$ NZ$ MX$ R$`` or a common ISO code in any case (``¥1,234``, ``US$5``, ``CNY 100``,
    ``100 usd``, ``RMB 1.2万``, ``1.2万元``, ``-$5``, ``($1,234)``). Spaces between the parts are
    allowed.
    Bad: booleans (a TRUE in a number column is a typing mistake), dates, non-finite numbers
    (inf, ``1e309``, an int too large for a float, ``1e305亿``), ``nan``/``inf`` typed as text, a
    lone ``-`` (the accounting zero: say 0), ``abc``, ``1.2.3``, ``--5``, ``(-5)``, ``(5``,
    groups that are not three digits (``12,5`` is a European decimal comma, not 125, and
    ``1,2345`` a slip), spaces as thousands separators, a percent with a unit or a currency
    (``¥15%``), two currency markers (``$5 USD``, ``¥1.2万元``), lowercase ``m`` (metres or
    million?), digits other than ASCII and full-width ones.
    A currency marker is not converted: :func:`parse_numbers` drops it, :func:`parse_amounts`
    returns it, so a caller that knows the column's currency can refuse ``$12.50`` in a CNY column.

Booleans (:func:`parse_bools`)
    One vocabulary for the whole product, :data:`TRUE_WORDS` / :data:`FALSE_WORDS`, matched after
    normalising and case-folding: TRUE/FALSE, yes/no, y/n, 1/0, 是/否, 对/错, 真/假, 有/无,
    可抵扣/不可抵扣, ✓/✗, ✔/✘, √/×, and 不 (false); plain numeric text equal to 1 or 0
    (``1.0``); the numbers 1 and 0; Python and numpy booleans. Anything else is bad (``2``,
    ``100%``, ``x``: a cross is a tick to some people and a no to others).

Dates (:func:`parse_dates`)
    Read: ``datetime``, ``date``, ``pd.Timestamp``, ``np.datetime64``, as the date written on them
    (a time of day and a time zone are dropped, not converted); Excel serial numbers of the 1900
    date system from 1 to 99999 and from 1000000 to 2958465 (serials 1-59 count from 1900-01-01;
    60 is Excel's 1900-02-29, a day that never was, and is bad; from 61 on they count from
    1899-12-30; a fraction is a time of day and is dropped); whole numbers 19000101-99991231 as
    ``yyyymmdd``; text ``2026-06-30``, ``2026/6/30``, ``2026.6.30`` (also with a time,
    ``2026-06-30 14:05:00``, ``2026-06-30T14:05+08:00``), ``20260630``, ``2026年6月30日``,
    ``2026年06月30号``, ``30 June 2026``, ``30 Jun 2026``, ``30-Jun-2026``, ``30th June 2026``,
    ``June 30, 2026``, ``Jun 30 2026``; and ``d/m/yyyy`` or ``m/d/yyyy`` (``/``, ``-`` or ``.``)
    when only one order makes a date: ``13/02/2026`` and ``02/13/2026`` are both 13 February,
    ``05/05/2026`` is 5 May, ``01/02/2026`` is bad (1 February or 2 January: never guessed).
    A month without a day (``2026年6月``, ``2026-06``, ``2026/6``, ``202606``, ``June 2026``,
    ``06/2026``, and whole numbers 100000-999999 as ``yyyymm``) is bad, since any day would be a
    guess, unless ``month_start=True`` reads it as the first of the month.
    Bad: dates before 1900-01-01 or after 9999-12-31, days that do not exist (``2026-02-30``,
    ``2026-13-01``), two-digit years (``30-Jun-26``), numbers outside the ranges above (0, -2,
    3000000), numeric text that is not ``yyyymmdd`` (``46203``: a serial typed as text is not
    trusted), ``明年一月``, ``next year``, booleans.
    Values are ``datetime64[s]``: nanoseconds, pandas' old default unit, end in 2262.

Months (:func:`parse_months`)
    Read: the year and month of every date :func:`parse_dates` reads (``2027-03-15``, a datetime, a
    serial); the month forms above (``2027-03``, ``2027/3``, ``2027.03``, ``202703``, ``2027年3月``,
    ``2027年03月份``, ``Mar 2027``, ``March 2027``, ``03/2027``). With ``year`` given, also a month
    alone, in that year: ``3``, ``3.0``, ``"3"``, ``"03"``, ``3月``, ``三月``, ``十二月``, ``Mar``,
    ``March``; without ``year`` these are bad.
    Bad: month 0 or 13; other numbers below 10000 (as serials they would be days of 1900-1927;
    a year such as 2027 or a mistyped month is far likelier); ambiguous ``01/02/2027``; whatever
    :func:`parse_dates` finds bad.

Codes (:func:`parse_codes`): normalised, upper-cased text; a whole number without ``.0`` (a SKU
typed as 123 arrives as 123.0 and reads ``"123"``); blanks ``""``.

Speed. Python floats and ints and typed columns (float, int, bool, datetime64) are read as arrays;
other cells are parsed once per distinct value (``pd.factorize``) and spread back. Plain and
thousands-grouped numeric text is matched with pyarrow's regex engine when there are many
distinct strings; only the other forms go through a Python regex.

Measured on a 1,000,000-cell column, best of 7, on a shared 2-core AMD EPYC VM (load average 2
from other work) with Python 3.11, pandas 3.1, numpy 2.4. "Mixed" is 70% Python floats, 10% None,
10% plain numeric text, 10% formatted text (``1,234.50``, ``12.3%``, ``¥0.1234万``, junk)::

    parse_numbers, float64 column                            0.04 s
    parse_numbers, object column of Python floats and None   0.10 s
    parse_numbers, mixed, every value distinct               0.31 s
    parse_numbers, mixed, 1,000 distinct values              0.13 s
    parse_numbers, "1,234.56" text, every value distinct     0.93 s
    blank_mask, mixed, every value distinct                  0.17 s
    parse_dates, ISO / 年月日 / serial / date mix, 3,650 days   0.22 s
    parse_dates, float64 serials                             0.07 s
    parse_months, text months and datetimes, 2,400 distinct  0.13 s
    parse_bools, TRUE/FALSE/是/否/None                        0.09 s
    parse_codes, 5 distinct values                           0.03 s

One cell through a scalar function takes 0.1-0.4 ms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.core.columns import factorize

Cells: TypeAlias = "pd.Series | npt.NDArray[Any] | Sequence[object]"
"""A column of cells: a Series, a 1-D array or a list."""

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]
ObjectArray: TypeAlias = npt.NDArray[np.object_]
DateArray: TypeAlias = npt.NDArray[np.datetime64]


class Parsed(NamedTuple):
    """Numbers or flags read from a column, by position."""

    values: FloatArray
    """The value; NaN where the cell is blank or bad."""
    bad: BoolArray
    """True where the cell holds something that is not readable (never for a blank)."""


class ParsedAmounts(NamedTuple):
    """Amounts read from a column: :class:`Parsed` and the currency marker typed with each."""

    values: FloatArray
    bad: BoolArray
    currency: ObjectArray
    """The marker as typed, upper-cased (``"¥"``, ``"US$"``, ``"CNY"``, ``"元"``); else ``""``."""


class ParsedDates(NamedTuple):
    """Dates read from a column, by position."""

    values: DateArray
    """``datetime64[s]`` at midnight; NaT where the cell is blank or bad."""
    bad: BoolArray


class ParsedMonths(NamedTuple):
    """Calendar months read from a column, by position."""

    year: IntArray
    """The year; 0 where the cell is blank or bad."""
    month: IntArray
    """The month 1-12; 0 where the cell is blank or bad."""
    bad: BoolArray


TRUE_WORDS: frozenset[str] = frozenset(
    {"true", "yes", "y", "1", "是", "对", "真", "有", "可抵扣", "✓", "✔", "√"}
)
"""Text read as true, case-folded (``TRUE``, ``Yes`` and ``ｙｅｓ`` match too)."""
FALSE_WORDS: frozenset[str] = frozenset(
    {"false", "no", "n", "0", "否", "不", "错", "假", "无", "不可抵扣", "✗", "✘", "×"}
)
"""Text read as false, case-folded."""

MAX_EXCEL_SERIAL = 2958465
"""Serial of 9999-12-31, the last day Excel's 1900 date system has."""

# ---------------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------------

_NORMALISE: dict[int, str | None] = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_NORMALISE.update(
    {
        0x3000: " ",  # ideographic space
        0x00A0: " ",  # no-break space
        0x2212: "-",  # minus sign
        0xFFE5: "¥",  # full-width yen/yuan sign
        0xFFE1: "£",  # full-width pound sign
        0x200B: None,  # zero-width space
        0xFEFF: None,  # byte-order mark, left at the start of a pasted cell
    }
)


def _normalise_strs(strs: ObjectArray) -> ObjectArray:
    # Most cells are ASCII; skipping translate() for them makes this ten times faster.
    return np.array(
        [s.strip() if s.isascii() else s.translate(_NORMALISE).strip() for s in strs],
        dtype=object,
    )


# ---------------------------------------------------------------------------------------------
# Cells by kind: a typed column is read as one array, anything else once per distinct value
# ---------------------------------------------------------------------------------------------

_TEXT, _NUMBER, _BOOL, _DATETIME, _OTHER = range(5)

_KIND_OF_TYPE: dict[type, int] = {
    str: _TEXT,
    float: _NUMBER,
    int: _NUMBER,
    bool: _BOOL,
    np.bool_: _BOOL,
    np.float64: _NUMBER,
    np.int64: _NUMBER,
    datetime: _DATETIME,
    date: _DATETIME,
    pd.Timestamp: _DATETIME,
    np.datetime64: _DATETIME,
}

_NAT = np.iinfo(np.int64).min  # int64 value of NaT: days are kept as int64 until the end
_FIRST_DAY = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_LAST_DAY = int(np.datetime64("9999-12-31", "D").astype(np.int64))


def _kind_of(value: object) -> int:
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        return _NUMBER
    if isinstance(value, (date, np.datetime64)):
        return _DATETIME
    return _OTHER


def _series(values: Cells) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, (str, bytes)):
        raise TypeError("expected a column of cells, got one string; use the scalar function")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"expected a 1-D column of cells, got shape {values.shape}")
        if values.dtype == object:
            # Cells as they are: pandas 3 would turn an array of only text into an Arrow
            # string column first, then read it back (coded_texts: ~0.15 ms more for one
            # cell, ~75 ms more for a million).
            return pd.Series(values, dtype=object, copy=False)
        return pd.Series(values)
    return pd.Series(list(values), dtype=object)


class _Typed(NamedTuple):
    kind: int
    payload: npt.NDArray[Any]
    present: BoolArray


def _typed_column(s: pd.Series) -> _Typed | None:
    """The column as one array when its dtype already says what every cell is."""
    dtype = s.dtype
    types = pd.api.types
    if types.is_bool_dtype(dtype):
        flags = s.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(flags)
        return _Typed(_BOOL, flags[present] == 1.0, present)
    if types.is_integer_dtype(dtype) or types.is_float_dtype(dtype):
        numbers = s.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(numbers)
        return _Typed(_NUMBER, numbers[present], present)
    if types.is_datetime64_any_dtype(dtype):
        stamps = s.dt.tz_localize(None) if getattr(dtype, "tz", None) is not None else s
        moments = stamps.to_numpy()
        present = ~np.isnat(moments)
        return _Typed(_DATETIME, moments[present].astype("datetime64[D]").astype(np.int64), present)
    if types.is_timedelta64_dtype(dtype):
        present = s.notna().to_numpy(dtype=bool)
        return _Typed(_OTHER, np.zeros(int(present.sum())), present)
    return None


class _Distinct(NamedTuple):
    codes: npt.NDArray[np.intp]  # position of each cell's value in uniques; -1 = blank
    uniques: ObjectArray
    kinds: npt.NDArray[np.int8]


def _distinct_of(values: Cells) -> _Distinct:
    """The cells' distinct values; an object array's without a Series made around it (~30 us,
    paid on every text column of a one-line UDF's row)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return _distinct_cells(values)
    return _distinct(_series(values))


def _distinct(s: pd.Series) -> _Distinct:
    if isinstance(s.dtype, pd.StringDtype):
        codes, text = pd.factorize(s)
        return _Distinct(
            codes, np.asarray(text, dtype=object), np.full(len(text), _TEXT, dtype=np.int8)
        )
    return _distinct_cells(s.to_numpy(dtype=object))


class _Unreadable:
    """Stands in for a cell that cannot be hashed (a list, a signalling NaN): always bad."""

    def __repr__(self) -> str:
        return "<unreadable>"


_UNREADABLE = _Unreadable()


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _distinct_cells(cells: ObjectArray) -> _Distinct:
    try:
        codes, uniq = factorize(cells)
    except TypeError:  # only in this rare case pay for a look at every cell
        cells = np.array([v if _hashable(v) else _UNREADABLE for v in cells], dtype=object)
        codes, uniq = factorize(cells)
    uniques = np.asarray(uniq, dtype=object)
    types = np.frompyfunc(type, 1, 1)(uniques)
    is_str = types == str  # noqa: E721 (elementwise over an array of types)
    kinds = np.where(is_str, _TEXT, -1).astype(np.int8)
    for i in np.flatnonzero(kinds == -1):
        kinds[i] = _KIND_OF_TYPE.get(types[i], -1)
        if kinds[i] == -1:
            kinds[i] = _kind_of(uniques[i])
    return _split_bools(cells, _Distinct(codes, uniques, kinds))


def _split_bools(cells: ObjectArray, d: _Distinct) -> _Distinct:
    """Give True/False their own codes apart from 1/0: hashing counts True == 1 as one value."""
    kinds = d.kinds
    numbers = np.flatnonzero(kinds == _NUMBER)
    zero_or_one = numbers[[u == 0 or u == 1 for u in d.uniques[numbers]]]
    suspect = np.concatenate([np.flatnonzero(kinds == _BOOL), zero_or_one])
    if not suspect.size:
        return d
    where = np.flatnonzero(np.isin(d.codes, suspect))
    is_bool = np.fromiter(
        (isinstance(v, (bool, np.bool_)) for v in cells[where]), dtype=bool, count=len(where)
    )
    moved = where[is_bool != (kinds[d.codes[where]] == _BOOL)]
    if not moved.size:
        return d
    codes = d.codes.copy()
    old, first = np.unique(d.codes[moved], return_index=True)
    new = len(d.uniques) + np.arange(len(old))
    codes[moved] = new[np.searchsorted(old, d.codes[moved])]
    added = cells[moved[first]]
    added_kinds = np.where(kinds[old] == _BOOL, _NUMBER, _BOOL).astype(np.int8)
    return _Distinct(
        codes, np.concatenate([d.uniques, added]), np.concatenate([kinds, added_kinds])
    )


def _floats(objs: ObjectArray) -> FloatArray:
    try:
        return objs.astype(np.float64)
    except (OverflowError, ValueError, TypeError):  # one int too large: it alone is bad
        return np.array([_float_or_inf(v) for v in objs], dtype=np.float64)


def _float_or_inf(value: Any) -> float:
    """The number, or a non-finite one (which every parser reads as bad)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf")
    except (ValueError, TypeError):
        return float("nan")


def _days_of(objs: ObjectArray) -> IntArray:
    """Days since 1970-01-01 of the date as written (time and time zone dropped)."""
    epoch = date(1970, 1, 1).toordinal()
    return np.array(
        [
            int(v.astype("datetime64[D]").astype(np.int64))
            if isinstance(v, np.datetime64)
            else v.toordinal() - epoch
            for v in objs
        ],
        dtype=np.int64,
    )


_Handler = Callable[[npt.NDArray[Any]], tuple[npt.NDArray[Any], ...]]
"""Reads the present cells of one kind: returns one array per field, then ``bad``."""


class _Field(NamedTuple):
    dtype: type
    blank: object


def _parse(
    values: Cells, fields: Sequence[_Field], handlers: Mapping[int, _Handler]
) -> list[npt.NDArray[Any]]:
    """Run ``handlers`` on each kind of cell; cells of a kind without a handler are bad.

    Returns the fields then ``bad``, one value per cell. Blank cells get each field's blank value.
    """
    s = _series(values)
    out = _blank_fields(fields, len(s))
    typed = _typed_column(s)
    if typed is not None:
        _apply(out, fields, handlers, typed.kind, typed.payload, typed.present)
        return out
    if isinstance(s.dtype, pd.StringDtype):
        rest = np.arange(len(s))
        d = _distinct(s)
    else:
        # Python floats and ints are read straight away: hashing a million distinct floats to
        # find the distinct values costs more than reading them all.
        cells = s.to_numpy(dtype=object)
        # pandas' C type inference first: a column of blanks is blank, and a column of text
        # (the common code or label column) needs no look at each cell's type.
        inferred = pd.api.types.infer_dtype(cells, skipna=True)
        if inferred == "empty":
            return out
        if inferred == "string":
            return _read_distinct(out, fields, handlers, _distinct_cells(cells), slice(None))
        cell_types = np.frompyfunc(type, 1, 1)(cells)
        # Elementwise over an array of types; bool (a subclass of int) stays out.
        number = (cell_types == float) | (cell_types == int)  # noqa: E721
        if number.any():
            x = _floats(cells[number])
            present = ~np.isnan(x)
            _apply(out, fields, handlers, _NUMBER, x[present], np.flatnonzero(number)[present])
        # None, the common blank, is blank without being hashed; a column left with nothing
        # else to read returns here (a one-row table's cells, a numeric column of floats).
        rest = np.flatnonzero(~number & (cell_types != type(None)))  # noqa: E721
        if not rest.size:
            return out
        return _read_distinct(out, fields, handlers, _distinct_cells(cells[rest]), rest)
    return _read_distinct(out, fields, handlers, d, rest)


def _read_distinct(
    out: list[npt.NDArray[Any]],
    fields: Sequence[_Field],
    handlers: Mapping[int, _Handler],
    d: _Distinct,
    rest: npt.NDArray[Any] | slice,
) -> list[npt.NDArray[Any]]:
    """Read the distinct cells ``d`` of the cells at ``rest`` once each, into ``out``."""
    per_value = _blank_fields(fields, len(d.uniques) + 1)  # the extra last slot is for blanks
    for kind in map(int, np.unique(d.kinds)):
        where = np.flatnonzero(d.kinds == kind)
        if kind == _TEXT:
            text = _normalise_strs(d.uniques[where])
            filled = text != ""
            _apply(per_value, fields, handlers, _TEXT, text[filled], where[filled])
        elif kind == _NUMBER:
            _apply(per_value, fields, handlers, _NUMBER, _floats(d.uniques[where]), where)
        elif kind == _BOOL:
            _apply(per_value, fields, handlers, _BOOL, d.uniques[where].astype(bool), where)
        elif kind == _DATETIME:
            _apply(per_value, fields, handlers, _DATETIME, _days_of(d.uniques[where]), where)
        else:
            _apply(per_value, fields, handlers, _OTHER, d.uniques[where], where)
    for column, by_value in zip(out, per_value, strict=True):
        column[rest] = by_value[d.codes]
    return out


def _blank_fields(fields: Sequence[_Field], n: int) -> list[npt.NDArray[Any]]:
    out: list[npt.NDArray[Any]] = []
    for f in fields:
        column: npt.NDArray[Any] = np.empty(n, dtype=f.dtype)
        column.fill(f.blank)  # np.full is ~6x slower on an object column (10 ms a million)
        out.append(column)
    out.append(np.zeros(n, dtype=bool))
    return out


def _apply(
    out: list[npt.NDArray[Any]],
    fields: Sequence[_Field],
    handlers: Mapping[int, _Handler],
    kind: int,
    payload: npt.NDArray[Any],
    where: npt.NDArray[Any],
) -> None:
    handler = handlers.get(kind)
    if handler is None:
        out[-1][where] = True
        return
    *results, bad = handler(payload)
    for column, result, field in zip(out, results, fields, strict=False):
        column[where] = np.where(bad, np.array(field.blank, dtype=field.dtype), result)
    out[-1][where] = bad


class _Groups(NamedTuple):
    matched: BoolArray
    text: dict[str, ObjectArray]  # each named group's text, "" where it took no part


def _groups(strs: ObjectArray, pattern: re.Pattern[str]) -> _Groups:
    found = [pattern.fullmatch(s) for s in strs]
    matched = np.array([m is not None for m in found], dtype=bool)
    text = {
        name: np.array([(m[name] or "") if m else "" for m in found], dtype=object)
        for name in pattern.groupindex
    }
    return _Groups(matched, text)


_BULK = 2000
"""From this many distinct strings on, simple patterns run on pyarrow's regex engine."""


def _fullmatch(strs: ObjectArray, pattern: re.Pattern[str]) -> BoolArray:
    """Whether each string matches ``pattern`` (which must mean the same in RE2 and Python)."""
    if len(strs) >= _BULK:
        try:
            text = pd.Series(strs, dtype=pd.StringDtype("pyarrow"))
        except (ImportError, ValueError, TypeError):  # no pyarrow; a lone surrogate
            pass
        else:
            return text.str.fullmatch(pattern.pattern).to_numpy(dtype=bool, na_value=False)
    return np.array([pattern.fullmatch(s) is not None for s in strs], dtype=bool)


def _to_float(strs: npt.NDArray[Any]) -> FloatArray:
    """Numbers from strings already matched as numbers, each read by ``float`` (correctly
    rounded). Not ``pd.to_numeric``: pandas 3.1 reads ``+10E110`` one unit in the last place
    off (1.0000000000000001e+111), so the same cell would read differently here and in Arrow's
    cast of a CSV column."""
    if not len(strs):
        return np.zeros(0)
    return np.asarray(strs, dtype=object).astype(np.float64)


def _ints(strs: ObjectArray) -> IntArray:
    """Integers from digit groups; 0 where the group is empty."""
    return np.array(
        [max(-_INT_LIMIT, min(_INT_LIMIT, int(v))) if v else 0 for v in strs], dtype=np.int64
    )


_INT_LIMIT = 10**9


# ---------------------------------------------------------------------------------------------
# Text, blanks, codes
# ---------------------------------------------------------------------------------------------


def normalise_text(values: Cells) -> pd.Series:
    """Text cells normalised, other cells as they are, blanks as ``""``; index kept.

    Text is stripped; full-width ASCII (U+FF01-U+FF5E) and the ideographic space (U+3000) become
    ASCII, ``￥``/``￡`` become ``¥``/``£``, U+2212 becomes ``-``, the no-break space a space;
    zero-width spaces and byte-order marks are removed. Whitespace-only text becomes ``""``.
    """
    s = _series(values)
    d = _distinct(s)
    cells = s.to_numpy(dtype=object, copy=True)
    text = np.append(d.kinds == _TEXT, False)[d.codes]
    if text.any():
        normalised = np.empty(len(d.uniques), dtype=object)
        is_text = d.kinds == _TEXT
        normalised[is_text] = _normalise_strs(d.uniques[is_text])
        cells[text] = normalised[d.codes[text]]
    cells[d.codes == -1] = ""
    return pd.Series(cells, index=s.index, name=s.name, dtype=object)


def blank_mask(values: Cells) -> BoolArray:
    """True where a cell is blank: None, NaN, NaT, ``pd.NA``, ``""`` or whitespace only.

    These are exactly the cells every ``parse_*`` function leaves blank and never calls bad.
    """
    floats = _float_cells(values)
    if floats is not None:
        return np.isnan(floats)
    present, _ = _parse(values, (_Field(np.bool_, False),), _PRESENT)
    return ~present


def _float_cells(values: Cells) -> FloatArray | None:
    """A 1-D column whose dtype is a float one as float64 (NaN where blank), else None: the
    common case of a numeric column read in one pass, without the per-kind machinery."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "O" and getattr(values, "ndim", 1) == 1:
        return _number_objects(np.asarray(values, dtype=object))
    if dtype is None or not pd.api.types.is_float_dtype(dtype):
        return None
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return np.asarray(values, dtype=np.float64)
    return None


_NUMBER_INFERRED = frozenset({"floating", "integer", "mixed-integer-float", "empty"})
"""pandas' inferred types of a column whose present cells are all numbers (ints, floats,
numpy numbers; no booleans, no Decimal) or which is all blank."""


def _number_objects(cells: ObjectArray) -> FloatArray | None:
    """An object column of numbers and blanks (None, NaN) as float64, NaN where blank; None
    when it holds anything else (or an int too large for a float): what the per-kind reading
    makes of it, in one conversion."""
    if pd.api.types.infer_dtype(cells, skipna=True) not in _NUMBER_INFERRED:
        return None
    try:
        return np.array(cells.tolist(), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None


def _present(cells: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], ...]:
    return np.ones(len(cells), dtype=bool), np.zeros(len(cells), dtype=bool)


_PRESENT: dict[int, _Handler] = dict.fromkeys((_TEXT, _NUMBER, _BOOL, _DATETIME, _OTHER), _present)


def parse_codes(values: Cells) -> ObjectArray:
    """Codes (markets, currencies, SKUs) as normalised upper-case text; ``""`` where blank.

    A whole number reads without a decimal part (123.0 -> ``"123"``), a boolean as ``TRUE`` or
    ``FALSE``; anything else as its text, upper-cased.
    """
    d = _distinct_of(values)
    return _codes_read(d)[d.codes]


def _codes_read(d: _Distinct) -> ObjectArray:
    """What each distinct cell reads as a code, and ``""`` last (the blank cells' code -1)."""
    codes = np.empty(len(d.uniques) + 1, dtype=object)
    codes[-1] = ""
    is_text = d.kinds == _TEXT
    codes[:-1][is_text] = np.array(
        [t.upper() for t in _normalise_strs(d.uniques[is_text])], dtype=object
    )
    for i in np.flatnonzero(~is_text):
        codes[i] = _code_text(d.uniques[i], int(d.kinds[i]))
    return codes


def coded_texts(values: Cells, *, codes: bool = True) -> tuple[IntArray, ObjectArray]:
    """:func:`parse_codes` (or :func:`parse_texts` with ``codes=False``) as codes into the
    distinct values read: ``categories[codes]`` is what those functions return. Each distinct
    cell is read once and no string is made per cell, so a column of a million lines with a
    few distinct values costs one hashing pass. ``categories`` holds ``""`` when a cell is
    blank, and no value twice (``" us"`` and ``"US"`` read as one code)."""
    d = _distinct_of(values)
    read = _codes_read(d) if codes else _texts_read(d)  # the distinct cells read, then ""
    again, categories = factorize(read)
    return np.asarray(again, dtype=np.int64)[d.codes], np.asarray(categories, dtype=object)


def plan_months(values: Cells) -> tuple[ObjectArray, BoolArray]:
    """Month cells of a plan, before the plan year is known: a month alone (``3``, ``3月``,
    ``Mar``) reads as ``"3"``, a year and month (``2027-03``, ``2027年3月``, a date) as
    ``"2027-03"``; and where a cell is not a month. Blank cells are ``""``."""
    _, month_alone, bad = parse_months(values, year=_PLACEHOLDER_YEAR)
    dated, _ = month_texts(values)
    _, _, needs_year = parse_months(values)
    out = dated.copy()
    alone = needs_year & ~bad
    out[alone] = [str(int(m)) for m in month_alone[alone]]
    return out, bad


_PLACEHOLDER_YEAR = 2000


def month_texts(values: Cells, *, year: int | None = None) -> tuple[ObjectArray, BoolArray]:
    """Months as ``YYYY-MM`` text (what sheets and tables compare), and where a cell is not a
    month (:func:`parse_months`); an unreadable cell keeps its own text, ``""`` where blank."""
    years, months, bad = parse_months(values, year=year)
    texts = parse_texts(values)
    ok = (years > 0) & ~bad
    out = texts.copy()
    out[ok] = [f"{y:04d}-{m:02d}" for y, m in zip(years[ok], months[ok], strict=True)]
    return out, bad


def parse_texts(values: Cells) -> ObjectArray:
    """Text cells as typed, stripped; ``""`` where blank. Unlike codes, text keeps its case and
    its characters (a note, a product name); a whole number reads without a decimal part
    (123.0 -> ``"123"``), a date as ``2026-06-30``."""
    d = _distinct_of(values)
    return _texts_read(d)[d.codes]


def _texts_read(d: _Distinct) -> ObjectArray:
    """What each distinct cell reads as text, and ``""`` last (the blank cells' code -1)."""
    texts = np.empty(len(d.uniques) + 1, dtype=object)
    texts[-1] = ""
    for i, (value, kind) in enumerate(zip(d.uniques, d.kinds, strict=True)):
        if kind == _TEXT:
            texts[i] = str(value).strip()
        elif kind == _DATETIME:
            texts[i] = pd.Timestamp(value).strftime("%Y-%m-%d")
        elif kind == _BOOL:
            texts[i] = "TRUE" if value else "FALSE"
        else:
            texts[i] = _code_text(value, int(kind)) if kind == _NUMBER else str(value).strip()
    return texts


def _code_text(value: Any, kind: int) -> str:
    if kind == _BOOL:
        return "TRUE" if value else "FALSE"
    if kind == _NUMBER:
        number = _float_or_inf(value)
        if np.isfinite(number) and number.is_integer() and abs(number) < 1e16:
            return str(int(number))
    return str(value).strip().upper()


# ---------------------------------------------------------------------------------------------
# Numbers and amounts
# ---------------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")

_CURRENCY_CODES = (
    "CNY RMB USD EUR GBP JPY HKD TWD KRW AUD CAD NZD SGD MXN BRL INR RUB TRY AED SAR THB VND PHP "
    "MYR IDR PLN SEK NOK DKK CHF CZK HUF ZAR CLP COP PEN ARS ILS EGP NGN"
).split()
_MARKER = (
    r"(?i:(?:US|HK|NT|AU|A|CA|C|SG|S|NZ|MX|R)\$|[$¥€£₩₹₽₺₫₱฿元]"
    rf"|(?:{'|'.join(_CURRENCY_CODES)})(?![a-z]))"
)
_UNIT_POWER = {
    "十": 1,
    "百": 2,
    "千": 3,
    "万": 4,
    "十万": 5,
    "百万": 6,
    "千万": 7,
    "亿": 8,
    "十亿": 9,
    "百亿": 10,
    "千亿": 11,
    "万亿": 12,
    "k": 3,
    "K": 3,
    "M": 6,
}
_FORMATTED_NUMBER = re.compile(
    rf"""\A
    (?P<open>\()?\s*
    (?P<sign1>[-+])?\s*
    (?P<cur1>{_MARKER})?\s*
    (?P<sign2>[-+])?\s*
    (?P<pct1>[%‰])?\s*
    (?P<num>(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)
    (?:[eE](?P<exp>[-+]?[0-9]+))?\s*
    (?P<unit>万亿|[十百千]?[万亿]|[十百千kKM])?\s*
    (?P<pct2>[%‰])?\s*
    (?P<cur2>{_MARKER})?\s*
    (?P<close>\))?
    \Z""",
    re.VERBOSE,
)


def _amounts_from_text(strs: ObjectArray) -> tuple[FloatArray, ObjectArray, BoolArray]:
    values = np.full(len(strs), np.nan)
    markers = np.full(len(strs), "", dtype=object)
    plain = _fullmatch(strs, _PLAIN_NUMBER)
    values[plain] = _to_float(strs[plain])
    other = np.flatnonzero(~plain)
    is_grouped = _fullmatch(strs[other], _GROUPED_NUMBER)
    grouped, rest = other[is_grouped], other[~is_grouped]
    values[grouped] = _to_float(np.array([s.replace(",", "") for s in strs[grouped]], dtype=object))
    if rest.size:
        values[rest], markers[rest] = _formatted_amounts(strs[rest])
    return values, markers, ~np.isfinite(values)


def _formatted_amounts(strs: ObjectArray) -> tuple[FloatArray, ObjectArray]:
    matched, g = _groups(strs, _FORMATTED_NUMBER)

    def has(group: str) -> BoolArray:
        return np.asarray(g[group] != "", dtype=bool)

    paren, sign1, sign2 = has("open") & has("close"), has("sign1"), has("sign2")
    pct, unit, cur1, cur2 = has("pct1") | has("pct2"), has("unit"), has("cur1"), has("cur2")
    ok = (
        matched
        & (has("open") == has("close"))
        & ~(paren & (sign1 | sign2))
        & ~(sign1 & sign2)
        & ~(has("pct1") & has("pct2"))
        & ~(pct & (unit | cur1 | cur2))
        & ~(cur1 & cur2)
    )
    percent = g["pct1"] + g["pct2"]
    # Scale by editing the decimal exponent, not by multiplying: "15%" reads as 15e-2, which is
    # the float nearest 0.15, while 15 * 0.01 is not.
    power = (
        _ints(g["exp"]).clip(-9999, 9999)
        + np.array([_UNIT_POWER.get(u, 0) for u in g["unit"]], dtype=np.int64)
        - 2 * (percent == "%")
        - 3 * (percent == "‰")
    )
    scientific = [
        f"{num.replace(',', '')}e{p}" if num else "nan"
        for num, p in zip(g["num"], power.tolist(), strict=True)
    ]
    magnitude = _to_float(np.array(scientific, dtype=object))
    negative = paren | (g["sign1"] == "-") | (g["sign2"] == "-")
    values = np.where(ok, np.where(negative, -magnitude, magnitude), np.nan)
    markers = np.array([m.upper() for m in g["cur1"] + g["cur2"]], dtype=object)
    return values, np.where(ok, markers, "").astype(object)


def _numbers_from_floats(x: FloatArray) -> tuple[FloatArray, BoolArray]:
    return x, ~np.isfinite(x)


def _amount_handlers() -> dict[int, _Handler]:
    def from_floats(x: FloatArray) -> tuple[npt.NDArray[Any], ...]:
        values, bad = _numbers_from_floats(x)
        return values, np.full(len(x), "", dtype=object), bad

    return {_NUMBER: from_floats, _TEXT: _amounts_from_text}


_AMOUNT_FIELDS = (_Field(np.float64, np.nan), _Field(object, ""))


_PLAIN_DECIMAL_RE2 = r"^-?[0-9]{1,15}(?:\.[0-9]{1,15})?$"
"""A cell written as a plain decimal (``72.52``, ``-3``, ``0.015``): ASCII digits, a minus
sign and a point at most, no spaces; short enough that its number is finite."""


class _Bulk(NamedTuple):
    """A text column's cells read in bulk: where its numbers written as such are and their
    numbers, and where it is blank (no text at all, or ``""``)."""

    where: npt.NDArray[np.intp]
    numbers: FloatArray
    blank: BoolArray


def _bulk_numbers(values: Cells) -> _Bulk | None:
    """Where an Arrow-backed text column (a CSV's) holds numbers written as such, and their
    numbers, read by Arrow's kernels, and where it is blank. None for any other column.

    A column whose every filled cell Arrow's cast reads as a number (``72.52``, ``-3``,
    ``1e5``, ``+.5``: signs, points and exponents, ASCII digits, no spaces, correctly
    rounded as ``float`` reads them) is read by that one cast; its finite numbers are the
    cells' numbers, as the cell-by-cell reading makes them (``inf``, ``nan`` and numbers too
    big for a float are left to it: they are bad). Any other column (one cell such as ``15%``
    or ``1,234`` makes the cast refuse) has its plain decimals matched (~25 ms a million
    cells, twice the cast) and cast. The rest is read cell by cell. This skips hashing a
    million distinct prices and reading each in Python, and a blank cell is blank without
    being read at all (a column of a CSV left empty on most lines)."""
    dtype = getattr(values, "dtype", None)
    if not isinstance(values, pd.Series) or not isinstance(dtype, pd.StringDtype):
        return None
    if dtype.storage != "pyarrow" or len(values) < _BULK:
        return None
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    # The kernels run on the cells that hold text: a column left empty on most lines is
    # read on its few values, not on a million nulls.
    blank = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    filled = np.flatnonzero(~blank)
    if filled.size < len(arr):
        arr = arr.take(pa.array(filled))
    empty = pc.equal(arr, "")
    empty_at = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    if empty_at.any():
        blank[filled[empty_at]] = True
        filled = filled[~empty_at]
        arr = arr.filter(pc.invert(empty))
    try:
        numbers = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        read = np.isfinite(numbers)
        numbers = numbers[read]
    except pa.ArrowInvalid:  # some cell is not a number written as such
        plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_DECIMAL_RE2), False)
        read = np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool)
        numbers = pc.cast(arr.filter(plain), pa.float64()).to_numpy(zero_copy_only=False)
    return _Bulk(filled[read], np.asarray(numbers, dtype=np.float64), blank)


def _amounts(values: Cells) -> list[npt.NDArray[Any]]:
    """Amounts, markers and bad flags (:func:`_parse` with the amount handlers); a text
    column's numbers written as such and its blanks read first, in bulk
    (:func:`_bulk_numbers`), the rest as ever."""
    bulk = _bulk_numbers(values)
    if bulk is None:
        return _parse(values, _AMOUNT_FIELDS, _amount_handlers())
    s = _series(values)
    out = _blank_fields(_AMOUNT_FIELDS, len(s))
    out[0][bulk.where] = bulk.numbers  # finite: no marker, not bad
    rest = ~bulk.blank
    rest[bulk.where] = False
    if rest.any():
        at = np.flatnonzero(rest)
        parts = _parse(s.iloc[at], _AMOUNT_FIELDS, _amount_handlers())
        for column, part in zip(out, parts, strict=True):
            column[at] = part
    return out


def parse_amounts(values: Cells) -> ParsedAmounts:
    """Amounts: :func:`parse_numbers`, with the currency marker typed in each cell.

    The marker is returned as typed, upper-cased (``"¥"``, ``"US$"``, ``"CNY"``, ``"RMB"``,
    ``"元"``), ``""`` where there is none. It is not mapped to a currency (``¥`` is CNY or JPY,
    ``$`` one of many); the caller compares it with the column's currency.
    """
    amounts, markers, bad = _amounts(values)
    return ParsedAmounts(amounts, bad, markers)


def parse_numbers(values: Cells) -> Parsed:
    """Numbers from cells [same unit as typed; a percent becomes a fraction].

    ``15%`` -> 0.15, ``1,234.5`` -> 1234.5, ``(1,234)`` -> -1234, ``1.2万`` -> 12000, ``¥1,234``
    -> 1234, ``６．５`` -> 6.5. Blanks are NaN and not bad; booleans, dates, text that is not a
    number and non-finite numbers are bad. The full list of forms is in the module docstring.
    """
    floats = _float_cells(values)
    if floats is not None:
        infinite = np.isinf(floats)
        return Parsed(np.where(infinite, np.nan, floats), infinite)
    amounts, _, bad = _amounts(values)
    return Parsed(amounts, bad)


# ---------------------------------------------------------------------------------------------
# Booleans
# ---------------------------------------------------------------------------------------------


def _bools_from_floats(x: FloatArray) -> tuple[npt.NDArray[Any], ...]:
    return np.where(x == 1.0, 1.0, 0.0), (x != 1.0) & (x != 0.0)


def _bools_from_text(strs: ObjectArray) -> tuple[npt.NDArray[Any], ...]:
    folded = [s.casefold() for s in strs]
    true = np.array([f in TRUE_WORDS for f in folded], dtype=bool)
    false = np.array([f in FALSE_WORDS for f in folded], dtype=bool)
    number = np.full(len(strs), np.nan)
    other = np.flatnonzero(~true & ~false)
    other = other[_fullmatch(strs[other], _PLAIN_NUMBER)]
    number[other] = _to_float(strs[other])
    true = true | (number == 1.0)
    false = false | (number == 0.0)
    return np.where(true, 1.0, 0.0), ~true & ~false


_BOOL_HANDLERS: dict[int, _Handler] = {
    _BOOL: lambda b: (b.astype(np.float64), np.zeros(len(b), dtype=bool)),
    _NUMBER: _bools_from_floats,
    _TEXT: _bools_from_text,
}


def parse_bools(values: Cells) -> Parsed:
    """Yes/no cells as 1.0 (true) / 0.0 (false); NaN where blank or bad.

    True: :data:`TRUE_WORDS`, numeric text equal to 1, the number 1, ``True``. False:
    :data:`FALSE_WORDS`, numeric text equal to 0, the number 0, ``False``. Words are matched
    after normalising and case-folding. Anything else is bad.
    """
    flags, bad = _parse(values, (_Field(np.float64, np.nan),), _BOOL_HANDLERS)
    return Parsed(flags, bad)


# ---------------------------------------------------------------------------------------------
# Dates and months
# ---------------------------------------------------------------------------------------------

_MONTH_NAMES = {
    name: i + 1 for i, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
_ZH_MONTHS = {
    name: i + 1 for i, name in enumerate("一 二 三 四 五 六 七 八 九 十 十一 十二".split())
}
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_TIME = (
    r"(?:(?:\s+|T)(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
    r"(?:\s*(?:Z|[+-][0-9]{2}:?[0-9]{2}))?)?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"


def _date_pattern(body: str) -> re.Pattern[str]:
    return re.compile(rf"\A{body}\Z", re.IGNORECASE)


# Tried in order on the cells no earlier pattern matched. ``d`` missing means a month only;
# ``a``/``b`` are day and month in an order to be worked out.
_DATE_PATTERNS = [
    _date_pattern(
        rf"(?P<y>[0-9]{{4}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}}){_TIME}"
    ),
    _date_pattern(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
    _date_pattern(
        rf"(?P<y>[0-9]{{4}})\s*年\s*(?P<m>[0-9]{{1,2}})\s*月\s*(?P<d>[0-9]{{1,2}})\s*[日号]?{_TIME}"
    ),
    _date_pattern(rf"(?P<d>[0-9]{{1,2}}){_ORDINAL}[\s./-]*{_MON}[\s.,/-]*(?P<y>[0-9]{{4}})"),
    _date_pattern(rf"{_MON}[\s./-]*(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s*,\s*|\s+)(?P<y>[0-9]{{4}})"),
    _date_pattern(r"(?P<a>[0-9]{1,2})(?P<sep>[-/.])(?P<b>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4})"),
    _date_pattern(r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})"),
    _date_pattern(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})"),
    _date_pattern(r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月份?"),
    _date_pattern(rf"{_MON}[\s.,/-]*(?P<y>[0-9]{{4}})"),
    _date_pattern(r"(?P<m>[0-9]{1,2})[-/.](?P<y>[0-9]{4})"),
]
_MONTH_ALONE = _date_pattern(
    rf"(?:(?P<m>[0-9]{{1,2}})(?:\.0*|\s*月份?)?|(?P<zh>十[一二]?|[一二三四五六七八九])\s*月份?|{_MON})"
)


def _month_of_name(names: ObjectArray) -> IntArray:
    return np.array([_MONTH_NAMES.get(v[:3].lower(), 0) for v in names], dtype=np.int64)


def _ymd_from_text(strs: ObjectArray) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Year, month, day (0 for a month-only form) and whether a pattern matched."""
    n = len(strs)
    y, m, d = (np.zeros(n, dtype=np.int64) for _ in range(3))
    matched = np.zeros(n, dtype=bool)
    todo = np.arange(n)
    for pattern in _DATE_PATTERNS:
        if not todo.size:
            break
        hit, groups = _groups(strs[todo], pattern)
        if not hit.any():
            continue
        g = {name: text[hit] for name, text in groups.items()}
        idx = todo[hit]
        y[idx] = _ints(g["y"])
        if "a" in g:
            a, b = _ints(g["a"]), _ints(g["b"])
            # Day-first or month-first is read only when the numbers leave one way open.
            day_first = (a > 12) & (b <= 12)
            month_first = (b > 12) & (a <= 12)
            same = a == b
            m[idx] = np.select([day_first, month_first, same], [b, a, a], 0)
            d[idx] = np.select([day_first, month_first, same], [a, b, a], 0)
        else:
            m[idx] = _ints(g["m"]) if "m" in g else _month_of_name(g["mon"])
            d[idx] = _ints(g["d"]) if "d" in g else 0
        matched[idx] = True
        todo = todo[~hit]
    return y, m, d, matched


def _days_from_ymd(y: IntArray, m: IntArray, d: IntArray) -> tuple[IntArray, BoolArray]:
    """Days since 1970-01-01 (NaT where invalid) and whether each date is invalid."""
    ok = (y >= 1900) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    after = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= d <= after - first
    return np.where(ok, first + d - 1, _NAT), ~ok


def _ymd_of_days(days: IntArray) -> tuple[IntArray, IntArray]:
    months = days.view("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months // 12 + 1970, months % 12 + 1


def _days_from_numbers(x: FloatArray, *, month_start: bool) -> tuple[IntArray, BoolArray]:
    # No date is written as a number beyond 99991231; -1 stands for "no date" and keeps the
    # integer arithmetic below in range.
    whole = np.floor(np.where(np.isfinite(x) & (np.abs(x) < 1e9), x, -1.0))
    integral = whole == x
    serial = ((whole >= 1) & (whole < 100_000)) | (
        (whole >= 1_000_000) & (x < MAX_EXCEL_SERIAL + 1)
    )
    serial &= whole != 60  # Excel's 1900-02-29, a day that never was
    # Excel counts 1900 as a leap year: from serial 61 on its days are one behind the calendar.
    days = np.where(whole >= 61, whole - 25569, whole - 25568).astype(np.int64)
    yyyymm = integral & (whole >= 100_000) & (whole < 1_000_000)
    yyyymmdd = integral & (whole >= 19_000_101) & (whole <= 99_991_231)
    number = whole.astype(np.int64)
    y = np.select([yyyymm, yyyymmdd], [number // 100, number // 10_000], 0)
    m = np.select([yyyymm, yyyymmdd], [number % 100, number // 100 % 100], 0)
    d = np.select([yyyymm, yyyymmdd], [int(month_start), number % 100], 0)
    written, bad_written = _days_from_ymd(y, m, d)
    days = np.where(serial, days, written)
    bad = np.where(serial, False, bad_written)
    return _in_range(days, bad)


def _in_range(days: IntArray, bad: BoolArray) -> tuple[IntArray, BoolArray]:
    """Dates before 1900 or after 9999 are bad (Excel cannot show them either)."""
    out = bad | (days < _FIRST_DAY) | (days > _LAST_DAY)
    return np.where(out, _NAT, days), out


def _days_from_text(strs: ObjectArray, *, month_start: bool) -> tuple[IntArray, BoolArray]:
    y, m, d, matched = _ymd_from_text(strs)
    days, bad = _days_from_ymd(y, m, np.where(d == 0, int(month_start), d))
    return np.where(matched, days, _NAT), bad | ~matched


def _date_handlers(month_start: bool) -> dict[int, _Handler]:
    return {
        _DATETIME: lambda days: _in_range(days, np.zeros(len(days), dtype=bool)),
        _NUMBER: lambda x: _days_from_numbers(x, month_start=month_start),
        _TEXT: lambda strs: _days_from_text(strs, month_start=month_start),
    }


def parse_dates(values: Cells, *, month_start: bool = False) -> ParsedDates:
    """Calendar dates from cells, ``datetime64[s]`` at midnight; NaT where blank or bad.

    Reads datetimes, Excel serials (1900 system), ``yyyymmdd`` numbers, ISO and slashed text,
    ``2026年6月30日``, ``30 June 2026``, ``June 30, 2026`` and ``d/m/yyyy`` when unambiguous (see
    the module docstring for the full list and the decisions). A month without a day is bad
    unless ``month_start`` is true, which reads it as the month's first day.
    """
    days, bad = _parse(values, (_Field(np.int64, _NAT),), _date_handlers(month_start))
    return ParsedDates(days.view("datetime64[D]").astype("datetime64[s]"), bad)


def _check_year(year: int | None) -> None:
    if year is not None and not 1900 <= year <= 9999:
        raise ValueError(f"year must be 1900-9999, got {year}")


def _months_from_days(days: IntArray, bad: BoolArray) -> tuple[npt.NDArray[Any], ...]:
    y, m = _ymd_of_days(np.where(bad, 0, days))
    return y, m, bad


_FIRST_MONTH_SERIAL = 10_000
"""Below this (1927-05-18) a number in a month cell is no serial: a year or a slip is likelier."""


def _months_from_numbers(x: FloatArray, year: int | None) -> tuple[npt.NDArray[Any], ...]:
    alone = (x >= 1) & (x <= 12) & (x == np.floor(x))
    y, m, bad = _months_from_days(*_days_from_numbers(x, month_start=True))
    bad = bad | (x < _FIRST_MONTH_SERIAL)
    if year is not None:
        y, m, bad = np.where(alone, year, y), np.where(alone, x, m).astype(np.int64), bad & ~alone
    return y, m, bad


def _months_from_text(strs: ObjectArray, year: int | None) -> tuple[npt.NDArray[Any], ...]:
    y, m, d, matched = _ymd_from_text(strs)
    days, bad = _days_from_ymd(y, m, np.where(d == 0, 1, d))
    bad |= ~matched
    if year is not None and bad.any():
        alone = np.flatnonzero(bad)
        _, g = _groups(strs[alone], _MONTH_ALONE)
        number = _ints(g["m"]) + _month_of_name(g["mon"])
        number += np.array([_ZH_MONTHS.get(v, 0) for v in g["zh"]], dtype=np.int64)
        found = (number >= 1) & (number <= 12)
        y[alone[found]], m[alone[found]] = year, number[found]
        bad[alone[found]] = False
    return y, m, bad


def parse_months(values: Cells, *, year: int | None = None) -> ParsedMonths:
    """Calendar months from cells: (year, month 1-12); 0 and 0 where blank or bad.

    Reads every date :func:`parse_dates` reads (its month), month forms such as ``2027-03``,
    ``202703``, ``2027年3月``, ``Mar 2027``, and, when ``year`` is given, a month alone (``3``,
    ``"03"``, ``3月``, ``三月``, ``Mar``) in that year. The module docstring has the full list.
    ``year`` must be 1900-9999 (a :class:`ValueError` otherwise: it is the caller's, not a cell).
    """
    _check_year(year)
    handlers: dict[int, _Handler] = {
        _DATETIME: lambda days: _months_from_days(*_in_range(days, np.zeros(len(days), bool))),
        _NUMBER: lambda x: _months_from_numbers(x, year),
        _TEXT: lambda strs: _months_from_text(strs, year),
    }
    y, m, bad = _parse(values, (_Field(np.int64, 0), _Field(np.int64, 0)), handlers)
    return ParsedMonths(y, m, bad)


# ---------------------------------------------------------------------------------------------
# One cell
# ---------------------------------------------------------------------------------------------


def _one(value: object) -> pd.Series:
    return pd.Series([value], dtype=object)


_EXACT_FLOAT = 2.0**53
"""Python ints within this read as the float of the same value (what a column of them reads as)."""


def _plain_number(value: object) -> float | None:
    """A Python float, or an int a float holds exactly, as a float; None for any other cell
    (a bool, a numpy scalar, text...): the one-cell functions read these without a column."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is int and -_EXACT_FLOAT <= value <= _EXACT_FLOAT:  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    return None


def is_blank(value: object) -> bool:
    """Whether one cell is blank (see :func:`blank_mask`)."""
    if value is None:
        return True
    number = _plain_number(value)
    if number is not None:
        return math.isnan(number)
    return bool(blank_mask(_one(value))[0])


def parse_number(value: object) -> float | None:
    """One cell as :func:`parse_numbers` reads it; None when blank or bad (see :func:`is_blank`)."""
    number = _plain_number(value)
    if number is not None:  # a finite number reads as itself; NaN is blank, infinities bad
        return number if math.isfinite(number) else None
    numbers, bad = parse_numbers(_one(value))
    return None if bad[0] or np.isnan(numbers[0]) else float(numbers[0])


def parse_bool(value: object) -> bool | None:
    """One cell as :func:`parse_bools` reads it; None when blank or bad."""
    flags, bad = parse_bools(_one(value))
    return None if bad[0] or np.isnan(flags[0]) else bool(flags[0] == 1.0)


def parse_date(value: object, *, month_start: bool = False) -> date | None:
    """One cell as :func:`parse_dates` reads it; None when blank or bad."""
    number = _plain_number(value)
    if number is not None:  # an Excel serial or a yyyymmdd number, read without a column
        if math.isnan(number):
            return None
        days, bad = _days_from_numbers(np.array([number]), month_start=month_start)
        return None if bad[0] else days.view("datetime64[D]")[0].item()
    dates, bad = parse_dates(_one(value), month_start=month_start)
    if bad[0] or np.isnat(dates[0]):
        return None
    day: date = dates[0].astype("datetime64[D]").item()
    return day


def parse_month(value: object, *, year: int | None = None) -> tuple[int, int] | None:
    """One cell as :func:`parse_months` reads it, ``(year, month)``; None when blank or bad."""
    parsed = parse_months(_one(value), year=year)
    if parsed.bad[0] or parsed.month[0] == 0:
        return None
    return int(parsed.year[0]), int(parsed.month[0])
