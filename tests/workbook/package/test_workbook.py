"""The workbook part on its own: reading sheets and names, appending by text, calcChain."""

from __future__ import annotations

import pytest
from tiny_packages import (
    MAIN_NS,
    PKG_REL_NS,
    REL_NS,
    SML,
    content_types,
    package_of,
    rels,
    workbook_parts,
)

from xlplan.core.errors import InputError
from xlplan.workbook.package.workbook import Sheet, Workbook, drop_calc_chain_if_stale

WORKSHEET = f"{REL_NS}/worksheet"


def test_read_finds_sheets_relationships_and_defined_names() -> None:
    parts = workbook_parts(
        sheets='<sheet name="Plan" sheetId="3" r:id="rId1"/><sheet name="Lost" sheetId="4"'
        ' r:id="rId9"/>',
        extra='<definedNames><definedName name="Rate">Plan!$A$1</definedName></definedNames>',
    )
    wb = Workbook.read(package_of(parts))
    assert wb.part == "xl/workbook.xml"
    assert wb.base_dir == "xl"
    assert wb.sheets == [
        Sheet("Plan", 3, "rId1", WORKSHEET, "xl/worksheets/sheet1.xml"),
        Sheet("Lost", 4, "", "", ""),  # its relationship is missing
    ]
    assert [r.id for r in wb.rels] == ["rId1", "rId2"]
    assert wb.defined_names == ["Rate"]
    assert wb.find("PLAN") == wb.sheets[0]
    assert wb.find("Nope") is None
    styles = wb.rel_of_type(f"{REL_NS}/styles")
    assert styles is not None and styles.part == "xl/styles.xml"


def test_rel_of_type_skips_external_targets() -> None:
    parts = workbook_parts()
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{REL_NS}/styles" Target="http://x/s.xml"'
        ' TargetMode="External"/></Relationships>'
    )
    assert Workbook.read(package_of(parts)).rel_of_type(f"{REL_NS}/styles") is None


def strict() -> dict[str, str | bytes]:
    parts = workbook_parts()
    parts["_rels/.rels"] = (
        f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1"'
        ' Type="http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>'
    )
    return parts


def strict_root() -> dict[str, str | bytes]:
    parts = workbook_parts()
    parts["xl/workbook.xml"] = '<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"/>'
    return parts


def xlsb() -> dict[str, str | bytes]:
    parts = workbook_parts()
    parts["_rels/.rels"] = rels(("rId1", "officeDocument", "xl/workbook.bin"))
    parts["xl/workbook.bin"] = b"\0"
    return parts


def no_workbook() -> dict[str, str | bytes]:
    parts = workbook_parts()
    del parts["xl/workbook.xml"]
    return parts


def other_root() -> dict[str, str | bytes]:
    parts = workbook_parts()
    parts["xl/workbook.xml"] = f'<worksheet xmlns="{MAIN_NS}"/>'
    return parts


@pytest.mark.parametrize(
    ("parts", "why"),
    [
        (strict(), "Strict Open XML workbooks are not supported"),
        (strict_root(), "Strict Open XML workbooks are not supported"),
        (xlsb(), r"binary workbooks \(.xlsb\) are not supported"),
        (no_workbook(), "no workbook part"),
        (other_root(), "unexpected root element"),
    ],
    ids=["strict-rels", "strict-namespace", "xlsb", "no-workbook", "other-root"],
)
def test_read_refuses_what_is_not_a_transitional_workbook(
    parts: dict[str, str | bytes], why: str
) -> None:
    with pytest.raises(InputError, match=why) as info:
        Workbook.read(package_of(parts))
    assert info.value.zh


def test_add_rel_takes_the_lowest_free_id_and_appends_by_text() -> None:
    pkg = package_of(workbook_parts())
    wb = Workbook.read(pkg)
    before = pkg.read_text("xl/_rels/workbook.xml.rels")
    assert wb.add_rel(pkg, f"{REL_NS}/theme", "xl/theme/theme1.xml") == "rId3"
    new = f'<Relationship Id="rId3" Type="{REL_NS}/theme" Target="theme/theme1.xml"/>'
    assert pkg.read_text("xl/_rels/workbook.xml.rels") == before.replace(
        "</Relationships>", new + "</Relationships>"
    )
    assert wb.rels[-1].part == "xl/theme/theme1.xml"


def test_add_rel_creates_the_rels_part_when_missing() -> None:
    parts = workbook_parts(sheets="")
    del parts["xl/_rels/workbook.xml.rels"]
    pkg = package_of(parts)
    wb = Workbook.read(pkg)
    assert wb.add_rel(pkg, f"{REL_NS}/styles", "xl/styles.xml") == "rId1"
    assert pkg.read_text("xl/_rels/workbook.xml.rels").endswith(
        f'<Relationship Id="rId1" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'
    )


def test_append_sheet_adds_the_last_tab_by_text() -> None:
    pkg = package_of(workbook_parts())
    wb = Workbook.read(pkg)
    before = pkg.read_text("xl/workbook.xml")
    wb.append_sheet(pkg, "Plan & Actual", "xl/worksheets/sheet2.xml")
    new = '<sheet name="Plan &amp; Actual" sheetId="2" r:id="rId3"/>'
    assert pkg.read_text("xl/workbook.xml") == before.replace("</sheets>", new + "</sheets>")
    assert wb.sheets[-1] == Sheet("Plan & Actual", 2, "rId3", WORKSHEET, "xl/worksheets/sheet2.xml")
    assert pkg.content_types.of("xl/worksheets/sheet2.xml") == f"{SML}.worksheet+xml"


def test_append_sheet_follows_the_prefixes_of_the_workbook() -> None:
    parts = workbook_parts()
    parts["xl/workbook.xml"] = (
        f'<x:workbook xmlns:x="{MAIN_NS}" xmlns:rel="{REL_NS}"><x:sheets>'
        '<x:sheet name="Sheet1" sheetId="5" rel:id="rId1"/></x:sheets></x:workbook>'
    )
    pkg = package_of(parts)
    Workbook.read(pkg).append_sheet(pkg, "New", "xl/worksheets/sheet2.xml")
    assert '<x:sheet name="New" sheetId="6" rel:id="rId3"/></x:sheets>' in pkg.read_text(
        "xl/workbook.xml"
    )


def test_append_sheet_declares_the_relationship_namespace_when_the_root_does_not() -> None:
    parts = workbook_parts(sheets="")
    parts["xl/workbook.xml"] = f'<workbook xmlns="{MAIN_NS}"><sheets/></workbook>'
    pkg = package_of(parts)
    Workbook.read(pkg).append_sheet(pkg, "New", "xl/worksheets/sheet2.xml")
    assert pkg.read_text("xl/workbook.xml") == (
        f'<workbook xmlns="{MAIN_NS}"><sheets><sheet name="New" sheetId="1"'
        f' xmlns:r="{REL_NS}" r:id="rId3"/></sheets></workbook>'
    )


def test_remove_rel_drops_only_that_relationship() -> None:
    pkg = package_of(workbook_parts())
    wb = Workbook.read(pkg)
    wb.remove_rel(pkg, "rId2")
    assert "styles" not in pkg.read_text("xl/_rels/workbook.xml.rels")
    assert "worksheet" in pkg.read_text("xl/_rels/workbook.xml.rels")
    assert [r.id for r in wb.rels] == ["rId1"]
    assert pkg.has("xl/styles.xml"), "the target part stays"


def with_calc_chain(cells: str) -> dict[str, str | bytes]:
    parts = workbook_parts()
    parts["[Content_Types].xml"] = content_types(
        ("xl/workbook.xml", f"{SML}.sheet.main+xml"), ("xl/calcChain.xml", f"{SML}.calcChain+xml")
    )
    parts["xl/_rels/workbook.xml.rels"] = rels(
        ("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "calcChain", "calcChain.xml")
    )
    parts["xl/calcChain.xml"] = f'<calcChain xmlns="{MAIN_NS}">{cells}</calcChain>'
    return parts


@pytest.mark.parametrize(
    ("cells", "sheet_ids", "dropped"),
    [
        ('<c r="A1" i="1"/><c r="B1"/>', {1}, True),
        ('<c r="A1" i="2"/><c r="B1" i="3"/>', {1}, False),
        ('<c r="A1" i="2"/><c r="B1"/><c r="A1" i="3"/>', {3}, True),
        ('<c r="A1" i="2"/><c r="B1"/>', {3}, False),  # B1 is on sheet 2, like the entry before
        ('<c r="A1" i="1"/>', set(), False),  # nothing replaced
    ],
)
def test_calc_chain_goes_only_when_it_lists_a_replaced_sheet(
    cells: str, sheet_ids: set[int], dropped: bool
) -> None:
    pkg = package_of(with_calc_chain(cells))
    wb = Workbook.read(pkg)
    drop_calc_chain_if_stale(pkg, wb, sheet_ids)
    assert pkg.has("xl/calcChain.xml") is not dropped
    assert ("calcChain" in pkg.content_types.text) is not dropped
    assert ("calcChain" in pkg.read_text("xl/_rels/workbook.xml.rels")) is not dropped
    assert (wb.rel_of_type(f"{REL_NS}/calcChain") is None) is dropped


def test_no_calc_chain_is_no_change() -> None:
    pkg = package_of(workbook_parts())
    drop_calc_chain_if_stale(pkg, Workbook.read(pkg), {1})
    assert not pkg.content_types.changed
