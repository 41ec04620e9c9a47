"""The one cell parser: every form it reads and every form it refuses, in zh and en.

Each table row is a cell as openpyxl, a CSV reader or xlwings hands it over, and what it reads as:
a value, ``BAD`` (present but not readable) or ``BLANK``. Every table is checked three ways: one
cell at a time, the whole table as one column (so cells of different kinds meet in one column),
and through the scalar function, which must agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.parse import (
    FALSE_WORDS,
    MAX_EXCEL_SERIAL,
    TRUE_WORDS,
    blank_mask,
    coded_texts,
    is_blank,
    normalise_text,
    parse_amounts,
    parse_bool,
    parse_bools,
    parse_codes,
    parse_date,
    parse_dates,
    parse_month,
    parse_months,
    parse_number,
    parse_numbers,
    parse_texts,
)

BAD = "BAD"
BLANK = "BLANK"

D = dt.date
DT = dt.datetime

BLANKS: list[object] = [
    None,
    float("nan"),
    np.nan,
    np.float64("nan"),
    pd.NaT,
    pd.NA,
    np.datetime64("NaT"),
    Decimal("NaN"),
    "",
    "   ",
    "\t\n",
    "\u3000",  # ideographic space, typed by a Chinese IME
    "\u3000 \xa0",
    "\u200b",  # zero-width space, left by copy and paste
]


def ids(table: Sequence[tuple[Any, ...]]) -> list[str]:
    return [f"{i}-{row[0]!r}"[:40] for i, row in enumerate(table)]


def column(cells: Sequence[object]) -> pd.Series:
    return pd.Series(list(cells), dtype=object)


def stamps(*texts: str | None) -> pd.Series:
    """A datetime64 column, NaT where the text is None."""
    return pd.Series([pd.NaT if t is None else pd.Timestamp(t) for t in texts])


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

NUMBERS: list[tuple[object, object]] = [
    # numbers as they arrive
    (1, 1.0),
    (2.5, 2.5),
    (-0.25, -0.25),
    (np.int64(7), 7.0),
    (np.float32(0.5), 0.5),
    (Decimal("1.25"), 1.25),
    (1e308, 1e308),
    # numeric text
    ("1234.5", 1234.5),
    ("-3", -3.0),
    ("+.5", 0.5),
    ("5.", 5.0),
    ("1e3", 1000.0),
    ("1E-3", 0.001),
    ("  42  ", 42.0),
    ("0042", 42.0),
    # thousands separators, in groups of three
    ("1,234.5", 1234.5),
    ("1,234,567", 1234567.0),
    ("-1,234", -1234.0),
    ("1，234.5", 1234.5),  # full-width comma
    # percent and per mille, before or after
    ("15%", 0.15),
    ("%15", 0.15),
    ("12.5 %", 0.125),
    ("-15%", -0.15),
    ("5‰", 0.005),
    # full-width digits and signs (Chinese IME)
    ("６．５", 6.5),
    ("１２％", 0.12),
    ("\u3000６．５\u3000", 6.5),
    ("－３", -3.0),
    ("１，２３４", 1234.0),
    ("−5", -5.0),  # U+2212 minus sign, from copied web text
    # currency markers, dropped (parse_amounts keeps them)
    ("¥1,234", 1234.0),
    ("￥1,234", 1234.0),
    ("$12.50", 12.5),
    ("€3", 3.0),
    ("£7", 7.0),
    ("US$5", 5.0),
    ("HK$ 80", 80.0),
    ("CNY 100", 100.0),
    ("RMB100", 100.0),
    ("100 usd", 100.0),
    ("100元", 100.0),
    ("1.2万元", 12000.0),
    ("-$5", -5.0),
    ("$-5", -5.0),
    # accounting negatives
    ("(1,234)", -1234.0),
    ("($1,234)", -1234.0),
    ("(15%)", -0.15),
    # Chinese units, and k / M
    ("1.2万", 12000.0),
    ("3亿", 300000000.0),
    ("2千", 2000.0),
    ("1.5百万", 1500000.0),
    ("3千万", 30000000.0),
    ("1万亿", 1e12),
    ("-1.2万", -12000.0),
    ("1.2 万", 12000.0),
    ("12k", 12000.0),
    ("12K", 12000.0),
    ("1.5M", 1500000.0),
    ("100 MXN", 100.0),  # the M of MXN is not a million
    # bad: not a number, or a number typed by mistake
    (True, BAD),
    (False, BAD),
    (np.True_, BAD),
    (D(2026, 6, 30), BAD),
    (DT(2026, 6, 30), BAD),
    (pd.Timestamp("2026-06-30"), BAD),
    (dt.timedelta(days=1), BAD),
    (float("inf"), BAD),
    (float("-inf"), BAD),
    (1e309, BAD),  # inf as Python reads it
    ("1e309", BAD),
    ("1e305亿", BAD),
    (10**400, BAD),
    ("abc", BAD),
    ("1.2.3", BAD),
    ("--5", BAD),
    ("+-5", BAD),
    ("-(5)", BAD),
    ("(-5)", BAD),
    ("(5", BAD),
    ("5)", BAD),
    ("12,5", BAD),  # a European decimal comma, never 125
    ("1,2345", BAD),
    ("1,23,456", BAD),
    ("1 234", BAD),
    ("¥15%", BAD),
    ("15万%", BAD),
    ("$5 USD", BAD),
    ("¥1.2万元", BAD),
    ("5kg", BAD),
    ("5m", BAD),
    ("nan", BAD),
    ("NaN", BAD),
    ("inf", BAD),
    ("Infinity", BAD),
    ("-", BAD),
    ("%", BAD),
    ("1_000", BAD),
    ("0x10", BAD),
    ("١٢", BAD),  # Arabic-Indic digits
    ("１。５", BAD),  # ideographic full stop is not a decimal point
    ("#N/A", BAD),
    ("明年", BAD),
    ("十二", BAD),
    ([1, 2], BAD),
    *((blank, BLANK) for blank in BLANKS),
]


def number_outcomes(values: np.ndarray, bad: np.ndarray) -> list[object]:
    out: list[object] = []
    for value, is_bad in zip(values, bad, strict=True):
        if is_bad:
            assert math.isnan(value), "a bad cell must have no value"
            out.append(BAD)
        else:
            out.append(BLANK if math.isnan(value) else float(value))
    return out


def scalar_outcome(value: object, cell: object) -> object:
    if value is not None:
        return value
    return BLANK if is_blank(cell) else BAD


@pytest.mark.parametrize(("cell", "expected"), NUMBERS, ids=ids(NUMBERS))
def test_number_cell(cell: object, expected: object) -> None:
    assert number_outcomes(*parse_numbers(column([cell]))) == [expected]
    assert scalar_outcome(parse_number(cell), cell) == expected


def test_numbers_as_one_column() -> None:
    cells = [cell for cell, _ in NUMBERS]
    assert number_outcomes(*parse_numbers(column(cells))) == [e for _, e in NUMBERS]


def test_percent_is_the_nearest_float_not_a_product() -> None:
    # 15 * 0.01 is 0.15000000000000002; reading "15%" as 15e-2 gives 0.15 itself
    assert parse_number("15%") == 0.15
    assert parse_number("1.1万") == 11000.0
    assert parse_number("0.07%") == float("7e-4")


@pytest.mark.parametrize("cell", ["+10E110", "10E110", "-1.5e-7", "+.5", "0012.50", "9" * 40])
def test_a_plain_number_reads_as_float_reads_it(cell: str) -> None:
    # pandas 3.1's to_numeric reads "+10E110" as 1.0000000000000001e+111; float() gives 1e+111,
    # the nearest float, and so does Arrow's cast of a CSV column
    assert parse_number(cell) == float(cell)
    assert number_outcomes(*parse_numbers(column([cell, cell + " ", None]))) == [
        float(cell)
    ] * 2 + [BLANK]


@given(
    st.from_regex(
        r"[-+]?(?:[0-9]{1,25}\.?[0-9]{0,25}|\.[0-9]{1,25})(?:[eE][-+]?[0-9]{1,3})?", fullmatch=True
    )
)
def test_any_plain_number_reads_as_float_reads_it(cell: str) -> None:
    expected = float(cell)
    assert parse_number(cell) == (expected if math.isfinite(expected) else None)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([1.5, np.nan, np.inf, -np.inf]), [1.5, BLANK, BAD, BAD]),
        (pd.Series([3, -2]), [3.0, -2.0]),
        (pd.Series([1, None], dtype="Int64"), [1.0, BLANK]),
        (pd.Series([1.5, None], dtype="Float64"), [1.5, BLANK]),
        (pd.Series([True, False]), [BAD, BAD]),
        (pd.Series([True, None], dtype="boolean"), [BAD, BLANK]),
        (stamps("2026-06-30", None), [BAD, BLANK]),
        (pd.Series(["1,234", None, "abc", "１２％"], dtype="str"), [1234.0, BLANK, BAD, 0.12]),
        (pd.Series(["15%", "15%", None], dtype="category"), [0.15, 0.15, BLANK]),
        (pd.Series([1.0, 2, "3", None], dtype=object), [1.0, 2.0, 3.0, BLANK]),
    ],
    ids=["float", "int", "Int64", "Float64", "bool", "boolean", "datetime", "str", "cat", "obj"],
)
def test_numbers_by_dtype(series: pd.Series, expected: list[object]) -> None:
    assert number_outcomes(*parse_numbers(series)) == expected


def test_numbers_from_arrays_and_lists() -> None:
    assert number_outcomes(*parse_numbers(np.array([1.0, np.nan]))) == [1.0, BLANK]
    assert number_outcomes(*parse_numbers(["1", None, "x"])) == [1.0, BLANK, BAD]
    assert number_outcomes(*parse_numbers(pd.Series([], dtype=object))) == []
    with pytest.raises(TypeError):
        parse_numbers("1,234")
    with pytest.raises(ValueError, match="1-D"):
        parse_numbers(np.zeros((2, 2)))


def test_true_is_not_one() -> None:
    # Hashing counts True == 1; the parser must not let a TRUE borrow the reading of a 1.
    cells = [1, True, 1.0, False, 0, np.True_, 0.0, np.False_]
    assert number_outcomes(*parse_numbers(column(cells))) == [1, BAD, 1, BAD, 0, BAD, 0, BAD]
    cells = [True, 1, False, 0]
    assert number_outcomes(*parse_numbers(column(cells))) == [BAD, 1, BAD, 0]
    assert list(parse_codes(column([1, True, 0, False]))) == ["1", "TRUE", "0", "FALSE"]


def test_index_is_ignored_results_are_by_position() -> None:
    values, bad = parse_numbers(pd.Series(["2", "x", "1"], index=[10, 5, 7], dtype=object))
    assert values[0] == 2 and bad[1] and values[2] == 1


def test_many_distinct_strings_read_as_a_few_do() -> None:
    # From _BULK distinct strings on, plain and grouped numbers go to pyarrow's regex engine;
    # it must read exactly what the Python engine reads in small batches.
    cells = [f"{i * 7.25:,.2f}" for i in range(2500)] + [str(i * 0.5) for i in range(2500)]
    cells += [cell for cell, _ in NUMBERS if isinstance(cell, str)]
    whole = parse_numbers(column(cells))
    parts = [parse_numbers(column(cells[i : i + 100])) for i in range(0, len(cells), 100)]
    np.testing.assert_array_equal(whole[0], np.concatenate([p[0] for p in parts]))
    np.testing.assert_array_equal(whole[1], np.concatenate([p[1] for p in parts]))
    assert whole[0][1] == 7.25 and whole[0][2500 + 3] == 1.5


AMOUNTS: list[tuple[object, object, str]] = [
    ("¥1,234", 1234.0, "¥"),
    ("￥1,234", 1234.0, "¥"),
    ("US$5", 5.0, "US$"),
    ("us$5", 5.0, "US$"),
    ("CNY 100", 100.0, "CNY"),
    ("100 usd", 100.0, "USD"),
    ("RMB 1.2万", 12000.0, "RMB"),
    ("1.2万元", 12000.0, "元"),
    ("($1,234)", -1234.0, "$"),
    ("1,234", 1234.0, ""),
    (12.5, 12.5, ""),
    ("$5 USD", BAD, ""),
    ("abc", BAD, ""),
    (None, BLANK, ""),
]


@pytest.mark.parametrize(("cell", "expected", "currency"), AMOUNTS, ids=ids(AMOUNTS))
def test_amount_keeps_its_currency_marker(cell: object, expected: object, currency: str) -> None:
    parsed = parse_amounts(column([cell]))
    assert number_outcomes(parsed[0], parsed.bad) == [expected]
    assert list(parsed.currency) == [currency]


def test_amounts_as_one_column_match_numbers() -> None:
    cells = column([cell for cell, _, _ in AMOUNTS])
    parsed, numbers = parse_amounts(cells), parse_numbers(cells)
    np.testing.assert_array_equal(parsed[0], numbers[0])
    np.testing.assert_array_equal(parsed.bad, numbers.bad)
    assert list(parsed.currency) == [c for _, _, c in AMOUNTS]


# ---------------------------------------------------------------------------------------------
# Booleans
# ---------------------------------------------------------------------------------------------

BOOLS: list[tuple[object, object]] = [
    (True, True),
    (False, False),
    (np.True_, True),
    (np.False_, False),
    (1, True),
    (0, False),
    (1.0, True),
    (0.0, False),
    ("TRUE", True),
    ("FALSE", False),
    ("true", True),
    ("False", False),
    ("yes", True),
    ("No", False),
    ("Y", True),
    ("n", False),
    ("1", True),
    ("0", False),
    ("1.0", True),
    ("0.0", False),
    ("是", True),
    ("否", False),
    ("对", True),
    ("错", False),
    ("真", True),
    ("假", False),
    ("有", True),
    ("无", False),
    ("可抵扣", True),
    ("不可抵扣", False),
    ("不", False),
    ("✓", True),
    ("✗", False),
    ("✔", True),
    ("✘", False),
    ("√", True),
    ("×", False),
    ("ＴＲＵＥ", True),
    ("\u3000是\u3000", True),
    (2, BAD),
    (0.5, BAD),
    (float("inf"), BAD),
    ("2", BAD),
    ("100%", BAD),
    ("x", BAD),
    ("X", BAD),
    ("maybe", BAD),
    ("是的吧", BAD),
    (D(2026, 1, 1), BAD),
    *((blank, BLANK) for blank in BLANKS),
]


def bool_outcomes(values: np.ndarray, bad: np.ndarray) -> list[object]:
    return [
        BAD if b else BLANK if math.isnan(v) else bool(v == 1.0)
        for v, b in zip(values, bad, strict=True)
    ]


@pytest.mark.parametrize(("cell", "expected"), BOOLS, ids=ids(BOOLS))
def test_bool_cell(cell: object, expected: object) -> None:
    assert bool_outcomes(*parse_bools(column([cell]))) == [expected]
    assert scalar_outcome(parse_bool(cell), cell) == expected


def test_bools_as_one_column() -> None:
    cells = [cell for cell, _ in BOOLS]
    assert bool_outcomes(*parse_bools(column(cells))) == [e for _, e in BOOLS]


def test_one_vocabulary_of_true_and_false_words() -> None:
    assert not TRUE_WORDS & FALSE_WORDS
    assert all(w == w.casefold() and w == w.strip() for w in TRUE_WORDS | FALSE_WORDS)
    flags, bad = parse_bools(sorted(TRUE_WORDS) + sorted(FALSE_WORDS))
    assert not bad.any()
    assert list(flags) == [1.0] * len(TRUE_WORDS) + [0.0] * len(FALSE_WORDS)


def test_bools_by_dtype() -> None:
    assert bool_outcomes(*parse_bools(pd.Series([True, False]))) == [True, False]
    assert bool_outcomes(*parse_bools(pd.Series([True, None], dtype="boolean"))) == [True, BLANK]
    assert bool_outcomes(*parse_bools(pd.Series([1.0, 0.0, 2.0, np.nan]))) == [
        True,
        False,
        BAD,
        BLANK,
    ]
    assert bool_outcomes(*parse_bools(pd.Series(["是", None], dtype="str"))) == [True, BLANK]


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

DATES: list[tuple[object, object]] = [
    # dates as they arrive
    (DT(2026, 6, 30), D(2026, 6, 30)),
    (DT(2026, 6, 30, 23, 59), D(2026, 6, 30)),
    (D(2026, 6, 30), D(2026, 6, 30)),
    (pd.Timestamp("2026-06-30 14:00"), D(2026, 6, 30)),
    (pd.Timestamp("2026-06-30 23:00", tz="Asia/Shanghai"), D(2026, 6, 30)),  # as written
    (np.datetime64("2026-06-30"), D(2026, 6, 30)),
    (DT(1900, 1, 1), D(1900, 1, 1)),
    # Excel serials, 1900 system (Excel shows 46203 as 2026-06-30)
    (46203, D(2026, 6, 30)),
    (46203.0, D(2026, 6, 30)),
    (46203.75, D(2026, 6, 30)),  # 18:00 that day
    (np.int64(46203), D(2026, 6, 30)),
    (45658, D(2025, 1, 1)),
    (1, D(1900, 1, 1)),
    (59, D(1900, 2, 28)),
    (61, D(1900, 3, 1)),
    (99999, D(2173, 10, 13)),
    (MAX_EXCEL_SERIAL, D(9999, 12, 31)),
    (20260630, D(2026, 6, 30)),  # yyyymmdd typed as a number
    # text
    ("2026-06-30", D(2026, 6, 30)),
    ("2026-6-3", D(2026, 6, 3)),
    ("2026/6/30", D(2026, 6, 30)),
    ("2026.6.30", D(2026, 6, 30)),
    ("2026-06-30 14:05:00", D(2026, 6, 30)),
    ("2026/6/30 0:00", D(2026, 6, 30)),
    ("2026-06-30T14:05:00.123+08:00", D(2026, 6, 30)),
    ("2026-06-30T14:05Z", D(2026, 6, 30)),
    ("20260630", D(2026, 6, 30)),
    ("2026年6月30日", D(2026, 6, 30)),
    ("2026年06月30号", D(2026, 6, 30)),
    ("2026 年 6 月 30 日", D(2026, 6, 30)),
    ("2026年6月30", D(2026, 6, 30)),
    ("２０２６年６月３０日", D(2026, 6, 30)),
    ("30 June 2026", D(2026, 6, 30)),
    ("30 Jun 2026", D(2026, 6, 30)),
    ("30-Jun-2026", D(2026, 6, 30)),
    ("30th June 2026", D(2026, 6, 30)),
    ("1 Sept 2026", D(2026, 9, 1)),
    ("June 30, 2026", D(2026, 6, 30)),
    ("Jun 30 2026", D(2026, 6, 30)),
    ("JUNE 30, 2026", D(2026, 6, 30)),
    ("Feb 29, 2028", D(2028, 2, 29)),
    # d/m/y or m/d/y: read only when one order makes a date
    ("13/02/2026", D(2026, 2, 13)),
    ("02/13/2026", D(2026, 2, 13)),
    ("30.06.2026", D(2026, 6, 30)),
    ("05/05/2026", D(2026, 5, 5)),
    ("01/02/2026", BAD),  # 1 February or 2 January: never guessed
    ("6/7/2026", BAD),
    ("13/13/2026", BAD),
    # junk and out of range
    ("明年一月", BAD),
    ("next year", BAD),
    ("2026-13-01", BAD),
    ("2026-02-30", BAD),
    ("2027-02-29", BAD),
    ("2026-06-30 25:00", BAD),
    ("2026-06/30", BAD),
    ("30-Jun-26", BAD),  # two-digit year
    ("6/30/26", BAD),
    ("46203", BAD),  # a serial as text is not trusted
    ("1899-12-31", BAD),
    ("0001-01-01", BAD),
    ("10000-01-01", BAD),
    ("June", BAD),
    ("2026", BAD),
    ("3月15日", BAD),
    ("二〇二六年六月三十日", BAD),
    (DT(1899, 12, 31), BAD),
    (-2, BAD),
    (0, BAD),
    (0.5, BAD),
    (60, BAD),  # Excel's 1900-02-29
    (MAX_EXCEL_SERIAL + 1, BAD),
    (20261331, BAD),
    (1e300, BAD),
    (float("inf"), BAD),
    (True, BAD),
    (False, BAD),
    (dt.timedelta(days=3), BAD),
    *((blank, BLANK) for blank in BLANKS),
]

MONTHS_AS_DATES: list[tuple[object, object]] = [
    ("2026年6月", D(2026, 6, 1)),
    ("2026年06月份", D(2026, 6, 1)),
    ("2026-06", D(2026, 6, 1)),
    ("2026/6", D(2026, 6, 1)),
    ("2026.06", D(2026, 6, 1)),
    ("202606", D(2026, 6, 1)),
    ("June 2026", D(2026, 6, 1)),
    ("Jun-2026", D(2026, 6, 1)),
    ("06/2026", D(2026, 6, 1)),
    (202606, D(2026, 6, 1)),
    ("2026-13", BAD),
    (202613, BAD),
    (202606.5, BAD),
]


def date_outcomes(values: np.ndarray, bad: np.ndarray) -> list[object]:
    assert values.dtype == np.dtype("datetime64[s]")
    out: list[object] = []
    for value, is_bad in zip(values, bad, strict=True):
        if is_bad:
            assert np.isnat(value), "a bad cell must have no value"
            out.append(BAD)
        else:
            out.append(BLANK if np.isnat(value) else value.astype("datetime64[D]").item())
    return out


@pytest.mark.parametrize(("cell", "expected"), DATES, ids=ids(DATES))
def test_date_cell(cell: object, expected: object) -> None:
    assert date_outcomes(*parse_dates(column([cell]))) == [expected]
    assert scalar_outcome(parse_date(cell), cell) == expected
    # a full date reads the same whether or not months may stand for their first day
    assert date_outcomes(*parse_dates(column([cell]), month_start=True)) == [expected]


@pytest.mark.parametrize(("cell", "expected"), MONTHS_AS_DATES, ids=ids(MONTHS_AS_DATES))
def test_month_is_a_date_only_with_month_start(cell: object, expected: object) -> None:
    assert date_outcomes(*parse_dates(column([cell]), month_start=True)) == [expected]
    assert scalar_outcome(parse_date(cell, month_start=True), cell) == expected
    assert date_outcomes(*parse_dates(column([cell]))) == [BAD]


def test_dates_as_one_column() -> None:
    cells = [cell for cell, _ in DATES]
    assert date_outcomes(*parse_dates(column(cells))) == [e for _, e in DATES]
    cells = [cell for cell, _ in MONTHS_AS_DATES]
    expected = [e for _, e in MONTHS_AS_DATES]
    assert date_outcomes(*parse_dates(column(cells), month_start=True)) == expected


def test_dates_by_dtype() -> None:
    in_1850 = stamps("2026-06-30 14:00", None, "1850-01-01")
    assert date_outcomes(*parse_dates(in_1850)) == [D(2026, 6, 30), BLANK, BAD]
    local = stamps("2026-06-30 23:30").dt.tz_localize("Asia/Shanghai")
    assert date_outcomes(*parse_dates(local)) == [D(2026, 6, 30)]
    serials = pd.Series([46203.0, np.nan, 60.0, -1.0])
    assert date_outcomes(*parse_dates(serials)) == [D(2026, 6, 30), BLANK, BAD, BAD]
    assert date_outcomes(*parse_dates(pd.Series([46203, 0], dtype="Int64"))) == [
        D(2026, 6, 30),
        BAD,
    ]
    text = pd.Series(["2026年6月30日", None], dtype="str")
    assert date_outcomes(*parse_dates(text)) == [D(2026, 6, 30), BLANK]
    assert date_outcomes(*parse_dates(pd.Series([True]))) == [BAD]
    assert date_outcomes(*parse_dates(pd.Series([pd.Timedelta(days=1)]))) == [BAD]


def test_dates_reach_year_9999() -> None:
    # nanosecond datetimes end in 2262; the values are seconds so Excel's whole range fits
    values, bad = parse_dates(column(["9999-12-31", MAX_EXCEL_SERIAL, "2262-04-12"]))
    assert not bad.any()
    assert list(values.astype("datetime64[D]").astype(str)) == [
        "9999-12-31",
        "9999-12-31",
        "2262-04-12",
    ]


# ---------------------------------------------------------------------------------------------
# Months
# ---------------------------------------------------------------------------------------------

# (cell, without a year, with year=2027)
MONTHS: list[tuple[object, object, object]] = [
    ("2027-03", (2027, 3), (2027, 3)),
    ("2027-3", (2027, 3), (2027, 3)),
    ("2027/3", (2027, 3), (2027, 3)),
    ("2027.03", (2027, 3), (2027, 3)),
    ("202703", (2027, 3), (2027, 3)),
    ("2027年3月", (2027, 3), (2027, 3)),
    ("2027年03月", (2027, 3), (2027, 3)),
    ("2027年3月份", (2027, 3), (2027, 3)),
    ("２０２７年３月", (2027, 3), (2027, 3)),
    ("Mar 2027", (2027, 3), (2027, 3)),
    ("March 2027", (2027, 3), (2027, 3)),
    ("mar-2027", (2027, 3), (2027, 3)),
    ("03/2027", (2027, 3), (2027, 3)),
    ("2027-03-15", (2027, 3), (2027, 3)),
    ("2027年3月15日", (2027, 3), (2027, 3)),
    ("15 March 2027", (2027, 3), (2027, 3)),
    ("13/03/2027", (2027, 3), (2027, 3)),
    ("20270315", (2027, 3), (2027, 3)),
    (DT(2027, 3, 15, 9, 30), (2027, 3), (2027, 3)),
    (D(2027, 3, 15), (2027, 3), (2027, 3)),
    (pd.Timestamp("2027-03-01"), (2027, 3), (2027, 3)),
    (46461, (2027, 3), (2027, 3)),  # Excel serial of 2027-03-15
    (46461.5, (2027, 3), (2027, 3)),
    (202703, (2027, 3), (2027, 3)),
    (20270315, (2027, 3), (2027, 3)),
    ("2026-12", (2026, 12), (2026, 12)),  # another year stays that year: the caller checks
    # a month alone: only with a year
    (3, BAD, (2027, 3)),
    (3.0, BAD, (2027, 3)),
    (np.int64(3), BAD, (2027, 3)),
    (12, BAD, (2027, 12)),
    ("3", BAD, (2027, 3)),
    ("03", BAD, (2027, 3)),
    ("3.0", BAD, (2027, 3)),
    ("3月", BAD, (2027, 3)),
    ("03月", BAD, (2027, 3)),
    ("3 月份", BAD, (2027, 3)),
    ("三月", BAD, (2027, 3)),
    ("十月", BAD, (2027, 10)),
    ("十一月", BAD, (2027, 11)),
    ("十二月", BAD, (2027, 12)),
    ("Mar", BAD, (2027, 3)),
    ("march", BAD, (2027, 3)),
    ("Sept.", BAD, (2027, 9)),
    ("３月", BAD, (2027, 3)),
    # never a month
    (0, BAD, BAD),
    (13, BAD, BAD),
    (366, BAD, BAD),  # as a serial a day of 1900: far likelier a typing slip
    (2027, BAD, BAD),  # a year is not a month (as a serial: 1905-07-19)
    (9999, BAD, BAD),
    (10000, (1927, 5), (1927, 5)),
    (3.5, BAD, BAD),
    (-3, BAD, BAD),
    ("0", BAD, BAD),
    ("13", BAD, BAD),
    ("13月", BAD, BAD),
    ("十三月", BAD, BAD),
    ("〇月", BAD, BAD),
    ("2027-13", BAD, BAD),
    ("2027-00", BAD, BAD),
    ("202713", BAD, BAD),
    (202713, BAD, BAD),
    ("01/02/2027", BAD, BAD),  # ambiguous, so its month is unknown
    ("2027-02-30", BAD, BAD),
    ("明年一月", BAD, BAD),
    ("next month", BAD, BAD),
    ("2027", BAD, BAD),
    ("Q1 2027", BAD, BAD),
    (True, BAD, BAD),
    (float("inf"), BAD, BAD),
    *((blank, BLANK, BLANK) for blank in BLANKS),
]


def month_outcomes(year: np.ndarray, month: np.ndarray, bad: np.ndarray) -> list[object]:
    out: list[object] = []
    for y, m, is_bad in zip(year, month, bad, strict=True):
        if is_bad:
            assert y == 0 and m == 0, "a bad cell must have no value"
            out.append(BAD)
        else:
            out.append(BLANK if m == 0 else (int(y), int(m)))
    return out


@pytest.mark.parametrize(("cell", "alone", "in_2027"), MONTHS, ids=ids(MONTHS))
def test_month_cell(cell: object, alone: object, in_2027: object) -> None:
    assert month_outcomes(*parse_months(column([cell]))) == [alone]
    assert month_outcomes(*parse_months(column([cell]), year=2027)) == [in_2027]
    assert scalar_outcome(parse_month(cell), cell) == alone
    assert scalar_outcome(parse_month(cell, year=2027), cell) == in_2027


def test_months_as_one_column() -> None:
    cells = column([cell for cell, _, _ in MONTHS])
    assert month_outcomes(*parse_months(cells)) == [e for _, e, _ in MONTHS]
    assert month_outcomes(*parse_months(cells, year=2027)) == [e for _, _, e in MONTHS]


def test_months_by_dtype() -> None:
    numbers = pd.Series([3, None, 13], dtype="Int64")
    assert month_outcomes(*parse_months(numbers, year=2027)) == [(2027, 3), BLANK, BAD]
    assert month_outcomes(*parse_months(stamps("2027-03-15", None))) == [(2027, 3), BLANK]
    text = pd.Series(["2027年3月", "三月"], dtype="str")
    assert month_outcomes(*parse_months(text, year=2027)) == [(2027, 3), (2027, 3)]


@pytest.mark.parametrize("year", [0, 1899, 10000])
def test_month_year_argument_is_checked(year: int) -> None:
    with pytest.raises(ValueError, match="1900-9999"):
        parse_months(column(["3"]), year=year)


# ---------------------------------------------------------------------------------------------
# Text, blanks and codes
# ---------------------------------------------------------------------------------------------


def test_normalise_text() -> None:
    cells = pd.Series(
        [
            " ６．５ ",
            "１２％",
            "１，２３４",
            "\u3000us\u3000",
            "\ufeffSKU-1",
            "￥5",
            3,
            1.5,
            True,
            None,
            " ",
        ],
        index=list("abcdefghijk"),
        name="price",
    )
    out = normalise_text(cells)
    assert out.index.equals(cells.index) and out.name == "price"
    assert out.tolist() == ["6.5", "12%", "1,234", "us", "SKU-1", "¥5", 3, 1.5, True, "", ""]
    assert type(out["g"]) is int and out["i"] is True  # other cells as they are


def test_blank_mask() -> None:
    blanks = blank_mask(column(BLANKS))
    assert blanks.all()
    filled = [0, 0.0, False, "0", "x", "\u3000x", D(2026, 1, 1), "-"]
    assert not blank_mask(column(filled)).any()
    assert list(blank_mask(pd.Series([1.0, np.nan]))) == [False, True]
    assert list(blank_mask(pd.Series(["a", None, " "], dtype="str"))) == [False, True, True]
    assert all(is_blank(b) for b in BLANKS) and not any(is_blank(f) for f in filled)


CODES: list[tuple[object, str]] = [
    ("US", "US"),
    (" us ", "US"),
    ("ｕｓ", "US"),
    ("cn\u3000", "CN"),
    ("sku-01", "SKU-01"),
    (123.0, "123"),
    (123, "123"),
    (1.5, "1.5"),
    (True, "TRUE"),
    (None, ""),
    (np.nan, ""),
    ("  ", ""),
    ("\u3000", ""),
]


def test_codes() -> None:
    assert list(parse_codes(column([c for c, _ in CODES]))) == [e for _, e in CODES]
    assert list(parse_codes(pd.Series([840.0, np.nan]))) == ["840", ""]


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

FINITE = st.floats(allow_nan=False, allow_infinity=False)
FULL_WIDTH = str.maketrans("0123456789.,-+e%", "０１２３４５６７８９．，－＋ｅ％")


@given(FINITE)
def test_thousands_separated_float_reads_back(x: float) -> None:
    assert parse_number(f"{x:,}") == x


@given(st.floats(min_value=-1e15, max_value=1e15))
def test_thousands_separated_cents_read_back(x: float) -> None:
    assert parse_number(f"{x:,.2f}") == float(f"{x:.2f}")


@given(st.floats(min_value=-1e300, max_value=1e300).filter(lambda v: v == 0 or abs(v) > 1e-290))
def test_percent_reads_back(x: float) -> None:
    read = parse_number(f"{x * 100!r}%")
    assert read is not None and math.isclose(read, x, rel_tol=1e-12)


@given(FINITE)
def test_full_width_float_reads_back(x: float) -> None:
    assert parse_number(repr(x).translate(FULL_WIDTH)) == x
    assert parse_number(f"{x:,}".translate(FULL_WIDTH)) == x


def excel_serial(day: dt.date) -> int:
    """Excel's serial for a day: days from 1899-12-31, plus its phantom 1900-02-29."""
    return (day - D(1899, 12, 31)).days + (1 if day >= D(1900, 3, 1) else 0)


def day_of_serial(serial: int) -> dt.date:
    return D(1899, 12, 30) + dt.timedelta(days=serial)


ANY_DAY = st.dates(min_value=D(1900, 1, 1), max_value=D(9999, 12, 31))
# Numbers 100000-999999 are read as yyyymm, not as serials (days of 2173-4637).
SERIAL_DAY = st.one_of(
    st.dates(min_value=D(1900, 1, 1), max_value=day_of_serial(99_999)),
    st.dates(min_value=day_of_serial(1_000_000), max_value=D(9999, 12, 31)),
)


@given(ANY_DAY)
def test_date_reads_back_from_text(day: dt.date) -> None:
    forms: list[object] = [
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%d %B %Y"),
        DT.combine(day, dt.time(13, 5)),
        day,
    ]
    assert date_outcomes(*parse_dates(column(forms))) == [day] * len(forms)
    assert parse_date(forms[1]) == day


@given(SERIAL_DAY, st.floats(0, 0.999))
def test_date_reads_back_from_excel_serial(day: dt.date, time_of_day: float) -> None:
    serial = excel_serial(day)
    forms = [serial, serial + time_of_day, np.float64(serial)]
    assert date_outcomes(*parse_dates(column(forms))) == [day] * len(forms)
    assert parse_date(serial) == day


def test_six_digit_numbers_are_months_not_serials() -> None:
    # 202606 as a serial would be a day in 2454; typed into a date cell it means June 2026.
    assert parse_date(202606) is None
    assert parse_date(202606, month_start=True) == D(2026, 6, 1)
    assert parse_month(202606) == (2026, 6)
    assert parse_date(99_999) == day_of_serial(99_999)
    assert parse_date(1_000_000) == day_of_serial(1_000_000)


@settings(max_examples=60)
@given(st.integers(1900, 9999), st.integers(1, 12))
def test_chinese_month_reads_back(year: int, month: int) -> None:
    assert parse_month(f"{year}年{month}月") == (year, month)
    cells = column([f"{year}年{month}月", f"{year}-{month:02d}", f"{month}月"])
    assert month_outcomes(*parse_months(cells, year=year)) == [(year, month)] * 3


BLANK_CELLS = st.one_of(
    st.sampled_from(BLANKS), st.text(alphabet=" \t\n\r\u3000\xa0\u200b\ufeff", max_size=4)
)


@settings(max_examples=50)
@given(st.lists(BLANK_CELLS, max_size=6))
def test_blanks_are_never_bad(cells: list[object]) -> None:
    col = column(cells)
    assert blank_mask(col).all()
    assert not parse_numbers(col).bad.any()
    assert not parse_bools(col).bad.any()
    assert not parse_dates(col).bad.any()
    assert not parse_months(col, year=2027).bad.any()
    assert all(code == "" for code in parse_codes(col))


TYPED_TEXT = st.text(
    alphabet="0123456789 ,.-+%‰()¥$€元万亿千kKMeE年月日号/:T"
    "０１２３４５６７８９．，％\u3000JunMarchsdy",
    max_size=12,
)
CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    TYPED_TEXT,
    st.text(max_size=6),
    st.dates(),
    st.datetimes(),
    st.sampled_from([cell for cell, _ in NUMBERS + BOOLS + DATES]),
)

SCALAR_VS_COLUMN: list[tuple[Callable[[pd.Series], list[object]], Callable[[object], object]]] = [
    (lambda c: number_outcomes(*parse_numbers(c)), parse_number),
    (lambda c: bool_outcomes(*parse_bools(c)), parse_bool),
    (lambda c: date_outcomes(*parse_dates(c)), parse_date),
    (lambda c: month_outcomes(*parse_months(c, year=2027)), lambda v: parse_month(v, year=2027)),
]


@settings(max_examples=40)  # about 20 parser calls an example: keep the test near a second
@given(st.lists(CELLS, max_size=4))
def test_any_cells_read_alike_alone_and_in_a_column(cells: list[object]) -> None:
    col = column(cells)
    blank = blank_mask(col)
    for parse_column, parse_one in SCALAR_VS_COLUMN:
        outcomes = parse_column(col)
        assert [o == BLANK for o in outcomes] == list(blank)
        assert outcomes == [scalar_outcome(parse_one(cell), cell) for cell in cells]


NUMBER_CELLS = st.one_of(
    st.floats(),
    st.integers(-(2**60), 2**60),
    st.integers(-200, 100_000),  # Excel serials
    st.integers(19_000_101, 99_991_231),  # yyyymmdd
    st.floats(1, MAX_EXCEL_SERIAL + 2),
)


@given(NUMBER_CELLS, st.booleans())
def test_a_number_reads_alike_alone_and_in_a_column(cell: float | int, month_start: bool) -> None:
    """The one-cell functions read a Python number without making a column (a one-line UDF
    reads its date that way on every call): the same outcome as in a column of others."""
    col = column([cell, "x", None])
    assert scalar_outcome(parse_number(cell), cell) == number_outcomes(*parse_numbers(col))[0]
    dates = date_outcomes(*parse_dates(col, month_start=month_start))
    assert scalar_outcome(parse_date(cell, month_start=month_start), cell) == dates[0]
    assert is_blank(cell) == bool(blank_mask(col)[0])


# A CSV's text column (Arrow-backed) of a few thousand cells: its numbers written as such are
# read in bulk, the rest cell by cell; the numbers must be what the cell-by-cell reading makes
# of them. A column of such numbers only is read by one cast (signs, exponents, "inf", "nan"
# and numbers too big for a float included); one other cell sends it to the plain-decimal match.
_NUMBER_TEXT = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{0,20}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?\Z"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "NaN", "Infinity", "1e400", "-1e-400", "9" * 400]),
    st.sampled_from(
        ["-0", "-0.0", "007", "0.1", "0.30000000000000004", "1e3", "+.5e+3", "+10E110", ""]
    ),
    st.none(),
)
_CELL_TEXT = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,17}(\.[0-9]{0,17})?\Z"),
    st.sampled_from(["", " ", " 5", "5 ", "+5", "5.", ".5", "1e3", "15%", "¥12", "1,234.5", "n/a"]),
    st.sampled_from(["-0", "-0.0", "007", "0.1", "0.30000000000000004", "９", "(3)", "1.2万"]),
    st.none(),
)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(st.lists(_CELL_TEXT, min_size=1, max_size=60), st.lists(_NUMBER_TEXT, max_size=60)),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_text_column_of_numbers_read_in_bulk_as_cell_by_cell(
    sample: list[str | None], seed: int, decimals: bool
) -> None:
    rng = np.random.default_rng(seed)
    cells = [sample[i] for i in rng.integers(0, len(sample), 3000)] if sample else []
    if decimals or not sample:  # else only the sample's cells: blanks, or no plain decimal
        numbers, places = rng.normal(0, 1e4, 2500), rng.integers(0, 9, 2500)
        cells += [f"{v:.{d}f}" for v, d in zip(numbers, places, strict=True)]
    arrow = pd.Series(cells, dtype=pd.StringDtype("pyarrow"))
    plain = pd.Series(cells, dtype=object)  # read cell by cell
    for parse in (parse_numbers, parse_amounts):
        got, expected = parse(arrow), parse(plain)
        np.testing.assert_array_equal(got.values, expected.values)
        np.testing.assert_array_equal(got.bad, expected.bad)
    assert parse_amounts(arrow).currency.tolist() == parse_amounts(plain).currency.tolist()


def test_a_column_of_numbers_written_as_such_is_read_in_one_cast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exponents, signs and points as Arrow and ``float`` read them; "inf", "nan" and a number
    too big for a float are bad, as cell by cell; "" is blank. No pattern is matched."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    def no_match(*args: object, **kwargs: object) -> None:
        raise AssertionError("a column of numbers is read by the cast alone")

    monkeypatch.setattr(pc, "match_substring_regex", no_match)
    cells = ["1e5", "+3", ".5", "5.", "-0", "-.5e-2", "007", "inf", "nan", "1e400", ""]
    cells += [str(i / 8) for i in range(3000)]
    got = parse_numbers(pd.Series(cells, dtype=pd.StringDtype("pyarrow")))
    assert number_outcomes(got[0][:11], got.bad[:11]) == [
        *(1e5, 3.0, 0.5, 5.0, -0.0, -0.005, 7.0),
        *(BAD, BAD, BAD, BLANK),
    ]
    assert math.copysign(1, got[0][4]) == -1
    np.testing.assert_array_equal(got[0][11:], np.arange(3000) / 8)


# Cells of a code or text column as users and readers hand them over: text with stray spaces
# and case, numbers (a whole float reads as an integer), flags that hash like 1 and 0, dates,
# blanks of every kind.
_MIXED_CELL = st.one_of(
    st.sampled_from(["us", " US", "US ", "de", "Amazon", " amazon", "", "  ", "1", "TRUE"]),
    st.sampled_from([1, 1.0, 0, 0.0, True, False, 123.0, 2.5, -0.0]),
    st.sampled_from([None, float("nan"), pd.NaT, D(2026, 6, 30), pd.Timestamp("2026-06-30")]),
    st.text(max_size=4),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_MIXED_CELL, max_size=30), st.booleans())
def test_coded_texts_read_every_cell_as_the_cell_by_cell_reading(
    cells: list[object], codes: bool
) -> None:
    column = np.array(cells + [None], dtype=object)[: len(cells)]  # 1-D even for tuples
    line_codes, categories = coded_texts(column, codes=codes)
    expected = parse_codes(column) if codes else parse_texts(column)
    assert categories[line_codes].tolist() == list(expected)
    assert "" in categories.tolist()
    assert len(set(categories.tolist())) == len(categories)  # no value twice
