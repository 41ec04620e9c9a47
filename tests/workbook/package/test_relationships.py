"""Relationships on their own: part names, targets, reading, rendering and the part graph."""

from __future__ import annotations

import pytest
from tiny_packages import PKG_REL_NS, REL_NS, content_types, package_of, rels

from xlplan.workbook.package.relationships import (
    Rel,
    delete_parts,
    parts_freed_by,
    reachable_parts,
    read_rels,
    relative_target,
    rels_part,
    render_rels,
)


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("", "_rels/.rels"),
        ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"),
        ("xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels"),
    ],
)
def test_rels_part(part: str, expected: str) -> None:
    assert rels_part(part) == expected


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("xl/workbook.xml", "xl/worksheets/sheet1.xml", "worksheets/sheet1.xml"),
        ("xl/worksheets/sheet1.xml", "xl/drawings/drawing1.xml", "../drawings/drawing1.xml"),
        ("", "xl/workbook.xml", "xl/workbook.xml"),
        ("xl/drawings/drawing1.xml", "xl/media/my image#1.png", "../media/my%20image%231.png"),
    ],
)
def test_relative_target(source: str, target: str, expected: str) -> None:
    assert relative_target(source, target) == expected


def test_read_rels_resolves_targets_against_the_source_folder() -> None:
    sheet_rels = (
        f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{REL_NS}/drawing" Target="../drawings/drawing1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL_NS}/table" Target="/xl/tables/table1.xml"/>'
        f'<Relationship Id="rId3" Type="{REL_NS}/image" Target="../media/my%20image.png"/>'
        f'<Relationship Id="rId4" Type="{REL_NS}/hyperlink" Target="https://example.com/a b"'
        ' TargetMode="External"/>'
        f'<Relationship Id="rId5" Type="{REL_NS}/x" Target="other.xml#Sheet1!A1"/>'
        "</Relationships>"
    )
    pkg = package_of(
        {"[Content_Types].xml": content_types(), "xl/worksheets/_rels/sheet1.xml.rels": sheet_rels}
    )
    assert read_rels(pkg, "xl/worksheets/sheet1.xml") == [
        Rel(
            "rId1",
            f"{REL_NS}/drawing",
            "../drawings/drawing1.xml",
            False,
            "xl/drawings/drawing1.xml",
        ),
        Rel("rId2", f"{REL_NS}/table", "/xl/tables/table1.xml", False, "xl/tables/table1.xml"),
        Rel("rId3", f"{REL_NS}/image", "../media/my%20image.png", False, "xl/media/my image.png"),
        Rel("rId4", f"{REL_NS}/hyperlink", "https://example.com/a b", True, ""),
        Rel("rId5", f"{REL_NS}/x", "other.xml#Sheet1!A1", False, "xl/worksheets/other.xml"),
    ]


def test_read_rels_of_a_part_without_rels_is_empty() -> None:
    pkg = package_of({"[Content_Types].xml": content_types()})
    assert read_rels(pkg, "xl/workbook.xml") == []


def test_render_rels() -> None:
    text = render_rels([("rId1", "t/a", "a&b.xml", False), ("rId2", "t/b", 'http://x?"y"', True)])
    assert text == (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{PKG_REL_NS}">'
        '<Relationship Id="rId1" Type="t/a" Target="a&amp;b.xml"/>'
        """<Relationship Id="rId2" Type="t/b" Target='http://x?"y"' TargetMode="External"/>"""
        "</Relationships>"
    )


def test_render_then_read_round_trips() -> None:
    items = [("rId1", "t/a", "../media/image1.png", False), ("rId7", "t/b", "mailto:a@b", True)]
    pkg = package_of(
        {"[Content_Types].xml": content_types(), "xl/drawings/_rels/d.xml.rels": render_rels(items)}
    )
    rels_read = read_rels(pkg, "xl/drawings/d.xml")
    assert [(r.id, r.type, r.target, r.external) for r in rels_read] == items
    assert rels_read[0].part == "xl/media/image1.png"


# Two sheets; sheet1 -> drawing1 -> chart1 and image1; sheet2 -> drawing2 -> image1 (shared),
# and sheet1 -> table1. chart1 points back at drawing1: the walk must stop.
GRAPH: dict[str, str | bytes] = {
    "[Content_Types].xml": content_types(("xl/tables/table1.xml", "table/type")),
    "_rels/.rels": rels(("rId1", "officeDocument", "xl/workbook.xml")),
    "xl/workbook.xml": "<workbook/>",
    "xl/_rels/workbook.xml.rels": rels(
        ("rId1", "worksheet", "worksheets/sheet1.xml"),
        ("rId2", "worksheet", "worksheets/sheet2.xml"),
    ),
    "xl/worksheets/sheet1.xml": "<worksheet/>",
    "xl/worksheets/_rels/sheet1.xml.rels": rels(
        ("rId1", "drawing", "../drawings/drawing1.xml"),
        ("rId2", "table", "../tables/table1.xml"),
        ("rId3", "x", "../missing.xml"),
    ),
    "xl/worksheets/sheet2.xml": "<worksheet/>",
    "xl/worksheets/_rels/sheet2.xml.rels": rels(("rId1", "drawing", "../drawings/drawing2.xml")),
    "xl/drawings/drawing1.xml": "<d/>",
    "xl/drawings/_rels/drawing1.xml.rels": rels(
        ("rId1", "chart", "../charts/chart1.xml"), ("rId2", "image", "../media/image1.png")
    ),
    "xl/drawings/drawing2.xml": "<d/>",
    "xl/drawings/_rels/drawing2.xml.rels": rels(("rId1", "image", "../media/image1.png")),
    "xl/charts/chart1.xml": "<c/>",
    "xl/charts/_rels/chart1.xml.rels": rels(("rId1", "back", "../drawings/drawing1.xml")),
    "xl/media/image1.png": b"png",
    "xl/tables/table1.xml": "<table/>",
}


def test_reachable_parts_walks_breadth_first_without_the_starts_or_missing_parts() -> None:
    pkg = package_of(GRAPH)
    assert reachable_parts(pkg, ["xl/worksheets/sheet1.xml"]) == [
        "xl/drawings/drawing1.xml",
        "xl/tables/table1.xml",
        "xl/charts/chart1.xml",
        "xl/media/image1.png",
    ]
    assert reachable_parts(pkg, ["xl/media/image1.png"]) == []


def test_parts_freed_by_keeps_what_another_sheet_still_reaches() -> None:
    pkg = package_of(GRAPH)
    assert parts_freed_by(pkg, ["xl/worksheets/sheet1.xml"]) == [
        "xl/drawings/drawing1.xml",
        "xl/tables/table1.xml",
        "xl/charts/chart1.xml",
    ]
    assert parts_freed_by(pkg, ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]) == [
        "xl/drawings/drawing1.xml",
        "xl/tables/table1.xml",
        "xl/drawings/drawing2.xml",
        "xl/charts/chart1.xml",
        "xl/media/image1.png",
    ]
    assert parts_freed_by(pkg, ["xl/tables/table1.xml"]) == []


def test_delete_parts_takes_the_rels_and_override_along() -> None:
    pkg = package_of(GRAPH)
    delete_parts(pkg, ["xl/drawings/drawing1.xml", "xl/tables/table1.xml"])
    assert not pkg.has("xl/drawings/drawing1.xml")
    assert not pkg.has("xl/drawings/_rels/drawing1.xml.rels")
    assert not pkg.has("xl/tables/table1.xml")
    assert "table1" not in pkg.content_types.text
    assert pkg.has("xl/charts/chart1.xml"), "only the named parts go"
