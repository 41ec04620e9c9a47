"""The style merger on its own: owned indices mapped into the target's styles.xml, by text."""

from __future__ import annotations

import pytest
from tiny_packages import MAIN_NS, REL_NS, SML, package_of, workbook_parts

from xlplan.core.errors import InputError, TemplateError
from xlplan.workbook.package import Package
from xlplan.workbook.package.styles import StyleMerger
from xlplan.workbook.package.workbook import Workbook

FONT = '<font><sz val="11"/><name val="Calibri"/></font>'
BOLD = '<font><b/><sz val="11"/><name val="Calibri"/></font>'
FILLS = (
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
)
BORDERS = '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
STYLE_XFS = (
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
)
NORMAL = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
DXF = '<dxf><font><color rgb="FF9C0006"/></font><numFmt numFmtId="165" formatCode="0.0%"/></dxf>'

# As XlsxWriter writes it: Normal, bold (cellXfs 1), money (cellXfs 2), one conditional format.
OWNED = (
    f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/></numFmts>'
    f'<fonts count="2">{FONT}{BOLD}</fonts>{FILLS}{BORDERS}{STYLE_XFS}'
    f'<cellXfs count="4">{NORMAL}'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="1" borderId="0" xfId="1"/>'
    f'</cellXfs><dxfs count="1">{DXF}</dxfs>'
    "</styleSheet>"
)

# A user's: the money format under another id, a date format, no dxfs yet.
TARGET = (
    f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="170" formatCode="#,##0.00"/></numFmts>'
    f'<fonts count="1">{FONT}</fonts>{FILLS}{BORDERS}{STYLE_XFS}'
    f'<cellXfs count="2">{NORMAL}'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9"/>'
    "</styleSheet>"
)


def merger(target: str | None = TARGET, owned: str = OWNED) -> StyleMerger:
    return StyleMerger(owned.encode(), target, "xl/styles.xml")


def target_package(styles: str) -> tuple[Package, Workbook]:
    parts = workbook_parts()
    parts["xl/styles.xml"] = styles
    pkg = package_of(parts)
    return pkg, Workbook.read(pkg)


def test_indices_map_to_reused_or_appended_entries() -> None:
    styles = merger()
    assert styles.xf(0) == 0, "Normal stays Normal"
    assert styles.xf(1) == 2  # bold: a new font, a new cell format after the target's two
    assert styles.xf(2) == 3  # money: the target's own number format id 170
    assert styles.xf(1) == 2  # asked again: the same entry
    assert styles.dxf(0) == 0
    assert styles.pools["fonts"].added and not styles.pools["fills"].added
    assert styles.new_fmts == [(171, "0.0%")]  # a fresh id above every id in use


def test_save_appends_by_text_and_recounts() -> None:
    pkg, wb = target_package(TARGET)
    styles = merger()
    styles.xf(1), styles.xf(2), styles.dxf(0)
    styles.save(pkg, wb)
    assert pkg.read_text("xl/styles.xml") == (
        f'<styleSheet xmlns="{MAIN_NS}">'
        '<numFmts count="2"><numFmt numFmtId="170" formatCode="#,##0.00"/>'
        '<numFmt numFmtId="171" formatCode="0.0%"/></numFmts>'
        f'<fonts count="2">{FONT}{BOLD}</fonts>{FILLS}{BORDERS}{STYLE_XFS}'
        f'<cellXfs count="4">{NORMAL}'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="170" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="1"><dxf><font><color rgb="FF9C0006"/></font>'
        '<numFmt numFmtId="171" formatCode="0.0%"/></dxf></dxfs>'  # before tableStyles
        '<tableStyles count="0" defaultTableStyle="TableStyleMedium9"/>'
        "</styleSheet>"
    )


def test_named_cell_styles_are_not_carried_over_and_builtin_formats_keep_their_id() -> None:
    pkg, wb = target_package(TARGET)
    styles = merger()
    assert styles.xf(3) == 2
    styles.save(pkg, wb)
    assert '<xf numFmtId="14" fontId="0" fillId="1" borderId="0" xfId="0"/></cellXfs>' in (
        pkg.read_text("xl/styles.xml")
    )


def test_styles_already_in_the_target_are_reused_and_the_part_left_alone() -> None:
    pkg, wb = target_package(OWNED)
    styles = merger(target=OWNED)
    assert [styles.xf(i) for i in range(3)] == [0, 1, 2]
    styles.save(pkg, wb)
    assert pkg.read_text("xl/styles.xml") == OWNED
    assert styles.new_fmts == []


def test_a_missing_owned_entry_is_refused() -> None:
    with pytest.raises(TemplateError, match="missing cellXfs entry 9"):
        merger().xf(9)
    with pytest.raises(TemplateError, match="missing dxfs entry 1"):
        merger().dxf(1)


def test_prefixed_target_gets_entries_in_the_main_namespace() -> None:
    prefixed = (
        f'<x:styleSheet xmlns:x="{MAIN_NS}"><x:fonts count="1"><x:font><x:sz val="11"/>'
        "</x:font></x:fonts><x:cellXfs><x:xf/></x:cellXfs></x:styleSheet>"
    )
    pkg, wb = target_package(prefixed)
    styles = merger(target=prefixed)
    assert styles.xf(1) == 1
    styles.save(pkg, wb)
    text = pkg.read_text("xl/styles.xml")
    assert (
        f'<x:fonts count="2"><x:font><x:sz val="11"/></x:font><font xmlns="{MAIN_NS}"><b/>' in text
    )
    assert f'<x:cellXfs count="2"><x:xf/><xf xmlns="{MAIN_NS}" numFmtId="0" fontId="1"' in text


def test_missing_and_empty_containers_are_added_in_schema_order() -> None:
    """An empty ``<dxfs/>`` opens up, a wrong count is recounted, missing pools are inserted
    where CT_Stylesheet wants them, fresh number format ids in the order of first use."""
    target = (
        f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="7">{NORMAL}</cellXfs><dxfs/></styleSheet>'
    )
    pkg, wb = target_package(target)
    styles = merger(target=target)
    assert styles.dxf(0) == 0
    assert styles.xf(2) == 1
    styles.save(pkg, wb)
    assert pkg.read_text("xl/styles.xml") == (
        f'<styleSheet xmlns="{MAIN_NS}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
        '<numFmt numFmtId="165" formatCode="#,##0.00"/></numFmts>'
        f'<fonts count="1">{FONT}</fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        f"{BORDERS}"
        f'<cellXfs count="2">{NORMAL}'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<dxfs count="1"><dxf><font><color rgb="FF9C0006"/></font>'
        '<numFmt numFmtId="164" formatCode="0.0%"/></dxf></dxfs>'
        "</styleSheet>"
    )


def test_merging_into_a_merged_target_changes_nothing() -> None:
    """What a run appended is found again by the next run: reruns do not grow styles.xml."""
    pkg, wb = target_package(TARGET)
    first = merger()
    indices = [first.xf(1), first.xf(2), first.xf(3), first.dxf(0)]
    first.save(pkg, wb)
    merged = pkg.read_text("xl/styles.xml")
    again = merger(target=merged)
    assert [again.xf(1), again.xf(2), again.xf(3), again.dxf(0)] == indices
    again.save(pkg, wb)
    assert pkg.read_text("xl/styles.xml") == merged


def test_a_target_without_styles_gets_the_owned_part_whole() -> None:
    parts = workbook_parts()
    del parts["xl/styles.xml"]
    parts["xl/_rels/workbook.xml.rels"] = str(parts["xl/_rels/workbook.xml.rels"]).replace(
        f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>', ""
    )
    pkg = package_of(parts)
    wb = Workbook.read(pkg)
    owned_pkg, owned_wb = target_package(OWNED)
    styles = StyleMerger.create(pkg, wb, owned_pkg, owned_wb)
    assert styles.copy_owned and styles.part == "xl/styles.xml"
    assert [styles.xf(i) for i in (0, 1, 3)] == [0, 1, 3]
    assert styles.dxf(0) == 0
    styles.save(pkg, wb)
    assert pkg.read_text("xl/styles.xml") == OWNED
    assert pkg.content_types.of("xl/styles.xml") == f"{SML}.styles+xml"
    rel = wb.rel_of_type(f"{REL_NS}/styles")
    assert rel is not None and rel.part == "xl/styles.xml"


def test_create_refuses_an_owned_package_without_styles() -> None:
    owned_parts = workbook_parts()
    del owned_parts["xl/styles.xml"]
    own = package_of(owned_parts)
    pkg, wb = target_package(TARGET)
    with pytest.raises(TemplateError, match="no styles part"):
        StyleMerger.create(pkg, wb, own, Workbook.read(own))


def test_create_refuses_an_ill_formed_target_styles_part() -> None:
    pkg, wb = target_package("<styleSheet><fonts></styleSheet>")
    own, owb = target_package(OWNED)
    with pytest.raises(InputError, match="styles"):
        StyleMerger.create(pkg, wb, own, owb)


def test_a_target_styles_part_without_stylesheet_is_refused_on_save() -> None:
    pkg, wb = target_package("<other/>")
    styles = merger(target="<other/>")
    styles.xf(1)
    with pytest.raises(TemplateError, match="styleSheet"):
        styles.save(pkg, wb)
