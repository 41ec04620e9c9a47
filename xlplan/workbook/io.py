"""Reading tables from workbooks and CSV files, and writing XLPlan's output tables back.

Reading: an Excel Table (ListObject) is found by its name (``tblLandedCost``) on any sheet; a
plain range is found on the sheet named after the table's sheet (either language), by the row
whose cells are the table's headers (either language). Cells are returned raw, keyed by column;
validation is the schema's job. Every table read remembers where it came from, so an error
record becomes ``Sheet!D7``.

Writing: never over the user's file by default. Output tables live on sheets XLPlan owns; they
are generated with XlsxWriter and transplanted into a copy of the user's package by
:mod:`xlplan.workbook.package`, which leaves every other part of the file as it was.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xlplan.core.errors import ErrorRecord, InputError, Message
from xlplan.workbook.catalog import Catalog
from xlplan.workbook.schema import (
    Table,
    frame_from_rows,
    map_headers,
    missing_columns,
    normalise_header,
)

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
    """The file exists and Excel does not hold it open (no ``~$`` lock file beside it)."""
    if not path.exists():
        raise InputError(f"找不到文件: {path}", f"file not found: {path}")
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise InputError(
            f"文件正在 Excel 中打开（存在 {lock.name}），请先关闭: {path}",
            f"the file is open in Excel ({lock.name} exists); close it first: {path}",
        )


def read_csv_table(path: Path, table: Table) -> TableData:
    """A table from a UTF-8 (with or without BOM) or GB18030 CSV with either language's headers."""
    check_readable(path)
    frame = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (OSError, pd.errors.ParserError) as exc:
            raise InputError(
                f"无法读取 CSV {path}: {exc}", f"cannot read CSV {path}: {exc}"
            ) from exc
    if frame is None:
        raise InputError(f"CSV 编码无法识别: {path}", f"unrecognised CSV encoding: {path}")
    rows: list[list[object]] = [list(frame.columns), *frame.to_numpy().tolist()]
    found, _ = map_headers(rows[0], table)
    _require_columns(rows[0], table, path.name)
    data = frame_from_rows(rows, table)
    return TableData(
        table, data, sheet=path.name, columns={k: i for i, k in found.items()}, csv=True
    )


def _require_columns(headers: Sequence[object], table: Table, where: str) -> None:
    problem = missing_columns(headers, table, where)
    if problem is not None:
        raise InputError(problem.zh, problem.en)


def _load(path: Path) -> Any:
    import warnings

    check_readable(path)
    _refuse_strict(path)
    with warnings.catch_warnings():  # openpyxl warns about parts it drops; XLPlan only reads
        warnings.simplefilter("ignore", UserWarning)
        return _load_workbook(path)


def _refuse_strict(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            head = zf.read("xl/workbook.xml")[:2000]
    except (zipfile.BadZipFile, KeyError, OSError):
        return  # not a package we can look into: the loader says why
    if b"purl.oclc.org/ooxml/spreadsheetml" in head:
        raise InputError(
            f"不支持 Strict Open XML 格式，请在 Excel 中另存为普通 .xlsx: {path}",
            f"Strict Open XML workbooks are not supported; save it as a normal .xlsx: {path}",
        )


def _load_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"无法打开工作簿（不是有效的 .xlsx，或已加密）: {path}",
            f"cannot open the workbook (not a valid .xlsx, or encrypted): {path}: {exc}",
        ) from exc
    except TypeError:
        # openpyxl cannot parse some pivot caches it meets on the way; XLPlan only reads tables,
        # so read a copy without the pivot parts (what it writes always starts from the file).
        try:
            return load_workbook(io.BytesIO(_without_pivots(path.read_bytes())), data_only=True)
        except Exception as exc:  # the file stays unreadable: say so, without a traceback
            raise InputError(
                f"无法读取工作簿（openpyxl 不支持其中的部分内容）: {path}",
                f"cannot read the workbook (openpyxl does not support parts of it): {path}: {exc}",
            ) from exc


def _without_pivots(data: bytes) -> bytes:
    """A copy of a package with its pivot tables and caches (and references to them) removed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            name = item.filename
            if name.startswith(("xl/pivotTables/", "xl/pivotCache/")):
                continue
            body = src.read(item)
            if name.endswith(".rels"):
                body = re.sub(
                    rb"<Relationship [^>]*Type=\"[^\"]*/pivot[A-Za-z]*\"[^>]*/>", b"", body
                )
            elif name == "xl/workbook.xml":
                body = re.sub(rb"<pivotCaches>.*?</pivotCaches>", b"", body, flags=re.S)
            elif name == "[Content_Types].xml":
                body = re.sub(rb"<Override [^>]*PartName=\"/xl/pivot[^>]*/>", b"", body)
            dst.writestr(item, body)
    return out.getvalue()


def read_workbook_tables(
    path: Path, catalog: Catalog, keys: Sequence[str] | None = None
) -> dict[str, TableData]:
    """The catalog's tables (those of ``keys``, default all) found in a workbook; tables it
    lacks are simply absent."""
    wb = _load(path)
    out: dict[str, TableData] = {}
    wanted = catalog.tables.values() if keys is None else [catalog.tables[k] for k in keys]
    for table in wanted:
        found = _find_table(wb, table, catalog.sheet_titles(table))
        if found is not None:
            out[table.key] = found
    return out


def _find_table(wb: Any, table: Table, titles: set[str]) -> TableData | None:
    from openpyxl.utils.cell import range_boundaries

    for ws in wb.worksheets:
        for name, obj in ws.tables.items():
            if name.casefold() == table.name.casefold():
                ref = obj.ref if hasattr(obj, "ref") else str(obj)
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                return _read_range(ws, table, min_row, min_col, max_row, max_col)
    for ws in wb.worksheets:
        if normalise_header(ws.title) not in titles:
            continue
        for r in range(1, min(ws.max_row, 30) + 1):
            header = [c.value for c in ws[r]]
            found, _ = map_headers(header, table)
            if len(found) >= max(2, sum(c.required for c in table.columns)):
                first = min(found) + 1
                last = max(found) + 1
                return _read_range(ws, table, r, first, ws.max_row, last)
    return None


def _read_range(
    ws: Any, table: Table, min_row: int, min_col: int, max_row: int, max_col: int
) -> TableData:
    rows = [
        list(r)
        for r in ws.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
        )
    ]
    header = rows[0] if rows else []
    found, _ = map_headers(header, table)
    # A table with a required column missing is reported when an action reads it, so the
    # actions that do not need it still run.
    problem = missing_columns(header, table, f"{ws.title}!{column_letter(min_col)}{min_row}")
    frame = frame_from_rows(rows, table)
    return TableData(
        table,
        frame,
        sheet=ws.title,
        header_row=min_row,
        first_col=min_col,
        columns={k: i for i, k in found.items()},
        problem=problem,
    )


def detect_lang(path: Path, catalog: Catalog) -> str:
    """``zh`` when the workbook's sheet names are XLPlan's Chinese ones, else ``en``.

    Reads the sheet names from ``xl/workbook.xml`` directly: no need to load the workbook.
    """
    import html

    try:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return "en"  # the caller reports unreadable files; language is a nicety
    names = {html.unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', xml)}
    return catalog.lang_of(names).value


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """UTF-8 with BOM, so Excel opens Chinese text correctly."""
    try:
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"无法写入 {path}: {exc}", f"cannot write {path}: {exc}") from exc


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

    buf = io.BytesIO()
    wb = render.new_workbook(buf)
    fmt = render.Formats(wb)
    for key, tables in sheets.items():
        writer = catalog.writers.get(key)
        if writer is not None:
            writer(wb, fmt, list(tables), lang)
        else:
            render.write_tables_sheet(wb, fmt, catalog.sheets[key], list(tables), lang)
    wb.close()
    owned = buf.getvalue()
    names = [catalog.sheets[k].title(lang) for k in sheets]
    data = owned if source is None else package.write_owned_sheets(source, owned, names)
    write_file(target, data)


def write_file(target: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a failure never leaves half a workbook."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"无法写入 {target}: {exc}", f"cannot write {target}: {exc}") from exc


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
        self.lang = lang or ("en" if self.csv else detect_lang(path, catalog))
        self._tables: dict[str, TableData] | None = None
        self.written: dict[str, pd.DataFrame] = {}

    def _read_all(self) -> dict[str, TableData]:
        if self._tables is None:
            if self.csv:
                table = self.catalog.tables[self.csv_table]
                self._tables = {table.key: read_csv_table(self.path, table)}
            else:
                self._tables = read_workbook_tables(self.path, self.catalog)
            self._tables.update(self.given)
        return self._tables

    def read_table(self, key: str) -> pd.DataFrame | None:
        if key in self.written:  # an earlier action of this run wrote it
            return self.written[key]
        found = self._read_all().get(key)
        if found is not None and found.problem is not None:
            raise InputError(found.problem.zh, found.problem.en)
        return None if found is None else found.frame

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        self.written[key] = frame

    def locate(self, record: ErrorRecord) -> str:
        if not record.table:
            return self.path.name
        found = self._read_all().get(record.table)
        if found is None:
            return f"{record.table} row {record.row + 1}"
        return found.locate(record)

    def save(self, target: Path) -> None:
        """Write the output tables to ``target`` (a copy of the input plus XLPlan's sheets).

        A CSV target (from a CSV or a workbook) gets the CSV table's rows beside their results.
        """
        if self.csv and target.exists() and target.resolve() == self.path.resolve():
            raise InputError("不会覆盖输入的 CSV 文件", "refusing to overwrite the input CSV")
        if self.csv or target.suffix.lower() == ".csv":
            self._save_csv(target)
            return
        by_sheet: dict[str, list[tuple[Table, pd.DataFrame]]] = {}
        for key, frame in self.written.items():
            table = self.catalog.tables[key]
            by_sheet.setdefault(table.sheet, []).append((table, frame))
        write_owned_tables(self.path, target, by_sheet, self.lang, self.catalog)

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
