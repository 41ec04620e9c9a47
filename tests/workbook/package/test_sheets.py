"""The worksheet transplant on its own: sheet XML rewritten, dependent parts copied fresh."""

from __future__ import annotations

import pytest
from tiny_packages import MAIN_NS, REL_NS, SML, content_types, package_of, rels, workbook_parts

from xlplan.core.errors import TemplateError
from xlplan.workbook.package import Package
from xlplan.workbook.package.relationships import render_rels
from xlplan.workbook.package.sheets import (
    PartCopier,
    TableInfo,
    read_shared_strings,
    read_tables,
    transplant_sheet_xml,
)
from xlplan.workbook.package.styles import StyleMerger
from xlplan.workbook.package.workbook import Workbook

NORMAL = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
DATE = '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0"/>'
FONTS = '<fonts count="1"><font><sz val="11"/></font></fonts>'
FILLS = '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
BORDERS = '<borders count="1"><border/></borders>'
# Owned cellXfs 1 (a date) becomes the target's 2; owned dxf 0 the target's 1.
OWNED_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}">{FONTS}{FILLS}{BORDERS}'
    f'<cellXfs count="2">{NORMAL}{DATE}</cellXfs>'
    '<dxfs count="1"><dxf><fill><patternFill bgColor="FFFFC7CE"/></fill></dxf></dxfs></styleSheet>'
)
TARGET_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}">{FONTS}{FILLS}{BORDERS}'
    f'<cellXfs count="2">{NORMAL}<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '</cellXfs><dxfs count="1"><dxf><font><b/></font></dxf></dxfs></styleSheet>'
)


def styles() -> StyleMerger:
    return StyleMerger(OWNED_STYLES.encode(), TARGET_STYLES, "xl/styles.xml")


STRINGS = ["<t>Name</t>", '<t xml:space="preserve"> lead &amp; space</t>', "<r><t>rich</t></r>"]


def sheet(body: str, view: str = '<sheetView tabSelected="1" workbookViewId="0"/>') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetViews>{view}</sheetViews>'
        f"{body}</worksheet>"
    ).encode()


def test_read_shared_strings_keeps_each_items_inner_xml() -> None:
    parts = workbook_parts()
    parts["xl/_rels/workbook.xml.rels"] = rels(
        ("rId1", "worksheet", "worksheets/sheet1.xml"),
        ("rId3", "sharedStrings", "sharedStrings.xml"),
    )
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{MAIN_NS}" count="4" uniqueCount="4">'
        + "".join(f"<si>{s}</si>" for s in STRINGS[:2])
        + "<si/><si>\n<r><t>rich</t></r></si></sst>"
    )
    pkg = package_of(parts)
    assert read_shared_strings(pkg, Workbook.read(pkg)) == [
        *STRINGS[:2],
        "",
        "\n<r><t>rich</t></r>",
    ]


def test_a_package_without_shared_strings_has_none() -> None:
    pkg = package_of(workbook_parts())
    assert read_shared_strings(pkg, Workbook.read(pkg)) == []


def test_transplant_inlines_strings_and_maps_styles() -> None:
    owned = sheet(
        '<cols><col min="1" max="1" width="26.7" style="1" customWidth="1"/></cols>'
        '<sheetData><row r="1" spans="1:3" s="1" customFormat="1">'
        '<c r="A1" s="1" t="s"><v>0</v></c><c r="B1" t="s"><v> 1 </v></c>'
        '<c r="C1" t="s"><v>2</v></c>'
        '</row><row r="2"><c r="A2" s="1"><v>45000</v></c><c r="B2" s="0"/><c r="C2">'
        "<f>A2*2</f><v>90000</v></c></row></sheetData>"
        '<conditionalFormatting sqref="A2"><cfRule type="cellIs" dxfId="0" priority="1"'
        ' operator="greaterThan"><formula>1</formula></cfRule></conditionalFormatting>'
    )
    assert (
        transplant_sheet_xml(owned, STRINGS, styles())
        == sheet(
            '<cols><col min="1" max="1" width="26.7" style="2" customWidth="1"/></cols>'
            '<sheetData><row r="1" spans="1:3" s="2" customFormat="1">'
            f'<c r="A1" s="2" t="inlineStr"><is>{STRINGS[0]}</is></c>'
            f'<c r="B1" t="inlineStr"><is>{STRINGS[1]}</is></c>'
            f'<c r="C1" t="inlineStr"><is>{STRINGS[2]}</is></c>'
            '</row><row r="2"><c r="A2" s="2"><v>45000</v></c><c r="B2" s="0"/><c r="C2">'
            "<f>A2*2</f><v>90000</v></c></row></sheetData>"
            '<conditionalFormatting sqref="A2"><cfRule type="cellIs" dxfId="1" priority="1"'
            ' operator="greaterThan"><formula>1</formula></cfRule></conditionalFormatting>',
            view='<sheetView workbookViewId="0"/>',  # one selected tab: the user's
        ).decode()
    )


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ('<c r="A1" cm="1"><f>SEQUENCE(3)</f></c>', "cell metadata"),  # dynamic array
        ('<c r="A1" vm="1"><v>0</v></c>', "cell metadata"),  # in-cell picture
        ('<c r="A1" t="s"><v>3</v></c>', "missing shared string"),
        ('<c r="A1" t="s"></c>', "missing shared string"),
        ('<c r="A1" s="5"/>', "missing cellXfs entry 5"),
    ],
)
def test_transplant_refuses_cells_it_cannot_carry(cell: str, why: str) -> None:
    owned = sheet(f'<sheetData><row r="1">{cell}</row></sheetData>')
    with pytest.raises(TemplateError, match=why):
        transplant_sheet_xml(owned, STRINGS, styles())


def test_transplant_refuses_a_prefixed_worksheet() -> None:
    with pytest.raises(TemplateError, match="default namespace"):
        transplant_sheet_xml(f'<x:worksheet xmlns:x="{MAIN_NS}"/>'.encode(), STRINGS, styles())


# ------------------------------------------------------------------------------------------
# Dependent parts
# ------------------------------------------------------------------------------------------

TABLE = f"{SML}.table+xml"
COMMENTS = f"{SML}.comments+xml"
VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"


def vml(block: int, shape: int) -> str:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml"'
        ' xmlns:o="urn:schemas-microsoft-com:office:office">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
        f'<v:shape id="_x0000_s{shape}" o:spid="_x0000_s{shape}"/></xml>'
    )


def table(table_id: int, name: str, dxf: str = "") -> str:
    return (
        f'<table xmlns="{MAIN_NS}" id="{table_id}" name="{name}" displayName="{name}" ref="A1:B2">'
        f'<tableColumns count="2"><tableColumn id="1" name="a"/><tableColumn id="2" name="b"{dxf}/>'
        "</tableColumns></table>"
    )


def with_vml_default(*overrides: tuple[str, str]) -> str:
    return content_types(*overrides).replace(
        "<Override", f'<Default Extension="vml" ContentType="{VML}"/><Override', 1
    )


def target() -> Package:
    """A user's workbook whose sheet already has a table (id 3) and comments (VML block 1)."""
    parts = workbook_parts()
    parts["[Content_Types].xml"] = with_vml_default(
        ("xl/workbook.xml", f"{SML}.sheet.main+xml"),
        ("xl/worksheets/sheet1.xml", f"{SML}.worksheet+xml"),
        ("xl/tables/table1.xml", TABLE),
    )
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = rels(
        ("rId1", "table", "../tables/table1.xml"), ("rId2", "vmlDrawing", "../drawings/vml1.vml")
    )
    parts["xl/tables/table1.xml"] = table(3, "tblMine")
    parts["xl/drawings/vml1.vml"] = vml(1, 1025)
    return package_of(parts)


def owned() -> Package:
    """XLPlan's package: a sheet with a table, comments and their VML, and a hyperlink."""
    parts = workbook_parts()
    parts["[Content_Types].xml"] = with_vml_default(
        ("xl/workbook.xml", f"{SML}.sheet.main+xml"),
        ("xl/worksheets/sheet1.xml", f"{SML}.worksheet+xml"),
        ("xl/tables/table1.xml", TABLE),
        ("xl/comments1.xml", COMMENTS),
    )
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = rels(
        ("rId1", "table", "../tables/table1.xml"),
        ("rId2", "vmlDrawing", "../drawings/vmlDrawing1.vml"),
        ("rId3", "comments", "../comments1.xml"),
    ).replace(
        "</Relationships>",
        f'<Relationship Id="rId4" Type="{REL_NS}/hyperlink" Target="https://example.com/"'
        ' TargetMode="External"/></Relationships>',
    )
    parts["xl/tables/table1.xml"] = table(1, "tblPlan", ' dataDxfId="0"')
    parts["xl/drawings/vmlDrawing1.vml"] = vml(1, 1025)
    parts["xl/comments1.xml"] = f'<comments xmlns="{MAIN_NS}"/>'
    return package_of(parts)


def test_read_tables() -> None:
    assert read_tables(target()) == [TableInfo("xl/tables/table1.xml", 3, "tblMine")]


def test_allocate_takes_the_lowest_free_name_and_reserves_it() -> None:
    copier = PartCopier(target(), owned(), styles())
    assert copier.allocate("xl/tables/table1.xml") == "xl/tables/table2.xml"
    assert copier.allocate("xl/tables/table7.xml") == "xl/tables/table3.xml"
    assert copier.allocate("xl/media/image12.png") == "xl/media/image1.png"
    assert copier.allocate("xl/media/12.png") == "xl/media/121.png"  # all digits: kept as stem


def test_copy_sheet_copies_dependents_with_fresh_names_ids_and_vml_blocks() -> None:
    tgt = target()
    copier = PartCopier(tgt, owned(), styles())
    new = copier.allocate("xl/worksheets/sheet1.xml")
    copier.copy_sheet("xl/worksheets/sheet1.xml", new, "<worksheet/>")

    assert new == "xl/worksheets/sheet2.xml"
    assert tgt.read_text(new) == "<worksheet/>"
    assert tgt.read_text("xl/worksheets/_rels/sheet2.xml.rels") == render_rels(
        [
            ("rId1", f"{REL_NS}/table", "../tables/table2.xml", False),
            ("rId2", f"{REL_NS}/vmlDrawing", "../drawings/vmlDrawing1.vml", False),
            ("rId3", f"{REL_NS}/comments", "../comments1.xml", False),
            ("rId4", f"{REL_NS}/hyperlink", "https://example.com/", True),
        ]
    )
    # Table ids are unique in a workbook; the column's format is the target's dxf.
    assert tgt.read_text("xl/tables/table2.xml") == table(4, "tblPlan", ' dataDxfId="1"')
    # Excel keys comment shapes by VML block: block 1 is the user's, so 2 (shapes 2048 + n).
    assert tgt.read_text("xl/drawings/vmlDrawing1.vml") == vml(2, 2049)
    ct = tgt.content_types
    assert ct.of(new) == f"{SML}.worksheet+xml"
    assert ct.of("xl/tables/table2.xml") == TABLE
    assert ct.of("xl/comments1.xml") == COMMENTS
    assert ct.of("xl/drawings/vmlDrawing1.vml") == VML


def test_copy_sheet_over_an_existing_part_drops_its_old_relationships() -> None:
    tgt = target()
    own = package_of(workbook_parts())  # a sheet without relationships
    PartCopier(tgt, own, styles()).copy_sheet(
        "xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml", "<worksheet/>"
    )
    assert tgt.read_text("xl/worksheets/sheet1.xml") == "<worksheet/>"
    assert not tgt.has("xl/worksheets/_rels/sheet1.xml.rels")
