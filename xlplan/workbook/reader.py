"""Read only the tables an action asks for, straight from the package, without loading the
workbook.

The package is indexed first, from its small parts, each parsed without DTDs or entities
(:mod:`xlplan.workbook.package.limits`): the sheets (``xl/workbook.xml`` and its
relationships) and every Excel Table's name, sheet, range and column names (the table parts).

An Excel Table is read by fastexcel (Rust, on calamine): only the columns the table declares,
each as one typed Arrow column (numbers as float64, text as strings), with no Python object
per number. Types are never guessed from a sample and never coerced: a column whose cells mix
types (a text in a number column, a date typed as text beside real dates) is read again cell by
cell, exactly as the cells are, so the one cell parser sees and reports every cell as it is.
A plain range on a sheet titled like the table (no Excel Table) is found by its header row and
read cell by cell the same way (python-calamine).

A cell both readers would hand over as a blank though it is not one reads as its text, as
Excel hands it to a UDF: an error value (``#N/A``, ``#DIV/0!``), and a text pandas calls "not
available" (``n/a``, ``NA``, ``null``) in a column of numbers. The sheet's XML is scanned for
them as a stream, never held whole (:mod:`xlplan.workbook.package.cellscan`).

The work starts in a worker thread as soon as the run knows which tables it needs, so parsing
overlaps the rest of the run's start-up. Nothing else of the workbook is loaded: no styles
objects, no cells of other sheets or other columns, no charts. Limits (part size, cells per
table) are checked before anything expands.

Measured on a 100,000-line plan (115 MB of Landed Cost sheet XML, 48 columns) on the shared
2-core machine: fastexcel reads the table's columns in ~2.0 s of CPU; calamine's cells plus
their conversion to columns took ~4 s, openpyxl's full load 85 s and 2.5 GB (issue 15).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import numpy as np

from xlplan.core.errors import FileRefused
from xlplan.workbook.package import (
    CT_TABLE,
    RT_SHARED_STRINGS,
    RT_STYLES,
    RT_WORKSHEET,
    Package,
    Workbook,
    read_rels,
)
from xlplan.workbook.package.cellscan import (
    cell_text,
    not_available_strings,
    row_cells,
    shared_strings,
    special_cells,
)
from xlplan.workbook.package.limits import cells_over_limit
from xlplan.workbook.package.sheetdata import range_bounds
from xlplan.workbook.package.zip import parse_part
from xlplan.workbook.schema import Table, map_headers, normalise_header

__all__ = ["Block", "TableRange", "WorkbookReader", "range_bounds"]

HEADER_SEARCH_ROWS = 30  # a plain range's header is looked for in the sheet's first rows


@dataclass(frozen=True)
class TableRange:
    """Where an Excel Table sits: its sheet and its range (1-based, inclusive), and its column
    names when it has one header row and no totals row (the shape fastexcel reads)."""

    name: str
    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int
    header: tuple[str, ...] | None = None

    @property
    def cells(self) -> int:
        """How many cells the range spans, its header row included."""
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)


@dataclass(frozen=True)
class Block:
    """A table's cells as read: its header row, and the data cells of the header positions
    the table declares (``columns``: position -> float64 array with NaN blanks when every
    cell is a number or blank, else an object array of cells with ``None`` or ``""`` blanks),
    all ``rows`` long; its sheet, header row and first column (1-based). ``blanks``: where
    the cells of an object column are blank, for the columns the reader knows it of (a typed
    read knows it from the column itself: no pass over Python objects to find it again)."""

    header: list[Any]
    columns: dict[int, np.ndarray]
    rows: int
    sheet: str
    header_row: int
    first_col: int
    blanks: dict[int, np.ndarray] = field(default_factory=dict)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how a table part spells e.g. a line break
logging.getLogger("fastexcel").setLevel(logging.ERROR)  # "could not determine dtype": blanks


class WorkbookReader:
    """The tables of one workbook file, read on demand (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self.pkg = Package.load(path, "workbook")
        self.book = Workbook.read(self.pkg)
        self.sheet_names = [s.name for s in self.book.sheets]
        self._parts = {s.name: s.part for s in self.book.sheets if s.rel_type == RT_WORKSHEET}
        self.tables = self._index_tables()
        for rel_type in (RT_SHARED_STRINGS, RT_STYLES):
            rel = self.book.rel_of_type(rel_type)
            if rel is not None and self.pkg.has(rel.part):
                self.pkg.check(rel.part)
        self._calamine: Any = None
        self._fastexcel: Any = None
        self._sheets: dict[str, _SheetJob] = {}
        self._column_jobs: dict[str, Future[Any]] = {}
        self._error_cells: dict[str, dict[tuple[int, int], str]] = {}
        self._shared: dict[int, str] | None = None
        self._headers: dict[str, list[Any]] = {}
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def _index_tables(self) -> dict[str, TableRange]:
        out: dict[str, TableRange] = {}
        for sheet, part in self._parts.items():
            if not part or not self.pkg.has(part):
                continue
            for rel in read_rels(self.pkg, part):
                if rel.external or not self.pkg.has(rel.part):
                    continue
                if self.pkg.content_types.of(rel.part) != CT_TABLE:
                    continue
                root = parse_part(self.pkg, rel.part)
                name = root.get("displayName") or root.get("name") or ""
                try:
                    c1, r1, c2, r2 = range_bounds(root.get("ref", ""))
                except ValueError:
                    continue  # a table without a usable range is not one XLPlan can read
                found = TableRange(name, sheet, r1, c1, r2, c2, _column_names(root, c2 - c1 + 1))
                out.setdefault(name.casefold(), found)
        return out

    # ----------------------------------------------------------------------------------------

    def prefetch(self, tables: Iterable[Table], titles: Mapping[str, set[str]]) -> None:
        """Start reading ``tables`` (or parsing the sheets that hold them) in a worker thread,
        the smallest first: the caller reads and works on the small ones (settings, rule
        tables) while a big one parses (fastexcel lets go of the interpreter while it parses:
        a busy Python thread beside a 1.4 s parse slowed it by ~0.05 s). A table found only by
        its sheet's title counts as big."""

        def cells(table: Table) -> float:
            found = self.tables.get(table.name.casefold())
            return math.inf if found is None else found.cells

        for table in sorted(tables, key=cells):
            found = self.tables.get(table.name.casefold())
            if found is not None and found.header is not None:
                self._columns_job(found, table)
            elif found is not None:
                self._sheet(found.sheet)
            else:
                for sheet in self._titled(titles.get(table.key, set())):
                    self._sheet(sheet)

    def _titled(self, titles: set[str]) -> list[str]:
        return [s for s in self._parts if normalise_header(s) in titles]

    def _submit(self, lane: str, func: Any, *args: Any) -> Future[Any]:
        """Run ``func`` in the worker of ``lane``, one per reader library (``fastexcel`` reads
        tables' columns, ``calamine`` parses sheets cell by cell): each library's workbook
        object serves one call at a time, and a small table read cell by cell (the Settings'
        values mix numbers, text and dates) does not wait behind a big table's parse."""
        pool = self._pools.get(lane)
        if pool is None:
            pool = self._pools[lane] = ThreadPoolExecutor(1, thread_name_prefix=f"xlplan-{lane}")
        future: Future[Any] = pool.submit(func, *args)
        return future

    def _workbook(self) -> Any:
        if self._calamine is None:
            from python_calamine import CalamineWorkbook

            try:
                self._calamine = CalamineWorkbook.from_path(str(self.path))
            except Exception as exc:  # calamine raises its own types for every kind of fault
                raise _unreadable(self.label, exc) from exc
        return self._calamine

    def _excel(self) -> Any:
        if self._fastexcel is None:
            import fastexcel

            try:
                self._fastexcel = fastexcel.read_excel(self.path)
            except Exception as exc:  # fastexcel raises its own types for every kind of fault
                raise _unreadable(self.label, exc) from exc
        return self._fastexcel

    def _sheet(self, name: str) -> _SheetJob:
        job = self._sheets.get(name)
        if job is None:
            self.pkg.check(self._parts[name])
            job = _SheetJob(self._submit("calamine", self._parse_sheet, name), name, self.label)
            self._sheets[name] = job
        return job

    def _parse_sheet(self, name: str) -> Any:
        return self._workbook().get_sheet_by_name(name)

    def cells(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> np.ndarray:
        """The cells of rows ``r1:r2``, columns ``c1:c2`` (1-based, inclusive) of ``sheet``,
        as a 2-D object array; blank cells are ``""``, error cells their text."""
        out = self._sheet(sheet).cells(r1, c1, r2, c2)
        for (r, c), text in self._errors(sheet).items():
            if r1 <= r <= r2 and c1 <= c <= c2:
                out[r - r1, c - c1] = text
        return out

    def _errors(self, sheet: str) -> dict[tuple[int, int], str]:
        """The sheet's cells that read as blanks but are not (:mod:`.package.cellscan`),
        (row, column) -> their text; scanned once per sheet."""
        found = self._error_cells.get(sheet)
        if found is None:
            if self._shared is None:
                rel = self.book.rel_of_type(RT_SHARED_STRINGS)
                self._shared = {}
                if rel is not None and self.pkg.has(rel.part):
                    self._shared = not_available_strings(self.pkg.read(rel.part))
            chunks = self.pkg.stream(self._parts[sheet])
            found = self._error_cells[sheet] = special_cells(chunks, self._shared)
        return found

    # ----------------------------------------------------------------------------------------

    def read_table(self, table: Table, titles: set[str]) -> Block | None:
        """The cells of ``table`` (see :class:`Block`); None when the workbook has neither an
        Excel Table of the table's name nor a plain range on a sheet titled like it (found by
        its header row)."""
        found = self.tables.get(table.name.casefold())
        if found is not None:
            self._check_cells(found.name, found)
            if found.header is not None:
                block = self._typed_columns(found, table)
                if block is not None:
                    return block
            f = found
            cells = self.cells(f.sheet, f.min_row, f.min_col, f.max_row, f.max_col)
            self._release(f.sheet)
            return _block(cells, table, f.sheet, f.min_row, f.min_col)
        for sheet in self._titled(titles):
            job = self._sheet(sheet)
            head = job.cells(1, 1, HEADER_SEARCH_ROWS, job.width())
            for r, header in enumerate(head.tolist(), 1):
                cols, _ = map_headers([None if v == "" else v for v in header], table)
                if len(cols) >= max(2, sum(c.required for c in table.columns)):
                    first, last = min(cols) + 1, max(cols) + 1
                    area = TableRange(sheet, sheet, r, first, max(job.height(), r), last)
                    self._check_cells(f"{sheet}!{r}", area)
                    cells = self.cells(sheet, r, first, area.max_row, last)
                    self._release(sheet)
                    return _block(cells, table, sheet, r, first)
        return None

    def _header(self, found: TableRange) -> list[Any]:
        """A table's header cells as the sheet holds them (what the user sees; a file not
        saved by Excel may leave the table part's column names as they were), read from the
        start of the sheet's XML only; the table part's names when the row cannot be read."""
        header = self._headers.get(found.name)
        if header is None:
            part = self._parts[found.sheet]
            cells = row_cells(self.pkg.stream(part, 1 << 16), found.min_row)
            if cells is None:
                assert found.header is not None
                header = [name or None for name in found.header]
            else:
                wanted = {int(v) for t, v in cells.values() if t == "s" and v.isdigit()}
                rel = self.book.rel_of_type(RT_SHARED_STRINGS)
                shared = {}
                if wanted and rel is not None and self.pkg.has(rel.part):
                    shared = shared_strings(self.pkg.read(rel.part), wanted)
                span = range(found.min_col, found.max_col + 1)
                values = [cell_text(*cells[c], shared) if c in cells else None for c in span]
                header = [None if v == "" else v for v in values]
            self._headers[found.name] = header
        return header

    def _columns_job(self, found: TableRange, table: Table) -> Future[Any]:
        job = self._column_jobs.get(found.name)
        if job is None:
            self.pkg.check(self._parts[found.sheet])
            cols, _ = map_headers(self._header(found), table)
            # A declared column's type comes from all its cells, which must agree; columns
            # the table does not declare (the user's own) are not used: read as text.
            width = found.max_col - found.min_col + 1
            text = {i: "string" for i in range(width) if i not in cols}
            job = self._submit("fastexcel", self._load_columns, found, bool(cols), text)
            self._column_jobs[found.name] = job
        return job

    def _load_columns(self, found: TableRange, wanted: bool, text: dict[int, str]) -> Any:
        """The table's columns as an Arrow record batch, ``text``'s positions (within the
        table) read as text; None when a column mixes types (then its cells are read one by
        one) or none is wanted.

        The table's rectangle is read from its sheet (header row, columns, rows) rather than
        by the table's name: fastexcel reads a sheet's cells without copying them first. On a
        100,000-line table that is ~0.3 s less CPU and ~90 MB less at the read's own peak;
        the whole command's peak ~45 MB lower, its CPU ~0.1-0.2 s less. Its column names are
        the header cells as the sheet has them, not used: the columns are taken by position.
        The rows past the sheet's last used row (a table with room left at its end) are not
        in the sheet's cells: they are blank, added as such."""
        from fastexcel import ColumnNotFoundError, UnsupportedColumnTypeCombinationError

        rows = found.max_row - found.min_row
        if not wanted or rows <= 0:
            return None
        first = found.min_col - 1  # fastexcel counts columns from column A, from 0
        try:
            batch = self._excel().load_sheet(
                found.sheet,
                header_row=found.min_row - 1,
                use_columns=list(range(first, found.max_col)),
                n_rows=rows,
                dtypes={first + i: dtype for i, dtype in text.items()},
                dtype_coercion="strict",
                schema_sample_rows=None,
                eager=True,
            )
        except (UnsupportedColumnTypeCombinationError, ColumnNotFoundError):
            # A column of mixed types; or an end column of the table with no cell at all,
            # not even its header (outside the sheet's cells, fastexcel does not find it).
            return None
        except Exception as exc:  # fastexcel's own error types
            raise _unreadable(self.label, exc) from exc
        return _padded(batch, rows)

    def _typed_columns(self, found: TableRange, table: Table) -> Block | None:
        """The table read as typed columns; None when they must be read cell by cell."""
        job = self._columns_job(found, table)  # the prefetched one, else started now
        del self._column_jobs[found.name]  # read once: its columns are not kept
        special = self._errors(found.sheet)  # scanned here while the worker parses
        batch = job.result()
        header = self._header(found)
        rows = found.max_row - found.min_row
        cols, _ = map_headers(header, table)
        if batch is None:
            if cols:
                return None  # a column mixes types
            return Block(header, {}, rows, found.sheet, found.min_row, found.min_col)
        if batch.num_rows != rows or batch.num_columns != len(header):
            return None  # not the range the table part declares: read it cell by cell
        columns: dict[int, np.ndarray] = {}
        blanks: dict[int, np.ndarray] = {}
        for i in cols:
            columns[i], blank = _cells_of(batch.column(i))
            if blank is not None:
                blanks[i] = blank
        for (r, c), value in special.items():
            i = c - found.min_col
            if found.min_row < r <= found.max_row and i in columns:
                if columns[i].dtype != object:
                    columns[i] = _as_cells(columns[i])
                columns[i][r - found.min_row - 1] = value
                blanks.pop(i, None)  # no longer what the column says: found again from cells
        return Block(header, columns, rows, found.sheet, found.min_row, found.min_col, blanks)

    def _release(self, sheet: str) -> None:
        """Let a big sheet's parsed cells go once a table is read from it (a 100,000-line
        sheet holds ~200 MB in calamine); small sheets stay for their other tables."""
        job = self._sheets.get(sheet)
        if job is not None and job.height() * job.width() > 1_000_000:
            del self._sheets[sheet]

    def _check_cells(self, where: str, found: TableRange) -> None:
        cells = found.cells
        if cells > self.pkg.limits.cells:
            raise cells_over_limit(self.label, where, cells, self.pkg.limits)


def _unreadable(label: str, exc: BaseException) -> FileRefused:
    return FileRefused(
        f"无法读取工作簿（不是有效的 .xlsx，或已加密）: {label}",
        f"cannot read the workbook (not a valid .xlsx, or encrypted): {label}: {exc}",
    )


class _SheetJob:
    """One sheet parsed by calamine in the worker thread (calamine releases the GIL, so the
    parse overlaps whatever the main thread does meanwhile)."""

    def __init__(self, future: Future[Any], name: str, label: str) -> None:
        self.name, self.label = name, label
        self._future = future

    def result(self) -> Any:
        try:
            return self._future.result()
        except FileRefused:
            raise
        except Exception as exc:  # calamine's own error types
            raise _unreadable(self.label, exc) from exc

    def height(self) -> int:
        """Rows from row 1 to the sheet's last used row."""
        sheet = self.result()
        return int(sheet.end[0]) + 1 if sheet.end is not None else 0

    def width(self) -> int:
        """Columns from column A to the sheet's last used column."""
        sheet = self.result()
        return int(sheet.end[1]) + 1 if sheet.end is not None else 0

    def cells(self, r1: int, c1: int, r2: int, c2: int) -> np.ndarray:
        """Rows ``r1:r2``, columns ``c1:c2`` (1-based, inclusive), blanks ``""``; the part
        beyond the sheet's used range is blank. Only these cells become Python values."""
        sheet = self.result()
        out = np.full((max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)), "", dtype=object)
        if sheet.end is None or not out.size:
            return out
        # iter_rows() yields rows from row 1, each from the used range's first column
        first_col = int(sheet.start[1])
        lo = max(c1 - 1 - first_col, 0)
        hi = max(c2 - first_col, 0)
        skip = max(first_col - (c1 - 1), 0)  # blank columns before the used range
        try:
            for i, row in enumerate(sheet.iter_rows()):
                at = i + 1  # sheet row of this row
                if at < r1:
                    continue
                if at > r2:
                    break
                part = row[lo:hi]
                out[at - r1, skip : skip + len(part)] = part
        except Exception as exc:
            raise _unreadable(self.label, exc) from exc
        return out


def _column_names(root: Any, width: int) -> tuple[str, ...] | None:
    """A table part's column names, as its header cells read, when the table has one header
    row, no totals row and a name for each of its ``width`` columns; else None."""
    if root.get("headerRowCount", "1") != "1" or root.get("totalsRowCount", "0") != "0":
        return None
    names = [
        _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), el.get("name", ""))
        for el in root.iter()
        if el.tag.rsplit("}", 1)[-1] == "tableColumn"
    ]
    return tuple(names) if len(names) == width else None


def _block(cells: np.ndarray, table: Table, sheet: str, header_row: int, first_col: int) -> Block:
    """A block of cells (header row first) as a :class:`Block` of the table's columns."""
    header = [None if v == "" else v for v in cells[0].tolist()] if len(cells) else []
    body = cells[1:]
    cols, _ = map_headers(header, table)
    columns = {i: body[:, i] for i in cols} if body.ndim == 2 else {}
    return Block(header, columns, len(body), sheet, header_row, first_col)


def _padded(batch: Any, rows: int) -> Any:
    """``batch`` with blank rows added up to ``rows``."""
    import pyarrow as pa  # type: ignore[import-untyped]

    short = rows - batch.num_rows
    if short <= 0:
        return batch
    return pa.RecordBatch.from_arrays(
        [pa.concat_arrays([column, pa.nulls(short, column.type)]) for column in batch.columns],
        names=batch.schema.names,
    )


def _cells_of(column: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """One Arrow column of a typed read: float64 (NaN blanks) for numbers, else its values as
    Python objects (``None`` blanks): text, booleans, dates, durations. A text column comes
    with where it is blank (null or ``""``, both handed over as ``None``), found on its
    distinct values: a column of a few codes makes a few Python strings, not one a line."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        values = column.cast(pa.float64()).fill_null(np.nan).to_numpy()
        return np.asarray(values, dtype=float), None
    if pa.types.is_null(column.type):
        return np.full(len(column), None, dtype=object), np.ones(len(column), dtype=bool)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        encoded = pc.dictionary_encode(column)
        words = encoded.dictionary.to_pylist()
        texts = np.empty(len(words) + 1, dtype=object)  # the last one stands for a null
        texts[:-1] = [None if w == "" else w for w in words]
        codes = np.asarray(encoded.indices.fill_null(len(words)).to_numpy(), dtype=np.intp)
        return texts[codes], np.array([t is None for t in texts], dtype=bool)[codes]
    cells = column.to_pylist()
    if pa.types.is_timestamp(column.type):  # a whole day is a date, as calamine gives it
        cells = [v.date() if v is not None and v.time() == _MIDNIGHT else v for v in cells]
    out = np.empty(len(cells), dtype=object)
    out[:] = cells
    return out, None


_MIDNIGHT = time(0)


def _as_cells(values: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out
