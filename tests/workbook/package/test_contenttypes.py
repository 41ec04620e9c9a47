"""``[Content_Types].xml`` on its own: lookups, Default/Override edits, saving."""

from __future__ import annotations

import pytest

from xlplan.workbook.package.contenttypes import ContentTypes

HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
TYPES = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
RELS_DEFAULT = '<Default Extension="rels" ContentType="rels/type"/>'
XML_DEFAULT = '<Default Extension="xml" ContentType="application/xml"/>'
WORKBOOK = '<Override PartName="/xl/workbook.xml" ContentType="main/type"/>'
SHEET = '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="sheet/type"/>'
TEXT = HEAD + TYPES + RELS_DEFAULT + XML_DEFAULT + WORKBOOK + SHEET + "</Types>"


class Written:
    """Records what :meth:`ContentTypes.save` writes, in place of a package."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []

    def write_text(self, part: str, text: str) -> None:
        self.parts.append((part, text))


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("xl/workbook.xml", "main/type"),  # Override
        ("XL/Workbook.XML", "main/type"),  # part names compare case-insensitively (OPC)
        ("xl/styles.xml", "application/xml"),  # no Override: the Default of its extension
        ("xl/_rels/workbook.xml.rels", "rels/type"),
        ("_rels/.rels", ""),  # ".rels" is a name without extension to posixpath.splitext
        ("xl/media/image1.PNG", ""),  # neither
        ("xl/noext", ""),
    ],
)
def test_of(part: str, expected: str) -> None:
    assert ContentTypes(TEXT).of(part) == expected


def test_ensure_adds_an_override_for_an_xml_part_at_the_end() -> None:
    ct = ContentTypes(TEXT)
    ct.ensure("xl/tables/table1.xml", "table/type")
    new = '<Override PartName="/xl/tables/table1.xml" ContentType="table/type"/>'
    assert (
        ct.text == HEAD + TYPES + RELS_DEFAULT + XML_DEFAULT + WORKBOOK + SHEET + new + "</Types>"
    )
    assert ct.changed
    assert ct.of("xl/tables/table1.xml") == "table/type"


def test_ensure_adds_a_default_for_a_new_media_extension_before_the_overrides() -> None:
    """Excel lists ``png``, ``vml`` and the like as Defaults, before the Overrides."""
    ct = ContentTypes(TEXT)
    ct.ensure("xl/media/image1.png", "image/png")
    new = '<Default Extension="png" ContentType="image/png"/>'
    assert (
        ct.text == HEAD + TYPES + RELS_DEFAULT + XML_DEFAULT + new + WORKBOOK + SHEET + "</Types>"
    )
    assert ct.of("xl/media/image2.PNG") == "image/png"


def test_ensure_without_overrides_puts_the_default_last() -> None:
    ct = ContentTypes(TYPES + XML_DEFAULT + "</Types>")
    ct.ensure("xl/drawings/vmlDrawing1.vml", "vml/type")
    assert (
        ct.text == TYPES + XML_DEFAULT + '<Default Extension="vml" ContentType="vml/type"/></Types>'
    )


@pytest.mark.parametrize(
    "part",
    [
        "xl/media/image1.xml",  # xml and rels keep their Defaults: always an Override
        "xl/_rels/x.rels",
        "xl/media/image.em-f",  # not a plain extension
        "xl/media/noext",
    ],
)
def test_ensure_uses_an_override_where_a_default_would_not_fit(part: str) -> None:
    ct = ContentTypes(TEXT)
    ct.ensure(part, "other/type")
    assert ct.text.endswith(f'<Override PartName="/{part}" ContentType="other/type"/></Types>')


def test_ensure_never_changes_an_existing_default() -> None:
    ct = ContentTypes(TEXT)
    ct.ensure("xl/custom.rels", "special/type")
    assert RELS_DEFAULT in ct.text
    assert ct.of("xl/_rels/workbook.xml.rels") == "rels/type"
    assert ct.of("xl/custom.rels") == "special/type"


def test_ensure_a_type_already_in_place_changes_nothing() -> None:
    ct = ContentTypes(TEXT)
    ct.ensure("xl/workbook.xml", "main/type")
    ct.ensure("xl/styles.xml", "application/xml")  # already given by the Default
    assert ct.text == TEXT
    assert not ct.changed


def test_ensure_a_new_type_replaces_the_override() -> None:
    ct = ContentTypes(TEXT)
    ct.ensure("XL/workbook.xml", "macro/type")
    new = '<Override PartName="/XL/workbook.xml" ContentType="macro/type"/>'
    assert ct.text == HEAD + TYPES + RELS_DEFAULT + XML_DEFAULT + SHEET + new + "</Types>"


def test_remove_drops_the_override_only() -> None:
    ct = ContentTypes(TEXT)
    ct.remove("xl/Worksheets/Sheet1.xml")
    assert ct.text == HEAD + TYPES + RELS_DEFAULT + XML_DEFAULT + WORKBOOK + "</Types>"
    assert ct.changed
    assert ct.of("xl/worksheets/sheet1.xml") == "application/xml"


def test_remove_of_a_part_without_override_changes_nothing() -> None:
    ct = ContentTypes(TEXT)
    ct.remove("xl/styles.xml")
    assert ct.text == TEXT
    assert not ct.changed


def test_save_writes_only_after_a_change_and_once() -> None:
    ct, out = ContentTypes(TEXT), Written()
    ct.save(out)
    assert out.parts == []
    ct.remove("xl/workbook.xml")
    ct.save(out)
    ct.save(out)
    assert out.parts == [("[Content_Types].xml", ct.text)]
