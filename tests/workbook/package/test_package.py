"""write_owned_sheets on real third-party workbooks: nothing outside XLPlan's sheets changes.

The workbooks are test files of XlsxWriter and calamine (see shared/data/excel/*/SOURCE.txt):
charts, chartsheets, images, comments, VBA, pivot tables, external links, rich data, 1904 dates.
"""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter

from xlplan.core.errors import InputError, TemplateError
from xlplan.workbook.package import write_owned_sheets

SHARED = Path(__file__).resolve().parents[4] / "shared"
EXCEL = SHARED / "data" / "excel"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# Files that are not transitional OOXML workbooks, and why.
UNUSABLE = {
    "pass_protected.xlsx": "encrypted (an OLE compound file, not a zip)",
    "strict_iso_paths.xlsx": "Strict Open XML (purl.oclc.org namespaces), not supported",
}
# Parts write_owned_sheets is allowed to change when it appends a sheet.
EDITABLE = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[content_types].xml", "xl/styles.xml"}

SHEET = "Landed Cost"
TABLE = "tblLanded"
HEADERS = ["落地成本 Landed cost", "Cost [CNY]", "Margin"]
ROWS = [["SKU-1", 12.5, 0.1], ["SKU-2 & <x>", 1234.567, 0.25], ["  lead space", -3.0, 1.5]]


def _workbooks() -> list[Path]:
    if not EXCEL.is_dir():
        return []
    return sorted(p for p in EXCEL.glob("*/*.xls[xm]") if p.name not in UNUSABLE)


WORKBOOKS = _workbooks()
needs_data = pytest.mark.skipif(not WORKBOOKS, reason=f"test workbooks not found in {EXCEL}")
each_workbook = pytest.mark.parametrize("path", WORKBOOKS, ids=[p.name for p in WORKBOOKS])


def make_owned(
    rows: list[list[object]] = ROWS,
    *,
    sheet: str = SHEET,
    table: str = TABLE,
    chart: bool = False,
    comment: bool = False,
) -> bytes:
    """An owned package as the lead builds it: one sheet with an Excel Table."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True, "font_color": "#1F4E78"})
    money = wb.add_format({"num_format": "#,##0.00"})
    pct = wb.add_format({"num_format": "0.0%"})
    flag = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    ws.set_column(0, 0, 26)
    ws.set_column(1, 2, 14)
    last = max(len(rows), 1)
    columns = [
        {"header": HEADERS[0], "header_format": bold},
        {"header": HEADERS[1], "header_format": bold, "format": money},
        {"header": HEADERS[2], "header_format": bold, "format": pct},
    ]
    ws.add_table(0, 0, last, 2, {"name": table, "data": rows, "columns": columns})
    ws.conditional_format(
        1, 2, last, 2, {"type": "cell", "criteria": ">", "value": 1, "format": flag}
    )
    if chart:
        ch = wb.add_chart({"type": "column"})
        ch.add_series({"values": f"='{sheet}'!$B$2:$B${last + 1}"})
        ws.insert_chart("E2", ch)
    if comment:
        ws.write_comment("A1", "XLPlan output / XLPlan 输出")
    wb.close()
    return buf.getvalue()


def raw_members(blob: bytes) -> dict[str, tuple[int, bytes]]:
    """Per member: compression method and the compressed bytes as stored."""
    out = {}
    for info in zipfile.ZipFile(io.BytesIO(blob)).infolist():
        off = info.header_offset
        name_len, extra_len = struct.unpack("<HH", blob[off + 26 : off + 30])
        start = off + 30 + name_len + extra_len
        out[info.filename.lower()] = (info.compress_type, blob[start : start + info.compress_size])
    return out


def unzip(blob: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(blob))
    return {info.filename.lower(): zf.read(info) for info in zf.infolist()}


def rels_of(parts: dict[str, bytes], part: str) -> list[str]:
    folder, name = posixpath.split(part)
    rels = parts.get(posixpath.join(folder, "_rels", name + ".rels").lower())
    if rels is None:
        return []
    out = []
    for el in ET.fromstring(rels).iter(f"{PKG_RELS}Relationship"):
        if el.get("TargetMode") == "External":
            continue
        target = el.get("Target", "").split("#")[0]
        resolved = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out.append(resolved.lower())
    return out


def unreachable(blob: bytes) -> set[str]:
    """Parts no relationship chain from the package root reaches (rels parts excepted)."""
    parts = unzip(blob)
    seen, stack = set(), [""]
    while stack:
        for target in rels_of(parts, stack.pop()):
            if target not in seen and target in parts:
                seen.add(target)
                stack.append(target)
    return {
        p for p in parts if p not in seen and not p.endswith(".rels") and p != "[content_types].xml"
    }


def sheet_part(blob: bytes, name: str) -> str:
    parts = unzip(blob)
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rid = next(
        s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        for s in wb.iter(f"{MAIN}sheet")
        if s.get("name") == name
    )
    rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    target = next(r.get("Target", "") for r in rels if r.get("Id") == rid)
    return posixpath.normpath(posixpath.join("xl", target)).lower()


def styles_entries(xml: bytes) -> dict[str, list[bytes]]:
    root = ET.fromstring(xml)
    out = {}
    for name in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "dxfs"):
        container = root.find(MAIN + name)
        out[name] = [ET.tostring(el) for el in (container if container is not None else [])]
    return out


def load_or_skip(blob: bytes, **kwargs: object) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(io.BytesIO(blob), **kwargs)
    except Exception as exc:  # openpyxl's own reader bugs, not ours
        pytest.skip(f"openpyxl cannot read the original workbook: {exc!r}")


# ------------------------------------------------------------------------------------------
# Appending a sheet to every real workbook
# ------------------------------------------------------------------------------------------


@needs_data
@each_workbook
def test_members_outside_owned_sheets_are_byte_identical(path: Path) -> None:
    original = path.read_bytes()
    result = write_owned_sheets(original, make_owned(), [SHEET])

    before, after = raw_members(original), raw_members(result)
    for name, (method, raw) in before.items():
        if name in EDITABLE:
            continue
        assert name in after, f"{name} was dropped"
        assert after[name] == (method, raw), f"{name} was re-encoded"
    # Unzipped content too, and the original members keep their order.
    old, new = unzip(original), unzip(result)
    assert all(new[n] == old[n] for n in old if n not in EDITABLE)
    order = [n for n in new if n in old]
    assert order == list(old)
    assert zipfile.ZipFile(io.BytesIO(result)).testzip() is None


@needs_data
@each_workbook
def test_existing_style_entries_keep_their_positions(path: Path) -> None:
    original = unzip(path.read_bytes())
    if "xl/styles.xml" not in original:
        pytest.skip("workbook has no styles part; the owned one is copied")
    result = unzip(write_owned_sheets(path, make_owned(), [SHEET]))
    before, after = (
        styles_entries(original["xl/styles.xml"]),
        styles_entries(result["xl/styles.xml"]),
    )
    for name, entries in before.items():
        assert after[name][: len(entries)] == entries, name
    assert after["cellStyleXfs"] == before["cellStyleXfs"]


@needs_data
@each_workbook
def test_openpyxl_reads_new_table_and_untouched_values(path: Path) -> None:
    original = path.read_bytes()
    old_wb = load_or_skip(original, data_only=True)
    result = write_owned_sheets(original, make_owned(), [SHEET])

    wb = openpyxl.load_workbook(io.BytesIO(result), data_only=True)
    assert wb.sheetnames == [*old_wb.sheetnames, SHEET]
    ws = wb[SHEET]
    assert ws.tables[TABLE].ref == "A1:C4"
    assert [c.value for c in ws[1]] == HEADERS
    assert [[c.value for c in row] for row in ws["A2:C4"]] == ROWS
    assert ws["B3"].number_format == "#,##0.00"
    assert ws["C3"].number_format == "0.0%"
    assert ws["A1"].font.b and ws["B1"].font.b
    assert ws.column_dimensions["A"].width == pytest.approx(26.71, abs=0.01)
    assert ws.conditional_formatting, "conditional format lost"
    for old_ws in old_wb.worksheets:
        assert cell_values(wb[old_ws.title]) == cell_values(old_ws), old_ws.title


def cell_values(ws: Any) -> dict[tuple[int, int], object]:
    """The stored cells (iter_rows would walk a whole-column range cell by cell)."""
    return {key: cell.value for key, cell in ws._cells.items()}


@needs_data
@each_workbook
def test_rewriting_replaces_without_orphans(path: Path) -> None:
    original = path.read_bytes()
    first = write_owned_sheets(original, make_owned(chart=True, comment=True), [SHEET])
    second = write_owned_sheets(first, make_owned(chart=True, comment=True), [SHEET])
    shorter = write_owned_sheets(second, make_owned(ROWS[:1]), [SHEET])

    a, b, c = unzip(first), unzip(second), unzip(shorter)
    assert set(b) == set(a), "a second run must reuse the same parts"
    assert b == a
    part = sheet_part(first, SHEET)
    assert sheet_part(second, SHEET) == sheet_part(shorter, SHEET) == part
    # The chart, drawing, comments and VML of the earlier run are gone with their overrides.
    assert not any(
        n.startswith(("xl/charts/", "xl/drawings/", "xl/comments"))
        for n in set(c) - set(unzip(original))
    )
    assert unreachable(shorter) <= unreachable(original)
    wb = openpyxl.load_workbook(io.BytesIO(shorter)) if _openpyxl_ok(original) else None
    if wb is not None:
        assert wb[SHEET].tables[TABLE].ref == "A1:C2"
        assert wb.sheetnames.count(SHEET) == 1


def _openpyxl_ok(blob: bytes) -> bool:
    try:
        openpyxl.load_workbook(io.BytesIO(blob))
    except Exception:
        return False
    return True


# ------------------------------------------------------------------------------------------
# Replacing in place, names, calcChain
# ------------------------------------------------------------------------------------------


def make_user_workbook() -> bytes:
    """A user's workbook with XLPlan's sheet in the middle and their own table elsewhere."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    intro = wb.add_worksheet("Intro")
    intro.write("A1", "My notes")
    wb.add_worksheet(SHEET).add_table(0, 0, 5, 1, {"name": TABLE, "data": [[1, 2]] * 5})
    other = wb.add_worksheet("Data")
    other.add_table(0, 0, 2, 1, {"name": "tblMine", "data": [[3, 4]] * 2})
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "=Data!$A$2:$A$3"})
    other.insert_chart("D2", chart)
    wb.close()
    return buf.getvalue()


def test_replace_keeps_tab_position_ids_and_user_parts() -> None:
    user = make_user_workbook()
    result = write_owned_sheets(user, make_owned(), [SHEET])

    def sheets(blob: bytes) -> list[tuple[str | None, ...]]:
        root = ET.fromstring(unzip(blob)["xl/workbook.xml"])
        return [tuple(s.attrib.values()) for s in root.iter(f"{MAIN}sheet")]

    assert sheets(result) == sheets(user)
    wb = openpyxl.load_workbook(io.BytesIO(result))
    assert wb.sheetnames == ["Intro", SHEET, "Data"]
    assert wb[SHEET].tables[TABLE].ref == "A1:C4"
    assert list(wb["Data"].tables) == ["tblMine"]
    assert unzip(result)["xl/charts/chart1.xml"] == unzip(user)["xl/charts/chart1.xml"]
    tables = [ET.fromstring(v) for k, v in unzip(result).items() if k.startswith("xl/tables/")]
    assert sorted(str(t.get("name")) for t in tables) == sorted([TABLE, "tblMine"])
    assert len({t.get("id") for t in tables}) == 2, "table ids must be unique"
    assert unreachable(result) == set()


def test_table_name_used_on_a_user_sheet_is_refused() -> None:
    user = make_user_workbook()
    with pytest.raises(TemplateError, match="tblMine"):
        write_owned_sheets(user, make_owned(sheet="New", table="tblMine"), ["New"])


def test_sheet_name_of_a_chartsheet_is_refused() -> None:
    any_sheets = EXCEL / "calamine" / "any_sheets.xlsx"
    if not any_sheets.exists():
        pytest.skip("any_sheets.xlsx not available")
    with pytest.raises(TemplateError, match="chartsheet"):
        write_owned_sheets(any_sheets, make_owned(sheet="chart"), ["chart"])


def test_unknown_owned_sheet_is_refused() -> None:
    with pytest.raises(TemplateError, match="Nope"):
        write_owned_sheets(make_user_workbook(), make_owned(), ["Nope"])


@pytest.mark.parametrize(
    ("sheet", "calc_chain_kept"),
    [("Feuil1", False), ("Feuil2", True)],  # calcChain.xml lists cells of Feuil1 (sheetId 1) only
)
def test_calc_chain_dropped_only_when_it_lists_a_replaced_sheet(
    sheet: str, calc_chain_kept: bool
) -> None:
    errors = EXCEL / "calamine" / "errors.xlsx"
    if not errors.exists():
        pytest.skip("errors.xlsx not available")
    blob = write_owned_sheets(errors, make_owned(sheet=sheet), [sheet])
    result = unzip(blob)
    assert ("xl/calcchain.xml" in result) is calc_chain_kept
    assert (b"calcChain" in result["[content_types].xml"]) is calc_chain_kept
    assert (b"calcChain" in result["xl/_rels/workbook.xml.rels"]) is calc_chain_kept
    wb = openpyxl.load_workbook(io.BytesIO(blob))
    assert wb.sheetnames == ["Feuil1", "Feuil2", "Feuil3"]
    assert wb[sheet]["A2"].value == ROWS[0][0]


def unzip_to_bytes(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts.items():
            zf.writestr("[Content_Types].xml" if name == "[content_types].xml" else name, data)
    return buf.getvalue()


def test_two_sheets_at_once_and_shared_styles_are_reused() -> None:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    money = wb.add_format({"num_format": "#,##0.00"})
    for name in ("Plan", "Actual"):
        ws = wb.add_worksheet(name)
        ws.add_table(
            0,
            0,
            1,
            0,
            {"name": f"tbl{name}", "data": [[1.5]], "columns": [{"header": "v", "format": money}]},
        )
    wb.close()
    user = make_user_workbook()
    once = write_owned_sheets(user, buf.getvalue(), ["Plan", "Actual"])
    twice = write_owned_sheets(once, buf.getvalue(), ["plan", "ACTUAL"])  # Excel names ignore case
    assert unzip(once)["xl/styles.xml"] == unzip(twice)["xl/styles.xml"]
    result = openpyxl.load_workbook(io.BytesIO(twice))
    assert result.sheetnames == ["Intro", SHEET, "Data", "Plan", "Actual"]
    assert result["Actual"]["A2"].number_format == "#,##0.00"


def tiny_png() -> bytes:
    """A 1x1 PNG, built here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("name", ["image01.xlsx", "comment03.xlsx", "chart_combined01.xlsx"])
def test_drawings_charts_images_comments_get_fresh_parts(name: str) -> None:
    path = EXCEL / "xlsxwriter" / name
    if not path.exists():
        pytest.skip(f"{name} not available")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    for sheet in ("Plan", "Actual"):  # XlsxWriter stores the shared image once
        ws = wb.add_worksheet(sheet)
        ws.write_column("A1", [1, 2, 3])
        ws.insert_image("C2", "logo.png", {"image_data": io.BytesIO(tiny_png())})
        ws.write_comment("A1", f"{sheet} note")
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"values": f"={sheet}!$A$1:$A$3"})
        ws.insert_chart("E2", chart)
    wb.close()
    original = path.read_bytes()
    result = write_owned_sheets(original, buf.getvalue(), ["Plan", "Actual"])

    old, new = unzip(original), unzip(result)
    added = sorted(set(new) - set(old))
    media = [n for n in added if n.startswith("xl/media/")]
    assert len(media) == 1, added
    assert len([n for n in added if n.startswith("xl/charts/chart")]) == 2
    assert len([n for n in added if n.endswith(".vml")]) == 2
    assert unreachable(result) == unreachable(original)
    blocks = [
        re.search(rb'<o:idmap v:ext="edit" data="(\d+)"', new[n]).group(1)  # type: ignore[union-attr]
        for n in new
        if n.endswith(".vml") and b"<o:idmap" in new[n]
    ]
    assert len(blocks) == len(set(blocks)), "VML shape id blocks must not collide"
    loaded = openpyxl.load_workbook(io.BytesIO(result))
    assert loaded["Actual"]["A1"].comment.text == "Actual note"
    assert write_owned_sheets(result, buf.getvalue(), ["Plan", "Actual"]) == result


def with_prefixed_main_namespace(blob: bytes, parts: set[str]) -> bytes:
    """Rewrite ``parts`` the way some generators do: ``<x:sheets>`` instead of ``<sheets>``."""
    main = MAIN.strip("{}")
    src = zipfile.ZipFile(io.BytesIO(blob))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in parts:
                text = re.sub(r"<(/?)(\w+)([\s/>])", r"<\1x:\2\3", data.decode())
                data = text.replace(f'xmlns="{main}"', f'xmlns:x="{main}"').encode()
            dst.writestr(info.filename, data)
    return buf.getvalue()


def test_prefixed_spreadsheetml_parts_get_valid_additions() -> None:
    user = with_prefixed_main_namespace(make_user_workbook(), {"xl/workbook.xml", "xl/styles.xml"})
    result = write_owned_sheets(user, make_owned(sheet="New", table="tblNew"), ["New"])
    styles = ET.fromstring(unzip(result)["xl/styles.xml"])
    xfs = styles.find(MAIN + "cellXfs")
    assert xfs is not None and all(el.tag == MAIN + "xf" for el in xfs)
    assert int(xfs.get("count", "0")) == len(xfs) > 1
    wb = openpyxl.load_workbook(io.BytesIO(result))
    assert wb.sheetnames == ["Intro", SHEET, "Data", "New"]
    assert wb["New"]["B3"].number_format == "#,##0.00"


def test_tab_selection_is_not_copied() -> None:
    result = unzip(
        write_owned_sheets(make_user_workbook(), make_owned(sheet="New", table="tblNew"), ["New"])
    )
    selected = [
        n
        for n, v in result.items()
        if n.startswith("xl/worksheets/sheet") and b'tabSelected="1"' in v
    ]
    assert len(selected) == 1, "two selected tabs open as a group in Excel"


def test_sources_can_be_paths_streams_or_bytes(tmp_path: Path) -> None:
    user = make_user_workbook()
    path = tmp_path / "plan.xlsx"
    path.write_bytes(user)
    from_bytes = write_owned_sheets(user, make_owned(), [SHEET])
    assert write_owned_sheets(path, io.BytesIO(make_owned()), [SHEET]) == from_bytes
    assert write_owned_sheets(str(path), make_owned(), [SHEET]) == from_bytes


# ------------------------------------------------------------------------------------------
# Inputs that are not workbooks
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_workbooks_raise_input_error(name: str) -> None:
    path = next(EXCEL.glob(f"*/{name}"), None)
    if path is None:
        pytest.skip(f"{name} not available")
    with pytest.raises(InputError) as info:
        write_owned_sheets(path, make_owned(), [SHEET])
    assert info.value.zh and info.value.en
    expected = "Strict" if "strict" in name else "encrypted"
    assert expected in info.value.en


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (b"not a zip at all", "not a valid Excel workbook"),
        (b"", "not a valid Excel workbook"),
        (unzip_to_bytes({"hello.txt": b"hi"}), "not a valid Excel workbook"),
    ],
    ids=["text", "empty", "zip-without-content-types"],
)
def test_non_workbooks_raise_input_error(blob: bytes, why: str) -> None:
    with pytest.raises(InputError, match=why) as info:
        write_owned_sheets(blob, make_owned(), [SHEET])
    assert "不是有效的 Excel 工作簿" in info.value.zh


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        write_owned_sheets(tmp_path / "nope.xlsx", make_owned(), [SHEET])


# ------------------------------------------------------------------------------------------
# LibreOffice opens the results
# ------------------------------------------------------------------------------------------

SOFFICE_SAMPLES = [
    "calamine/date_1904.xlsx",
    "calamine/pivots.xlsx",
    "calamine/vba.xlsm",
    "calamine/any_sheets.xlsx",
    "xlsxwriter/comment03.xlsx",
    "xlsxwriter/chart_combined01.xlsx",
    "calamine/inlineStr_cdata.xlsx",
]


@pytest.mark.soffice
@needs_data
def test_libreoffice_converts_results_to_pdf(soffice: Any, tmp_path: Path) -> None:
    files = []
    for rel in SOFFICE_SAMPLES:
        src = EXCEL / rel
        if not src.exists():
            continue
        out = tmp_path / f"out_{src.name}"
        out.write_bytes(write_owned_sheets(src, make_owned(chart=True, comment=True), [SHEET]))
        files.append(out)
    files.append(tmp_path / "replaced.xlsx")
    files[-1].write_bytes(write_owned_sheets(make_user_workbook(), make_owned(), [SHEET]))

    pdfs = soffice.convert(files, tmp_path / "pdf")
    for pdf in pdfs:
        assert pdf.exists() and pdf.stat().st_size > 0, f"LibreOffice could not open {pdf.stem}"
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(
            ["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True
        ).stdout
        assert "Landed cost" in text and "1,234.57" in text
