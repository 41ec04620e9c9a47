"""Relinking formulas that name XLPlan's add-in functions through a path or an external link.

The files are built as Excel saves a workbook that used ``xlplan.xlam``: cells hold
``[1]!XLP_X(...)``, ``xl/workbook.xml`` lists ``<externalReferences>``, and
``xl/externalLinks/externalLink1.xml`` names the functions, its ``.rels`` pointing at the
add-in's path (``file:///C:\\...\\xlplan.xlam``, ``TargetMode="External"``).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from xlplan import actions
from xlplan.actions.relink import FormulaPort, run_relink
from xlplan.app.cli import main
from xlplan.core.errors import InputError, Message
from xlplan.plan.action import Context
from xlplan.plan.settings import default_settings
from xlplan.workbook.files import backup_path
from xlplan.workbook.relink import relink_formula, relink_package

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_LINK = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
ADDIN = r"file:///C:\Users\Li%20Wei\AppData\Roaming\Microsoft\AddIns\xlplan.xlam"
PATH = r"C:\Users\Li Wei\AppData\Roaming\Microsoft\AddIns\xlplan.xlam"

CASES = [
    # the formula bar on another machine: the add-in's full path, quoted (spaces in it)
    (f"='{PATH}'!XLP_LANDED_COST(A2:Z9)", "=XLP_LANDED_COST(A2:Z9)"),
    (r"='\\fileserver\team share\xlplan.xlam'!XLP_KPI(A1)", "=XLP_KPI(A1)"),
    ("='C:\\Add-ins\\it''s xlplan.XLAM'!XLP_KPI(A1)", "=XLP_KPI(A1)"),
    ("=xlplan.xlam!XLP_LANDED_COST(A2)", "=XLP_LANDED_COST(A2)"),
    ("='old.xla'!XLP_KPI(1)", "=XLP_KPI(1)"),
    # in the file: external link N; and the prefixes of functions Excel did not know
    ("[1]!XLP_LANDED_COST(A2)", "XLP_LANDED_COST(A2)"),
    ("=[12]!xlp_landed_cost(A2)", "=xlp_landed_cost(A2)"),
    ("=_xludf.XLP_LANDED_COST(tblLandedCost[#All])", "=XLP_LANDED_COST(tblLandedCost[#All])"),
    ("=_xll.XLP_KPI(A1)", "=XLP_KPI(A1)"),
    # nested and mixed
    ("=ROUND([1]!XLP_A([1]!XLP_B(A2),2),2)", "=ROUND(XLP_A(XLP_B(A2),2),2)"),
    (f"=IFERROR('{PATH}'!XLP_A(A1),_xludf.XLP_B(A1))", "=IFERROR(XLP_A(A1),XLP_B(A1))"),
    ("=SUM('My Sheet'!A1:A3)*[1]!XLP_RATE(\"US\")", "=SUM('My Sheet'!A1:A3)*XLP_RATE(\"US\")"),
    # strings stay exactly as written, even when they look like a qualified call
    ('="xlplan.xlam!XLP_X(" & A1', '="xlplan.xlam!XLP_X(" & A1'),
    ('="[1]!XLP_X(""q"")"&[1]!XLP_X(A1)', '="[1]!XLP_X(""q"")"&XLP_X(A1)'),
    (f"=\"'{PATH}'!XLP_X(\"", f"=\"'{PATH}'!XLP_X(\""),
    # other functions, other add-ins, references into other workbooks: untouched
    ("=[1]!OTHER_FUNC(A1)", "=[1]!OTHER_FUNC(A1)"),
    ("=other.xlam!MY_FUNC(A1)", "=other.xlam!MY_FUNC(A1)"),
    (
        '=_xludf.MYSUM(A1)+__xludf.DUMMYFUNCTION("x")',
        '=_xludf.MYSUM(A1)+__xludf.DUMMYFUNCTION("x")',
    ),
    ("=[1]Prices!$A$1+'[2]My Prices'!B2", "=[1]Prices!$A$1+'[2]My Prices'!B2"),
    ("='Sheet.xlam'!A1", "='Sheet.xlam'!A1"),  # a sheet named like a file, no call
    ("=xlplan.xlam!XLP_RATE", "=xlplan.xlam!XLP_RATE"),  # a name, not a call
    ("=MYXLP_X(1)+A_xludf.XLP_X(1)", "=MYXLP_X(1)+A_xludf.XLP_X(1)"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),
    ("", ""),
]


@pytest.mark.parametrize(("before", "after"), CASES, ids=[c[0][:40] for c in CASES])
def test_relink_formula(before: str, after: str) -> None:
    assert relink_formula(before) == after
    assert relink_formula(after) == after  # idempotent


def test_relink_formula_only_touches_the_given_links() -> None:
    text = "=[1]!XLP_A(1)+[2]!XLP_B(2)"
    assert relink_formula(text, {2}) == "=[1]!XLP_A(1)+XLP_B(2)"
    assert relink_formula(text, set()) == text
    assert relink_formula("=_xludf.XLP_A(1)", set()) == "=XLP_A(1)"


# --------------------------------------------------------------------------------------------
# Files: built with XlsxWriter, the external-link parts added at zip level as Excel writes them
# --------------------------------------------------------------------------------------------

PLAN_FORMULAS = {
    "B2": "[1]!XLP_LANDED_COST(A2)",
    "B3": "ROUND([1]!XLP_A([1]!XLP_B(A3),2),2)",
    "B4": "_xludf.XLP_KPI(A2:A3)",
    "B5": '"see xlplan.xlam!XLP_X(" & A2',
    "B6": "SUM(A2:A3)",
}
RELINKED = {
    "B2": "XLP_LANDED_COST(A2)",
    "B3": "ROUND(XLP_A(XLP_B(A3),2),2)",
    "B4": "XLP_KPI(A2:A3)",
    "B5": '"see xlplan.xlam!XLP_X(" & A2',
    "B6": "SUM(A2:A3)",
}


def _base_workbook(link: int = 1) -> bytes:
    """Sheets Plan (add-in formulas through external link ``link``) and Notes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    plan = wb.add_worksheet("Plan")
    notes = wb.add_worksheet("Notes")
    plan.write_column("A2", [12.5, 30])
    for cell, formula in PLAN_FORMULAS.items():
        formula = formula.replace("[1]!", f"[{link}]!")
        plan.write_formula(cell, "=" + formula, None, "#NAME?")
    notes.write("A1", "user notes <keep> & [1]")
    notes.write_formula("A2", "=Plan!A2*2", None, 25)
    wb.define_name("MyRate", "=Plan!$A$2")
    wb.define_name("XLP_LANDED_COST", f"=[{link}]!XLP_LANDED_COST")  # Excel's stub for the name
    wb.close()
    return buf.getvalue()


def _link_xml(names: list[str]) -> str:
    defined = "".join(f'<definedName name="{n}"/>' for n in names)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<externalLink xmlns="{MAIN_NS}"><externalBook xmlns:r="{R_NS}" r:id="rId1">'
        f"<definedNames>{defined}</definedNames></externalBook></externalLink>"
    )


def _book_link_xml() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<externalLink xmlns="{MAIN_NS}"><externalBook xmlns:r="{R_NS}" r:id="rId1">'
        '<sheetNames><sheetName val="Prices"/></sheetNames><sheetDataSet><sheetData sheetId="0">'
        '<row r="1"><cell r="A1"><v>7</v></cell></row></sheetData></sheetDataSet>'
        "</externalBook></externalLink>"
    )


def _link_rels(target: str, rel_type: str = R_NS + "/externalLinkPath") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="{rel_type}" '
        f'Target="{target}" TargetMode="External"/></Relationships>'
    )


def with_links(base: bytes, links: list[tuple[str, str]]) -> bytes:
    """``base`` plus external links (link xml, rels xml), numbered [1], [2], ... in order."""
    src = zipfile.ZipFile(io.BytesIO(base))
    parts = {i.filename: src.read(i) for i in src.infolist()}
    refs, rels, overrides = [], [], []
    for n, (xml, rel) in enumerate(links, 1):
        parts[f"xl/externalLinks/externalLink{n}.xml"] = xml.encode()
        parts[f"xl/externalLinks/_rels/externalLink{n}.xml.rels"] = rel.encode()
        refs.append(f'<externalReference r:id="rIdX{n}"/>')
        rels.append(
            f'<Relationship Id="rIdX{n}" Type="{R_NS}/externalLink" '
            f'Target="externalLinks/externalLink{n}.xml"/>'
        )
        overrides.append(
            f'<Override PartName="/xl/externalLinks/externalLink{n}.xml" ContentType="{CT_LINK}"/>'
        )
    book = parts["xl/workbook.xml"].decode()
    book = book.replace(
        "</sheets>", f"</sheets><externalReferences>{''.join(refs)}</externalReferences>", 1
    )
    parts["xl/workbook.xml"] = book.encode()
    wb_rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = wb_rels.replace(
        "</Relationships>", "".join(rels) + "</Relationships>"
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>", "".join(overrides) + "</Types>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


ADDIN_LINK = (_link_xml(["XLP_LANDED_COST", "XLP_A", "XLP_B"]), _link_rels(ADDIN))


def raw_members(blob: bytes) -> dict[str, bytes]:
    """Each member's compressed bytes as stored."""
    out = {}
    for info in zipfile.ZipFile(io.BytesIO(blob)).infolist():
        off = info.header_offset
        name_len, extra_len = struct.unpack("<HH", blob[off + 26 : off + 30])
        start = off + 30 + name_len + extra_len
        out[info.filename] = blob[start : start + info.compress_size]
    return out


def text_of(blob: bytes, part: str) -> str:
    return zipfile.ZipFile(io.BytesIO(blob)).read(part).decode()


def formulas_of(blob: bytes, part: str = "xl/worksheets/sheet1.xml") -> dict[str, str]:
    xml = text_of(blob, part)
    return {
        m.group(1): m.group(2).replace("&amp;", "&").replace("&quot;", '"')
        for m in re.finditer(r'<c r="(\w+)"[^>]*><f>(.*?)</f>', xml)
    }


@pytest.fixture
def addin_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan from another pc.xlsx"
    path.write_bytes(with_links(_base_workbook(), [ADDIN_LINK]))
    return path


def test_the_fixture_has_the_external_link_shape(addin_file: Path) -> None:
    blob = addin_file.read_bytes()
    assert formulas_of(blob) == PLAN_FORMULAS
    wb = openpyxl.load_workbook(io.BytesIO(blob))  # a valid package openpyxl understands
    assert wb["Plan"]["B2"].value == "=[1]!XLP_LANDED_COST(A2)"
    assert len(wb._external_links) == 1


def test_cli_relink_makes_formulas_bare_and_drops_the_addin_link(
    addin_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = addin_file.read_bytes()
    out = tmp_path / "fixed.xlsx"
    assert main(["relink", str(addin_file), "-o", str(out), "--lang", "en"]) == 0
    assert "relinked 3 formulas" in capsys.readouterr().out
    assert addin_file.read_bytes() == before  # the input is never touched
    after = out.read_bytes()

    assert formulas_of(after) == RELINKED
    assert formulas_of(after, "xl/worksheets/sheet2.xml") == {"A2": "Plan!A2*2"}
    names = zipfile.ZipFile(io.BytesIO(after)).namelist()
    assert not [n for n in names if "externalLink" in n]
    book = text_of(after, "xl/workbook.xml")
    assert "externalReference" not in book
    assert 'name="MyRate"' in book and 'name="XLP_LANDED_COST"' not in book
    assert 'fullCalcOnLoad="1"' in book  # Excel recomputes the cached #NAME? values
    assert "externalLink" not in text_of(after, "xl/_rels/workbook.xml.rels")
    assert "externalLink" not in text_of(after, "[Content_Types].xml")

    old, new = raw_members(before), raw_members(after)
    changed = {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/worksheets/sheet1.xml",
    }
    gone = {n for n in old if "externalLink" in n}
    assert set(new) == set(old) - gone
    assert [n for n in new if n not in changed] == [n for n in old if n not in changed | gone]
    for name in set(new) - changed:
        assert new[name] == old[name], name
    # the sheet changed only inside its three <f> elements
    strip = re.compile(r"<f>.*?</f>")
    assert strip.sub("", text_of(after, "xl/worksheets/sheet1.xml")) == strip.sub(
        "", text_of(before, "xl/worksheets/sheet1.xml")
    )
    wb = openpyxl.load_workbook(out)
    assert wb["Plan"]["B3"].value == "=ROUND(XLP_A(XLP_B(A3),2),2)"
    assert not wb._external_links
    assert wb.defined_names["MyRate"].attr_text == "Plan!$A$2"


def test_relink_twice_changes_nothing_more(addin_file: Path) -> None:
    once, count = relink_package(addin_file.read_bytes())
    assert count == 3
    twice, again = relink_package(once)
    assert again == 0 and twice == once


def test_library_addin_link_and_other_workbook_links(tmp_path: Path) -> None:
    """An add-in in Office's Library folder (xlLibrary, no path) is an add-in link too; a link
    to a data workbook stays, and so does an add-in link numbered before a kept one."""
    library = (
        _link_xml(["XLP_LANDED_COST"]),
        _link_rels(
            "XLPLAN.XLAM",
            "http://schemas.microsoft.com/office/2006/relationships/xlExternalLinkPath/xlLibrary",
        ),
    )
    prices = (_book_link_xml(), _link_rels("file:///C:\\data\\prices.xlsx"))
    # [1] prices (kept, referenced), [2] add-in (trailing, removed)
    blob = with_links(_base_workbook(link=2), [prices, library])
    out, count = relink_package(_add_formula(blob, "B7", "[1]Prices!$A$1*2"))
    assert count == 3
    assert formulas_of(out)["B2"] == "XLP_LANDED_COST(A2)"
    assert formulas_of(out)["B7"] == "[1]Prices!$A$1*2"
    names = zipfile.ZipFile(io.BytesIO(out)).namelist()
    assert "xl/externalLinks/externalLink1.xml" in names
    assert "xl/externalLinks/externalLink2.xml" not in names
    assert text_of(out, "xl/workbook.xml").count("<externalReference ") == 1

    # [1] add-in, [2] prices: removing [1] would renumber [2]; the link stays, unused
    blob = with_links(_base_workbook(), [library, prices])
    out, count = relink_package(_add_formula(blob, "B7", "[2]Prices!$A$1*2"))
    assert count == 3
    assert formulas_of(out)["B7"] == "[2]Prices!$A$1*2"
    assert text_of(out, "xl/workbook.xml").count("<externalReference ") == 2


def _add_formula(blob: bytes, cell: str, formula: str, attrs: str = "") -> bytes:
    """Put a formula cell into Plan's row of ``cell`` (rewrites the zip; fixture only)."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    row = re.sub(r"\D", "", cell)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                f = f"<f {attrs}>{formula}</f>" if formula else f"<f {attrs}/>"
                f = f.replace("<f >", "<f>")
                c = f'<c r="{cell}">{f}<v>0</v></c>'
                if f'<row r="{row}">' in text:
                    text = text.replace(f'<row r="{row}">', f'<row r="{row}">' + c, 1)
                else:
                    text = text.replace("<sheetData/>", "<sheetData></sheetData>", 1)
                    text = text.replace("</sheetData>", f'<row r="{row}">{c}</row></sheetData>', 1)
                data = text.encode()
            zf.writestr(info.filename, data)
    return out.getvalue()


def test_shared_and_array_formulas(addin_file: Path) -> None:
    """A shared formula's anchor holds the text, its other cells a bare ``<f .../>``."""
    blob = addin_file.read_bytes()
    blob = _add_formula(blob, "B8", "[1]!XLP_A(A8)", 't="shared" ref="B8:C8" si="0"')
    blob = _add_formula(blob, "C8", "", 't="shared" si="0"')
    blob = _add_formula(blob, "B9", "[1]!XLP_B(A9:A10)", 't="array" ref="B9:B10"')
    out, count = relink_package(blob)
    assert count == 5
    xml = text_of(out, "xl/worksheets/sheet1.xml")
    assert '<f t="shared" ref="B8:C8" si="0">XLP_A(A8)</f>' in xml
    assert '<c r="C8"><f t="shared" si="0"/><v>0</v></c>' in xml
    assert '<f t="array" ref="B9:B10">XLP_B(A9:A10)</f>' in xml


def test_cli_relink_in_place_keeps_a_backup(
    addin_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = addin_file.read_bytes()
    assert main(["relink", str(addin_file), "--in-place"]) == 0
    assert backup_path(addin_file, 1).read_bytes() == before
    assert formulas_of(addin_file.read_bytes()) == RELINKED


def test_cli_relink_refuses_to_overwrite_and_bad_files(
    addin_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["relink", str(addin_file), "-o", str(addin_file)]) == 1
    assert "--in-place" in capsys.readouterr().err
    bad = tmp_path / "not a workbook.xlsx"
    bad.write_text("hello")
    assert main(["relink", str(bad)]) == 1
    assert "not a valid Excel workbook" in capsys.readouterr().err
    assert main(["relink", str(tmp_path / "missing.xlsx")]) == 1
    with pytest.raises(InputError):
        relink_package(b"PK\x03\x04 truncated")


SHARED_EXCEL = Path(__file__).resolve().parents[3] / "shared" / "data" / "excel"
REAL = sorted(SHARED_EXCEL.glob("*/*.xls[xm]")) if SHARED_EXCEL.is_dir() else []
UNUSABLE = {"pass_protected.xlsx", "strict_iso_paths.xlsx"}  # encrypted; Strict Open XML
needs_real = pytest.mark.skipif(not REAL, reason=f"test workbooks not found in {SHARED_EXCEL}")


@needs_real
@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_workbooks_without_addin_formulas_keep_every_member(path: Path) -> None:
    if path.name in UNUSABLE:
        with pytest.raises(InputError):
            relink_package(path.read_bytes())
        return
    out, count = relink_package(path.read_bytes())
    assert count == 0
    assert raw_members(out) == raw_members(path.read_bytes())


@needs_real
@pytest.mark.parametrize(
    "path", [p for p in REAL if p.name not in UNUSABLE], ids=lambda p: str(p.name)
)
def test_real_workbooks_with_an_addin_link(path: Path) -> None:
    """Third-party workbooks (charts, VBA, pivots, ...) given an add-in link and formula."""
    parts = zipfile.ZipFile(path).namelist()
    if "xl/worksheets/sheet1.xml" not in parts or any("externalLink" in n for n in parts):
        pytest.skip("no sheet1.xml, or links of its own")
    blob = with_links(path.read_bytes(), [ADDIN_LINK])
    blob = _add_formula(blob, "A1048576", "[1]!XLP_A(1)")
    out, count = relink_package(blob)
    assert count == 1
    assert formulas_of(out)["A1048576"] == "XLP_A(1)"
    old, new = raw_members(blob), raw_members(out)
    changed = {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/worksheets/sheet1.xml",
    }
    assert set(new) == {n for n in old if "externalLink" not in n}
    assert all(new[n] == old[n] for n in set(new) - changed)
    book = text_of(out, "xl/workbook.xml")
    assert "externalReference" not in book and "externalLink" not in text_of(
        out, "[Content_Types].xml"
    )


def test_cli_relink_in_place_leaves_a_file_without_addin_formulas_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Plan").write_formula("A1", '=SUM(1,2)&"xlplan.xlam!XLP_X("', None, "3")
    wb.close()
    before = path.read_bytes()
    assert main(["relink", str(path), "--in-place", "--lang", "en"]) == 0
    assert "no formula needed repair" in capsys.readouterr().out
    assert path.read_bytes() == before
    assert not backup_path(path, 1).exists()


@pytest.mark.soffice
def test_libreoffice_opens_the_relinked_file(
    addin_file: Path, tmp_path: Path, soffice: Any
) -> None:
    out = tmp_path / "fixed.xlsx"
    assert main(["relink", str(addin_file), "-o", str(out)]) == 0
    (csv,) = soffice.convert([out], tmp_path / "lo", to="csv")
    assert csv.exists(), "LibreOffice could not open the relinked workbook"
    assert csv.read_text(encoding="utf-8", errors="replace").startswith(",")  # A1 is empty


# --------------------------------------------------------------------------------------------
# The action, through a port that has formulas and one that has not
# --------------------------------------------------------------------------------------------


class FormulaDouble:
    def __init__(self, cells: dict[tuple[str, str], str]) -> None:
        self.cells = cells
        self.writes: list[tuple[str, str, str]] = []

    def read_table(self, key: str) -> None:
        return None

    def write_table(self, key: str, frame: object) -> None:
        raise AssertionError("relink writes no table")

    def locate(self, record: object) -> str:
        return ""

    def formulas(self) -> list[tuple[str, str, str]]:
        return [(s, c, f) for (s, c), f in self.cells.items()]

    def set_formula(self, sheet: str, cell: str, text: str) -> None:
        self.writes.append((sheet, cell, text))
        self.cells[sheet, cell] = text


CTX = Context(today=date(2027, 1, 1), settings=default_settings(date(2027, 1, 1)))


def test_action_relinks_through_a_formula_port() -> None:
    port = FormulaDouble(
        {
            ("Plan", "B2"): f"='{PATH}'!XLP_LANDED_COST(A2)",
            ("Plan", "B3"): "=SUM(A1:A2)",
            ("Data", "C9"): "=_xludf.XLP_KPI(A1)",
        }
    )
    assert isinstance(port, FormulaPort)
    result = run_relink(port, CTX)
    assert port.writes == [
        ("Plan", "B2", "=XLP_LANDED_COST(A2)"),
        ("Data", "C9", "=XLP_KPI(A1)"),
    ]
    assert "repaired 2 formulas (Plan!B2, Data!C9)" in result.summary[0].en
    assert len(result.errors) == 0
    again = run_relink(port, CTX)
    assert "no formula needed repair" in again.summary[0].en


def test_action_is_registered_standalone_and_says_when_the_port_cannot(
    addin_file: Path,
) -> None:
    from xlplan.workbook.io import FilePort

    act = actions.ACTIONS["relink"]
    assert act.standalone and act.label == Message("修复公式链接", "Relink add-in formulas")
    assert "relink" not in [a.name for a in actions.ordered()]
    result = act.run(FilePort(addin_file, actions.CATALOG), CTX)
    assert "xlplan relink FILE" in result.summary[0].en
    assert len(result.errors) == 0


def test_cli_run_relink_on_a_file_points_to_the_relink_command(
    addin_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.xlsx"
    assert main(["run", str(addin_file), "--action", "relink", "-o", str(out)]) == 0
    assert "xlplan relink FILE" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The live port's formula access, on a small double of xlwings' Range.formula2
# --------------------------------------------------------------------------------------------


class _Cell:
    def __init__(self, sheet: _Sheet, ref: str) -> None:
        self._sheet, self._ref = sheet, ref

    @property
    def formula2(self) -> str:
        return self._sheet.cells.get(self._ref, "")

    @formula2.setter
    def formula2(self, text: str) -> None:
        self._sheet.cells[self._ref] = text


class _Used:
    def __init__(self, row: int, column: int, grid: Any) -> None:
        self.row, self.column, self.formula2 = row, column, grid


class _Sheet:
    def __init__(self, name: str, cells: dict[str, str], used: _Used) -> None:
        self.name, self.cells, self.used_range = name, cells, used

    def range(self, ref: str) -> _Cell:
        return _Cell(self, ref)


class _Sheets(list[_Sheet]):
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)


class _Book:
    def __init__(self, sheets: list[_Sheet]) -> None:
        self.sheets = _Sheets(sheets)


def test_live_port_lists_and_sets_formulas() -> None:
    from udfs.live import LivePort

    grid = (("x", f"='{PATH}'!XLP_A(B3)"), (1.5, "=B3*2"))  # used range B3:C4
    plan = _Sheet("Plan", {}, _Used(3, 2, grid))
    one = _Sheet("One", {}, _Used(1, 1, "=_xludf.XLP_B(1)"))  # a single cell: a string
    empty = _Sheet("Empty", {}, _Used(1, 1, ""))
    port = LivePort(_Book([plan, one, empty]), lang="en")
    assert isinstance(port, FormulaPort)
    assert port.formulas() == [
        ("Plan", "C3", f"='{PATH}'!XLP_A(B3)"),
        ("Plan", "C4", "=B3*2"),
        ("One", "A1", "=_xludf.XLP_B(1)"),
    ]
    result = run_relink(port, CTX)
    assert plan.cells == {"C3": "=XLP_A(B3)"}
    assert one.cells == {"A1": "=XLP_B(1)"}
    assert "repaired 2 formulas" in result.summary[0].en
