"""How wide a column must be for what it shows: headers in either language, and its values.

Widths are in Excel's column units (the width of one ``0`` of the default font). A CJK or
full-width character takes two. Headers wrap onto two lines (the header row is two lines high),
so a header needs the width of its longer line at the best break; Chinese breaks between any
two characters, English at spaces. Values do not wrap, except in text columns too long for a
column of :data:`MAX_WIDTH`, which then wrap and their rows grow.

Pure measuring: nothing here draws; :mod:`xlplan.workbook.render` applies the widths.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from xlplan.workbook.schema import Column, Kind

WIDE = re.compile(
    r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)
"""Characters Excel draws two units wide: CJK ideographs and punctuation, kana, hangul,
full-width forms."""

MAX_WIDTH = 60.0
"""No column grows beyond this: longer text wraps in it instead."""

BOLD = 1.1
"""Header text is bold: about a tenth wider."""
FILTER_BUTTON = 2.2
"""A table's header cell keeps room for its filter button."""
SMALL = 0.85
"""The sub-header row's 9-point text against the 11-point default."""
PADDING = 1.0
"""Room between a value and the column's edge."""


def display_width(text: str) -> int:
    """Columns ``text`` takes on one line: two for each wide character."""
    return len(text) + len(WIDE.findall(text))


def two_line_width(text: str) -> int:
    """The width at which ``text`` wraps onto at most two lines at its best break.

    Lines break at spaces and beside any wide character (Chinese breaks between any two
    characters); a Latin word never breaks.
    """
    best = display_width(text)
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        if " " in (before, after) or WIDE.match(before) or WIDE.match(after):
            first, second = text[:i].rstrip(), text[i:].lstrip()
            best = min(best, max(display_width(first), display_width(second)))
    return best


def header_width(header: str) -> float:
    """What a table's bold, wrapped header cell with its filter button needs."""
    return two_line_width(header) * BOLD + FILTER_BUTTON


def sub_header_width(text: str) -> float:
    """What the small, wrapped sub-header cell (other language and unit) needs."""
    return two_line_width(text) * SMALL


def values_width(col: Column, values: pd.Series) -> float:
    """What the longest of ``values`` needs as the column's format shows it (0 when blank)."""
    if values.empty:
        return 0.0
    if col.kind in (Kind.MONEY, Kind.AMOUNT, Kind.NUMBER, Kind.RATE, Kind.INT):
        shown = _numbers_width(col.kind, pd.to_numeric(values, errors="coerce"))
    elif col.kind is Kind.DATE:
        shown = 10 if values.notna().any() else 0
    elif col.kind is Kind.BOOL:
        shown = 5 if values.notna().any() else 0
    else:
        shown = texts_width(values)
    return float(shown) + PADDING if shown else 0.0


SMALL_COLUMN = 4096
"""Up to this many cells a column is measured in plain Python: pandas' per-call overhead
(a Series, its string methods) costs more than the cells themselves (most tables a plan
writes have a few dozen rows)."""


def texts_width(values: pd.Series) -> int:
    """The widest of ``values`` as text on one line (0 when all blank).

    Only the longest candidates are measured character by character: a text of ``n``
    characters is between ``n`` and ``2n`` columns wide.
    """
    if len(values) <= SMALL_COLUMN:
        texts = {str(v) for v in values.to_numpy(dtype=object) if not pd.isna(v)}
        if not texts:
            return 0
        longest = max(map(len, texts))
        return max(display_width(t) for t in texts if len(t) * 2 >= longest)
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    text = values.dropna()
    if text.empty:
        return 0
    unique = pa.array([str(v) for v in pd.unique(text.to_numpy(dtype=object))], pa.string())
    # Each wide character counts twice: its length plus its count of wide characters.
    widths = pc.add(pc.utf8_length(unique), pc.count_substring_regex(unique, _WIDE_RE2))
    return int(pc.max(widths).as_py())


_WIDE_RE2 = re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", WIDE.pattern)
""":data:`WIDE` as Arrow's regular expressions (RE2) spell it."""


def _numbers_width(kind: Kind, numbers: pd.Series) -> int:
    arr = numbers.to_numpy(dtype=float, na_value=np.nan)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return 0
    negative = bool((arr < 0).any())
    if kind is Kind.RATE:
        # 0.0%: one decimal of the percentage.
        big = float(np.abs(arr).max()) * 100
        return _integer_digits(big) + 3 + negative
    if kind is Kind.INT:
        return _integer_digits(float(np.abs(arr).max())) + negative
    big = float(np.abs(arr).max())
    digits = _integer_digits(big)
    grouped = digits + (digits - 1) // 3  # thousands separators
    if kind is Kind.AMOUNT:
        return grouped + negative
    decimals = 2 if kind is Kind.MONEY else _decimals(arr)
    return grouped + (1 + decimals if decimals else 0) + negative


def _integer_digits(value: float) -> int:
    return max(1, len(f"{value:.0f}"))


def _decimals(arr: np.ndarray) -> int:
    """Decimals ``#,##0.00######`` shows: two at least, up to eight as the values need."""
    for places in range(2, 8):
        scaled = arr * 10.0**places
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return places
    return 8


def column_width(
    col: Column, header: str, sub_header: str, values: pd.Series | None
) -> tuple[float, bool]:
    """The width ``col`` needs (its declared width at least, the headers and values fitted, at
    most :data:`MAX_WIDTH`) and whether its text wraps: values too long for one line of the
    widest column. The values are measured once for both."""
    need = max(col.width, header_width(header), sub_header_width(sub_header))
    shown = 0.0 if values is None else values_width(col, values)
    return round(min(max(need, shown), MAX_WIDTH), 1), col.kind is Kind.TEXT and shown > MAX_WIDTH
