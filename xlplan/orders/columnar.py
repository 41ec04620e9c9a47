"""Columnar building blocks the CSV and flat-file readers share.

Files are read with pyarrow's CSV reader and interpreted with pyarrow compute kernels, so no
Python loop runs over rows (exports reach a million lines). The helpers are tolerant of the
quirks real exports have (blank cells, trailing spaces, a byte-order mark) and strict about what
they cannot interpret: a value that is not a number or a date raises
:class:`xlplan.core.errors.InputError` naming the file, the line and the column, in Chinese and
English.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from xlplan.core.errors import InputError
from xlplan.orders.contract import PathLike

#: How many offending lines an error message quotes before summarising the rest.
MAX_QUOTED_LINES = 5


def _read_header(path: Path, delimiter: str, encoding: str) -> list[str]:
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {path}: {exc.strerror or exc}",
            f"cannot open order file {path}: {exc.strerror or exc}",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: 第 1 行不是 {encoding} 编码的文本",
            f"{path}: line 1 is not {encoding} text",
        ) from exc
    first = first.lstrip("\ufeff")
    if not first.strip():
        raise InputError(
            f"{path}: 文件为空或缺少表头行", f"{path}: the file is empty or has no header"
        )
    row = next(csv.reader([first], delimiter=delimiter))
    return [name.strip() for name in row]


def read_table(
    path: PathLike,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quoted: bool = True,
    wanted: Collection[str] | None = None,
) -> tuple[pa.Table, Path]:
    """The ``wanted`` columns (all when None) of a delimited file as text, and its path.

    Header names are trimmed; blank cells are empty strings. Columns not wanted are skipped
    by the parser (exports carry 70+). With ``quoted`` False a ``"`` is an ordinary character
    (Amazon's tab-delimited reports do not quote). A repeated name among the wanted columns,
    an unreadable file or text that is not delimited raises :class:`InputError`.
    """
    p = Path(path)
    header = _read_header(p, delimiter, encoding)
    dupes = sorted(
        {h for h in header if header.count(h) > 1 and h and (wanted is None or h in wanted)}
    )
    if dupes:
        raise InputError(
            f"{p}: 表头中列名重复: {', '.join(dupes)}",
            f"{p}: repeated column names in the header: {', '.join(dupes)}",
        )
    seen: set[str] = set()
    names = []
    for i, h in enumerate(header):
        names.append(h if h and h not in seen else f"_column_{i}")
        seen.add(h)
    include = [n for n in names if wanted is None or n in wanted]
    try:
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding=encoding, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoted else False,
                newlines_in_values=quoted,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={n: pa.string() for n in include},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {p}: {exc}", f"cannot open order file {p}: {exc}"
        ) from exc
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"{p}: 无法按 CSV 解析 ({exc})", f"{p}: cannot be parsed as delimited text ({exc})"
        ) from exc
    return table, p


def require_columns(path: Path, present: Sequence[str], required: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the ``required`` columns not among ``present``."""
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(
            f"{path}: 缺少必需的列: {', '.join(missing)}",
            f"{path}: missing required columns: {', '.join(missing)}",
        )


def text_column(table: pa.Table, name: str) -> pa.Array:
    """A column as trimmed text; a column the file does not have reads as all blank."""
    if name not in table.column_names:
        return pa.array([""] * table.num_rows, type=pa.string())
    col = table.column(name).combine_chunks()
    return pc.utf8_trim_whitespace(col)


def raise_bad_values(
    path: Path,
    bad: np.ndarray,
    lines: np.ndarray,
    column: str,
    values: pa.Array | np.ndarray,
    what_zh: str,
    what_en: str,
) -> None:
    """Raise :class:`InputError` when any ``bad`` is set, quoting the first
    :data:`MAX_QUOTED_LINES` offending ``values`` with their file ``lines``."""
    idx = np.flatnonzero(bad)
    if len(idx) == 0:
        return
    vals = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    shown = idx[:MAX_QUOTED_LINES]
    zh = "; ".join(f"第 {int(lines[i])} 行 “{vals[i]}”" for i in shown)
    en = "; ".join(f"line {int(lines[i])} '{vals[i]}'" for i in shown)
    more_zh = f" (另有 {len(idx) - len(shown)} 行)" if len(idx) > len(shown) else ""
    more_en = f" (and {len(idx) - len(shown)} more lines)" if len(idx) > len(shown) else ""
    raise InputError(
        f"{path}: 列 “{column}” {what_zh}: {zh}{more_zh}",
        f"{path}: column '{column}' {what_en}: {en}{more_en}",
    )


_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_COMMA_DECIMAL = r"^[+-]?\d+,\d+$"


def parse_numbers(
    path: Path,
    values: pa.Array,
    lines: np.ndarray,
    column: str,
    *,
    blank: float | None,
    comma_decimal: bool = False,
) -> np.ndarray:
    """Parse trimmed text to float64; ``blank`` is the value for empty cells (None: empty is an
    error). Thousands separators are not accepted (exports do not write them)."""
    vals = values
    if comma_decimal:
        is_comma = pc.match_substring_regex(vals, _COMMA_DECIMAL)
        vals = pc.if_else(is_comma, pc.replace_substring(vals, ",", "."), vals)
    empty = pc.equal(vals, "")
    ok = pc.match_substring_regex(vals, _NUMBER)
    bad = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    is_empty = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    if blank is not None:
        bad &= ~is_empty
    raise_bad_values(
        path,
        bad,
        lines,
        column,
        values,
        "不是数字" if blank is not None else "为空或不是数字",
        "is not a number" if blank is not None else "is blank or not a number",
    )
    filled = pc.if_else(empty, "0", vals)
    out = np.array(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    if blank is not None and blank != 0.0:
        out[is_empty] = blank
    return out


# Date layouts read without a ``date_format``: ISO dates with a time (``T`` or space, seconds
# optional) or without, ``YYYY/MM/DD`` and ``DD.MM.YYYY``. A UTC offset or zone name after the
# time is dropped: the wall-clock time as written is kept.
_DATE_TAIL = r"^(\.\d+)?(Z| ?[+-]\d{2}:?\d{2}| ?UTC| ?GMT| ?PST| ?PDT)?$"
_CANONICAL = "%Y-%m-%d %H:%M:%S"
_FAST_DATE = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z| ?[+-]\d{2}:?\d{2}| ?UTC| ?GMT)?$"


def _same_day(parsed: pa.Array, head: pa.Array) -> pa.Array:
    text = pc.utf8_slice_codeunits(head, 8, 10)
    text = pc.if_else(pc.match_substring_regex(text, r"^\d\d$"), text, "0")
    written = pc.cast(text, pa.int64())
    return pc.equal(pc.day(parsed), written)


def parse_dates(
    path: Path,
    values: pa.Array,
    lines: np.ndarray,
    column: str,
    *,
    date_format: str | None = None,
) -> np.ndarray:
    """Parse trimmed text to datetime64[s] wall-clock time (offset dropped). Empty is an error.

    Without ``date_format`` every value is rewritten to ``YYYY-MM-DD HH:MM:SS`` and parsed;
    the parsed day of month must equal the written one, because pyarrow's parser rolls
    impossible days over into the next month (``2025-02-30`` would become March 2).
    """
    if date_format is not None:
        parsed = pc.strptime(values, format=date_format, unit="s", error_is_null=True)
        bad = np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False), dtype=bool)
    elif len(values) and pc.all(pc.match_substring_regex(values, _FAST_DATE)).as_py():
        # every value is ISO with seconds (Shopify, Amazon): one parse, no rewriting
        head = pc.replace_substring(pc.utf8_slice_codeunits(values, 0, 19), "T", " ")
        parsed = pc.strptime(head, format=_CANONICAL, unit="s", error_is_null=True)
        bad = ~np.asarray(
            pc.fill_null(_same_day(parsed, head), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    else:
        iso = pc.replace_substring_regex(values, r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3")
        iso = pc.replace_substring_regex(iso, r"^(\d{2})\.(\d{2})\.(\d{4})", r"\3-\2-\1")
        iso = pc.replace_substring_regex(iso, r"^(\d{4}-\d{2}-\d{2})T", r"\1 ")
        full = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
        minutes = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
        day = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2}")
        head = pc.if_else(
            full,
            pc.utf8_slice_codeunits(iso, 0, 19),
            pc.if_else(
                minutes,
                pc.binary_join_element_wise(pc.utf8_slice_codeunits(iso, 0, 16), ":00", ""),
                pc.binary_join_element_wise(pc.utf8_slice_codeunits(iso, 0, 10), " 00:00:00", ""),
            ),
        )
        tail = pc.if_else(
            full,
            pc.utf8_slice_codeunits(iso, 19),
            pc.if_else(minutes, pc.utf8_slice_codeunits(iso, 16), pc.utf8_slice_codeunits(iso, 10)),
        )
        parsed = pc.strptime(head, format=_CANONICAL, unit="s", error_is_null=True)
        good = pc.and_kleene(
            pc.and_kleene(day, pc.match_substring_regex(tail, _DATE_TAIL)),
            _same_day(parsed, head),
        )
        bad = ~np.asarray(pc.fill_null(good, False).to_numpy(zero_copy_only=False), dtype=bool)
    raise_bad_values(
        path, bad, lines, column, values, "不是可识别的日期", "is not a date it can read"
    )
    return np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[s]")


def blank_to_none(values: np.ndarray) -> np.ndarray:
    """Blank text as None (the contract's NA), as an object array."""
    out = np.asarray(values, dtype=object).copy()
    out[out == ""] = None
    return out


def blank_to_null(values: pa.Array) -> pa.Array:
    """Blank text as null (the contract's NA), staying in Arrow."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def object_array(values: pa.Array) -> np.ndarray:
    """Arrow text as a numpy object array of Python strings."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
