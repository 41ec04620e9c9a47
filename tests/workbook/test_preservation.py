"""End to end: ``xlplan`` changes only what XLPlan owns in a real third-party workbook.

For every workbook in ``shared/data/excel`` (test files of XlsxWriter and calamine: charts,
chartsheets, images, comments, VBA, pivot tables, rich data, 1904 dates, ...) the user first
adds a plain "Landed Cost" sheet (at zip level, as Excel would append it); then the real CLI
computes it; then the result is compared part by part with the workbook the CLI was given:

- every zip member except ``xl/workbook.xml``, its ``.rels``, ``[Content_Types].xml`` and
  ``xl/styles.xml`` keeps its compressed bytes (so the user's sheets, drawings, VBA, ...);
- those four keep every entry of the user's in place and only gain XLPlan's;
- the Landed Cost Results sheet holds what the same lines give in a workbook of their own.

Files XLPlan cannot write into (encrypted, Strict Open XML) end in a clean exit 1.
"""

from __future__ import annotations

import io
import posixpath
import shutil
import struct
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import pytest
import xlsxwriter

from xlplan.actions import CATALOG
from xlplan.app.cli import main
from xlplan.core.errors import InputError
from xlplan.workbook.files import backup_path
from xlplan.workbook.io import read_workbook_tables
from xlplan.workbook.package import write_owned_sheets

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXCEL = SHARED / "data" / "excel"

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"

# Files that are not transitional OOXML workbooks, and why.
UNUSABLE = {
    "pass_protected.xlsx": "encrypted (an OLE compound file, not a zip)",
    "strict_iso_paths.xlsx": "Strict Open XML (purl.oclc.org namespaces)",
}
# openpyxl, which reads the input tables, raises TypeError on this file's pivot cache
# definitions (openpyxl.reader.excel: Nested.from_tree); xlplan.workbook.io does not turn that
# into an InputError yet, so the CLI ends with a traceback instead of a clean exit 1.
EDITABLE = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[content_types].xml", "xl/styles.xml"}

SHEET = "Landed Cost"
RESULTS_SHEET = "Landed Cost Results"
HEADERS = [
    "SKU",
    "Market",
    "Channel",
    "Unit cost",
    "Cost currency",
    "FX rate",
    "Freight / unit",
    "Duty rate",
    "Price",
]
LINES = [
    ["PB-10K", "US", "Amazon", 62, "CNY", 0.14, 0.85, 0.034, 29.99],
    ["CH-GAN65", "DE", "Amazon", 48, "CNY", 0.13, 0.45, 0.0, 35.99],
]
DATE = "2027-01-01"


def _workbooks() -> list[Path]:
    if not EXCEL.is_dir():
        return []
    return sorted(EXCEL.glob("*/*.xls[xm]"))


WORKBOOKS = _workbooks()
USABLE = [p for p in WORKBOOKS if p.name not in UNUSABLE]
BROKEN = [p for p in WORKBOOKS if p.name in UNUSABLE]
needs_data = pytest.mark.skipif(not WORKBOOKS, reason=f"test workbooks not found in {EXCEL}")


def _param(path: Path) -> object:
    # pivots.xlsx: openpyxl cannot parse its pivot caches; XLPlan reads a pivot-free copy and
    # still writes into the original package, so it runs like the others.
    return pytest.param(path, id=path.name)


def owned_sheet() -> bytes:
    """What the user adds: a sheet "Landed Cost" holding a plain table (no Excel Table)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(SHEET)
    ws.write_row(0, 0, HEADERS, wb.add_format({"bold": True}))
    for r, line in enumerate(LINES, 1):
        ws.write_row(r, 0, line)
    wb.close()
    return buf.getvalue()


def raw_members(blob: bytes) -> dict[str, tuple[int, bytes]]:
    """Per member (lower-case name, in zip order): compression method and stored bytes."""
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


def rels(parts: dict[str, bytes], part: str) -> list[tuple[str, str, str, str]]:
    folder, name = posixpath.split(part)
    xml = parts.get(posixpath.join(folder, "_rels", name + ".rels"))
    if xml is None:
        return []
    return [
        (el.get("Id", ""), el.get("Type", ""), el.get("Target", ""), el.get("TargetMode", ""))
        for el in ET.fromstring(xml).iter(f"{PKG_RELS}Relationship")
    ]


def sheets(parts: dict[str, bytes]) -> list[tuple[str, str, str, str]]:
    """(name, sheetId, r:id, part) of each tab, in order."""
    by_id = {rid: target for rid, _, target, _ in rels(parts, "xl/workbook.xml")}
    out = []
    for el in ET.fromstring(parts["xl/workbook.xml"]).iter(f"{MAIN}sheet"):
        target = by_id.get(el.get(R_ID, ""), "")
        part = (
            target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        ).lower()
        out.append((el.get("name", ""), el.get("sheetId", ""), el.get(R_ID, ""), part))
    return out


def defined_names(parts: dict[str, bytes]) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    root = ET.fromstring(parts["xl/workbook.xml"])
    return [
        (tuple(sorted(el.attrib.items())), el.text or "") for el in root.iter(f"{MAIN}definedName")
    ]


def workbook_settings(parts: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """Attributes of workbook.xml's single-instance children (workbookPr, calcPr, ...)."""
    root = ET.fromstring(parts["xl/workbook.xml"])
    skip = {f"{MAIN}{n}" for n in ("sheets", "definedNames")}
    return {child.tag: dict(child.attrib) for child in root if child.tag not in skip}


def content_types(parts: dict[str, bytes]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    root = ET.fromstring(parts["[content_types].xml"])
    defaults = {
        (el.get("Extension", ""), el.get("ContentType", "")) for el in root.iter(f"{CT}Default")
    }
    overrides = {
        (el.get("PartName", "").lower(), el.get("ContentType", ""))
        for el in root.iter(f"{CT}Override")
    }
    return defaults, overrides


def styles(parts: dict[str, bytes]) -> dict[str, list[bytes]]:
    xml = parts.get("xl/styles.xml")
    if xml is None:
        return {}
    root = ET.fromstring(xml)
    out = {}
    for name in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "dxfs"):
        container = root.find(MAIN + name)
        out[name] = [ET.tostring(el) for el in (container if container is not None else [])]
    return out


@pytest.fixture(scope="module")
def expected_results(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The results of the same lines in a workbook that holds nothing else."""
    folder = tmp_path_factory.mktemp("reference")
    src, out = folder / "lines.xlsx", folder / "lines.out.xlsx"
    src.write_bytes(owned_sheet())
    assert main(["landed-cost", str(src), "-o", str(out), "--date", DATE]) == 0
    frame = results_of(out)
    assert list(frame["sku"]) == ["PB-10K", "CH-GAN65"]
    assert list(frame["currency"]) == ["USD", "EUR"]
    # the FX rate given per line: US values FOB (62 x 0.14), the EU CIF (48 x 0.13 + 0.45)
    assert list(frame["customs_value"]) == [8.68, 6.69]
    return frame


def results_of(path: Path) -> pd.DataFrame:
    table = CATALOG.tables["landed_cost_results"]
    found = read_workbook_tables(path, CATALOG, [table.key])
    assert "landed_cost_results" in found, f"no {table.name} in {path.name}"
    assert found["landed_cost_results"].sheet == RESULTS_SHEET
    return found["landed_cost_results"].frame


def add_user_sheet(path: Path, folder: Path) -> Path:
    """The user's workbook with the "Landed Cost" sheet appended, as a file in ``folder``."""
    target = folder / f"user {path.name}"
    target.write_bytes(write_owned_sheets(path, owned_sheet(), [SHEET]))
    return target


def assert_only_owned_changed(before: bytes, after: bytes) -> None:
    """Part by part: ``after`` is ``before`` plus the results sheet XLPlan owns."""
    old_raw, new_raw = raw_members(before), raw_members(after)
    old, new = unzip(before), unzip(after)
    calc_chain_dropped = {n for n in old if n.endswith("calcchain.xml") and n not in new}
    kept = [n for n in old_raw if n not in EDITABLE | calc_chain_dropped]
    for name in kept:
        assert name in new_raw, f"{name} was dropped"
        assert new_raw[name] == old_raw[name], f"{name} changed"
    assert [n for n in new_raw if n in kept] == kept, "members were reordered"
    assert zipfile.ZipFile(io.BytesIO(after)).testzip() is None

    # the user's sheets (theirs and the one they added): same tab, same part, same bytes
    old_tabs, new_tabs = sheets(old), sheets(new)
    assert new_tabs[: len(old_tabs)] == old_tabs
    assert [t[0] for t in new_tabs[len(old_tabs) :]] == [RESULTS_SHEET]
    for _, _, _, part in old_tabs:
        assert new[part] == old[part], part
    if "xl/vbaproject.bin" in old:
        assert new_raw["xl/vbaproject.bin"] == old_raw["xl/vbaproject.bin"]

    # the four shared parts only gained entries
    assert defined_names(new) == defined_names(old)
    assert workbook_settings(new) == workbook_settings(old)
    old_rels = rels(old, "xl/workbook.xml")
    new_rels = rels(new, "xl/workbook.xml")
    dropped = [r for r in old_rels if r not in new_rels]
    assert all(r[1].endswith("/calcChain") for r in dropped), dropped
    assert bool(dropped) == bool(calc_chain_dropped)
    old_defaults, old_overrides = content_types(old)
    new_defaults, new_overrides = content_types(new)
    assert old_defaults <= new_defaults
    assert {o for o in old_overrides if "calcchain" not in o[0]} <= new_overrides
    for name, entries in styles(old).items():
        assert styles(new)[name][: len(entries)] == entries, f"styles {name} changed"


@needs_data
@pytest.mark.parametrize("path", [_param(p) for p in USABLE])
def test_landed_cost_changes_only_what_xlplan_owns(
    path: Path,
    tmp_path: Path,
    expected_results: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = add_user_sheet(path, tmp_path)
    before = src.read_bytes()
    out = tmp_path / f"out {path.name}"
    code = main(["landed-cost", str(src), "-o", str(out), "--date", DATE])
    assert code == 0, capsys.readouterr().err
    assert src.read_bytes() == before  # the input is never written
    assert_only_owned_changed(before, out.read_bytes())
    pd.testing.assert_frame_equal(results_of(out), expected_results)
    assert (results_of(out)["error"].fillna("") == "").all()

    # a second run replaces the results sheet in place; the rest still matches the input
    again = tmp_path / f"again {path.name}"
    assert main(["landed-cost", str(out), "-o", str(again), "--date", DATE]) == 0
    assert_only_owned_changed(before, again.read_bytes())


@needs_data
@pytest.mark.parametrize("path", [_param(p) for p in USABLE])
def test_run_in_place_keeps_an_identical_backup(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = add_user_sheet(path, tmp_path)
    before = src.read_bytes()
    out = tmp_path / f"out {path.name}"
    assert main(["run", str(src), "--action", "landed_cost", "-o", str(out), "--date", DATE]) == 0
    args = ["run", str(src), "--action", "landed_cost", "--in-place", "--date", DATE]
    assert main(args) == 0, capsys.readouterr().err
    assert backup_path(src, 1).read_bytes() == before
    assert src.read_bytes() == out.read_bytes()  # in place writes what -o writes
    assert_only_owned_changed(before, src.read_bytes())


@needs_data
@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_unusable_workbooks_end_in_a_clean_error(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError):  # the user cannot have added a sheet XLPlan reads either
        write_owned_sheets(path, owned_sheet(), [SHEET])
    src = tmp_path / path.name
    shutil.copyfile(path, src)
    for argv in (
        ["landed-cost", str(src), "-o", str(tmp_path / "out.xlsx")],
        ["run", str(src), "--action", "landed_cost", "--in-place"],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("xlplan: "), err
        assert "Traceback" not in err
    assert src.read_bytes() == path.read_bytes()
    assert not (tmp_path / "out.xlsx").exists()
