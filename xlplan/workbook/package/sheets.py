"""Worksheet parts: transplant an owned sheet's XML and copy the parts that hang off it.

The owned sheets come from a package written by XlsxWriter: default namespace, shared strings,
styles indexed into its own ``styles.xml``. Transplanted cells get inline strings (the target's
shared string table stays byte-identical) and style indices into the target's ``styles.xml``
(see :mod:`.styles`). Tables, drawings, charts, images, comments and their VML are copied under
fresh part names, with table ids and VML shape-id blocks no other part of the target uses.

Not supported in owned sheets: dynamic-array formulas and in-cell pictures (cell/value
metadata, ``cm``/``vm``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from xlplan.core.errors import TemplateError
from xlplan.workbook.package.contenttypes import CT_TABLE, CT_VML, CT_WORKSHEET
from xlplan.workbook.package.relationships import (
    RT_SHARED_STRINGS,
    read_rels,
    relative_target,
    rels_part,
    render_rels,
)
from xlplan.workbook.package.styles import StyleMerger
from xlplan.workbook.package.workbook import MAIN_NS, Workbook
from xlplan.workbook.package.xmltext import attr
from xlplan.workbook.package.zip import Package, parse_part

__all__ = [
    "PartCopier",
    "TableInfo",
    "read_shared_strings",
    "read_tables",
    "transplant_sheet_xml",
]


def read_shared_strings(own: Package, owb: Workbook) -> list[str]:
    """Inner XML of each ``<si>`` of the owned package, to become ``<is>`` content verbatim."""
    rel = owb.rel_of_type(RT_SHARED_STRINGS)
    if rel is None or not own.has(rel.part):
        return []
    text = own.read_text(rel.part)
    return [m.group(1) or "" for m in re.finditer(r"<si\b[^>]*?(?:/>|>(.*?)</si>)", text, re.S)]


_CELL_RE = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_STYLED_RE = re.compile(r"<(row|col)\b([^>]*?)(/?)>")
_DXF_ATTR_RE = re.compile(r'\b(\w*[dD]xfId)="(\d+)"')


def transplant_sheet_xml(xml: bytes, strings: list[str], styles: StyleMerger) -> str:
    """Rewrite an owned sheet for the target: inline strings, target style indices.

    Parameters
    ----------
    xml
        The owned worksheet part.
    strings
        The owned package's shared strings (:func:`read_shared_strings`).
    styles
        Maps the owned style indices (cells, rows, columns, conditional formats).

    Raises
    ------
    TemplateError
        The sheet is not in the default namespace, uses cell metadata or refers to a shared
        string or style entry the owned package does not have.
    """
    text = xml.decode("utf-8")
    if not re.search(rf'<worksheet\b[^>]*xmlns="{re.escape(MAIN_NS)}"', text):
        raise TemplateError("owned sheet is not a worksheet in the default namespace")

    def cell(m: re.Match[str]) -> str:
        attrs, body = m.group(1), m.group(2)
        if re.search(r'\s(cm|vm)="', attrs):
            raise TemplateError(
                "owned sheet uses cell metadata (dynamic arrays or in-cell pictures), "
                "which cannot be transplanted"
            )
        attrs = _map_attr(attrs, "s", styles.xf)
        if attr(attrs, "t") == "s" and body is not None:
            v = re.search(r"<v>\s*(\d+)\s*</v>", body)
            if v is None or int(v.group(1)) >= len(strings):
                raise TemplateError("owned sheet refers to a missing shared string")
            attrs = re.sub(r'(\st=)"s"', r'\1"inlineStr"', attrs)
            return f"<c{attrs}><is>{strings[int(v.group(1))]}</is></c>"
        return f"<c{attrs}/>" if body is None else f"<c{attrs}>{body}</c>"

    def styled(m: re.Match[str]) -> str:
        name = "s" if m.group(1) == "row" else "style"
        return f"<{m.group(1)}{_map_attr(m.group(2), name, styles.xf)}{m.group(3)}>"

    text = _CELL_RE.sub(cell, text)
    text = _STYLED_RE.sub(styled, text)
    text = re.sub(r"<cfRule\b[^>]*>", lambda m: _map_dxf_attrs(m.group(0), styles), text)
    # Two sheets with tabSelected open as a group in Excel: edits would hit both.
    return re.sub(r'(<sheetView\b[^>]*?)\s+tabSelected="(?:1|true)"', r"\1", text)


def _map_attr(attrs: str, name: str, mapper: Callable[[int], int]) -> str:
    def repl(m: re.Match[str]) -> str:
        return f'{m.group(1)}"{mapper(int(m.group(2)))}"'

    return re.sub(rf'(\s{name}=)"(\d+)"', repl, attrs)


def _map_dxf_attrs(tag: str, styles: StyleMerger) -> str:
    return _DXF_ATTR_RE.sub(lambda m: f'{m.group(1)}="{styles.dxf(int(m.group(2)))}"', tag)


@dataclass(frozen=True)
class TableInfo:
    """An Excel Table part: its name, ``id`` and name as formulas see it."""

    part: str
    table_id: int
    name: str


def read_tables(pkg: Package) -> list[TableInfo]:
    """Every table part of ``pkg`` (found by content type), in zip order."""
    out = []
    for part in pkg.names():
        if pkg.content_types.of(part) != CT_TABLE:
            continue
        root = parse_part(pkg, part)
        out.append(
            TableInfo(
                part, int(root.get("id", "0")), root.get("displayName") or root.get("name") or ""
            )
        )
    return out


class PartCopier:
    """Copies an owned sheet and its dependent parts under fresh names into the target."""

    def __init__(self, tgt: Package, own: Package, styles: StyleMerger) -> None:
        self.tgt, self.own, self.styles = tgt, own, styles
        self.names: dict[str, str] = {}  # owned part (lower) -> target part
        self.next_table_id = max([0, *(t.table_id for t in read_tables(tgt))]) + 1
        self.vml_blocks = _vml_blocks_in_use(tgt)

    def allocate(self, like: str) -> str:
        """The lowest free ``dir/stemN.ext`` modelled on ``like`` (``xl/tables/table1.xml``)."""
        folder, base = posixpath.split(like)
        stem, ext = posixpath.splitext(base)
        stem = stem.rstrip("0123456789") or stem
        taken = {n.lower() for n in self.tgt.names()}
        n = 1
        while posixpath.join(folder, f"{stem}{n}{ext}").lower() in taken:
            n += 1
        part = posixpath.join(folder, f"{stem}{n}{ext}")
        self.tgt.write(part, b"")  # reserve the name
        return part

    def copy_sheet(self, owned_part: str, new_part: str, sheet_xml: str) -> None:
        """Write ``sheet_xml`` as ``new_part``, replacing its old relationships with copies of
        the owned sheet's (and the parts they point at)."""
        old_rels = rels_part(new_part)
        self.tgt.delete(old_rels)
        self.tgt.write_text(new_part, sheet_xml)
        self.tgt.content_types.ensure(new_part, CT_WORKSHEET)
        self.names[owned_part.lower()] = new_part
        self._copy_rels(owned_part, new_part)

    def _copy_rels(self, owned_part: str, new_part: str) -> None:
        rels = read_rels(self.own, owned_part)
        if not rels:
            return
        out = []
        for rel in rels:
            if rel.external or not self.own.has(rel.part):
                out.append((rel.id, rel.type, rel.target, rel.external))
                continue
            target = self._copy_part(rel.part)
            out.append((rel.id, rel.type, relative_target(new_part, target), False))
        self.tgt.write_text(rels_part(new_part), render_rels(out))

    def _copy_part(self, owned_part: str) -> str:
        key = owned_part.lower()
        if key in self.names:
            return self.names[key]
        new_part = self.allocate(owned_part)
        self.names[key] = new_part
        content_type = self.own.content_types.of(owned_part)
        data = self.own.read(owned_part)
        if content_type == CT_TABLE:
            data = self._table_xml(data)
        elif content_type == CT_VML:
            data = self._vml(data)
        self.tgt.write(new_part, data)
        self.tgt.content_types.ensure(new_part, content_type)
        self._copy_rels(owned_part, new_part)
        return new_part

    def _table_xml(self, data: bytes) -> bytes:
        text = data.decode("utf-8")
        table_id = self.next_table_id
        self.next_table_id += 1
        text = re.sub(r'(<table\b[^>]*?\sid=)"\d+"', rf'\1"{table_id}"', text, count=1)
        text = _DXF_ATTR_RE.sub(
            lambda m: f'{m.group(1)}="{self.styles.dxf(int(m.group(2)))}"', text
        )
        return text.encode("utf-8")

    def _vml(self, data: bytes) -> bytes:
        """Give legacy VML shapes an id block no other sheet uses (Excel keys comments by it)."""
        text = data.decode("utf-8", errors="surrogateescape")
        m = re.search(r'<o:idmap\b[^>]*\bdata="(\d+)', text)
        if m is None:
            return data
        old = int(m.group(1))
        new = next(n for n in range(1, 10_000) if n not in self.vml_blocks)
        self.vml_blocks.add(new)
        text = re.sub(r'(<o:idmap\b[^>]*\bdata=")[\d,]+', rf"\g<1>{new}", text, count=1)

        # Shape ids are block * 1024 + n: move each into the new block.
        def shape(s: re.Match[str]) -> str:
            return f"_x0000_s{int(s.group(1)) - old * 1024 + new * 1024}"

        text = re.sub(r"_x0000_s(\d+)", shape, text)
        return text.encode("utf-8", errors="surrogateescape")


def _vml_blocks_in_use(pkg: Package) -> set[int]:
    blocks: set[int] = set()
    for part in pkg.names():
        if pkg.content_types.of(part) != CT_VML:
            continue
        text = pkg.read(part).decode("utf-8", errors="replace")
        for m in re.finditer(r'<o:idmap\b[^>]*\bdata="([\d,\s]+)"', text):
            blocks.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return blocks
