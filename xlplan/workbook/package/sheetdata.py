"""Worksheet cell data (``<sheetData>`` rows) written straight as XML, a whole table at once.

XlsxWriter spends ~30 µs a cell (type dispatch, a shared-string table, a Python object per
cell): 43-49 s of CPU for the 100,000-line results sheet. Here a table's rows are produced
column by column with Arrow's kernels: each column's values become their XML text at once
(numbers by Arrow's shortest round-trip formatting, text escaped), and one ``take`` lays the
pieces out in row order (``<row r="7">``, ``<c r="D7" s="12">``, ``<v>``, value, ...), so the
bytes of the rows are the value buffer of one Arrow string array: no Python object per cell.
Rows are made in chunks, so memory stays flat at a million lines.

Cells are written as Excel writes them: ``r`` on every row and cell, numbers as ``<v>``, text
as inline strings (``t="inlineStr"``; the package's shared-string table is never touched),
booleans as ``t="b"``; a blank keeps its cell and format (``<c r="D7" s="12"/>``); non-finite
numbers are blank. Text is escaped for XML, and characters XML 1.0 cannot carry are written
the way Excel writes them (``_x0001_``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CellColumn",
    "RowBlock",
    "column_name",
    "range_bounds",
    "render_rows",
    "text_categories",
]

CHUNK_ROWS = 16384
_EXCEL_EPOCH = np.datetime64("1899-12-30")


def column_name(col: int) -> str:
    """1 -> ``A``, 28 -> ``AB``."""
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """``B6:AB100006`` -> (min_col, min_row, max_col, max_row), 1-based."""
    first, _, last = ref.replace("$", "").partition(":")
    last = last or first

    def cell(text: str) -> tuple[int, int]:
        letters = text.rstrip("0123456789")
        digits = text[len(letters) :]
        if not letters.isalpha() or not letters.isascii() or not digits.isdigit():
            raise ValueError(f"not a cell reference: {text!r}")
        col = 0
        for ch in letters.upper():
            col = col * 26 + ord(ch) - 64
        return col, int(digits)

    c1, r1 = cell(first)
    c2, r2 = cell(last)
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


@dataclass(frozen=True)
class CellColumn:
    """One column of a block: its values and its cell format (an index into cellXfs)."""

    values: Any  # a numpy array or pandas Series, one value per row
    xf: int


@dataclass(frozen=True)
class RowBlock:
    """Rows to write on a sheet: columns side by side from (``first_row``, ``first_col``),
    1-based. ``heights`` (points, NaN = default) sets rows' heights. ``table`` names the
    Excel Table whose range ends with these rows (its part is written with a range of one data
    row, since XlsxWriter checks a table's range cell by cell)."""

    sheet: str
    first_row: int
    first_col: int
    columns: Sequence[CellColumn]
    heights: Any = None
    table: str = ""

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    @property
    def last_row(self) -> int:
        return self.first_row + self.n_rows - 1

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.columns) - 1


def render_rows(block: RowBlock, xf: Callable[[int], int] = int) -> Iterator[bytes]:
    """The XML of ``block``'s rows, in chunks; ``xf`` maps each column's cell format."""
    import pyarrow as pa  # type: ignore[import-untyped]

    n = block.n_rows
    texts = [_texts(col.values) for col in block.columns]
    heights = _heights(block.heights, n)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        yield _chunk(block, xf, texts, heights, start, stop, pa)


# --------------------------------------------------------------------------------------------
# A column's values as XML text: (kind, Arrow string array with nulls for blanks)
# --------------------------------------------------------------------------------------------

_NUMBER, _TEXT, _BOOL = "n", "s", "b"


def _texts(values: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Per row a kind code (0 blank, 1 number, 2 text, 3 bool) and, per kind, the Arrow
    string array of every row's text in that kind (null where the row is of another kind)."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    series = values if isinstance(values, pd.Series) else pd.Series(values)
    coded = text_categories(series)
    if coded is not None:  # each text made Arrow once, then laid out by code
        codes, texts = coded
        return _text_kinds(texts.take(codes))
    if isinstance(series.dtype, pd.StringDtype):  # text already in Arrow: no Python strings
        strings = pa.array(series.array)
        if isinstance(strings, pa.ChunkedArray):  # pieces of a concatenated frame
            strings = strings.combine_chunks()
        return _text_kinds(strings.cast(pa.string()))
    arr = series.to_numpy()
    n = len(arr)
    kinds = np.zeros(n, dtype=np.int8)
    out: dict[str, Any] = {}
    if arr.dtype == bool:
        kinds[:] = 3
        out[_BOOL] = pc.cast(pa.array(arr.astype(np.int8)), pa.string())
        return kinds, out
    if np.issubdtype(arr.dtype, np.datetime64):
        arr = _serials(arr)
    if np.issubdtype(arr.dtype, np.number):
        nums = arr.astype(np.float64)
        ok = np.isfinite(nums)
        kinds[ok] = 1
        out[_NUMBER] = pc.cast(pa.array(np.where(ok, nums, np.nan), from_pandas=True), pa.string())
        return kinds, out
    try:  # text and blanks only (labels, messages): Arrow takes them as they are
        strings = pa.array(arr, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        strings = None
    if strings is not None:
        return _text_kinds(strings)
    # mixed: sort each value into its kind
    num = np.full(n, np.nan)
    text: list[str | None] = [None] * n
    flags = np.zeros(n, dtype=np.int8)
    for i, v in enumerate(arr.tolist()):
        if v is None or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, str):
            if v:
                text[i] = v
                kinds[i] = 2
        elif isinstance(v, bool | np.bool_):
            flags[i] = int(bool(v))
            kinds[i] = 3
        elif isinstance(v, int | float | np.integer | np.floating):
            f = float(v)
            if np.isfinite(f):
                num[i] = f
                kinds[i] = 1
        elif isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "toordinal"):
            serial = _serials(np.array([pd.Timestamp(v).to_datetime64()]))[0]
            if np.isfinite(serial):
                num[i] = serial
                kinds[i] = 1
        else:
            text[i] = str(v)
            kinds[i] = 2
    if (kinds == 1).any():
        out[_NUMBER] = pc.cast(pa.array(num, from_pandas=True), pa.string())
    if (kinds == 2).any():
        out[_TEXT] = _escape(pa.array(text, type=pa.string()))
    if (kinds == 3).any():
        out[_BOOL] = pc.cast(pa.array(flags), pa.string())
    return kinds, out


def text_categories(values: pd.Series) -> tuple[Any, Any] | None:
    """A categorical column of text (a few texts and a code per row) as Arrow: its codes, null
    where a row has none, and its texts; None for any other column. The writers turn each
    text into Arrow once instead of copying it into every row that holds it."""
    import pyarrow as pa

    dtype = values.dtype
    if not isinstance(dtype, pd.CategoricalDtype):
        return None
    if not all(type(v) is str for v in dtype.categories.tolist()):
        return None
    codes = values.cat.codes.to_numpy()
    texts = pa.array(dtype.categories.to_numpy(dtype=object), type=pa.string())
    return pa.array(codes, mask=codes < 0), texts


def _text_kinds(strings: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Kinds and texts of a column of text and blanks (null or ``""``)."""
    import pyarrow.compute as pc

    present = pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False)
    kinds = np.where(present.to_numpy(zero_copy_only=False), 2, 0).astype(np.int8)
    out: dict[str, Any] = {}
    if (kinds == 2).any():
        out[_TEXT] = _escape(strings)
    return kinds, out


def _serials(arr: np.ndarray) -> np.ndarray:
    """Excel's serial day numbers (1900 system) of datetime64 values; NaT -> NaN."""
    days = (arr.astype("datetime64[ns]") - _EXCEL_EPOCH) / np.timedelta64(1, "D")
    return np.asarray(days, dtype=np.float64)


def _escape(text: Any) -> Any:
    """XML-escaped text; characters XML 1.0 cannot hold as ``_xHHHH_`` (as Excel writes
    them), and a literal ``_xHHHH_`` escaped so it reads back as itself."""
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring_regex(text, _SPECIAL)).as_py():
        return text  # most columns: one pass to find nothing to escape
    text = pc.replace_substring_regex(text, r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1")
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, old, new)
    if pc.any(
        pc.match_substring_regex(text, r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]")
    ).as_py():
        for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]:
            text = pc.replace_substring(text, chr(code), f"_x{code:04X}_")
    for old, new in (("\r", "&#13;"), ("\t", "&#9;")):  # kept as written, not normalised
        text = pc.replace_substring(text, old, new)
    return text


_SPECIAL = r"[&<>\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]|_x[0-9A-Fa-f]{4}_"
"""What :func:`_escape` changes (RE2 syntax)."""


def _heights(heights: Any, n: int) -> np.ndarray | None:
    if heights is None:
        return None
    h = np.asarray(heights, dtype=np.float64)
    return h if len(h) == n and np.isfinite(h).any() else None


# --------------------------------------------------------------------------------------------
# Laying the pieces out in row order
# --------------------------------------------------------------------------------------------


def _chunk(
    block: RowBlock,
    xf: Callable[[int], int],
    texts: list[tuple[np.ndarray, dict[str, Any]]],
    heights: np.ndarray | None,
    start: int,
    stop: int,
    pa: Any,
) -> bytes:
    """Rows ``start:stop`` of ``block``: each column's cells as one string array (its values
    between their tags, the cell's kind choosing the tags), and every row's pieces joined by
    one element-wise kernel: no Python work per cell or per row."""
    import pyarrow.compute as pc

    m = stop - start

    def scalar(text: str) -> Any:
        return pa.scalar(text, type=pa.string())

    rows = pa.array(np.arange(block.first_row + start, block.first_row + stop)).cast(pa.string())
    # a row: <row r="  N  " spans="..."> (or with its height)  cells  </row>; a cell:
    # <c s="12"><v>  value  </v></c> (a blank: <c s="12"/>); the first cell says where the
    # row's cells start: <c r="B  N  " s=...
    spans = f'" spans="{block.first_col}:{block.last_col}'
    row_tag: Any
    if heights is None:
        row_tag = spans + '">'
    else:
        # a few distinct heights: one tag each, laid out by their codes
        distinct, codes = np.unique(heights[start:stop], return_inverse=True)
        tags = [
            f'{spans}" ht="{v:g}" customHeight="1">' if np.isfinite(v) else spans + '">'
            for v in distinct.tolist()
        ]
        row_tag = pa.array(tags, type=pa.string()).take(pa.array(codes.astype(np.int32)))
    first_cell = f'<c r="{column_name(block.first_col)}'
    parts: list[Any] = ['<row r="', rows, row_tag, first_cell, rows]
    for j, (col, (kinds, by_kind)) in enumerate(zip(block.columns, texts, strict=True)):
        style = xf(col.xf)
        k = kinds[start:stop]
        lead = '"' if j == 0 else "<c"
        cells: Any = f'{lead} s="{style}"/>'  # blank
        for code, kind, open_tag, close_tag in (
            (1, _NUMBER, f'{lead} s="{style}"><v>', "</v></c>"),
            (2, _TEXT, f'{lead} s="{style}" t="inlineStr"><is><t xml:space="preserve">', _END_TEXT),
            (3, _BOOL, f'{lead} s="{style}" t="b"><v>', "</v></c>"),
        ):
            here = k == code
            if not here.any():
                continue
            values = by_kind[kind].slice(start, m).cast(pa.string())
            if here.all():  # every cell of one kind: its pieces go straight into the rows
                cells = [open_tag, values, close_tag]
                break
            tagged = pc.binary_join_element_wise(
                scalar(open_tag), values, scalar(close_tag), scalar("")
            )
            cells = pc.if_else(
                pa.array(here), tagged, scalar(cells) if isinstance(cells, str) else cells
            )
        parts.extend(cells if isinstance(cells, list) else [cells])
    parts.append("</row>")
    # Tags side by side (one column's closing tag, the next one's opening tag) are one piece:
    # the kernel's work grows with the pieces of a row.
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    pieces = [scalar(p) if isinstance(p, str) else p for p in merged]
    return _buffer(pc.binary_join_element_wise(*pieces, scalar("")))


_END_TEXT = "</t></is></c>"


def _buffer(strings: Any) -> bytes:
    """The concatenated bytes of an Arrow string array (its value buffer, offsets applied)."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    data = strings.buffers()[2]
    return bytes(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
