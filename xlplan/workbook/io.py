"""Reading tables from workbooks and CSV files, and writing XLPlan's output tables back.

Reading: an Excel Table (ListObject) is found by its name (``tblLandedCost``) on any sheet; a
plain range is found on the sheet named after the table's sheet (either language), by the row
whose cells are the table's headers (either language). Cells are returned raw, keyed by column;
validation is the schema's job. Every table read remembers where it came from, so an error
record becomes ``Sheet!D7``.

A workbook is never loaded whole: only the tables an action asks for are read, from their
sheets' XML (:mod:`xlplan.workbook.reader`), each when it is first asked for.

Writing: never over the user's file by default. Output tables live on sheets XLPlan owns; they
are drawn with XlsxWriter (their big data tables streamed as XML) and transplanted into a copy
of the user's package by :mod:`xlplan.workbook.package`, which leaves every other part of the
file as it was. Every file is written atomically (:mod:`xlplan.workbook.files`). User text is
always written as text: never a formula or a link in a workbook, and in a CSV a cell that a
spreadsheet would run as a formula gets a leading ``'`` (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlplan.core.errors import ErrorRecord, FileError, InputError, Message
from xlplan.workbook import files
from xlplan.workbook.catalog import Catalog
from xlplan.workbook.reader import Block, WorkbookReader
from xlplan.workbook.schema import NUMERIC_KINDS, Table, map_headers, missing_columns

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass(frozen=True)
class TableData:
    """A table as read: raw cells by column key, and where each row and column sits."""

    table: Table
    frame: pd.DataFrame
    sheet: str = ""
    header_row: int = 0  # 1-based sheet row of the header; 0 for CSV (header is line 1)
    first_col: int = 1  # 1-based sheet column of the table's first column
    columns: Mapping[str, int] = field(default_factory=dict)  # key -> 0-based offset in table
    csv: bool = False
    problem: Message | None = None  # why the table cannot be used (a required column missing)

    def locate(self, record: ErrorRecord) -> str:
        """Where a record points: ``Sheet!D7`` in a workbook, ``line 7, duty_rate`` in a CSV."""
        if self.csv:
            col = f", {record.column}" if record.column else ""
            return f"line {record.row + 2}{col}"
        return locate_cell(self.sheet, self.header_row, self.first_col, self.columns, record)


def locate_cell(
    sheet: str, header_row: int, first_col: int, columns: Mapping[str, int], record: ErrorRecord
) -> str:
    """``Sheet!D7`` for a record of a table whose header sits at (``header_row``,
    ``first_col``), 1-based, with ``columns`` mapping keys to offsets; ``Sheet!7:7`` for a
    whole-row record. Both ports (file and live) locate errors with it."""
    row = header_row + 1 + record.row
    offset = columns.get(record.column)
    if offset is None:
        return f"{sheet}!{row}:{row}"
    return f"{sheet}!{column_letter(first_col + offset)}{row}"


def column_letter(col: int) -> str:
    """1 -> ``A``, 28 -> ``AB``."""
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def check_readable(path: Path) -> None:
    """The file exists and neither Excel nor LibreOffice holds it open (no lock file)."""
    if not path.exists():
        raise FileError(f"找不到文件: {path}", f"file not found: {path}")
    if path.is_dir():
        raise FileError(
            f"这是一个文件夹，不是文件: {path}", f"this is a folder, not a file: {path}"
        )
    files.check_not_open(path)


def read_csv_table(path: Path, table: Table) -> TableData:
    """A table from a UTF-8 (with or without BOM) or GB18030 CSV with either language's headers.

    Read by Arrow's multithreaded reader, every cell as text (the one cell parser reads them),
    as the large strings pandas keeps its Arrow-backed text in: read as strings, every column
    was cast to them again (a copy of each; ~1 s of CPU on a million lines).
    """
    import pyarrow as pa  # type: ignore[import-untyped]
    from pyarrow import csv as pacsv

    check_readable(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise files.file_error(path, exc, "read") from exc
    data = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        data = (
            text.encode("utf-8") if encoding != "utf-8-sig" else raw.removeprefix(b"\xef\xbb\xbf")
        )
        break
    if data is None:
        raise InputError(f"CSV 编码无法识别: {path}", f"unrecognised CSV encoding: {path}")
    header = _csv_header(data)
    found, _ = map_headers(header, table)
    _require_columns(header, table, path.name)
    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(header))], skip_rows=1
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.large_string() for i in found},
                include_columns=[f"c{i}" for i in found],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"无法读取 CSV {path}: {exc}", f"cannot read CSV {path}: {exc}") from exc
    n = arrow.num_rows
    columns = {key: f"c{i}" for i, key in found.items()}
    # Text columns stay in Arrow (pandas' str dtype): no Python string per cell (a million
    # lines of 48 columns would be 48 million of them); the one cell parser reads them on
    # their distinct values.
    frame = pd.DataFrame(
        {
            key: (
                arrow.column(columns[key]).to_pandas()
                if key in columns
                else pd.Series(np.full(n, None, dtype=object), dtype=object)
            )
            for key in table.keys
        }
    )
    return TableData(
        table, frame, sheet=path.name, columns={k: i for i, k in found.items()}, csv=True
    )


def _csv_header(data: bytes) -> list[str]:
    import csv

    end = data.find(b"\n")
    first = data if end < 0 else data[: end + 1]
    try:
        return next(csv.reader([first.decode("utf-8").rstrip("\r\n")]))
    except StopIteration:
        return []


def _require_columns(headers: Sequence[object], table: Table, where: str) -> None:
    problem = missing_columns(headers, table, where)
    if problem is not None:
        raise InputError(problem.zh, problem.en)


# --------------------------------------------------------------------------------------------
# Workbooks: only the tables asked for, streamed
# --------------------------------------------------------------------------------------------


def open_workbook(path: Path) -> WorkbookReader:
    """A reader of ``path``'s tables; refuses locked, unreadable, hostile or unsupported files."""
    check_readable(path)
    return WorkbookReader(path)


def read_workbook_tables(
    path: Path, catalog: Catalog, keys: Sequence[str] | None = None
) -> dict[str, TableData]:
    """The catalog's tables (those of ``keys``, default all) found in a workbook; tables it
    lacks are simply absent."""
    reader = open_workbook(path)
    out: dict[str, TableData] = {}
    wanted = catalog.tables.values() if keys is None else [catalog.tables[k] for k in keys]
    for table in wanted:
        found = read_table(reader, table, catalog)
        if found is not None:
            out[table.key] = found
    return out


def read_table(reader: WorkbookReader, table: Table, catalog: Catalog) -> TableData | None:
    """One table of an open workbook, or None when the workbook has no such table."""
    block = reader.read_table(table, catalog.sheet_titles(table))
    if block is None:
        return None
    cols, _ = map_headers(block.header, table)
    # A table with a required column missing is reported when an action reads it, so the
    # actions that do not need it still run.
    where = f"{block.sheet}!{column_letter(block.first_col)}{block.header_row}"
    return TableData(
        table,
        frame_of_cells(block, cols, table),
        sheet=block.sheet,
        header_row=block.header_row,
        first_col=block.first_col,
        columns={k: i for i, k in cols.items()},
        problem=missing_columns(block.header, table, where),
    )


def frame_of_cells(block: Block, cols: Mapping[int, str], table: Table) -> pd.DataFrame:
    """A raw frame (keys as columns, cells as read, blanks None) of a table's data rows.

    Trailing rows that are entirely blank are dropped, so row positions still match the sheet.

    A numeric column (of the schema) whose cells are all numbers or blank comes as float64
    (NaN where blank): what the cells hold, in the form the one cell parser reads as one array
    instead of cell by cell. Any other column keeps its cells as Python objects (so a text, a
    boolean or a date in a numeric column is still seen, and reported, as what it is).
    """
    numeric = {c.key for c in table.columns if c.kind in NUMERIC_KINDS}
    n = block.rows
    used = np.zeros(n, dtype=bool)
    picked: dict[str, np.ndarray] = {}
    for i, key in cols.items():
        values = block.columns[i]
        blank: np.ndarray | None = block.blanks.get(i)
        if blank is not None:  # the reader found them (and hands them over as None)
            if key in numeric and blank.all():
                values = np.full(len(values), np.nan)
        elif values.dtype == np.float64:
            blank = np.isnan(values)
            if key not in numeric:  # a number in a text, flag or date column: as a cell
                values = values.astype(object)
                values[blank] = None
        elif key in numeric:
            values, blank = _numbers_or_cells(values)
        if blank is None:
            blank = (values == "") | pd.isna(values)
            if blank.any():
                values = values.copy()
                values[blank] = None
        picked[key] = values
        used |= ~blank
    last = int(np.flatnonzero(used)[-1]) + 1 if used.any() else 0
    columns = {
        key: picked[key][:last] if key in picked else np.full(last, None, dtype=object)
        for key in table.keys
    }
    # cells as read: no inference (pandas would make text columns str)
    return pd.DataFrame(
        {key: pd.Series(v, dtype=v.dtype, copy=False) for key, v in columns.items()}
    )


def _numbers_or_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A column of numbers and blanks (``""``, None) as float64 with NaN blanks, and where it
    is blank; the cells unchanged (and no mask) when anything else is among them."""
    types = np.frompyfunc(type, 1, 1)(values)
    number = (types == float) | (types == int)  # noqa: E721 - bool (a subclass of int) stays out
    rest = values[~number]
    if len(rest) and not ((rest == "") | pd.isna(rest)).all():
        return values, None
    out = np.full(len(values), np.nan)
    try:
        out[number] = values[number].astype(np.float64)
    except OverflowError:  # an int too large for a float: the parser reports it
        return values, None
    blank = ~number | np.isnan(out)
    return out, blank


def detect_lang(path: Path, catalog: Catalog) -> str:
    """``zh`` when the workbook's sheet names are XLPlan's Chinese ones, else ``en``.

    Reads the sheet names from ``xl/workbook.xml`` only.
    """
    try:
        return catalog.lang_of(open_workbook(path).sheet_names).value
    except (InputError, OSError):
        return "en"  # the caller reports unreadable files; language is a nicety


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell a spreadsheet would run as a formula prefixed by ``'``.

    OWASP's advice on CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return is read by Excel, LibreOffice and Google Sheets as a formula (which
    may run commands or send data away). Such text gets a leading apostrophe, which shows it as
    the text it is. Numbers stay numbers: numeric columns are not touched, and text that is a
    plain number (``-1.5``, ``+3``) stays as it is.
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        values = out[col]
        if not _may_hold_text(values.dtype):
            continue  # numbers, booleans, dates: never text
        text = values.astype(object)
        text = text.where(text.map(type) == str)  # noqa: E721 - only str cells
        risky = text.str.match(_FORMULA_START, na=False) & ~text.str.match(_PLAIN_NUMBER, na=False)
        mask = risky.to_numpy(dtype=bool)
        if mask.any():
            fixed = values.to_numpy(dtype=object).copy()
            fixed[mask] = ["'" + v for v in fixed[mask]]
            out[col] = pd.Series(fixed, index=values.index, dtype=object)
    return out


def _may_hold_text(dtype: np.dtype[Any] | pd.api.extensions.ExtensionDtype) -> bool:
    """Whether a column of this dtype can hold text: object, string, or a categorical (a few
    values and a code per row, text among them)."""
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """UTF-8 with BOM (so Excel opens Chinese text correctly), written atomically, formulas
    neutralised (:func:`neutralise_csv`). Written by Arrow's CSV writer in batches."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    table = pa.Table.from_arrays(
        [_csv_column(frame.iloc[:, i]) for i in range(frame.shape[1])],
        names=[str(c) for c in frame.columns],
    )
    with files.atomic(path) as out:
        out.write(b"\xef\xbb\xbf")
        sink = _Sink(out)
        pacsv.write_csv(table, sink, pacsv.WriteOptions(batch_size=65536))


class _Sink:
    """A writable file object over an :class:`~xlplan.workbook.files.AtomicFile` for Arrow."""

    def __init__(self, out: files.AtomicFile) -> None:
        self.out = out
        self.closed = False

    def write(self, data: bytes) -> int:
        return self.out.write(data)

    def flush(self) -> None:
        pass


def _csv_column(values: pd.Series) -> object:
    """A column as Arrow for the CSV writer, formulas neutralised as :func:`neutralise_csv`
    does: a column of text and blanks in Arrow's kernels, a mixed one cell by cell."""
    import pyarrow as pa

    from xlplan.workbook.package.sheetdata import text_categories

    coded = text_categories(values)
    if coded is not None:  # each text neutralised once, decoded batch by batch by the writer
        codes, texts = coded
        return pa.DictionaryArray.from_arrays(codes, _neutralised(texts))
    if not _may_hold_text(values.dtype):
        return _arrow_column(values)  # numbers, booleans, dates: never text
    try:
        source = values.array if isinstance(values.dtype, pd.StringDtype) else values.to_numpy()
        arrow = pa.array(source, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        arrow = None
    if arrow is None:  # text mixed with other values
        return _arrow_column(neutralise_csv(values.to_frame()).iloc[:, 0])
    if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
        return _neutralised(arrow)
    return arrow  # no text in it


_FORMULA_START_BYTES = np.frombuffer(b"=+-@\t\r", dtype=np.uint8)
"""The first characters of :data:`_FORMULA_START`, each one byte in UTF-8."""
_PLAIN_NUMBER_RE2 = r"^[+-]?(?:\p{Nd}+(?:\.\p{Nd}*)?|\.\p{Nd}+)(?:[eE][+-]?\p{Nd}+)?\n?$"
""":data:`_PLAIN_NUMBER` as RE2 reads it (Python's ``\\d`` is any Unicode digit, and its ``$``
also matches before a final newline)."""


def _neutralised(text: object) -> object:
    """Text cells (an Arrow string array) that start like a formula get a leading ``'``.

    A cell starts like a formula when its first byte is one of :data:`_FORMULA_START`'s
    characters (ASCII: in UTF-8 a first byte below 0x80 is the first character), read off
    the array's buffers in one pass; only those cells are matched against the plain-number
    pattern. A million-line CSV has some forty text columns (the echoed inputs): two regular
    expressions over every cell of each took 8 s of its 24."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    arr: Any = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    risky = _starts_like_formula(arr)
    if not risky.any():
        return text
    at = np.flatnonzero(risky)
    plain = pc.match_substring_regex(arr.take(pa.array(at)), _PLAIN_NUMBER_RE2)
    risky[at[plain.to_numpy(zero_copy_only=False)]] = False
    if not risky.any():
        return text
    kind = arr.type
    quote, none = pa.scalar("'", kind), pa.scalar("", kind)
    return pc.if_else(pa.array(risky), pc.binary_join_element_wise(quote, arr, none), arr)


def _starts_like_formula(arr: Any) -> np.ndarray:
    """Per cell of an Arrow string array: not null, and its first byte one of
    :data:`_FORMULA_START_BYTES`."""
    import pyarrow as pa

    n = len(arr)
    _, offsets_buffer, data_buffer = arr.buffers()
    wide = pa.types.is_large_string(arr.type)
    offsets: np.ndarray = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + n + 1].astype(np.int64)
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    first = np.zeros(n, dtype=np.uint8)
    if data_buffer is not None and filled.any():
        first[filled] = np.frombuffer(data_buffer, dtype=np.uint8)[starts[filled]]
    risky = np.isin(first, _FORMULA_START_BYTES)
    if arr.null_count:
        risky &= arr.is_valid().to_numpy(zero_copy_only=False)
    return risky


def _arrow_column(values: pd.Series) -> object:
    import pyarrow as pa

    if values.dtype != object:
        return pa.array(values.to_numpy(), from_pandas=True)
    try:
        return pa.array(values.to_numpy(dtype=object), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        text = [None if _blank(v) else _text(v) for v in values.to_numpy(dtype=object)]
        return pa.array(text, type=pa.string())


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _text(value: object) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def write_owned_tables(
    source: Path | None,
    target: Path,
    sheets: Mapping[str, Sequence[tuple[Table, pd.DataFrame]]],
    lang: str,
    catalog: Catalog,
) -> None:
    """Write output tables onto the sheets XLPlan owns, in a copy of ``source`` at ``target``.

    ``sheets`` maps a sheet key to its tables (titles and notes from the catalog; a sheet with
    a writer of its own is drawn by it). With ``source`` None a new workbook holding only those
    sheets is written. Writing over ``source`` itself is the caller's explicit choice
    (``--in-place``).
    """
    from xlplan.workbook import package, render

    if source is not None:
        check_kind(source, target)
    buf = io.BytesIO()
    wb = render.new_workbook(buf)
    fmt = render.Formats(wb, rows=[])
    for key, tables in sheets.items():
        writer = catalog.writers.get(key)
        if writer is not None:
            writer(wb, fmt, list(tables), lang)
        else:
            render.write_tables_sheet(wb, fmt, catalog.sheets[key], list(tables), lang)
    wb.close()
    owned = buf.getvalue()
    names = [catalog.sheets[k].title(lang) for k in sheets]
    rows = fmt.rows or []
    # Without a source the owned package is its own target: its sheets get their rows.
    data = package.write_owned_sheets(owned if source is None else source, owned, names, rows)
    write_file(target, data)


_KINDS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
}


def check_kind(source: Path, target: Path) -> None:
    """Refuse a target whose extension does not match the source's kind: Excel will not open
    a macro-enabled workbook saved as ``.xlsx`` (nor a plain one as ``.xlsm``)."""
    from xlplan.workbook.package import Package, Workbook

    pkg = Package.load(source, "workbook")
    kind = _KINDS.get(pkg.content_types.of(Workbook.read(pkg).part))
    suffix = target.suffix.lower()
    if kind is None or suffix == kind:
        return
    raise InputError(
        f"{source.name} 是 {kind} 工作簿，输出必须同为 {kind}（Excel 不会打开扩展名与内容不符的"
        f"文件）：请用 -o {target.stem}{kind}",
        f"{source.name} is a {kind} workbook, so the output must be {kind} too (Excel refuses "
        f"a file whose extension does not match its content): use -o {target.stem}{kind}",
    )


def write_file(target: Path, data: bytes) -> None:
    """Write through a temporary file, fsync and rename: a failure never leaves half a file,
    and never touches the previous one (:func:`xlplan.workbook.files.write_atomic`)."""
    files.write_atomic(target, data)


# --------------------------------------------------------------------------------------------
# Ports: how actions see a file
# --------------------------------------------------------------------------------------------


class FilePort:
    """The workbook port over a file: reads once, collects writes, saves to a new file.

    ``catalog`` says which tables to look for and how to draw the sheets written. A CSV holds
    one table, ``csv_table``; saved to CSV, its rows come back with the output table
    ``csv_result`` beside them. ``given`` are tables from elsewhere (the command line's
    ``--fx``, ``--orders``) that replace the workbook's.
    """

    def __init__(
        self,
        path: Path,
        catalog: Catalog,
        lang: str | None = None,
        *,
        csv_table: str = "",
        csv_result: str = "",
        given: Mapping[str, TableData] | None = None,
    ) -> None:
        self.path = path
        self.catalog = catalog
        self.csv = path.suffix.lower() == ".csv"
        if not self.csv and path.suffix.lower() not in EXCEL_SUFFIXES:
            raise InputError(
                f"不支持的文件类型 {path.suffix}（支持 .xlsx、.xlsm、.csv）",
                f"unsupported file type {path.suffix} (use .xlsx, .xlsm or .csv)",
            )
        if self.csv and not csv_table:
            raise InputError(
                "此命令不接受 CSV 文件，请用 .xlsx 计划工作簿",
                "this command takes a plan workbook (.xlsx), not a CSV file",
            )
        self.csv_table = csv_table
        self.csv_result = csv_result
        self.given = dict(given or {})
        self._reader: WorkbookReader | None = None
        if not self.csv:
            self._reader = open_workbook(path)
        self.lang = lang or (
            "en" if self._reader is None else catalog.lang_of(self._reader.sheet_names).value
        )
        self._tables: dict[str, TableData | None] = dict(self.given)
        self._released: dict[str, TableData] = {}  # tables let go before writing: where they sat
        self.written: dict[str, pd.DataFrame] = {}

    def prefetch(self, keys: Sequence[str]) -> None:
        """Start reading the sheets that hold ``keys`` (they parse in the background)."""
        if self._reader is not None:
            tables = [self.catalog.tables[k] for k in keys if k not in self._tables]
            titles = {t.key: self.catalog.sheet_titles(t) for t in tables}
            self._reader.prefetch(tables, titles)

    def _read(self, key: str) -> TableData | None:
        if key not in self._tables:
            table = self.catalog.tables[key]
            if self.csv:
                found = read_csv_table(self.path, table) if key == self.csv_table else None
            else:
                assert self._reader is not None
                found = read_table(self._reader, table, self.catalog)
            self._tables[key] = found
        return self._tables[key]

    def read_table(self, key: str) -> pd.DataFrame | None:
        if key in self.written:  # an earlier action of this run wrote it
            return self.written[key]
        found = self._read(key)
        if found is not None and found.problem is not None:
            raise InputError(found.problem.zh, found.problem.en)
        return None if found is None else found.frame

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        self.written[key] = frame

    def locate(self, record: ErrorRecord) -> str:
        if not record.table:
            return self.path.name
        found = self._tables.get(record.table) or self._released.get(record.table)
        if found is None and record.table in self.catalog.tables:
            found = self._read(record.table)  # a table this run wrote sits where the file has it
        if found is None:
            return f"{record.table} row {record.row + 1}"
        return found.locate(record)

    def save(self, target: Path) -> None:
        """Write the output tables to ``target`` (a copy of the input plus XLPlan's sheets).

        A CSV target (from a CSV or a workbook) gets the CSV table's rows beside their results.
        """
        if self.csv and target.exists() and target.resolve() == self.path.resolve():
            raise FileError("不会覆盖输入的 CSV 文件", "refusing to overwrite the input CSV")
        if self.csv or target.suffix.lower() == ".csv":
            self._save_csv(target)
            return
        by_sheet: dict[str, list[tuple[Table, pd.DataFrame]]] = {}
        for key, frame in self.written.items():
            table = self.catalog.tables[key]
            by_sheet.setdefault(table.sheet, []).append((table, frame))
        self._release()
        write_owned_tables(self.path, target, by_sheet, self.lang, self.catalog)

    def _release(self) -> None:
        """Let the cells read from the workbook go before writing (a 100,000-line table holds
        ~100 MB of them), so writing does not add to them; where each table sits stays, for
        locating errors, and a table asked for again is read again."""
        for key, found in list(self._tables.items()):
            if found is not None and key not in self.given:
                self._released[key] = replace(found, frame=found.frame.iloc[:0].copy())
                del self._tables[key]

    def _save_csv(self, target: Path) -> None:
        lines = self.read_table(self.csv_table) if self.csv_table else None
        results = self.written.get(self.csv_result) if self.csv_result else None
        if lines is None or results is None:
            raise InputError("没有可写出的结果", "nothing to write")
        source = self.catalog.tables[self.csv_table]
        result = self.catalog.tables[self.csv_result]
        outputs = results.drop(columns=[k for k in results.columns if k in source.keys])
        frame = pd.concat([lines.reset_index(drop=True), outputs.reset_index(drop=True)], axis=1)
        headers = {c.key: c.header(self.lang) for c in (*source.columns, *result.columns)}
        write_csv(target, frame.rename(columns=headers))
